//! The evening's board: every compound's counts, every team member's load against capacity, the map, and the
//! tasks the selection narrows to. Refreshed every few seconds, so counts move as phones sync.

use super::map::{Mark, TownSvg, Walk};
use super::{Desk, DeskErrorLine, Filter};
use crate::i18n::{D, Lang, desk, kind, status};
use crate::platform;
use dioxus::prelude::*;
use jx_core::wire::{Board, TownMap};
use std::collections::BTreeMap;

/// The town's geometry, fetched once per desk.
pub fn use_town(d: Desk) -> Resource<Option<TownMap>> {
    use_resource(move || async move {
        let s = d.session()?;
        let r = s.get::<TownMap>("/town").await;
        d.saw(&r);
        r.ok()
    })
}

#[component]
pub fn BoardPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut filter = d.filter;
    let mut tick = use_signal(|| 0u64);
    use_future(move || async move {
        loop {
            platform::sleep(3_000).await;
            *tick.write() += 1;
        }
    });
    let board = use_resource(move || async move {
        let _ = (tick(), (d.rev)());
        let s = d.session()?;
        let r = s.get::<Board>(&format!("/board{}", filter().query())).await;
        d.saw(&r);
        Some(r)
    });
    let town = use_town(d);
    // The selected staff member's walk, drawn on the map.
    let walk = use_resource(move || async move {
        let _ = (d.rev)();
        let staff = filter().staff?;
        let s = d.session()?;
        let r = s.get::<serde_json::Value>(&format!("/staff/{}/route", staff.0)).await.ok()?;
        let pt = |v: &serde_json::Value| -> Option<jx_core::geo::LatLng> { serde_json::from_value(v.clone()).ok() };
        let mut points: Vec<_> = r.get("start").and_then(pt).into_iter().collect();
        for stop in r.get("stops")?.as_array()? {
            points.push(pt(stop.get("position")?)?);
        }
        Some(Walk { staff, points })
    });
    let l = lang();
    let t = |m| desk(l, m);
    let f = filter();
    let (b, err) = match board() {
        Some(Some(Ok(b))) => (Some(b), None),
        Some(Some(Err(e))) => (None, Some(e)),
        _ => (None, None),
    };
    let mut marks: BTreeMap<(u32, u16, Option<u32>), u32> = BTreeMap::new();
    if let Some(b) = &b {
        for task in &b.tasks {
            if !task.status.is_settled() {
                *marks.entry((task.compound.0, task.building, task.assignee.map(|s| s.0))).or_default() += 1;
            }
        }
    }
    let marks: Vec<Mark> = marks
        .into_iter()
        .map(|((c, b, s), count)| Mark {
            compound: jx_core::CompoundId(c),
            building: b,
            staff: s.map(jx_core::StaffId),
            count,
        })
        .collect();
    rsx! {
        div { class: "board",
            DeskErrorLine { error: err }
            if f != Filter::default() {
                p { class: "filter-line",
                    {t(D::Filtered)}
                    button { class: "chip-button", "data-testid": "clear-filter", onclick: move |_| filter.set(Filter::default()), {t(D::ClearFilter)} }
                }
            }
            div { class: "board-grid",
                div { class: "board-tables",
                    if let Some(b) = b.clone() {
                        table { class: "counts", "data-testid": "compounds",
                            thead { tr {
                                th { {t(D::Compound)} } th { {t(D::Unassigned)} } th { {t(D::Assigned)} }
                                th { {t(D::CheckedOut)} } th { {t(D::Done)} } th { {t(D::Failed)} } th { {t(D::Conflicts)} }
                            } }
                            tbody {
                                for c in b.compounds.clone() {
                                    tr {
                                        key: "{c.compound.0}",
                                        class: if f.compound == Some(c.compound) { "on" } else { "" },
                                        "data-compound": "{c.compound.0}",
                                        onclick: move |_| filter.set(Filter { compound: if f.compound == Some(c.compound) { None } else { Some(c.compound) }, staff: None }),
                                        td { {c.name.clone()} }
                                        td { "data-col": "unassigned", "{c.unassigned}" }
                                        td { "data-col": "assigned", "{c.assigned}" }
                                        td { "data-col": "checked_out", "{c.checked_out}" }
                                        td { "data-col": "done", "{c.done}" }
                                        td { "data-col": "failed", "{c.failed}" }
                                        td { "data-col": "conflicts", class: if c.conflicts > 0 { "warn" } else { "" }, "{c.conflicts}" }
                                    }
                                }
                            }
                        }
                        table { class: "counts", "data-testid": "staff",
                            thead { tr {
                                th { {t(D::Staff)} } th { {t(D::Load)} } th { {t(D::Done)} } th { {t(D::Failed)} }
                            } }
                            tbody {
                                for s in b.staff.clone() {
                                    tr {
                                        key: "{s.staff.0}",
                                        class: if f.staff == Some(s.staff) { "on" } else { "" },
                                        "data-staff": "{s.staff.0}",
                                        onclick: move |_| filter.set(Filter { staff: if f.staff == Some(s.staff) { None } else { Some(s.staff) }, compound: None }),
                                        td {
                                            span { class: "swatch", style: "background:{super::map::colour(s.staff)}" }
                                            "{s.name} ({s.login})"
                                        }
                                        td { class: if s.open > u32::from(s.capacity) { "warn" } else { "" },
                                            meter { min: "0", max: "{s.capacity}", value: "{s.open}" }
                                            " {s.open}/{s.capacity}"
                                        }
                                        td { "{s.done}" }
                                        td { "{s.failed}" }
                                    }
                                }
                            }
                        }
                    } else {
                        p { class: "loading", {t(D::Loading)} }
                    }
                }
                div { class: "board-map",
                    if let Some(Some(town)) = town() {
                        TownSvg {
                            town,
                            selected: f.compound,
                            marks,
                            walks: walk().flatten().into_iter().collect::<Vec<_>>(),
                            on_compound: move |c| filter.set(Filter { compound: if f.compound == Some(c) { None } else { Some(c) }, staff: None }),
                        }
                    }
                }
            }
            if let Some(b) = b {
                TaskTable { tasks: b.tasks, names: b.staff.iter().map(|s| (s.staff, s.name.clone())).collect::<BTreeMap<_, _>>() }
            }
        }
    }
}

/// Tasks as rows; a click opens the task's history.
#[component]
pub fn TaskTable(tasks: Vec<jx_core::wire::TaskSummary>, names: BTreeMap<jx_core::StaffId, String>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut d = use_context::<Desk>();
    let l = lang();
    let t = |m| desk(l, m);
    rsx! {
        table { class: "tasks", "data-testid": "tasks",
            thead { tr {
                th { {t(D::Case)} } th { {t(D::Kind)} } th { {t(D::Building)} } th { {t(D::Status)} } th { {t(D::Assignee)} } th {}
            } }
            tbody {
                for task in tasks {
                    tr { key: "{task.id}", "data-task": "{task.id}", "data-case": "{task.case_number}", "data-status": task.status.as_str(), "data-compound": "{task.compound.0}",
                        onclick: move |_| d.open.set(Some(task.id)),
                        td { {task.case_number.clone()} }
                        td { {kind(l, task.kind)} }
                        td { {desk(l, D::BuildingNo(task.building))} }
                        td { {status(l, task.status)} }
                        td { {task.assignee.and_then(|s| names.get(&s).cloned()).unwrap_or_default()} }
                        td {
                            if task.pending_sync { span { class: "badge warn", "data-testid": "pending", {t(D::PendingSync)} } }
                            if task.conflicts > 0 { span { class: "badge bad", {t(D::HasConflict)} } }
                            if task.missing_blobs > 0 { span { class: "badge", {desk(l, D::MissingPhotos(task.missing_blobs))} } }
                        }
                    }
                }
            }
        }
    }
}
