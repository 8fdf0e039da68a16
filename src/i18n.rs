//! The one translation layer: every string a user sees comes from here, in zh-CN first and English second.
//! Components name a [`Msg`]; they never hold a literal.

use std::fmt;

/// The languages of the app. Chinese is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// The other language, for the language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    /// The BCP 47 tag for the page's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Every message of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    AppName,
    Tagline,
    ComingSoon,
    DemoTown,
    Compounds(usize),
    TeamMembers(usize),
    TasksTonight { deliveries: usize, pickups: usize },
    SwitchLanguage,
}

/// The text of `msg` in `lang`.
pub fn tr(lang: Lang, msg: Msg) -> String {
    let zh = lang == Lang::ZhCn;
    let pick = |a: &str, b: &str| if zh { a.to_string() } else { b.to_string() };
    match msg {
        Msg::AppName => pick("泾小二", "Jing Xiaoer"),
        Msg::Tagline => {
            pick("社区事务受理 · 上门送达与代办收件", "Community affairs: door-to-door delivery and pickup")
        }
        Msg::ComingSoon => {
            pick("今晚的路线、交接与同步即将上线。", "Tonight's route, handoffs and sync are on their way.")
        }
        Msg::DemoTown => pick("演示社区", "Demo town"),
        Msg::Compounds(n) => {
            if zh {
                format!("{n} 个小区")
            } else {
                format!("{n} compounds")
            }
        }
        Msg::TeamMembers(n) => {
            if zh {
                format!("{n} 名泾小二")
            } else {
                format!("{n} team members")
            }
        }
        Msg::TasksTonight { deliveries, pickups } => {
            if zh {
                format!("今晚 {deliveries} 件送达，{pickups} 件收件")
            } else {
                format!("Tonight: {deliveries} deliveries, {pickups} pickups")
            }
        }
        Msg::SwitchLanguage => pick("English", "中文"),
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_the_switch() {
        assert_eq!(tr(Lang::default(), Msg::AppName), "泾小二");
        assert_eq!(tr(Lang::En, Msg::AppName), "Jing Xiaoer");
        assert_eq!(tr(Lang::ZhCn, Msg::Compounds(13)), "13 个小区");
        assert_eq!(Lang::ZhCn.other(), Lang::En);
    }
}
