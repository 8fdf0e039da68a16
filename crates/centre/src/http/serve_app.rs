//! Serving the built web app (the Dioxus wasm bundle) from a folder, so that one command runs the whole product.
//! Any path that is not a file is answered with `index.html`: the app routes on the client.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "geojson" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The file under `root` that a request path names, if the path stays inside `root`.
pub fn resolve(root: &Path, uri_path: &str) -> Option<PathBuf> {
    let rel = Path::new(uri_path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel))
}

pub async fn serve(State(st): State<AppState>, req: Request) -> Response {
    let Some(root) = st.settings.app_dir.clone() else {
        return (StatusCode::NOT_FOUND, "no app is served here; start the centre with --app-dir").into_response();
    };
    let path = match resolve(&root, req.uri().path()) {
        Some(p) if p.is_file() => p,
        Some(_) => root.join("index.html"),
        None => return (StatusCode::BAD_REQUEST, "bad path").into_response(),
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "the app has not been built into the app folder").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_app_folder() {
        let root = Path::new("/srv/app");
        assert_eq!(resolve(root, "/pkg/app.js"), Some(PathBuf::from("/srv/app/pkg/app.js")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/pkg/../../x"), None);
    }
}
