//! The one translation layer: every string a user sees comes from here, in zh-CN first and English second.
//! Components name a [`Msg`] (or hand an engine error, a proof gap, a status to one of the functions below); they
//! never hold a literal.

use jx_core::event::{EventKind, FailureReason};
use jx_core::model::{Address, ProofRequirement, TaskKind};
use jx_core::proof::Gap;
use jx_core::state::TaskStatus;
use jx_engine::EngineError;
use jx_engine::protocol::{Chip, QrProblem, SyncProblem, SyncView};
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

    pub fn from_tag(tag: &str) -> Lang {
        if tag == "en" { Lang::En } else { Lang::ZhCn }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Every fixed message of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    AppName,
    Tagline,
    SwitchLanguage,
    DarkTheme,
    LightTheme,
    LargeText,
    NormalText,
    Loading,
    EngineDown,
    // Enrol
    EnrolTitle,
    EnrolHelp,
    CentreUrl,
    Login,
    Password,
    EnrolButton,
    Enrolling,
    // Tonight
    Tonight,
    Progress {
        done: u32,
        total: u32,
    },
    GreenOpen(u32),
    Conflicts(u32),
    Building(u16),
    Compound(u32),
    NothingTonight,
    FinishedStops,
    Outbox,
    GreenChannel,
    HalfDone,
    DueAgain,
    MustReturn,
    HouseholdCardTitle,
    ScanHouseholdCard,
    OrTypeHouseholdCode,
    ProxyReceives,
    ProxyCodeAsk,
    WitnessTitle,
    WitnessHelp,
    WitnessName,
    WitnessPhoto,
    ResidentCardAsk,
    ResidentSlipCode,
    ResidentUseCard,
    ResidentProxy(String),
    /// The resident booked the next visit with the door card: "evening of 12-03".
    BookedFor(String),
    // Task
    Back,
    Call,
    CaseNumber,
    ServiceItem,
    Resident,
    Phone,
    Address,
    NeedsProof,
    Materials,
    Original,
    Copy,
    Required,
    History,
    StartHandoff(TaskKind),
    ResumeHandoff,
    StartFail,
    Attempts(u32),
    Mine,
    NotMine,
    // Handoff
    StepOf {
        n: usize,
        of: usize,
    },
    StepPacket,
    StepPacketHelp,
    StepConfirm,
    StepConfirmHelp,
    StepPhoto,
    StepPhotoHelp,
    StepMaterials,
    StepMaterialsHelp,
    StepSignature,
    StepSignatureHelp,
    StepRating,
    StepRatingHelp,
    StepReady,
    TakePhoto,
    LiveScan,
    StopScan,
    Scanning,
    NoCamera,
    ScanResidentQr,
    OrTypeCode,
    CodePlaceholder,
    CheckCode,
    OrSign,
    SignHere,
    ClearSignature,
    SignatureDone,
    NoLabel,
    Absent,
    Stars(u8),
    Declines,
    Finish,
    Working,
    Locating,
    LocationUnknown,
    LocateAgain,
    Accuracy(u32),
    Abandon,
    Done,
    // The resident's moment
    ToResident,
    ToStaff,
    ResidentConfirm {
        item: String,
    },
    ResidentCodeAsk,
    ResidentOrSign,
    ResidentSign {
        item: String,
    },
    ResidentRate,
    ReadAgain,
    NoVoice,
    // Fail
    FailTitle,
    Reason,
    Note,
    RetryAt,
    OptionalPhoto,
    RecordFailure,
    DoorCardTitle,
    DoorCardHelp,
    DoorCardScan,
    DoorCardRead(String),
    DoorCardRemove,
    // Outbox and sync
    OutboxEmpty,
    SyncNow,
    Why,
    PhotosWaiting(u32),
    RejectedHelp,
    // A newer build of the app
    UpdateReady,
    UpdateReload,
    // Proof added after a handoff
    ProofAsked,
    ProofAskedCount(u32),
    ProofAskedTitle,
    AddProofTitle,
    AddProofHelp,
    AddProofPhoto,
    AddProofSubmit,
    ProofAddedOk,
}

fn pick(lang: Lang, zh: &str, en: &str) -> String {
    if lang == Lang::ZhCn { zh.to_string() } else { en.to_string() }
}

/// The text of `msg` in `lang`.
pub fn tr(lang: Lang, msg: Msg) -> String {
    let zh = lang == Lang::ZhCn;
    let p = |a: &str, b: &str| pick(lang, a, b);
    match msg {
        Msg::AppName => p("泾小二", "Jing Xiaoer"),
        Msg::Tagline => p("社区事务受理 · 上门送达与代办收件", "Community affairs: door-to-door delivery and pickup"),
        Msg::SwitchLanguage => p("English", "中文"),
        Msg::DarkTheme => p("夜间", "Dark"),
        Msg::LightTheme => p("日间", "Light"),
        Msg::LargeText => p("大字", "Large text"),
        Msg::NormalText => p("标准字", "Normal text"),
        Msg::Loading => p("正在打开…", "Opening…"),
        Msg::EngineDown => p("手机存储无法打开", "The phone's storage cannot be opened"),
        Msg::EnrolTitle => p("登记这部手机", "Enrol this phone"),
        Msg::EnrolHelp => p(
            "只需登记一次：之后无需再登录，直到中心注销这部手机。",
            "Once only: no login again until the centre revokes this phone.",
        ),
        Msg::CentreUrl => p("中心地址", "Centre address"),
        Msg::Login => p("工号", "Login"),
        Msg::Password => p("密码", "Password"),
        Msg::EnrolButton => p("登记", "Enrol"),
        Msg::Enrolling => p("正在登记…", "Enrolling…"),
        Msg::Tonight => p("今晚路线", "Tonight's route"),
        Msg::Progress { done, total } => {
            if zh {
                format!("已完成 {done}/{total}")
            } else {
                format!("Done {done}/{total}")
            }
        }
        Msg::GreenOpen(n) => {
            if zh {
                format!("绿色通道待办 {n}")
            } else {
                format!("{n} green-channel open")
            }
        }
        Msg::Conflicts(n) => {
            if zh {
                format!("冲突 {n}")
            } else {
                format!("{n} conflicts")
            }
        }
        Msg::Building(b) => {
            if zh {
                format!("{b}号楼")
            } else {
                format!("Building {b}")
            }
        }
        Msg::Compound(c) => {
            if zh {
                format!("小区 {c}")
            } else {
                format!("Compound {c}")
            }
        }
        Msg::NothingTonight => p("今晚没有任务。", "Nothing for you tonight."),
        Msg::FinishedStops => p("已走完", "Finished"),
        Msg::Outbox => p("待发送", "Outbox"),
        Msg::GreenChannel => p("绿色通道", "Green channel"),
        Msg::HalfDone => p("进行中", "In progress"),
        Msg::DueAgain => p("再次上门", "Visit again"),
        Msg::HouseholdCardTitle => p("居民出示家庭卡", "The resident shows their household card"),
        Msg::ScanHouseholdCard => p("拍家庭卡二维码", "Photograph the household card's QR"),
        Msg::OrTypeHouseholdCode => p("或输入家庭卡下方的 6 位码", "or type the 6-digit code under it"),
        Msg::ProxyReceives => p("家属代收", "A family member receives"),
        Msg::ProxyCodeAsk => p("请输入家属自己的 6 位代收码。", "Type the family member's own 6-digit code."),
        Msg::WitnessTitle => p("居民不能签字：见证照片", "The resident cannot sign: a witness photo"),
        Msg::WitnessHelp => p(
            "请家属或邻居作见证，拍一张交接时的合影；之后仍需另拍一张交接照片。",
            "Ask a family member or neighbour to witness and photograph the handoff with them; a separate handoff photo is still needed.",
        ),
        Msg::WitnessName => p("见证人姓名", "Witness's name"),
        Msg::WitnessPhoto => p("拍见证照片", "Take the witness photo"),
        Msg::ResidentCardAsk => {
            p("请出示您的家庭卡，或输入卡下方的 6 位数字。", "Show your household card, or type the 6 digits under it.")
        }
        Msg::ResidentSlipCode => p("用回执上的 6 位码", "Use the code on the slip"),
        Msg::ResidentUseCard => p("出示家庭卡", "Show my household card"),
        Msg::ResidentProxy(who) => {
            if zh {
                format!("由家属 {who} 代收")
            } else {
                format!("Family member {who} receives")
            }
        }
        Msg::MustReturn => p("三次未成，请交回中心", "Three visits failed: bring it back to the centre"),
        Msg::BookedFor(when) => {
            if zh {
                format!("居民已预约 {when} 晚上")
            } else {
                format!("Resident booked the evening of {when}")
            }
        }
        Msg::Back => p("返回", "Back"),
        Msg::Call => p("拨打电话", "Call"),
        Msg::CaseNumber => p("办件编号", "Case number"),
        Msg::ServiceItem => p("事项", "Service"),
        Msg::Resident => p("居民", "Resident"),
        Msg::Phone => p("电话", "Phone"),
        Msg::Address => p("地址", "Address"),
        Msg::NeedsProof => p("交接凭证", "Proof needed"),
        Msg::Materials => p("材料清单", "Checklist"),
        Msg::Original => p("原件", "original"),
        Msg::Copy => p("复印件", "copy"),
        Msg::Required => p("必需", "required"),
        Msg::History => p("记录", "History"),
        Msg::StartHandoff(TaskKind::Delivery) => p("开始送达", "Start delivery"),
        Msg::StartHandoff(TaskKind::Pickup) => p("开始收件", "Start pickup"),
        Msg::ResumeHandoff => p("继续交接", "Resume handoff"),
        Msg::StartFail => p("未能交接", "Could not hand over"),
        Msg::Attempts(n) => {
            if zh {
                format!("已上门 {n} 次未成")
            } else {
                format!("{n} failed visits")
            }
        }
        Msg::Mine => p("本机", "this phone"),
        Msg::NotMine => p("中心", "centre"),
        Msg::StepOf { n, of } => {
            if zh {
                format!("第 {n} 步，共 {of} 步")
            } else {
                format!("Step {n} of {of}")
            }
        }
        Msg::StepPacket => p("扫描材料袋标签", "Scan the packet's label"),
        Msg::StepPacketHelp => p("对准材料袋上的二维码拍照。", "Take a photo of the QR code on the packet's label."),
        Msg::StepConfirm => p("居民确认", "The resident confirms"),
        Msg::StepConfirmHelp => p(
            "扫描居民的二维码，或输入回执上的 6 位数字，或请居民签名。",
            "Scan the resident's QR code, or type the 6 digits on their slip, or ask them to sign.",
        ),
        Msg::StepPhoto => p("交接照片", "Handoff photo"),
        Msg::StepPhotoHelp => p("拍一张交接的照片。", "Take a photo of the handoff."),
        Msg::StepMaterials => p("核对材料", "Check the materials"),
        Msg::StepMaterialsHelp => {
            p("每件材料拍一张照片；缺少的材料标为“没有”。", "Photograph each item; mark missing ones as absent.")
        }
        Msg::StepSignature => p("居民授权签名", "The resident's authorisation"),
        Msg::StepSignatureHelp => {
            p("请居民在下方签名，授权代办。", "Ask the resident to sign below to authorise the proxy.")
        }
        Msg::StepRating => p("请居民评价", "The resident's rating"),
        Msg::StepRatingHelp => p("请把手机交给居民，点一下。", "Hand the phone to the resident to tap."),
        Msg::StepReady => p("可以完成了", "Ready to finish"),
        Msg::TakePhoto => p("拍照", "Take photo"),
        Msg::LiveScan => p("用摄像头扫码", "Scan with the camera"),
        Msg::StopScan => p("停止扫码", "Stop scanning"),
        Msg::Scanning => p("对准二维码，扫到会自动继续…", "Point at the code; it moves on by itself…"),
        Msg::NoCamera => {
            p("无法打开摄像头，请用“拍照”。", "The camera cannot be opened; use \u{201c}Take photo\u{201d}.")
        }
        Msg::ScanResidentQr => p("扫居民二维码", "Scan resident's QR"),
        Msg::OrTypeCode => p("或输入 6 位数字", "or type the 6 digits"),
        Msg::CodePlaceholder => p("6 位数字", "6 digits"),
        Msg::CheckCode => p("核对", "Check"),
        Msg::OrSign => p("或请居民签名", "or ask them to sign"),
        Msg::SignHere => p("请在此签名", "Sign here"),
        Msg::ClearSignature => p("重签", "Clear"),
        Msg::SignatureDone => p("签好了", "Signed"),
        Msg::NoLabel => p("没有标签", "No label"),
        Msg::Absent => p("没有", "Absent"),
        Msg::Stars(n) => match (zh, n) {
            (true, 1) => "很不满意".into(),
            (true, 2) => "不满意".into(),
            (true, 3) => "一般".into(),
            (true, 4) => "满意".into(),
            (true, _) => "很满意".into(),
            (false, 1) => "Very poor".into(),
            (false, 2) => "Poor".into(),
            (false, 3) => "OK".into(),
            (false, 4) => "Good".into(),
            (false, _) => "Very good".into(),
        },
        Msg::Declines => p("不评价", "No rating"),
        Msg::Finish => p("完成交接", "Finish"),
        Msg::Working => p("处理中…", "Working…"),
        Msg::Locating => p("正在定位…", "Finding the position…"),
        Msg::LocationUnknown => p("还没有位置", "No position yet"),
        Msg::LocateAgain => p("重新定位", "Locate again"),
        Msg::Accuracy(m) => {
            if zh {
                format!("已定位（误差 {m} 米）")
            } else {
                format!("Position found (± {m} m)")
            }
        }
        Msg::Abandon => p("放弃这次交接", "Abandon this handoff"),
        Msg::Done => p("已完成", "Done"),
        Msg::ToResident => p("请居民确认（大字）", "Hand to the resident (large)"),
        Msg::ToStaff => p("交还工作人员", "Back to the staff member"),
        Msg::ResidentConfirm { item } => {
            if zh {
                format!("这是您的“{item}”办理结果。请确认收到。")
            } else {
                format!("This is the result of your \u{201c}{item}\u{201d}. Please confirm you received it.")
            }
        }
        Msg::ResidentCodeAsk => p("请输入回执上的 6 位数字", "Type the 6 digits on your slip"),
        Msg::ResidentOrSign => p("没有回执？请签名", "No slip? Sign instead"),
        Msg::ResidentSign { item } => {
            if zh {
                format!("请签名，授权我们为您代办“{item}”。")
            } else {
                format!("Please sign to let us handle \u{201c}{item}\u{201d} for you.")
            }
        }
        Msg::ResidentRate => p("您对这次服务满意吗？", "Are you satisfied with this service?"),
        Msg::ReadAgain => p("再听一遍", "Read it again"),
        Msg::NoVoice => p("本机不能朗读，请看屏幕。", "This phone cannot read aloud; please read the screen."),
        Msg::FailTitle => p("未能交接", "Could not hand over"),
        Msg::Reason => p("原因", "Reason"),
        Msg::Note => p("备注", "Note"),
        Msg::RetryAt => p("居民约定的时间", "The time the resident asked for"),
        Msg::OptionalPhoto => p("照片（可选）", "Photo (optional)"),
        Msg::RecordFailure => p("记录并继续", "Record and move on"),
        Msg::DoorCardTitle => p("留下联系卡", "Leave a door card"),
        Msg::DoorCardHelp => p(
            "从联系卡卷上撕一张，先拍下它的二维码，再塞进门缝：居民扫码就能自己选下次上门的晚上。",
            "Tear a card off the roll, photograph its QR, then leave it at the door: the resident scans it to pick another evening.",
        ),
        Msg::DoorCardScan => p("拍联系卡二维码", "Photograph the card's QR"),
        Msg::DoorCardRead(short) => {
            if zh {
                format!("联系卡 {short} 已读取，记录时一并保存。")
            } else {
                format!("Card {short} read; it is saved with the visit.")
            }
        }
        Msg::DoorCardRemove => p("不留卡", "Leave no card"),
        Msg::OutboxEmpty => p("没有待发送的记录。", "Nothing waiting to be sent."),
        Msg::SyncNow => p("立即同步", "Sync now"),
        Msg::Why => p("原因", "Why"),
        Msg::PhotosWaiting(n) => {
            if zh {
                format!("{n} 张照片待上传")
            } else {
                format!("{n} photos to upload")
            }
        }
        Msg::UpdateReady => p(
            "应用有新版本。记录都保存在本机，刷新不会丢失。",
            "A new version of the app is ready. Everything is kept on this phone; reloading loses nothing.",
        ),
        Msg::UpdateReload => p("刷新到新版本", "Reload the new version"),
        Msg::ProofAsked => p("需补充证明", "Proof asked for"),
        Msg::ProofAskedCount(n) => {
            if zh {
                format!("{n} 件需补充证明")
            } else {
                format!("{n} need more proof")
            }
        }
        Msg::ProofAskedTitle => p("协调员要求补充这次交接的证明", "A coordinator asks for more proof of this handoff"),
        Msg::AddProofTitle => p("补充证明", "Add proof"),
        Msg::AddProofHelp => p(
            "补拍一张照片，或写明当时的情况；保存在本机，下次同步时发到中心。",
            "Take another photo or say what happened; it is kept on this phone and sent with the next sync.",
        ),
        Msg::AddProofPhoto => p("拍照补充", "Take a photo"),
        Msg::AddProofSubmit => p("提交补充证明", "Send the added proof"),
        Msg::ProofAddedOk => p("已保存，将随同步发到中心。", "Kept; it goes to the centre with the sync."),
        Msg::RejectedHelp => p(
            "中心拒收了这条记录。请联系协调员处理，记录仍保留在本机。",
            "The centre refused this record. Ask the coordinator; the record stays on this phone.",
        ),
    }
}

pub fn kind(lang: Lang, k: TaskKind) -> String {
    match k {
        TaskKind::Delivery => pick(lang, "送达", "Delivery"),
        TaskKind::Pickup => pick(lang, "收件", "Pickup"),
    }
}

pub fn status(lang: Lang, s: TaskStatus) -> String {
    use TaskStatus::*;
    let (zh, en) = match s {
        Created => ("待分配", "new"),
        Requested => ("待分配", "requested"),
        Assigned => ("待办", "to do"),
        CheckedOut => ("已领取", "checked out"),
        Delivered => ("已送达", "delivered"),
        AttemptFailed => ("未成功", "not handed over"),
        Returned => ("已退回", "returned"),
        Collected => ("已收件", "collected"),
        HandedIn => ("已交回", "handed in"),
        Cancelled => ("已取消", "cancelled"),
    };
    pick(lang, zh, en)
}

pub fn event(lang: Lang, k: EventKind) -> String {
    use EventKind::*;
    let (zh, en) = match k {
        Assigned => ("分配", "assigned"),
        Reassigned => ("改派", "reassigned"),
        CheckedOut => ("领取", "checked out"),
        Delivered => ("送达", "delivered"),
        AttemptFailed => ("未能交接", "visit failed"),
        Collected => ("收件", "collected"),
        HandedIn => ("交回中心", "handed in"),
        Returned => ("退回", "returned"),
        Cancelled => ("取消", "cancelled"),
        ConflictAccepted => ("中心接受了冲突记录", "conflict accepted"),
        DoorCardLeft => ("留下联系卡", "door card left"),
        Rescheduled => ("居民预约了下次上门", "resident booked the next visit"),
        ProofRequested => ("中心要求补充证明", "proof requested"),
        ProofAdded => ("补充了证明", "proof added"),
        ProofAccepted => ("中心认可了证明", "proof accepted"),
    };
    pick(lang, zh, en)
}

pub fn outbox_status(lang: Lang, s: &str) -> String {
    let (zh, en) = match s {
        "pending" => ("待发送", "waiting"),
        "sent" => ("已发出，待中心确认", "sent, not yet confirmed"),
        "acknowledged" => ("中心已收", "at the centre"),
        "rejected" => ("被拒收", "refused"),
        _ => ("未知", "unknown"),
    };
    pick(lang, zh, en)
}

pub fn reason(lang: Lang, r: FailureReason) -> String {
    use FailureReason::*;
    let (zh, en) = match r {
        NobodyHome => ("家中无人", "Nobody home"),
        Refused => ("居民拒收", "Refused"),
        WrongAddress => ("地址有误", "Wrong address"),
        AnotherTime => ("居民约其他时间", "Another time"),
        MustBeInPerson => ("须本人办理", "Must be in person"),
        DocumentsMismatch => ("材料不符", "Documents do not match"),
    };
    pick(lang, zh, en)
}

pub fn requirement(lang: Lang, r: ProofRequirement) -> String {
    use ProofRequirement::*;
    let (zh, en) = match r {
        PacketScan => ("扫材料袋标签", "packet label scan"),
        ResidentConfirmation => ("居民确认", "resident's confirmation"),
        HandoffPhoto => ("交接照片", "handoff photo"),
        MaterialPhotos => ("每件材料照片", "a photo per item"),
        AuthorisationSignature => ("授权签名", "authorisation signature"),
        Location => ("位置", "location"),
    };
    pick(lang, zh, en)
}

/// "12号楼3单元1203室" / "Bldg 12, unit 3, room 1203".
pub fn address(lang: Lang, a: &Address) -> String {
    if lang == Lang::ZhCn { a.to_string() } else { format!("Bldg {}, unit {}, room {}", a.building, a.unit, a.room) }
}

/// "3单元1203室" / "unit 3, room 1203": the door, within a building's stop.
pub fn door(lang: Lang, a: &Address) -> String {
    if lang == Lang::ZhCn {
        format!("{}单元{}室", a.unit, a.room)
    } else {
        format!("unit {}, room {}", a.unit, a.room)
    }
}

pub fn gap(lang: Lang, g: &Gap) -> String {
    match g {
        Gap::Missing { requirement: r } => {
            let what = requirement(lang, *r);
            if lang == Lang::ZhCn { format!("缺少：{what}") } else { format!("Missing: {what}") }
        }
        Gap::PacketInvalid { .. } => pick(lang, "材料袋标签无效", "The packet label is not valid"),
        Gap::ResidentQrInvalid { .. } => pick(lang, "居民二维码无效", "The resident's QR is not valid"),
        Gap::CodeWrong => pick(lang, "6 位数字不对", "The 6-digit code is wrong"),
        Gap::CodeNotOnFile => pick(lang, "本任务没有 6 位数字", "No code on file for this task"),
        Gap::SignatureBlank => pick(lang, "签名是空白", "The signature is blank"),
        Gap::MaterialUnphotographed { name } => {
            if lang == Lang::ZhCn {
                format!("“{name}”还没拍照")
            } else {
                format!("\u{201c}{name}\u{201d} has no photo")
            }
        }
        Gap::FarFromCompound { distance_m, .. } => {
            if lang == Lang::ZhCn {
                format!("位置在小区外 {distance_m} 米")
            } else {
                format!("{distance_m} m outside the compound")
            }
        }
        Gap::HouseholdCardInvalid { .. } => pick(lang, "家庭卡二维码无效", "The household card's QR is not valid"),
        Gap::CardOtherResident => pick(lang, "家庭卡是别的住户的", "The household card is another resident's"),
        Gap::CardReplaced { card, current } => {
            if lang == Lang::ZhCn {
                format!("出示的是已作废的第 {card} 张家庭卡（现行第 {current} 张）")
            } else {
                format!("Household card No. {card} was replaced (No. {current} is in force)")
            }
        }
        Gap::CardNewer { card, known } => {
            if lang == Lang::ZhCn {
                format!("家庭卡第 {card} 张比手机上记录的第 {known} 张新：请先同步")
            } else {
                format!("Household card No. {card} is newer than No. {known} on file: sync first")
            }
        }
        Gap::HouseholdNotOnFile => pick(lang, "该住户没有家庭卡记录", "No household card on file"),
        Gap::HouseholdCodeWrong => pick(lang, "家庭卡 6 位码不对", "The household code is wrong"),
        Gap::ProxyUnknown { .. } => pick(lang, "代收家属不在登记名单中", "The family member is not on file"),
        Gap::ProxyNotAsOnFile { .. } => {
            pick(lang, "代收家属与登记的姓名或关系不符", "The family member differs from the record")
        }
        Gap::ProxyCodeWrong { .. } => pick(lang, "代收家属的码不对", "The family member's code is wrong"),
        Gap::ProxyCodeNotOnFile { .. } => pick(lang, "代收家属的码尚未登记", "No code on file for the family member"),
        Gap::WitnessUnnamed => pick(lang, "见证人没有写名字", "The witness is not named"),
        Gap::WitnessWithoutHandoffPhoto => {
            pick(lang, "见证照片之外还需要一张交接照片", "A witness photo needs a separate handoff photo")
        }
    }
}

fn qr(lang: Lang, q: &QrProblem) -> String {
    match q {
        QrProblem::NotOurs => pick(lang, "这不是中心的二维码。", "This is not one of the centre's codes."),
        QrProblem::Damaged => pick(lang, "二维码不完整，请再拍一次。", "The code is damaged; take the photo again."),
        QrProblem::UnknownKey => pick(
            lang,
            "手机还不认识这个码的密钥，请先同步。",
            "This phone does not know the code's key yet; sync first.",
        ),
        QrProblem::Retired => {
            pick(lang, "这个码已过期，请中心重新打印。", "This code has expired; ask the centre for a new one.")
        }
        QrProblem::Forged => pick(lang, "这个码被改动过，不能使用。", "This code was altered and cannot be used."),
        QrProblem::WrongKind => pick(
            lang,
            "码的种类不对（标签与居民码不能互换）。",
            "Wrong kind of code (packet label vs. resident's code).",
        ),
        QrProblem::OtherTask { short, mine } => match (lang, mine) {
            (Lang::ZhCn, true) => format!("拿错了：这是您另一件任务 {short} 的。"),
            (Lang::ZhCn, false) => format!("拿错了：这是任务 {short} 的，不是这一件。"),
            (Lang::En, true) => format!("Wrong one: this belongs to your other task {short}."),
            (Lang::En, false) => format!("Wrong one: this belongs to task {short}, not this one."),
        },
        QrProblem::CardAlreadyLeft { short } => {
            if lang == Lang::ZhCn {
                format!("这张联系卡已经留在任务 {short} 的门口了，请另取一张。")
            } else {
                format!("This door card was already left for task {short}; take a new one.")
            }
        }
    }
}

/// What went wrong, and what to do, in `lang`.
pub fn error(lang: Lang, e: &EngineError) -> String {
    use EngineError::*;
    let p = |a: &str, b: &str| pick(lang, a, b);
    match e {
        NotEnrolled => p("这部手机还没有登记。", "This phone is not enrolled."),
        AlreadyEnrolled => p("这部手机已经登记过了。", "This phone is already enrolled."),
        NoSuchTask => p("手机上没有这件任务（可能已改派）。", "This task is not on this phone (reassigned?)."),
        LoginRefused { .. } => {
            p("工号或密码不对，或账号已锁定。", "Wrong login or password, or the account is locked.")
        }
        NotStaff => p("只有泾小二团队成员可以登记手机。", "Only team members enrol a phone."),
        BadCentreUrl => {
            p("中心地址要以 http:// 或 https:// 开头。", "The centre address must start with http:// or https://.")
        }
        Offline { .. } => {
            p("连不上中心，请检查网络后再试。", "The centre cannot be reached; check the network and retry.")
        }
        CentreRefused { message, .. } => {
            if lang == Lang::ZhCn {
                format!("中心拒绝了：{message}")
            } else {
                format!("The centre refused: {message}")
            }
        }
        BadPhoto { detail } => {
            if lang == Lang::ZhCn {
                format!("照片无法使用，请重拍。（{detail}）")
            } else {
                format!("The photo cannot be used; take it again. ({detail})")
            }
        }
        NoCodeInPhoto => {
            p("照片里没找到二维码，请靠近些、对准再拍。", "No code found in the photo; get closer and retake it.")
        }
        WrongQr { problem } => qr(lang, problem),
        CodeWrong => p("6 位数字不对，请居民再核对一下。", "The 6 digits are wrong; ask the resident to check."),
        CodeMalformed => p("请输入 6 位数字。", "Type the 6 digits."),
        CodeNotOnFile => {
            p("本任务没有 6 位数字，请扫码或签名。", "No code on file; scan the QR or ask for a signature.")
        }
        SignatureBlank => p("签名是空白的。", "The signature is blank."),
        BadSignature { .. } => p("签名无法保存，请重签。", "The signature could not be kept; sign again."),
        NoSuchMaterial { .. } => p("清单上没有这件材料。", "That item is not on the checklist."),
        BadRating => p("评价是 1 到 5。", "A rating is 1 to 5."),
        RetryTimeNeeded => p("请填写居民约定的时间。", "Enter the time the resident asked for."),
        CannotSkip => p("这一步不能跳过。", "This step cannot be skipped."),
        ProofIncomplete { gaps } => {
            let list: Vec<String> = gaps.iter().map(|g| gap(lang, g)).collect();
            let sep = if lang == Lang::ZhCn { "；" } else { "; " };
            list.join(sep)
        }
        NotNow { .. } => p("这件任务现在不能这样操作。", "This task cannot take that now."),
        NothingToAdd => p("请拍一张照片或写一句说明。", "Add a photo or a note."),
        NoHouseholdOnFile => p(
            "手机上没有这户的家庭卡记录：请先同步，或用其他方式确认。",
            "No household card on file for this resident: sync, or confirm another way.",
        ),
        CardReplaced { card, current } => {
            if lang == Lang::ZhCn {
                format!("这张家庭卡（第 {card} 张）已作废，现行的是第 {current} 张。请居民出示新卡，或用其他方式确认。")
            } else {
                format!(
                    "This household card (No. {card}) was replaced by No. {current}; ask for the new card or confirm another way."
                )
            }
        }
        CardNewer { card, known } => {
            if lang == Lang::ZhCn {
                format!("这张家庭卡（第 {card} 张）比手机上的记录（第 {known} 张）新：请先同步再扫。")
            } else {
                format!("This card (No. {card}) is newer than this phone knows (No. {known}): sync, then scan again.")
            }
        }
        CardOtherResident => p("这是别的住户的家庭卡。", "This is another household's card."),
        HouseholdCodeWrong => {
            p("家庭卡上的 6 位码不对，请再核对一遍。", "The household code is wrong; check it again.")
        }
        NoSuchProxy { .. } => p("这位家属不在登记名单中。", "This family member is not on file."),
        ProxyCodeWrong => p("家属的代收码不对，请再核对一遍。", "The family member's code is wrong; check it again."),
        WitnessName => p("请写上见证人的名字（最多 40 字）。", "Name the witness (at most 40 characters)."),
        Storage { .. } => {
            p("手机存储出错，记录未丢失，请重试。", "The phone's storage failed; nothing was lost. Retry.")
        }
        Internal { .. } => p("出了点问题，请重试。", "Something went wrong; retry."),
    }
}

/// What is wrong with the sync, and what to do, for "tap for why".
pub fn sync_problem(lang: Lang, p: &SyncProblem) -> String {
    match p {
        SyncProblem::Unreachable => pick(
            lang,
            "连不上中心。记录都保存在手机里，有网后会自动发送。",
            "The centre cannot be reached. Everything is kept on the phone and sent by itself when the network is back.",
        ),
        SyncProblem::Refused { code } => {
            if lang == Lang::ZhCn {
                format!("中心不再接受这部手机（{code}）。请联系协调员重新登记。")
            } else {
                format!("The centre no longer accepts this phone ({code}). Ask the coordinator to enrol it again.")
            }
        }
        SyncProblem::Failed => pick(lang, "同步出错，稍后会自动重试。", "The sync failed; it will retry by itself."),
        SyncProblem::Rejected { count } => {
            if lang == Lang::ZhCn {
                format!("中心拒收了 {count} 条记录，请在“待发送”中查看原因并联系协调员。")
            } else {
                format!("The centre refused {count} records: see why in the outbox and ask the coordinator.")
            }
        }
    }
}

/// The sync chip's words.
pub fn chip(lang: Lang, s: &SyncView, clock: &dyn Fn(jx_core::Timestamp) -> String) -> String {
    let zh = lang == Lang::ZhCn;
    let waiting = s.waiting + u64::from(s.photos_waiting);
    match s.chip {
        Chip::Offline if waiting > 0 => {
            if zh {
                format!("离线 · {waiting} 条待发")
            } else {
                format!("Offline · {waiting} waiting")
            }
        }
        Chip::Offline => pick(lang, "离线", "Offline"),
        Chip::Syncing => pick(lang, "同步中…", "Syncing…"),
        Chip::Waiting => {
            if zh {
                format!("{waiting} 条待发")
            } else {
                format!("{waiting} waiting")
            }
        }
        Chip::Synced => match s.last_sync {
            Some(at) => {
                if zh {
                    format!("已同步 {}", clock(at))
                } else {
                    format!("Synced {}", clock(at))
                }
            }
            None => pick(lang, "已同步", "Synced"),
        },
        Chip::Problem => pick(lang, "有问题 · 点此查看", "A problem · tap"),
        Chip::Never => pick(lang, "尚未同步", "Not synced yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_the_switch() {
        assert_eq!(tr(Lang::default(), Msg::AppName), "泾小二");
        assert_eq!(tr(Lang::En, Msg::AppName), "Jing Xiaoer");
        assert_eq!(tr(Lang::ZhCn, Msg::Progress { done: 3, total: 60 }), "已完成 3/60");
        assert_eq!(Lang::ZhCn.other(), Lang::En);
        assert_eq!(Lang::from_tag("en"), Lang::En);
        assert_eq!(Lang::from_tag("anything"), Lang::ZhCn);
    }

    #[test]
    fn a_wrong_packet_says_whose_it_is() {
        let e = EngineError::WrongQr { problem: QrProblem::OtherTask { short: "ABC-DEF".into(), mine: true } };
        assert_eq!(error(Lang::ZhCn, &e), "拿错了：这是您另一件任务 ABC-DEF 的。");
        assert!(error(Lang::En, &e).contains("ABC-DEF"));
    }

    #[test]
    fn centre_refusals_read_in_chinese_and_keep_their_code() {
        use crate::desk::api::DeskError;
        let e = DeskError::Refused {
            status: 409,
            code: "too_many_proxies".into(),
            message: "r7 already has 5 family members on file; remove one first".into(),
        };
        assert_eq!(desk_error(Lang::ZhCn, &e), "中心拒绝：这户登记的代收家属已满，请先移除一位。（too_many_proxies）");
        assert_eq!(
            desk_error(Lang::En, &e),
            "The centre refused (too_many_proxies): r7 already has 5 family members on file; remove one first"
        );
        let unknown = DeskError::Refused { status: 400, code: "brand_new".into(), message: "why".into() };
        assert_eq!(desk_error(Lang::ZhCn, &unknown), "中心拒绝（brand_new）：why");

        let stored = "not_your_task: task 12 was never assigned to this staff member";
        assert_eq!(outbox_refusal(Lang::ZhCn, stored), "中心拒绝：这件任务没有分派给你。（not_your_task）");
        assert_eq!(
            outbox_refusal(Lang::En, stored),
            "The centre refused (not_your_task): task 12 was never assigned to this staff member"
        );
        // Not in the stored shape: shown as it is.
        assert_eq!(outbox_refusal(Lang::ZhCn, "no colon here"), "no colon here");
        assert_eq!(outbox_refusal(Lang::ZhCn, "Not A Code: x"), "Not A Code: x");
    }

    #[test]
    fn the_chip_counts_photos_with_events() {
        let s = SyncView {
            chip: Chip::Offline,
            waiting: 2,
            photos_waiting: 1,
            rejected: 0,
            last_sync: None,
            problem: None,
            why: None,
        };
        assert_eq!(chip(Lang::ZhCn, &s, &|_| String::new()), "离线 · 3 条待发");
        let s = SyncView { chip: Chip::Synced, last_sync: Some(jx_core::Timestamp(0)), ..s };
        assert_eq!(chip(Lang::En, &s, &|_| "21:05".into()), "Synced 21:05");
    }
}

/// Every fixed message of the coordinator's desk (`crate::desk`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum D {
    DeskTitle,
    SignIn,
    SignedInAs(String),
    SignOut,
    Offline,
    TabBoard,
    TabImport,
    TabAssign,
    TabCounter,
    TabExceptions,
    TabReport,
    // The queue
    QueuedDecision(String, &'static str),
    QueuedScanOut,
    QueuedScanIn,
    QueuedApply(usize),
    Waiting(usize),
    QueueTitle,
    QueueUnreadable(usize),
    QueueHelp,
    WaitingToSend,
    Dismiss,
    // Board
    Filtered,
    ClearFilter,
    Compound,
    Unassigned,
    Assigned,
    CheckedOut,
    Done,
    Failed,
    Conflicts,
    Staff,
    Load,
    Loading,
    Case,
    Kind,
    Building,
    Status,
    Assignee,
    BuildingNo(u16),
    PendingSync,
    HasConflict,
    MissingPhotos(u32),
    // Import
    ImportHelp,
    ChooseFile,
    ChosenFile(String, usize),
    RowsValid(usize),
    RowsBad(usize),
    Line,
    Field,
    Reason,
    ImportAll(usize),
    ImportGood(usize),
    Imported(usize),
    // Assignment
    Pinned,
    LivesThere,
    Nearest(u32),
    MovedByHand,
    Propose,
    ProposeHelp,
    Apply(usize),
    AppliedN(usize, usize),
    Why,
    Pin,
    Nobody,
    // Counter
    PrintLabels,
    LabelsFor(String, u32),
    ScanAtCounter,
    ScanOut,
    ScanIn,
    ScanHelp,
    Record,
    Print,
    Close,
    // Exceptions and history
    FailedAttempts,
    ConflictsTitle,
    MissingProof,
    NothingHere,
    Attempts(u32),
    History,
    Reschedule,
    ReturnToCentre,
    ReturnNote,
    AskForProof,
    AskProofNote,
    AcceptProof,
    AcceptProofNote,
    ProofNote,
    ReassignTo,
    AcceptFact,
    AcceptNote,
    ConflictNotAssignee(String),
    ConflictAfterCancel,
    ConflictAfterSettled(String),
    ConflictDecisionAfterFact(String),
    ByDevice(String),
    ByCoordinator(String),
    ByCentre,
    SignatureVerified,
    Signature,
    ResidentConfirmed,
    Rated(u8),
    // Households, door cards, returns
    HouseholdCard,
    HouseholdHelp,
    IssueCard,
    PrintCard,
    CardIssued(u32, String),
    Proxies,
    ProxyName,
    ProxyRelation,
    AddProxy,
    ProxyAdded(String),
    Remove,
    DoorCards,
    DoorCardsHelp,
    PrintDoorCards,
    ToReturn,
    ToReturnHelp,
    // Report
    Evening,
    DownloadCsv,
    Week,
    LegendDone,
    LegendFailed,
}

/// The text of a desk message in `lang`.
pub fn desk(lang: Lang, msg: D) -> String {
    let zh = lang == Lang::ZhCn;
    let p = |a: &str, b: &str| pick(lang, a, b);
    let f = |a: String, b: String| if zh { a } else { b };
    match msg {
        D::DeskTitle => p("泾小二 · 调度台", "Jing Xiaoer · coordinator's desk"),
        D::SignedInAs(n) => f(format!("调度员：{n}"), format!("Signed in: {n}")),
        D::SignOut => p("退出", "Sign out"),
        D::SignIn => p("登录调度台", "Sign in to the desk"),
        D::Offline => p(
            "与中心的连接已断开。你的操作已保存在本机，连接恢复后自动发送。",
            "The line to the centre is down. What you do is kept on this device and sent when it is back.",
        ),
        D::TabBoard => p("看板", "Board"),
        D::TabImport => p("导入", "Import"),
        D::TabAssign => p("分派", "Assign"),
        D::TabCounter => p("交接", "Hand-over"),
        D::TabExceptions => p("异常", "Exceptions"),
        D::TabReport => p("报表", "Report"),
        D::QueuedDecision(task, what) => {
            let (a, b) = match what {
                "assign" => ("分配", "assign"),
                "reassign" => ("改派", "reassign"),
                "check_out" => ("领取", "check out"),
                "hand_in" => ("交回", "hand in"),
                "return" => ("退回中心", "return"),
                "cancel" => ("取消", "cancel"),
                "accept_conflict" => ("接受冲突记录", "accept conflicting fact"),
                "accept_proof" => ("认可现有证明", "accept the proof"),
                "ask_for_proof" => ("要求补充证明", "ask for proof"),
                other => (other, other),
            };
            f(format!("任务 {task}：{a}"), format!("Task {task}: {b}"))
        }
        D::QueuedScanOut => p("柜台扫码发出", "Counter scan: out"),
        D::QueuedScanIn => p("柜台扫码收回", "Counter scan: in"),
        D::QueuedApply(n) => f(format!("应用分派方案（{n} 件）"), format!("Apply the proposal ({n} tasks)")),
        D::Waiting(n) => f(format!("待发送 {n}"), format!("{n} waiting")),
        D::QueueTitle => p("待发送的操作", "Waiting to be sent"),
        D::QueueHelp => p(
            "这些操作在断线时做出，已保存在本机，中心一有回应就按顺序发送。",
            "Done while the line was down; kept here and sent in order as soon as the centre answers.",
        ),
        D::QueueUnreadable(n) => f(
            format!("另有 {n} 项本机保存的操作无法读取（可能来自旧版本），已另行保存、没有发送；请核对后重新操作。"),
            format!(
                "{n} kept actions could not be read (perhaps from an older version): set aside on this device, \
                 not sent; check and do them again."
            ),
        ),
        D::WaitingToSend => p("等待发送", "waiting"),
        D::Dismiss => p("知道了", "Dismiss"),
        D::Filtered => p("看板已按所选小区或人员筛选。", "The board is narrowed to your selection."),
        D::ClearFilter => p("显示全部", "Show all"),
        D::Compound => p("小区", "Compound"),
        D::Unassigned => p("未分配", "Unassigned"),
        D::Assigned => p("已分配", "Assigned"),
        D::CheckedOut => p("已领取", "Checked out"),
        D::Done => p("已完成", "Done"),
        D::Failed => p("未成功", "Failed"),
        D::Conflicts => p("冲突", "Conflicts"),
        D::Staff => p("人员", "Staff"),
        D::Load => p("任务量/上限", "Load/capacity"),
        D::Loading => p("正在加载…", "Loading…"),
        D::Case => p("案件号", "Case"),
        D::Kind => p("类型", "Kind"),
        D::Building => p("楼栋", "Building"),
        D::Status => p("状态", "Status"),
        D::Assignee => p("负责人", "Assignee"),
        D::BuildingNo(b) => f(format!("{b}号楼"), format!("Bldg {b}")),
        D::PendingSync => p("改派待同步", "reassigned, phone not synced"),
        D::HasConflict => p("有冲突", "conflict"),
        D::MissingPhotos(n) => f(format!("缺 {n} 张照片"), format!("{n} photos missing")),
        D::ImportHelp => p(
            "选择后台导出的 CSV 或 JSON 文件。先检查，逐行列出问题，确认后才写入。",
            "Choose the back office's CSV or JSON file. It is checked first, every bad row listed; nothing is written until you confirm.",
        ),
        D::ChooseFile => p("选择文件", "Choose a file"),
        D::ChosenFile(n, size) => f(format!("{n}（{size} 字节）"), format!("{n} ({size} bytes)")),
        D::RowsValid(n) => f(format!("{n} 行无误"), format!("{n} rows are good")),
        D::RowsBad(n) => f(format!("{n} 处问题："), format!("{n} problems:")),
        D::Line => p("行", "Line"),
        D::Field => p("字段", "Field"),
        D::Reason => p("原因", "Reason"),
        D::ImportAll(n) => f(format!("导入 {n} 条"), format!("Import {n} rows")),
        D::ImportGood(n) => f(format!("只导入无误的 {n} 条"), format!("Import only the {n} good rows")),
        D::Imported(n) => f(format!("已导入 {n} 条任务。"), format!("{n} tasks imported.")),
        D::Pinned => p("已固定", "pinned"),
        D::LivesThere => p("住在该小区", "lives in the compound"),
        D::Nearest(m) => f(format!("最近且有余量（{m} 米）"), format!("nearest with room ({m} m)")),
        D::MovedByHand => p("手动调整", "moved by hand"),
        D::Propose => p("生成分派方案", "Propose"),
        D::ProposeHelp => p(
            "按居住小区自动分派所有未分配的任务；可逐条调整、固定，再应用。",
            "Proposes a member for every unassigned task by where they live; adjust, pin, then apply.",
        ),
        D::Apply(n) => f(format!("应用方案（{n} 件）"), format!("Apply ({n} tasks)")),
        D::AppliedN(a, s) => f(format!("已分派 {a} 件，跳过 {s} 件。"), format!("{a} assigned, {s} skipped.")),
        D::Why => p("理由", "Why"),
        D::Pin => p("固定", "Pin"),
        D::Nobody => p("（不分派）", "(nobody)"),
        D::PrintLabels => p("打印文件袋标签", "Print packet labels"),
        D::LabelsFor(n, k) => f(format!("{n} 的标签（{k} 件）"), format!("{n}'s labels ({k})")),
        D::ScanAtCounter => p("柜台扫码", "Scan at the counter"),
        D::ScanOut => p("发出（中心 → 人员）", "Out (centre → staff)"),
        D::ScanIn => p("收回（人员 → 中心）", "In (staff → centre)"),
        D::ScanHelp => p("扫描文件袋标签（扫码枪会自动回车）", "Scan the packet label (the scanner presses Enter)"),
        D::Record => p("登记", "Record"),
        D::Print => p("打印", "Print"),
        D::Close => p("关闭", "Close"),
        D::FailedAttempts => p("未成功的上门", "Failed attempts"),
        D::ConflictsTitle => p("冲突", "Conflicts"),
        D::MissingProof => p("证明不完整", "Incomplete proof"),
        D::NothingHere => p("暂无。", "Nothing here."),
        D::Attempts(n) => f(format!("上门 {n} 次未成功"), format!("{n} failed visits")),
        D::History => p("经过", "History"),
        D::Reschedule => p("重新安排", "Reschedule"),
        D::ReturnToCentre => p("退回中心", "Return to centre"),
        D::ReturnNote => p("调度员决定退回中心", "returned to the centre by a coordinator"),
        D::AskForProof => p("要求补充证明", "Ask for the missing proof"),
        D::AskProofNote => p("请补充本次交接缺少的证明", "please add the proof this handoff lacks"),
        D::AcceptProof => p("认可现有证明", "Accept the proof as it is"),
        D::ProofNote => p("给队员的说明（可不填）", "A word for the team member (optional)"),
        D::AcceptProofNote => p("协调员已核对，认可本次交接的证明", "checked by a coordinator: the proof is accepted"),
        D::ReassignTo => p("改派", "Reassign"),
        D::AcceptFact => p("接受这条记录", "Accept this fact"),
        D::AcceptNote => p("调度员核实后接受", "accepted by a coordinator after checking"),
        D::ConflictNotAssignee(n) => f(
            format!("由非负责人完成（当时负责人：{n}）"),
            format!("done by someone other than the assignee (then: {n})"),
        ),
        D::ConflictAfterCancel => p("任务取消后仍有上门记录", "a visit after the task was cancelled"),
        D::ConflictAfterSettled(s) => f(format!("任务已是“{s}”后又有记录"), format!("recorded after the task was {s}")),
        D::ConflictDecisionAfterFact(s) => {
            f(format!("任务已是“{s}”后中心又作决定"), format!("a decision after the task was {s}"))
        }
        D::ByDevice(n) => f(format!("{n} 的手机"), format!("{n}'s phone")),
        D::ByCoordinator(n) => f(format!("调度员 {n}"), format!("coordinator {n}")),
        D::ByCentre => p("中心", "the centre"),
        D::SignatureVerified => p("签名已验证（手机密钥签署）", "signature verified (signed by the phone's key)"),
        D::Signature => p("居民签名", "resident's signature"),
        D::ResidentConfirmed => p("居民确认码已核对", "resident's code checked"),
        D::Rated(r) => f(format!("评价 {r}/5"), format!("rated {r}/5")),
        D::HouseholdCard => p("家庭卡", "Household card"),
        D::HouseholdHelp => p(
            "给没有手机的居民：一张放在家里的二维码卡，下方印 6 位码，以后每次交接出示即可。重新发卡后旧卡立即作废。",
            "For residents without a phone: a QR card kept at home with a 6-digit code under it, shown at every handoff. Reissuing voids the old card.",
        ),
        D::IssueCard => p("发卡 / 重新发卡", "Issue / reissue"),
        D::PrintCard => p("打印家庭卡", "Print the card"),
        D::CardIssued(n, code) => f(
            format!("已发第 {n} 张卡，6 位码 {code}。旧卡已作废。"),
            format!("Card no. {n} issued, code {code}. Any older card is void."),
        ),
        D::Proxies => p("代收家属", "Family who may receive"),
        D::ProxyName => p("姓名", "Name"),
        D::ProxyRelation => p("关系（如：女儿）", "Relation (e.g. daughter)"),
        D::AddProxy => p("添加", "Add"),
        D::ProxyAdded(code) => f(
            format!("已添加，代收码 {code}（只显示这一次，请打印交给家属）。"),
            format!("Added; their code is {code} (shown once: print it for them)."),
        ),
        D::Remove => p("移除", "Remove"),
        D::DoorCards => p("联系卡（门卡）", "Door cards"),
        D::DoorCardsHelp => p(
            "预印的联系卡卷：上门未成功时留一张，居民扫码自己选下次上门的晚上。",
            "The pre-printed roll: left at a failed visit, the resident scans it to pick another evening.",
        ),
        D::PrintDoorCards => p("打印 40 张联系卡", "Print 40 door cards"),
        D::ToReturn => p("三次未成功，退回中心", "Three failed visits: back to the centre"),
        D::ToReturnHelp => p(
            "文件袋交回柜台时，在“交接”页选“收回”扫码登记。",
            "When the packet is back at the counter, scan it in on the hand-over page.",
        ),
        D::Evening => p("日期", "Evening"),
        D::DownloadCsv => p("下载报表（CSV）", "Download the report (CSV)"),
        D::Week => p("本周", "The week"),
        D::LegendDone => p("■ 完成", "■ done"),
        D::LegendFailed => p("■ 未成功", "■ failed"),
    }
}

/// What a refusal code of the centre means, in Chinese, for the codes a coordinator or a phone's outbox meets. The
/// centre's own message is English and names the task or the limit; it stays the English text, and the fallback
/// for a code this build does not know.
pub fn centre_refusal_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "bad_credentials" => "工号或密码不对。",
        "locked_out" | "too_many_attempts" => "登录失败次数太多，请稍后再试或找协调员。",
        "bad_event_time" => "这条记录的时间不对（手机时钟可能有误），中心没有收下。",
        "field_too_large" => "这条记录的文字或照片太多，中心没有收下。",
        "task_event_cap" => "这件任务的记录已经太多，中心不再收下新的记录，请联系协调员。",
        "device_daily_cap" => "这部手机今天发送的记录太多，剩下的明天再发送。",
        "upload_quota" => "这部手机今天上传的照片太多，剩下的明天再上传。",
        "bad_image" => "照片文件损坏或不完整，中心没有收下。",
        "login_disabled" => "这个工号已被协调员停用，请联系协调员。",
        "session_too_old" => "登录时间太长了，请重新登录。",
        "not_yourself" => "不能停用或启用自己的工号。",
        "not_coordinator" => "只有协调员使用工作台；队员请在手机上登记。",
        "coordinators_only" => "这项操作只有协调员可以做。",
        "token_expired" | "unknown_token" | "unauthenticated" => "登录已过期，请重新登录。",
        "device_revoked" => "这部手机已被协调员停用，需要重新登记。",
        "not_assigned" => "这件任务还没有分派给任何人。",
        "wrong_state" => "这件任务现在的状态不能做这一步（文件袋已领出、已交回或已办结）。",
        "wrong_kind" => "代办收件的文件袋在门口封装，不从柜台领出。",
        "not_a_label" => "这是居民的确认码，不是文件袋标签。",
        "bad_signature" => "二维码的签名不对：可能是伪造的，或不是本中心打印的。",
        "bad_code" => "这个二维码读不懂，或不是本中心的标签。",
        "retired_key" => "这张二维码的签名密钥已停用，请重新打印。",
        "impossible_transition" => "任务已经变了，这一步不能再做（可能已有人处理）。",
        "not_a_conflict" => "这条记录已不在冲突里（可能已处理）。",
        "not_settled" => "任务还没有办结，不能要求补交凭证。",
        "too_many_proxies" => "这户登记的代收家属已满，请先移除一位。",
        "bad_name" => "姓名为空或太长。",
        "bad_relation" => "关系为空或太长。",
        "bad_staff" | "missing_staff" => "没有这位队员。",
        "bad_day" | "bad_evening" => "日期应写成 2026-11-29 这样。",
        "not_found" => "中心找不到这条记录。",
        "import_rejected" => "导入文件里有错误的行，一行都没有导入。",
        "payload_too_large" => "文件太大。",
        "not_your_task" => "这件任务没有分派给你。",
        "unknown_task" => "中心没有这件任务。",
        "chain_broken" | "id_reused" | "unsigned" => "这条记录的签名链不完整，请把手机交给协调员检查。",
        _ => return None,
    })
}

/// A refusal by the centre with `code` and its English `message`: in Chinese when the code is known.
fn refusal(lang: Lang, code: &str, message: &str) -> String {
    match (lang, centre_refusal_zh(code)) {
        (Lang::ZhCn, Some(zh)) => format!("中心拒绝：{zh}（{code}）"),
        (Lang::ZhCn, None) => format!("中心拒绝（{code}）：{message}"),
        (Lang::En, _) => format!("The centre refused ({code}): {message}"),
    }
}

/// An outbox line's stored refusal (`"code: message"`, as the phone kept it), in the user's language.
pub fn outbox_refusal(lang: Lang, stored: &str) -> String {
    match stored.split_once(": ") {
        Some((code, message)) if !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
            refusal(lang, code, message)
        }
        _ => stored.to_string(),
    }
}

/// A failure of the desk's line to the centre, in the user's language.
pub fn desk_error(lang: Lang, e: &crate::desk::api::DeskError) -> String {
    use crate::desk::api::DeskError::*;
    match e {
        Offline(_) => {
            pick(lang, "连不上中心，请检查网络后重试。", "The centre cannot be reached; check the network and retry.")
        }
        Queued => pick(
            lang,
            "连不上中心：这项操作已保存在本机，恢复后自动发送。",
            "The centre cannot be reached: this is kept on this device and sent when it is back.",
        ),
        SignedOut => pick(lang, "登录已过期，请重新登录。", "Your session has ended; sign in again."),
        Refused { message, code, .. } => refusal(lang, code, message),
        Garbled(why) => {
            if lang == Lang::ZhCn {
                format!("中心的回答无法读取：{why}")
            } else {
                format!("The centre's answer could not be read: {why}")
            }
        }
    }
}

/// A column of the evening report's CSV (its header is in English, for spreadsheets), as the desk shows it.
pub fn report_column(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "compound" => ("小区编号", "compound"),
        "compound_name" => ("小区", "compound name"),
        "staff_login" => ("工号", "login"),
        "staff_name" => ("人员", "staff"),
        "done" => ("完成", "done"),
        "failed" => ("未成功", "failed"),
        "failed_nobody_home" => ("无人在家", "nobody home"),
        "failed_refused" => ("拒收", "refused"),
        "failed_wrong_address" => ("地址有误", "wrong address"),
        "failed_another_time" => ("改约时间", "another time"),
        "failed_must_be_in_person" => ("须本人", "in person only"),
        "failed_documents_mismatch" => ("材料不符", "documents mismatch"),
        "rated" => ("评价数", "rated"),
        "satisfaction_avg" => ("平均满意度", "satisfaction"),
        other => (other, other),
    };
    pick(lang, zh, en)
}
