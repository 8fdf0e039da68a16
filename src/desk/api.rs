//! The coordinator's line to the centre: plain HTTP to `/api/v1` with the session's bearer token (the browser's
//! `fetch` on the web, reqwest elsewhere). Coordinators work online; what they send while the line is down waits
//! in [`super::queue`], never in here.

use jx_core::model::Role;
use jx_core::wire::{ApiErrorBody, LoginRequest, LoginResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A coordinator's session, saved so a reload keeps them signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The centre's address, e.g. `http://127.0.0.1:7878`.
    pub centre: String,
    pub token: String,
    pub name: String,
}

/// Why a call to the centre did not give what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskError {
    /// The centre could not be reached (the network, or the centre, is down).
    Offline(String),
    /// The centre could not be reached, and the change is kept in the queue to be sent when it answers.
    Queued,
    /// The session has ended: sign in again.
    SignedOut,
    /// The centre refused, with its stable code and its message.
    Refused { status: u16, code: String, message: String },
    /// The answer was not what this app understands.
    Garbled(String),
}

impl DeskError {
    pub fn is_offline(&self) -> bool {
        matches!(self, DeskError::Offline(_) | DeskError::Queued)
    }
}

/// One HTTP exchange: the status and body of the answer, or why there was none.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// What a request carries.
#[derive(Clone, Debug)]
pub enum Body {
    None,
    Json(String),
    Bytes { ctype: String, bytes: Vec<u8> },
}

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
export async function jx_http(method, url, token, ctype, body) {
  try {
    const headers = {};
    if (token) headers["Authorization"] = "Bearer " + token;
    if (ctype) headers["Content-Type"] = ctype;
    const r = await fetch(url, { method, headers, body: body ?? undefined, cache: "no-store" });
    return [r.status, await r.text()];
  } catch (e) {
    return [0, String((e && e.message) || e)];
  }
}
// A photo the centre keeps, as an object URL the page can show (an <img> cannot send the bearer token).
export async function jx_blob_url(url, token) {
  try {
    const r = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) return null;
    return URL.createObjectURL(await r.blob());
  } catch (e) { return null; }
}
// A file for the user to keep, e.g. the evening's report.
export function jx_save(name, ctype, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: ctype }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
// Prints the sheet shown in the iframe with this id.
export function jx_print(id) {
  const f = document.getElementById(id);
  if (f && f.contentWindow) f.contentWindow.print();
}
"#)]
    extern "C" {
        pub fn jx_http(method: &str, url: &str, token: &str, ctype: &str, body: JsValue) -> js_sys::Promise;
        pub fn jx_blob_url(url: &str, token: &str) -> js_sys::Promise;
        pub fn jx_save(name: &str, ctype: &str, text: &str);
        pub fn jx_print(id: &str);
    }
}

/// Sends one request; `Err` only when no answer came back.
pub async fn exchange(method: &str, url: &str, token: &str, body: Body) -> Result<Reply, DeskError> {
    #[cfg(target_arch = "wasm32")]
    {
        let (ctype, js) = match body {
            Body::None => (String::new(), wasm_bindgen::JsValue::NULL),
            Body::Json(s) => ("application/json".to_string(), wasm_bindgen::JsValue::from_str(&s)),
            Body::Bytes { ctype, bytes } => (ctype, js_sys::Uint8Array::from(bytes.as_slice()).into()),
        };
        let v = wasm_bindgen_futures::JsFuture::from(web::jx_http(method, url, token, &ctype, js))
            .await
            .map_err(|e| DeskError::Offline(format!("{e:?}")))?;
        let a: js_sys::Array = wasm_bindgen::JsCast::dyn_into(v).map_err(|_| DeskError::Garbled("fetch".into()))?;
        let status = a.get(0).as_f64().unwrap_or(0.0) as u16;
        let text = a.get(1).as_string().unwrap_or_default();
        if status == 0 {
            return Err(DeskError::Offline(text));
        }
        Ok(Reply { status, body: text })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let client = reqwest::Client::new();
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| DeskError::Garbled(e.to_string()))?;
        let mut rb = client.request(m, url).timeout(std::time::Duration::from_secs(30));
        if !token.is_empty() {
            rb = rb.bearer_auth(token);
        }
        rb = match body {
            Body::None => rb,
            Body::Json(s) => rb.header("content-type", "application/json").body(s),
            Body::Bytes { ctype, bytes } => rb.header("content-type", ctype).body(bytes),
        };
        let r = rb.send().await.map_err(|e| DeskError::Offline(e.to_string()))?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(|e| DeskError::Offline(e.to_string()))?;
        Ok(Reply { status, body })
    }
}

/// The answer's body when the status says success, the centre's refusal otherwise.
pub fn judge(reply: Reply) -> Result<String, DeskError> {
    match reply.status {
        200..=299 => Ok(reply.body),
        401 => Err(DeskError::SignedOut),
        status => {
            let (code, message) = match serde_json::from_str::<ApiErrorBody>(&reply.body) {
                Ok(b) => (b.code, b.message),
                Err(_) => (format!("http_{status}"), reply.body.chars().take(200).collect()),
            };
            Err(DeskError::Refused { status, code, message })
        }
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, DeskError> {
    serde_json::from_str(text).map_err(|e| DeskError::Garbled(e.to_string()))
}

/// Signs a coordinator in. A team member's login is refused here: their place is the phone.
pub async fn login(centre: &str, login: &str, password: &str) -> Result<(Session, LoginResponse), DeskError> {
    let centre = centre.trim().trim_end_matches('/').to_string();
    let body = serde_json::to_string(&LoginRequest { login: login.trim().to_string(), password: password.to_string() })
        .map_err(|e| DeskError::Garbled(e.to_string()))?;
    let reply = exchange("POST", &format!("{centre}/api/v1/auth/login"), "", Body::Json(body)).await?;
    let r: LoginResponse = match reply.status {
        401 | 429 => {
            let b: ApiErrorBody = parse(&reply.body)?;
            return Err(DeskError::Refused { status: reply.status, code: b.code, message: b.message });
        }
        _ => parse(&judge(reply)?)?,
    };
    if r.role != Role::Coordinator {
        return Err(DeskError::Refused {
            status: 403,
            code: "not_coordinator".into(),
            message: "only coordinators use the desk; team members enrol a phone".into(),
        });
    }
    Ok((Session { centre, token: r.token.clone(), name: r.name.clone() }, r))
}

impl Session {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.centre)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, DeskError> {
        parse(&self.get_text(path).await?)
    }

    pub async fn get_text(&self, path: &str) -> Result<String, DeskError> {
        judge(exchange("GET", &self.url(path), &self.token, Body::None).await?)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, DeskError> {
        let json = serde_json::to_string(body).map_err(|e| DeskError::Garbled(e.to_string()))?;
        parse(&self.send("POST", path, Body::Json(json)).await?)
    }

    /// A request as the queue keeps it: method, path and body, sent as they are.
    pub async fn send(&self, method: &str, path: &str, body: Body) -> Result<String, DeskError> {
        judge(exchange(method, &self.url(path), &self.token, body).await?)
    }

    /// A stored photo as something an `<img>` can show.
    pub async fn blob_url(&self, sha: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        {
            let v = wasm_bindgen_futures::JsFuture::from(web::jx_blob_url(
                &self.url(&format!("/blobs/{sha}")),
                &self.token,
            ))
            .await
            .ok()?;
            v.as_string()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = sha;
            None
        }
    }
}

/// Offers `text` to the user as a file to keep.
pub fn save_file(name: &str, ctype: &str, text: &str) {
    #[cfg(target_arch = "wasm32")]
    web::jx_save(name, ctype, text);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, ctype, text);
}

/// Prints the sheet in the iframe with this id.
pub fn print_frame(id: &str) {
    #[cfg(target_arch = "wasm32")]
    web::jx_print(id);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = id;
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_core::wire::{Board, CounterDirection, CounterScan, TownMap};

    async fn centre() -> (tempfile::TempDir, jx_centre::RunningCentre, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = jx_centre::Settings::new(dir.path());
        s.listen = "127.0.0.1:0".parse().expect("addr");
        s.demo = true;
        s.code_cost = jx_centre::codes::CodeCost { m_kib: 64, t: 1 };
        let c = jx_centre::start(s, false).await.expect("centre starts");
        let url = format!("http://{}", c.addr);
        (dir, c, url)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_coordinator_signs_in_and_reads_the_board_over_real_http() {
        let (_dir, _c, url) = centre().await;
        let wrong = login(&url, "c1", "not-it").await.expect_err("a wrong password is refused");
        assert!(
            matches!(&wrong, DeskError::Refused { status: 401, code, .. } if code == "bad_credentials"),
            "{wrong:?}"
        );
        let staff = login(&url, "s01", jx_centre::town::DEMO_PASSWORD).await.expect_err("a team member is refused");
        assert!(matches!(&staff, DeskError::Refused { code, .. } if code == "not_coordinator"), "{staff:?}");

        let (s, who) = login(&format!("{url}/"), " c1 ", jx_centre::town::DEMO_PASSWORD).await.expect("signs in");
        assert_eq!(who.role, Role::Coordinator);
        assert_eq!(s.centre, url, "the trailing slash is trimmed");
        let board: Board = s.get("/board").await.expect("the board");
        let town: TownMap = s.get("/town").await.expect("the town");
        assert_eq!(board.compounds.len(), town.compounds.len());
        let open: u32 = board.compounds.iter().map(|c| c.unassigned).sum();
        assert_eq!(
            open as usize,
            board.tasks.iter().filter(|t| !t.status.is_settled() && t.assignee.is_none()).count()
        );

        // A refusal carries the centre's code; a garbled answer and a dead line are told apart.
        let scan = CounterScan { code: "not a label".into(), direction: CounterDirection::Out };
        let err = s.post::<_, serde_json::Value>("/counter", &scan).await.expect_err("garbage is refused");
        assert!(matches!(&err, DeskError::Refused { status: 400, code, .. } if code == "bad_code"), "{err:?}");
        let err = s.get::<Board>("/health").await.expect_err("not a board");
        assert!(matches!(err, DeskError::Garbled(_)), "{err:?}");
        let dead = Session { centre: "http://127.0.0.1:9".into(), ..s.clone() };
        assert!(dead.get_text("/health").await.expect_err("nobody there").is_offline());
        let ended = Session { token: "expired".into(), ..s };
        assert_eq!(ended.get_text("/board").await.expect_err("no session"), DeskError::SignedOut);
    }
}
