//! Fixed-size byte strings that travel in events: SHA-256 digests and Ed25519 signatures.
//!
//! In JSON they are lower-case hex strings; in the canonical binary encoding they are raw bytes. One macro makes
//! each of them so that the two encodings can never drift apart between types.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a hex string did not parse into a fixed-size byte string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("expected {expected} hex characters, got {got}")]
    Length { expected: usize, got: usize },
    #[error("not a hex string: {0}")]
    NotHex(String),
}

macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const LEN: usize = $len;

            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            pub fn from_hex(s: &str) -> Result<Self, HexError> {
                if s.len() != $len * 2 {
                    return Err(HexError::Length { expected: $len * 2, got: s.len() });
                }
                let mut out = [0u8; $len];
                hex::decode_to_slice(s, &mut out).map_err(|e| HexError::NotHex(e.to_string()))?;
                Ok(Self(out))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl std::str::FromStr for $name {
            type Err = HexError;
            fn from_str(s: &str) -> Result<Self, HexError> {
                Self::from_hex(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.serialize_str(&self.to_hex())
                } else {
                    serializer.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{} bytes or {} hex characters", $len, $len * 2)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_hex(v).map_err(E::custom)
                    }
                    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<$name, E> {
                        let arr: [u8; $len] =
                            v.try_into().map_err(|_| E::invalid_length(v.len(), &self))?;
                        Ok($name(arr))
                    }
                }
                if deserializer.is_human_readable() {
                    deserializer.deserialize_str(V)
                } else {
                    deserializer.deserialize_bytes(V)
                }
            }
        }
    };
}

fixed_bytes!(
    /// A SHA-256 digest: of a photo's bytes (its content address) or of an event (the device's hash chain).
    Sha256,
    32
);

fixed_bytes!(
    /// An Ed25519 signature over an event's canonical bytes.
    Signature,
    64
);

impl Sha256 {
    /// The all-zero digest that stands for "no previous event" at the start of a chain.
    pub const ZERO: Sha256 = Sha256([0; 32]);

    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_published_test_vector() {
        assert_eq!(Sha256::of(b"abc").to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn hex_round_trips_and_rejects_bad_input_with_a_reason() {
        let h = Sha256::of(b"x");
        assert_eq!(Sha256::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(Sha256::from_hex("abc"), Err(HexError::Length { expected: 64, got: 3 }));
        assert!(matches!(Sha256::from_hex(&"zz".repeat(32)), Err(HexError::NotHex(_))));
    }

    #[test]
    fn json_form_is_a_hex_string() {
        let h = Sha256::of(b"x");
        let json = serde_json::to_string(&h).expect("serialises");
        assert_eq!(json, format!("\"{}\"", h.to_hex()));
        assert_eq!(serde_json::from_str::<Sha256>(&json).expect("parses"), h);
    }
}
