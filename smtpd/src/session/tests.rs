//! Session unit tests: the state machine without I/O.

use std::sync::Arc;

use super::*;
use crate::command::parse;

fn session(overrides: &[(&str, &str)]) -> Session {
    let settings = Settings::for_tests(overrides).expect("valid settings");
    Session::new(Arc::new(settings), Client::test(), false)
}

fn say(s: &mut Session, line: &str) -> Response {
    let strict = s.settings.strict_rfc821_envelopes;
    s.handle(parse(line.as_bytes(), true, strict))
}

fn text(r: &Response) -> String {
    r.reply.as_ref().map(|r| r.to_string()).unwrap_or_default()
}

#[test]
fn rcpt_before_mail_is_503() {
    let mut s = session(&[]);
    assert_eq!(
        text(&say(&mut s, "RCPT TO:<a@b>")),
        "503 5.5.1 Error: need MAIL command"
    );
}

#[test]
fn data_before_rcpt_is_554_or_503() {
    let mut s = session(&[]);
    assert_eq!(
        text(&say(&mut s, "DATA")),
        "503 5.5.1 Error: need RCPT command"
    );
    say(&mut s, "MAIL FROM:<a@b>");
    assert_eq!(
        text(&say(&mut s, "DATA")),
        "554 5.5.1 Error: no valid recipients"
    );
}

#[test]
fn a_transaction_reaches_data() {
    let mut s = session(&[]);
    assert_eq!(text(&say(&mut s, "EHLO c")).lines().count(), 1);
    assert_eq!(text(&say(&mut s, "MAIL FROM:<a@b>")), "250 2.1.0 Ok");
    assert_eq!(text(&say(&mut s, "RCPT TO:<c@d>")), "250 2.1.5 Ok");
    let r = say(&mut s, "DATA");
    assert_eq!(r.next, Next::ReadData);
    assert_eq!(s.protocol(), "ESMTP");
    let id = QueueId::new(SystemTime::UNIX_EPOCH, 1);
    let lines = s.received(&id, SystemTime::UNIX_EPOCH);
    assert_eq!(lines[0], "Received: from c (unknown [192.0.2.1])");
    let end = s.message_done(
        Ended {
            id: Some(id.clone()),
            delivery: Delivery::Queued { id, size: 1 },
        },
        None,
    );
    assert_eq!(text(&end), "250 2.0.0 Ok: queued as 0000000000z1");
    assert_eq!(s.state(), &State::Idle);
    assert_eq!(
        s.stats().to_string(),
        "ehlo=1 mail=1 rcpt=1 data=1 commands=4"
    );
}

#[test]
fn error_limits_sleep_then_disconnect() {
    let mut s = session(&[
        ("smtpd_soft_error_limit", "1"),
        ("smtpd_hard_error_limit", "3"),
    ]);
    assert_eq!(say(&mut s, "FOO").delay, None);
    assert!(s.too_many_errors().is_none());
    assert!(say(&mut s, "FOO").delay.is_some());
    say(&mut s, "FOO");
    assert_eq!(
        s.too_many_errors().map(|r| r.to_string()),
        Some("421 4.7.0 mx.example.test Error: too many errors".into())
    );
}

#[test]
fn recipient_limit_and_overshoot() {
    let mut s = session(&[
        ("smtpd_recipient_limit", "1"),
        ("smtpd_recipient_overshoot_limit", "1"),
    ]);
    say(&mut s, "MAIL FROM:<a@b>");
    say(&mut s, "RCPT TO:<1@b>");
    assert_eq!(
        text(&say(&mut s, "RCPT TO:<2@b>")),
        "452 4.5.3 Error: too many recipients"
    );
    assert_eq!(s.errors, 0);
    say(&mut s, "RCPT TO:<3@b>");
    assert_eq!(s.errors, 1);
}

#[test]
fn non_ascii_addresses_need_smtputf8() {
    let mut s = session(&[]);
    assert_eq!(
        text(&say(&mut s, "MAIL FROM:<ü@b>")),
        "553 5.6.7 Error: non-ASCII sender address requires SMTPUTF8"
    );
    say(&mut s, "MAIL FROM:<a@b>");
    assert_eq!(
        text(&say(&mut s, "RCPT TO:<ü@b>")),
        "553 5.6.7 Error: non-ASCII recipient address requires SMTPUTF8"
    );
    say(&mut s, "RSET");
    say(&mut s, "MAIL FROM:<ü@b> SMTPUTF8");
    assert_eq!(text(&say(&mut s, "RCPT TO:<ü@b>")), "250 2.1.5 Ok");
    assert_eq!(s.protocol(), "SMTP");
    say(&mut s, "EHLO c");
    say(&mut s, "MAIL FROM:<a@b> SMTPUTF8");
    assert_eq!(s.protocol(), "UTF8SMTP");
}

#[test]
fn helo_required_and_vrfy_etrn() {
    let mut s = session(&[("smtpd_helo_required", "yes")]);
    assert_eq!(
        text(&say(&mut s, "MAIL FROM:<a@b>")),
        "503 5.5.1 Error: send HELO/EHLO first"
    );
    assert_eq!(
        text(&say(&mut s, "ETRN x.org")),
        "503 Error: send HELO/EHLO first"
    );
    assert_eq!(text(&say(&mut s, "VRFY a@b")), "252 2.0.0 a@b");
    say(&mut s, "HELO c");
    assert_eq!(
        text(&say(&mut s, "ETRN #x.org")),
        "459 <x.org>: service unavailable"
    );
    assert_eq!(text(&say(&mut s, "ETRN")), "500 Syntax: ETRN domain");
}

#[test]
fn bdat_without_recipients_fails_the_sequence() {
    let mut s = session(&[]);
    let r = say(&mut s, "BDAT 5");
    assert_eq!(
        r.next,
        Next::DiscardChunk {
            size: 5,
            then: reply::need_rcpt()
        }
    );
    assert_eq!(
        text(&say(&mut s, "MAIL FROM:<a@b>")),
        "503 5.5.1 Error: MAIL after BDAT"
    );
    let r = say(&mut s, "BDAT 3 LAST");
    assert!(matches!(r.next, Next::DiscardChunk { size: 3, .. }));
    say(&mut s, "RSET");
    assert_eq!(text(&say(&mut s, "MAIL FROM:<a@b>")), "250 2.1.0 Ok");
}

#[test]
fn forbidden_commands_close() {
    let mut s = session(&[]);
    let r = say(&mut s, "CONNECT example.com:443");
    assert_eq!(r.next, Next::Close);
    assert_eq!(
        text(&r),
        "221 2.7.0 Error: I can break rules, too. Goodbye."
    );
    let mut s = session(&[]);
    assert_eq!(say(&mut s, "Subject: hi").next, Next::Close);
    let mut s = session(&[]);
    assert_eq!(say(&mut s, "1234").next, Next::Close);
    let mut s = session(&[]);
    assert_eq!(
        text(&say(&mut s, "EXPN x")),
        "500 5.5.2 Error: command not recognized"
    );
}

fn restricted(overrides: &[(&str, &str)]) -> Session {
    let settings = Settings::for_tests_restricted(overrides).expect("valid settings");
    Session::new(Arc::new(settings), Client::test(), false)
}

#[test]
fn the_sleep_restriction_delays_the_reply() {
    let mut s = restricted(&[
        ("mynetworks", "192.0.2.0/24"),
        ("smtpd_recipient_restrictions", "sleep 3, permit"),
    ]);
    say(&mut s, "HELO c");
    say(&mut s, "MAIL FROM:<a@b>");
    let r = say(&mut s, "RCPT TO:<c@d.example>");
    assert_eq!(text(&r), "250 2.1.5 Ok");
    assert_eq!(r.delay, Some(Duration::from_secs(3)));
    let r = say(&mut s, "RSET");
    assert_eq!(r.delay, None);
}

#[test]
fn restriction_refusals_count_as_errors() {
    let mut s = restricted(&[("smtpd_hard_error_limit", "2")]);
    say(&mut s, "HELO c");
    say(&mut s, "MAIL FROM:<a@b>");
    assert!(text(&say(&mut s, "RCPT TO:<c@d.example>")).contains("Relay access denied"));
    assert!(s.too_many_errors().is_none());
    assert!(text(&say(&mut s, "RCPT TO:<e@d.example>")).contains("Relay access denied"));
    assert!(s.too_many_errors().is_some());
}

#[test]
fn actions_belong_to_one_transaction() {
    let mut s = restricted(&[
        ("mynetworks", "192.0.2.0/24"),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{h@d.example=HOLD}",
        ),
    ]);
    say(&mut s, "HELO c");
    say(&mut s, "MAIL FROM:<a@b>");
    assert_eq!(text(&say(&mut s, "RCPT TO:<h@d.example>")), "250 2.1.5 Ok");
    assert!(s.actions().hold);
    say(&mut s, "RSET");
    assert!(!s.actions().hold);
}
