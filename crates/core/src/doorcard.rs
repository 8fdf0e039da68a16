//! Door cards: the pre-printed slips a staff member leaves at a door where nobody was home, so the resident can
//! book the next visit themself.
//!
//! A card is printed before anyone knows which door it will end up at. Its QR code holds a URL,
//! `{origin}/d/{token}`, where `token` is a centre-signed [`TokenKind::DoorCard`] token whose 16-byte subject (the
//! field that holds a task id in a task's token) is the card's own random id. The phone scans the card when it
//! records the failed visit and records which card it left (the `DoorCardLeft` fact, right after the
//! `AttemptFailed` it belongs to); the resident scans the same code with any phone camera and lands on the centre's
//! booking page for that card.
//!
//! In the URL the token is percent-encoded as one path segment (its base45 alphabet has a space, `%`, `+` and `/`).
//! [`card_token`] accepts either form, the URL as a camera app shows it or the bare `JX1:` token, and gives back the
//! bare token, which is what events carry.
//!
//! Parsing never panics, whatever the input, and never checks the signature: [`Keyring::verify_door_card`] does.

use crate::model::TaskKind;
use crate::state::{MAX_DELIVERY_ATTEMPTS, TaskStatus};
use crate::time::{ShanghaiDay, Timestamp};
use crate::token::{Keyring, PREFIX, TokenError, TokenKind};

/// The path of the resident's booking page, under the centre's origin.
pub const PATH: &str = "/d/";

/// A door card whose token verified: the centre printed it and nobody altered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCard {
    /// The bare token (`JX1:…`), as events carry it.
    pub token: String,
    /// The card's random id (the token's subject).
    pub id: uuid::Uuid,
    /// When the card was printed, to the second.
    pub issued: Timestamp,
}

impl VerifiedCard {
    /// The card's short code, printed on it and shown on the phone: the last six hex digits of its id (`ABC-DEF`).
    pub fn short(&self) -> String {
        short(self.id)
    }
}

/// The short code of a card id (`ABC-DEF`), as printed under its QR code.
pub fn short(id: uuid::Uuid) -> String {
    crate::TaskId(id).short()
}

/// Whether a byte may stand for itself inside the URL's path segment.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'$' | b'*')
}

/// `token` as one path segment: every byte but a few safe ones as `%XX`.
pub fn encode_segment(token: &str) -> String {
    let mut out = String::with_capacity(token.len() + 16);
    for b in token.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode_segment`] (and any other percent-encoding of the same text).
pub fn decode_segment(segment: &str) -> Result<String, TokenError> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(|| TokenError::Malformed("a cut-off %-escape".into()))?;
            let text = std::str::from_utf8(hex).map_err(|_| TokenError::Malformed("a bad %-escape".into()))?;
            let b = u8::from_str_radix(text, 16).map_err(|_| TokenError::Malformed("a bad %-escape".into()))?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| TokenError::Malformed("the escaped text is not UTF-8".into()))
}

/// The text of a card's QR code: the booking page's URL under `origin` (`https://centre.example`, or with a path
/// prefix; a trailing `/` is ignored).
pub fn card_url(origin: &str, token: &str) -> String {
    format!("{}{PATH}{}", origin.trim_end_matches('/'), encode_segment(token))
}

/// The bare token of a scanned card text: the URL of [`card_url`] or the `JX1:` token itself. Not checked further:
/// that is [`Keyring::verify_door_card`]'s job. `NotOurs` for text that is neither; `Malformed` for a card URL whose
/// escapes are broken.
pub fn card_token(text: &str) -> Result<String, TokenError> {
    let text = text.trim();
    if text.starts_with(PREFIX) {
        return Ok(text.to_string());
    }
    // A URL: scheme, authority, then the path up to any query or fragment.
    let after_scheme = text.split_once("://").map(|(_, rest)| rest).ok_or(TokenError::NotOurs)?;
    let path = after_scheme.find('/').map(|i| &after_scheme[i..]).ok_or(TokenError::NotOurs)?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let at = path.rfind(PATH).ok_or(TokenError::NotOurs)?;
    let segment = &path[at + PATH.len()..];
    if segment.is_empty() || segment.contains('/') {
        return Err(TokenError::NotOurs);
    }
    let token = decode_segment(segment)?;
    if !token.starts_with(PREFIX) {
        return Err(TokenError::NotOurs);
    }
    Ok(token)
}

impl Keyring {
    /// Reads a scanned card text ([`card_token`]) and checks that it is a door card the centre printed, signed with a
    /// key in force at `now`.
    pub fn verify_door_card(&self, text: &str, now: Timestamp) -> Result<VerifiedCard, TokenError> {
        let token = card_token(text)?;
        let t = self.verify(&token, now)?;
        if t.kind != TokenKind::DoorCard {
            return Err(TokenError::WrongKind { expected: TokenKind::DoorCard, found: t.kind });
        }
        Ok(VerifiedCard { token, id: t.task.0, issued: t.issued })
    }
}

/// Evenings a resident can choose from, starting tomorrow (tonight's round may already be under way).
pub const BOOKABLE_EVENINGS: i64 = 7;
/// A booked visit is due from 19:00 Shanghai time of the evening chosen.
const EVENING_FROM_MS: i64 = 19 * 3_600_000;

/// The evenings a resident may choose at `now`: tomorrow and the [`BOOKABLE_EVENINGS`]` - 1` after it.
pub fn evenings(now: Timestamp) -> Vec<ShanghaiDay> {
    let today = ShanghaiDay::of(now);
    (1..=BOOKABLE_EVENINGS).map(|n| today.plus(n)).collect()
}

/// When a visit booked for `evening` is due: 19:00 Shanghai time that day.
pub fn due_at(evening: ShanghaiDay) -> Timestamp {
    Timestamp(evening.span().0 + EVENING_FROM_MS)
}

/// Why the visit a card was left at can take no booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotBookable {
    Cancelled,
    /// Done with: delivered, collected, handed in or returned.
    Settled(TaskStatus),
    /// A delivery whose visits failed [`MAX_DELIVERY_ATTEMPTS`] times: the packet goes back to the centre.
    Returning,
}

/// Whether a task of `kind`, `status` and `attempts` failed visits can still take a booking.
pub fn bookable(kind: TaskKind, status: TaskStatus, attempts: u32) -> Result<(), NotBookable> {
    match status {
        TaskStatus::Cancelled => Err(NotBookable::Cancelled),
        s if s.is_settled() => Err(NotBookable::Settled(s)),
        _ if kind == TaskKind::Delivery && attempts >= MAX_DELIVERY_ATTEMPTS => Err(NotBookable::Returning),
        _ => Ok(()),
    }
}

/// What a card's page says is waiting (nothing about the resident): the subject of the card, in zh-CN.
pub fn subject_zh(kind: TaskKind, item: &str) -> String {
    match kind {
        TaskKind::Delivery => format!("您的「{item}」回执"),
        TaskKind::Pickup => format!("「{item}」上门收件"),
    }
}

/// A day as a resident reads it on the booking page: `12月3日（星期四）`.
pub fn zh_date(d: ShanghaiDay) -> String {
    let s = d.to_string();
    let month: u32 = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = s.get(8..10).and_then(|m| m.parse().ok()).unwrap_or(0);
    // 1970-01-01 was a Thursday.
    let weekday = ["一", "二", "三", "四", "五", "六", "日"][(d.0 + 3).rem_euclid(7) as usize];
    format!("{month}月{day}日（星期{weekday}）")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskId;
    use crate::token::{TokenSigner, base45_encode};
    use proptest::prelude::*;

    #[test]
    fn the_evening_is_seven_pm_in_shanghai() {
        let d = ShanghaiDay::parse("2026-12-03").expect("a day");
        // 2026-12-03T19:00+08:00 is 11:00Z.
        assert_eq!(due_at(d), Timestamp(1_796_295_600_000));
        assert_eq!(zh_date(d), "12月3日（星期四）");
        // Late in the evening of the 2nd (Shanghai), the choice starts on the 3rd.
        let late = Timestamp(due_at(ShanghaiDay::parse("2026-12-02").expect("a day")).0 + 4 * 3_600_000);
        let offered = evenings(late);
        assert_eq!(offered.len(), 7);
        assert_eq!((offered[0].to_string(), offered[6].to_string()), ("2026-12-03".into(), "2026-12-09".into()));
    }

    const NOW: Timestamp = Timestamp(1_796_032_800_000);

    fn card(n: u128) -> (Keyring, String, uuid::Uuid) {
        let signer = TokenSigner::from_secret(2, [5; 32]);
        let id = uuid::Uuid::from_u128(n);
        (Keyring(vec![signer.public()]), signer.issue(TokenKind::DoorCard, TaskId(id), NOW), id)
    }

    #[test]
    fn a_card_verifies_from_its_url_and_from_its_bare_token() {
        let (ring, token, id) = card(0xABCDEF);
        let url = card_url("http://127.0.0.1:7878/", &token);
        assert!(url.starts_with("http://127.0.0.1:7878/d/JX1:"), "{url}");
        assert!(!url[7..].contains(' ') && url.matches('/').count() == 4, "one path segment: {url}");
        for text in [url.as_str(), token.as_str(), &format!("  {url}\n")] {
            let c = ring.verify_door_card(text, NOW).expect("verifies");
            assert_eq!((c.token.as_str(), c.id, c.issued), (token.as_str(), id, NOW));
        }
        assert_eq!(short(id), "ABC-DEF");
        // Behind a path prefix, with a query a camera app might add.
        let prefixed = format!("{}?from=camera", card_url("https://jx.example.gov.cn/huajing", &token));
        assert_eq!(card_token(&prefixed), Ok(token));
    }

    #[test]
    fn each_way_of_being_wrong_has_its_own_error() {
        let (ring, token, _) = card(7);
        assert_eq!(card_token("https://example.com/pay?x=1"), Err(TokenError::NotOurs));
        assert_eq!(card_token("hello"), Err(TokenError::NotOurs));
        assert_eq!(card_token("http://x/d/"), Err(TokenError::NotOurs));
        assert_eq!(card_token("http://x/d/HELLO"), Err(TokenError::NotOurs));
        assert!(matches!(card_token("http://x/d/JX1:AB%2"), Err(TokenError::Malformed(_))));
        assert!(matches!(card_token("http://x/d/JX1:%FF%FE"), Err(TokenError::Malformed(_))));
        let packet = TokenSigner::from_secret(2, [5; 32]).issue(TokenKind::PacketLabel, TaskId::v7(1, [1; 10]), NOW);
        assert_eq!(
            ring.verify_door_card(&packet, NOW),
            Err(TokenError::WrongKind { expected: TokenKind::DoorCard, found: TokenKind::PacketLabel })
        );
        let forged = TokenSigner::from_secret(2, [6; 32]).issue(TokenKind::DoorCard, TaskId::v7(1, [1; 10]), NOW);
        assert_eq!(ring.verify_door_card(&card_url("http://x", &forged), NOW), Err(TokenError::BadSignature));
        assert!(ring.verify_door_card(&card_url("http://x", &token), NOW).is_ok());
    }

    proptest! {
        /// Any payload's token survives the trip through the URL, whatever the origin.
        #[test]
        fn the_url_form_round_trips(bytes in prop::collection::vec(any::<u8>(), 1..100),
                                    host in "[a-z0-9.-]{1,20}", port in proptest::option::of(1u16..),
                                    prefix in "(/[a-z0-9]{1,8}){0,2}", slash in any::<bool>()) {
            let token = format!("{PREFIX}{}", base45_encode(&bytes));
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let origin = format!("https://{host}{port}{prefix}{}", if slash { "/" } else { "" });
            let url = card_url(&origin, &token);
            prop_assert_eq!(card_token(&url), Ok(token.clone()));
            prop_assert_eq!(card_token(&token), Ok(token.clone()));
            prop_assert_eq!(decode_segment(&encode_segment(&token)), Ok(token));
        }

        /// Scanned text is anything a QR code can hold: an answer or an error, never a panic.
        #[test]
        fn parsing_never_panics(s in ".{0,200}", tail in ".{0,80}") {
            let ring = Keyring(vec![TokenSigner::from_secret(1, [1; 32]).public()]);
            let _ = card_token(&s);
            let _ = decode_segment(&s);
            let _ = ring.verify_door_card(&s, NOW);
            let _ = ring.verify_door_card(&format!("http://h/d/{tail}"), NOW);
            let _ = ring.verify_door_card(&format!("http://h/d/JX1:{tail}"), NOW);
        }
    }
}
