//! The envelope of a queued message: sender, recipients with their DSN
//! parameters (RFC 3461), arrival time and named attributes, plus the
//! payload codec of the recipient and attribute records.
//!
//! Every envelope string is UTF-8 without control characters (TAB
//! excepted), so that what postcat and the logs print is what is stored.

use std::fmt;
use std::time::SystemTime;

/// Attribute names, Postfix's (`mail_proto.h`), so that postcat shows the
/// same `named_attribute:` lines. Values are text chosen by the writer.
pub mod attr {
    pub const CLIENT_NAME: &str = "client_name";
    pub const REVERSE_CLIENT_NAME: &str = "reverse_client_name";
    pub const CLIENT_ADDRESS: &str = "client_address";
    pub const CLIENT_PORT: &str = "client_port";
    pub const HELO_NAME: &str = "helo_name";
    pub const PROTOCOL_NAME: &str = "protocol_name";
    pub const SASL_METHOD: &str = "sasl_method";
    pub const SASL_USERNAME: &str = "sasl_username";
    pub const REWRITE_CONTEXT: &str = "rewrite_context";
    /// DSN `ENVID=` (RFC 3461 §4.4), xtext decoded.
    pub const ENVID: &str = "envelope_id";
    /// DSN `RET=`: `FULL` or `HDRS` (RFC 3461 §4.3).
    pub const RET: &str = "ret_flags";
    /// `BODY=`: `7BIT`, `8BITMIME` or `BINARYMIME` (RFC 6152, RFC 3030).
    pub const BODY: &str = "encoding";
    /// `SMTPUTF8` was given with MAIL FROM (RFC 6531): `yes` when set.
    pub const SMTPUTF8: &str = "smtputf8";
    /// When the queue file was written, in seconds since the epoch;
    /// postcat prints it as `create_time:` with a date, as Postfix does.
    pub const CREATE_TIME: &str = "create_time";
}

/// DSN `NOTIFY=` (RFC 3461 §4.1) as Postfix's bit mask (`dsn_mask.h`):
/// NEVER 1, SUCCESS 2, FAILURE 4, DELAY 8. The default, no bits, means
/// the parameter was not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Notify(u8);

impl Notify {
    pub const NEVER: Notify = Notify(1);
    pub const SUCCESS: Notify = Notify(2);
    pub const FAILURE: Notify = Notify(4);
    pub const DELAY: Notify = Notify(8);

    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The mask from its bits; `None` for unknown bits or NEVER combined
    /// with another keyword (RFC 3461 §4.1 forbids that).
    pub fn from_bits(bits: u8) -> Option<Notify> {
        let valid = bits & !0x0f == 0 && (bits & 1 == 0 || bits == 1);
        valid.then_some(Notify(bits))
    }

    /// Parse the value of `NOTIFY=`: `NEVER`, or a comma-separated list
    /// of `SUCCESS`, `FAILURE` and `DELAY`, case-insensitive.
    pub fn parse(value: &str) -> Option<Notify> {
        let mut bits = 0u8;
        for word in value.split(',') {
            let bit = match word.to_ascii_uppercase().as_str() {
                "NEVER" => Notify::NEVER.0,
                "SUCCESS" => Notify::SUCCESS.0,
                "FAILURE" => Notify::FAILURE.0,
                "DELAY" => Notify::DELAY.0,
                _ => return None,
            };
            bits |= bit;
        }
        Notify::from_bits(bits)
    }

    /// No `NOTIFY=` was given.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn contains(self, other: Notify) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Notify {
    type Output = Notify;
    fn bitor(self, rhs: Notify) -> Notify {
        Notify(self.0 | rhs.0)
    }
}

/// The `NOTIFY=` value: `SUCCESS,FAILURE`; empty when not given.
impl fmt::Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Notify::NEVER, "NEVER"),
            (Notify::SUCCESS, "SUCCESS"),
            (Notify::FAILURE, "FAILURE"),
            (Notify::DELAY, "DELAY"),
        ];
        let mut sep = "";
        for (bit, name) in names {
            if self.contains(bit) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

/// One envelope recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// The address to deliver to (after rewriting), never empty.
    pub address: String,
    /// The address as the client gave it, before any rewriting.
    pub original: String,
    pub notify: Notify,
    /// DSN `ORCPT=` (RFC 3461 §4.2), `addr-type;address`, xtext decoded.
    pub orcpt: Option<String>,
}

impl Recipient {
    /// A recipient with no DSN parameters whose original form is its
    /// address.
    pub fn new(address: impl Into<String>) -> Recipient {
        let address = address.into();
        Recipient {
            original: address.clone(),
            address,
            notify: Notify::default(),
            orcpt: None,
        }
    }

    /// The recipient record payload: NOTIFY bits, then address, original
    /// address and (if present) ORCPT, each as a 32-bit big-endian length
    /// and the bytes; a flag byte says whether ORCPT is present.
    pub fn encode(&self) -> Vec<u8> {
        let orcpt = self.orcpt.as_deref().unwrap_or_default();
        let mut out =
            Vec::with_capacity(14 + self.address.len() + self.original.len() + orcpt.len());
        out.push(self.notify.bits());
        put_field(&mut out, &self.address);
        put_field(&mut out, &self.original);
        out.push(u8::from(self.orcpt.is_some()));
        if self.orcpt.is_some() {
            put_field(&mut out, orcpt);
        }
        out
    }

    /// Decode a recipient record payload; the reason if it is malformed.
    pub fn decode(payload: &[u8]) -> Result<Recipient, &'static str> {
        let (&bits, mut rest) = payload.split_first().ok_or("empty")?;
        let notify = Notify::from_bits(bits).ok_or("bad NOTIFY bits")?;
        let address = take_field(&mut rest)?;
        if address.is_empty() {
            return Err("empty address");
        }
        let original = take_field(&mut rest)?;
        let (&has_orcpt, mut rest) = rest.split_first().ok_or("no ORCPT flag")?;
        let orcpt = match has_orcpt {
            0 => None,
            1 => Some(take_field(&mut rest)?),
            _ => return Err("bad ORCPT flag"),
        };
        if !rest.is_empty() {
            return Err("trailing bytes");
        }
        Ok(Recipient {
            address,
            original,
            notify,
            orcpt,
        })
    }
}

fn put_field(out: &mut Vec<u8>, s: &str) {
    // Callers check lengths against record::MAX_PAYLOAD first, far below
    // 4 GiB.
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn take_field(rest: &mut &[u8]) -> Result<String, &'static str> {
    let (len, tail) = rest.split_first_chunk::<4>().ok_or("short field length")?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| "field too long")?;
    if len > tail.len() {
        return Err("field overruns the record");
    }
    let (field, tail) = tail.split_at(len);
    *rest = tail;
    let s = std::str::from_utf8(field).map_err(|_| "not UTF-8")?;
    check_text(s)?;
    Ok(s.to_string())
}

/// Envelope text rule: no control characters but TAB.
pub(crate) fn check_text(s: &str) -> Result<(), &'static str> {
    match s.chars().any(|c| c.is_control() && c != '\t') {
        true => Err("control character"),
        false => Ok(()),
    }
}

/// Attribute names: 1 to 100 of `a-z`, `0-9`, `_`.
pub(crate) fn check_attr_name(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(()) } else { Err("attribute name") }
}

/// Split and check an attribute record payload, `name=value`.
pub fn decode_attribute(payload: &[u8]) -> Result<Attribute, &'static str> {
    let s = std::str::from_utf8(payload).map_err(|_| "not UTF-8")?;
    let (name, value) = s.split_once('=').ok_or("no '='")?;
    check_attr_name(name)?;
    check_text(value)?;
    Ok(Attribute {
        name: name.to_string(),
        value: value.to_string(),
    })
}

/// A named attribute of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// The envelope of a queue file as [`crate::reader`] returns it (the
/// recipients come separately, with their done flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub arrival: SystemTime,
    /// Empty for the null sender `<>`.
    pub sender: String,
    /// In file order; names are unique.
    pub attributes: Vec<Attribute>,
    /// The message length: content bytes plus one per line end.
    pub content_size: u64,
}

impl Envelope {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_parses_rfc3461_values() {
        assert_eq!(Notify::parse("NEVER"), Some(Notify::NEVER));
        assert_eq!(
            Notify::parse("success,Delay"),
            Some(Notify::SUCCESS | Notify::DELAY)
        );
        assert_eq!(Notify::parse("NEVER,SUCCESS"), None);
        assert_eq!(Notify::parse(""), None);
        assert_eq!(Notify::parse("SOMETIMES"), None);
        assert_eq!(
            (Notify::SUCCESS | Notify::FAILURE).to_string(),
            "SUCCESS,FAILURE"
        );
        assert_eq!(Notify::default().to_string(), "");
        assert_eq!(Notify::from_bits(16), None);
        assert!(!Notify::default().contains(Notify::default()));
    }

    #[test]
    fn recipient_payload_round_trips() {
        let r = Recipient {
            address: "üser@example.org".into(),
            original: "User@Example.org".into(),
            notify: Notify::SUCCESS | Notify::FAILURE,
            orcpt: Some("rfc822;User@Example.org".into()),
        };
        assert_eq!(Recipient::decode(&r.encode()), Ok(r.clone()));
        let plain = Recipient::new("a@b");
        assert_eq!(Recipient::decode(&plain.encode()), Ok(plain));
    }

    #[test]
    fn recipient_payload_is_checked() {
        let good = Recipient::new("a@b").encode();
        for cut in 0..good.len() {
            assert!(Recipient::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(Recipient::decode(&extra), Err("trailing bytes"));
        let mut ctl = Recipient::new("a\nb@c").encode();
        assert_eq!(Recipient::decode(&ctl), Err("control character"));
        ctl[0] = 0x11;
        assert_eq!(Recipient::decode(&ctl), Err("bad NOTIFY bits"));
        assert_eq!(
            Recipient::decode(&Recipient::new("").encode()),
            Err("empty address")
        );
        let huge = [0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Recipient::decode(&huge), Err("field overruns the record"));
    }

    #[test]
    fn attributes_are_checked() {
        let a = decode_attribute(b"helo_name=mail.example.org").expect("valid");
        assert_eq!(
            (a.name.as_str(), a.value.as_str()),
            ("helo_name", "mail.example.org")
        );
        assert_eq!(
            decode_attribute(b"x=a=b").map(|a| a.value),
            Ok("a=b".into())
        );
        assert!(decode_attribute(b"=v").is_err());
        assert!(decode_attribute(b"Name=v").is_err());
        assert!(decode_attribute(b"novalue").is_err());
        assert!(decode_attribute(b"n=\r").is_err());
        assert!(decode_attribute(b"n=\xff").is_err());
    }
}
