//! Device signatures: every event a phone records is signed with the phone's Ed25519 key over the envelope's
//! canonical bytes ([`Envelope::signed_bytes`]), and the centre verifies it with the public key enrolled for that
//! device. The caller supplies the key's 32 secret bytes (core makes no randomness of its own).

use crate::bytes::Signature;
use crate::event::Envelope;
use ed25519_dalek::{Signer, Verifier};

/// A phone's signing key. Its secret never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct DeviceKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey(public {})", self.public_hex())
    }
}

impl DeviceKey {
    pub fn from_secret(secret: [u8; 32]) -> DeviceKey {
        DeviceKey(ed25519_dalek::SigningKey::from_bytes(&secret))
    }

    pub fn secret(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The public key as 64 hex characters, as enrolment sends it.
    pub fn public_hex(&self) -> String {
        hex::encode(self.public())
    }

    /// Signs the envelope in place.
    pub fn sign(&self, e: &mut Envelope) {
        e.signature = Some(Signature(self.0.sign(&e.signed_bytes()).to_bytes()));
    }
}

/// Why an event's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the event is not signed")]
    Missing,
    #[error("the enrolled public key is not an Ed25519 key")]
    BadKey,
    #[error("the signature does not match the event: it was altered or signed by another key")]
    Invalid,
}

/// Checks `e`'s signature against a device's public key.
pub fn verify(e: &Envelope, public: &[u8; 32]) -> Result<(), SignatureError> {
    let sig = e.signature.ok_or(SignatureError::Missing)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| SignatureError::BadKey)?;
    key.verify(&e.signed_bytes(), &ed25519_dalek::Signature::from_bytes(&sig.0)).map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Sha256;
    use crate::event::{Actor, EventPayload};
    use crate::ids::{DeviceId, EventId, StaffId, TaskId};
    use crate::time::Timestamp;
    use uuid::Uuid;

    fn event() -> Envelope {
        Envelope {
            id: EventId(Uuid::from_u128(1)),
            task: TaskId(Uuid::from_u128(2)),
            actor: Actor::Device { device: DeviceId(Uuid::from_u128(3)), staff: StaffId(4) },
            seq: 1,
            prev: Sha256::ZERO,
            at: Timestamp(5),
            payload: EventPayload::Returned { note: "x".into() },
            signature: None,
        }
    }

    #[test]
    fn a_signed_event_verifies_and_any_change_breaks_it() {
        let key = DeviceKey::from_secret([7; 32]);
        let mut e = event();
        assert_eq!(verify(&e, &key.public()), Err(SignatureError::Missing));
        key.sign(&mut e);
        assert_eq!(verify(&e, &key.public()), Ok(()));
        let mut tampered = e.clone();
        tampered.seq = 2;
        assert_eq!(verify(&tampered, &key.public()), Err(SignatureError::Invalid));
        let other = DeviceKey::from_secret([8; 32]);
        assert_eq!(verify(&e, &other.public()), Err(SignatureError::Invalid));
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let key = DeviceKey::from_secret([9; 32]);
        let text = format!("{key:?}");
        assert!(!text.contains(&hex::encode(key.secret())));
        assert!(text.contains(&key.public_hex()));
    }
}
