//! A streaming MIME walker (Postfix `mime_state`). Content arrives as
//! records: a line without its terminator, or a piece of a long line that
//! continues in the next record. The [`Walker`] turns them into
//! [`Event`]s: each logical header (continuation lines joined with `\n`)
//! with its [`HeaderClass`], the end of the primary headers, each body
//! record, and the end of the body, plus the MIME [`Defect`]s it was asked
//! to report. It follows `multipart/*` boundaries and `message/rfc822`
//! nesting, and can downgrade 8-bit content to quoted-printable for a
//! 7-bit-only peer. It never holds more than one logical header.
//!
//! Offsets in events count bytes from the start of the current header or
//! body block, a line break counting as one, with Postfix's quirks: a
//! header's successor is placed by the length of the record that ended it.

mod content;
mod downgrade;
pub mod header;
mod walker;

pub use content::Encoding;
pub use header::{HeaderFlags, HeaderInfo, HeaderKind, HeaderTable};
pub use walker::Walker;

use std::fmt;

/// Where a header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderClass {
    /// In the message's own (primary) header block.
    Primary,
    /// In the header block after a multipart boundary.
    Multipart,
    /// At the start of an attached `message/rfc822` message.
    Nested,
}

impl HeaderClass {
    /// Postfix's test-driver label: `MAIN`, `MULT` or `NEST`.
    pub fn label(self) -> &'static str {
        match self {
            HeaderClass::Primary => "MAIN",
            HeaderClass::Multipart => "MULT",
            HeaderClass::Nested => "NEST",
        }
    }
}

/// What the walker reports, in content order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// One logical header; lines of a folded header are joined with `\n`.
    /// `info` is the built-in knowledge about its name. A header the
    /// downgrade synthesizes (`Content-Transfer-Encoding`) has no `info`.
    Header {
        class: HeaderClass,
        info: Option<HeaderInfo>,
        text: &'a [u8],
        offset: u64,
    },
    /// The primary header block ended.
    HeaderEnd,
    /// A body record: a whole line when `complete`, else a piece that
    /// continues in the next event.
    Body {
        text: &'a [u8],
        complete: bool,
        offset: u64,
    },
    /// The content ended.
    BodyEnd,
    /// A defect the options ask to report; each kind is reported once.
    /// `text` is the offending header or line, or the encoding name.
    Defect { defect: Defect, text: &'a [u8] },
}

/// A MIME problem (Postfix `MIME_ERR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    /// More nested multiparts than `mime_nesting_limit`.
    Nesting,
    /// A header longer than `header_size_limit` (truncated).
    TruncatedHeader,
    /// 8-bit data in a header.
    EightBitInHeader,
    /// 8-bit data in a body part declared (or defaulting to) 7bit.
    EightBitInBody,
    /// A `message/*` or `multipart/*` entity with an encoding that is not
    /// a domain (7bit, 8bit, binary), or not 7bit for message/partial and
    /// message/external-body.
    EncodingDomain,
}

impl Defect {
    /// Most serious first, as Postfix ranks them for one-line reports.
    pub const ALL: [Defect; 5] = [
        Defect::Nesting,
        Defect::TruncatedHeader,
        Defect::EightBitInHeader,
        Defect::EightBitInBody,
        Defect::EncodingDomain,
    ];

    /// Postfix's text (`mime_state_error`).
    pub fn text(self) -> &'static str {
        match self {
            Defect::Nesting => "MIME nesting exceeds safety limit",
            Defect::TruncatedHeader => "message header length exceeds safety limit",
            Defect::EightBitInHeader => "improper use of 8-bit data in message header",
            Defect::EightBitInBody => "improper use of 8-bit data in message body",
            Defect::EncodingDomain => "invalid message/* or multipart/* encoding domain",
        }
    }

    /// The RFC 3463 status Postfix rejects with.
    pub fn status(self) -> &'static str {
        "5.6.0"
    }

    fn bit(self) -> u8 {
        1 << Defect::ALL.iter().position(|d| *d == self).unwrap_or(0)
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A set of defects.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Defects(u8);

impl Defects {
    pub fn contains(self, defect: Defect) -> bool {
        self.0 & defect.bit() != 0
    }

    pub fn insert(&mut self, defect: Defect) {
        self.0 |= defect.bit();
    }

    pub fn remove(&mut self, defect: Defect) {
        self.0 &= !defect.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, most serious first.
    pub fn iter(self) -> impl Iterator<Item = Defect> {
        Defect::ALL.into_iter().filter(move |d| self.contains(*d))
    }

    /// The one Postfix reports when there are several.
    pub fn most_serious(self) -> Option<Defect> {
        self.iter().next()
    }
}

impl fmt::Debug for Defects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// What the walker does beyond walking (Postfix `MIME_OPT_*`). All off
/// by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Ignore `Content-*` headers: everything after the primary headers
    /// is body (`disable_mime_input_processing`).
    pub disable_mime: bool,
    pub report_truncated_header: bool,
    pub report_8bit_in_header: bool,
    pub report_8bit_in_7bit_body: bool,
    pub report_encoding_domain: bool,
    pub report_nesting: bool,
    /// Walk into every `message/*` part, not only `message/rfc822`. Not
    /// for use with `downgrade`.
    pub recurse_all_message: bool,
    /// Convert 8-bit parts to quoted-printable and fix their
    /// `Content-Transfer-Encoding` headers.
    pub downgrade: bool,
}

/// Resource limits against hostile content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `header_size_limit`: a logical header stops growing at this size.
    pub header_size: usize,
    /// `mime_nesting_limit`: boundaries beyond this depth are ignored.
    pub nesting: usize,
    /// `mime_boundary_length_limit`: boundaries are compared up to this
    /// many bytes.
    pub boundary_length: usize,
}

impl Default for Limits {
    /// Postfix's defaults.
    fn default() -> Limits {
        Limits {
            header_size: 102_400,
            nesting: 100,
            boundary_length: 2048,
        }
    }
}

impl Limits {
    /// The limits `config` sets.
    pub fn from_config(config: &conf::Config) -> Result<Limits, conf::config::Error> {
        let size = |name: &str| -> Result<usize, conf::config::Error> {
            Ok(usize::try_from(config.get_int(name)?.max(0)).unwrap_or(usize::MAX))
        };
        Ok(Limits {
            header_size: size("header_size_limit")?,
            nesting: size("mime_nesting_limit")?,
            boundary_length: size("mime_boundary_length_limit")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defects_rank_like_postfix() {
        let mut set = Defects::default();
        assert!(set.is_empty());
        set.insert(Defect::EncodingDomain);
        set.insert(Defect::EightBitInHeader);
        assert_eq!(set.most_serious(), Some(Defect::EightBitInHeader));
        set.remove(Defect::EightBitInHeader);
        assert_eq!(set.iter().collect::<Vec<_>>(), [Defect::EncodingDomain]);
        assert_eq!(format!("{set:?}"), "{EncodingDomain}");
        assert_eq!(
            Defect::Nesting.to_string(),
            "MIME nesting exceeds safety limit"
        );
    }
}
