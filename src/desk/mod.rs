//! The coordinator's desk: the same app, wide, for the centre's coordinators (the role comes from the login).
//! They work online against the centre's API (`api`); what they do while the line is down waits in a queue saved
//! on the device (`queue`) and goes out by itself when the centre answers again, so nothing they did is lost.
//!
//! Owns: the desk's screens (board, import, assignment, map, hand-over, exceptions, report) and its HTTP line.
//! Must never import the staff engine's store or sync: a coordinator's browser holds no phone data.
//!
//! DOM contract for the end-to-end suite (tests/e2e/coordinator.mjs): the root is `[data-testid=desk]`, each tab
//! `[data-testid=tab-<name>]` and its page `[data-testid=page-<name>]`; the connection banner is
//! `[data-testid=offline]`, the queue `[data-testid=queue]`; rows carry `data-task` / `data-compound` /
//! `data-staff`.

pub mod api;
pub mod assign;
pub mod board;
pub mod counter;
pub mod exceptions;
pub mod household;
pub mod import;
pub mod map;
pub mod queue;
pub mod report;

use crate::i18n::{D, Lang, desk};
use crate::platform;
use crate::screens::Switches;
use api::{DeskError, Session};
use dioxus::prelude::*;
use jx_core::{CompoundId, StaffId, TaskId};
use queue::Queued;

/// The desk's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Board,
    Import,
    Assign,
    Counter,
    Exceptions,
    Report,
}

impl Tab {
    pub const ALL: [Tab; 6] = [Tab::Board, Tab::Import, Tab::Assign, Tab::Counter, Tab::Exceptions, Tab::Report];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Board => "board",
            Tab::Import => "import",
            Tab::Assign => "assign",
            Tab::Counter => "counter",
            Tab::Exceptions => "exceptions",
            Tab::Report => "report",
        }
    }

    fn label(self) -> D {
        match self {
            Tab::Board => D::TabBoard,
            Tab::Import => D::TabImport,
            Tab::Assign => D::TabAssign,
            Tab::Counter => D::TabCounter,
            Tab::Exceptions => D::TabExceptions,
            Tab::Report => D::TabReport,
        }
    }
}

/// What the board (and the map) is narrowed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub compound: Option<CompoundId>,
    pub staff: Option<StaffId>,
}

impl Filter {
    pub fn query(self) -> String {
        let mut q = Vec::new();
        if let Some(c) = self.compound {
            q.push(format!("compound={}", c.0));
        }
        if let Some(s) = self.staff {
            q.push(format!("staff={}", s.0));
        }
        if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
    }
}

/// Everything the desk's pages share, each a signal.
#[derive(Clone, Copy, PartialEq)]
pub struct Desk {
    pub session: Signal<Option<Session>>,
    /// False while the centre does not answer.
    pub online: Signal<bool>,
    pub queue: Signal<Vec<Queued>>,
    /// Bumped whenever the centre's data may have changed: pages reload on it.
    pub rev: Signal<u64>,
    pub tab: Signal<Tab>,
    pub filter: Signal<Filter>,
    /// The task whose history is open.
    pub open: Signal<Option<TaskId>>,
}

impl Desk {
    pub fn session(&self) -> Option<Session> {
        (self.session)()
    }

    /// Notes the line's state from a call's outcome: an answer means the centre is there.
    pub fn saw<T>(mut self, r: &Result<T, DeskError>) {
        match r {
            Err(DeskError::Offline(_)) => self.online.set(false),
            Err(DeskError::SignedOut) => self.sign_out(),
            _ => {
                if !(self.online)() {
                    self.online.set(true);
                }
            }
        }
    }

    pub fn changed(mut self) {
        *self.rev.write() += 1;
    }

    pub fn sign_out(mut self) {
        platform::set_pref("desk.session", "");
        self.session.set(None);
    }
}

/// The saved session, if a coordinator is signed in on this device.
pub fn saved_session() -> Option<Session> {
    platform::pref("desk.session").filter(|s| !s.is_empty()).and_then(|s| serde_json::from_str(&s).ok())
}

pub fn save_session(s: &Session) {
    if let Ok(json) = serde_json::to_string(s) {
        platform::set_pref("desk.session", &json);
    }
}

/// The date in Shanghai at `ms`, `YYYY-MM-DD`.
pub fn shanghai_day(ms: i64) -> String {
    jx_core::time::ShanghaiDay::of(jx_core::Timestamp(ms)).to_string()
}

/// The desk as its own app: the language and the look, the sign-in page, then the desk.
#[component]
pub fn DeskRoot() -> Element {
    let lang = match try_use_context::<Signal<Lang>>() {
        Some(l) => l,
        None => {
            use_context_provider(|| Signal::new(platform::pref("lang").map(|t| Lang::from_tag(&t)).unwrap_or_default()))
        }
    };
    let look = match try_use_context::<Signal<crate::screens::Look>>() {
        Some(l) => l,
        None => use_context_provider(|| Signal::new(crate::screens::Look::saved())),
    };
    let session = use_context_provider(|| Signal::new(saved_session()));
    let l = lang();
    rsx! {
        document::Style { {crate::THEME_CSS} }
        div { class: look().class(), lang: l.tag(),
            crate::screens::UpdateBanner {}
            match session() {
                Some(s) => rsx! { DeskApp { key: "{s.token}", session: s } },
                None => rsx! { SignIn {} },
            }
        }
    }
}

/// A coordinator signs in (a team member's login is told to use the phone app).
#[component]
fn SignIn() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut session = use_context::<Signal<Option<Session>>>();
    let mut url = use_signal(platform::origin);
    let mut login = use_signal(String::new);
    let mut password = use_signal(String::new);
    let mut error = use_signal(|| None::<DeskError>);
    let mut busy = use_signal(|| false);
    let l = lang();
    let submit = move |evt: FormEvent| async move {
        evt.prevent_default();
        busy.set(true);
        let r = api::login(&url(), &login(), &password()).await;
        busy.set(false);
        match r {
            Ok((s, _)) => {
                password.set(String::new());
                save_session(&s);
                session.set(Some(s));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    rsx! {
        main { class: "screen enrol", "data-testid": "desk-sign-in",
            header { class: "bar",
                h1 { {desk(l, D::DeskTitle)} }
                Switches {}
            }
            form { class: "card form", onsubmit: submit,
                label { r#for: "centre-url", {crate::i18n::tr(l, crate::i18n::Msg::CentreUrl)} }
                input { id: "centre-url", r#type: "url", value: "{url}", oninput: move |e| url.set(e.value()) }
                label { r#for: "login", {crate::i18n::tr(l, crate::i18n::Msg::Login)} }
                input { id: "login", autocomplete: "username", value: "{login}", oninput: move |e| login.set(e.value()) }
                label { r#for: "password", {crate::i18n::tr(l, crate::i18n::Msg::Password)} }
                input { id: "password", r#type: "password", autocomplete: "current-password", value: "{password}", oninput: move |e| password.set(e.value()) }
                DeskErrorLine { error: error() }
                button { class: "primary", r#type: "submit", disabled: busy(), "data-testid": "desk-sign-in-submit", {desk(l, D::SignIn)} }
            }
        }
    }
}

/// The desk, for a signed-in coordinator.
#[component]
fn DeskApp(session: Session) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let dk = use_context_provider(|| Desk {
        session: Signal::new(Some(session.clone())),
        online: Signal::new(true),
        queue: Signal::new(queue::load()),
        rev: Signal::new(0),
        tab: Signal::new(Tab::Board),
        filter: Signal::new(Filter::default()),
        open: Signal::new(None),
    });
    let mut outer = use_context::<Signal<Option<Session>>>();
    // Signed out (by the user, or the session ended): back to the sign-in page, the queue kept for next time.
    use_effect(move || {
        if (dk.session)().is_none() {
            outer.set(None);
        }
    });
    // The line to the centre: a heartbeat, and the queue sent as soon as the centre answers.
    use_future(move || async move {
        loop {
            if let Some(s) = dk.session() {
                let r = s.get_text("/health").await;
                dk.saw(&r);
                if r.is_ok() && !(dk.queue)().is_empty() {
                    queue::drain(dk, &s).await;
                }
            }
            platform::sleep(if (dk.online)() { 4_000 } else { 1_500 }).await;
        }
    });
    let l = lang();
    let mut tab = dk.tab;
    let name = dk.session().map(|s| s.name).unwrap_or_default();
    rsx! {
        div { class: "desk", "data-testid": "desk",
            header { class: "desk-bar",
                h1 { {desk(l, D::DeskTitle)} }
                span { class: "muted", {desk(l, D::SignedInAs(name))} }
                Switches {}
                button { class: "chip-button", "data-testid": "sign-out", onclick: move |_| dk.sign_out(), {desk(l, D::SignOut)} }
            }
            if !(dk.online)() {
                p { class: "banner offline", role: "alert", "data-testid": "offline", {desk(l, D::Offline)} }
            }
            nav { class: "desk-tabs",
                for t in Tab::ALL {
                    button {
                        class: if tab() == t { "tab on" } else { "tab" },
                        "data-testid": "tab-{t.name()}",
                        onclick: move |_| tab.set(t),
                        {desk(l, t.label())}
                    }
                }
                queue::QueueBadge {}
            }
            section { class: "desk-page", "data-testid": "page-{tab().name()}",
                match tab() {
                    Tab::Board => rsx! { board::BoardPage {} },
                    Tab::Import => rsx! { import::ImportPage {} },
                    Tab::Assign => rsx! { assign::AssignPage {} },
                    Tab::Counter => rsx! { counter::CounterPage {} },
                    Tab::Exceptions => rsx! { exceptions::ExceptionsPage {} },
                    Tab::Report => rsx! { report::ReportPage {} },
                }
            }
            queue::QueuePanel {}
            if let Some(task) = (dk.open)() {
                exceptions::TaskDrawer { task }
            }
        }
    }
}

/// A refusal or failure from the centre, in the user's language.
#[component]
pub fn DeskErrorLine(error: Option<DeskError>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    match error {
        None => rsx! {},
        Some(e) => rsx! {
            p { class: "error", role: "alert", "data-testid": "error", {crate::i18n::desk_error(lang(), &e)} }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_days_turn_at_midnight_china_time() {
        // 2026-11-29T15:59:59Z is 23:59:59 in Shanghai; a second later it is the 30th there.
        assert_eq!(shanghai_day(1_795_967_999_000), "2026-11-29");
        assert_eq!(shanghai_day(1_795_968_000_000), "2026-11-30");
        assert_eq!(shanghai_day(0), "1970-01-01");
        assert_eq!(shanghai_day(951_825_600_000), "2000-02-29");
    }

    #[test]
    fn filters_make_the_board_query() {
        assert_eq!(Filter::default().query(), "");
        assert_eq!(Filter { compound: Some(CompoundId(3)), staff: None }.query(), "?compound=3");
        assert_eq!(Filter { compound: Some(CompoundId(3)), staff: Some(StaffId(9)) }.query(), "?compound=3&staff=9");
    }
}
