//! STARTTLS with rustls (aws-lc-rs provider, chosen explicitly so no
//! feature combination makes the process default ambiguous): loading
//! `smtpd_tls_cert_file`/`smtpd_tls_key_file` at startup, and describing
//! a finished handshake in OpenSSL's words for `Received:`.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::aws_lc_rs;
use rustls::{NamedGroup, ProtocolVersion, ServerConfig, ServerConnection, SignatureAlgorithm};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::{TlsLevel, TlsSettings};
use crate::received::TlsInfo;

/// Why TLS cannot be set up (fatal at startup, as in Postfix).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("smtpd_tls_security_level = {0:?} needs smtpd_tls_cert_file")]
    NoCertificate(TlsLevel),
    #[error("cannot load certificate file {path}: {reason}")]
    Cert { path: String, reason: String },
    #[error("cannot load private key file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A loaded server certificate and how to accept TLS with it.
#[derive(Clone)]
pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// `ECDSA (prime256v1)`, `RSA`, ... for `Received:`.
    signature: Option<String>,
    digest: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("signature", &self.signature)
            .finish()
    }
}

/// Load the certificate when `smtpd_tls_security_level` is `may` or
/// `encrypt`; `None` for `none`.
pub fn load(settings: &TlsSettings) -> Result<Option<Arc<Tls>>, Error> {
    if settings.level == TlsLevel::None {
        return Ok(None);
    }
    if settings.cert_file.as_os_str().is_empty() {
        return Err(Error::NoCertificate(settings.level));
    }
    let certs = load_certs(&settings.cert_file)?;
    let key = load_key(&settings.key_file)?;
    let provider = Arc::new(aws_lc_rs::default_provider());
    let signing = provider.key_provider.load_private_key(key.clone_key())?;
    let (signature, digest) = describe_key(signing.algorithm(), certs.first());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Some(Arc::new(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        signature,
        digest,
    })))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let err = |reason: String| Error::Cert {
        path: path.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate found".into()));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| Error::Key {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// OpenSSL's names for the server key: the curve of an EC key comes from
/// the certificate's public key parameters.
fn describe_key(
    alg: SignatureAlgorithm,
    cert: Option<&CertificateDer<'_>>,
) -> (Option<String>, Option<String>) {
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    let der = cert.map(|c| c.as_ref()).unwrap_or_default();
    let has = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
    match alg {
        SignatureAlgorithm::ECDSA if has(P256) => {
            (Some("ECDSA (prime256v1)".into()), Some("SHA256".into()))
        }
        SignatureAlgorithm::ECDSA if has(P384) => {
            (Some("ECDSA (secp384r1)".into()), Some("SHA384".into()))
        }
        SignatureAlgorithm::ECDSA => (Some("ECDSA".into()), None),
        SignatureAlgorithm::ED25519 => (Some("ED25519".into()), None),
        SignatureAlgorithm::RSA => (Some("RSA-PSS".into()), Some("SHA256".into())),
        _ => (None, None),
    }
}

impl Tls {
    /// The handshake as `Received:` shows it.
    pub fn describe(&self, conn: &ServerConnection) -> TlsInfo {
        let protocol = match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_string(),
        };
        let suite = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        TlsInfo {
            protocol,
            bits: cipher_bits(&suite),
            cipher: openssl_cipher_name(&suite),
            key_exchange: conn
                .negotiated_key_exchange_group()
                .map(|g| group_name(g.name())),
            server_signature: self.signature.clone(),
            server_digest: self.digest.clone(),
        }
    }
}

fn group_name(group: NamedGroup) -> String {
    match group {
        NamedGroup::secp256r1 => "prime256v1".into(),
        other => format!("{other:?}"),
    }
}

fn cipher_bits(suite: &str) -> u16 {
    if suite.contains("AES_128") { 128 } else { 256 }
}

/// rustls's IANA names to OpenSSL's: TLS 1.3 suites are `TLS_...`; TLS
/// 1.2 ones `ECDHE-ECDSA-AES256-GCM-SHA384` and the like.
fn openssl_cipher_name(suite: &str) -> String {
    if let Some(rest) = suite.strip_prefix("TLS13_") {
        return format!("TLS_{rest}");
    }
    let Some(rest) = suite.strip_prefix("TLS_") else {
        return suite.to_string();
    };
    let (kx, cipher) = rest.split_once("_WITH_").unwrap_or((rest, ""));
    let cipher = cipher
        .replace("AES_128_GCM", "AES128-GCM")
        .replace("AES_256_GCM", "AES256-GCM")
        .replace("CHACHA20_POLY1305", "CHACHA20-POLY1305");
    let name = format!("{}-{}", kx.replace('_', "-"), cipher.replace('_', "-"));
    name.replace("-POLY1305-SHA256", "-POLY1305")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_names_as_openssl() {
        assert_eq!(
            openssl_cipher_name("TLS13_AES_256_GCM_SHA384"),
            "TLS_AES_256_GCM_SHA384"
        );
        assert_eq!(
            openssl_cipher_name("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
            "ECDHE-ECDSA-AES256-GCM-SHA384"
        );
        assert_eq!(
            openssl_cipher_name("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
            "ECDHE-RSA-CHACHA20-POLY1305"
        );
        assert_eq!(cipher_bits("TLS13_AES_128_GCM_SHA256"), 128);
        assert_eq!(group_name(NamedGroup::X25519), "X25519");
    }

    #[test]
    fn loads_the_test_certificate() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let settings = TlsSettings {
            level: TlsLevel::May,
            cert_file: dir.join("cert.pem"),
            key_file: dir.join("key.pem"),
            auth_only: false,
            received_header: true,
            handshake_timeout: std::time::Duration::from_secs(5),
        };
        let tls = load(&settings).expect("loads").expect("enabled");
        assert_eq!(tls.signature.as_deref(), Some("ECDSA (prime256v1)"));
        let missing = TlsSettings {
            cert_file: dir.join("nonexistent.pem"),
            ..settings
        };
        assert!(load(&missing).is_err());
    }
}
