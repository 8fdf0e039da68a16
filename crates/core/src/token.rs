//! Signed QR tokens: the packet label's code and the resident's confirmation code, made by the centre and checked
//! offline on the phone with the centre's public keys.
//!
//! Text form: `JX1:` followed by the base45 (RFC 9285) encoding of an 88-byte payload, so the whole code is in the
//! QR alphanumeric alphabet and fits a version-6 symbol at error-correction level M:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version (1) |
//! | 1 | kind (1 packet label, 2 resident confirmation, 3 door card, 4 household card) |
//! | 16 | task id (a household card: its subject, see [`HouseholdCard`]) |
//! | 4 | issue time, seconds since 2020-01-01T00:00:00Z, big-endian |
//! | 2 | key id, big-endian |
//! | 64 | Ed25519 signature over `b"JXQR"` + the 24 bytes above |
//!
//! Parsing never panics, whatever the input, and every way a code can be wrong has its own error.

use crate::ids::{ResidentId, TaskId};
use crate::time::Timestamp;
use ed25519_dalek::{Signer, Verifier};

pub const PREFIX: &str = "JX1:";
const VERSION: u8 = 1;
const SIGNED_LEN: usize = 24;
const PAYLOAD_LEN: usize = SIGNED_LEN + 64;
/// 2020-01-01T00:00:00Z in Unix seconds.
const EPOCH_2020: i64 = 1_577_836_800;

/// What a code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// The label on a packet: proves the staff member holds the right packet.
    PacketLabel,
    /// The resident's own confirmation code for a task.
    ResidentConfirmation,
    /// A household card (户卡) kept at home by a resident without a smartphone, for every task of theirs: its
    /// subject is a [`HouseholdCard`], not a task id. Byte 4.
    HouseholdCard,
    /// A pre-printed door card (see [`crate::doorcard`]) left at a failed visit. It names no task: its 16-byte
    /// subject (the [`Token::task`] field) is the card's own random id, made when the card was printed; the task it
    /// belongs to is learnt from the phone's `DoorCardLeft` fact. Byte 3.
    DoorCard,
}

impl TokenKind {
    fn byte(self) -> u8 {
        match self {
            TokenKind::PacketLabel => 1,
            TokenKind::ResidentConfirmation => 2,
            TokenKind::DoorCard => 3,
            TokenKind::HouseholdCard => 4,
        }
    }

    fn from_byte(b: u8) -> Option<TokenKind> {
        match b {
            1 => Some(TokenKind::PacketLabel),
            2 => Some(TokenKind::ResidentConfirmation),
            3 => Some(TokenKind::DoorCard),
            4 => Some(TokenKind::HouseholdCard),
            _ => None,
        }
    }
}

/// A verified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub task: TaskId,
    /// Issue time, to the second.
    pub issued: Timestamp,
    pub key_id: u16,
}

/// Why a scanned code is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this code is not one of the centre's (no JX1: prefix)")]
    NotOurs,
    #[error("the code is damaged or incomplete: {0}")]
    Malformed(String),
    #[error("the code was signed with key {0}, which this phone does not know; sync to get the centre's keys")]
    UnknownKey(u16),
    #[error("the code was signed with key {0}, which was retired; ask the centre for a new code")]
    RetiredKey(u16),
    #[error("the code's signature is not the centre's: it was altered or forged")]
    BadSignature,
    #[error("this is a {found:?} code, but a {expected:?} code is needed here")]
    WrongKind { expected: TokenKind, found: TokenKind },
    #[error("this code is for task {found}, not for this task ({expected})")]
    WrongTask { expected: TaskId, found: TaskId },
}

/// One of the centre's public keys as phones hold it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CentreKey {
    pub id: u16,
    pub public: [u8; 32],
    /// Codes checked after this moment with this key are refused.
    pub retired_after: Option<Timestamp>,
}

/// The centre's keys a phone verifies with (several at once, for rotation).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Keyring(pub Vec<CentreKey>);

/// The centre's private signing key for codes.
pub struct TokenSigner {
    pub id: u16,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSigner(key {})", self.id)
    }
}

impl TokenSigner {
    pub fn from_secret(id: u16, secret: [u8; 32]) -> TokenSigner {
        TokenSigner { id, key: ed25519_dalek::SigningKey::from_bytes(&secret) }
    }

    /// The secret half, for the centre to keep in its database. Never sent anywhere.
    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn public(&self) -> CentreKey {
        CentreKey { id: self.id, public: self.key.verifying_key().to_bytes(), retired_after: None }
    }

    /// The code's text for `task`, issued at `at`.
    pub fn issue(&self, kind: TokenKind, task: TaskId, at: Timestamp) -> String {
        let mut payload = Vec::with_capacity(PAYLOAD_LEN);
        payload.push(VERSION);
        payload.push(kind.byte());
        payload.extend_from_slice(task.0.as_bytes());
        let secs = (at.millis().div_euclid(1000) - EPOCH_2020).clamp(0, u32::MAX as i64) as u32;
        payload.extend_from_slice(&secs.to_be_bytes());
        payload.extend_from_slice(&self.id.to_be_bytes());
        let sig = self.key.sign(&signed_message(&payload));
        payload.extend_from_slice(&sig.to_bytes());
        format!("{PREFIX}{}", base45_encode(&payload))
    }
}

fn signed_message(fields: &[u8]) -> Vec<u8> {
    let mut m = b"JXQR".to_vec();
    m.extend_from_slice(&fields[..SIGNED_LEN]);
    m
}

impl Keyring {
    /// Reads and checks a code: that it is the centre's, unaltered, signed with a key still in force at `now`.
    pub fn verify(&self, text: &str, now: Timestamp) -> Result<Token, TokenError> {
        let body = text.trim().strip_prefix(PREFIX).ok_or(TokenError::NotOurs)?;
        let payload = base45_decode(body).map_err(TokenError::Malformed)?;
        if payload.len() != PAYLOAD_LEN {
            return Err(TokenError::Malformed(format!("{} bytes instead of {PAYLOAD_LEN}", payload.len())));
        }
        if payload[0] != VERSION {
            return Err(TokenError::Malformed(format!("format version {}", payload[0])));
        }
        let kind = TokenKind::from_byte(payload[1])
            .ok_or_else(|| TokenError::Malformed(format!("unknown code kind {}", payload[1])))?;
        let task_bytes: [u8; 16] = payload[2..18].try_into().map_err(|_| TokenError::Malformed("task".into()))?;
        let secs = u32::from_be_bytes(payload[18..22].try_into().map_err(|_| TokenError::Malformed("time".into()))?);
        let key_id = u16::from_be_bytes(payload[22..24].try_into().map_err(|_| TokenError::Malformed("key".into()))?);
        let sig: [u8; 64] = payload[24..].try_into().map_err(|_| TokenError::Malformed("signature".into()))?;
        let key = self.0.iter().find(|k| k.id == key_id).ok_or(TokenError::UnknownKey(key_id))?;
        if key.retired_after.is_some_and(|r| now > r) {
            return Err(TokenError::RetiredKey(key_id));
        }
        let public = ed25519_dalek::VerifyingKey::from_bytes(&key.public).map_err(|_| TokenError::BadSignature)?;
        public
            .verify(&signed_message(&payload), &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| TokenError::BadSignature)?;
        Ok(Token {
            kind,
            task: TaskId(uuid::Uuid::from_bytes(task_bytes)),
            issued: Timestamp((EPOCH_2020 + secs as i64) * 1000),
            key_id,
        })
    }

    /// [`Keyring::verify`], then checks that the code is of the kind and for the task the handoff expects.
    pub fn verify_for(&self, text: &str, kind: TokenKind, task: TaskId, now: Timestamp) -> Result<Token, TokenError> {
        let t = self.verify(text, now)?;
        if t.kind != kind {
            return Err(TokenError::WrongKind { expected: kind, found: t.kind });
        }
        if t.task != task {
            return Err(TokenError::WrongTask { expected: task, found: t.task });
        }
        Ok(t)
    }
}

/// A household card (户卡): printed by the centre for a resident (a household) to keep at home, shown at the door
/// for any of their tasks. Its token is a [`TokenKind::HouseholdCard`] token whose 16-byte subject (the field that
/// holds the task id in a task's token) is:
///
/// | bytes | field |
/// |---|---|
/// | 4 | `HHC1`: magic and subject version |
/// | 4 | resident id, big-endian |
/// | 4 | card serial, big-endian: 1 for the first card, one more for each reissue |
/// | 4 | zero (reserved) |
///
/// The subject is inside the signed bytes, so neither the resident nor the serial can be altered. A reissue makes
/// a new serial; the old card stops verifying wherever the current serial is on file (the centre, and each phone
/// once it has pulled the resident's tasks again).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct HouseholdCard {
    pub resident: ResidentId,
    pub serial: u32,
}

const HOUSEHOLD_MAGIC: &[u8; 4] = b"HHC1";

impl HouseholdCard {
    /// The token subject this card is signed over.
    pub fn subject(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(HOUSEHOLD_MAGIC);
        b[4..8].copy_from_slice(&self.resident.0.to_be_bytes());
        b[8..12].copy_from_slice(&self.serial.to_be_bytes());
        b
    }

    /// Reads a subject back; anything [`HouseholdCard::subject`] cannot have made is refused.
    pub fn from_subject(b: &[u8; 16]) -> Result<HouseholdCard, TokenError> {
        if &b[..4] != HOUSEHOLD_MAGIC {
            return Err(TokenError::Malformed("not a household card's subject".into()));
        }
        if b[12..] != [0u8; 4] {
            return Err(TokenError::Malformed("a household card's reserved bytes are not zero".into()));
        }
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let card = HouseholdCard { resident: ResidentId(word(4)), serial: word(8) };
        if card.serial == 0 {
            return Err(TokenError::Malformed("a household card's serial starts at 1".into()));
        }
        Ok(card)
    }
}

impl TokenSigner {
    /// The token printed on a household card, issued at `at`.
    pub fn issue_household(&self, card: HouseholdCard, at: Timestamp) -> String {
        // The subject travels where a task's token carries the task id.
        self.issue(TokenKind::HouseholdCard, TaskId(uuid::Uuid::from_bytes(card.subject())), at)
    }
}

impl Keyring {
    /// [`Keyring::verify`], then checks that the code is a household card and reads which card it is. Whether that
    /// card is the resident's current one is for the caller, who knows the serial on file.
    pub fn verify_household(&self, text: &str, now: Timestamp) -> Result<HouseholdCard, TokenError> {
        let t = self.verify(text, now)?;
        if t.kind != TokenKind::HouseholdCard {
            return Err(TokenError::WrongKind { expected: TokenKind::HouseholdCard, found: t.kind });
        }
        HouseholdCard::from_subject(t.task.0.as_bytes())
    }
}

/// The base45 alphabet (RFC 9285): exactly the QR code alphanumeric characters.
const B45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

pub fn base45_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 2);
    for chunk in bytes.chunks(2) {
        let mut n = chunk.iter().fold(0u32, |acc, &b| acc * 256 + b as u32);
        let digits = if chunk.len() == 2 { 3 } else { 2 };
        for _ in 0..digits {
            out.push(B45[(n % 45) as usize] as char);
            n /= 45;
        }
    }
    out
}

pub fn base45_decode(text: &str) -> Result<Vec<u8>, String> {
    let values: Vec<u32> = text
        .bytes()
        .map(|c| {
            B45.iter()
                .position(|&a| a == c)
                .map(|p| p as u32)
                .ok_or_else(|| format!("character {:?} is not base45", c as char))
        })
        .collect::<Result<_, _>>()?;
    if values.len() % 3 == 1 {
        return Err(format!("{} characters cannot be base45", values.len()));
    }
    let mut out = Vec::with_capacity(values.len() * 2 / 3);
    for group in values.chunks(3) {
        let n = group.iter().rev().fold(0u32, |acc, &v| acc * 45 + v);
        if group.len() == 3 {
            if n > 0xFFFF {
                return Err("a base45 group is out of range".into());
            }
            out.extend_from_slice(&[(n >> 8) as u8, n as u8]);
        } else {
            if n > 0xFF {
                return Err("the last base45 group is out of range".into());
            }
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn task(n: u128) -> TaskId {
        TaskId(uuid::Uuid::from_u128(n))
    }

    const NOW: Timestamp = Timestamp(1_796_032_800_000);

    #[test]
    fn base45_matches_the_rfc_examples() {
        assert_eq!(base45_encode(b"AB"), "BB8");
        assert_eq!(base45_encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45_encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45_decode("QED8WEX0").expect("decodes"), b"ietf!");
        assert!(base45_decode("GGW").is_err(), "65535 + 1 is out of range");
    }

    #[test]
    fn a_code_round_trips_and_stays_small() {
        let signer = TokenSigner::from_secret(3, [1; 32]);
        let ring = Keyring(vec![signer.public()]);
        let text = signer.issue(TokenKind::PacketLabel, task(42), NOW);
        assert!(text.len() <= 140, "{} characters", text.len());
        assert!(text.bytes().all(|c| B45.contains(&c) || c == b'J' || c == b'X'));
        let t = ring.verify_for(&text, TokenKind::PacketLabel, task(42), NOW).expect("valid");
        assert_eq!((t.kind, t.task, t.key_id, t.issued), (TokenKind::PacketLabel, task(42), 3, NOW));
    }

    #[test]
    fn each_way_of_being_wrong_has_its_own_error() {
        let signer = TokenSigner::from_secret(3, [1; 32]);
        let ring = Keyring(vec![signer.public()]);
        let text = signer.issue(TokenKind::PacketLabel, task(42), NOW);
        assert_eq!(ring.verify("https://example.com/x", NOW), Err(TokenError::NotOurs));
        assert!(matches!(ring.verify("JX1:!!", NOW), Err(TokenError::Malformed(_))));
        assert!(matches!(ring.verify(&text[..text.len() - 3], NOW), Err(TokenError::Malformed(_))));
        assert_eq!(
            ring.verify_for(&text, TokenKind::ResidentConfirmation, task(42), NOW),
            Err(TokenError::WrongKind { expected: TokenKind::ResidentConfirmation, found: TokenKind::PacketLabel })
        );
        assert_eq!(
            ring.verify_for(&text, TokenKind::PacketLabel, task(7), NOW),
            Err(TokenError::WrongTask { expected: task(7), found: task(42) })
        );
        let stranger = TokenSigner::from_secret(9, [2; 32]).issue(TokenKind::PacketLabel, task(42), NOW);
        assert_eq!(ring.verify(&stranger, NOW), Err(TokenError::UnknownKey(9)));
        let forged = TokenSigner::from_secret(3, [2; 32]).issue(TokenKind::PacketLabel, task(42), NOW);
        assert_eq!(ring.verify(&forged, NOW), Err(TokenError::BadSignature));
        // One character changed inside the task id: still base45, but no longer what the centre signed.
        let mut chars: Vec<char> = text.chars().collect();
        chars[10] = if chars[10] == '0' { '1' } else { '0' };
        let altered: String = chars.into_iter().collect();
        assert!(matches!(ring.verify(&altered, NOW), Err(TokenError::BadSignature | TokenError::Malformed(_))));
    }

    #[test]
    fn key_rotation_keeps_old_codes_until_their_key_retires() {
        let old = TokenSigner::from_secret(1, [1; 32]);
        let new = TokenSigner::from_secret(2, [2; 32]);
        let retire = Timestamp(NOW.millis() + 86_400_000);
        let ring = Keyring(vec![CentreKey { retired_after: Some(retire), ..old.public() }, new.public()]);
        let old_code = old.issue(TokenKind::ResidentConfirmation, task(1), NOW);
        let new_code = new.issue(TokenKind::ResidentConfirmation, task(1), NOW);
        assert!(ring.verify(&old_code, NOW).is_ok());
        assert!(ring.verify(&new_code, NOW).is_ok());
        let later = Timestamp(retire.millis() + 1);
        assert_eq!(ring.verify(&old_code, later), Err(TokenError::RetiredKey(1)));
        assert!(ring.verify(&new_code, later).is_ok());
    }

    #[test]
    fn a_household_card_round_trips_and_is_not_a_task_code() {
        let signer = TokenSigner::from_secret(3, [1; 32]);
        let ring = Keyring(vec![signer.public()]);
        let card = HouseholdCard { resident: ResidentId(1234), serial: 7 };
        let text = signer.issue_household(card, NOW);
        assert!(text.len() <= 140, "{} characters", text.len());
        assert_eq!(ring.verify_household(&text, NOW), Ok(card));
        assert_eq!(ring.verify(&text, NOW).map(|t| t.kind), Ok(TokenKind::HouseholdCard));
        // The kind byte on the wire is 4.
        let payload = base45_decode(text.strip_prefix(PREFIX).expect("prefix")).expect("base45");
        assert_eq!(payload[1], 4);
        assert_eq!(&payload[2..18], &card.subject());
        // A task's code is not a card, and a card is not any task's confirmation.
        let resident = signer.issue(TokenKind::ResidentConfirmation, task(42), NOW);
        assert_eq!(
            ring.verify_household(&resident, NOW),
            Err(TokenError::WrongKind { expected: TokenKind::HouseholdCard, found: TokenKind::ResidentConfirmation })
        );
        assert!(matches!(
            ring.verify_for(&text, TokenKind::ResidentConfirmation, task(42), NOW),
            Err(TokenError::WrongKind { .. })
        ));
        // A card-kind token over a subject that is not a card's is refused as malformed.
        let odd = signer.issue(TokenKind::HouseholdCard, task(42), NOW);
        assert!(matches!(ring.verify_household(&odd, NOW), Err(TokenError::Malformed(_))));
        let forged = TokenSigner::from_secret(3, [2; 32]).issue_household(card, NOW);
        assert_eq!(ring.verify_household(&forged, NOW), Err(TokenError::BadSignature));
    }

    proptest! {
        #[test]
        fn household_subjects_round_trip(resident in any::<u32>(), serial in 1u32..) {
            let card = HouseholdCard { resident: ResidentId(resident), serial };
            prop_assert_eq!(HouseholdCard::from_subject(&card.subject()), Ok(card));
        }

        /// Any 16 bytes read as a card or a clear error, never a panic; whatever reads re-encodes to the same bytes.
        #[test]
        fn household_subject_parsing_is_total_and_exact(bytes in any::<[u8; 16]>(), magic in any::<bool>()) {
            let mut b = bytes;
            if magic {
                b[..4].copy_from_slice(HOUSEHOLD_MAGIC);
                b[12..].copy_from_slice(&[0; 4]);
            }
            if let Ok(card) = HouseholdCard::from_subject(&b) {
                prop_assert_eq!(card.subject(), b);
            }
        }

        #[test]
        fn parsing_never_panics_on_any_text(s in ".{0,200}") {
            let ring = Keyring(vec![TokenSigner::from_secret(1, [1; 32]).public()]);
            let _ = ring.verify(&s, NOW);
            let _ = ring.verify(&format!("{PREFIX}{s}"), NOW);
        }

        #[test]
        fn parsing_never_panics_on_any_base45_payload(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
            let ring = Keyring(vec![TokenSigner::from_secret(1, [1; 32]).public()]);
            let r = ring.verify(&format!("{PREFIX}{}", base45_encode(&bytes)), NOW);
            prop_assert!(r.is_err(), "random bytes are never a valid code");
        }

        #[test]
        fn base45_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base45_decode(&base45_encode(&bytes)), Ok(bytes));
        }
    }
}
