//! SMTP replies as values (RFC 5321 §4.2): a [`ReplyCode`], an optional
//! [`EnhancedStatus`] (RFC 3463, RFC 2034) and text, rendered to the wire
//! form in one place. Whether a reply is transient or permanent is
//! computed from the code, never stored beside it. Shared by smtpd,
//! cleanup (rejections from checks) and the smtp client.

use std::fmt;
use std::str::FromStr;

/// A three-digit reply code, 200 to 599.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    pub const SERVICE_READY: ReplyCode = ReplyCode(220);
    pub const CLOSING: ReplyCode = ReplyCode(221);
    pub const OK: ReplyCode = ReplyCode(250);
    pub const START_DATA: ReplyCode = ReplyCode(354);
    pub const UNAVAILABLE: ReplyCode = ReplyCode(421);
    pub const TEMPORARY: ReplyCode = ReplyCode(451);
    pub const INSUFFICIENT_STORAGE: ReplyCode = ReplyCode(452);
    pub const SYNTAX: ReplyCode = ReplyCode(500);
    pub const PARAMETER_SYNTAX: ReplyCode = ReplyCode(501);
    pub const NOT_IMPLEMENTED: ReplyCode = ReplyCode(502);
    pub const BAD_SEQUENCE: ReplyCode = ReplyCode(503);
    pub const PARAMETER_NOT_IMPLEMENTED: ReplyCode = ReplyCode(504);
    pub const REJECTED: ReplyCode = ReplyCode(550);
    pub const EXCEEDED_STORAGE: ReplyCode = ReplyCode(552);
    pub const TRANSACTION_FAILED: ReplyCode = ReplyCode(554);

    /// `None` outside 200..=599 (1yz is unused in SMTP).
    pub const fn new(code: u16) -> Option<ReplyCode> {
        match code {
            200..=599 => Some(ReplyCode(code)),
            _ => None,
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    /// The first digit: 2, 3, 4 or 5.
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// 2yz or 3yz.
    pub const fn is_positive(self) -> bool {
        self.class() <= 3
    }

    /// 4yz: try again later.
    pub const fn is_transient(self) -> bool {
        self.class() == 4
    }

    /// 5yz: do not try again.
    pub const fn is_permanent(self) -> bool {
        self.class() == 5
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a code or status did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad {what}: {text:?}")]
pub struct ParseError {
    what: &'static str,
    text: String,
}

impl FromStr for ReplyCode {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<ReplyCode, ParseError> {
        let err = || ParseError {
            what: "reply code",
            text: s.to_string(),
        };
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        s.parse().ok().and_then(ReplyCode::new).ok_or_else(err)
    }
}

/// An enhanced status code, `class.subject.detail` (RFC 3463 §2): class
/// 2, 4 or 5; subject and detail of 1 to 3 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedStatus {
    /// `None` for a class other than 2, 4, 5 or numbers above 999.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Option<EnhancedStatus> {
        match (class, subject, detail) {
            (2 | 4 | 5, 0..=999, 0..=999) => Some(EnhancedStatus {
                class,
                subject,
                detail,
            }),
            _ => None,
        }
    }

    pub const fn class(self) -> u8 {
        self.class
    }

    pub const fn subject(self) -> u16 {
        self.subject
    }

    pub const fn detail(self) -> u16 {
        self.detail
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl FromStr for EnhancedStatus {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<EnhancedStatus, ParseError> {
        let err = || ParseError {
            what: "enhanced status code",
            text: s.to_string(),
        };
        let mut parts = s.split('.');
        let mut number = |max_len: usize| {
            let p = parts.next().filter(|p| {
                (1..=max_len).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
            });
            p.and_then(|p| p.parse::<u16>().ok())
        };
        let (class, subject, detail) = (number(1), number(3), number(3));
        if parts.next().is_some() {
            return Err(err());
        }
        match (class, subject, detail) {
            (Some(c), Some(s), Some(d)) => EnhancedStatus::new(c as u8, s, d).ok_or_else(err),
            _ => Err(err()),
        }
    }
}

/// An SMTP reply. `text` may hold several lines separated by `\n`; each
/// becomes a line of a multi-line reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: ReplyCode,
    pub status: Option<EnhancedStatus>,
    pub text: String,
}

/// Constructors for `const` statuses known to be valid.
const fn status(class: u8, subject: u16, detail: u16) -> Option<EnhancedStatus> {
    Some(EnhancedStatus {
        class,
        subject,
        detail,
    })
}

impl Reply {
    pub fn new(code: ReplyCode, status: Option<EnhancedStatus>, text: impl Into<String>) -> Reply {
        Reply {
            code,
            status,
            text: text.into(),
        }
    }

    /// `250 2.0.0 Ok`
    pub fn ok() -> Reply {
        Reply::new(ReplyCode::OK, status(2, 0, 0), "Ok")
    }

    /// `250 2.0.0 Ok: queued as ID`, Postfix's answer after DATA.
    pub fn queued(id: &crate::QueueId) -> Reply {
        Reply::new(
            ReplyCode::OK,
            status(2, 0, 0),
            format!("Ok: queued as {id}"),
        )
    }

    /// `220 banner` (no enhanced status in a greeting, RFC 2034 §3).
    pub fn service_ready(banner: impl Into<String>) -> Reply {
        Reply::new(ReplyCode::SERVICE_READY, None, banner)
    }

    /// `221 2.0.0 Bye`
    pub fn closing() -> Reply {
        Reply::new(ReplyCode::CLOSING, status(2, 0, 0), "Bye")
    }

    /// `354 End data with <CR><LF>.<CR><LF>`
    pub fn start_data() -> Reply {
        Reply::new(
            ReplyCode::START_DATA,
            None,
            "End data with <CR><LF>.<CR><LF>",
        )
    }

    /// `421 4.3.0 host Error: ...` style: the service is closing.
    pub fn unavailable(text: impl Into<String>) -> Reply {
        Reply::new(ReplyCode::UNAVAILABLE, status(4, 3, 0), text)
    }

    /// `451 4.3.0 Error: queue file write error`
    pub fn queue_write_error() -> Reply {
        Reply::new(
            ReplyCode::TEMPORARY,
            status(4, 3, 0),
            "Error: queue file write error",
        )
    }

    /// `500 5.5.2 Error: command not recognized`
    pub fn unknown_command() -> Reply {
        Reply::new(
            ReplyCode::SYNTAX,
            status(5, 5, 2),
            "Error: command not recognized",
        )
    }

    /// `503 5.5.1 Error: TEXT` (bad sequence of commands).
    pub fn bad_sequence(text: &str) -> Reply {
        Reply::new(
            ReplyCode::BAD_SEQUENCE,
            status(5, 5, 1),
            format!("Error: {text}"),
        )
    }

    /// `552 5.3.4 Error: message file too big`
    pub fn message_too_big() -> Reply {
        Reply::new(
            ReplyCode::EXCEEDED_STORAGE,
            status(5, 3, 4),
            "Error: message file too big",
        )
    }

    pub fn is_positive(&self) -> bool {
        self.code.is_positive()
    }

    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    pub fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }

    /// The wire form: one `CODE-STATUS text` line per text line except
    /// the last, `CODE STATUS text`, each ending in CRLF. The enhanced
    /// status starts every line (RFC 2034 §4). CR in the text is dropped,
    /// so a reply is never more or fewer lines than its text says.
    pub fn render(&self) -> String {
        let text = self.text.strip_suffix('\n').unwrap_or(&self.text);
        let lines: Vec<&str> = text.split('\n').collect();
        let mut out = String::with_capacity(text.len() + 16 * lines.len());
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 < lines.len() { '-' } else { ' ' };
            let line = line.replace('\r', "");
            out.push_str(&self.code.to_string());
            match (self.status, line.is_empty()) {
                (Some(st), true) => out.push_str(&format!("{sep}{st}")),
                (Some(st), false) => out.push_str(&format!("{sep}{st} {line}")),
                (None, true) if sep == '-' => out.push('-'),
                (None, true) => {}
                (None, false) => out.push_str(&format!("{sep}{line}")),
            }
            out.push_str("\r\n");
        }
        out
    }
}

/// The reply on one line without CRLF, as logs show it
/// (`550 5.7.1 <x@y>: Recipient address rejected`).
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(st) = self.status {
            write!(f, " {st}")?;
        }
        let text = self.text.trim_end_matches('\n');
        if !text.is_empty() {
            write!(f, " {}", text.replace(['\r', '\n'], " "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_class_decides_transient_or_permanent() {
        let code = |n| ReplyCode::new(n).expect("valid");
        assert!(code(250).is_positive() && !code(250).is_transient());
        assert!(code(354).is_positive());
        assert!(code(451).is_transient() && !code(451).is_permanent());
        assert!(code(550).is_permanent() && !code(550).is_positive());
        assert_eq!(ReplyCode::new(199), None);
        assert_eq!(ReplyCode::new(600), None);
        assert_eq!("421".parse(), Ok(code(421)));
        assert!("42".parse::<ReplyCode>().is_err());
        assert!("+42".parse::<ReplyCode>().is_err());
        assert!("099".parse::<ReplyCode>().is_err());
    }

    #[test]
    fn enhanced_status_parses_and_prints() {
        let st: EnhancedStatus = "5.7.1".parse().expect("valid");
        assert_eq!((st.class(), st.subject(), st.detail()), (5, 7, 1));
        assert_eq!(st.to_string(), "5.7.1");
        assert_eq!(
            "4.999.100".parse::<EnhancedStatus>().map(|s| s.to_string()),
            Ok("4.999.100".into())
        );
        for bad in [
            "", "5", "5.7", "5.7.1.2", "3.0.0", "5.1000.0", "55.1.1", "5..1", "5.a.1", "5.7.-1",
        ] {
            assert!(bad.parse::<EnhancedStatus>().is_err(), "{bad}");
        }
    }

    #[test]
    fn renders_single_and_multi_line_replies() {
        assert_eq!(Reply::ok().render(), "250 2.0.0 Ok\r\n");
        assert_eq!(
            Reply::start_data().render(),
            "354 End data with <CR><LF>.<CR><LF>\r\n"
        );
        let st = "5.7.1".parse().ok();
        let multi = Reply::new(ReplyCode::REJECTED, st, "first\nsecond\r\nthird\n");
        assert_eq!(
            multi.render(),
            "550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n"
        );
        let ehlo = Reply::new(
            ReplyCode::OK,
            None,
            "mx.example.org\nPIPELINING\nSIZE 10240000",
        );
        assert_eq!(
            ehlo.render(),
            "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n"
        );
        assert_eq!(Reply::new(ReplyCode::OK, None, "").render(), "250\r\n");
        assert_eq!(
            Reply::new(ReplyCode::OK, None, "\nx").render(),
            "250-\r\n250 x\r\n"
        );
    }

    #[test]
    fn named_replies_and_display() {
        let id: crate::QueueId = "4ZzCqG0yB3z12".parse().expect("id");
        assert_eq!(
            Reply::queued(&id).render(),
            "250 2.0.0 Ok: queued as 4ZzCqG0yB3z12\r\n"
        );
        assert_eq!(Reply::closing().to_string(), "221 2.0.0 Bye");
        assert!(Reply::queue_write_error().is_transient());
        assert!(Reply::message_too_big().is_permanent());
        assert_eq!(
            Reply::bad_sequence("need MAIL command").render(),
            "503 5.5.1 Error: need MAIL command\r\n"
        );
        assert_eq!(
            Reply::new(ReplyCode::REJECTED, None, "a\nb").to_string(),
            "550 a b"
        );
    }
}
