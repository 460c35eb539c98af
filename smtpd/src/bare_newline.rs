//! `smtpd_forbid_bare_newline` (Postfix 3.9, CVE-2023-51764): what a
//! line ending in LF without CR means, for commands and content.
//!
//! - [`Mode::Normalize`]: a bare LF ends a line like CRLF, but only
//!   `CRLF.CRLF` ends DATA; a lone-dot line next to a bare LF is dropped
//!   (what Postfix stores), so no second message can be smuggled in.
//! - [`Mode::Reject`]: a command line with a bare LF is answered with
//!   `smtpd_forbid_bare_newline_reject_code` and the session ends; a
//!   message with one is read to its end and rejected.
//! - [`Mode::Lenient`]: clients in `smtpd_forbid_bare_newline_exclusions`
//!   get Postfix's historical behaviour: a lone dot ends DATA whatever
//!   its line endings.

use std::net::IpAddr;

use crate::config::Settings;

/// The configured policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareNewline {
    Normalize,
    Reject,
}

/// The policy for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normalize,
    Reject,
    Lenient,
}

impl Mode {
    /// The mode for a client: excluded clients are lenient.
    pub fn for_client(settings: &Settings, name: &str, addr: IpAddr) -> Mode {
        if settings.bare_newline_exclusions.matches(name, addr) {
            return Mode::Lenient;
        }
        match settings.bare_newline {
            BareNewline::Normalize => Mode::Normalize,
            BareNewline::Reject => Mode::Reject,
        }
    }

    /// Whether a lone-dot line ends DATA, given how it and the line
    /// before it ended.
    pub fn ends_data(self, prev_crlf: bool, crlf: bool) -> bool {
        match self {
            Mode::Lenient => true,
            Mode::Normalize | Mode::Reject => prev_crlf && crlf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_crlf_dot_crlf_ends_data_unless_lenient() {
        for mode in [Mode::Normalize, Mode::Reject] {
            assert!(mode.ends_data(true, true));
            assert!(!mode.ends_data(false, true));
            assert!(!mode.ends_data(true, false));
        }
        assert!(Mode::Lenient.ends_data(false, false));
    }

    #[test]
    fn exclusions_make_a_client_lenient() {
        let s = Settings::for_tests(&[
            ("smtpd_forbid_bare_newline", "reject"),
            ("smtpd_forbid_bare_newline_exclusions", "192.0.2.0/24"),
        ])
        .expect("valid");
        let inside: IpAddr = "192.0.2.5".parse().expect("addr");
        let outside: IpAddr = "198.51.100.5".parse().expect("addr");
        assert_eq!(Mode::for_client(&s, "unknown", inside), Mode::Lenient);
        assert_eq!(Mode::for_client(&s, "unknown", outside), Mode::Reject);
    }
}
