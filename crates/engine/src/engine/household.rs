//! The resident's confirmation for a resident without a phone: their household card (户卡) or its code, a family
//! member's own code, or a witness photo. Each is checked offline against what the last pull left on the phone (the
//! card in force, the family members on file) and refused on the spot with why; the draft stays at its step. The
//! proof policy checks the whole handoff again when it is recorded, and the centre once more when it arrives.

use super::{Engine, qr_problem};
use crate::draft::Draft;
use crate::protocol::{EngineError, ProxyChoice, QrProblem};
use jx_core::event::Confirmation;
use jx_core::model::{ProofRequirement, TaskSheet};

/// Longest witness name, in characters ("邻居 王阿姨, 3号楼201").
pub const MAX_WITNESS_CHARS: usize = 40;

/// A typed code without the spaces people type, if it is six digits.
fn six_digits(code: &str) -> Result<String, EngineError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if jx_core::code::is_six_digits(&code) { Ok(code) } else { Err(EngineError::CodeMalformed) }
}

/// The household ways stand in for the resident's own confirmation only: a pickup's authorisation stays their
/// signature.
fn confirming(d: &Draft) -> Result<(), EngineError> {
    if d.requires.contains(&ProofRequirement::ResidentConfirmation) {
        Ok(())
    } else {
        Err(EngineError::NotNow { detail: "this task needs the resident's own signature, not a confirmation".into() })
    }
}

/// The family members the screen may offer for `sheet`'s task.
pub fn choices(sheet: &TaskSheet) -> Vec<ProxyChoice> {
    sheet.proxies.iter().map(|p| ProxyChoice { id: p.id, name: p.name.clone(), relation: p.relation.clone() }).collect()
}

impl Engine {
    /// A photo of the household card: the centre's card, of this task's resident, the one in force.
    pub(super) fn scan_household(&self, d: &mut Draft, photo: &[u8]) -> Result<(), EngineError> {
        confirming(d)?;
        let texts = jx_proof::scan::decode_photo(photo).map_err(|e| EngineError::BadPhoto { detail: e.to_string() })?;
        let Some(text) = texts.iter().find(|t| t.starts_with(jx_core::token::PREFIX)) else {
            return Err(if texts.is_empty() {
                EngineError::NoCodeInPhoto
            } else {
                EngineError::WrongQr { problem: QrProblem::NotOurs }
            });
        };
        let keyring = self.with(|s| s.keyring())?;
        let card = keyring
            .verify_household(text, jx_store::now())
            .map_err(|e| EngineError::WrongQr { problem: qr_problem(e, |_| false) })?;
        let sheet = self.sheet(d.task)?;
        if card.resident != sheet.task.resident {
            return Err(EngineError::CardOtherResident);
        }
        let current = sheet.household.ok_or(EngineError::NoHouseholdOnFile)?.serial;
        match card.serial.cmp(&current) {
            std::cmp::Ordering::Less => return Err(EngineError::CardReplaced { card: card.serial, current }),
            std::cmp::Ordering::Greater => return Err(EngineError::CardNewer { card: card.serial, known: current }),
            std::cmp::Ordering::Equal => {}
        }
        d.confirmation = Some(Confirmation::HouseholdCard { token: text.clone() });
        Ok(())
    }

    /// The 6-digit code under the household card's QR.
    pub(super) fn type_household_code(&self, d: &mut Draft, code: &str) -> Result<(), EngineError> {
        confirming(d)?;
        let code = six_digits(code)?;
        let card = self.sheet(d.task)?.household.ok_or(EngineError::NoHouseholdOnFile)?;
        if !jx_core::code::check_code(&code, &card.code) {
            return Err(EngineError::HouseholdCodeWrong);
        }
        d.confirmation = Some(Confirmation::HouseholdCode { code });
        Ok(())
    }

    /// A family member on file, with their own code; the handoff records who received it.
    pub(super) fn proxy_code(&self, d: &mut Draft, proxy: u32, code: &str) -> Result<(), EngineError> {
        confirming(d)?;
        let code = six_digits(code)?;
        let sheet = self.sheet(d.task)?;
        let p = sheet.proxies.into_iter().find(|p| p.id == proxy).ok_or(EngineError::NoSuchProxy { proxy })?;
        if !jx_core::code::check_code(&code, &p.code) {
            return Err(EngineError::ProxyCodeWrong);
        }
        d.confirmation = Some(Confirmation::Proxy { proxy, name: p.name, relation: p.relation, code });
        Ok(())
    }

    /// A photo of the handoff with a named witness, kept like any photo.
    pub(super) fn witness(&self, d: &mut Draft, photo: &[u8], witness: &str) -> Result<(), EngineError> {
        confirming(d)?;
        let witness = witness.trim();
        if witness.is_empty() || witness.chars().count() > MAX_WITNESS_CHARS || witness.chars().any(char::is_control) {
            return Err(EngineError::WitnessName);
        }
        let p = self.keep_photo(photo)?;
        d.confirmation = Some(Confirmation::Witness { photo: p.sha256, witness: witness.to_string() });
        Ok(())
    }
}
