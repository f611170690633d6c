//! Password hashing with Argon2id (the RustCrypto `argon2` crate, its default parameters:
//! 19 MiB, 2 passes), as PHC strings in `users.password_hash`.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on the blocking pool and at
//! most [`MAX_CONCURRENT`] at once: a flood of sign-in attempts queues instead of exhausting
//! memory.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub const MIN_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing it costs nothing extra.
pub const MAX_BYTES: usize = 1024;
const MAX_CONCURRENT: usize = 4;

static HASHING: Semaphore = Semaphore::const_new(MAX_CONCURRENT);

/// Checked against when the e-mail is unknown or has no password, so that a wrong e-mail
/// takes as long as a wrong password and timing does not tell which accounts exist.
static DECOY: LazyLock<String> = LazyLock::new(|| hash_now(&super::random_token(16)));

/// Refuses passwords that are too short or too long.
pub fn check_rules(password: &str, param: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_CHARS || password.len() > MAX_BYTES {
        return Err(ApiError::invalid(
            format!(
                "a password needs at least {MIN_CHARS} characters (and at most {MAX_BYTES} bytes)"
            ),
            Some(param),
        ));
    }
    Ok(())
}

fn hash_now(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any input")
        .to_string()
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub async fn hash(password: &str) -> Result<String, ApiError> {
    let _permit = HASHING.acquire().await.map_err(ApiError::internal)?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(ApiError::internal)
}

/// Whether `password` matches `hash`; with no hash, checks against a decoy and says no.
pub async fn verify(password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
    let _permit = HASHING.acquire().await.map_err(ApiError::internal)?;
    let password = password.to_string();
    let hash = hash.map(str::to_string);
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_now(&password, &hash),
        None => {
            let _ = verify_now(&password, &DECOY);
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse").await.unwrap();
        let b = hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse", Some(&a)).await.unwrap());
        assert!(!verify("correct horse!", Some(&a)).await.unwrap());
        assert!(!verify("correct horse", None).await.unwrap());
        assert!(!verify("x", Some("not a phc string")).await.unwrap());
    }

    #[test]
    fn rules() {
        assert!(check_rules("1234567", "password").is_err());
        assert!(check_rules("12345678", "password").is_ok());
        assert!(check_rules(&"x".repeat(MAX_BYTES + 1), "password").is_err());
    }
}
