//! Tonight: the route in walking order, grouped by building, the progress, green-channel tasks marked, and the
//! sync chip.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::{ErrorLine, Revision, Screen, Switches};
use dioxus::prelude::*;
use jx_engine::protocol::{Chip, Stop, SyncView, Tonight};
use jx_engine::{EngineError, Request, Response};

#[component]
pub fn TonightPage() -> Element {
    let client = use_context::<Client>();
    let revision = use_context::<Signal<Revision>>();
    let position = use_context::<Signal<Option<jx_core::geo::LatLng>>>();
    let route = use_resource(move || {
        let client = client.clone();
        let _ = revision();
        let from = position();
        async move { client.call(Request::Tonight { from }).await }
    });
    let ans = route.read().clone();
    rsx! {
        match ans {
            None => rsx! { main { class: "screen", "data-testid": "tonight-loading" } },
            Some(Ok(Response::Tonight(t))) => rsx! { TonightView { tonight: t } },
            Some(Ok(_)) => rsx! {},
            Some(Err(e)) => rsx! { main { class: "screen", "data-testid": "tonight", ErrorLine { error: Some(e) } } },
        }
    }
}

/// The route, as the engine answered it.
#[component]
pub fn TonightView(tonight: Tonight) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut screen = use_context::<Signal<Screen>>();
    let l = lang();
    let t = tonight;
    rsx! {
        main { class: "screen tonight", "data-testid": "tonight",
            header { class: "bar",
                h1 { {tr(l, Msg::Tonight)} }
                SyncChip {}
            }
            Switches {}
            div { class: "progress-line",
                span { class: "progress", "data-testid": "progress", {tr(l, Msg::Progress { done: t.done, total: t.total })} }
                if t.green_open > 0 {
                    span { class: "badge green", {tr(l, Msg::GreenOpen(t.green_open))} }
                }
                if t.conflicts > 0 {
                    span { class: "badge warn", {tr(l, Msg::Conflicts(t.conflicts))} }
                }
                if t.proof_asked > 0 {
                    span { class: "badge warn", "data-testid": "proof-asked-count", {tr(l, Msg::ProofAskedCount(t.proof_asked))} }
                }
                button { class: "chip-button", "data-testid": "open-outbox", onclick: move |_| screen.set(Screen::Outbox),
                    {tr(l, Msg::Outbox)}
                }
            }
            meter { class: "meter", min: "0", max: "{t.total.max(1)}", value: "{t.done}" }
            if t.total == 0 {
                p { class: "card muted", {tr(l, Msg::NothingTonight)} }
            }
            for stop in t.todo.iter() {
                StopCard { key: "{stop.compound.0}-{stop.building}", stop: stop.clone() }
            }
            if !t.finished.is_empty() {
                h2 { class: "section", {tr(l, Msg::FinishedStops)} }
                for stop in t.finished.iter() {
                    StopCard { key: "done-{stop.compound.0}-{stop.building}", stop: stop.clone() }
                }
            }
        }
    }
}

#[component]
fn StopCard(stop: Stop) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut screen = use_context::<Signal<Screen>>();
    let l = lang();
    rsx! {
        section { class: "card stop", "data-testid": "stop",
            h2 {
                {tr(l, Msg::Building(stop.building))}
                span { class: "muted small", " · ",
                    match stop.compound_name.clone() {
                        Some(name) => rsx! { "{name}" },
                        None => rsx! { {tr(l, Msg::Compound(stop.compound.0))} },
                    }
                }
            }
            ul { class: "rows",
                for row in stop.tasks.iter().cloned() {
                    li { key: "{row.id}",
                        button {
                            class: "row {row.status.as_str()}",
                            "data-testid": "task-row",
                            "data-task": "{row.id}",
                            "data-kind": "{row.kind}",
                            "data-status": "{row.status.as_str()}",
                            onclick: move |_| screen.set(Screen::Task(row.id)),
                            span { class: "kind {row.kind}", {i18n::kind(l, row.kind)} }
                            span { class: "door", {i18n::door(l, &row.address)} }
                            span { class: "who", {row.resident.clone()} }
                            span { class: "item muted", {row.item.clone()} }
                            if row.green {
                                span { class: "badge green", "data-testid": "green", {tr(l, Msg::GreenChannel)} }
                            }
                            if row.draft {
                                span { class: "badge", {tr(l, Msg::HalfDone)} }
                            }
                            if row.due_again {
                                span { class: "badge warn", "data-testid": "due-again", {tr(l, Msg::DueAgain)} }
                            }
                            if row.must_return {
                                span { class: "badge warn", "data-testid": "must-return", {tr(l, Msg::MustReturn)} }
                            }
                            if row.proof_asked {
                                span { class: "badge warn", "data-testid": "proof-asked", {tr(l, Msg::ProofAsked)} }
                            }
                            if let Some(at) = row.booked_for {
                                span { class: "badge", "data-testid": "booked-for", {tr(l, Msg::BookedFor(crate::desk::shanghai_day(at.0).get(5..).unwrap_or_default().to_string()))} }
                            }
                            span { class: "status", {i18n::status(l, row.status)} }
                        }
                    }
                }
            }
        }
    }
}

/// The sync chip: offline / N waiting / synced at hh:mm / a problem (tap for why). It asks the engine every
/// 1.5 s, bumps the revision when a sync has finished so the screens reload what it brought, and goes back to
/// enrolment when the phone has been revoked (and wiped).
#[component]
pub fn SyncChip() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let mut revision = use_context::<Signal<Revision>>();
    let mut screen = use_context::<Signal<Screen>>();
    let mut view = use_signal(|| None::<SyncView>);
    let mut open = use_signal(|| false);
    use_future(move || {
        let client = client.clone();
        async move {
            let mut last = None;
            loop {
                match client.call(Request::Sync { online: platform::online() }).await {
                    Ok(Response::Sync(v)) => {
                        if v.last_sync != last {
                            if last.is_some() {
                                let r = revision.peek().0;
                                revision.set(Revision(r + 1));
                            }
                            last = v.last_sync;
                        }
                        view.set(Some(v));
                    }
                    // The centre revoked this phone and it has been wiped: back to enrolment.
                    Err(EngineError::NotEnrolled) => {
                        screen.set(Screen::Enrol);
                        return;
                    }
                    _ => {}
                }
                platform::sleep(1_500).await;
            }
        }
    });
    let l = lang();
    let Some(v) = view() else {
        return rsx! { span { class: "sync-chip", "data-testid": "sync-chip", "data-state": "unknown" } };
    };
    let state = match v.chip {
        Chip::Offline => "offline",
        Chip::Syncing => "syncing",
        Chip::Synced => "synced",
        Chip::Waiting => "waiting",
        Chip::Problem => "problem",
        Chip::Never => "never",
    };
    let waiting = v.waiting + u64::from(v.photos_waiting);
    rsx! {
        button {
            class: "sync-chip {state}",
            "data-testid": "sync-chip",
            "data-state": "{state}",
            "data-waiting": "{waiting}",
            onclick: move |_| {
                if v.chip == Chip::Problem { screen.set(Screen::Outbox) } else { open.set(!open()) }
            },
            {i18n::chip(l, &v, &platform::clock)}
        }
        if open() {
            if let Some(problem) = v.problem.as_ref() {
                p { class: "why", "data-testid": "sync-why", {i18n::sync_problem(l, problem)} }
                if let Some(why) = v.why.clone() {
                    p { class: "why small", {tr(l, Msg::Why)} ": " {why} }
                }
            }
        }
    }
}
