//! The outbox: every fact this phone recorded, newest first, with where it is on its way to the centre; a refused
//! one says why and what to do.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::tonight::SyncChip;
use crate::screens::{Back, ErrorLine, Revision, Screen};
use dioxus::prelude::*;
use jx_engine::protocol::OutboxView;
use jx_engine::{Request, Response};

#[component]
pub fn OutboxPage() -> Element {
    let client = use_context::<Client>();
    let revision = use_context::<Signal<Revision>>();
    let mut tick = use_signal(|| 0u32);
    let view = use_resource(move || {
        let client = client.clone();
        let _ = (revision(), tick());
        async move { client.call(Request::Outbox).await }
    });
    // Statuses move as the sync runs: look again every few seconds.
    use_future(move || async move {
        loop {
            platform::sleep(3_000).await;
            tick += 1;
        }
    });
    let ans = view.read().clone();
    match ans {
        None => rsx! { main { class: "screen", "data-testid": "outbox-loading" } },
        Some(Ok(Response::Outbox(v))) => rsx! { OutboxList { view: v } },
        Some(Ok(_)) => rsx! {},
        Some(Err(e)) => {
            rsx! { main { class: "screen", "data-testid": "outbox", Back { to: Screen::Tonight } ErrorLine { error: Some(e) } } }
        }
    }
}

#[component]
pub fn OutboxList(view: OutboxView) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let l = lang();
    rsx! {
        main { class: "screen outbox", "data-testid": "outbox",
            header { class: "bar",
                Back { to: Screen::Tonight }
                SyncChip {}
            }
            h1 { {tr(l, Msg::Outbox)} }
            if view.sync.photos_waiting > 0 {
                p { class: "muted", {tr(l, Msg::PhotosWaiting(view.sync.photos_waiting))} }
            }
            button {
                class: "secondary",
                "data-testid": "sync-now",
                onclick: move |_| {
                    let client = client.clone();
                    async move {
                        let _ = client.call(Request::SyncNow).await;
                    }
                },
                {tr(l, Msg::SyncNow)}
            }
            if view.lines.is_empty() {
                p { class: "card muted", {tr(l, Msg::OutboxEmpty)} }
            }
            ul { class: "outbox-lines",
                for line in view.lines.iter() {
                    li { key: "{line.at.0}-{line.short}-{line.status}", class: "card line {line.status}", "data-testid": "outbox-row", "data-status": "{line.status}",
                        span { class: "time", {platform::clock(line.at)} }
                        " " {i18n::event(l, line.what)} " · "
                        span { class: "short", "{line.short}" }
                        " · "
                        span { class: "status", {i18n::outbox_status(l, &line.status)} }
                        if let Some(r) = line.reason.as_deref() {
                            p { class: "error small", {i18n::outbox_refusal(l, r)} }
                            p { class: "small", {tr(l, Msg::RejectedHelp)} }
                        }
                    }
                }
            }
        }
    }
}
