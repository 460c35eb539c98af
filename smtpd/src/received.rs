//! The `Received:` header smtpd puts first in every message, in the shape
//! of Postfix's `smtpd.c` (RFC 5321 §4.4), as content lines:
//!
//! ```text
//! Received: from helo (name [addr])
//!     (using TLSv1.3 with cipher ... (256/256 bits)      <- smtpd_tls_received_header
//!      key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256)
//!     (No client certificate requested)
//!     by myhostname (mail_name) with ESMTP id ID
//!     for <rcpt>; date                                   <- one recipient
//! ```
//!
//! (each continuation line starts with a TAB). With several recipients the `for` clause is left out and the date gets
//! its own line, after a `;` that ends the `by` line.

use std::time::SystemTime;

use cleanup::date::mail_date;

/// What the TLS handshake negotiated (for the comment and the protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.3`
    pub protocol: String,
    /// `TLS_AES_256_GCM_SHA384`
    pub cipher: String,
    /// Symmetric key bits (`256`).
    pub bits: u16,
    /// `X25519`, when known.
    pub key_exchange: Option<String>,
    /// `ECDSA (prime256v1)`, from our certificate's key.
    pub server_signature: Option<String>,
    /// `SHA256`
    pub server_digest: Option<String>,
}

/// Everything the header says.
#[derive(Debug)]
pub struct Stamp<'a> {
    pub helo: Option<&'a str>,
    pub client_name: &'a str,
    pub client_addr: &'a str,
    pub tls: Option<&'a TlsInfo>,
    /// Whether to show the TLS comment (`smtpd_tls_received_header`).
    pub tls_comment: bool,
    pub myhostname: &'a str,
    pub mail_name: &'a str,
    pub protocol: &'a str,
    pub queue_id: &'a str,
    /// The recipient, when there is exactly one.
    pub single_recipient: Option<&'a str>,
    pub arrival: SystemTime,
}

impl Stamp<'_> {
    /// The header's lines, without line endings.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Received: from {} ({} [{}])",
            self.helo.unwrap_or(self.client_name),
            self.client_name,
            self.client_addr
        )];
        if let (Some(tls), true) = (self.tls, self.tls_comment) {
            lines.extend(tls_comment(tls));
        }
        let by = format!(
            "\tby {} ({}) with {} id {}",
            self.myhostname, self.mail_name, self.protocol, self.queue_id
        );
        let date = mail_date(self.arrival);
        match self.single_recipient {
            Some(rcpt) => {
                lines.push(by);
                lines.push(format!("\tfor <{}>; {date}", quote_local(rcpt)));
            }
            None => {
                lines.push(format!("{by};"));
                lines.push(format!("\t{date}"));
            }
        }
        lines
    }
}

fn tls_comment(tls: &TlsInfo) -> Vec<String> {
    let mut first = format!(
        "\t(using {} with cipher {} ({}/{} bits)",
        tls.protocol, tls.cipher, tls.bits, tls.bits
    );
    let mut details = Vec::new();
    if let Some(kx) = &tls.key_exchange {
        details.push(format!("key-exchange {kx}"));
    }
    if let Some(sig) = &tls.server_signature {
        details.push(format!("server-signature {sig}"));
    }
    if let Some(digest) = &tls.server_digest {
        details.push(format!("server-digest {digest}"));
    }
    let mut lines = Vec::new();
    if details.is_empty() {
        first.push(')');
        lines.push(first);
    } else {
        lines.push(first);
        lines.push(format!("\t {})", details.join(" ")));
    }
    lines.push("\t(No client certificate requested)".to_string());
    lines
}

/// The address with its local part quoted when RFC 5321 needs it
/// (Postfix `quote_822_local`): `"a b"@d` stays as given.
fn quote_local(addr: &str) -> String {
    let (local, domain) = match addr.rfind('@') {
        Some(i) => (&addr[..i], Some(&addr[i..])),
        None => (addr, None),
    };
    let atom = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii();
    let plain = (local.starts_with('"') && local.ends_with('"') && local.len() > 1)
        || (!local.is_empty() && local.chars().all(atom));
    let local = if plain {
        local.to_string()
    } else {
        let escaped: String = local
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    };
    format!("{local}{}", domain.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn stamp<'a>(rcpt: Option<&'a str>, tls: Option<&'a TlsInfo>) -> Stamp<'a> {
        Stamp {
            helo: Some("client.example"),
            client_name: "unknown",
            client_addr: "192.0.2.1",
            tls,
            tls_comment: true,
            myhostname: "mx.example.test",
            mail_name: "Postfix",
            protocol: "ESMTP",
            queue_id: "4ZzCqG0yB3z12",
            single_recipient: rcpt,
            arrival: UNIX_EPOCH + Duration::from_secs(1_795_219_200),
        }
    }

    #[test]
    fn one_recipient_gets_a_for_clause() {
        let lines = stamp(Some("c@d.example"), None).lines();
        assert_eq!(
            lines[0],
            "Received: from client.example (unknown [192.0.2.1])"
        );
        assert_eq!(
            lines[1],
            "\tby mx.example.test (Postfix) with ESMTP id 4ZzCqG0yB3z12"
        );
        assert!(lines[2].starts_with("\tfor <c@d.example>; Sat, 21 Nov 2026 "));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn several_recipients_put_the_date_alone() {
        let lines = stamp(None, None).lines();
        assert_eq!(
            lines[1],
            "\tby mx.example.test (Postfix) with ESMTP id 4ZzCqG0yB3z12;"
        );
        assert!(lines[2].starts_with("\tSat, 21 Nov 2026 "));
    }

    #[test]
    fn tls_comment_as_postfix() {
        let tls = TlsInfo {
            protocol: "TLSv1.3".into(),
            cipher: "TLS_AES_256_GCM_SHA384".into(),
            bits: 256,
            key_exchange: Some("X25519".into()),
            server_signature: Some("ECDSA (prime256v1)".into()),
            server_digest: Some("SHA256".into()),
        };
        let lines = stamp(Some("c@d"), Some(&tls)).lines();
        assert_eq!(
            lines[1],
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
        );
        assert_eq!(
            lines[2],
            "\t key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256)"
        );
        assert_eq!(lines[3], "\t(No client certificate requested)");
    }

    #[test]
    fn local_parts_are_quoted_when_needed() {
        assert_eq!(quote_local("\"a b\"@d"), "\"a b\"@d");
        assert_eq!(quote_local("a b@d"), "\"a b\"@d");
        assert_eq!(quote_local("postmaster"), "postmaster");
    }
}
