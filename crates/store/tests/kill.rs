//! Crash safety for real: a child process records events and photos in a loop and is killed with SIGKILL at random
//! moments, many times over the same store. After every kill the store must reopen, pass `PRAGMA integrity_check`,
//! hold every event whose record call had returned (and its photo, whole), keep an unbroken hash chain, and hold no
//! half-written blob.

use jx_core::EventId;
use jx_core::bytes::Sha256;
use jx_core::rng::SplitMix64;
use jx_store::{BLOB_DIR, Store};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn rounds() -> u64 {
    std::env::var("JX_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

#[test]
fn a_store_killed_at_random_moments_loses_nothing_that_was_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = SplitMix64::new(0x5EED_0001);
    let mut confirmed: Vec<(EventId, Sha256)> = Vec::new();
    let mut kills_mid_loop = 0;
    for round in 0..rounds() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jx-store-crash-child"))
            .arg(dir.path())
            .arg(round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child starts");
        let stdout = child.stdout.take().expect("piped");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut buf = Vec::new();
                // Only whole lines count: a line cut by the kill was never fully reported.
                while r.read_until(b'\n', &mut buf).map(|n| n > 0).unwrap_or(false) {
                    if buf.ends_with(b"\n") {
                        lines.lock().expect("lock").push(String::from_utf8_lossy(&buf).trim_end().to_string());
                    }
                    buf.clear();
                }
            })
        };
        std::thread::sleep(Duration::from_millis(rng.range(15, 250)));
        let early_exit = child.try_wait().expect("polls");
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaped");
        reader.join().expect("reader");
        if let Some(status) = early_exit {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err).ok();
            }
            panic!("child exited by itself in round {round} ({status}): {err}");
        }
        assert!(!status.success());

        let lines = lines.lock().expect("lock").clone();
        if lines.len() > 1 {
            kills_mid_loop += 1;
        }
        for line in lines.iter().filter(|l| l.starts_with("E ")) {
            let mut parts = line.split(' ').skip(1);
            let id: EventId = parts.next().expect("id").parse().expect("event id");
            let photo: Sha256 = parts.next().expect("hash").parse().expect("hash");
            confirmed.push((id, photo));
        }

        let store = Store::open(dir.path()).expect("reopens after the kill");
        assert_eq!(store.integrity_check().expect("checks"), "ok", "round {round}");
        let chain = store.verify_chain().expect("chain intact");
        assert!(chain as usize >= confirmed.len(), "round {round}: chain {chain} < {}", confirmed.len());
        for (id, photo) in &confirmed {
            let e = store.event(*id).expect("reads").unwrap_or_else(|| panic!("round {round}: event {id} lost"));
            assert!(e.envelope.payload.blobs().contains(photo));
            store.read_blob(photo).unwrap_or_else(|err| panic!("round {round}: photo {photo}: {err}"));
        }
        // No half-written blob anywhere: every file is whole, named by its hash, and known to the store.
        let root = dir.path().join(BLOB_DIR);
        let tmp_files = std::fs::read_dir(root.join("tmp")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(tmp_files, 0, "round {round}: temporary files left after open");
        for shard in std::fs::read_dir(&root).expect("blob dir").flatten().filter(|s| s.file_name() != "tmp") {
            for f in std::fs::read_dir(shard.path()).expect("shard").flatten() {
                let hash: Sha256 = f.file_name().to_string_lossy().parse().expect("named by hash");
                assert_eq!(Sha256::of(&std::fs::read(f.path()).expect("reads")), hash, "round {round}");
                assert!(store.blob(&hash).expect("reads").is_some(), "round {round}: blob without a row");
            }
        }
    }
    println!(
        "kill test: {} rounds, {} killed mid-loop, {} confirmed events all present",
        rounds(),
        kills_mid_loop,
        confirmed.len()
    );
    assert!(kills_mid_loop * 2 >= rounds(), "most kills must land while recording ({kills_mid_loop})");
    assert!(!confirmed.is_empty());
}
