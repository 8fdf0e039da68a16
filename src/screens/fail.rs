//! A failed visit: the reason (with the time the resident asked for, when that is the reason), a note, an
//! optional photo, and the door card left behind (its QR read here; the resident later scans it to pick another
//! evening); the route moves on.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::{ErrorLine, PhotoButton, Revision, Screen};
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_core::event::FailureReason;
use jx_engine::{EngineError, Request, Response};

const REASONS: [(FailureReason, &str); 6] = [
    (FailureReason::NobodyHome, "nobody_home"),
    (FailureReason::Refused, "refused"),
    (FailureReason::WrongAddress, "wrong_address"),
    (FailureReason::AnotherTime, "another_time"),
    (FailureReason::MustBeInPerson, "must_be_in_person"),
    (FailureReason::DocumentsMismatch, "documents_mismatch"),
];

#[component]
pub fn FailPage(task: TaskId) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let mut screen = use_context::<Signal<Screen>>();
    let mut revision = use_context::<Signal<Revision>>();
    let mut reason = use_signal(|| FailureReason::NobodyHome);
    let mut note = use_signal(String::new);
    let mut retry = use_signal(String::new);
    let mut photo = use_signal(|| None::<Vec<u8>>);
    let mut card = use_signal(|| None::<jx_engine::protocol::DoorCardScan>);
    let mut busy = use_signal(|| false);
    let mut error = use_signal(|| None::<EngineError>);
    let l = lang();
    let scan_client = client.clone();
    let submit = move |_| {
        let client = client.clone();
        async move {
            busy.set(true);
            let req = Request::Fail {
                task,
                reason: reason(),
                note: note(),
                retry_at: platform::parse_local(&retry()),
                photo: photo(),
                door_card: card().map(|c| c.card),
            };
            let ans = client.call(req).await;
            busy.set(false);
            match ans {
                Ok(Response::Recorded { .. }) => {
                    let r = revision.peek().0;
                    revision.set(Revision(r + 1));
                    screen.set(Screen::Tonight);
                }
                Ok(_) => {}
                Err(e) => error.set(Some(e)),
            }
        }
    };
    rsx! {
        main { class: "screen fail", "data-testid": "fail",
            header { class: "bar",
                button { class: "back", "data-testid": "back", onclick: move |_| screen.set(Screen::Task(task)), {tr(l, Msg::Back)} }
                span { class: "short", {task.short()} }
            }
            h1 { {tr(l, Msg::FailTitle)} }
            fieldset { class: "reasons",
                legend { {tr(l, Msg::Reason)} }
                for (r, id) in REASONS {
                    button {
                        key: "{id}",
                        class: if reason() == r { "reason on" } else { "reason" },
                        "data-testid": "reason-{id}",
                        "aria-pressed": "{reason() == r}",
                        onclick: move |_| reason.set(r),
                        {i18n::reason(l, r)}
                    }
                }
            }
            if reason() == FailureReason::AnotherTime {
                label { r#for: "retry-at", {tr(l, Msg::RetryAt)} }
                input { id: "retry-at", r#type: "datetime-local", value: "{retry}", oninput: move |e| retry.set(e.value()) }
            }
            label { r#for: "fail-note", {tr(l, Msg::Note)} }
            textarea { id: "fail-note", rows: "3", value: "{note}", oninput: move |e| note.set(e.value()) }
            PhotoButton {
                testid: "fail-photo",
                label: tr(l, Msg::OptionalPhoto),
                disabled: busy(),
                on_photo: move |bytes| photo.set(Some(bytes)),
            }
            if photo().is_some() {
                p { class: "muted", {tr(l, Msg::Done)} }
            }
            h2 { {tr(l, Msg::DoorCardTitle)} }
            p { class: "muted", {tr(l, Msg::DoorCardHelp)} }
            match card() {
                Some(c) => rsx! {
                    p { class: "ok", "data-testid": "door-card", "data-card": "{c.short}", {tr(l, Msg::DoorCardRead(c.short.clone()))} }
                    button { class: "link", onclick: move |_| card.set(None), {tr(l, Msg::DoorCardRemove)} }
                },
                None => rsx! {
                    PhotoButton {
                        testid: "door-card-photo",
                        label: tr(l, Msg::DoorCardScan),
                        disabled: busy(),
                        on_photo: move |bytes: Vec<u8>| {
                            let client = scan_client.clone();
                            spawn(async move {
                                busy.set(true);
                                let ans = client.call(Request::ScanDoorCard { task, photo: bytes }).await;
                                busy.set(false);
                                match ans {
                                    Ok(Response::DoorCard(c)) => {
                                        error.set(None);
                                        card.set(Some(c));
                                    }
                                    Ok(_) => {}
                                    Err(e) => error.set(Some(e)),
                                }
                            });
                        },
                    }
                },
            }
            ErrorLine { error: error() }
            button { class: "primary big", disabled: busy(), "data-testid": "fail-submit", onclick: submit,
                {tr(l, if busy() { Msg::Working } else { Msg::RecordFailure })}
            }
        }
    }
}
