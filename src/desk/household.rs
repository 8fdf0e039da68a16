//! Residents without phones, from a task's history: their household card (issue, reissue — the old card stops
//! verifying — and print) and the family members who may receive for them (add with their own code, print, remove).

use super::api::{DeskError, print_frame};
use super::{Desk, DeskErrorLine};
use crate::i18n::{D, Lang, desk};
use dioxus::prelude::*;
use jx_core::ResidentId;
use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct CardIssued {
    serial: u32,
    code: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Proxy {
    id: u32,
    name: String,
    relation: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct ProxyAdded {
    id: u32,
    code: String,
}

#[component]
pub fn HouseholdPanel(resident: ResidentId) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut issued = use_signal(|| None::<CardIssued>);
    let mut added = use_signal(|| None::<ProxyAdded>);
    let mut sheet = use_signal(|| None::<String>);
    let mut error = use_signal(|| None::<DeskError>);
    let mut name = use_signal(String::new);
    let mut relation = use_signal(String::new);
    let mut changed = use_signal(|| 0u32);
    let proxies = use_resource(move || async move {
        let _ = changed();
        let s = d.session()?;
        let r = s.get::<Vec<Proxy>>(&format!("/residents/{}/proxies", resident.0)).await;
        d.saw(&r);
        r.ok()
    });
    let l = lang();
    let t = |m| desk(l, m);
    let base = format!("/residents/{}", resident.0);
    let print = move |path: String| async move {
        let Some(s) = d.session() else { return };
        let r = s.get_text(&format!("{path}?lang={}", lang().tag())).await;
        d.saw(&r);
        match r {
            Ok(html) => sheet.set(Some(html)),
            Err(e) => error.set(Some(e)),
        }
    };
    let issue = {
        let base = base.clone();
        move |_| {
            let base = base.clone();
            async move {
                let Some(s) = d.session() else { return };
                let r = s.post::<_, CardIssued>(&format!("{base}/card"), &serde_json::json!({})).await;
                d.saw(&r);
                match r {
                    Ok(c) => {
                        error.set(None);
                        issued.set(Some(c));
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        }
    };
    let add = {
        let base = base.clone();
        move |evt: FormEvent| {
            evt.prevent_default();
            let base = base.clone();
            async move {
                let Some(s) = d.session() else { return };
                let body = serde_json::json!({ "name": name().trim(), "relation": relation().trim() });
                let r = s.post::<_, ProxyAdded>(&format!("{base}/proxies"), &body).await;
                d.saw(&r);
                match r {
                    Ok(p) => {
                        error.set(None);
                        name.set(String::new());
                        relation.set(String::new());
                        added.set(Some(p));
                        *changed.write() += 1;
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        }
    };
    rsx! {
        section { class: "card household", "data-testid": "household",
            h4 { {t(D::HouseholdCard)} }
            p { class: "muted", {t(D::HouseholdHelp)} }
            div { class: "actions",
                button { class: "chip-button", "data-testid": "issue-card", onclick: issue, {t(D::IssueCard)} }
                button { class: "chip-button", "data-testid": "print-card", onclick: { let base = base.clone(); move |_| print(format!("{base}/card")) }, {t(D::PrintCard)} }
            }
            if let Some(c) = issued() {
                p { class: "ok", "data-testid": "card-issued", "data-serial": "{c.serial}", "data-code": "{c.code}", {desk(l, D::CardIssued(c.serial, c.code.clone()))} }
            }
            h4 { {t(D::Proxies)} }
            ul { class: "plain", "data-testid": "proxies",
                for p in proxies().flatten().unwrap_or_default() {
                    li { key: "{p.id}", "data-proxy": "{p.id}",
                        "{p.name} · {p.relation} "
                        button { class: "link", onclick: { let base = base.clone(); move |_| print(format!("{base}/proxies/{}/card", p.id)) }, {t(D::Print)} }
                        button { class: "link danger-inline", "data-testid": "remove-proxy",
                            onclick: { let base = base.clone(); move |_| { let path = format!("{base}/proxies/{}", p.id); async move {
                                let Some(s) = d.session() else { return };
                                let r = s.send("DELETE", &path, super::api::Body::None).await;
                                d.saw(&r);
                                match r { Ok(_) => *changed.write() += 1, Err(e) => error.set(Some(e)) }
                            } } },
                            {t(D::Remove)}
                        }
                    }
                }
            }
            form { class: "actions", onsubmit: add,
                input { "data-testid": "proxy-name", placeholder: t(D::ProxyName), value: "{name}", oninput: move |e| name.set(e.value()) }
                input { "data-testid": "proxy-relation", placeholder: t(D::ProxyRelation), value: "{relation}", oninput: move |e| relation.set(e.value()) }
                button { class: "chip-button", r#type: "submit", "data-testid": "add-proxy", {t(D::AddProxy)} }
            }
            if let Some(p) = added() {
                p { class: "ok", "data-testid": "proxy-added", "data-proxy": "{p.id}", "data-code": "{p.code}", {desk(l, D::ProxyAdded(p.code.clone()))} }
            }
            DeskErrorLine { error: error() }
            if let Some(html) = sheet() {
                div { class: "sheet",
                    div { class: "actions",
                        button { class: "primary", onclick: move |_| print_frame("household-sheet"), {t(D::Print)} }
                        button { class: "chip-button", onclick: move |_| sheet.set(None), {t(D::Close)} }
                    }
                    iframe { id: "household-sheet", "data-testid": "household-sheet", srcdoc: "{html}" }
                }
            }
        }
    }
}
