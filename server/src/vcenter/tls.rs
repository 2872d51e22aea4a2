//! How vmshift trusts a vCenter's certificate (docs/VCENTER.md#tls): verified against the
//! system's roots and, when given, the connection's CA file; or one certificate accepted by
//! its SHA-256 fingerprint (a lab vCenter's self-signed one); or, only when asked, not at all.
//! A certificate that is not trusted is reported with its fingerprint, so an admin can check
//! it and accept it.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::sync::{Arc, Mutex};

/// What to trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Accept any certificate (lab use only; the API says so).
    pub insecure: bool,
    /// PEM certificates of the CA that signed vCenter's certificate (VMCA's root).
    pub ca_pem: Option<String>,
    /// The SHA-256 fingerprint of the one certificate accepted (hex, colons optional).
    pub accept_sha256: Option<String>,
}

/// A certificate's SHA-256 fingerprint as vSphere shows it (`AB:CD:…`).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A fingerprint as given by a user, normalised (`abcd…` or `AB:CD:…`): `None` unless it is
/// 32 bytes of hex.
pub fn parse_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| {
        hex.to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    })
}

/// The certificates of a PEM text; an error when there is none or one is unreadable.
pub fn parse_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    match certs {
        Ok(c) if !c.is_empty() => Ok(c),
        Ok(_) => Err("holds no PEM certificate".into()),
        Err(e) => Err(format!("is not a PEM certificate ({e})")),
    }
}

/// The certificate vCenter presented last, for the error that reports it.
pub type Seen = Arc<Mutex<Option<String>>>;

#[derive(Debug)]
struct Verifier {
    accept: Option<String>,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    seen: Seen,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let print = fingerprint(end_entity);
        *self.seen.lock().expect("not poisoned") = Some(print.clone());
        if self.accept.as_deref() == Some(print.as_str()) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(Error::General(
                "the certificate is not the accepted one".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// An HTTP client trusting what `trust` says, and where it records the certificate it saw.
pub fn client(trust: &Trust) -> Result<(reqwest::Client, Seen), String> {
    let seen: Seen = Arc::default();
    let builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(90))
        .connect_timeout(std::time::Duration::from_secs(10));
    if trust.insecure {
        let client = builder
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(|e| e.to_string())?;
        return Ok((client, seen));
    }
    // ring's provider has no post-quantum key exchange; vCenter offers none either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = &trust.ca_pem {
        for cert in parse_ca(pem).map_err(|e| format!("ca_pem {e}"))? {
            roots.add(cert).map_err(|e| format!("ca_pem: {e}"))?;
        }
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| e.to_string())?,
        )
    };
    let verifier = Verifier {
        accept: trust.accept_sha256.as_deref().and_then(parse_fingerprint),
        webpki,
        provider: provider.clone(),
        seen: seen.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let client = builder
        .use_preconfigured_tls(config)
        .build()
        .map_err(|e| e.to_string())?;
    Ok((client, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_with_or_without_colons() {
        let hex = "ab".repeat(32);
        let expected = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&hex).as_deref(), Some(expected.as_str()));
        assert_eq!(
            parse_fingerprint(&expected).as_deref(),
            Some(expected.as_str())
        );
        assert_eq!(parse_fingerprint("abcd"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        assert!(parse_ca("hello").is_err());
        assert!(parse_ca("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err());
    }
}
