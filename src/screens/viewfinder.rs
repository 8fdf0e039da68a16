//! The live viewfinder: where the platform has a camera, frames are read for a QR code as the staff member points
//! the phone, and the step moves on by itself when the right code is seen. A wrong code is refused on the spot
//! and scanning goes on. Where there is no camera it says so, and the photo button remains.

use crate::i18n::{Lang, Msg, tr};
use crate::platform::{self, Client};
use crate::screens::ErrorLine;
use dioxus::prelude::*;
use jx_core::TaskId;
use jx_engine::draft::Draft;
use jx_engine::{EngineError, Request, Response};

/// What is being scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Packet,
    Resident,
}

impl Target {
    pub fn request(self, task: TaskId, photo: Vec<u8>) -> Request {
        match self {
            Target::Packet => Request::ScanPacket { task, photo },
            Target::Resident => Request::ScanResident { task, photo },
        }
    }
}

/// What to do with a frame's answer: move on with the draft, show a refusal and keep scanning, or keep scanning.
pub fn on_answer(ans: Result<Response, EngineError>) -> Option<Result<Draft, EngineError>> {
    match ans {
        Ok(Response::Draft(d)) => Some(Ok(*d)),
        Err(EngineError::NoCodeInPhoto) => None,
        Err(e) => Some(Err(e)),
        Ok(_) => None,
    }
}

#[component]
pub fn Viewfinder(task: TaskId, target: Target, on_draft: EventHandler<Draft>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let client = use_context::<Client>();
    let mut error = use_signal(|| None::<EngineError>);
    let mut no_camera = use_signal(|| false);
    use_future(move || {
        let client = client.clone();
        async move {
            if !platform::camera_open("viewfinder").await {
                no_camera.set(true);
                return;
            }
            loop {
                platform::sleep(300).await;
                let Some(frame) = platform::camera_frame().await else { continue };
                match on_answer(client.call(target.request(task, frame)).await) {
                    Some(Ok(d)) => {
                        platform::camera_close();
                        on_draft.call(d);
                        return;
                    }
                    Some(Err(e)) => error.set(Some(e)),
                    None => {}
                }
            }
        }
    });
    use_drop(platform::camera_close);
    let l = lang();
    rsx! {
        div { class: "viewfinder", "data-testid": "viewfinder",
            if no_camera() {
                p { class: "error", "data-testid": "error", {tr(l, Msg::NoCamera)} }
            } else {
                video { id: "viewfinder", autoplay: true, "playsinline": true, muted: true }
                p { class: "muted", {tr(l, Msg::Scanning)} }
            }
            ErrorLine { error: error() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_engine::protocol::QrProblem;

    #[test]
    fn frames_without_a_code_keep_scanning_and_a_wrong_code_is_shown() {
        assert!(on_answer(Err(EngineError::NoCodeInPhoto)).is_none());
        let wrong = EngineError::WrongQr { problem: QrProblem::WrongKind };
        assert_eq!(on_answer(Err(wrong.clone())), Some(Err(wrong)));
    }
}
