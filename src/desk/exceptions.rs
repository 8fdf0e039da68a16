//! Progress and exceptions: failed attempts, conflicts and incomplete proof, each with the action that resolves
//! it (reschedule to a team member, return to the centre, accept a conflicting fact, ask for the missing proof);
//! and any task's whole history with its photos and verified signatures.

use super::api::DeskError;
use super::queue::{Action, act};
use super::{Desk, DeskErrorLine};
use crate::i18n::{D, Lang, desk, event, gap, kind, reason, status};
use dioxus::prelude::*;
use jx_core::event::{Actor, Confirmation, Envelope, EventPayload};
use jx_core::model::Task;
use jx_core::proof::Gap;
use jx_core::state::{ConflictKind, TaskState};
use jx_core::wire::{Board, Decision, Exceptions, StaffLoad, TaskSummary};
use jx_core::{StaffId, TaskId};
use serde::Deserialize;

/// A task with its state and whole history, as the centre answers `GET /tasks/{id}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TaskDetail {
    pub task: Task,
    pub state: TaskState,
    pub history: Vec<Envelope>,
    pub proof_gaps: Vec<Gap>,
}

fn use_staff(d: Desk) -> Resource<Vec<StaffLoad>> {
    use_resource(move || async move {
        let _ = (d.rev)();
        let Some(s) = d.session() else { return vec![] };
        let r = s.get::<Board>("/board?compound=0").await;
        d.saw(&r);
        r.map(|b| b.staff).unwrap_or_default()
    })
}

/// Everyone's name, coordinators included, for the history's "by whom".
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Person {
    id: StaffId,
    name: String,
}

fn use_people(d: Desk) -> Resource<Vec<Person>> {
    use_resource(move || async move {
        let Some(s) = d.session() else { return vec![] };
        let r = s.get::<Vec<Person>>("/staff").await;
        d.saw(&r);
        r.unwrap_or_default()
    })
}

fn name_of(staff: &[StaffLoad], id: Option<StaffId>) -> String {
    id.and_then(|id| staff.iter().find(|s| s.staff == id)).map(|s| s.name.clone()).unwrap_or_default()
}

#[component]
pub fn ExceptionsPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut tick = use_signal(|| 0u64);
    use_future(move || async move {
        loop {
            crate::platform::sleep(3_000).await;
            *tick.write() += 1;
        }
    });
    let ex = use_resource(move || async move {
        let _ = (tick(), (d.rev)());
        let s = d.session()?;
        let r = s.get::<Exceptions>("/exceptions").await;
        d.saw(&r);
        Some(r)
    });
    let staff = use_staff(d);
    let l = lang();
    let t = |m| desk(l, m);
    let staff = staff().unwrap_or_default();
    match ex() {
        Some(Some(Ok(ex))) => rsx! {
            div { class: "exceptions",
                Section { title: t(D::FailedAttempts), testid: "failed", tasks: ex.failed_attempts, staff: staff.clone(), action: Fix::Reschedule }
                Section { title: t(D::ConflictsTitle), testid: "conflicts", tasks: ex.conflicts, staff: staff.clone(), action: Fix::Open }
                Section { title: t(D::ToReturn), testid: "to-return", tasks: ex.to_return, staff: staff.clone(), action: Fix::Return }
                Section { title: t(D::MissingProof), testid: "missing-proof", tasks: ex.missing_proof, staff, action: Fix::AskProof }
            }
        },
        Some(Some(Err(e))) => rsx! { DeskErrorLine { error: Some(e) } },
        _ => rsx! { p { class: "loading", {t(D::Loading)} } },
    }
}

/// What a section's rows offer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fix {
    Reschedule,
    /// Three failed visits: the packet comes back (scanned in at the counter, or recorded here).
    Return,
    Open,
    AskProof,
}

#[component]
fn Section(title: String, testid: String, tasks: Vec<TaskSummary>, staff: Vec<StaffLoad>, action: Fix) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut d = use_context::<Desk>();
    let mut error = use_signal(|| None::<DeskError>);
    let l = lang();
    let t = |m| desk(l, m);
    let n = tasks.len();
    rsx! {
        section { class: "card", "data-testid": "{testid}",
            h3 { "{title} ({n})" }
            DeskErrorLine { error: error() }
            if tasks.is_empty() {
                p { class: "muted", {t(D::NothingHere)} }
            }
            table { class: "tasks",
                tbody {
                    for task in tasks {
                        tr { key: "{task.id}", "data-task": "{task.id}", "data-case": "{task.case_number}",
                            td { {task.case_number.clone()} }
                            td { {kind(l, task.kind)} }
                            td { {desk(l, D::BuildingNo(task.building))} }
                            td { {status(l, task.status)} }
                            td { {name_of(&staff, task.assignee)} }
                            td { {desk(l, D::Attempts(task.attempts))} }
                            td { class: "actions",
                                button { class: "chip-button", "data-testid": "open", onclick: move |_| d.open.set(Some(task.id)), {t(D::History)} }
                                match action {
                                    Fix::Reschedule => rsx! {
                                        Reassign { task: task.id, staff: staff.clone(), current: task.assignee, label: t(D::Reschedule) }
                                        button { class: "chip-button", "data-testid": "return",
                                            onclick: move |_| async move {
                                                let r = act(d, Action::Decide { task: task.id, decision: Decision::Return { note: desk(Lang::ZhCn, D::ReturnNote) } }).await;
                                                error.set(r.err());
                                            },
                                            {t(D::ReturnToCentre)}
                                        }
                                    },
                                    Fix::Open => rsx! {},
                                    Fix::Return => rsx! {
                                        span { class: "muted", {t(D::ToReturnHelp)} }
                                        button { class: "chip-button", "data-testid": "return",
                                            onclick: move |_| async move {
                                                let r = act(d, Action::Decide { task: task.id, decision: Decision::Return { note: desk(Lang::ZhCn, D::ReturnNote) } }).await;
                                                error.set(r.err());
                                            },
                                            {t(D::ReturnToCentre)}
                                        }
                                    },
                                    Fix::AskProof => rsx! {
                                        button { class: "chip-button", "data-testid": "ask-proof",
                                            onclick: move |_| async move {
                                                let r = act(d, Action::Decide { task: task.id, decision: Decision::AskForProof { note: desk(Lang::ZhCn, D::AskProofNote) } }).await;
                                                error.set(r.err());
                                            },
                                            {t(D::AskForProof)}
                                        }
                                        button { class: "chip-button", "data-testid": "accept-proof",
                                            onclick: move |_| async move {
                                                let r = act(d, Action::Decide { task: task.id, decision: Decision::AcceptProof { note: desk(Lang::ZhCn, D::AcceptProofNote) } }).await;
                                                error.set(r.err());
                                            },
                                            {t(D::AcceptProof)}
                                        }
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Moves a task to another team member (a reassignment; pending until the old holder's phone has synced).
#[component]
fn Reassign(task: TaskId, staff: Vec<StaffLoad>, current: Option<StaffId>, label: String) -> Element {
    let d = use_context::<Desk>();
    let mut to = use_signal(|| current);
    let mut error = use_signal(|| None::<DeskError>);
    rsx! {
        span { class: "reassign",
            select { "data-testid": "reassign-to",
                onchange: move |e| to.set(e.value().parse::<u32>().ok().map(StaffId)),
                for s in staff {
                    option { key: "{s.staff.0}", value: "{s.staff.0}", selected: to() == Some(s.staff), "{s.name}" }
                }
            }
            button { class: "chip-button", "data-testid": "reassign",
                onclick: move |_| async move {
                    let Some(staff) = to() else { return };
                    let r = act(d, Action::Decide { task, decision: Decision::Reassign { staff } }).await;
                    error.set(r.err());
                },
                {label}
            }
            DeskErrorLine { error: error() }
        }
    }
}

/// A task's whole history, beside the page.
#[component]
pub fn TaskDrawer(task: TaskId) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut d = use_context::<Desk>();
    let detail = use_resource(move || async move {
        let _ = (d.rev)();
        let s = d.session()?;
        let r = s.get::<TaskDetail>(&format!("/tasks/{task}")).await;
        d.saw(&r);
        Some(r)
    });
    let staff = use_staff(d);
    let people = use_people(d);
    let mut error = use_signal(|| None::<DeskError>);
    let mut proof_note = use_signal(String::new);
    let l = lang();
    let t = |m| desk(l, m);
    let staff = staff().unwrap_or_default();
    let people = people().unwrap_or_default();
    // Asks for proof (`ask`) or accepts it, with what the coordinator typed or else the standard words (in
    // Chinese: the phone shows them to the team member).
    let decide_proof = move |ask: bool| async move {
        let typed = proof_note.peek().trim().to_string();
        let standard = if ask { D::AskProofNote } else { D::AcceptProofNote };
        let note = if typed.is_empty() { desk(Lang::ZhCn, standard) } else { typed };
        let decision = if ask { Decision::AskForProof { note } } else { Decision::AcceptProof { note } };
        let r = act(d, Action::Decide { task, decision }).await;
        if r.is_ok() {
            proof_note.set(String::new());
        }
        error.set(r.err());
    };
    let body = match detail() {
        Some(Some(Ok(x))) => x,
        Some(Some(Err(e))) => {
            return rsx! { aside { class: "drawer", "data-testid": "drawer", DeskErrorLine { error: Some(e) } } };
        }
        _ => {
            return rsx! { aside { class: "drawer", "data-testid": "drawer", p { class: "loading", {t(D::Loading)} } } };
        }
    };
    let st = body.state.clone();
    rsx! {
        aside { class: "drawer", "data-testid": "drawer", "data-task": "{task}",
            div { class: "actions",
                h3 { {body.task.case_number.clone()} " · " {kind(l, body.task.kind)} }
                button { class: "chip-button", "data-testid": "close", onclick: move |_| d.open.set(None), {t(D::Close)} }
            }
            p { {status(l, st.status)} " · " {name_of(&staff, st.assignee)} " · " {desk(l, D::Attempts(st.attempts))} }
            p { {crate::i18n::address(l, &body.task.address)} }
            if !st.status.is_settled() {
                Reassign { task, staff: staff.clone(), current: st.assignee, label: t(D::ReassignTo) }
            }
            super::household::HouseholdPanel { resident: body.task.resident }
            if !body.proof_gaps.is_empty() {
                ul { class: "error", "data-testid": "gaps",
                    for g in body.proof_gaps.iter() { li { {gap(l, g)} } }
                }
            }
            if st.status.is_handed_over() {
                div { class: "card proof", "data-testid": "proof-actions",
                    label { r#for: "proof-note", {t(D::ProofNote)} }
                    input { id: "proof-note", "data-testid": "proof-note", value: "{proof_note}",
                        placeholder: desk(l, D::AskProofNote), oninput: move |e| proof_note.set(e.value()) }
                    div { class: "actions",
                        button { class: "chip-button", "data-testid": "drawer-ask-proof", onclick: move |_| decide_proof(true),
                            {t(D::AskForProof)}
                        }
                        button { class: "chip-button", "data-testid": "drawer-accept-proof", onclick: move |_| decide_proof(false),
                            {t(D::AcceptProof)}
                        }
                    }
                }
            }
            DeskErrorLine { error: error() }
            for c in st.conflicts.clone() {
                div { class: "card conflict", "data-testid": "conflict", "data-event": "{c.event}",
                    p { {conflict_text(l, &c.kind, &staff)} " (" {event(l, c.event_kind)} ")" }
                    button { class: "primary", "data-testid": "accept-conflict",
                        onclick: move |_| async move {
                            let r = act(d, Action::Decide { task, decision: Decision::AcceptConflict { event: c.event, note: desk(Lang::ZhCn, D::AcceptNote) } }).await;
                            error.set(r.err());
                        },
                        {t(D::AcceptFact)}
                    }
                }
            }
            h4 { {t(D::History)} }
            ol { class: "history", "data-testid": "history",
                for e in body.history.iter().cloned() {
                    HistoryItem { key: "{e.id}", e, people: people.clone() }
                }
            }
        }
    }
}

fn conflict_text(l: Lang, k: &ConflictKind, staff: &[StaffLoad]) -> String {
    match k {
        ConflictKind::NotAssignee { assignee } => desk(l, D::ConflictNotAssignee(name_of(staff, *assignee))),
        ConflictKind::AfterCancel => desk(l, D::ConflictAfterCancel),
        ConflictKind::AfterSettled { status: s } => desk(l, D::ConflictAfterSettled(status(l, *s))),
        ConflictKind::DecisionAfterFact { status: s } => desk(l, D::ConflictDecisionAfterFact(status(l, *s))),
        ConflictKind::Impossible { reason } => reason.clone(),
    }
}

#[component]
fn HistoryItem(e: Envelope, people: Vec<Person>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let l = lang();
    let shas: Vec<String> = e.payload.blobs().iter().map(|s| s.to_string()).collect();
    let photos = use_resource(move || {
        let shas = shas.clone();
        async move {
            let mut out = vec![];
            if let Some(s) = d.session() {
                for sha in shas {
                    if let Some(u) = s.blob_url(&sha).await {
                        out.push(u);
                    }
                }
            }
            out
        }
    });
    let name = |s: StaffId| people.iter().find(|p| p.id == s).map(|p| p.name.clone()).unwrap_or_else(|| s.to_string());
    let who = match e.actor {
        Actor::Device { staff: s, .. } => desk(l, D::ByDevice(name(s))),
        Actor::Coordinator { staff: s } => desk(l, D::ByCoordinator(name(s))),
        Actor::Centre => desk(l, D::ByCentre),
    };
    let (proof, extra) = match &e.payload {
        EventPayload::Delivered { proof } | EventPayload::Collected { proof, .. } => (Some(proof.clone()), None),
        EventPayload::AttemptFailed { reason: r, note, .. } => (None, Some(format!("{} {note}", reason(l, *r)))),
        EventPayload::ProofRequested { note }
        | EventPayload::ProofAdded { note, .. }
        | EventPayload::ProofAccepted { note }
        | EventPayload::ConflictAccepted { note, .. }
            if !note.is_empty() =>
        {
            (None, Some(note.clone()))
        }
        _ => (None, None),
    };
    rsx! {
        li { "data-testid": "event", "data-kind": e.kind().as_str(),
            strong { {event(l, e.kind())} }
            " · " {crate::platform::clock(e.at)} " · " {who}
            if let Some(x) = extra { p { {x} } }
            if let Some(p) = proof {
                if let Some(Confirmation::Handwritten { strokes }) = p.confirmation.clone() {
                    div { class: "signature", "data-testid": "signature",
                        span { class: "badge ok", {desk(l, D::SignatureVerified)} }
                        img { alt: desk(l, D::Signature), src: "data:image/svg+xml;utf8,{urlencode(&strokes.to_svg())}" }
                    }
                }
                if matches!(p.confirmation, Some(Confirmation::ResidentCode { .. }) | Some(Confirmation::ResidentQr { .. })) {
                    span { class: "badge ok", {desk(l, D::ResidentConfirmed)} }
                }
                if let Some(r) = p.rating { span { class: "badge", {desk(l, D::Rated(r))} } }
            }
            div { class: "photos",
                for u in photos().unwrap_or_default() {
                    img { key: "{u}", class: "thumb", "data-testid": "photo", src: "{u}" }
                }
            }
        }
    }
}

/// Percent-encodes what a `data:` URL cannot carry raw.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            '"' => out.push('\''),
            '\n' => out.push(' '),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            c => out.push(c),
        }
    }
    out
}
