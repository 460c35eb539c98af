//! The tables behind header_checks, mime_header_checks,
//! nested_header_checks and body_checks (or the smtp_/lmtp_ versions a
//! delivery agent uses). Each parameter is a list of tables searched in
//! order, first answer wins ([`postmap::Maps`], Postfix `maps_find`). A
//! table that cannot be opened stays in the list and fails every lookup,
//! so mail is deferred rather than let through unchecked (Postfix's
//! surrogate tables).

use postmap::OpenOptions;

use crate::mime::HeaderClass;

/// Which parameter family to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// cleanup: `header_checks`, `mime_header_checks` and
    /// `nested_header_checks` (both default to `$header_checks`),
    /// `body_checks`, `body_checks_size_limit`.
    Cleanup,
    /// The SMTP client: `smtp_header_checks`, ...; no size limit.
    Smtp,
    /// The LMTP client: `lmtp_header_checks`, ...; no size limit.
    Lmtp,
}

impl Family {
    fn prefix(self) -> &'static str {
        match self {
            Family::Cleanup => "",
            Family::Smtp => "smtp_",
            Family::Lmtp => "lmtp_",
        }
    }
}

/// The parameter values that configure the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specs {
    pub family: Family,
    pub header_checks: String,
    pub mime_header_checks: String,
    pub nested_header_checks: String,
    pub body_checks: String,
    /// Bytes per body segment that body_checks see; 0 for all.
    pub body_checks_size_limit: u64,
}

impl Specs {
    /// The values `config` gives the `family`'s parameters.
    pub fn from_config(
        config: &conf::Config,
        family: Family,
    ) -> Result<Specs, conf::config::Error> {
        let prefix = family.prefix();
        let get = |name: &str| -> Result<String, conf::config::Error> {
            Ok(config.get(&format!("{prefix}{name}"))?.unwrap_or_default())
        };
        let body_checks_size_limit = match family {
            Family::Cleanup => {
                u64::try_from(config.get_int("body_checks_size_limit")?).unwrap_or(0)
            }
            Family::Smtp | Family::Lmtp => 0,
        };
        Ok(Specs {
            family,
            header_checks: get("header_checks")?,
            mime_header_checks: get("mime_header_checks")?,
            nested_header_checks: get("nested_header_checks")?,
            body_checks: get("body_checks")?,
            body_checks_size_limit,
        })
    }
}

/// The opened tables of all four parameters.
#[derive(Debug, Default)]
pub struct Maps {
    header: Option<postmap::Maps>,
    mime_header: Option<postmap::Maps>,
    nested_header: Option<postmap::Maps>,
    body: Option<postmap::Maps>,
    body_size_limit: u64,
}

impl Maps {
    /// Open the tables `specs` name; an empty value means no checks of
    /// that kind. Returns the warnings to log.
    pub fn open(specs: &Specs, opts: &OpenOptions) -> (Maps, Vec<String>) {
        let prefix = specs.family.prefix();
        let mut warnings = Vec::new();
        let mut open = |name: &str, value: &str| {
            if value.trim().is_empty() {
                return None;
            }
            let list = postmap::Maps::open(&format!("{prefix}{name}"), value, opts);
            warnings.extend_from_slice(list.warnings());
            Some(list)
        };
        let maps = Maps {
            header: open("header_checks", &specs.header_checks),
            mime_header: open("mime_header_checks", &specs.mime_header_checks),
            nested_header: open("nested_header_checks", &specs.nested_header_checks),
            body: open("body_checks", &specs.body_checks),
            body_size_limit: specs.body_checks_size_limit,
        };
        (maps, warnings)
    }

    /// Read the `family`'s parameters from `config` and open their
    /// tables, with the UTF-8 key policy of `smtputf8_enable`.
    pub fn from_config(
        config: &conf::Config,
        family: Family,
    ) -> Result<(Maps, Vec<String>), conf::config::Error> {
        let specs = Specs::from_config(config, family)?;
        let opts = OpenOptions {
            utf8_check: config.get_bool("smtputf8_enable")?,
            ..OpenOptions::default()
        };
        Ok(Maps::open(&specs, &opts))
    }

    /// Maps built from lists already at hand (tests, tools).
    pub fn from_lists(
        header: [Option<postmap::Maps>; 3],
        body: Option<postmap::Maps>,
        body_size_limit: u64,
    ) -> Maps {
        let [header, mime_header, nested_header] = header;
        Maps {
            header,
            mime_header,
            nested_header,
            body,
            body_size_limit,
        }
    }

    /// The tables for headers of `class` (after MIME headers were moved
    /// to [`HeaderClass::Multipart`], which means mime_header_checks).
    pub fn header(&self, class: HeaderClass) -> Option<&postmap::Maps> {
        match class {
            HeaderClass::Primary => self.header.as_ref(),
            HeaderClass::Multipart => self.mime_header.as_ref(),
            HeaderClass::Nested => self.nested_header.as_ref(),
        }
    }

    pub fn body(&self) -> Option<&postmap::Maps> {
        self.body.as_ref()
    }

    /// body_checks see the first this many bytes of each body segment;
    /// 0 for all.
    pub fn body_size_limit(&self) -> u64 {
        self.body_size_limit
    }

    /// Whether any header checks are configured.
    pub fn has_header_checks(&self) -> bool {
        self.header.is_some() || self.mime_header.is_some() || self.nested_header.is_some()
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        !self.has_header_checks() && self.body.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_select_their_parameter() {
        let specs = Specs {
            family: Family::Smtp,
            header_checks: "static:h".into(),
            mime_header_checks: String::new(),
            nested_header_checks: " ".into(),
            body_checks: "static:b".into(),
            body_checks_size_limit: 7,
        };
        let (maps, _) = Maps::open(&specs, &OpenOptions::default());
        assert_eq!(
            maps.header(HeaderClass::Primary).map(postmap::Maps::title),
            Some("smtp_header_checks")
        );
        assert!(maps.header(HeaderClass::Multipart).is_none());
        assert!(maps.header(HeaderClass::Nested).is_none());
        assert_eq!(
            maps.body().map(postmap::Maps::title),
            Some("smtp_body_checks")
        );
        assert_eq!(maps.body_size_limit(), 7);
        assert!(maps.has_header_checks() && !maps.is_empty());
        assert!(Maps::default().is_empty());
    }

    #[test]
    fn unopenable_tables_are_warned_about_and_fail_lookups() {
        let specs = Specs {
            family: Family::Cleanup,
            header_checks: "regexp:/nonexistent/checks static:x".into(),
            mime_header_checks: String::new(),
            nested_header_checks: String::new(),
            body_checks: String::new(),
            body_checks_size_limit: 0,
        };
        let (maps, warnings) = Maps::open(&specs, &OpenOptions::default());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("regexp:/nonexistent/checks is unavailable."));
        let header = maps.header(HeaderClass::Primary).expect("header_checks");
        let mut found = Vec::new();
        let key = postmap::maps::Key::Full;
        assert!(header.find_bytes(b"Subject: x", key, &mut found).is_err());
        assert!(found.is_empty());
    }
}
