//! 泾小二 (Jing Xiaoer): the staff and coordinator app, in Dioxus.
//!
//! A thin layer over `jx-core` (and, as they arrive, the store and the sync engine): screens show state and send
//! the user's intent down; no business rule lives in a component. It must never talk SQL or HTTP itself.
//!
//! Built without a platform feature (`web`, `desktop`) it has no renderer: the screens are compiled and tested
//! (server-side rendered) but not launched, hence the dead-code allowance for that build only.
#![cfg_attr(not(any(feature = "web", feature = "desktop")), allow(dead_code))]

mod i18n;
mod screens;

use dioxus::prelude::*;
use i18n::Lang;

fn main() {
    #[cfg(any(feature = "web", feature = "desktop"))]
    dioxus::launch(App);
    #[cfg(not(any(feature = "web", feature = "desktop")))]
    eprintln!("{}", i18n::tr(Lang::En, i18n::Msg::ComingSoon));
}

/// The app's stylesheet, compiled in. `asset!` needs the `dx` bundler to rewrite its paths, and our builds use
/// plain cargo + wasm-bindgen (no tool downloads), so the theme travels inside the binary instead: one file, every
/// platform, no request that can fail offline.
const THEME_CSS: &str = include_str!("../assets/main.css");

/// The whole app: the language, the theme, the current screen.
#[component]
fn App() -> Element {
    use_context_provider(|| Signal::new(Lang::default()));
    rsx! {
        document::Style { {THEME_CSS} }
        screens::home::Home {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_screen_renders_in_chinese_with_the_demo_town() {
        let mut dom = VirtualDom::new(App);
        dom.rebuild_in_place();
        let html = dioxus_ssr::render(&dom);
        assert!(html.contains("泾小二"), "{html}");
        assert!(html.contains("13 个小区"), "{html}");
        assert!(html.contains("今晚 300 件送达，80 件收件"), "{html}");
        assert!(!html.contains("Jing Xiaoer"), "English only after the switch: {html}");
    }
}
