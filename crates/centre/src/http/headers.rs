//! The security headers on every response: a Content-Security-Policy the staff app, the desk, the printed sheets and
//! the residents' door card pages all work under (scripts and WebAssembly from the centre only, nothing framed,
//! nothing fetched elsewhere), no framing, no MIME sniffing, no referrer, and HSTS when the centre serves TLS.
//! A header a handler set itself is kept.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy. `'wasm-unsafe-eval'` lets the page compile the app's own WebAssembly (and nothing else: no `eval`);
/// inline styles are allowed because the app's stylesheet, the printed sheets and the door card pages carry theirs
/// inline; images may be `data:`/`blob:` (photo thumbnails, QR codes).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; font-src 'self' data:; \
     manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS for a year, on HTTPS only.
const HSTS: &str = "max-age=31536000";

pub async fn security_headers(tls: bool, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(HeaderName::from_static("permissions-policy"), "camera=(self), geolocation=(self), microphone=()");
    if tls {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    res
}
