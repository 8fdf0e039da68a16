//! 泾小二 (Jing Xiaoer): the staff app and the coordinator's desk, in Dioxus.
//!
//! A thin layer over `jx-engine`: screens show what the engine answers and send the user's intent back as
//! requests; no business rule lives in a component. The staff side never talks SQL or HTTP itself: on the web the
//! engine runs in a dedicated worker (`crates/worker`), elsewhere in-process (`platform::Client`). The
//! coordinator's desk (`desk`) works online, over HTTP to the centre's API, from the page.
//!
//! Two binaries launch it: `jing-xiaoer` (the staff app, `App`) and `jx-desk` (the coordinator's desk, `DeskRoot`).
//! On the web they are two wasm modules, so a staff phone never downloads the desk; on the desktop the staff app
//! opens the desk in the same window when a coordinator signs in.
//!
//! Built without a platform feature (`web`, `desktop`) it has no renderer: the screens are compiled and tested
//! (server-side rendered) but not launched, hence the dead-code allowance for that build only.
#![cfg_attr(not(any(feature = "web", feature = "desktop")), allow(dead_code))]

pub mod desk;
pub mod i18n;
pub mod platform;
pub mod screens;

use dioxus::prelude::*;
use i18n::Lang;
use jx_engine::{Request, Response};

pub use desk::DeskRoot;
use screens::{Look, Revision, Screen};

/// The app's stylesheet, compiled in. `asset!` needs the `dx` bundler to rewrite its paths, and our builds use
/// plain cargo + wasm-bindgen (no tool downloads), so the theme travels inside the binary instead: one file, every
/// platform, no request that can fail offline.
pub const THEME_CSS: &str = include_str!("../assets/main.css");

/// The whole app: the language, the look, the engine, the current screen.
#[component]
pub fn App() -> Element {
    let lang =
        use_context_provider(|| Signal::new(platform::pref("lang").map(|t| Lang::from_tag(&t)).unwrap_or_default()));
    let look = use_context_provider(|| Signal::new(Look::saved()));
    let client = use_context_provider(platform::Client::new);
    let mut screen = use_context_provider(|| Signal::new(Screen::Loading));
    use_context_provider(|| Signal::new(Revision::default()));
    let mut position = use_context_provider(|| Signal::new(None::<jx_core::geo::LatLng>));

    // Where to start: enrolment, a half-done handoff, or tonight's route.
    use_future(move || {
        let client = client.clone();
        async move {
            match client.call(Request::Hello).await {
                Ok(Response::Hello(h)) => screen.set(match (h.me, h.resume) {
                    (None, _) if desk::saved_session().is_some() => Screen::Desk,
                    (None, _) => Screen::Enrol,
                    (Some(_), Some(task)) => Screen::Handoff(task),
                    (Some(_), None) => Screen::Tonight,
                }),
                _ => screen.set(Screen::Fatal),
            }
        }
    });
    // Where the phone is, for the walking order; refreshed every few minutes.
    use_future(move || async move {
        loop {
            if let Some(fix) = platform::locate(false).await {
                position.set(Some(fix.at));
            }
            platform::sleep(180_000).await;
        }
    });

    let l = lang();
    rsx! {
        document::Style { {THEME_CSS} }
        div { class: look().class(), lang: l.tag(),
            screens::UpdateBanner {}
            match screen() {
                Screen::Loading => rsx! { p { class: "loading", {i18n::tr(l, i18n::Msg::Loading)} } },
                Screen::Fatal => rsx! { p { class: "error", "data-testid": "error", {i18n::tr(l, i18n::Msg::EngineDown)} } },
                Screen::Enrol => rsx! { screens::enrol::Enrol {} },
                Screen::Tonight => rsx! { screens::tonight::TonightPage {} },
                Screen::Task(task) => rsx! { screens::task::TaskPage { task } },
                Screen::Handoff(task) => rsx! { screens::handoff::HandoffPage { task } },
                Screen::Fail(task) => rsx! { screens::fail::FailPage { task } },
                Screen::Outbox => rsx! { screens::outbox::OutboxPage {} },
                // A coordinator: the desk is its own page on the web (a phone never downloads it), here on the desktop.
                Screen::Desk => {
                    if cfg!(target_arch = "wasm32") {
                        platform::go("/desk.html");
                        rsx! { p { class: "loading", {i18n::tr(l, i18n::Msg::Loading)} } }
                    } else {
                        rsx! { desk::DeskRoot {} }
                    }
                }
            }
        }
    }
}
