//! What a coordinator did while the centre did not answer: kept on the device (localStorage) in the order it was
//! done, shown, and sent by itself, oldest first, as soon as the centre answers. A refusal stays on the list with
//! the centre's reason until the coordinator dismisses it; nothing leaves the list unseen. A kept action this build
//! cannot read (written by another version, or damaged) is never sent and never dropped: it is set aside under its
//! own key, and the panel says how many there are.

use super::Desk;
use super::api::{Body, DeskError, Session};
use crate::i18n::{D, Lang, desk, desk_error};
use crate::platform;
use dioxus::prelude::*;
use jx_core::wire::{CounterDirection, CounterScan, Decision};
use jx_core::{StaffId, TaskId};
use serde::{Deserialize, Serialize};

/// A change a coordinator makes at the centre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Decide { task: TaskId, decision: Decision },
    Counter(CounterScan),
    Apply { assignments: Vec<(TaskId, StaffId)> },
}

impl Action {
    /// The request that carries it.
    pub fn request(&self) -> (&'static str, String, String) {
        match self {
            Action::Decide { task, decision } => {
                ("POST", format!("/tasks/{task}/decisions"), serde_json::to_string(decision).unwrap_or_default())
            }
            Action::Counter(scan) => ("POST", "/counter".into(), serde_json::to_string(scan).unwrap_or_default()),
            Action::Apply { assignments } => {
                let items: Vec<_> =
                    assignments.iter().map(|(t, s)| serde_json::json!({"task": t, "staff": s})).collect();
                ("POST", "/assign/apply".into(), serde_json::json!({ "assignments": items }).to_string())
            }
        }
    }

    pub fn describe(&self, lang: Lang) -> String {
        match self {
            Action::Decide { task, decision } => desk(lang, D::QueuedDecision(task.short(), decision_name(decision))),
            Action::Counter(s) => desk(
                lang,
                match s.direction {
                    CounterDirection::Out => D::QueuedScanOut,
                    CounterDirection::In => D::QueuedScanIn,
                },
            ),
            Action::Apply { assignments } => desk(lang, D::QueuedApply(assignments.len())),
        }
    }
}

fn decision_name(d: &Decision) -> &'static str {
    match d {
        Decision::Assign { .. } => "assign",
        Decision::Reassign { .. } => "reassign",
        Decision::CheckOut => "check_out",
        Decision::HandIn => "hand_in",
        Decision::Return { .. } => "return",
        Decision::Cancel { .. } => "cancel",
        Decision::AcceptConflict { .. } => "accept_conflict",
        Decision::AskForProof { .. } => "ask_for_proof",
        Decision::AcceptProof { .. } => "accept_proof",
    }
}

/// One waiting action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub id: u64,
    pub action: Action,
    /// The centre's refusal, once it has answered with one.
    pub refused: Option<String>,
}

const KEY: &str = "desk.queue";
/// The kept actions this build could not read, as a JSON array of their original text.
const UNREADABLE: &str = "desk.queue.unreadable";

/// The kept queue; what cannot be read in it is moved aside (to [`UNREADABLE`]), never lost.
pub fn load() -> Vec<Queued> {
    let Some(text) = platform::pref(KEY) else { return vec![] };
    let (queue, bad) = parse(&text);
    if !bad.is_empty() {
        let mut aside = unreadable_items();
        aside.extend(bad);
        if let Ok(json) = serde_json::to_string(&aside) {
            platform::set_pref(UNREADABLE, &json);
        }
        save(&queue);
    }
    queue
}

/// The kept queue's text read item by item: the actions, and the text of each item that is not one (the whole text
/// if it is not a list at all).
fn parse(text: &str) -> (Vec<Queued>, Vec<String>) {
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        return (vec![], if text.trim().is_empty() { vec![] } else { vec![text.to_string()] });
    };
    let mut queue = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for item in items {
        match serde_json::from_value::<Queued>(item.clone()) {
            Ok(q) => queue.push(q),
            Err(_) => bad.push(item.to_string()),
        }
    }
    (queue, bad)
}

fn unreadable_items() -> Vec<String> {
    platform::pref(UNREADABLE).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

/// How many kept actions were set aside as unreadable.
pub fn unreadable() -> usize {
    unreadable_items().len()
}

fn save(q: &[Queued]) {
    if let Ok(json) = serde_json::to_string(q) {
        platform::set_pref(KEY, &json);
    }
}

/// Does `action` now; if the centre cannot be reached it is kept and sent later (`Err(Queued)` says so).
pub async fn act(d: Desk, action: Action) -> Result<String, DeskError> {
    let Some(s) = d.session() else { return Err(DeskError::SignedOut) };
    let (method, path, body) = action.request();
    let r = s.send(method, &path, Body::Json(body)).await;
    d.saw(&r);
    match &r {
        Err(DeskError::Offline(_)) => {
            keep(d, action);
            return Err(DeskError::Queued);
        }
        Ok(_) => d.changed(),
        Err(_) => {}
    }
    r
}

fn keep(mut d: Desk, action: Action) {
    let mut q = d.queue.write();
    let id = q.iter().map(|x| x.id).max().unwrap_or(0) + 1;
    q.push(Queued { id, action, refused: None });
    save(&q);
}

/// Sends what waits, oldest first; stops at the first one the centre cannot be reached for.
pub async fn drain(mut d: Desk, s: &Session) {
    let waiting: Vec<Queued> = (d.queue)().into_iter().filter(|x| x.refused.is_none()).collect();
    for item in waiting {
        let (method, path, body) = item.action.request();
        let r = s.send(method, &path, Body::Json(body)).await;
        d.saw(&r);
        let mut q = d.queue.write();
        match r {
            Err(DeskError::Offline(_)) | Err(DeskError::SignedOut) => return,
            Ok(_) => q.retain(|x| x.id != item.id),
            Err(e) => {
                if let Some(x) = q.iter_mut().find(|x| x.id == item.id) {
                    x.refused = Some(desk_error(Lang::default(), &e));
                }
            }
        }
        save(&q);
        drop(q);
        d.changed();
    }
}

/// How many actions wait, in the tab bar.
#[component]
pub fn QueueBadge() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let n = (d.queue)().len();
    rsx! {
        if n > 0 {
            span { class: "badge warn", "data-testid": "queue-count", {desk(lang(), D::Waiting(n))} }
        }
    }
}

/// The waiting actions, each with its state.
#[component]
pub fn QueuePanel() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut d = use_context::<Desk>();
    let mut seen = use_signal(|| false);
    let l = lang();
    let q = (d.queue)();
    let unreadable = if seen() { 0 } else { unreadable() };
    if q.is_empty() && unreadable == 0 {
        return rsx! {};
    }
    rsx! {
        aside { class: "card queue", "data-testid": "queue",
            h3 { {desk(l, D::QueueTitle)} }
            p { class: "muted", {desk(l, D::QueueHelp)} }
            if unreadable > 0 {
                p { class: "error", "data-testid": "queue-unreadable", {desk(l, D::QueueUnreadable(unreadable))} }
                // Told, the coordinator lets them go: they could never be sent.
                button { class: "chip-button", "data-testid": "queue-unreadable-dismiss",
                    onclick: move |_| {
                        platform::set_pref(UNREADABLE, "[]");
                        seen.set(true);
                    },
                    {desk(l, D::Dismiss)}
                }
            }
            ul {
                for item in q {
                    li { key: "{item.id}", "data-testid": "queued",
                        span { {item.action.describe(l)} }
                        match item.refused.clone() {
                            None => rsx! { span { class: "badge", {desk(l, D::WaitingToSend)} } },
                            Some(why) => rsx! {
                                span { class: "error", {why} }
                                button {
                                    class: "chip-button",
                                    onclick: move |_| {
                                        let mut q = d.queue.write();
                                        q.retain(|x| x.id != item.id);
                                        save(&q);
                                    },
                                    {desk(l, D::Dismiss)}
                                }
                            },
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64) -> Queued {
        Queued {
            id,
            action: Action::Decide { task: TaskId::v7(id, [1; 10]), decision: Decision::HandIn },
            refused: None,
        }
    }

    #[test]
    fn a_kept_queue_is_read_item_by_item_and_what_cannot_be_read_is_set_aside() {
        let good = [item(1), item(2)];
        let text = serde_json::to_string(&good).expect("json");
        assert_eq!(parse(&text), (good.to_vec(), vec![]));

        // One item from another version (an action this build does not know) between two good ones.
        let mut items: Vec<serde_json::Value> = good.iter().map(|q| serde_json::to_value(q).expect("json")).collect();
        let foreign = serde_json::json!({"id": 9, "action": {"Teleport": {"to": "moon"}}, "refused": null});
        items.insert(1, foreign.clone());
        let (queue, bad) = parse(&serde_json::Value::Array(items).to_string());
        assert_eq!(queue, good.to_vec());
        assert_eq!(bad, vec![foreign.to_string()]);

        // Not a list at all: all of it is set aside, nothing is made up.
        assert_eq!(parse("{half a queue"), (vec![], vec!["{half a queue".to_string()]));
        assert_eq!(parse(""), (vec![], vec![]));
    }
}
