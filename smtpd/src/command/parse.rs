//! One command line to a [`Parsed`] command.
//!
//! smtp-proto parses the commands that have a grammar (MAIL, RCPT, BDAT,
//! AUTH); the others are a word and free text, taken from the line as
//! Postfix does (`HELO a b` is the name `a b`). Our guards for
//! smtp-proto's gaps (crates.md §2):
//! - a NUL byte anywhere: `500 5.5.2 Error: bad syntax`; invalid UTF-8:
//!   `500 5.5.2 Error: bad UTF-8 syntax` (smtp-proto accepts both);
//! - `<postmaster>` is told from `<>` by looking at the line (smtp-proto
//!   returns "" for both);
//! - parameters smtp-proto knows but Postfix does not offer (REQUIRETLS,
//!   BY, MT-PRIORITY, BINARYMIME, RRVS, ...) get Postfix's `555 5.5.4
//!   Unsupported option`, and ENVID/ORCPT xtext is checked strictly;
//! - the MAIL and RCPT arguments are split as Postfix's smtpd does
//!   ([`super::token`]) and the address is taken from its token with the
//!   RFC 822 parser (Postfix `extract_addr`): `FROM:a@b`, `FROM: <a@b>`,
//!   `<Joe <a@b>>` and `< a@b >` work as in Postfix, and
//!   `strict_rfc821_envelopes` refuses all but a bare `<path>` before the
//!   parameters are looked at; smtp-proto parses only the parameters;
//! - AUTH's unknown mechanism (smtp-proto's 0) needs no check while AUTH
//!   is not offered.
//!
//! Checks that depend on the session (sequence, SMTPUTF8 for non-ASCII
//! addresses, limits) are the session's.

use smtp_proto::{
    Error as ProtoError, MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_RET_FULL, MAIL_RET_HDRS,
    MAIL_SMTPUTF8, Request,
};

use cleanup::{BodyType, Ret, SenderParams};
use queue::Notify;

use address::tok822::{self, Token, Tree};

use super::{Command, MailFrom, Parsed, RcptTo, Verb, token};
use crate::reply::{self, Reply};

/// Parse one command line (without its line ending). `smtputf8` is
/// `smtputf8_enable`: without it the SMTPUTF8 parameter is unsupported.
pub fn parse(line: &[u8], smtputf8: bool, strict: bool) -> Parsed {
    let trimmed = trim_ascii_start(line);
    let word_len = trimmed
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(trimmed.len());
    let word = &trimmed[..word_len];
    let verb = verb_of(word);
    let fail = |reply: Reply| Parsed {
        verb,
        command: Err(reply),
        illegal_address: None,
    };
    if word.is_empty() || line.contains(&0) {
        return fail(reply::bad_syntax());
    }
    let Ok(text) = std::str::from_utf8(trimmed) else {
        return fail(reply::bad_utf8());
    };
    let args = collapse(&text[word_len..]);
    let command = match verb {
        Verb::Helo | Verb::Ehlo => helo(verb, &args),
        Verb::Mail => mail(text, smtputf8, strict),
        Verb::Rcpt => rcpt(text, strict),
        Verb::Bdat => bdat(text),
        Verb::Data => no_args(&args, Command::Data, "DATA"),
        Verb::Rset => no_args(&args, Command::Rset, "RSET"),
        Verb::StartTls => match args.is_empty() {
            true => Ok(Command::StartTls),
            false => Err(reply::starttls_syntax()),
        },
        Verb::Auth => Ok(Command::Auth),
        Verb::Noop => Ok(Command::Noop),
        Verb::Quit => Ok(Command::Quit),
        Verb::Help => Ok(Command::Help),
        Verb::Vrfy => Ok(Command::Vrfy(args)),
        Verb::Etrn => Ok(Command::Etrn(args)),
        Verb::Unknown => Ok(Command::Unknown {
            word: String::from_utf8_lossy(word).into_owned(),
            line: text.to_string(),
        }),
    };
    let illegal_address = match (&command, verb) {
        (Err(_), Verb::Mail) => illegal_address(text, "FROM:", strict),
        (Err(_), Verb::Rcpt) => illegal_address(text, "TO:", strict),
        _ => None,
    };
    Parsed {
        verb,
        command,
        illegal_address,
    }
}

/// The address argument, when [`extract_address`] refuses it (not when
/// the tokenizer already found it malformed: Postfix logs nothing then).
fn illegal_address(text: &str, keyword: &str, strict: bool) -> Option<String> {
    let (token, _) = arguments(text, keyword)?;
    let refused = !token.malformed && extract_address(&token, strict).is_none();
    refused.then_some(token.text)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// The arguments with white space runs made single spaces.
fn collapse(args: &str) -> String {
    args.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

fn verb_of(word: &[u8]) -> Verb {
    let upper = word.to_ascii_uppercase();
    match &upper[..] {
        b"HELO" => Verb::Helo,
        b"EHLO" => Verb::Ehlo,
        b"STARTTLS" => Verb::StartTls,
        b"AUTH" => Verb::Auth,
        b"MAIL" => Verb::Mail,
        b"RCPT" => Verb::Rcpt,
        b"DATA" => Verb::Data,
        b"BDAT" => Verb::Bdat,
        b"RSET" => Verb::Rset,
        b"NOOP" => Verb::Noop,
        b"VRFY" => Verb::Vrfy,
        b"ETRN" => Verb::Etrn,
        b"QUIT" => Verb::Quit,
        b"HELP" => Verb::Help,
        _ => Verb::Unknown,
    }
}

fn no_args(args: &str, command: Command, verb: &str) -> Result<Command, Reply> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(reply::command_syntax(verb))
    }
}

/// The HELO/EHLO name as Postfix keeps it: the arguments, with
/// non-printable characters shown as `?`.
fn helo(verb: Verb, args: &str) -> Result<Command, Reply> {
    if args.is_empty() {
        return Err(reply::helo_syntax(verb.name()));
    }
    let name: String = args
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    Ok(match verb {
        Verb::Helo => Command::Helo(name),
        _ => Command::Ehlo(name),
    })
}

/// Run smtp-proto's parser over `text` and a line ending.
fn proto_parse(text: &str) -> Result<Request<String>, ProtoError> {
    let mut owned = Vec::with_capacity(text.len() + 2);
    owned.extend_from_slice(text.as_bytes());
    owned.extend_from_slice(b"\r\n");
    Request::parse(&mut owned.iter()).map(Request::into_owned)
}

/// The longest address accepted (RFC 5321 §4.5.3.1.3: a path of 256
/// octets, brackets included).
const MAX_ADDRESS: usize = 254;

/// The argument of `MAIL FROM:`/`RCPT TO:` as Postfix's smtpd takes it:
/// the token after the keyword, and the parameter tokens after that.
/// `None` when the keyword is missing.
fn arguments(text: &str, keyword: &str) -> Option<(token::Token, Vec<String>)> {
    let mut tokens = token::tokens(text).into_iter().skip(1);
    tokens
        .next()
        .filter(|t| t.text.eq_ignore_ascii_case(keyword))?;
    let address = tokens.next()?;
    Some((address, tokens.map(|t| t.text).collect()))
}

/// Postfix's `extract_addr`: the one address in `token` (external form,
/// maybe in `<...>`, maybe with RFC 822 phrases and comments), in
/// internal form; `None` for more than one address, or, when `strict`,
/// for anything but a bare `<path>`. A route (`@a,@b:user@c`) is dropped.
fn extract_address(token: &token::Token, strict: bool) -> Option<String> {
    if token.malformed {
        return None;
    }
    let raw = token.text.as_str();
    let inner = match raw.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        Some(inner) => inner,
        None => raw,
    };
    let text = match inner.starts_with('@') {
        true => inner.split_once(':').map_or(inner, |(_, rest)| rest),
        false => inner,
    };
    let tree = Tree::parse(text);
    let (mut found, mut count, mut other) = (None, 0, 0);
    for part in tree.tokens() {
        match part {
            Token::Address(tokens) => {
                found = Some(tokens);
                count += 1;
            }
            Token::Op('<' | '>') => {}
            _ => other += 1,
        }
    }
    if count > 1 || (strict && (other > 0 || !raw.starts_with('<'))) {
        return None;
    }
    let address = found.map(|t| tok822::internalize(t)).unwrap_or_default();
    if (strict && address.starts_with('@')) || address.len() > MAX_ADDRESS {
        return None;
    }
    Some(address)
}

fn mail(text: &str, smtputf8: bool, strict: bool) -> Result<Command, Reply> {
    let (token, params) = arguments(text, "FROM:").ok_or_else(reply::mail_syntax)?;
    let address = extract_address(&token, strict).ok_or_else(reply::bad_sender)?;
    let params = params.join(" ");
    check_mail_params(&params, smtputf8)?;
    let from = match proto_parse(&format!("MAIL FROM:<> {params}")) {
        Ok(Request::Mail { from }) => from,
        Ok(_) | Err(ProtoError::SyntaxError { .. }) => return Err(reply::mail_syntax()),
        Err(ProtoError::InvalidParameter { param: "SIZE" }) => {
            return Err(reply::bad_size_syntax());
        }
        Err(ProtoError::InvalidParameter { param }) => {
            return Err(reply::bad_mail_parameter(param));
        }
        Err(ProtoError::UnsupportedParameter { param }) => {
            return Err(reply::unsupported_option(&param));
        }
        Err(_) => return Err(reply::mail_syntax()),
    };
    let body = match from.flags {
        f if f & MAIL_BODY_8BITMIME != 0 => Some(BodyType::EightBitMime),
        f if f & MAIL_BODY_7BIT != 0 => Some(BodyType::SevenBit),
        _ => None,
    };
    let ret = match from.flags {
        f if f & MAIL_RET_FULL != 0 => Some(Ret::Full),
        f if f & MAIL_RET_HDRS != 0 => Some(Ret::Headers),
        _ => None,
    };
    Ok(Command::Mail(MailFrom {
        address,
        params: SenderParams {
            size: has_param(&params, "SIZE").then_some(from.size as u64),
            body,
            smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
            ret,
            envid: from.env_id,
        },
    }))
}

fn has_param(params: &str, name: &str) -> bool {
    params.split_ascii_whitespace().any(|t| {
        let key = t.split('=').next().unwrap_or_default();
        key.eq_ignore_ascii_case(name)
    })
}

/// The MAIL parameters Postfix offers, checked before smtp-proto sees
/// them: SIZE, BODY=7BIT|8BITMIME, SMTPUTF8, RET (once), ENVID, AUTH.
fn check_mail_params(params: &str, smtputf8: bool) -> Result<(), Reply> {
    let mut rets = 0;
    for token in params.split_ascii_whitespace() {
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" | "AUTH" => {}
            "SMTPUTF8" if smtputf8 && value.is_empty() && !token.contains('=') => {}
            "BODY" if value.eq_ignore_ascii_case("7BIT") => {}
            "BODY" if value.eq_ignore_ascii_case("8BITMIME") => {}
            "RET" => {
                rets += 1;
                if rets > 1 {
                    return Err(reply::bad_mail_parameter("RET"));
                }
            }
            "ENVID" if !is_xtext(value) || value.is_empty() => {
                return Err(reply::bad_mail_parameter("ENVID"));
            }
            "ENVID" => {}
            _ => return Err(reply::unsupported_option(token)),
        }
    }
    Ok(())
}

/// RFC 3461 §4: printable ASCII but `+` and `=`, and `+XX` hex escapes.
fn is_xtext(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b'=' => return false,
            33..=126 => i += 1,
            _ => return false,
        }
    }
    true
}

fn rcpt(text: &str, strict: bool) -> Result<Command, Reply> {
    let (token, params) = arguments(text, "TO:").ok_or_else(reply::rcpt_syntax)?;
    let address = extract_address(&token, strict)
        .filter(|a| !a.is_empty())
        .ok_or_else(reply::bad_recipient)?;
    let params = params.join(" ");
    let notify = check_rcpt_params(&params)?;
    // smtp-proto parses ORCPT; the address here only fills its grammar.
    let to = match proto_parse(&format!("RCPT TO:<postmaster> {params}")) {
        Ok(Request::Rcpt { to }) => to,
        Ok(_) | Err(ProtoError::SyntaxError { .. }) => return Err(reply::rcpt_syntax()),
        Err(ProtoError::InvalidParameter { param }) => {
            return Err(reply::bad_rcpt_parameter(param));
        }
        Err(ProtoError::UnsupportedParameter { param }) => {
            return Err(reply::unsupported_option(&param));
        }
        Err(_) => return Err(reply::rcpt_syntax()),
    };
    Ok(Command::Rcpt(RcptTo {
        address,
        notify,
        orcpt: to.orcpt.map(|a| format!("rfc822;{a}")),
    }))
}

/// NOTIFY and ORCPT, nothing else; NOTIFY parsed here (NEVER alone).
fn check_rcpt_params(params: &str) -> Result<Notify, Reply> {
    let mut notify = Notify::default();
    for token in params.split_ascii_whitespace() {
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        match key.to_ascii_uppercase().as_str() {
            "NOTIFY" => {
                notify = Notify::parse(value).ok_or_else(|| reply::bad_rcpt_parameter("NOTIFY"))?;
            }
            "ORCPT" => {
                let xtext = value.split_once(';').map(|(_, x)| x).unwrap_or_default();
                if !is_xtext(xtext) || xtext.is_empty() {
                    return Err(reply::bad_rcpt_parameter("ORCPT"));
                }
            }
            _ => return Err(reply::unsupported_option(token)),
        }
    }
    Ok(notify)
}

fn bdat(text: &str) -> Result<Command, Reply> {
    match proto_parse(text) {
        Ok(Request::Bdat {
            chunk_size,
            is_last,
        }) => Ok(Command::Bdat {
            size: chunk_size as u64,
            last: is_last,
        }),
        _ => Err(reply::bdat_syntax()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        let parsed = parse(line.as_bytes(), true, false);
        parsed.command.unwrap_or_else(|r| panic!("{line}: {r}"))
    }

    fn err(line: &[u8]) -> String {
        match parse(line, true, false).command {
            Ok(c) => panic!("{line:?} parsed as {c:?}"),
            Err(r) => r.to_string(),
        }
    }

    #[test]
    fn mail_with_every_parameter() {
        let cmd =
            ok("mail from:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2Bid");
        assert_eq!(
            cmd,
            Command::Mail(MailFrom {
                address: "a@b.example".into(),
                params: SenderParams {
                    size: Some(100),
                    body: Some(BodyType::EightBitMime),
                    smtputf8: true,
                    ret: Some(Ret::Headers),
                    envid: Some("QQ+id".into()),
                },
            })
        );
    }

    #[test]
    fn null_sender_and_postmaster_differ() {
        let Command::Mail(m) = ok("MAIL FROM:<>") else {
            panic!()
        };
        assert_eq!(m.address, "");
        let Command::Mail(m) = ok("MAIL FROM:<Postmaster>") else {
            panic!()
        };
        assert_eq!(m.address, "Postmaster");
        let Command::Rcpt(r) = ok("RCPT TO:<postmaster>") else {
            panic!()
        };
        assert_eq!(r.address, "postmaster");
        assert_eq!(err(b"RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax");
    }

    #[test]
    fn unbracketed_and_spaced_paths() {
        let Command::Mail(m) = ok("MAIL FROM:a@b SIZE=5") else {
            panic!()
        };
        assert_eq!((m.address.as_str(), m.params.size), ("a@b", Some(5)));
        let Command::Mail(m) = ok("MAIL FROM: <a@b>") else {
            panic!()
        };
        assert_eq!(m.address, "a@b");
    }

    /// Postfix's `extract_addr`, checked against the real Postfix by
    /// tests/tests/seed_examples.rs.
    #[test]
    fn rfc822_forms_and_strict_envelopes() {
        let address = |line: &str, strict: bool| match parse(line.as_bytes(), true, strict).command
        {
            Ok(Command::Mail(m)) => Ok(m.address),
            Ok(Command::Rcpt(r)) => Ok(r.address),
            Ok(other) => panic!("{other:?}"),
            Err(r) => Err(r.to_string()),
        };
        let bad_sender = Err("501 5.1.7 Bad sender address syntax".to_string());
        assert_eq!(address("MAIL FROM:<Joe <a@b>>", false), Ok("a@b".into()));
        assert_eq!(address("MAIL FROM:<Joe <a@b>>", true), bad_sender);
        assert_eq!(address("MAIL FROM:< a@b >", true), Ok("a@b".into()));
        assert_eq!(
            address("MAIL FROM:<\"Joe Q\"@b>", true),
            Ok("Joe Q@b".into())
        );
        assert_eq!(address("MAIL FROM:<@r1,@r2:a@b>", true), Ok("a@b".into()));
        assert_eq!(address("MAIL FROM:a@b", true), bad_sender);
        assert_eq!(
            address("MAIL FROM:(Joe) <a@b>", false),
            Err("555 5.5.4 Unsupported option: <a@b>".into())
        );
        assert_eq!(address("MAIL FROM:(Joe) <a@b>", true), bad_sender);
        assert_eq!(
            address("MAIL FROM:<a@b> (Joe)", true),
            Err("555 5.5.4 Unsupported option: (Joe)".into())
        );
        assert_eq!(
            address("RCPT TO:<Bob <b@c>>", true),
            Err("501 5.1.3 Bad recipient address syntax".into())
        );
        assert_eq!(
            address("RCPT TO:Bob <b@c>", false),
            Err("555 5.5.4 Unsupported option: <b@c>".into())
        );
    }

    #[test]
    fn postfix_error_texts() {
        assert_eq!(
            err(b"MAIL TO:<a@b>"),
            "501 5.5.4 Syntax: MAIL FROM:<address>"
        );
        assert_eq!(err(b"MAIL"), "501 5.5.4 Syntax: MAIL FROM:<address>");
        assert_eq!(
            err(b"MAIL FROM:<a b@c>"),
            "501 5.1.7 Bad sender address syntax"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> SIZE=abc"),
            "501 5.5.4 Bad message size syntax"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> XFOO=1"),
            "555 5.5.4 Unsupported option: XFOO=1"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> BODY=BINARYMIME"),
            "555 5.5.4 Unsupported option: BODY=BINARYMIME"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> REQUIRETLS"),
            "555 5.5.4 Unsupported option: REQUIRETLS"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> RET=FOO"),
            "501 5.5.4 Bad RET parameter syntax"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> RET=FULL RET=HDRS"),
            "501 5.5.4 Bad RET parameter syntax"
        );
        assert_eq!(
            err(b"MAIL FROM:<a@b> ENVID=a+ZZb"),
            "501 5.5.4 Bad ENVID parameter syntax"
        );
        assert_eq!(
            err(b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS"),
            "501 5.5.4 Error: Bad NOTIFY parameter syntax"
        );
        assert_eq!(
            err(b"RCPT TO:<a@b> ORCPT=foo"),
            "501 5.5.4 Error: Bad ORCPT parameter syntax"
        );
        assert_eq!(
            err(b"RCPT TO:<a@b> XX=1"),
            "555 5.5.4 Unsupported option: XX=1"
        );
        assert_eq!(err(b"RCPT FOO"), "501 5.5.4 Syntax: RCPT TO:<address>");
        assert_eq!(err(b"HELO"), "501 Syntax: HELO hostname");
        assert_eq!(err(b"RSET x"), "501 5.5.4 Syntax: RSET");
        assert_eq!(err(b"BDAT x"), "521 5.5.4 Syntax: BDAT count [LAST]");
        assert_eq!(err(b"STARTTLS x"), "501 5.5.4 Syntax: STARTTLS");
    }

    #[test]
    fn guards_for_smtp_proto_gaps() {
        assert_eq!(err(b"EHLO a\0b"), "500 5.5.2 Error: bad syntax");
        assert_eq!(err(b""), "500 5.5.2 Error: bad syntax");
        assert_eq!(err(b"   "), "500 5.5.2 Error: bad syntax");
        assert_eq!(
            err(b"MAIL FROM:<\xfc@b>"),
            "500 5.5.2 Error: bad UTF-8 syntax"
        );
        let long = format!("MAIL FROM:<{}@b>", "x".repeat(300));
        assert_eq!(err(long.as_bytes()), "501 5.1.7 Bad sender address syntax");
        assert_eq!(
            parse(b"MAIL FROM:<a@b> SMTPUTF8", false, false).command,
            Err(reply::unsupported_option("SMTPUTF8"))
        );
    }

    #[test]
    fn rcpt_dsn_parameters() {
        let Command::Rcpt(r) = ok("RCPT TO:<a@b> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+2By@z") else {
            panic!()
        };
        assert_eq!(r.notify, Notify::SUCCESS | Notify::DELAY);
        assert_eq!(r.orcpt.as_deref(), Some("rfc822;x+y@z"));
    }

    #[test]
    fn free_text_commands() {
        assert_eq!(ok("HELO  a   b "), Command::Helo("a b".into()));
        assert_eq!(ok("ehlo x\u{1}y"), Command::Ehlo("x?y".into()));
        assert_eq!(ok("VRFY <a@b>"), Command::Vrfy("<a@b>".into()));
        assert_eq!(
            ok("BDAT 10 LAST"),
            Command::Bdat {
                size: 10,
                last: true
            }
        );
        assert_eq!(ok("NOOP anything"), Command::Noop);
        assert_eq!(
            ok("FOO bar"),
            Command::Unknown {
                word: "FOO".into(),
                line: "FOO bar".into()
            }
        );
        assert_eq!(parse(b"expn x", true, false).verb, Verb::Unknown);
        assert_eq!(ok("AUTH FOO"), Command::Auth);
    }
}
