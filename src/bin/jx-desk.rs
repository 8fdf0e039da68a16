//! The coordinator's desk (泾小二 · 调度台) on its own: launches [`jing_xiaoer::DeskRoot`]. On the web it is its own
//! page (`/desk.html`) and wasm module, so staff phones never download it.

fn main() {
    #[cfg(any(feature = "web", feature = "desktop"))]
    dioxus::launch(jing_xiaoer::DeskRoot);
    #[cfg(not(any(feature = "web", feature = "desktop")))]
    eprintln!("{}", jing_xiaoer::i18n::desk(jing_xiaoer::i18n::Lang::En, jing_xiaoer::i18n::D::DeskTitle));
}
