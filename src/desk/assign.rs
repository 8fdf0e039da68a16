//! Assignment: the centre's automatic proposal for every task nobody has yet, as a table and on the map; the
//! coordinator moves tasks between team members and pins them, then applies it. The edited proposal is kept on
//! the device until it is applied, so a reload or a lost line loses none of the edits.

use super::board::use_town;
use super::map::{Mark, TownSvg, colour};
use super::queue::{Action, act};
use super::{Desk, DeskErrorLine};
use crate::i18n::{D, Lang, desk};
use crate::platform;
use dioxus::prelude::*;
use jx_core::assign::{Proposal, Reason};
use jx_core::wire::{Board, TaskSummary};
use jx_core::{StaffId, TaskId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One line of the proposal as the coordinator has left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub task: TaskId,
    pub staff: Option<StaffId>,
    /// Why the centre proposed it; `None` once moved by hand.
    pub reason: Option<Reason>,
    pub pinned: bool,
}

const KEY: &str = "desk.assign";

fn load() -> Vec<Line> {
    platform::pref(KEY).and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn save(lines: &[Line]) {
    platform::set_pref(KEY, &serde_json::to_string(lines).unwrap_or_default());
}

/// The proposal merged into the draft: pinned lines keep their member.
fn merge(old: &[Line], p: &Proposal) -> Vec<Line> {
    let pins: BTreeMap<TaskId, StaffId> =
        old.iter().filter(|l| l.pinned).filter_map(|l| l.staff.map(|s| (l.task, s))).collect();
    let mut out: Vec<Line> = p
        .assignments
        .iter()
        .map(|a| match pins.get(&a.task) {
            Some(s) => Line { task: a.task, staff: Some(*s), reason: None, pinned: true },
            None => Line { task: a.task, staff: Some(a.staff), reason: Some(a.reason.clone()), pinned: false },
        })
        .collect();
    out.extend(p.unplaced.iter().map(|(t, _)| Line {
        task: *t,
        staff: pins.get(t).copied(),
        reason: None,
        pinned: pins.contains_key(t),
    }));
    out
}

fn reason_text(l: Lang, r: &Option<Reason>, pinned: bool) -> String {
    match (r, pinned) {
        (_, true) => desk(l, D::Pinned),
        (Some(Reason::Pinned), _) => desk(l, D::Pinned),
        (Some(Reason::LivesInCompound), _) => desk(l, D::LivesThere),
        (Some(Reason::NearestWithCapacity { distance_m, .. }), _) => desk(l, D::Nearest(*distance_m as u32)),
        (None, _) => desk(l, D::MovedByHand),
    }
}

#[component]
pub fn AssignPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut lines = use_signal(load);
    let mut error = use_signal(|| None::<super::api::DeskError>);
    let mut applied = use_signal(|| None::<serde_json::Value>);
    let mut busy = use_signal(|| false);
    let board = use_resource(move || async move {
        let _ = (d.rev)();
        let s = d.session()?;
        let r = s.get::<Board>("/board").await;
        d.saw(&r);
        r.ok()
    });
    let town = use_town(d);
    let l = lang();
    let t = |m| desk(l, m);
    let propose = move |_| async move {
        let Some(s) = d.session() else { return };
        busy.set(true);
        let r = s.post::<_, Proposal>("/assign/proposal", &serde_json::json!({ "unavailable": [] })).await;
        d.saw(&r);
        busy.set(false);
        match r {
            Ok(p) => {
                let merged = merge(&lines(), &p);
                save(&merged);
                lines.set(merged);
                applied.set(None);
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let apply = move |_| async move {
        let assignments: Vec<(TaskId, StaffId)> = lines().iter().filter_map(|x| x.staff.map(|s| (x.task, s))).collect();
        busy.set(true);
        let r = act(d, Action::Apply { assignments }).await;
        busy.set(false);
        match r {
            Ok(body) => {
                applied.set(serde_json::from_str(&body).ok());
                lines.set(vec![]);
                save(&[]);
                error.set(None);
            }
            Err(e) => {
                if e.is_offline() {
                    // Kept in the queue: the draft has done its job.
                    lines.set(vec![]);
                    save(&[]);
                }
                error.set(Some(e));
            }
        }
    };
    let Some(Some(b)) = board() else {
        return rsx! { p { class: "loading", {t(D::Loading)} } };
    };
    let tasks: BTreeMap<TaskId, TaskSummary> = b.tasks.iter().map(|x| (x.id, x.clone())).collect();
    let rows = lines();
    let mut draft_load: BTreeMap<StaffId, u32> = BTreeMap::new();
    let mut marks: BTreeMap<(u32, u16, Option<u32>), u32> = BTreeMap::new();
    for x in &rows {
        if let Some(s) = x.staff {
            *draft_load.entry(s).or_default() += 1;
        }
        if let Some(task) = tasks.get(&x.task) {
            *marks.entry((task.compound.0, task.building, x.staff.map(|s| s.0))).or_default() += 1;
        }
    }
    let marks: Vec<Mark> = marks
        .into_iter()
        .map(|((c, bn, s), count)| Mark {
            compound: jx_core::CompoundId(c),
            building: bn,
            staff: s.map(StaffId),
            count,
        })
        .collect();
    let staff = b.staff.clone();
    rsx! {
        div { class: "assign",
            div { class: "actions",
                button { class: "primary", "data-testid": "propose", disabled: busy(), onclick: propose, {t(D::Propose)} }
                if !rows.is_empty() {
                    button { class: "primary", "data-testid": "apply", disabled: busy(), onclick: apply, {desk(l, D::Apply(rows.iter().filter(|x| x.staff.is_some()).count()))} }
                }
            }
            DeskErrorLine { error: error() }
            if let Some(a) = applied() {
                p { class: "ok", "data-testid": "applied",
                    {desk(l, D::AppliedN(a.get("assigned").and_then(|v| v.as_u64()).unwrap_or(0) as usize, a.get("skipped").and_then(|v| v.as_array()).map(|v| v.len()).unwrap_or(0)))}
                }
            }
            if rows.is_empty() && applied().is_none() {
                p { class: "muted", {t(D::ProposeHelp)} }
            }
            div { class: "board-grid",
                div {
                    table { class: "counts", "data-testid": "loads",
                        thead { tr { th { {t(D::Staff)} } th { {t(D::Load)} } } }
                        tbody {
                            for s in staff.clone() {
                                {
                                    let load = s.open + draft_load.get(&s.staff).copied().unwrap_or(0);
                                    rsx! {
                                        tr { key: "{s.staff.0}", "data-staff": "{s.staff.0}",
                                            td { span { class: "swatch", style: "background:{colour(s.staff)}" } "{s.name}" }
                                            td { class: if load > u32::from(s.capacity) { "warn" } else { "" }, "data-col": "load", "{load}/{s.capacity}" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if !rows.is_empty() {
                        table { class: "tasks", "data-testid": "proposal",
                            thead { tr { th { {t(D::Case)} } th { {t(D::Compound)} } th { {t(D::Staff)} } th { {t(D::Why)} } th { {t(D::Pin)} } } }
                            tbody {
                                for (i, x) in rows.iter().cloned().enumerate() {
                                    {
                                        let task = tasks.get(&x.task).cloned();
                                        let cname = task.as_ref().and_then(|tk| b.compounds.iter().find(|c| c.compound == tk.compound)).map(|c| c.name.clone()).unwrap_or_default();
                                        rsx! {
                                            tr { key: "{x.task}", "data-task": "{x.task}", "data-staff": x.staff.map(|s| s.0.to_string()).unwrap_or_default(),
                                                td { {task.as_ref().map(|tk| tk.case_number.clone()).unwrap_or_else(|| x.task.short())} }
                                                td { {cname} " " {task.as_ref().map(|tk| desk(l, D::BuildingNo(tk.building))).unwrap_or_default()} }
                                                td {
                                                    select {
                                                        "data-testid": "move",
                                                        onchange: move |e| {
                                                            let v = e.value();
                                                            let mut all = lines();
                                                            if let Some(row) = all.get_mut(i) {
                                                                row.staff = v.parse::<u32>().ok().map(StaffId);
                                                                row.reason = None;
                                                            }
                                                            save(&all);
                                                            lines.set(all);
                                                        },
                                                        option { value: "", selected: x.staff.is_none(), {t(D::Nobody)} }
                                                        for s in staff.clone() {
                                                            option { key: "{s.staff.0}", value: "{s.staff.0}", selected: x.staff == Some(s.staff), "{s.name}" }
                                                        }
                                                    }
                                                }
                                                td { {reason_text(l, &x.reason, x.pinned)} }
                                                td {
                                                    input {
                                                        r#type: "checkbox",
                                                        "data-testid": "pin",
                                                        checked: x.pinned,
                                                        onchange: move |e| {
                                                            let mut all = lines();
                                                            if let Some(row) = all.get_mut(i) {
                                                                row.pinned = e.checked();
                                                            }
                                                            save(&all);
                                                            lines.set(all);
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
                }
                div { class: "board-map",
                    if let Some(Some(town)) = town() {
                        TownSvg { town, selected: None, marks, walks: vec![], on_compound: move |_| {} }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_core::assign::{Assignment, Unplaced};

    fn t(n: u8) -> TaskId {
        TaskId::v7(1_000, [n; 10])
    }

    #[test]
    fn a_new_proposal_keeps_the_pins_and_takes_the_rest() {
        let p = Proposal {
            assignments: vec![
                Assignment { task: t(1), staff: StaffId(1), reason: Reason::LivesInCompound },
                Assignment { task: t(2), staff: StaffId(1), reason: Reason::LivesInCompound },
            ],
            unplaced: vec![(t(3), Unplaced::NoStaffWithCapacity)],
            loads: Default::default(),
            over_capacity: vec![],
        };
        let old = vec![
            Line { task: t(1), staff: Some(StaffId(7)), reason: None, pinned: true },
            Line { task: t(2), staff: Some(StaffId(8)), reason: None, pinned: false },
            Line { task: t(3), staff: Some(StaffId(9)), reason: None, pinned: true },
        ];
        let m = merge(&old, &p);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].staff, m[0].pinned), (Some(StaffId(7)), true), "a pin beats the proposal");
        assert_eq!(
            (m[1].staff, m[1].reason.clone()),
            (Some(StaffId(1)), Some(Reason::LivesInCompound)),
            "an unpinned move is redone"
        );
        assert_eq!((m[2].staff, m[2].pinned), (Some(StaffId(9)), true), "an unplaced task keeps its pin");
        let fresh = merge(&[], &p);
        assert_eq!(fresh[2].staff, None, "unplaced and unpinned: nobody");
    }
}
