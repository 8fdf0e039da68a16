//! Hand-over at the counter: each team member's packet labels to print for the evening, and packets scanned out
//! to their assignee (custody centre → staff) and back in (collected pickups, undelivered packets). A counter
//! scanner types the label's text and Enter into the scan box; a scan made while the line is down is kept and
//! sent when the centre answers.

use super::api::{DeskError, print_frame};
use super::queue::{Action, act};
use super::{Desk, DeskErrorLine, shanghai_day};
use crate::i18n::{D, Lang, desk, event, status};
use dioxus::prelude::*;
use jx_core::wire::{Board, CounterDirection, CounterResult, CounterScan};

#[component]
pub fn CounterPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut sheet = use_signal(|| None::<String>);
    let mut code = use_signal(String::new);
    let mut direction = use_signal(|| CounterDirection::Out);
    let mut scans = use_signal(Vec::<Result<CounterResult, DeskError>>::new);
    let mut error = use_signal(|| None::<DeskError>);
    let board = use_resource(move || async move {
        let _ = (d.rev)();
        let s = d.session()?;
        let r = s.get::<Board>("/board").await;
        d.saw(&r);
        r.ok()
    });
    let l = lang();
    let t = |m| desk(l, m);
    let labels = move |staff: u32| async move {
        let Some(s) = d.session() else { return };
        let day = shanghai_day(crate::platform::now_ms());
        let r = s.get_text(&format!("/print/labels?staff={staff}&evening={day}&lang={}", lang().tag())).await;
        d.saw(&r);
        match r {
            Ok(html) => {
                sheet.set(Some(html));
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let scan = move |evt: FormEvent| async move {
        evt.prevent_default();
        let text = code().trim().to_string();
        if text.is_empty() {
            return;
        }
        code.set(String::new());
        let r = act(d, Action::Counter(CounterScan { code: text, direction: direction() })).await;
        let r = r.and_then(|body| {
            serde_json::from_str::<CounterResult>(&body).map_err(|e| DeskError::Garbled(e.to_string()))
        });
        scans.write().insert(0, r);
    };
    rsx! {
        div { class: "counter",
            div { class: "board-grid",
                div {
                    h3 { {t(D::PrintLabels)} }
                    if let Some(Some(b)) = board() {
                        ul { class: "plain grid",
                            for s in b.staff.iter().filter(|s| s.open > 0).cloned() {
                                li { key: "{s.staff.0}",
                                    button { class: "chip-button", "data-testid": "labels", "data-staff": "{s.staff.0}",
                                        onclick: move |_| labels(s.staff.0),
                                        {desk(l, D::LabelsFor(s.name.clone(), s.open))}
                                    }
                                }
                            }
                        }
                    }
                    DeskErrorLine { error: error() }
                    h3 { {t(D::DoorCards)} }
                    p { class: "muted", {t(D::DoorCardsHelp)} }
                    button { class: "chip-button", "data-testid": "door-cards",
                        onclick: move |_| async move {
                            let Some(s) = d.session() else { return };
                            let r = s.get_text("/print/door-cards?count=40").await;
                            d.saw(&r);
                            match r {
                                Ok(html) => { sheet.set(Some(html)); error.set(None); }
                                Err(e) => error.set(Some(e)),
                            }
                        },
                        {t(D::PrintDoorCards)}
                    }
                }
                div {
                    h3 { {t(D::ScanAtCounter)} }
                    form { class: "card form", onsubmit: scan,
                        div { class: "segmented",
                            label {
                                input { r#type: "radio", name: "dir", "data-testid": "dir-out", checked: direction() == CounterDirection::Out, onchange: move |_| direction.set(CounterDirection::Out) }
                                {t(D::ScanOut)}
                            }
                            label {
                                input { r#type: "radio", name: "dir", "data-testid": "dir-in", checked: direction() == CounterDirection::In, onchange: move |_| direction.set(CounterDirection::In) }
                                {t(D::ScanIn)}
                            }
                        }
                        label { r#for: "scan", {t(D::ScanHelp)} }
                        input { id: "scan", "data-testid": "scan", autocomplete: "off", value: "{code}", oninput: move |e| code.set(e.value()) }
                        button { class: "primary", r#type: "submit", {t(D::Record)} }
                    }
                    ul { class: "plain", "data-testid": "scans",
                        for (i, r) in scans().into_iter().enumerate() {
                            li { key: "{i}",
                                match r {
                                    Ok(c) => rsx! {
                                        span { class: "ok", "data-testid": "scan-ok", "data-task": "{c.task.id}",
                                            {c.task.case_number.clone()} " · " {event(l, c.action)} " · " {status(l, c.task.status)}
                                        }
                                    },
                                    Err(e) => rsx! { DeskErrorLine { error: Some(e) } },
                                }
                            }
                        }
                    }
                }
            }
            if let Some(html) = sheet() {
                div { class: "sheet",
                    div { class: "actions",
                        button { class: "primary", "data-testid": "print", onclick: move |_| print_frame("label-sheet"), {t(D::Print)} }
                        button { class: "chip-button", onclick: move |_| sheet.set(None), {t(D::Close)} }
                    }
                    iframe { id: "label-sheet", "data-testid": "label-sheet", srcdoc: "{html}" }
                }
            }
        }
    }
}
