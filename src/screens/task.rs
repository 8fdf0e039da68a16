//! One task: the resident, the masked phone with a call button, the address to the room, the service item, the
//! proof it needs, its history.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::{Back, ErrorLine, Revision, Screen};
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_engine::protocol::TaskView;
use jx_engine::{Request, Response};

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
