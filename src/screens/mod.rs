//! The screens, and what they share: where the app is, how it looks, the header, refusals, photo buttons.
//!
//! DOM contract for the end-to-end suite (tests/e2e): each screen's root has `data-testid` = enrol | tonight |
//! task | handoff | fail | outbox; refusals are `[data-testid=error]`; the rest is named where it is built.

pub mod enrol;
pub mod fail;
pub mod handoff;
pub mod outbox;
pub mod resident;
pub mod signature;
pub mod task;
pub mod tonight;
pub mod viewfinder;

use crate::i18n::{Lang, Msg, tr};
use crate::platform;
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_engine::EngineError;

/// Where the app is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Loading,
    /// The engine could not start (the browser's storage is unavailable).
    Fatal,
    Enrol,
    Tonight,
    Task(TaskId),
    Handoff(TaskId),
    Fail(TaskId),
    Outbox,
    /// A coordinator's desk (the session is saved; see `crate::desk`).
    Desk,
}

/// How the app looks: the evening's dark theme by default, and a large-text mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    pub dark: bool,
    pub large: bool,
}

impl Look {
    pub fn saved() -> Look {
        Look {
            dark: platform::pref("theme").as_deref() != Some("light"),
            large: platform::pref("text").as_deref() == Some("large"),
        }
    }

    pub fn class(self) -> &'static str {
        match (self.dark, self.large) {
            (true, false) => "app dark",
            (true, true) => "app dark large",
            (false, false) => "app light",
            (false, true) => "app light large",
        }
    }
}

/// Bumped whenever something may have changed the phone's data (a sync, a handoff): screens reload on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revision(pub u64);

/// The language, theme and text-size switches.
#[component]
pub fn Switches() -> Element {
    let mut lang = use_context::<Signal<Lang>>();
    let mut look = use_context::<Signal<Look>>();
    let l = lang();
    let lk = look();
    rsx! {
        div { class: "switches",
            button {
                class: "chip-button",
                "data-testid": "lang",
                onclick: move |_| {
                    let next = l.other();
                    platform::set_pref("lang", next.tag());
                    lang.set(next);
                },
                {tr(l, Msg::SwitchLanguage)}
            }
            button {
                class: "chip-button",
                "data-testid": "theme",
                onclick: move |_| {
                    platform::set_pref("theme", if lk.dark { "light" } else { "dark" });
                    look.set(Look { dark: !lk.dark, ..lk });
                },
                {tr(l, if lk.dark { Msg::LightTheme } else { Msg::DarkTheme })}
            }
            button {
                class: "chip-button",
                "data-testid": "large-text",
                onclick: move |_| {
                    platform::set_pref("text", if lk.large { "normal" } else { "large" });
                    look.set(Look { large: !lk.large, ..lk });
                },
                {tr(l, if lk.large { Msg::NormalText } else { Msg::LargeText })}
            }
        }
    }
}

/// A refusal or failure, in the user's language, with what to do.
#[component]
pub fn ErrorLine(error: Option<EngineError>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    match error {
        None => rsx! {},
        Some(e) => rsx! {
            p { class: "error", role: "alert", "data-testid": "error", {crate::i18n::error(lang(), &e)} }
        },
    }
}

/// A big button that takes a photo (the camera where the platform offers one, a file otherwise) and hands its
/// bytes to `on_photo`.
#[component]
pub fn PhotoButton(testid: String, label: String, on_photo: EventHandler<Vec<u8>>, disabled: bool) -> Element {
    rsx! {
        label { class: if disabled { "photo-button disabled" } else { "photo-button" },
            span { {label} }
            input {
                r#type: "file",
                accept: "image/*",
                "capture": "environment",
                disabled,
                "data-testid": "{testid}",
                onchange: move |evt: FormEvent| async move {
                    for file in evt.files() {
                        if let Ok(bytes) = file.read_bytes().await {
                            on_photo.call(bytes.to_vec());
                        }
                    }
                },
            }
        }
    }
}

/// The back button.
#[component]
pub fn Back(to: Screen) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut screen = use_context::<Signal<Screen>>();
    rsx! {
        button { class: "back", "data-testid": "back", onclick: move |_| screen.set(to), {tr(lang(), Msg::Back)} }
    }
}

#[cfg(test)]
mod tests;

/// A newer build of the app, installed by the service worker while this page runs the old one: offered with a reload
/// button (the store keeps every record and draft, so reloading loses nothing). Looked for every ten minutes.
#[component]
pub fn UpdateBanner() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut ready = use_signal(|| false);
    use_future(move || async move {
        for tick in 0u64.. {
            if tick % 300 == 299 {
                platform::check_for_update();
            }
            if platform::update_ready() && !*ready.peek() {
                ready.set(true);
            }
            platform::sleep(2_000).await;
        }
    });
    let l = lang();
    rsx! {
        if ready() {
            div { class: "update card", role: "status", "data-testid": "update-ready",
                p { {tr(l, Msg::UpdateReady)} }
                button { class: "primary", "data-testid": "update-reload", onclick: move |_| platform::reload(),
                    {tr(l, Msg::UpdateReload)}
                }
            }
        }
    }
}
