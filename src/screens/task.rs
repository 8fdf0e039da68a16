//! One task: the resident, the masked phone with a call button, the address to the room, the service item, the
//! proof it needs, its history.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::{Back, ErrorLine, PhotoButton, Revision, Screen};
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_engine::protocol::TaskView;
use jx_engine::{EngineError, Request, Response};

#[component]
pub fn TaskPage(task: TaskId) -> Element {
    let client = use_context::<Client>();
    let revision = use_context::<Signal<Revision>>();
    let detail = use_resource(move || {
        let client = client.clone();
        let _ = revision();
        async move { client.call(Request::Task { task }).await }
    });
    let ans = detail.read().clone();
    match ans {
        None => rsx! { main { class: "screen", "data-testid": "task-loading" } },
        Some(Ok(Response::Task(t))) => rsx! { TaskDetail { task: *t } },
        Some(Ok(_)) => rsx! {},
        Some(Err(e)) => rsx! {
            main { class: "screen", "data-testid": "task",
                Back { to: Screen::Tonight }
                ErrorLine { error: Some(e) }
            }
        },
    }
}

#[component]
pub fn TaskDetail(task: TaskView) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut screen = use_context::<Signal<Screen>>();
    let l = lang();
    let t = task;
    let id = t.id;
    rsx! {
        main { class: "screen task", "data-testid": "task", "data-household": "{t.household}", "data-proxies": "{t.proxies.len()}",
            header { class: "bar",
                Back { to: Screen::Tonight }
                span { class: "short", "{t.short}" }
            }
            h1 { class: "kind-title", {i18n::kind(l, t.kind)} " · " {i18n::status(l, t.status)} }
            if t.green.any() {
                p { class: "badge green", "data-testid": "green", {tr(l, Msg::GreenChannel)} }
            }
            section { class: "card facts",
                dl {
                    dt { {tr(l, Msg::Resident)} }
                    dd { class: "big", "{t.resident}" }
                    dt { {tr(l, Msg::Phone)} }
                    dd {
                        span { "{t.phone_masked} " }
                        a { class: "call", href: "tel:{t.phone}", "data-testid": "call", {tr(l, Msg::Call)} }
                    }
                    dt { {tr(l, Msg::Address)} }
                    dd { class: "big", {i18n::address(l, &t.address)} }
                    dt { {tr(l, Msg::ServiceItem)} }
                    dd { "{t.item}" }
                    dt { {tr(l, Msg::CaseNumber)} }
                    dd { class: "small", "{t.case_number}" }
                    dt { {tr(l, Msg::NeedsProof)} }
                    dd {
                        for r in t.requires.iter() {
                            span { class: "badge", {i18n::requirement(l, *r)} }
                        }
                    }
                }
                if !t.materials.is_empty() {
                    h3 { {tr(l, Msg::Materials)} }
                    ul {
                        for m in t.materials.iter() {
                            li {
                                "{m.name} · "
                                {tr(l, if m.original { Msg::Original } else { Msg::Copy })}
                                if m.required {
                                    " · " {tr(l, Msg::Required)}
                                }
                            }
                        }
                    }
                }
                if t.attempts > 0 {
                    p { class: "muted", {tr(l, Msg::Attempts(t.attempts))} }
                }
                if t.must_return {
                    p { class: "error", "data-testid": "must-return", {tr(l, Msg::MustReturn)} }
                }
                if let Some(at) = t.booked_for {
                    p { class: "ok", "data-testid": "booked-for", {tr(l, Msg::BookedFor(crate::desk::shanghai_day(at.0).get(5..).unwrap_or_default().to_string()))} }
                }
            }
            if t.open {
                div { class: "actions",
                    button { class: "primary", "data-testid": "start-handoff", onclick: move |_| screen.set(Screen::Handoff(id)),
                        {tr(l, if t.draft { Msg::ResumeHandoff } else { Msg::StartHandoff(t.kind) })}
                    }
                    button { class: "secondary", "data-testid": "start-fail", onclick: move |_| screen.set(Screen::Fail(id)),
                        {tr(l, Msg::StartFail)}
                    }
                }
            }
            if t.can_add_proof {
                AddProof { task: id, asked: t.proof_asked.clone() }
            }
            section { class: "card history",
                h3 { {tr(l, Msg::History)} }
                ol {
                    for h in t.history.iter() {
                        li {
                            span { class: "time", {platform::clock(h.at)} }
                            " " {i18n::event(l, h.what)} " · "
                            span { class: "muted", {tr(l, if h.mine { Msg::Mine } else { Msg::NotMine })} }
                            if let Some(o) = h.outbox.as_deref() {
                                " · " span { class: "outbox {o}", {i18n::outbox_status(l, o)} }
                            }
                            if let Some(r) = h.reason.as_deref() {
                                p { class: "error small", {i18n::outbox_refusal(l, r)} }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// More proof for a handoff already recorded: a coordinator's request (with their note) when there is one, and a
/// photo and a note to add. Kept on the phone and sent with the sync, like every fact.
#[component]
fn AddProof(task: TaskId, asked: Option<String>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let mut revision = use_context::<Signal<Revision>>();
    let mut note = use_signal(String::new);
    let mut photo = use_signal(|| None::<Vec<u8>>);
    let mut busy = use_signal(|| false);
    let mut error = use_signal(|| None::<EngineError>);
    let mut kept = use_signal(|| false);
    let l = lang();
    let submit = move |_| {
        let client = client.clone();
        async move {
            busy.set(true);
            error.set(None);
            let ans = client.call(Request::AddProof { task, photo: photo(), note: note() }).await;
            busy.set(false);
            match ans {
                Ok(_) => {
                    photo.set(None);
                    note.set(String::new());
                    kept.set(true);
                    let r = revision.peek().0;
                    revision.set(Revision(r + 1));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    };
    rsx! {
        section { class: "card add-proof", "data-testid": "add-proof",
            if let Some(why) = asked {
                div { class: "error", role: "alert", "data-testid": "proof-asked-note",
                    strong { {tr(l, Msg::ProofAskedTitle)} }
                    if !why.is_empty() { p { "{why}" } }
                }
            }
            h3 { {tr(l, Msg::AddProofTitle)} }
            p { class: "muted small", {tr(l, Msg::AddProofHelp)} }
            PhotoButton {
                testid: "add-proof-photo",
                label: tr(l, Msg::AddProofPhoto),
                disabled: busy(),
                on_photo: move |bytes| photo.set(Some(bytes)),
            }
            if photo().is_some() {
                p { class: "muted", "data-testid": "add-proof-photo-taken", {tr(l, Msg::Done)} }
            }
            label { r#for: "add-proof-note", {tr(l, Msg::Note)} }
            textarea { id: "add-proof-note", rows: "2", value: "{note}", oninput: move |e| note.set(e.value()) }
            button { class: "primary", "data-testid": "add-proof-submit", disabled: busy(), onclick: submit,
                {tr(l, Msg::AddProofSubmit)}
            }
            if kept() {
                p { class: "ok", role: "status", "data-testid": "proof-added", {tr(l, Msg::ProofAddedOk)} }
            }
            ErrorLine { error: error() }
        }
    }
}
