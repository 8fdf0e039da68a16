//! Import: the back office's CSV or JSON of finished cases and pickup requests. The file is checked first (the
//! centre writes nothing) and every bad row is shown with its reason; only then does the coordinator import.

use super::api::{Body, DeskError, exchange, judge};
use super::{Desk, DeskErrorLine};
use crate::i18n::{D, Lang, desk};
use dioxus::prelude::*;
use jx_core::wire::ImportReport;

/// A chosen file.
#[derive(Clone, Debug, PartialEq)]
struct Chosen {
    name: String,
    ctype: &'static str,
    bytes: Vec<u8>,
}

fn ctype_of(name: &str, bytes: &[u8]) -> &'static str {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if name.to_ascii_lowercase().ends_with(".json") || matches!(first, Some(b'[') | Some(b'{')) {
        "application/json"
    } else {
        "text/csv"
    }
}

/// Sends the file in `mode`; a file the centre turns away whole still comes back as a report.
async fn send(d: Desk, file: &Chosen, mode: &str) -> Result<ImportReport, DeskError> {
    let s = d.session().ok_or(DeskError::SignedOut)?;
    let url = format!("{}/api/v1/tasks/import?mode={mode}", s.centre);
    let body = Body::Bytes { ctype: file.ctype.to_string(), bytes: file.bytes.clone() };
    let r = exchange("POST", &url, &s.token, body).await;
    d.saw(&r);
    let reply = r?;
    if reply.status == 422
        && let Some(report) = serde_json::from_str::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("report").cloned())
            .and_then(|v| serde_json::from_value::<ImportReport>(v).ok())
    {
        return Ok(report);
    }
    serde_json::from_str(&judge(reply)?).map_err(|e| DeskError::Garbled(e.to_string()))
}

#[component]
pub fn ImportPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut file = use_signal(|| None::<Chosen>);
    let mut check = use_signal(|| None::<ImportReport>);
    let mut done = use_signal(|| None::<ImportReport>);
    let mut error = use_signal(|| None::<DeskError>);
    let mut busy = use_signal(|| false);
    let l = lang();
    let t = |m| desk(l, m);
    let run = move |mode: &'static str| async move {
        let Some(f) = file() else { return };
        busy.set(true);
        error.set(None);
        let r = send(d, &f, mode).await;
        busy.set(false);
        match r {
            Ok(rep) if mode == "check" => check.set(Some(rep)),
            Ok(rep) => {
                check.set(None);
                file.set(None);
                done.set(Some(rep));
                d.changed();
            }
            Err(e) => error.set(Some(e)),
        }
    };
    rsx! {
        div { class: "import",
            p { class: "muted", {t(D::ImportHelp)} }
            label { class: "photo-button",
                span { {t(D::ChooseFile)} }
                input {
                    r#type: "file",
                    accept: ".csv,.json,text/csv,application/json",
                    "data-testid": "import-file",
                    onchange: move |evt: FormEvent| async move {
                        for f in evt.files() {
                            if let Ok(bytes) = f.read_bytes().await {
                                let name = f.name();
                                let bytes = bytes.to_vec();
                                let ctype = ctype_of(&name, &bytes);
                                file.set(Some(Chosen { name, ctype, bytes }));
                                done.set(None);
                                check.set(None);
                                run("check").await;
                            }
                        }
                    },
                }
            }
            if let Some(f) = file() {
                p { "data-testid": "import-name", {desk(l, D::ChosenFile(f.name.clone(), f.bytes.len()))} }
            }
            DeskErrorLine { error: error() }
            if let Some(rep) = check() {
                div { class: "card", "data-testid": "import-check",
                    p { "data-testid": "import-valid", {desk(l, D::RowsValid(rep.valid))} }
                    if !rep.errors.is_empty() {
                        p { class: "error", {desk(l, D::RowsBad(rep.errors.len()))} }
                        table { class: "tasks", "data-testid": "import-errors",
                            thead { tr { th { {t(D::Line)} } th { {t(D::Field)} } th { {t(D::Reason)} } } }
                            tbody {
                                for (i, e) in rep.errors.iter().enumerate() {
                                    tr { key: "{i}", "data-line": "{e.line}",
                                        td { "{e.line}" }
                                        td { {e.field.clone().unwrap_or_default()} }
                                        td { {e.reason.clone()} }
                                    }
                                }
                            }
                        }
                    }
                    if rep.valid > 0 {
                        button {
                            class: "primary",
                            "data-testid": "import-commit",
                            disabled: busy(),
                            onclick: move |_| run(if rep.errors.is_empty() { "all_or_nothing" } else { "good_rows" }),
                            {if rep.errors.is_empty() { desk(l, D::ImportAll(rep.valid)) } else { desk(l, D::ImportGood(rep.valid)) }}
                        }
                    }
                }
            }
            if let Some(rep) = done() {
                p { class: "ok", "data-testid": "import-done", {desk(l, D::Imported(rep.imported))} }
            }
        }
    }
}
