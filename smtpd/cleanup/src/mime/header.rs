//! What we know about message header names: whether a line starts a
//! header (Postfix `is_header`), and the kind and flags of the headers
//! cleanup treats specially (Postfix `header_opts`): sender and recipient
//! address headers to rewrite, recipient headers to extract, `Resent-`
//! headers, MIME headers, and the headers `message_drop_headers` deletes.

use std::fmt;

/// The length of the header name at the start of `line`, when `line`
/// begins with a header label: printable ASCII name characters, optional
/// spaces or tabs (RFC 822 §3.4.2 obsolete syntax), then a colon. The
/// spaces are not counted.
pub fn name_len(line: &[u8]) -> Option<usize> {
    let mut len = 0;
    let mut after_space = false;
    for &c in line {
        match c {
            b':' => return (len > 0).then_some(len),
            b' ' | b'\t' if len > 0 => after_space = true,
            b' ' | b'\t' => return None,
            // NUL, 8-bit and control characters end the search, as does
            // a name character after the space before the colon.
            _ if c == 0 || !c.is_ascii() || c.is_ascii_control() => return None,
            _ if after_space => return None,
            _ => len += 1,
        }
    }
    None
}

/// Whether `line` begins with a header label (`name:` or `name :`).
pub fn is_header(line: &[u8]) -> bool {
    name_len(line).is_some()
}

/// The value of a header line: what follows the first colon, without
/// the white space after it (Postfix's `hdrval`). Empty without a colon.
pub fn value(header: &[u8]) -> &[u8] {
    let Some(colon) = memchr::memchr(b':', header) else {
        return &[];
    };
    let rest = &header[colon + 1..];
    let start = rest
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    &rest[start..]
}

/// The headers cleanup knows by name (Postfix `HDR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    /// A name only `message_drop_headers` lists.
    Other,
    ApparentlyTo,
    Bcc,
    Cc,
    ContentDescription,
    ContentDisposition,
    ContentId,
    ContentLength,
    ContentTransferEncoding,
    ContentType,
    Date,
    DeliveredTo,
    DispositionNotificationTo,
    ErrorsTo,
    From,
    MailFollowupTo,
    MessageId,
    MimeVersion,
    Received,
    ReplyTo,
    ResentBcc,
    ResentCc,
    ResentDate,
    ResentFrom,
    ResentMessageId,
    ResentReplyTo,
    ResentSender,
    ResentTo,
    ReturnPath,
    ReturnReceiptTo,
    Sender,
    To,
}

impl HeaderKind {
    /// The name in its preferred capitalization; `None` for [`Other`].
    ///
    /// [`Other`]: HeaderKind::Other
    pub fn name(self) -> Option<&'static str> {
        KNOWN
            .iter()
            .find(|(_, kind, _)| *kind == self)
            .map(|(name, _, _)| *name)
    }
}

/// Header properties (Postfix `HDR_OPT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HeaderFlags(u8);

impl HeaderFlags {
    pub const NONE: HeaderFlags = HeaderFlags(0);
    /// Deleted from the message (`message_drop_headers`).
    pub const DROP: HeaderFlags = HeaderFlags(1 << 0);
    /// Holds sender addresses (rewritten with sender canonical maps).
    pub const SENDER: HeaderFlags = HeaderFlags(1 << 1);
    /// Holds recipient addresses (rewritten with recipient canonical maps).
    pub const RECIPIENT: HeaderFlags = HeaderFlags(1 << 2);
    /// A `Resent-` header.
    pub const RESENT: HeaderFlags = HeaderFlags(1 << 3);
    /// Recipients are extracted from it (`sendmail -t`).
    pub const EXTRACT: HeaderFlags = HeaderFlags(1 << 4);
    /// A MIME header: checked with mime_header_checks wherever it is.
    pub const MIME: HeaderFlags = HeaderFlags(1 << 5);

    const NAMES: [(HeaderFlags, &'static str); 6] = [
        (HeaderFlags::DROP, "DROP"),
        (HeaderFlags::SENDER, "SENDER"),
        (HeaderFlags::RECIPIENT, "RECIPIENT"),
        (HeaderFlags::RESENT, "RESENT"),
        (HeaderFlags::EXTRACT, "EXTRACT"),
        (HeaderFlags::MIME, "MIME"),
    ];

    pub const fn union(self, other: HeaderFlags) -> HeaderFlags {
        HeaderFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: HeaderFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Debug for HeaderFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = HeaderFlags::NAMES
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        write!(f, "HeaderFlags({})", names.join(" | "))
    }
}

/// What cleanup knows about one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderInfo {
    pub kind: HeaderKind,
    pub flags: HeaderFlags,
}

impl HeaderInfo {
    pub fn is_mime(&self) -> bool {
        self.flags.contains(HeaderFlags::MIME)
    }
}

const XRECIP: HeaderFlags = HeaderFlags::RECIPIENT.union(HeaderFlags::EXTRACT);
const RESENT: HeaderFlags = HeaderFlags::RESENT;

/// Postfix `header_opts.c`, in its order.
const KNOWN: [(&str, HeaderKind, HeaderFlags); 31] = {
    use HeaderFlags as F;
    use HeaderKind as K;
    [
        ("Apparently-To", K::ApparentlyTo, F::RECIPIENT),
        ("Bcc", K::Bcc, XRECIP),
        ("Cc", K::Cc, XRECIP),
        ("Content-Description", K::ContentDescription, F::MIME),
        ("Content-Disposition", K::ContentDisposition, F::MIME),
        ("Content-ID", K::ContentId, F::MIME),
        ("Content-Length", K::ContentLength, F::NONE),
        (
            "Content-Transfer-Encoding",
            K::ContentTransferEncoding,
            F::MIME,
        ),
        ("Content-Type", K::ContentType, F::MIME),
        ("Delivered-To", K::DeliveredTo, F::NONE),
        (
            "Disposition-Notification-To",
            K::DispositionNotificationTo,
            F::SENDER,
        ),
        ("Date", K::Date, F::NONE),
        ("Errors-To", K::ErrorsTo, F::SENDER),
        ("From", K::From, F::SENDER),
        ("Mail-Followup-To", K::MailFollowupTo, F::SENDER),
        ("Message-Id", K::MessageId, F::NONE),
        ("MIME-Version", K::MimeVersion, F::MIME),
        ("Received", K::Received, F::NONE),
        ("Reply-To", K::ReplyTo, F::SENDER),
        ("Resent-Bcc", K::ResentBcc, XRECIP.union(RESENT)),
        ("Resent-Cc", K::ResentCc, XRECIP.union(RESENT)),
        ("Resent-Date", K::ResentDate, RESENT),
        ("Resent-From", K::ResentFrom, F::SENDER.union(RESENT)),
        ("Resent-Message-Id", K::ResentMessageId, RESENT),
        (
            "Resent-Reply-To",
            K::ResentReplyTo,
            F::RECIPIENT.union(RESENT),
        ),
        ("Resent-Sender", K::ResentSender, F::SENDER.union(RESENT)),
        ("Resent-To", K::ResentTo, XRECIP.union(RESENT)),
        ("Return-Path", K::ReturnPath, F::SENDER),
        ("Return-Receipt-To", K::ReturnReceiptTo, F::SENDER),
        ("Sender", K::Sender, F::SENDER),
        ("To", K::To, XRECIP),
    ]
};

/// The name part of a header line: the bytes before the first colon,
/// without trailing white space. `None` without a colon.
fn header_name(header: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', header)?;
    Some(header[..colon].trim_ascii_end())
}

/// What is built in about the header that `header` (a header line, or a
/// bare name followed by a colon) starts with, ignoring
/// `message_drop_headers`. Case-insensitive.
pub fn find(header: &[u8]) -> Option<HeaderInfo> {
    let name = header_name(header)?;
    KNOWN
        .iter()
        .find(|(known, _, _)| known.as_bytes().eq_ignore_ascii_case(name))
        .map(|&(_, kind, flags)| HeaderInfo { kind, flags })
}

/// The built-in headers plus the `message_drop_headers` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderTable {
    /// Lower-case names to delete.
    drop: Vec<String>,
}

impl Default for HeaderTable {
    /// Postfix's default `message_drop_headers`.
    fn default() -> HeaderTable {
        HeaderTable::new(["bcc", "content-length", "resent-bcc", "return-path"])
    }
}

impl HeaderTable {
    /// A table that drops the named headers (case-insensitive).
    pub fn new<I>(drop_headers: I) -> HeaderTable
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        HeaderTable {
            drop: drop_headers
                .into_iter()
                .map(|name| name.as_ref().to_ascii_lowercase())
                .collect(),
        }
    }

    /// The table for `message_drop_headers` of `config`.
    pub fn from_config(config: &conf::Config) -> Result<HeaderTable, conf::config::Error> {
        Ok(HeaderTable::new(config.get_list("message_drop_headers")?))
    }

    /// What is known about the header `header` starts with: built-in
    /// properties, plus [`HeaderFlags::DROP`] when it is listed to drop. A
    /// dropped name that is not built in is [`HeaderKind::Other`].
    pub fn find(&self, header: &[u8]) -> Option<HeaderInfo> {
        let name = header_name(header)?;
        let dropped = self
            .drop
            .iter()
            .any(|d| d.as_bytes().eq_ignore_ascii_case(name));
        match (find(header), dropped) {
            (Some(info), false) => Some(info),
            (Some(info), true) => Some(HeaderInfo {
                kind: info.kind,
                flags: info.flags.union(HeaderFlags::DROP),
            }),
            (None, true) => Some(HeaderInfo {
                kind: HeaderKind::Other,
                flags: HeaderFlags::DROP,
            }),
            (None, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_labels_follow_is_header() {
        assert_eq!(name_len(b"Subject: x"), Some(7));
        assert_eq!(name_len(b"content-type : x"), Some(12));
        assert_eq!(name_len(b"a \t:"), Some(1));
        assert_eq!(name_len(b"X-(odd)!:"), Some(8));
        for bad in [
            &b""[..],
            b": x",
            b" a: x",
            b"a b: x",
            b"no colon",
            b"8bit\x80: x",
            b"ctl\x01: x",
            b"del\x7f: x",
            b"nul\0: x",
        ] {
            assert_eq!(name_len(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn values_skip_leading_white_space() {
        assert_eq!(value(b"Subject:  hi there"), b"hi there");
        assert_eq!(value(b"Subject:"), b"");
        assert_eq!(value(b"nothing"), b"");
    }

    #[test]
    fn known_headers_are_found_case_insensitively() {
        let info = find(b"content-TYPE: text/plain").unwrap();
        assert_eq!(info.kind, HeaderKind::ContentType);
        assert!(info.is_mime());
        let to = find(b"To: a@b").unwrap();
        assert!(to.flags.contains(HeaderFlags::RECIPIENT));
        assert!(to.flags.contains(HeaderFlags::EXTRACT));
        let resent = find(b"Resent-From :x").unwrap();
        assert!(
            resent
                .flags
                .contains(HeaderFlags::SENDER.union(HeaderFlags::RESENT))
        );
        assert_eq!(find(b"X-Mailer: y"), None);
        assert_eq!(find(b"no colon"), None);
        assert_eq!(HeaderKind::MessageId.name(), Some("Message-Id"));
        assert_eq!(HeaderKind::Other.name(), None);
    }

    #[test]
    fn drop_list_adds_the_drop_flag() {
        let table = HeaderTable::default();
        let bcc = table.find(b"BCC: x").unwrap();
        assert_eq!(bcc.kind, HeaderKind::Bcc);
        assert!(bcc.flags.contains(HeaderFlags::DROP));
        assert!(
            !table
                .find(b"To: x")
                .unwrap()
                .flags
                .contains(HeaderFlags::DROP)
        );
        let custom = HeaderTable::new(["X-Secret"]);
        let other = custom.find(b"x-secret: 1").unwrap();
        assert_eq!(other.kind, HeaderKind::Other);
        assert_eq!(other.flags, HeaderFlags::DROP);
        assert_eq!(format!("{:?}", other.flags), "HeaderFlags(DROP)");
    }
}
