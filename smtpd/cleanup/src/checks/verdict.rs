//! What the checks decided for a whole message: the actions that do not
//! edit a line but change the message's fate (reject, discard, hold,
//! filter, redirect, bcc, pass) and table failures that must defer it.

use crate::mime::Defect;

/// The status and text Postfix uses when REJECT has no text
/// (`CLEANUP_STAT_CONT`).
const DEFAULT_STATUS: &str = "5.7.1";
const DEFAULT_TEXT: &str = "message content rejected";

/// The decisions collected while inspecting one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The last REJECT (or the MIME defect that rejects the message).
    pub reject: Option<Rejection>,
    /// DISCARD: claim delivery and drop the message.
    pub discard: bool,
    /// HOLD, with its optional text: queue the message on hold.
    pub hold: Option<String>,
    /// The last FILTER: `transport:destination` overriding content_filter.
    pub filter: Option<String>,
    /// The last REDIRECT: the one recipient to deliver to instead.
    pub redirect: Option<String>,
    /// BCC recipients, in order (duplicates are the caller's to drop).
    pub bcc: Vec<String>,
    /// PASS: no further header, body or milter inspection.
    pub passed: bool,
    /// The parameter whose tables failed to answer (the first one): the
    /// message must not be accepted now (Postfix `CLEANUP_STAT_WRITE`,
    /// 451 4.3.0).
    pub lookup_error: Option<String>,
}

/// A rejection: an RFC 3463 status and free text. A 4.x.x status is a
/// temporary failure (Postfix `CLEANUP_STAT_DEFER`), 5.x.x permanent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: String,
    pub text: String,
}

impl Rejection {
    /// The rejection a REJECT action's text asks for: its leading status
    /// if it has one (else 5.7.1), and the generic text when it has none.
    /// A 2.x.x status becomes 4.x.x, with the warning Postfix logs.
    pub fn from_action(text: &str) -> (Rejection, Option<String>) {
        if text.is_empty() {
            let rejection = Rejection {
                status: DEFAULT_STATUS.to_string(),
                text: DEFAULT_TEXT.to_string(),
            };
            return (rejection, None);
        }
        let (status, rest) = split_status(text);
        let mut rejection = Rejection {
            status: status.unwrap_or(DEFAULT_STATUS).to_string(),
            text: rest.to_string(),
        };
        if !rejection.status.starts_with(['4', '5']) {
            rejection.status.replace_range(..1, "4");
            let warning = format!("bad DSN action in {text} -- need 4.x.x or 5.x.x");
            return (rejection, Some(warning));
        }
        (rejection, None)
    }

    /// The rejection for a MIME defect (status 5.6.0).
    pub fn from_defect(defect: Defect) -> Rejection {
        Rejection {
            status: defect.status().to_string(),
            text: defect.text().to_string(),
        }
    }

    pub fn is_temporary(&self) -> bool {
        self.status.starts_with('4')
    }

    /// The SMTP reply code smtpd answers with: 451 or 550.
    pub fn smtp_code(&self) -> u16 {
        if self.is_temporary() { 451 } else { 550 }
    }

    /// Status and text, as Postfix logs the reason and smtpd replies
    /// after the code: `5.7.1 text`.
    pub fn reason(&self) -> String {
        format!("{} {}", self.status, self.text)
    }
}

/// The length of an RFC 3463 status code at the start of `text`
/// (Postfix `dsn_valid`): `[245].d{1,3}.d{1,3}` followed by white space
/// or the end.
fn status_len(text: &[u8]) -> Option<usize> {
    let digits = |from: usize| {
        text[from.min(text.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if !matches!(text, [b'2' | b'4' | b'5', b'.', ..]) {
        return None;
    }
    let second = digits(2);
    if !(1..=3).contains(&second) || text.get(2 + second) != Some(&b'.') {
        return None;
    }
    let third_at = 3 + second;
    let third = digits(third_at);
    let end = third_at + third;
    let ends_well = text
        .get(end)
        .is_none_or(|c| c.is_ascii_whitespace() || *c == 0x0b);
    ((1..=3).contains(&third) && ends_well).then_some(end)
}

/// Split an optional leading status from `text` (Postfix `dsn_split`);
/// white space around the status is dropped.
fn split_status(text: &str) -> (Option<&str>, &str) {
    let is_space = |c: char| c.is_ascii_whitespace() || c == '\x0b';
    let text = text.trim_start_matches(is_space);
    match status_len(text.as_bytes()) {
        Some(len) => (Some(&text[..len]), text[len..].trim_start_matches(is_space)),
        None => (None, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_follow_dsn_valid() {
        assert_eq!(status_len(b"5.7.1 x"), Some(5));
        assert_eq!(status_len(b"4.123.456"), Some(9));
        for bad in [
            &b"5.7.1x"[..],
            b"3.7.1",
            b"5.1234.1",
            b"5..1",
            b"5.7.",
            b"5",
            b"",
        ] {
            assert_eq!(status_len(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rejections_default_to_5_7_1() {
        let (plain, warning) = Rejection::from_action("");
        assert_eq!(plain.reason(), "5.7.1 message content rejected");
        assert_eq!((plain.smtp_code(), warning), (550, None));
        let (text, _) = Rejection::from_action("no spam here");
        assert_eq!(text.reason(), "5.7.1 no spam here");
        let (coded, _) = Rejection::from_action("4.7.0  try later");
        assert_eq!(coded.reason(), "4.7.0 try later");
        assert!(coded.is_temporary());
        assert_eq!(coded.smtp_code(), 451);
        let (bare, _) = Rejection::from_action("5.7.1");
        assert_eq!(bare.reason(), "5.7.1 ");
    }

    #[test]
    fn success_codes_become_temporary_with_a_warning() {
        let (rejection, warning) = Rejection::from_action("2.0.0 fine");
        assert_eq!(rejection.reason(), "4.0.0 fine");
        assert_eq!(
            warning.as_deref(),
            Some("bad DSN action in 2.0.0 fine -- need 4.x.x or 5.x.x")
        );
    }

    #[test]
    fn defects_reject_with_5_6_0() {
        let rejection = Rejection::from_defect(Defect::Nesting);
        assert_eq!(
            rejection.reason(),
            "5.6.0 MIME nesting exceeds safety limit"
        );
    }
}
