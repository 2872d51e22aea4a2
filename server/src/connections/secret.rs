//! Connection passwords encrypted at rest (docs/VCENTER.md#credentials): ChaCha20-Poly1305
//! with a 256-bit key from the server's configuration — `--secret-key` (hashed to 256 bits;
//! replicas sharing a database give the same one), else a key file created on first need
//! (`--secret-key-file`, readable by its owner only). Each password has its own random nonce;
//! what is stored is `base64(nonce ‖ ciphertext ‖ tag)`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

pub struct SecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    fn with_key(bytes: &[u8; 32]) -> SecretBox {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 256-bit key");
        SecretBox {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// The key from a passphrase (`--secret-key`).
    pub fn from_passphrase(secret: &str) -> SecretBox {
        let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        SecretBox::with_key(&key)
    }

    /// The key in `path` (32 bytes, base64), created with a random key when missing.
    pub fn from_file(path: &Path) -> Result<SecretBox, String> {
        let what = |e: std::io::Error| format!("secret key file {}: {e}", path.display());
        if let Ok(text) = std::fs::read_to_string(path) {
            let bytes = BASE64
                .decode(text.trim())
                .map_err(|e| format!("secret key file {}: {e}", path.display()))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| format!("secret key file {}: not 32 bytes", path.display()))?;
            return Ok(SecretBox::with_key(&key));
        }
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| "no random numbers".to_string())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(what)?;
        }
        write_private(path, &BASE64.encode(key)).map_err(what)?;
        tracing::info!(file = %path.display(), "created the secret key for connection passwords");
        Ok(SecretBox::with_key(&key))
    }

    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).expect("random numbers");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing cannot fail");
        let mut out = nonce.to_vec();
        out.extend(data);
        BASE64.encode(out)
    }

    /// The plain text, or why it cannot be had (another key, a damaged value).
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let bytes = BASE64
            .decode(sealed)
            .map_err(|_| "the stored password is damaged".to_string())?;
        if bytes.len() < NONCE_LEN {
            return Err("the stored password is damaged".into());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let mut data = rest.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce")?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| {
                "the stored password cannot be decrypted with this server's secret key \
                 (--secret-key / --secret-key-file): give the key it was stored with, or \
                 enter the password again"
                    .to_string()
            })?;
        String::from_utf8(plain.to_vec()).map_err(|_| "the stored password is damaged".into())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_password_opens_with_its_key_only() {
        let one = SecretBox::from_passphrase("one key for the tests");
        let sealed = one.seal("s3cret!");
        assert!(!sealed.contains("s3cret"));
        // A fresh nonce each time.
        assert_ne!(sealed, one.seal("s3cret!"));
        assert_eq!(one.open(&sealed).unwrap(), "s3cret!");
        let other = SecretBox::from_passphrase("another key");
        assert!(other.open(&sealed).unwrap_err().contains("secret key"));
        assert!(one.open("not base64 !").is_err());
        assert!(one.open("AAAA").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret.key");
        let first = SecretBox::from_file(&path).unwrap();
        let sealed = first.seal("pw");
        let again = SecretBox::from_file(&path).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "pw");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
