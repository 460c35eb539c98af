//! Every reply smtpd sends, by name, with Postfix 3.7's codes and texts
//! (checked against a running Postfix smtpd). Handlers never spell a
//! reply themselves; they call one of these. The type is the suite's
//! [`queue::Reply`].

use std::fmt::Display;

pub use queue::reply::{EnhancedStatus, Reply, ReplyCode};

/// A reply from a code, an enhanced status and text. The arguments are
/// literals of this module, so a bad one is a bug caught by the tests.
fn make(code: u16, status: &str, text: impl Into<String>) -> Reply {
    // The codes and statuses below are constants of this file; the unit
    // tests render every constructor, so these cannot fail at run time.
    let code = ReplyCode::new(code).expect("valid reply code literal");
    let status = match status {
        "" => None,
        s => Some(s.parse().expect("valid enhanced status literal")),
    };
    Reply::new(code, status, text)
}

/// `220 <smtpd_banner>`: the greeting has no enhanced status code.
pub fn greeting(banner: &str) -> Reply {
    make(220, "", banner)
}

/// The EHLO reply: host name first, then one keyword per line.
pub fn ehlo(myhostname: &str, keywords: &[String]) -> Reply {
    let mut text = myhostname.to_string();
    for k in keywords {
        text.push('\n');
        text.push_str(k);
    }
    make(250, "", text)
}

/// `250 <myhostname>` after HELO.
pub fn helo(myhostname: &str) -> Reply {
    make(250, "", myhostname)
}

pub fn helo_syntax(verb: &str) -> Reply {
    make(501, "", format!("Syntax: {verb} hostname"))
}

/// `250 2.0.0 Ok` (RSET, NOOP).
pub fn ok() -> Reply {
    make(250, "2.0.0", "Ok")
}

pub fn sender_ok() -> Reply {
    make(250, "2.1.0", "Ok")
}

pub fn recipient_ok() -> Reply {
    make(250, "2.1.5", "Ok")
}

pub fn send_helo_first() -> Reply {
    make(503, "5.5.1", "Error: send HELO/EHLO first")
}

/// ETRN's variant: Postfix sends it without an enhanced status code.
pub fn etrn_send_helo_first() -> Reply {
    make(503, "", "Error: send HELO/EHLO first")
}

pub fn nested_mail() -> Reply {
    make(503, "5.5.1", "Error: nested MAIL command")
}

pub fn need_mail() -> Reply {
    make(503, "5.5.1", "Error: need MAIL command")
}

pub fn need_rcpt() -> Reply {
    make(503, "5.5.1", "Error: need RCPT command")
}

pub fn no_valid_recipients() -> Reply {
    make(554, "5.5.1", "Error: no valid recipients")
}

pub fn mail_syntax() -> Reply {
    make(501, "5.5.4", "Syntax: MAIL FROM:<address>")
}

pub fn rcpt_syntax() -> Reply {
    make(501, "5.5.4", "Syntax: RCPT TO:<address>")
}

pub fn bad_sender() -> Reply {
    make(501, "5.1.7", "Bad sender address syntax")
}

pub fn bad_recipient() -> Reply {
    make(501, "5.1.3", "Bad recipient address syntax")
}

/// A non-ASCII address without `SMTPUTF8` (RFC 6531 §3.4; Postfix 3.7
/// accepts it, the security rules do not).
pub fn needs_smtputf8(what: &str) -> Reply {
    make(
        553,
        "5.6.7",
        format!("Error: non-ASCII {what} address requires SMTPUTF8"),
    )
}

pub fn bad_size_syntax() -> Reply {
    make(501, "5.5.4", "Bad message size syntax")
}

/// `MAIL FROM ... SIZE=n` above `message_size_limit`.
pub fn size_exceeds_limit() -> Reply {
    make(552, "5.3.4", "Message size exceeds fixed limit")
}

pub fn unsupported_option(token: &str) -> Reply {
    make(555, "5.5.4", format!("Unsupported option: {token}"))
}

/// `501 5.5.4 Bad RET parameter syntax` and the like (RET, ENVID).
pub fn bad_mail_parameter(name: &str) -> Reply {
    make(501, "5.5.4", format!("Bad {name} parameter syntax"))
}

/// `501 5.5.4 Error: Bad NOTIFY parameter syntax` (NOTIFY, ORCPT).
pub fn bad_rcpt_parameter(name: &str) -> Reply {
    make(501, "5.5.4", format!("Error: Bad {name} parameter syntax"))
}

pub fn too_many_recipients() -> Reply {
    make(452, "4.5.3", "Error: too many recipients")
}

pub fn unknown_command() -> Reply {
    make(500, "5.5.2", "Error: command not recognized")
}

/// An empty command line, or one with a NUL byte.
pub fn bad_syntax() -> Reply {
    make(500, "5.5.2", "Error: bad syntax")
}

pub fn bad_utf8() -> Reply {
    make(500, "5.5.2", "Error: bad UTF-8 syntax")
}

pub fn start_data() -> Reply {
    make(354, "", "End data with <CR><LF>.<CR><LF>")
}

pub fn queued(id: impl Display) -> Reply {
    make(250, "2.0.0", format!("Ok: queued as {id}"))
}

/// One BDAT chunk accepted (`250 2.0.0 Ok: 7 bytes`).
pub fn chunk_ok(bytes: u64) -> Reply {
    make(250, "2.0.0", format!("Ok: {bytes} bytes"))
}

/// The last BDAT chunk: the total and the queue ID.
pub fn chunks_queued(bytes: u64, id: impl Display) -> Reply {
    make(250, "2.0.0", format!("Ok: {bytes} bytes queued as {id}"))
}

pub fn message_too_big() -> Reply {
    make(552, "5.3.4", "Error: message file too big")
}

/// `smtpd_forbid_bare_newline = reject`; the code is
/// `smtpd_forbid_bare_newline_reject_code` (a 5XX, checked at startup).
pub fn bare_newline(code: u16, myhostname: &str) -> Reply {
    let code = ReplyCode::new(code).unwrap_or(ReplyCode::REJECTED);
    let status = "5.5.2".parse().ok();
    Reply::new(
        code,
        status,
        format!("{myhostname} Error: bare <LF> received"),
    )
}

pub fn queue_write_error() -> Reply {
    make(451, "4.3.0", "Error: queue file write error")
}

pub fn bye() -> Reply {
    make(221, "2.0.0", "Bye")
}

pub fn too_many_errors(myhostname: &str) -> Reply {
    make(421, "4.7.0", format!("{myhostname} Error: too many errors"))
}

pub fn timeout(myhostname: &str) -> Reply {
    make(
        421,
        "4.4.2",
        format!("{myhostname} Error: timeout exceeded"),
    )
}

/// All sessions of this process are in use (the `Semaphore` is empty).
pub fn overloaded(myhostname: &str) -> Reply {
    make(
        421,
        "4.3.2",
        format!("{myhostname} Error: too many connections"),
    )
}

/// One client holds `smtpd_client_connection_count_limit` sessions.
pub fn too_many_connections_from(myhostname: &str, addr: &str) -> Reply {
    make(
        421,
        "4.7.0",
        format!("{myhostname} Error: too many connections from {addr}"),
    )
}

/// The server is stopping (SIGTERM).
pub fn shutting_down(myhostname: &str) -> Reply {
    make(
        421,
        "4.3.2",
        format!("{myhostname} Error: service shutting down"),
    )
}

pub fn ready_to_start_tls() -> Reply {
    make(220, "2.0.0", "Ready to start TLS")
}

/// STARTTLS when TLS is off, and other commands we do not implement.
pub fn not_implemented() -> Reply {
    make(502, "5.5.1", "Error: command not implemented")
}

/// A command that takes no arguments got some (`501 5.5.4 Syntax: RSET`).
pub fn command_syntax(verb: &str) -> Reply {
    make(501, "5.5.4", format!("Syntax: {verb}"))
}

pub fn starttls_syntax() -> Reply {
    command_syntax("STARTTLS")
}

pub fn tls_already_active() -> Reply {
    make(554, "5.5.1", "Error: TLS already active")
}

pub fn tls_unavailable() -> Reply {
    make(454, "4.7.0", "TLS not available due to local problem")
}

/// `smtpd_tls_security_level = encrypt`: everything but EHLO, HELO,
/// STARTTLS, NOOP and QUIT waits for TLS.
pub fn starttls_first() -> Reply {
    make(530, "5.7.0", "Must issue a STARTTLS command first")
}

pub fn auth_not_enabled() -> Reply {
    make(503, "5.5.1", "Error: authentication not enabled")
}

pub fn vrfy_disabled() -> Reply {
    make(502, "5.5.1", "VRFY command is disabled")
}

pub fn vrfy_syntax() -> Reply {
    make(501, "5.5.4", "Syntax: VRFY address [SMTPUTF8]")
}

/// `252 2.0.0 <what the client asked>`: no restriction rejected it, and
/// nothing can confirm it (RFC 5321 §3.5.3).
pub fn cannot_verify(arg: &str) -> Reply {
    make(252, "2.0.0", arg)
}

/// Every command after the client restrictions refused the connection
/// (`smtpd_delay_reject = no`; RFC 5321 §3.1).
pub fn access_denied(namaddr: &str) -> Reply {
    make(503, "5.7.0", format!("Error: access denied for {namaddr}"))
}

pub fn etrn_syntax() -> Reply {
    make(500, "", "Syntax: ETRN domain")
}

pub fn etrn_bad_parameter() -> Reply {
    make(501, "", "Error: invalid parameter syntax")
}

pub fn transaction_in_progress() -> Reply {
    make(503, "", "Error: MAIL transaction in progress")
}

/// ETRN for a domain that the (absent) fast flush service does not
/// serve, as Postfix answers with an empty `fast_flush_domains`.
pub fn etrn_unavailable(domain: &str) -> Reply {
    make(459, "", format!("<{domain}>: service unavailable"))
}

/// Postfix has no HELP; we answer one line (RFC 5321 §4.1.1.8).
pub fn help() -> Reply {
    make(
        214,
        "2.0.0",
        "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY ETRN STARTTLS HELP",
    )
}

pub fn data_after_bdat() -> Reply {
    make(503, "5.5.1", "Error: DATA after BDAT")
}

pub fn rcpt_after_bdat() -> Reply {
    make(503, "5.5.1", "Error: RCPT after BDAT")
}

pub fn mail_after_bdat() -> Reply {
    make(503, "5.5.1", "Error: MAIL after BDAT")
}

/// A BDAT whose size is unreadable: the stream cannot be resynchronised,
/// so the session ends.
pub fn bdat_syntax() -> Reply {
    make(521, "5.5.4", "Syntax: BDAT count [LAST]")
}

pub fn bdat_discarded(bytes: u64) -> Reply {
    make(
        551,
        "5.0.0",
        format!("Discarded {bytes} bytes after earlier error"),
    )
}

/// `smtpd_forbidden_commands` and header-like commands (`Subject: x`).
pub fn forbidden_command() -> Reply {
    make(221, "2.7.0", "Error: I can break rules, too. Goodbye.")
}

/// `smtpd_forbid_unauth_pipelining`: input arrived where the client
/// had to wait for our reply.
pub fn pipelining_violation() -> Reply {
    make(554, "5.5.0", "Error: SMTP protocol synchronization")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_renders_as_postfix() {
        let cases: Vec<(Reply, &str)> = vec![
            (greeting("mx ESMTP Postfix"), "220 mx ESMTP Postfix\r\n"),
            (
                ehlo("mx", &["PIPELINING".into(), "SIZE 10240000".into()]),
                "250-mx\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n",
            ),
            (helo("mx"), "250 mx\r\n"),
            (helo_syntax("EHLO"), "501 Syntax: EHLO hostname\r\n"),
            (ok(), "250 2.0.0 Ok\r\n"),
            (sender_ok(), "250 2.1.0 Ok\r\n"),
            (recipient_ok(), "250 2.1.5 Ok\r\n"),
            (need_mail(), "503 5.5.1 Error: need MAIL command\r\n"),
            (
                no_valid_recipients(),
                "554 5.5.1 Error: no valid recipients\r\n",
            ),
            (mail_syntax(), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"),
            (
                unsupported_option("X=1"),
                "555 5.5.4 Unsupported option: X=1\r\n",
            ),
            (
                bad_rcpt_parameter("NOTIFY"),
                "501 5.5.4 Error: Bad NOTIFY parameter syntax\r\n",
            ),
            (queued("4Zz"), "250 2.0.0 Ok: queued as 4Zz\r\n"),
            (
                chunks_queued(7, "X"),
                "250 2.0.0 Ok: 7 bytes queued as X\r\n",
            ),
            (
                bare_newline(550, "mx"),
                "550 5.5.2 mx Error: bare <LF> received\r\n",
            ),
            (
                too_many_errors("mx"),
                "421 4.7.0 mx Error: too many errors\r\n",
            ),
            (etrn_syntax(), "500 Syntax: ETRN domain\r\n"),
            (
                etrn_unavailable("x.org"),
                "459 <x.org>: service unavailable\r\n",
            ),
            (
                bdat_discarded(5),
                "551 5.0.0 Discarded 5 bytes after earlier error\r\n",
            ),
            (
                needs_smtputf8("sender"),
                "553 5.6.7 Error: non-ASCII sender address requires SMTPUTF8\r\n",
            ),
        ];
        for (reply, wire) in cases {
            assert_eq!(reply.render(), wire);
        }
        // The rest must at least construct (their literals are checked).
        for r in [
            etrn_send_helo_first(),
            send_helo_first(),
            nested_mail(),
            need_rcpt(),
            rcpt_syntax(),
            bad_sender(),
            bad_recipient(),
            bad_size_syntax(),
            size_exceeds_limit(),
            bad_mail_parameter("RET"),
            too_many_recipients(),
            unknown_command(),
            bad_syntax(),
            bad_utf8(),
            start_data(),
            chunk_ok(1),
            message_too_big(),
            queue_write_error(),
            bye(),
            timeout("mx"),
            overloaded("mx"),
            too_many_connections_from("mx", "192.0.2.1"),
            shutting_down("mx"),
            ready_to_start_tls(),
            not_implemented(),
            starttls_syntax(),
            tls_already_active(),
            tls_unavailable(),
            starttls_first(),
            auth_not_enabled(),
            vrfy_disabled(),
            vrfy_syntax(),
            cannot_verify("a@b"),
            etrn_bad_parameter(),
            transaction_in_progress(),
            help(),
            data_after_bdat(),
            mail_after_bdat(),
            bdat_syntax(),
            forbidden_command(),
            pipelining_violation(),
        ] {
            assert!(r.render().ends_with("\r\n"));
        }
    }
}
