//! The device store's behaviour, on real SQLite files in temporary folders.

mod common;

use common::*;
use jx_core::event::{Confirmation, EventPayload, FailureReason, HandoffProof};
use jx_core::state::{ConflictKind, TaskStatus};
use jx_core::{StaffId, TransitionError};
use jx_store::{DB_FILE, OutboxStatus, Store, StoreError};

const STAFF: StaffId = StaffId(4);

fn delivered(task: jx_core::TaskId, photo: jx_core::bytes::Sha256) -> EventPayload {
    EventPayload::Delivered { proof: full_delivery_proof(task, photo) }
}

fn nobody_home() -> EventPayload {
    EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    }
}

#[test]
fn a_new_store_is_migrated_in_wal_mode_and_sound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("opens");
    assert_eq!(s.integrity_check().expect("checks"), "ok");
    drop(s);
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("raw open");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("pragma");
    assert_eq!(mode, "wal");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("pragma");
    assert_eq!(version, 5, "every migration applied");
    // Reopening an up-to-date store migrates nothing and keeps its data.
    let mut s = Store::open(dir.path()).expect("reopens");
    s.set_cursor("c1").expect("writes");
    drop(s);
    assert_eq!(Store::open(dir.path()).expect("reopens").cursor().expect("reads").as_deref(), Some("c1"));
}

#[test]
fn a_file_that_is_not_a_store_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(DB_FILE);
    let junk = b"this is a shopping list, not a database\n".repeat(20);
    std::fs::write(&path, &junk).expect("writes");
    let err = Store::open(dir.path()).err().expect("refused");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("reads"), junk);

    // Another program's SQLite database is not ours either.
    std::fs::remove_file(&path).expect("removes");
    rusqlite::Connection::open(&path).expect("creates").execute_batch("CREATE TABLE notes (t TEXT);").expect("ddl");
    let before = std::fs::read(&path).expect("reads");
    assert!(matches!(Store::open(dir.path()), Err(StoreError::NotAStore { .. })));
    assert_eq!(std::fs::read(&path).expect("reads"), before);
}

#[test]
fn a_store_from_a_newer_app_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Store::open(dir.path()).expect("opens"));
    let path = dir.path().join(DB_FILE);
    {
        let conn = rusqlite::Connection::open(&path).expect("raw");
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;").expect("bumps");
    }
    let before = std::fs::read(&path).expect("reads");
    let err = Store::open(dir.path()).err().expect("refused");
    assert!(matches!(err, StoreError::NewerSchema { found: 99, supported: 5, .. }), "{err}");
    assert!(err.to_string().contains("update the app"));
    assert_eq!(std::fs::read(&path).expect("reads"), before);
}

#[test]
fn recording_appends_to_the_chain_and_updates_the_task_in_one_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let task = town().tasks[0].id;
    let photo = s.put_blob(b"\xFF\xD8\xFFfake jpeg", T0).expect("photo stored");
    let first = s.record(task, nobody_home(), T0).expect("recorded");
    let second = s.record(task, delivered(task, photo), T0).expect("recorded");
    assert_eq!((first.seq, second.seq), (1, 2));
    assert_eq!(second.prev, first.chain_hash());
    assert!(second.at > first.at, "the recorder's clock never goes back");
    assert!(first.at > assigned(task, STAFF, 1).at, "a fact sorts after the assignment it acted on");

    let detail = s.task(task).expect("reads").expect("present");
    assert_eq!(detail.state.status, TaskStatus::Delivered);
    assert_eq!(detail.state.attempts, 1);
    assert_eq!(detail.history.len(), 3, "assignment + two facts");
    assert_eq!(detail.history[2].envelope.id, second.id);
    assert_eq!(detail.history[2].outbox, Some(OutboxStatus::Pending));
    assert_eq!(detail.history[0].outbox, None, "the coordinator's event is not in this phone's outbox");
    assert_eq!(s.blobs_to_upload().expect("reads").len(), 1);
}

#[test]
fn every_recorded_event_is_signed_with_the_phones_own_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 2);
    let key = s.device_key().expect("key");
    assert_eq!(s.device_key().expect("same key").public(), key.public(), "made once, then kept");
    let e = s.record(town().tasks[0].id, nobody_home(), T0).expect("recorded");
    assert_eq!(jx_core::sign::verify(&e, &key.public()), Ok(()));
    let stored = s.event(e.id).expect("reads").expect("present").envelope;
    assert_eq!(jx_core::sign::verify(&stored, &key.public()), Ok(()));
    let other = tempfile::tempdir().expect("tempdir");
    let mut s2 = Store::open(other.path()).expect("opens");
    assert_ne!(s2.public_key_hex().expect("key"), key.public_hex(), "each phone has its own key");
}

#[test]
fn an_impossible_event_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 1);
    let pickup = town().tasks.iter().find(|t| t.kind == jx_core::TaskKind::Pickup).expect("the demo has pickups");
    let sheet = town().sheet(pickup).expect("sheet");
    s.upsert_task(&sheet, &[assigned(pickup.id, STAFF, 9)], T0).expect("stored");
    let task = pickup.id;
    let err = s
        .record(task, EventPayload::Delivered { proof: HandoffProof::default() }, T0)
        .expect_err("a pickup cannot be delivered");
    assert!(matches!(err, StoreError::Transition(TransitionError::WrongKind { .. })), "{err}");
    assert_eq!(s.outbox_counts().expect("counts").waiting(), 0);

    let missing = jx_core::bytes::Sha256::of(b"never stored");
    let delivery = town().tasks[0].id;
    let err = s.record(delivery, delivered(delivery, missing), T0).expect_err("photo missing");
    assert!(matches!(err, StoreError::MissingBlob(h) if h == missing));
    assert_eq!(s.outbox_counts().expect("counts").waiting(), 0);
    assert_eq!(s.task(delivery).expect("reads").expect("present").state.status, TaskStatus::Assigned);
}

#[test]
fn a_batch_is_recorded_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let ids: Vec<_> = town().tasks[..3].iter().map(|t| t.id).collect();
    let unknown = jx_core::TaskId(uuid::Uuid::from_u128(42));
    let bad = vec![(ids[0], nobody_home()), (unknown, nobody_home())];
    assert!(matches!(s.record_batch(bad, T0), Err(StoreError::UnknownTask(t)) if t == unknown));
    assert_eq!(s.outbox_counts().expect("counts").waiting(), 0, "the good half was rolled back");
    let good: Vec<_> = ids.iter().map(|&t| (t, nobody_home())).collect();
    let recorded = s.record_batch(good, T0).expect("recorded");
    assert_eq!(recorded.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[test]
fn recording_needs_an_enrolled_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(dir.path()).expect("opens");
    let task = town().tasks[0].id;
    assert!(matches!(s.record(task, nobody_home(), T0), Err(StoreError::NotEnrolled)));
}

#[test]
fn the_outbox_moves_from_pending_to_acknowledged_and_keeps_rejection_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let evs: Vec<_> = town().tasks[..3].iter().map(|t| s.record(t.id, nobody_home(), T0).expect("recorded")).collect();
    let ids: Vec<_> = evs.iter().map(|e| e.id).collect();
    assert_eq!(s.outbox(10).expect("reads").iter().map(|o| o.envelope.id).collect::<Vec<_>>(), ids);
    s.mark_sent(&ids).expect("marks");
    s.acknowledge(&ids[..1]).expect("acks");
    s.reject(ids[1], "task was cancelled at the centre").expect("rejects");
    let c = s.outbox_counts().expect("counts");
    assert_eq!((c.pending, c.sent, c.acknowledged, c.rejected), (0, 1, 1, 1));
    let rejected = s.rejected().expect("reads");
    assert_eq!(rejected[0].reason.as_deref(), Some("task was cancelled at the centre"));
    // A rejection does not block the rest: the third event is still waiting to go.
    assert_eq!(s.outbox(10).expect("reads").iter().map(|o| o.envelope.id).collect::<Vec<_>>(), vec![ids[2]]);
    // An acknowledgement is final: a late "sent" does not move it back.
    s.mark_sent(&ids[..1]).expect("no-op");
    assert_eq!(s.outbox_counts().expect("counts").acknowledged, 1);
}

#[test]
fn tonight_groups_a_staff_members_tasks_by_building() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 40);
    s.upsert_tasks(&assigned_sheets(StaffId(5), 10, 40), T0).expect("someone else's tasks");
    let stops = s.tonight(STAFF).expect("reads");
    let n: usize = stops.iter().map(|b| b.tasks.len()).sum();
    assert_eq!(n, 40, "only this staff member's tasks");
    let keys: Vec<_> = stops.iter().map(|b| (b.compound, b.building)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "one stop per building, in order");
    for stop in &stops {
        for t in &stop.tasks {
            assert_eq!((t.address.compound, t.address.building), (stop.compound, stop.building));
        }
    }
}

#[test]
fn the_status_bar_counts_progress_and_whats_waiting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 5);
    let photo = s.put_blob(b"\x89PNG\r\n\x1a\nsignature", T0).expect("stored");
    s.record(town().tasks[0].id, delivered(town().tasks[0].id, photo), T0).expect("recorded");
    s.record(town().tasks[1].id, nobody_home(), T0).expect("recorded");
    let bar = s.status_bar(STAFF).expect("reads");
    assert_eq!((bar.total, bar.done, bar.outbox.pending, bar.blobs_waiting), (5, 1, 2, 1));
    s.mark_blob_uploaded(&photo).expect("marks");
    assert_eq!(s.status_bar(STAFF).expect("reads").blobs_waiting, 0);
}

#[test]
fn a_task_taken_away_stays_until_the_centre_has_this_phones_facts_about_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 2);
    let (a, b) = (town().tasks[0].id, town().tasks[1].id);
    let fact = s.record(a, nobody_home(), T0).expect("recorded");
    s.remove_task(a).expect("removes");
    s.remove_task(b).expect("removes");
    assert!(s.task(b).expect("reads").is_none(), "nothing unsent: gone at once");
    assert!(s.task(a).expect("reads").is_some(), "kept while its fact is unsent");
    assert!(s.tonight(STAFF).expect("reads").is_empty(), "but off the route");
    s.acknowledge(&[fact.id]).expect("acks");
    assert_eq!(s.purge_removed().expect("purges"), 1);
    assert!(s.task(a).expect("reads").is_none());
}

#[test]
fn a_fact_after_an_unseen_cancellation_is_kept_with_a_conflict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 1);
    let task = &town().tasks[0];
    let fact = s.record(task.id, nobody_home(), T0).expect("recorded");
    // The centre had cancelled it earlier; the phone only learns of it now.
    let mut cancel = assigned(task.id, STAFF, 2);
    cancel.id = jx_core::EventId::v7(1, [7; 10]);
    cancel.at = jx_core::Timestamp(fact.at.millis() - 1);
    cancel.payload = EventPayload::Cancelled { reason: "resident came to the centre".into() };
    let sheet = town().sheet(task).expect("sheet");
    let state = s.upsert_task(&sheet, &[assigned(task.id, STAFF, 1), cancel], T0).expect("stored");
    assert_eq!(state.status, TaskStatus::Cancelled);
    assert_eq!(state.attempts, 1);
    assert_eq!(state.conflicts[0].event, fact.id);
    assert_eq!(state.conflicts[0].kind, ConflictKind::AfterCancel);
}

#[test]
fn blobs_are_stored_once_and_verified_on_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(dir.path()).expect("opens");
    let bytes = b"\xFF\xD8\xFF photo bytes".to_vec();
    let h1 = s.put_blob(&bytes, T0).expect("stored");
    let h2 = s.put_blob(&bytes, T0).expect("stored again");
    assert_eq!(h1, h2);
    assert_eq!(s.blob(&h1).expect("reads").expect("present").mime, "image/jpeg");
    assert_eq!(s.read_blob(&h1).expect("reads"), bytes);
    std::fs::write(s.blob_path(&h1), b"bit rot").expect("damages");
    assert!(matches!(s.read_blob(&h1), Err(StoreError::CorruptBlob { .. })));
}

#[test]
fn open_cleans_half_written_blobs_and_adopts_whole_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("opens");
    let whole = b"\xFF\xD8\xFF whole photo".to_vec();
    let hash = jx_core::bytes::Sha256::of(&whole);
    let path = s.blob_path(&hash);
    let tmp = dir.path().join("blobs/tmp/x.part");
    drop(s);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, &whole).expect("writes");
    std::fs::create_dir_all(tmp.parent().expect("parent")).expect("mkdir");
    std::fs::write(&tmp, b"half").expect("writes");
    let s = Store::open(dir.path()).expect("reopens");
    assert!(!tmp.exists(), "temporary file removed");
    assert_eq!(s.blob(&hash).expect("reads").map(|b| b.size), Some(whole.len() as u64), "adopted");
}

fn assert_nothing_written(s: &Store, task: jx_core::TaskId, before: u64) {
    assert_eq!(s.outbox_counts().expect("counts").waiting(), before);
    assert_eq!(s.task(task).expect("reads").expect("present").state.status, TaskStatus::Assigned);
}

#[test]
fn a_handoff_without_its_proof_is_not_recorded_and_says_what_is_missing() {
    use jx_core::model::ProofRequirement::*;
    use jx_core::proof::Gap;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 2);
    let task = town().tasks[0].id;
    let empty = EventPayload::Delivered { proof: HandoffProof::default() };
    let gaps = s.proof_gaps(task, &empty, T0).expect("checks");
    let missing: Vec<_> = gaps.iter().map(Gap::requirement).collect();
    assert_eq!(missing, vec![PacketScan, ResidentConfirmation, HandoffPhoto, Location]);
    let err = s.record(task, empty, T0).expect_err("not proven");
    assert!(matches!(&err, StoreError::ProofIncomplete(g) if *g == gaps), "{err}");
    assert!(err.to_string().contains("not proven"), "{err}");
    assert_nothing_written(&s, task, 0);

    // Photo and position are there but the label scanned is another task's packet.
    let photo = s.put_blob(b"\xFF\xD8\xFFdoor", T0).expect("stored");
    let other = town().tasks[1].id;
    let mut proof = full_delivery_proof(task, photo);
    proof.packet = full_delivery_proof(other, photo).packet;
    let err = s.record(task, EventPayload::Delivered { proof }, T0).expect_err("wrong packet");
    let StoreError::ProofIncomplete(g) = &err else { panic!("{err}") };
    assert!(matches!(&g[..], [Gap::PacketInvalid { error }] if error.contains("not for this task")), "{g:?}");
    assert_nothing_written(&s, task, 0);
    s.record(task, delivered(task, photo), T0).expect("proven");
}

#[test]
fn codes_signed_by_a_key_the_phone_does_not_hold_do_not_prove_anything() {
    use jx_core::proof::Gap;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 1);
    let task = town().tasks[0].id;
    let photo = s.put_blob(b"\xFF\xD8\xFFdoor", T0).expect("stored");
    let forger = jx_core::token::TokenSigner::from_secret(1, [6; 32]);
    let mut proof = full_delivery_proof(task, photo);
    proof.packet = Some(forger.issue(jx_core::token::TokenKind::PacketLabel, task, T0));
    let err = s.record(task, EventPayload::Delivered { proof }, T0).expect_err("forged");
    let StoreError::ProofIncomplete(g) = &err else { panic!("{err}") };
    assert!(matches!(&g[..], [Gap::PacketInvalid { error }] if error.contains("forged")), "{g:?}");

    s.set_keyring(&jx_core::token::Keyring::default()).expect("keys cleared");
    let err = s.record(task, delivered(task, photo), T0).expect_err("no keys");
    let StoreError::ProofIncomplete(g) = &err else { panic!("{err}") };
    assert_eq!(g.len(), 2, "{g:?}");
    assert!(g.iter().all(|x| x.to_string().contains("sync to get the centre's keys")), "{g:?}");
    assert_nothing_written(&s, task, 0);
}

#[test]
fn the_six_digit_code_is_checked_against_the_hash_the_phone_holds() {
    use jx_core::proof::Gap;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 0);
    let task = &town().tasks[0];
    let mut sheet = town().sheet(task).expect("sheet");
    sheet.resident_code = Some(jx_core::code::hash_code("730215", [3; 16], 64, 1).expect("hash"));
    s.upsert_task(&sheet, &[assigned(task.id, STAFF, 1)], T0).expect("stored");
    let photo = s.put_blob(b"\xFF\xD8\xFFdoor", T0).expect("stored");
    let with_code = |code: &str| {
        let mut proof = full_delivery_proof(task.id, photo);
        proof.confirmation = Some(Confirmation::ResidentCode { code: code.into() });
        EventPayload::Delivered { proof }
    };
    let err = s.record(task.id, with_code("730216"), T0).expect_err("wrong code");
    assert!(matches!(&err, StoreError::ProofIncomplete(g) if g[..] == [Gap::CodeWrong]), "{err}");
    assert_nothing_written(&s, task.id, 0);
    let e = s.record(task.id, with_code("730215"), T0).expect("right code");
    assert!(matches!(&e.payload, EventPayload::Delivered { proof } if proof.confirmation.is_some()));
}

#[test]
fn a_pickup_is_proven_by_a_signature_drawn_on_the_phone_and_a_photo_per_document() {
    use jx_core::event::MaterialCheck;
    use jx_core::strokes::{Point, Strokes};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 0);
    let pickup = town().tasks.iter().find(|t| t.kind == jx_core::TaskKind::Pickup).expect("the demo has pickups");
    let sheet = town().sheet(pickup).expect("sheet");
    s.upsert_task(&sheet, &[assigned(pickup.id, STAFF, 1)], T0).expect("stored");
    let mut materials = Vec::new();
    for m in &sheet.materials {
        let photo = s.put_blob(format!("\u{FF}{}", m.name).as_bytes(), T0).expect("stored");
        materials.push(MaterialCheck { name: m.name.clone(), present: true, photo: Some(photo) });
    }
    let strokes = Strokes {
        width: 320,
        height: 160,
        strokes: vec![(0..60).map(|i| Point { x: 20 + i * 4, y: 80 + (i % 7), t_ms: u32::from(i) * 16 }).collect()],
    };
    let position = Some(jx_core::event::Fix { at: jx_core::geo::LatLng { lat: 31.19, lng: 121.43 }, accuracy_m: 9.0 });
    let proof = HandoffProof {
        confirmation: Some(Confirmation::Handwritten { strokes: strokes.clone() }),
        position,
        ..Default::default()
    };
    let mut unphotographed = materials.clone();
    unphotographed[0].photo = None;
    let payload = EventPayload::Collected { proof: proof.clone(), materials: unphotographed };
    let err = s.record(pickup.id, payload, T0).expect_err("a document without its photo");
    assert!(err.to_string().contains(&sheet.materials[0].name), "{err}");

    let e = s.record(pickup.id, EventPayload::Collected { proof, materials }, T0).expect("proven");
    // The strokes are inside the signed event: altering them breaks the device's signature.
    let mut forged = e.clone();
    if let EventPayload::Collected { proof, .. } = &mut forged.payload {
        proof.confirmation = Some(Confirmation::Handwritten {
            strokes: Strokes { strokes: vec![strokes.strokes[0][..30].to_vec()], ..strokes },
        });
    }
    let key = s.device_key().expect("key").public();
    assert!(jx_core::sign::verify(&e, &key).is_ok());
    assert!(jx_core::sign::verify(&forged, &key).is_err());
    assert_eq!(s.task(pickup.id).expect("reads").expect("present").state.status, TaskStatus::Collected);
}

#[test]
fn the_remaining_stops_are_reordered_offline_with_skipped_buildings_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 40);
    let stops = s.tonight(STAFF).expect("route");
    assert!(stops.len() >= 5, "{} stops", stops.len());
    assert!(stops.iter().all(|b| b.position.is_some()), "the demo's sheets carry building positions");
    let from = stops[0].position.expect("position");
    let walk = |order: &[jx_store::BuildingStop]| {
        let mut at = from;
        let mut m = 0.0;
        for b in order {
            let p = b.position.expect("position");
            m += at.distance_m(p);
            at = p;
        }
        m
    };
    let ordered = s.walking_order(STAFF, from, None, &[], false).expect("ordered");
    assert_eq!(ordered.len(), stops.len());
    assert!(walk(&ordered) <= walk(&stops) + 1e-6, "{} m against {} m", walk(&ordered), walk(&stops));

    // Skip the first stop of the walk: it goes last; a stop whose every task failed drops out.
    let skipped = (ordered[0].compound, ordered[0].building);
    for t in &ordered[1].tasks {
        s.record(t.id, nobody_home(), T0).expect("recorded");
    }
    let gone = (ordered[1].compound, ordered[1].building);
    let again = s.walking_order(STAFF, from, None, &[skipped], false).expect("ordered");
    assert_eq!(again.len(), stops.len() - 1);
    assert_eq!(again.last().map(|b| (b.compound, b.building)), Some(skipped));
    assert!(again.iter().all(|b| (b.compound, b.building) != gone));
}

#[test]
fn a_draft_survives_reopening_and_is_deleted_with_the_handoff_it_became() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let tasks: Vec<_> = assigned_sheets(STAFF, 3, 0).into_iter().map(|(sh, _)| sh.task.id).collect();
    assert_eq!(s.latest_draft().expect("reads"), None);
    s.save_draft(tasks[0], r#"{"step":1}"#, T0).expect("saves");
    s.save_draft(tasks[1], r#"{"step":2}"#, jx_core::Timestamp(T0.0 + 5)).expect("saves");
    s.save_draft(tasks[0], r#"{"step":3}"#, jx_core::Timestamp(T0.0 + 9)).expect("replaces");
    drop(s);
    let mut s = Store::open(dir.path()).expect("reopens");
    assert_eq!(s.draft(tasks[0]).expect("reads").as_deref(), Some(r#"{"step":3}"#));
    assert_eq!(s.latest_draft().expect("reads"), Some((tasks[0], r#"{"step":3}"#.to_string())), "the last touched");

    // A refused handoff (no proof) keeps the draft and writes no event.
    let err = s.record_closing_draft(tasks[0], EventPayload::Delivered { proof: HandoffProof::default() }, T0);
    assert!(matches!(err, Err(StoreError::ProofIncomplete(_))), "{err:?}");
    assert!(s.draft(tasks[0]).expect("reads").is_some());
    assert_eq!(s.chain().expect("reads").len(), 0);

    // A recorded one deletes it in the same transaction.
    let photo = s.put_blob(b"\xFF\xD8\xFFphoto", T0).expect("photo");
    s.record_closing_draft(tasks[0], delivered(tasks[0], photo), T0).expect("records");
    assert_eq!(s.draft(tasks[0]).expect("reads"), None);
    assert_eq!(s.chain().expect("reads").len(), 1);
    assert_eq!(s.latest_draft().expect("reads").map(|d| d.0), Some(tasks[1]));

    // Wiping the phone takes drafts too.
    s.wipe().expect("wipes");
    assert_eq!(s.latest_draft().expect("reads"), None);
}

#[test]
fn a_failed_visit_and_the_door_card_left_there_are_recorded_together_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let task = assigned_sheets(STAFF, 3, 0)[0].0.task.id;
    let card = || EventPayload::DoorCardLeft { card: "JX1:card".into() };
    s.save_draft(task, r#"{"step":1}"#, T0).expect("saves");

    // A card without a failed visit before it is impossible: nothing is written, the draft stays.
    let err = s.record_closing_draft_with(task, vec![card()], T0);
    assert!(matches!(err, Err(StoreError::Transition(_))), "{err:?}");
    assert_eq!(s.chain().expect("reads").len(), 0);
    assert!(s.draft(task).expect("reads").is_some());

    // The failure and its card: one after the other in the chain, both waiting for the centre, the draft gone.
    let recorded = s.record_closing_draft_with(task, vec![nobody_home(), card()], T0).expect("records");
    assert_eq!(recorded.len(), 2);
    assert_eq!((recorded[0].seq, recorded[1].seq), (1, 2));
    assert!(recorded[1].at > recorded[0].at, "the card sorts after its failure");
    assert_eq!(recorded[1].prev, recorded[0].chain_hash());
    assert_eq!(s.outbox(10).expect("reads").len(), 2);
    assert_eq!(s.draft(task).expect("reads"), None);
    assert_eq!(s.task(task).expect("reads").expect("the task").state.status, TaskStatus::AttemptFailed);
    s.verify_chain().expect("a sound chain");
}
