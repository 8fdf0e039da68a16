//! What differs between a native build (tokio: a thread pool, real timers) and the web (one thread, the browser's
//! timers and event loop): sleeping, running a store call without blocking the async threads, and a periodic task.

use std::time::Duration;

/// Waits `d` without blocking the thread.
pub async fn sleep(d: Duration) {
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(d).await;
    #[cfg(target_arch = "wasm32")]
    gloo_timers::future::sleep(d).await;
}

/// Runs a synchronous store call: on a blocking thread natively (SQLite's fsyncs must not stall the async
/// threads), in place on the web (there is one thread, and the store is in-process memory or OPFS).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    #[cfg(not(target_arch = "wasm32"))]
    return tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string());
    #[cfg(target_arch = "wasm32")]
    return Ok(f());
}
