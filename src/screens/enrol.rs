//! Enrolment: the centre's address, the staff member's login, once.

use crate::i18n::{Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::{ErrorLine, Screen, Switches};
use dioxus::prelude::*;
use jx_engine::{EngineError, Request, Response};

#[component]
pub fn Enrol() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let mut screen = use_context::<Signal<Screen>>();
    let mut url = use_signal(platform::origin);
    let mut login = use_signal(String::new);
    let mut password = use_signal(String::new);
    let mut busy = use_signal(|| false);
    let mut error = use_signal(|| None::<EngineError>);
    let mut desk_error = use_signal(|| None::<crate::desk::api::DeskError>);
    let l = lang();
    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let client = client.clone();
        async move {
            busy.set(true);
            error.set(None);
            desk_error.set(None);
            let req = Request::Enrol { centre_url: url(), login: login(), password: password() };
            let ans = client.call(req).await;
            busy.set(false);
            match ans {
                Ok(Response::Enrolled(_)) => {
                    password.set(String::new());
                    screen.set(Screen::Tonight);
                }
                Ok(_) => {}
                // A coordinator signs in to the desk instead: no phone enrolment, a session.
                Err(EngineError::NotStaff) => match crate::desk::api::login(&url(), &login(), &password()).await {
                    Ok((session, _)) => {
                        password.set(String::new());
                        crate::desk::save_session(&session);
                        screen.set(Screen::Desk);
                    }
                    Err(e) => desk_error.set(Some(e)),
                },
                Err(e) => error.set(Some(e)),
            }
        }
    };
    rsx! {
        main { class: "screen enrol", "data-testid": "enrol",
            header { class: "bar",
                h1 { {tr(l, Msg::AppName)} }
                Switches {}
            }
            p { class: "muted", {tr(l, Msg::Tagline)} }
            form { class: "card form", onsubmit: submit,
                h2 { {tr(l, Msg::EnrolTitle)} }
                p { class: "muted", {tr(l, Msg::EnrolHelp)} }
                label { r#for: "centre-url", {tr(l, Msg::CentreUrl)} }
                input { id: "centre-url", r#type: "url", value: "{url}", oninput: move |e| url.set(e.value()) }
                label { r#for: "login", {tr(l, Msg::Login)} }
                input { id: "login", autocomplete: "username", value: "{login}", oninput: move |e| login.set(e.value()) }
                label { r#for: "password", {tr(l, Msg::Password)} }
                input {
                    id: "password",
                    r#type: "password",
                    autocomplete: "current-password",
                    value: "{password}",
                    oninput: move |e| password.set(e.value()),
                }
                ErrorLine { error: error() }
                crate::desk::DeskErrorLine { error: desk_error() }
                button { class: "primary", r#type: "submit", disabled: busy(), "data-testid": "enrol-submit",
                    {tr(l, if busy() { Msg::Enrolling } else { Msg::EnrolButton })}
                }
            }
        }
    }
}
