//! `jx-worker`: the web build's dedicated worker, which runs the engine off the page's thread.
//!
//! It owns the worker's side of the page ↔ engine conversation and the browser storage the engine lives on:
//! SQLite's OPFS "sync access handle pool" VFS (`sqlite-wasm-vfs`), which persists the store in the origin's
//! private file system and exists only in dedicated workers. Each message from the page is
//! `{id, req}` with `req` a JSON [`jx_engine::Request`]; each answer is `{id, ans}` with `ans` a JSON
//! `Result<Response, EngineError>`. Before it can answer, it posts `{ready: true}` (or `{fatal: "…"}` if the
//! storage cannot be opened, e.g. a second tab holds it).
//!
//! The store is encrypted (SQLCipher, through libtomcrypt here). Its key is 32 random bytes made on first start and
//! kept in IndexedDB, sealed with AES-GCM under a non-extractable WebCrypto key stored beside it: the files in the
//! private file system alone (a copied profile folder's OPFS, a storage dump) are unreadable, but whoever holds the
//! whole unlocked browser profile holds the key too. The web has no keystore that does better without asking for a
//! passphrase at every start; see the README.
//!
//! A panic cannot be caught on wasm32: it ends the worker. The hook logs it, the page answers the requests in flight
//! with an error and starts a fresh worker on the next one; every step already saved is still in the store.
//!
//! It must never import the UI or the centre. On native targets it is empty: there the engine runs in-process.

#[cfg(target_arch = "wasm32")]
mod web {
    use jx_engine::{Answer, Engine, EngineError, EngineOptions, Request};
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    // The store's key: 32 random bytes made on first start, kept in IndexedDB sealed (AES-GCM) under a
    // non-extractable WebCrypto key that lives beside it. Both are written in one transaction.
    #[wasm_bindgen(inline_js = r#"
function idb() {
  return new Promise((ok, bad) => {
    const r = indexedDB.open("jx-keys", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("keys");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error);
  });
}
function get(db, k) {
  return new Promise((ok, bad) => {
    const r = db.transaction("keys").objectStore("keys").get(k);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error);
  });
}
export async function jx_store_key() {
  const db = await idb();
  const wrap = await get(db, "wrap");
  const sealed = await get(db, "store");
  if (wrap && sealed) {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, wrap, sealed.ct));
  }
  const fresh = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, fresh, raw));
  await new Promise((ok, bad) => {
    const t = db.transaction("keys", "readwrite");
    t.objectStore("keys").put(fresh, "wrap");
    t.objectStore("keys").put({ iv, ct }, "store");
    t.oncomplete = () => ok();
    t.onerror = () => bad(t.error);
  });
  return raw;
}
"#)]
    extern "C" {
        #[wasm_bindgen(catch)]
        fn jx_store_key() -> Result<js_sys::Promise, JsValue>;
    }

    async fn store_key() -> Result<jx_store::StoreKey, String> {
        let p = jx_store_key().map_err(|e| format!("{e:?}"))?;
        let v = wasm_bindgen_futures::JsFuture::from(p).await.map_err(|e| format!("the store's key: {e:?}"))?;
        let bytes = js_sys::Uint8Array::new(&v).to_vec();
        let key: [u8; 32] = bytes.try_into().map_err(|_| "the store's key has the wrong length".to_string())?;
        Ok(jx_store::StoreKey(key))
    }

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    fn post(fields: &[(&str, JsValue)]) {
        let msg = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&msg, &JsValue::from_str(k), v);
        }
        let _ = scope().post_message(&msg);
    }

    async fn open() -> Result<Engine, String> {
        use sqlite_wasm_vfs::sahpool::{OpfsSAHPoolCfgBuilder, install};
        let cfg = OpfsSAHPoolCfgBuilder::new().directory("jing-xiaoer").build();
        install::<sqlite_wasm_rs::WasmOsCallback>(&cfg, true)
            .await
            .map_err(|e| format!("the browser's storage cannot be opened (is the app open in another tab?): {e}"))?;
        let key = store_key().await?;
        let store = jx_store::Store::open_encrypted("/jx", &key).map_err(|e| e.to_string())?;
        Ok(Engine::new(store, EngineOptions::default()))
    }

    fn answer(id: JsValue, ans: &Answer) {
        let json = serde_json::to_string(ans).unwrap_or_else(|e| {
            let err: Answer = Err(EngineError::Internal { detail: format!("an answer could not be encoded: {e}") });
            serde_json::to_string(&err).unwrap_or_default()
        });
        post(&[("id", id), ("ans", JsValue::from_str(&json))]);
    }

    fn on_message(engine: Rc<Engine>, ev: MessageEvent) {
        let data = ev.data();
        let id = js_sys::Reflect::get(&data, &JsValue::from_str("id")).unwrap_or(JsValue::NULL);
        let req = js_sys::Reflect::get(&data, &JsValue::from_str("req")).ok().and_then(|r| r.as_string());
        wasm_bindgen_futures::spawn_local(async move {
            let ans = match req.as_deref().map(serde_json::from_str::<Request>) {
                Some(Ok(req)) => engine.handle(req).await,
                Some(Err(e)) => Err(EngineError::Internal { detail: format!("a request could not be read: {e}") }),
                None => Err(EngineError::Internal { detail: "a message without a request".into() }),
            };
            answer(id, &ans);
        });
    }

    #[wasm_bindgen(start)]
    pub fn start() {
        // A panic ends the worker (wasm has no unwinding); say why in the console before it goes. The page starts
        // a new worker for its next request, and the store is as the last transaction left it.
        std::panic::set_hook(Box::new(|info| web_sys::console::error_1(&JsValue::from_str(&info.to_string()))));
        wasm_bindgen_futures::spawn_local(async {
            match open().await {
                Ok(engine) => {
                    let engine = Rc::new(engine);
                    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev| on_message(Rc::clone(&engine), ev));
                    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
                    handler.forget();
                    post(&[("ready", JsValue::TRUE)]);
                }
                Err(e) => post(&[("fatal", JsValue::from_str(&e))]),
            }
        });
    }
}
