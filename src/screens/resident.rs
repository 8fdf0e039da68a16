//! The resident's moment: the phone turned to the person at the door to confirm, sign or rate. Very large type,
//! black on white, one question at a time, read aloud in Mandarin where the phone can (and saying so where it
//! cannot). Only this task's service item is on it: nothing of any other resident.

use crate::i18n::{Lang, Msg, tr};
use crate::platform;
use crate::screens::handoff::Household;
use crate::screens::signature::SignaturePad;
use crate::screens::{ErrorLine, PhotoButton};
use dioxus::prelude::*;
use jx_engine::draft::{Draft, Step};
use jx_engine::{EngineError, Request};

/// How the resident answers the confirm step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// The 6-digit code of the task's slip.
    Code,
    Sign,
    /// Their household card: its QR, or the code printed under it.
    Card,
    /// A family member on file receives, with their own code.
    Proxy(u32),
}

/// The question of a resident-facing step, as shown and as read aloud.
pub fn question(l: Lang, d: &Draft, step: Step, way: Way) -> String {
    let confirm = tr(l, Msg::ResidentConfirm { item: d.item.clone() });
    match step {
        Step::Confirm if way == Way::Sign => format!("{confirm} {}", tr(l, Msg::SignHere)),
        Step::Confirm if way == Way::Card => format!("{confirm} {}", tr(l, Msg::ResidentCardAsk)),
        Step::Confirm if matches!(way, Way::Proxy(_)) => format!("{confirm} {}", tr(l, Msg::ProxyCodeAsk)),
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
    household: Household,
    on_leave: EventHandler<()>,
) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut code = use_signal(String::new);
    let mut way = use_signal(|| Way::Code);
    let mut voice = use_signal(platform::can_speak);
    let l = lang();
    let step = draft.current();
    let task = draft.task;
    let text = question(l, &draft, step, way());
    // Read each question aloud when it appears.
    let spoken = text.clone();
    use_effect(use_reactive!(|spoken| voice.set(platform::speak(&spoken))));
    rsx! {
        main { class: "resident", "data-testid": "resident", "data-step": step.as_str(),
            p { class: "resident-question", "data-testid": "resident-question", "{text}" }
            match step {
                Step::Confirm if way() != Way::Sign => rsx! {
                    if way() == Way::Card {
                        PhotoButton {
                            testid: "resident-card-photo",
                            label: tr(l, Msg::ScanHouseholdCard),
                            disabled: busy,
                            on_photo: move |photo| run.call(Request::ScanHousehold { task, photo }),
                        }
                    }
                    form {
                        class: "resident-code",
                        onsubmit: move |e: FormEvent| {
                            e.prevent_default();
                            let code = code();
                            run.call(match way() {
                                Way::Card => Request::TypeHouseholdCode { task, code },
                                Way::Proxy(proxy) => Request::ProxyCode { task, proxy, code },
                                _ => Request::TypeCode { task, code },
                            });
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
                    if way() != Way::Code {
                        button { class: "resident-alt", "data-testid": "resident-way-code", onclick: move |_| way.set(Way::Code), {tr(l, Msg::ResidentSlipCode)} }
                    }
                    if household.card && way() != Way::Card {
                        button { class: "resident-alt", "data-testid": "resident-way-card", onclick: move |_| way.set(Way::Card), {tr(l, Msg::ResidentUseCard)} }
                    }
                    for p in household.proxies.iter().cloned() {
                        if way() != Way::Proxy(p.id) {
                            button { key: "{p.id}", class: "resident-alt", "data-testid": "resident-way-proxy-{p.id}", onclick: move |_| way.set(Way::Proxy(p.id)),
                                {tr(l, Msg::ResidentProxy(format!("{} ({})", p.name, p.relation)))}
                            }
                        }
                    }
                    button { class: "resident-alt", onclick: move |_| way.set(Way::Sign), {tr(l, Msg::ResidentOrSign)} }
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
