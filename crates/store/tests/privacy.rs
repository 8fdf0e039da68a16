//! Residents' data does not outlive its use on the phone: finished tasks are purged once the centre has all of
//! them (and never before), their bytes are gone from the file, and a wipe leaves nothing.

mod common;

use common::*;
use jx_core::event::{EventPayload, FailureReason};
use jx_store::{DB_FILE, Purged, Store};

const STAFF: jx_core::StaffId = jx_core::StaffId(4);

fn file_contains(dir: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(dir.join(DB_FILE)).expect("db file");
    let wal = std::fs::read(dir.join(format!("{DB_FILE}-wal"))).unwrap_or_default();
    let n = needle.as_bytes();
    [bytes, wal].iter().any(|b| b.windows(n.len()).any(|w| w == n))
}

#[test]
fn a_finished_task_is_purged_only_when_the_centre_has_everything_and_the_retention_has_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 4);
    let tasks: Vec<_> = town().tasks[..4].iter().map(|t| t.id).collect();
    let names: Vec<String> = town().tasks[..4].iter().map(|t| town().sheet(t).expect("sheet").resident_name).collect();
    let mut photos = Vec::new();
    let mut events = Vec::new();
    for (i, t) in tasks[..3].iter().enumerate() {
        let photo = s.put_blob(format!("\u{FF}\u{D8}photo {i}").as_bytes(), T0).expect("photo");
        events.push(s.record(*t, EventPayload::Delivered { proof: full_delivery_proof(*t, photo) }, T0).expect("ok"));
        photos.push(photo);
    }
    // Task 0: all acknowledged and uploaded. Task 1: its event still pending. Task 2: acknowledged, photo not
    // uploaded. Task 3: still open (nobody home).
    s.mark_sent(&[events[0].id, events[2].id]).expect("sent");
    s.acknowledge(&[events[0].id, events[2].id]).expect("acked");
    s.mark_blob_uploaded(&photos[0]).expect("uploaded");
    s.mark_blob_uploaded(&photos[1]).expect("uploaded");
    let failed = EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    };
    let e3 = s.record(tasks[3], failed, T0).expect("ok");
    s.mark_sent(&[e3.id]).expect("sent");
    s.acknowledge(&[e3.id]).expect("acked");
    let later = jx_core::Timestamp(T0.millis() + 10_000);

    assert_eq!(s.purge_finished(later, 3_600_000).expect("purge"), Purged::default(), "the retention has not passed");
    assert!(file_contains(dir.path(), &names[0]));
    let purged = s.purge_finished(later, 0).expect("purge");
    assert_eq!(purged, Purged { tasks: 1, blobs: 1 });
    assert!(s.task(tasks[0]).expect("reads").is_none());
    assert!(!s.blob_path(&photos[0]).exists(), "the photo's file is gone");
    for t in &tasks[1..] {
        assert!(s.task(*t).expect("reads").is_some(), "{t} has something pending or is open");
    }
    assert!(s.blob_path(&photos[1]).exists() && s.blob_path(&photos[2]).exists());
    assert!(!file_contains(dir.path(), &names[0]), "the name's bytes are overwritten, not just unlinked");
    assert!(file_contains(dir.path(), &names[1]));
    assert_eq!(s.verify_chain().expect("chain"), 4, "the device's own signed chain is whole");
    assert_eq!(s.integrity_check().expect("check"), "ok");
}

#[test]
fn a_wipe_leaves_an_empty_store_without_identity_key_or_a_residents_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 10);
    let photo = s.put_blob(b"\xFF\xD8door", T0).expect("photo");
    let t = town().tasks[0].id;
    s.record(t, EventPayload::Delivered { proof: full_delivery_proof(t, photo) }, T0).expect("ok");
    let key_before = s.device_key().expect("key").public();
    let name = town().sheet(&town().tasks[0]).expect("sheet").resident_name;
    assert!(file_contains(dir.path(), &name));
    s.wipe().expect("wiped");
    assert!(s.identity().expect("reads").is_none(), "back to the enrol screen");
    assert!(s.tonight(STAFF).expect("reads").is_empty());
    assert_eq!(s.outbox_counts().expect("counts").waiting(), 0);
    assert!(s.keyring().expect("reads").0.is_empty());
    assert!(!s.blob_path(&photo).exists());
    assert!(!file_contains(dir.path(), &name));
    assert_ne!(s.device_key().expect("a new key").public(), key_before, "the old signing key is gone");
    drop(s);
    let s = Store::open(dir.path()).expect("reopens");
    assert_eq!(s.integrity_check().expect("check"), "ok");
}

#[test]
fn an_encrypted_store_holds_no_residents_name_or_phone_in_its_bytes_and_needs_its_key() {
    use jx_store::{StoreError, StoreKey};
    let dir = tempfile::tempdir().expect("tempdir");
    let key = StoreKey([7; 32]);
    let n = 12;
    let sheets = assigned_sheets(STAFF, n, 0);
    {
        let mut s = Store::open_encrypted(dir.path(), &key).expect("opens encrypted");
        s.enrol(&identity(STAFF), T0).expect("enrols");
        s.upsert_tasks(&sheets, T0).expect("tasks stored");
        let t = sheets[0].0.task.id;
        s.save_draft(t, "{\"note\":\"草稿\"}", T0).expect("draft");
        // Still readable through the store itself.
        assert_eq!(s.tonight(STAFF).expect("reads").iter().map(|b| b.tasks.len()).sum::<usize>(), n);
    }
    // The file, and its write-ahead log, hold none of it in the clear.
    for (sheet, _) in &sheets {
        assert!(!file_contains(dir.path(), &sheet.resident_name), "a name is readable in the encrypted file");
        assert!(!file_contains(dir.path(), &sheet.resident_phone), "a phone is readable in the encrypted file");
    }
    assert!(!file_contains(dir.path(), "SQLite format 3"), "not even the header says what the file is");

    // Without the key, or with another, it is refused and left untouched.
    let before = std::fs::read(dir.path().join(DB_FILE)).expect("reads");
    assert!(matches!(Store::open(dir.path()), Err(StoreError::NotAStore { .. })));
    assert!(matches!(Store::open_encrypted(dir.path(), &StoreKey([8; 32])), Err(StoreError::WrongKey { .. })));
    assert_eq!(std::fs::read(dir.path().join(DB_FILE)).expect("reads"), before);

    let s = Store::open_encrypted(dir.path(), &key).expect("reopens with its key");
    assert_eq!(s.integrity_check().expect("checks"), "ok");
    assert_eq!(s.drafts().expect("drafts").len(), 1);
}

#[test]
fn a_plain_store_is_encrypted_in_place_with_everything_kept() {
    use jx_store::StoreKey;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = enrolled_store(dir.path(), STAFF, 3);
    let t = town().tasks[0].id;
    let photo = s.put_blob(b"\xFF\xD8photo", T0).expect("photo");
    s.record(t, EventPayload::Delivered { proof: full_delivery_proof(t, photo) }, T0).expect("records");
    let name = town().sheet(&town().tasks[1]).expect("sheet").resident_name;
    drop(s);
    assert!(file_contains(dir.path(), &name), "a plain store has names in the clear (the premise)");

    let key = StoreKey([3; 32]);
    let s = Store::open_encrypted(dir.path(), &key).expect("encrypts in place");
    assert!(!file_contains(dir.path(), &name), "no name readable after encryption");
    assert_eq!(s.verify_chain().expect("the chain survives"), 1);
    assert_eq!(s.chain().expect("events").len(), 1);
    assert_eq!(s.identity().expect("identity").map(|i| i.staff), Some(STAFF));
    assert_eq!(s.tonight(STAFF).expect("tasks").iter().map(|b| b.tasks.len()).sum::<usize>(), 3);
}

#[test]
fn photo_files_of_an_encrypted_store_are_sealed_on_disk_and_read_back_whole() {
    use jx_store::StoreKey;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = StoreKey([5; 32]);
    let photo = b"\xFF\xD8 the resident at her door, room 1203 \xFF\xD9".to_vec();
    let hash = {
        let mut s = Store::open_encrypted(dir.path(), &key).expect("opens");
        let h = s.put_blob(&photo, T0).expect("stored");
        assert_eq!(s.read_blob(&h).expect("reads"), photo);
        h
    };
    let hex = hash.to_hex();
    let file = dir.path().join("blobs").join(&hex[..2]).join(&hex);
    let on_disk = std::fs::read(&file).expect("the photo file");
    assert!(!on_disk.windows(9).any(|w| w == b"room 1203"), "the photo is readable on disk");
    assert_ne!(on_disk, photo);

    // Reopened with its key, the photo is whole; a tampered file is refused, never returned.
    let s = Store::open_encrypted(dir.path(), &key).expect("reopens");
    assert_eq!(s.read_blob(&hash).expect("reads"), photo);
    let mut bad = on_disk.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&file, &bad).expect("tamper");
    assert!(matches!(s.read_blob(&hash), Err(jx_store::StoreError::CorruptBlob { .. })));

    // A plain store's photos stay readable once the store is encrypted in place.
    let plain = tempfile::tempdir().expect("tempdir");
    let h = {
        let mut s = Store::open(plain.path()).expect("opens plain");
        s.put_blob(&photo, T0).expect("stored")
    };
    let s = Store::open_encrypted(plain.path(), &key).expect("encrypts in place");
    assert_eq!(s.read_blob(&h).expect("reads"), photo);
}
