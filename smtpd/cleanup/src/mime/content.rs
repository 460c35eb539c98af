//! The MIME facts the walker tracks: media type (RFC 2045 §5,
//! RFC 2046), multipart boundaries, and the content transfer encoding
//! with its domain (RFC 2045 §6), parsed the way Postfix `mime_state`
//! reads `Content-Type` and `Content-Transfer-Encoding` headers.

use postmap::header_token::{RFC822_SPECIALS, RFC2045_TSPECIALS, Token, Tokenizer};

/// Tokens kept per `Content-Type` parameter group, as Postfix.
const MAX_TOKENS: usize = 3;

/// The media types the walker tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    Other,
    Text,
    Message,
    Multipart,
}

/// The subtypes the walker tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubType {
    Other,
    Plain,
    Rfc822,
    Partial,
    ExternalBody,
}

/// A content transfer encoding. `7bit`, `8bit` and `binary` are domains
/// (RFC 2045 §6.2); `base64` and `quoted-printable` are transformations
/// whose domain is `7bit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    SevenBit,
    EightBit,
    Binary,
    Base64,
    QuotedPrintable,
}

impl Encoding {
    const ALL: [Encoding; 5] = [
        Encoding::SevenBit,
        Encoding::EightBit,
        Encoding::Binary,
        Encoding::Base64,
        Encoding::QuotedPrintable,
    ];

    /// The RFC 2045 name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::SevenBit => "7bit",
            Encoding::EightBit => "8bit",
            Encoding::Binary => "binary",
            Encoding::Base64 => "base64",
            Encoding::QuotedPrintable => "quoted-printable",
        }
    }

    /// The domain of the encoded data.
    pub fn domain(self) -> Encoding {
        match self {
            Encoding::Base64 | Encoding::QuotedPrintable => Encoding::SevenBit,
            other => other,
        }
    }
}

/// What a `Content-Type` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContentType {
    /// `text/*`; `plain` tells `text/plain` from other text.
    Text {
        plain: bool,
    },
    Message(SubType),
    /// `multipart/*`: every `boundary` parameter (more than one is illegal
    /// but is tracked so content cannot hide behind it), and whether the
    /// parts default to `message/rfc822` (`multipart/digest`).
    Multipart {
        digest: bool,
        boundaries: Vec<Vec<u8>>,
    },
    Other,
}

impl ContentType {
    /// Parse the value of a `Content-Type` header. `None` when it has no
    /// tokens at all: the header then changes nothing.
    pub(crate) fn parse(value: &[u8]) -> Option<ContentType> {
        let mut tokens = Tokenizer::new(value, RFC2045_TSPECIALS);
        let first = tokens.next_group(MAX_TOKENS, Some(b';'))?;
        let (kind, subtype) = match first.as_slice() {
            [] => return None,
            [kind, Token::Special(b'/'), subtype, ..] => (kind, Some(subtype)),
            [kind, ..] => (kind, None),
        };
        let is_sub = |name: &str| subtype.is_some_and(|s| s.is_atom(name));
        if kind.is_atom("text") {
            return Some(ContentType::Text {
                plain: is_sub("plain"),
            });
        }
        if kind.is_atom("message") {
            let sub = if is_sub("rfc822") {
                SubType::Rfc822
            } else if is_sub("partial") {
                SubType::Partial
            } else if is_sub("external-body") {
                SubType::ExternalBody
            } else {
                SubType::Other
            };
            return Some(ContentType::Message(sub));
        }
        if !kind.is_atom("multipart") {
            return Some(ContentType::Other);
        }
        // Any value type is accepted for a boundary, as in Postfix.
        let mut boundaries = Vec::new();
        while let Some(group) = tokens.next_group(MAX_TOKENS, Some(b';')) {
            if let [name, Token::Special(b'='), value] = group.as_slice()
                && name.is_atom("boundary")
            {
                boundaries.push(value.value().to_vec());
            }
        }
        Some(ContentType::Multipart {
            digest: is_sub("digest"),
            boundaries,
        })
    }
}

/// Parse the value of a `Content-Transfer-Encoding` header: `None` for
/// an unknown or missing encoding (the current one then stays).
pub(crate) fn parse_encoding(value: &[u8]) -> Option<Encoding> {
    let mut tokens = Tokenizer::new(value, RFC822_SPECIALS);
    let group = tokens.next_group(1, None)?;
    let [Token::Atom(name)] = group.as_slice() else {
        return None;
    };
    Encoding::ALL
        .into_iter()
        .find(|e| e.name().as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_subtypes() {
        assert_eq!(
            ContentType::parse(b" Text/Plain; charset=x"),
            Some(ContentType::Text { plain: true })
        );
        assert_eq!(
            ContentType::parse(b"text/html"),
            Some(ContentType::Text { plain: false })
        );
        assert_eq!(
            ContentType::parse(b"message/rfc822; mumble"),
            Some(ContentType::Message(SubType::Rfc822))
        );
        assert_eq!(
            ContentType::parse(b"message/external-body"),
            Some(ContentType::Message(SubType::ExternalBody))
        );
        assert_eq!(
            ContentType::parse(b"message"),
            Some(ContentType::Message(SubType::Other))
        );
        assert_eq!(ContentType::parse(b"image/png"), Some(ContentType::Other));
        assert_eq!(
            ContentType::parse(b"\"text\"/plain"),
            Some(ContentType::Other)
        );
        assert_eq!(ContentType::parse(b"  (comment only) "), None);
        assert_eq!(ContentType::parse(b"; text/plain"), None);
    }

    #[test]
    fn multipart_collects_every_boundary() {
        let parsed = ContentType::parse(
            b"multipart/mixed; boundary(comment)=\"pqrs\"; x=y; BOUNDARY=two; boundary=3D\"x\"",
        );
        assert_eq!(
            parsed,
            Some(ContentType::Multipart {
                digest: false,
                boundaries: vec![b"pqrs".to_vec(), b"two".to_vec(), b"3D".to_vec()],
            })
        );
        let digest = ContentType::parse(b"multipart/digest; boundary=\"\"");
        assert_eq!(
            digest,
            Some(ContentType::Multipart {
                digest: true,
                boundaries: vec![vec![]],
            })
        );
    }

    #[test]
    fn encodings_and_their_domains() {
        assert_eq!(parse_encoding(b" BASE64 "), Some(Encoding::Base64));
        assert_eq!(parse_encoding(b"8bit (comment)"), Some(Encoding::EightBit));
        assert_eq!(parse_encoding(b"\"7bit\""), None);
        assert_eq!(parse_encoding(b"x-uuencode"), None);
        assert_eq!(parse_encoding(b""), None);
        assert_eq!(Encoding::QuotedPrintable.domain(), Encoding::SevenBit);
        assert_eq!(Encoding::Binary.domain(), Encoding::Binary);
    }
}
