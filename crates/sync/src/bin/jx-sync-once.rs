//! Runs one sync round for a phone's store and exits: what the app does when it is opened. The fault-injection
//! tests kill this process at random moments.
//!
//! Usage: `jx-sync-once <store dir> <centre url> <device token>`

/// A process to kill is a native thing; on the web this binary is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use jx_store::Store;
    use jx_sync::{SyncConfig, SyncEngine};
    use std::sync::{Arc, Mutex};
    let mut args = std::env::args().skip(1);
    let usage = "usage: jx-sync-once <store dir> <centre url> <device token>";
    let (dir, url, token) = (args.next().ok_or(usage)?, args.next().ok_or(usage)?, args.next().ok_or(usage)?);
    let store = Arc::new(Mutex::new(Store::open(&dir)?));
    let engine = SyncEngine::new(store, SyncConfig::new(url, token))?;
    match engine.sync_now().await {
        Ok(r) => {
            println!(
                "synced: {} accepted, {} duplicates, {} blobs, {} retries",
                r.accepted, r.duplicates, r.blobs_uploaded, r.retries
            );
            Ok(())
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
