//! What the app needs of the platform it runs on: the engine (a web worker on the web, in-process elsewhere),
//! the network's state, the position, a clock, a timer and a few saved preferences. Everything platform-specific
//! is here, so the screens are the same everywhere.

#[cfg(target_arch = "wasm32")]
use jx_engine::EngineError;
use jx_engine::{Answer, Request};

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    // The page's half of the page ↔ worker conversation (crates/worker has the other), the network's state,
    // the position and saved preferences, in the browser's own terms.
    #[wasm_bindgen(inline_js = r#"
const wait = new Map();
let next = 0;
let booting = null;
// Every request in flight gets an error answer (the engine's own JSON shape) when the worker dies.
function fail_all(why) {
  const ans = JSON.stringify({ Err: { error: "internal", detail: why } });
  for (const f of wait.values()) f(ans);
  wait.clear();
}
function spawn() {
  return new Promise((ok, bad) => {
    let up = false;
    const w = new Worker(new URL("/worker.js", location.origin), { type: "module" });
    w.onmessage = (e) => {
      const d = e.data;
      if (d.ready) { up = true; ok(w); return; }
      if (d.fatal) { w.terminate(); bad(new Error(d.fatal)); return; }
      const f = wait.get(d.id);
      if (f) { wait.delete(d.id); f(d.ans); }
    };
    w.onerror = (e) => {
      const why = e.message || "the engine stopped";
      w.terminate();
      if (up) { booting = null; fail_all(why); } else { bad(new Error(why)); }
    };
  });
}
async function boot() {
  let last = null;
  // After a reload the old page's worker may still hold the storage for a moment: retry soon at first, then every
  // 250 ms, for up to 10 s.
  const until = Date.now() + 10000;
  for (let i = 1; Date.now() < until; i++) {
    try { return await spawn(); } catch (e) { last = e; await new Promise((r) => setTimeout(r, Math.min(250, 25 * i))); }
  }
  booting = null;
  throw last;
}
export function jx_call(req) {
  if (!booting) booting = boot();
  return booting.then((w) => new Promise((ok) => { const id = ++next; wait.set(id, ok); w.postMessage({ id, req }); }));
}
export function jx_online() { return navigator.onLine; }
// The live viewfinder: the back camera into a <video>, frames grabbed as JPEG for the engine to read.
let stream = null, video = null, canvas = null;
export async function jx_camera_open(id) {
  try {
    video = document.getElementById(id);
    if (!video || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    video.srcObject = stream;
    await video.play();
    return true;
  } catch (e) { console.warn("no camera:", e && e.name); return false; }
}
export function jx_camera_frame() {
  return new Promise((ok) => {
    if (!video || !video.videoWidth) { ok(null); return; }
    canvas = canvas || document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((b) => { if (b) b.arrayBuffer().then((a) => ok(new Uint8Array(a))); else ok(null); }, "image/jpeg", 0.92);
  });
}
export function jx_camera_close() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null; video = null;
}
export function jx_locate(maxAgeMs) {
  return new Promise((ok) => {
    if (!navigator.geolocation) { ok(null); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => ok([p.coords.latitude, p.coords.longitude, p.coords.accuracy]),
      () => ok(null),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: maxAgeMs });
  });
}
export function jx_can_speak() {
  const s = globalThis.speechSynthesis;
  return !!s && s.getVoices().some((v) => /^zh([-_](CN|Hans))?/i.test(v.lang));
}
// Reads `text` aloud in Mandarin with the platform's speech synthesis; false when there is no Chinese voice.
export function jx_speak(text) {
  const s = globalThis.speechSynthesis;
  if (!s || typeof SpeechSynthesisUtterance === "undefined") return false;
  const voice = s.getVoices().find((v) => /^zh([-_](CN|Hans))?/i.test(v.lang));
  if (!voice) return false;
  s.cancel();
  const u = new SpeechSynthesisUtterance(text);
  u.voice = voice; u.lang = voice.lang; u.rate = 0.85;
  s.speak(u);
  return true;
}
export function jx_pref(key) { try { return localStorage.getItem("jx." + key); } catch (e) { return null; } }
export function jx_set_pref(key, value) { try { localStorage.setItem("jx." + key, value); } catch (e) {} }
export function jx_origin() { return location.origin; }
export function jx_go(url) { location.assign(url); }
export function jx_clock(ms) {
  const d = new Date(ms);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}
export function jx_parse_local(text) { const t = new Date(text).getTime(); return Number.isFinite(t) ? t : null; }
// A new build of the app: its service worker takes over this page (controllerchange) while the page still runs the
// old code. The first takeover of a page opened before any worker is not one.
let updateReady = false;
if ("serviceWorker" in navigator) {
  let controlled = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (controlled) updateReady = true; controlled = true; });
}
export function jx_update_ready() { return updateReady; }
export function jx_update_check() {
  if ("serviceWorker" in navigator) navigator.serviceWorker.getRegistration().then((r) => r && r.update()).catch(() => {});
}
export function jx_reload() { location.reload(); }
"#)]
    extern "C" {
        pub fn jx_call(req: String) -> js_sys::Promise;
        pub fn jx_online() -> bool;
        pub fn jx_camera_open(id: &str) -> js_sys::Promise;
        pub fn jx_camera_frame() -> js_sys::Promise;
        pub fn jx_camera_close();
        pub fn jx_locate(max_age_ms: u32) -> js_sys::Promise;
        pub fn jx_speak(text: &str) -> bool;
        pub fn jx_can_speak() -> bool;
        pub fn jx_pref(key: &str) -> Option<String>;
        pub fn jx_set_pref(key: &str, value: &str);
        pub fn jx_origin() -> String;
        pub fn jx_go(url: &str);
        pub fn jx_clock(ms: f64) -> String;
        pub fn jx_parse_local(text: &str) -> Option<f64>;
        pub fn jx_update_ready() -> bool;
        pub fn jx_update_check();
        pub fn jx_reload();
    }
}

/// The engine, wherever it runs.
#[derive(Clone)]
pub struct Client {
    #[cfg(not(target_arch = "wasm32"))]
    engine: std::sync::Arc<jx_engine::Engine>,
}

impl Client {
    /// On the web: the worker starts on the first request.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn new() -> Client {
        Client {}
    }

    /// Elsewhere: the engine in-process, over the store in `JX_DATA_DIR` (default `jx-phone` in the working
    /// folder), encrypted with a key from `JX_STORE_PIN` or, without one, the folder's `store.key` (see
    /// [`native_key`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn new() -> Client {
        let dir = std::env::var("JX_DATA_DIR").unwrap_or_else(|_| "jx-phone".into());
        let pin = std::env::var("JX_STORE_PIN").ok();
        let key = match native_key(std::path::Path::new(&dir), pin.as_deref()) {
            Ok(k) => k,
            Err(e) => panic!("the store's key in {dir} cannot be read or made: {e}"),
        };
        match jx_store::Store::open_encrypted(&dir, &key) {
            Ok(store) => Client::over(jx_engine::Engine::new(store, jx_engine::EngineOptions::default())),
            Err(e) => panic!("the phone's store at {dir} cannot be opened: {e}"),
        }
    }
}

/// The desktop build's store key. With a PIN (`JX_STORE_PIN`, asked of the user by whoever starts the app) the key is
/// derived from it (Argon2id, 64 MiB, 3 passes, a random salt kept beside the store): the folder alone does not
/// open the store. Without one there is no keystore to hold the key, so it is a random key in a file beside the
/// store, owner-only: that keeps the store from other users of the machine and from a copy of the database file,
/// not from whoever has the whole folder. A mobile build must keep it in the platform's keystore.
#[cfg(not(target_arch = "wasm32"))]
fn native_key(dir: &std::path::Path, pin: Option<&str>) -> std::io::Result<jx_store::StoreKey> {
    std::fs::create_dir_all(dir)?;
    match pin.filter(|p| !p.is_empty()) {
        Some(pin) => {
            let salt: [u8; 16] = secret_file(&dir.join("store.salt"))?;
            key_from_pin(pin, &salt)
        }
        None => secret_file(&dir.join("store.key")).map(jx_store::StoreKey),
    }
}

/// `N` random bytes kept in `path` (made owner-only on first use).
#[cfg(not(target_arch = "wasm32"))]
fn secret_file<const N: usize>(path: &std::path::Path) -> std::io::Result<[u8; N]> {
    use std::io::Write;
    if let Ok(bytes) = std::fs::read(path) {
        return bytes.try_into().map_err(|_| std::io::Error::other(format!("{} is not {N} bytes", path.display())));
    }
    let mut secret = [0u8; N];
    getrandom::fill(&mut secret).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(&secret)?;
    f.sync_all()?;
    Ok(secret)
}

/// The store key a PIN derives (Argon2id: 64 MiB, 3 passes).
#[cfg(not(target_arch = "wasm32"))]
fn key_from_pin(pin: &str, salt: &[u8; 16]) -> std::io::Result<jx_store::StoreKey> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), salt, &mut key)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(jx_store::StoreKey(key))
}

impl Client {
    #[cfg(not(target_arch = "wasm32"))]
    pub fn over(engine: jx_engine::Engine) -> Client {
        Client { engine: std::sync::Arc::new(engine) }
    }

    pub async fn call(&self, req: Request) -> Answer {
        #[cfg(not(target_arch = "wasm32"))]
        return self.engine.handle(req).await;
        #[cfg(target_arch = "wasm32")]
        {
            let json = serde_json::to_string(&req).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
            let ans = wasm_bindgen_futures::JsFuture::from(web::jx_call(json))
                .await
                .map_err(|e| EngineError::Internal { detail: format!("the engine did not start: {}", js_text(&e)) })?;
            let text = ans.as_string().ok_or(EngineError::Internal { detail: "an empty answer".into() })?;
            serde_json::from_str(&text).map_err(|e| EngineError::Internal { detail: e.to_string() })?
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn js_text(v: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(v, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| format!("{v:?}"))
}

/// Whether the platform says the network is there.
pub fn online() -> bool {
    #[cfg(target_arch = "wasm32")]
    return web::jx_online();
    #[cfg(not(target_arch = "wasm32"))]
    true
}

/// Starts the back camera into the `<video>` with this id; false where there is none (or no permission).
pub async fn camera_open(id: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    return wasm_bindgen_futures::JsFuture::from(web::jx_camera_open(id)).await.ok().and_then(|v| v.as_bool())
        == Some(true);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = id;
        false
    }
}

/// One frame of the open camera, as a JPEG.
pub async fn camera_frame() -> Option<Vec<u8>> {
    #[cfg(target_arch = "wasm32")]
    {
        let v = wasm_bindgen_futures::JsFuture::from(web::jx_camera_frame()).await.ok()?;
        if v.is_null() {
            return None;
        }
        Some(js_sys::Uint8Array::new(&v).to_vec())
    }
    #[cfg(not(target_arch = "wasm32"))]
    None
}

pub fn camera_close() {
    #[cfg(target_arch = "wasm32")]
    web::jx_camera_close();
}

/// The phone's position, if the platform gives one: a fix at most a minute old for ordering the route, or (`fresh`)
/// a new one for a handoff's proof, where a cached fix from the previous door would place it wrongly.
pub async fn locate(fresh: bool) -> Option<jx_core::event::Fix> {
    #[cfg(target_arch = "wasm32")]
    {
        let v = wasm_bindgen_futures::JsFuture::from(web::jx_locate(if fresh { 0 } else { 60_000 })).await.ok()?;
        let a: js_sys::Array = wasm_bindgen::JsCast::dyn_into(v).ok()?;
        let n = |i: u32| a.get(i).as_f64();
        Some(jx_core::event::Fix { at: jx_core::geo::LatLng { lat: n(0)?, lng: n(1)? }, accuracy_m: n(2)? as f32 })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = fresh;
        None
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now() as i64;
    #[cfg(not(target_arch = "wasm32"))]
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    #[cfg(target_arch = "wasm32")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
}

/// Reads `text` aloud in Mandarin; false where the platform has no Chinese voice (the screen then says so).
pub fn speak(text: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    return web::jx_speak(text);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        false
    }
}

/// Whether the platform has a Chinese voice to read with.
pub fn can_speak() -> bool {
    #[cfg(target_arch = "wasm32")]
    return web::jx_can_speak();
    #[cfg(not(target_arch = "wasm32"))]
    false
}

/// A saved preference.
pub fn pref(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    return web::jx_pref(key);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

pub fn set_pref(key: &str, value: &str) {
    #[cfg(target_arch = "wasm32")]
    web::jx_set_pref(key, value);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (key, value);
}

/// Where the page came from: the centre that served it, the default address to enrol with.
pub fn origin() -> String {
    #[cfg(target_arch = "wasm32")]
    return web::jx_origin();
    #[cfg(not(target_arch = "wasm32"))]
    "http://127.0.0.1:7878".into()
}

/// Goes to another page of the app (the web only: elsewhere every screen is in the one window).
pub fn go(url: &str) {
    #[cfg(target_arch = "wasm32")]
    web::jx_go(url);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = url;
}

/// A newer build of the app is installed and waits for this page to reload (the web; never elsewhere).
pub fn update_ready() -> bool {
    #[cfg(target_arch = "wasm32")]
    return web::jx_update_ready();
    #[cfg(not(target_arch = "wasm32"))]
    false
}

/// Asks the browser to look for a newer build now (it also does by itself, at most daily, on navigation).
pub fn check_for_update() {
    #[cfg(target_arch = "wasm32")]
    web::jx_update_check();
}

/// Reloads the page: the newer build starts, and the store, with every draft, is where it was.
pub fn reload() {
    #[cfg(target_arch = "wasm32")]
    web::jx_reload();
}

/// "21:05" in the phone's time zone.
pub fn clock(at: jx_core::Timestamp) -> String {
    #[cfg(target_arch = "wasm32")]
    return web::jx_clock(at.0 as f64);
    #[cfg(not(target_arch = "wasm32"))]
    {
        // China Standard Time, without a time-zone database.
        let mins = (at.0.div_euclid(60_000) + 8 * 60).rem_euclid(24 * 60);
        format!("{:02}:{:02}", mins / 60, mins % 60)
    }
}

/// A `datetime-local` input's value as a moment, in the phone's time zone.
pub fn parse_local(text: &str) -> Option<jx_core::Timestamp> {
    #[cfg(target_arch = "wasm32")]
    return web::jx_parse_local(text).map(|ms| jx_core::Timestamp(ms as i64));
    #[cfg(not(target_arch = "wasm32"))]
    {
        // "2026-11-30T19:30", read as China Standard Time.
        let (d, t) = text.split_once('T')?;
        let (from, _) = jx_core::time::ShanghaiDay::parse(d)?.span();
        let (h, min) = t.split_once(':')?;
        let (h, min) = (
            h.parse::<i64>().ok().filter(|h| (0..24).contains(h))?,
            min.get(..2)?.parse::<i64>().ok().filter(|m| (0..60).contains(m))?,
        );
        Some(jx_core::Timestamp(from + (h * 60 + min) * 60_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_derives_the_store_key_and_without_one_a_key_file_is_made_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = native_key(dir.path(), Some("246810")).expect("derives");
        assert_eq!(native_key(dir.path(), Some("246810")).expect("again"), a, "the same PIN, the same key");
        assert_ne!(native_key(dir.path(), Some("246811")).expect("derives"), a, "another PIN, another key");
        assert!(!dir.path().join("store.key").exists(), "with a PIN nothing of the key is on disk");
        let other = tempfile::tempdir().expect("tempdir");
        assert_ne!(native_key(other.path(), Some("246810")).expect("derives"), a, "another salt, another key");

        let k = native_key(dir.path(), None).expect("made");
        assert_eq!(native_key(dir.path(), None).expect("read back"), k);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("store.key")).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn local_times_read_and_print_in_shanghai_time() {
        let t = parse_local("2026-11-30T19:30").expect("parses");
        assert_eq!(t.0, 1_796_038_200_000);
        assert_eq!(clock(t), "19:30");
        assert_eq!(parse_local("tomorrow"), None);
    }
}
