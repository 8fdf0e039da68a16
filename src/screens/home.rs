//! The first screen: who we are and the demo town at a glance. A placeholder until tonight's route arrives.

use crate::i18n::{Lang, Msg, tr};
use dioxus::prelude::*;
use jx_core::TaskKind;
use jx_core::demo::demo_town;

/// The figures the home screen shows about the demo town.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TownSummary {
    pub compounds: usize,
    pub team: usize,
    pub deliveries: usize,
    pub pickups: usize,
}

impl TownSummary {
    pub fn of_demo() -> Self {
        let town = demo_town();
        let count = |k: TaskKind| town.tasks.iter().filter(|t| t.kind == k).count();
        TownSummary {
            compounds: town.compounds.len(),
            team: town.team().count(),
            deliveries: count(TaskKind::Delivery),
            pickups: count(TaskKind::Pickup),
        }
    }
}

#[component]
pub fn Home() -> Element {
    let mut lang = use_context::<Signal<Lang>>();
    let summary = use_hook(TownSummary::of_demo);
    let l = lang();
    rsx! {
        main { class: "home", lang: l.tag(),
            header {
                h1 { {tr(l, Msg::AppName)} }
                p { class: "tagline", {tr(l, Msg::Tagline)} }
            }
            section { class: "card",
                h2 { {tr(l, Msg::DemoTown)} }
                ul {
                    li { {tr(l, Msg::Compounds(summary.compounds))} }
                    li { {tr(l, Msg::TeamMembers(summary.team))} }
                    li { {tr(l, Msg::TasksTonight { deliveries: summary.deliveries, pickups: summary.pickups })} }
                }
            }
            p { class: "note", {tr(l, Msg::ComingSoon)} }
            button { class: "switch", onclick: move |_| lang.set(l.other()), {tr(l, Msg::SwitchLanguage)} }
        }
    }
}
