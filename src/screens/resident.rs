//! The resident's moment: the phone turned to the person at the door to confirm, sign or rate. Very large type,
//! black on white, one question at a time, read aloud in Mandarin where the phone can (and saying so where it
//! cannot). Only this task's service item is on it: nothing of any other resident.

use crate::i18n::{Lang, Msg, tr};
use crate::platform;
use crate::screens::ErrorLine;
use crate::screens::signature::SignaturePad;
use dioxus::prelude::*;
use jx_engine::draft::{Draft, Step};
use jx_engine::{EngineError, Request};

/// The question of a resident-facing step, as shown and as read aloud.
pub fn question(l: Lang, d: &Draft, step: Step, signing: bool) -> String {
    match step {
        Step::Confirm if signing => {
            format!("{} {}", tr(l, Msg::ResidentConfirm { item: d.item.clone() }), tr(l, Msg::SignHere))
        }
        Step::Confirm => {
            format!("{} {}", tr(l, Msg::ResidentConfirm { item: d.item.clone() }), tr(l, Msg::ResidentCodeAsk))
        }
        Step::Signature => tr(l, Msg::ResidentSign { item: d.item.clone() }),
        _ => tr(l, Msg::ResidentRate),
    }
}

#[component]
pub fn ResidentView(
    draft: Draft,
    busy: bool,
    error: Option<EngineError>,
    run: Callback<Request>,
    on_leave: EventHandler<()>,
) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut code = use_signal(String::new);
    let mut signing = use_signal(|| false);
    let mut voice = use_signal(platform::can_speak);
    let l = lang();
    let step = draft.current();
    let task = draft.task;
    let text = question(l, &draft, step, signing());
    // Read each question aloud when it appears.
    let spoken = text.clone();
    use_effect(use_reactive!(|spoken| voice.set(platform::speak(&spoken))));
    rsx! {
        main { class: "resident", "data-testid": "resident", "data-step": step.as_str(),
            p { class: "resident-question", "data-testid": "resident-question", "{text}" }
            match step {
                Step::Confirm if !signing() => rsx! {
                    form {
                        class: "resident-code",
                        onsubmit: move |e: FormEvent| {
                            e.prevent_default();
                            run.call(Request::TypeCode { task, code: code() });
                        },
                        input {
                            "data-testid": "resident-code-input",
                            inputmode: "numeric",
                            autocomplete: "off",
                            maxlength: "6",
                            value: "{code}",
                            oninput: move |e| code.set(e.value()),
                        }
                        button { class: "resident-ok", r#type: "submit", disabled: busy, "data-testid": "resident-code-submit", {tr(l, Msg::CheckCode)} }
                    }
                    button { class: "resident-alt", onclick: move |_| signing.set(true), {tr(l, Msg::ResidentOrSign)} }
                },
                Step::Confirm | Step::Signature => rsx! {
                    SignaturePad { disabled: busy, on_done: move |strokes| run.call(Request::Sign { task, strokes }) }
                },
                _ => rsx! {
                    div { class: "resident-rating",
                        for n in (1..=5u8).rev() {
                            button {
                                key: "{n}",
                                class: "resident-rate",
                                "data-testid": "resident-rate-{n}",
                                disabled: busy,
                                onclick: move |_| run.call(Request::Rate { task, stars: Some(n) }),
                                span { class: "stars", "aria-hidden": "true", "data-n": "{n}" }
                                span { {tr(l, Msg::Stars(n))} }
                            }
                        }
                    }
                },
            }
            ErrorLine { error }
            if voice() {
                button { class: "resident-alt", "data-testid": "speak", onclick: move |_| voice.set(platform::speak(&text)), {tr(l, Msg::ReadAgain)} }
            } else {
                p { class: "resident-note", "data-testid": "no-voice", {tr(l, Msg::NoVoice)} }
            }
            button { class: "resident-leave", "data-testid": "staff-mode", onclick: move |_| on_leave.call(()), {tr(l, Msg::ToStaff)} }
        }
    }
}
