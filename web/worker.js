// The engine's dedicated worker: the store (SQLite on the origin's private file system), sync, photos and QR
// scanning, off the page's thread. See crates/worker.
import init from "./worker/jx_worker.js";
init();
