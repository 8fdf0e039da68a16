//! The staff app (泾小二): launches [`jing_xiaoer::App`]. Everything is in the library.

fn main() {
    #[cfg(any(feature = "web", feature = "desktop"))]
    dioxus::launch(jing_xiaoer::App);
    #[cfg(not(any(feature = "web", feature = "desktop")))]
    eprintln!("{}", jing_xiaoer::i18n::tr(jing_xiaoer::i18n::Lang::En, jing_xiaoer::i18n::Msg::Tagline));
}
