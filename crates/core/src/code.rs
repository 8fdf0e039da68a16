//! The 6-digit fallback code printed under a resident's QR code, checked offline on the phone.
//!
//! The phone never holds the code, only a salted Argon2id hash of it. There are only a million codes, so the hash
//! must be slow: with the default cost (19 MiB, 2 passes) one guess takes tens of milliseconds, and trying every
//! code from a stolen phone's database costs hours of a core's time instead of a fraction of a second. The centre
//! checks the code again when the event arrives.

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// What the phone stores to check a code: salt, cost and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeHash {
    pub salt: [u8; 16],
    /// Argon2id memory in KiB and passes.
    pub m_kib: u32,
    pub t: u32,
    pub hash: [u8; 32],
}

/// The default cost: OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane).
pub const DEFAULT_M_KIB: u32 = 19 * 1024;
pub const DEFAULT_T: u32 = 2;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a code is exactly 6 digits")]
    NotSixDigits,
    #[error("the hash parameters are not usable: {0}")]
    Params(String),
}

/// Whether `code` is six ASCII digits (what a resident can type).
pub fn is_six_digits(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn argon(m_kib: u32, t: u32) -> Result<Argon2<'static>, CodeError> {
    let params = Params::new(m_kib, t, 1, Some(32)).map_err(|e| CodeError::Params(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `code` with `salt` (16 random bytes the caller supplies) at the given cost.
pub fn hash_code(code: &str, salt: [u8; 16], m_kib: u32, t: u32) -> Result<CodeHash, CodeError> {
    if !is_six_digits(code) {
        return Err(CodeError::NotSixDigits);
    }
    let mut hash = [0u8; 32];
    argon(m_kib, t)?
        .hash_password_into(code.as_bytes(), &salt, &mut hash)
        .map_err(|e| CodeError::Params(e.to_string()))?;
    Ok(CodeHash { salt, m_kib, t, hash })
}

/// Whether `code` is the one `h` was made from. A malformed code is simply not it.
pub fn check_code(code: &str, h: &CodeHash) -> bool {
    let Ok(candidate) = hash_code(code.trim(), h.salt, h.m_kib, h.t) else { return false };
    // Compare without an early exit, so the time taken says nothing about how much matched.
    candidate.hash.iter().zip(h.hash.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests use a small cost; the default cost is the product's.
    const M: u32 = 256;

    #[test]
    fn the_right_code_checks_and_others_do_not() {
        let h = hash_code("482913", [5; 16], M, 1).expect("hashes");
        assert!(check_code("482913", &h));
        assert!(check_code(" 482913 ", &h), "stray spaces from typing are forgiven");
        assert!(!check_code("482914", &h));
        assert!(!check_code("48291", &h));
        assert!(!check_code("48291a", &h));
        assert!(!check_code("", &h));
    }

    #[test]
    fn the_salt_makes_equal_codes_hash_differently() {
        let a = hash_code("000000", [1; 16], M, 1).expect("hashes");
        let b = hash_code("000000", [2; 16], M, 1).expect("hashes");
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn only_six_digits_are_codes() {
        assert_eq!(hash_code("12345", [0; 16], M, 1), Err(CodeError::NotSixDigits));
        assert_eq!(hash_code("１２３４５６", [0; 16], M, 1), Err(CodeError::NotSixDigits), "full-width digits");
        assert!(is_six_digits("012345"));
    }
}
