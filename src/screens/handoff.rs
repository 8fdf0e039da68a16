//! A handoff, step by step. Every step is sent to the engine, which checks it, saves the draft and answers with
//! it; the step shown is the draft's own ([`Draft::current`]), so a killed app reopens exactly where it was.

use crate::i18n::{self, Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::resident::ResidentView;
use crate::screens::signature::SignaturePad;
use crate::screens::viewfinder::{Target, Viewfinder};
use crate::screens::{ErrorLine, PhotoButton, Revision, Screen};
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_engine::draft::{Draft, Step};
use jx_engine::protocol::ProxyChoice;
use jx_engine::{EngineError, Request, Response};

/// Who else may confirm for the resident, as the task says: a household card on file, family members.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Household {
    pub card: bool,
    pub proxies: Vec<ProxyChoice>,
}

#[component]
pub fn HandoffPage(task: TaskId) -> Element {
    let client = use_context::<Client>();
    let mut screen = use_context::<Signal<Screen>>();
    let mut revision = use_context::<Signal<Revision>>();
    let mut draft = use_signal(|| None::<Draft>);
    let mut error = use_signal(|| None::<EngineError>);
    let mut busy = use_signal(|| false);
    let mut locating = use_signal(|| false);
    // The step at which the phone was turned to the resident; their screen lasts until that step is answered.
    let mut resident = use_signal(|| None::<Step>);

    // Each step: ask the engine, show the draft it saved, or why not.
    let run = use_callback(move |req: Request| {
        let client = client.clone();
        spawn(async move {
            busy.set(true);
            let ans = client.call(req).await;
            busy.set(false);
            match ans {
                Ok(Response::Draft(d)) => {
                    draft.set(Some(*d));
                    error.set(None);
                }
                Ok(Response::Recorded { .. }) => {
                    let r = revision.peek().0;
                    revision.set(Revision(r + 1));
                    screen.set(Screen::Tonight);
                }
                Ok(Response::Done) => screen.set(Screen::Task(task)),
                Ok(_) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    });
    let adopt = use_callback(move |d: Draft| {
        draft.set(Some(d));
        error.set(None);
    });
    let locate = use_callback(move |()| {
        spawn(async move {
            locating.set(true);
            let fix = platform::locate(true).await;
            locating.set(false);
            if let Some(fix) = fix {
                run.call(Request::Locate { task, fix });
            }
        });
    });
    use_hook(move || {
        run.call(Request::Begin { task });
        locate.call(());
    });
    let client2 = use_context::<Client>();
    let household = use_resource(move || {
        let client = client2.clone();
        async move {
            match client.call(Request::Task { task }).await {
                Ok(Response::Task(v)) => Household { card: v.household, proxies: v.proxies },
                _ => Household::default(),
            }
        }
    });
    let hh = household().unwrap_or_default();

    let lang = use_context::<Signal<Lang>>();
    let l = lang();
    let Some(d) = draft() else {
        return rsx! {
            main { class: "screen handoff", "data-testid": "handoff-loading",
                ErrorLine { error: error() }
            }
        };
    };
    let current = d.current();
    let steps = d.steps();
    let n = steps.iter().position(|s| *s == current).map(|i| i + 1).unwrap_or(steps.len());
    let b = busy();
    // The phone turned to the resident: their screen only, until they have answered (or it is handed back).
    if resident() == Some(current) && current.resident_facing() {
        return rsx! {
            ResidentView { draft: d.clone(), busy: b, error: error(), run, household: hh.clone(), on_leave: move |_| resident.set(None) }
        };
    }
    rsx! {
        main { class: "screen handoff", "data-testid": "handoff", "data-step": current.as_str(),
            header { class: "bar",
                button { class: "back", "data-testid": "back", onclick: move |_| screen.set(Screen::Task(task)), {tr(l, Msg::Back)} }
                span { class: "short", {task.short()} }
            }
            h1 { {i18n::kind(l, d.kind)} }
            if current != Step::Ready {
                p { class: "muted", {tr(l, Msg::StepOf { n, of: steps.len() })} }
            }
            ol { class: "steps",
                for s in steps.iter().copied() {
                    li { key: "{s.as_str()}", class: if s == current { "step current" } else if d.done(s) { "step done" } else { "step" },
                        h2 { {step_title(l, s)} }
                        if s == current {
                            StepBody { step: s, draft: d.clone(), busy: b, run, adopt, household: hh.clone() }
                        }
                    }
                }
            }
            if current.resident_facing() {
                button { class: "primary big", "data-testid": "resident-mode", onclick: move |_| resident.set(Some(current)), {tr(l, Msg::ToResident)} }
            }
            ErrorLine { error: error() }
            if b {
                p { class: "muted", role: "status", {tr(l, Msg::Working)} }
            }
            if current == Step::Ready {
                section { class: "card",
                    h2 { {tr(l, Msg::StepReady)} }
                    for p in d.photos.iter() {
                        img { key: "{p.sha256.to_hex()}", class: "thumb", src: "{p.thumb}", alt: "" }
                    }
                    p { class: "muted",
                        match d.position {
                            Some(f) => rsx! { {tr(l, Msg::Accuracy(f.accuracy_m.round() as u32))} },
                            None => rsx! { {tr(l, if locating() { Msg::Locating } else { Msg::LocationUnknown })} },
                        }
                        " "
                        button { class: "link", disabled: locating(), onclick: move |_| locate.call(()), {tr(l, Msg::LocateAgain)} }
                    }
                    button { class: "primary big", "data-testid": "finish", disabled: b, onclick: move |_| run.call(Request::Finish { task }),
                        {tr(l, Msg::Finish)}
                    }
                }
            }
            button { class: "link danger", onclick: move |_| run.call(Request::Abandon { task }), {tr(l, Msg::Abandon)} }
        }
    }
}

fn step_title(l: Lang, s: Step) -> String {
    tr(
        l,
        match s {
            Step::Packet => Msg::StepPacket,
            Step::Confirm => Msg::StepConfirm,
            Step::Photo => Msg::StepPhoto,
            Step::Materials => Msg::StepMaterials,
            Step::Signature => Msg::StepSignature,
            Step::Rating => Msg::StepRating,
            Step::Ready => Msg::StepReady,
        },
    )
}

/// A 6-digit code typed and checked: the task's slip, the household card's, a family member's. Its input is
/// `#{name}` (`[data-testid={name}-input]`), its button `[data-testid={name}-submit]`.
#[component]
fn CodeForm(name: &'static str, label: String, busy: bool, on_code: EventHandler<String>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut code = use_signal(String::new);
    let l = lang();
    rsx! {
        form {
            class: "code-form",
            onsubmit: move |e: FormEvent| {
                e.prevent_default();
                on_code.call(code());
            },
            label { r#for: name, {label} }
            input {
                id: name,
                "data-testid": "{name}-input",
                inputmode: "numeric",
                autocomplete: "off",
                maxlength: "6",
                placeholder: tr(l, Msg::CodePlaceholder),
                value: "{code}",
                oninput: move |e| code.set(e.value()),
            }
            button { class: "primary", r#type: "submit", disabled: busy, "data-testid": "{name}-submit", {tr(l, Msg::CheckCode)} }
        }
    }
}

/// What the current step asks for.
#[component]
fn StepBody(
    step: Step,
    draft: Draft,
    busy: bool,
    run: Callback<Request>,
    adopt: Callback<Draft>,
    household: Household,
) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut proxy = use_signal(|| None::<u32>);
    let mut witness = use_signal(String::new);
    let live = use_signal(|| false);
    let l = lang();
    let task = draft.task;
    match step {
        Step::Packet => rsx! {
            p { class: "muted", {tr(l, Msg::StepPacketHelp)} }
            LiveScan { task, target: Target::Packet, live, adopt }
            PhotoButton {
                testid: "packet-photo",
                label: tr(l, Msg::TakePhoto),
                disabled: busy,
                on_photo: move |photo| run.call(Request::ScanPacket { task, photo }),
            }
            if draft.skippable(Step::Packet) {
                button { class: "secondary", "data-testid": "packet-skip", onclick: move |_| run.call(Request::SkipPacket { task }),
                    {tr(l, Msg::NoLabel)}
                }
            }
        },
        Step::Confirm => rsx! {
            p { class: "muted", {tr(l, Msg::StepConfirmHelp)} }
            LiveScan { task, target: Target::Resident, live, adopt }
            PhotoButton {
                testid: "resident-qr-photo",
                label: tr(l, Msg::ScanResidentQr),
                disabled: busy,
                on_photo: move |photo| run.call(Request::ScanResident { task, photo }),
            }
            CodeForm { name: "code", label: tr(l, Msg::OrTypeCode), busy, on_code: move |code| run.call(Request::TypeCode { task, code }) }
            p { class: "muted", {tr(l, Msg::OrSign)} }
            SignaturePad { disabled: busy, on_done: move |strokes| run.call(Request::Sign { task, strokes }) }
            if household.card {
                details { class: "card alt-confirm", "data-testid": "household-options",
                    summary { {tr(l, Msg::HouseholdCardTitle)} }
                    PhotoButton {
                        testid: "household-photo",
                        label: tr(l, Msg::ScanHouseholdCard),
                        disabled: busy,
                        on_photo: move |photo| run.call(Request::ScanHousehold { task, photo }),
                    }
                    CodeForm {
                        name: "household-code",
                        label: tr(l, Msg::OrTypeHouseholdCode),
                        busy,
                        on_code: move |code| run.call(Request::TypeHouseholdCode { task, code }),
                    }
                }
            }
            if !household.proxies.is_empty() {
                details { class: "card alt-confirm", "data-testid": "proxy-options",
                    summary { {tr(l, Msg::ProxyReceives)} }
                    for p in household.proxies.iter().cloned() {
                        button {
                            key: "{p.id}",
                            class: if proxy() == Some(p.id) { "reason on" } else { "reason" },
                            "data-testid": "proxy-{p.id}",
                            onclick: move |_| proxy.set(Some(p.id)),
                            "{p.name} · {p.relation}"
                        }
                    }
                    if let Some(id) = proxy() {
                        CodeForm {
                            name: "proxy-code",
                            label: tr(l, Msg::ProxyCodeAsk),
                            busy,
                            on_code: move |code| run.call(Request::ProxyCode { task, proxy: id, code }),
                        }
                    }
                }
            }
            details { class: "card alt-confirm", "data-testid": "witness-options",
                summary { {tr(l, Msg::WitnessTitle)} }
                p { class: "muted", {tr(l, Msg::WitnessHelp)} }
                label { r#for: "witness-name", {tr(l, Msg::WitnessName)} }
                input { id: "witness-name", "data-testid": "witness-name", maxlength: "40", value: "{witness}", oninput: move |e| witness.set(e.value()) }
                PhotoButton {
                    testid: "witness-photo",
                    label: tr(l, Msg::WitnessPhoto),
                    disabled: busy || witness().trim().is_empty(),
                    on_photo: move |photo| run.call(Request::Witness { task, photo, witness: witness().trim().to_string() }),
                }
            }
        },
        Step::Photo => rsx! {
            p { class: "muted", {tr(l, Msg::StepPhotoHelp)} }
            PhotoButton {
                testid: "handoff-photo",
                label: tr(l, Msg::TakePhoto),
                disabled: busy,
                on_photo: move |photo| run.call(Request::AddPhoto { task, material: None, photo }),
            }
        },
        Step::Materials => rsx! {
            p { class: "muted", {tr(l, Msg::StepMaterialsHelp)} }
            ul { class: "materials",
                for m in draft.materials.iter().cloned() {
                    li { key: "{m.name}", class: "card material", "data-testid": "material",
                        h3 { "{m.name}" if m.required { span { class: "badge", {tr(l, Msg::Required)} } } }
                        if let Some(p) = m.photo.as_ref() {
                            img { class: "thumb", src: "{p.thumb}", alt: "{m.name}" }
                        }
                        div { class: "actions",
                            PhotoButton {
                                testid: "material-photo",
                                label: tr(l, Msg::TakePhoto),
                                disabled: busy,
                                on_photo: {
                                    let name = m.name.clone();
                                    move |photo| run.call(Request::AddPhoto { task, material: Some(name.clone()), photo })
                                },
                            }
                            button {
                                class: if m.present { "secondary" } else { "secondary on" },
                                "data-testid": "material-absent",
                                onclick: {
                                    let name = m.name.clone();
                                    move |_| run.call(Request::SetMaterial { task, name: name.clone(), present: false })
                                },
                                {tr(l, Msg::Absent)}
                            }
                        }
                    }
                }
            }
        },
        Step::Signature => rsx! {
            p { class: "muted", {tr(l, Msg::StepSignatureHelp)} }
            SignaturePad { disabled: busy, on_done: move |strokes| run.call(Request::Sign { task, strokes }) }
        },
        Step::Rating => rsx! {
            p { class: "muted", {tr(l, Msg::StepRatingHelp)} }
            div { class: "rating",
                for n in 1..=5u8 {
                    button {
                        key: "{n}",
                        class: "rate rate-{n}",
                        "data-testid": "rate-{n}",
                        disabled: busy,
                        onclick: move |_| run.call(Request::Rate { task, stars: Some(n) }),
                        span { class: "stars", "aria-hidden": "true", "data-n": "{n}" }
                        span { {tr(l, Msg::Stars(n))} }
                    }
                }
            }
            button { class: "secondary", "data-testid": "rate-skip", onclick: move |_| run.call(Request::Rate { task, stars: None }),
                {tr(l, Msg::Declines)}
            }
        },
        Step::Ready => rsx! {},
    }
}

/// The "scan with the camera" switch and, while it is on, the viewfinder.
#[component]
fn LiveScan(task: TaskId, target: Target, live: Signal<bool>, adopt: Callback<Draft>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let l = lang();
    let on = live();
    rsx! {
        button {
            class: "secondary",
            "data-testid": "live-scan",
            onclick: move |_| live.set(!on),
            {tr(l, if on { Msg::StopScan } else { Msg::LiveScan })}
        }
        if on {
            Viewfinder {
                task,
                target,
                on_draft: move |d| {
                    live.set(false);
                    adopt.call(d);
                },
            }
        }
    }
}
