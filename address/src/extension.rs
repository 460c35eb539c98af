//! Address extensions (`user+foo@domain`): splitting the local part at the
//! first `recipient_delimiter` character, with Postfix's exceptions
//! (Postfix `split_addr` and `strip_addr`). Table lookups use this to try
//! `user@domain` after `user+foo@domain`.

use conf::Config;

/// The reserved local parts that are never split.
const POSTMASTER: &str = "postmaster";
const MAILER_DAEMON: &str = "MAILER-DAEMON";

/// How local parts are split: `recipient_delimiter`, with the exceptions
/// of `owner_request_special` and `double_bounce_sender`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimiters {
    set: String,
    owner_request_special: bool,
    double_bounce_sender: String,
}

/// An address without its extension, and the extension (starting with
/// its delimiter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    pub address: String,
    pub extension: String,
}

impl Delimiters {
    /// The delimiter characters `set` ("" for none), with Postfix's
    /// defaults for the exceptions.
    pub fn new(set: &str) -> Delimiters {
        Delimiters {
            set: set.to_string(),
            owner_request_special: true,
            double_bounce_sender: "double-bounce".to_string(),
        }
    }

    /// `recipient_delimiter`, `owner_request_special` and
    /// `double_bounce_sender` from the configuration.
    pub fn from_config(config: &Config) -> Result<Delimiters, conf::config::Error> {
        Ok(Delimiters {
            set: config.get("recipient_delimiter")?.unwrap_or_default(),
            owner_request_special: config.get_bool("owner_request_special")?,
            double_bounce_sender: config.get("double_bounce_sender")?.unwrap_or_default(),
        })
    }

    /// No delimiter is configured: addresses have no extensions.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The delimiter characters.
    pub fn as_str(&self) -> &str {
        &self.set
    }

    fn is_delimiter(&self, c: char) -> bool {
        self.set.contains(c)
    }

    /// Split `local` (a local part without `@domain`) at its first
    /// delimiter: the part before and the extension after it (without the
    /// delimiter). `None` when there is no delimiter, when the part
    /// before would be empty, or for local parts that are never split:
    /// `postmaster`, `MAILER-DAEMON`, the double-bounce sender and, when
    /// `-` is a delimiter and `owner_request_special` is on, `owner-*`
    /// and `*-request`.
    pub fn split<'a>(&self, local: &'a str) -> Option<(&'a str, &'a str)> {
        if local.eq_ignore_ascii_case(POSTMASTER)
            || local.eq_ignore_ascii_case(MAILER_DAEMON)
            || local.to_lowercase() == self.double_bounce_sender.to_lowercase()
        {
            return None;
        }
        if self.set.contains('-') && self.owner_request_special && is_owner_or_request(local) {
            return None;
        }
        let at = local.find(|c| self.is_delimiter(c))?;
        if at == 0 {
            return None;
        }
        // Delimiters may be any character; step over the one found.
        let delimiter_len = local[at..].chars().next().map_or(1, char::len_utf8);
        Some((&local[..at], &local[at + delimiter_len..]))
    }

    /// `address` (`user+ext@domain` or a bare local part) without its
    /// extension, or `None` when it has none. The extension is taken from
    /// the local part only, before the last `@`.
    pub fn strip(&self, address: &str) -> Option<Stripped> {
        if self.set.is_empty() || !address.contains(|c| self.is_delimiter(c)) {
            return None;
        }
        let (local, domain) = match address.rfind('@') {
            Some(at) => address.split_at(at),
            None => (address, ""),
        };
        let (base, _) = self.split(local)?;
        Some(Stripped {
            address: format!("{base}{domain}"),
            extension: local[base.len()..].to_string(),
        })
    }
}

/// `owner-*` or `*-request` (case-insensitive), as Postfix compares them.
fn is_owner_or_request(local: &str) -> bool {
    let bytes = local.as_bytes();
    let owner = bytes.len() >= 6 && bytes[..6].eq_ignore_ascii_case(b"owner-");
    let request = bytes.len() > 8 && bytes[bytes.len() - 8..].eq_ignore_ascii_case(b"-request");
    owner || request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_at_the_first_delimiter() {
        let d = Delimiters::new("+-");
        assert_eq!(d.split("foo+bar-baz"), Some(("foo", "bar-baz")));
        assert_eq!(d.split("foo"), None);
        assert_eq!(d.split("+foo"), None);
        assert_eq!(d.split("foo+"), Some(("foo", "")));
    }

    #[test]
    fn reserved_names_are_not_split() {
        let d = Delimiters::new("-");
        for local in [
            "Postmaster",
            "mailer-daemon",
            "Double-Bounce",
            "owner-list",
            "list-request",
        ] {
            assert_eq!(d.split(local), None, "{local}");
        }
        assert_eq!(d.split("-request"), None);
        assert_eq!(d.split("x-request"), None);
        let plus = Delimiters::new("+");
        assert_eq!(plus.split("owner+x"), Some(("owner", "x")));
    }

    #[test]
    fn strip_keeps_the_domain() {
        let d = Delimiters::new("+-");
        let s = d.strip("foo+ext@bar").expect("has extension");
        assert_eq!(
            (s.address.as_str(), s.extension.as_str()),
            ("foo@bar", "+ext")
        );
        assert_eq!(d.strip("foo@bar-baz"), None);
        assert_eq!(Delimiters::new("").strip("foo+ext@bar"), None);
        let multi = Delimiters::new("é");
        let s = multi.strip("aébc@d").expect("has extension");
        assert_eq!((s.address.as_str(), s.extension.as_str()), ("a@d", "ébc"));
    }
}
