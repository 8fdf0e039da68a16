//! The printed sheets: packet labels and residents' slips (rendered by `jx_proof::render`), door cards, household
//! cards and family members' cards, all on the one A4 print stylesheet ([`jx_proof::render::A4_CSS`]), in the
//! language asked for.
//!
//! Domain layer: reads tasks, the town and the keys; never the HTTP layer.

use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::{doorcard, household, log, params, proof, town};
use jx_core::model::{Task, TaskKind, mask_name};
use jx_core::token::TokenKind;
use jx_core::{StaffId, TaskId};
use jx_proof::render::{self, PacketLabel, ResidentSlip, SheetWords, esc};
use std::fmt::Write as _;

/// The words on printed sheets, in the language asked for (zh-CN unless `en`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintLang {
    ZhCn,
    En,
}

impl PrintLang {
    pub fn parse(s: Option<&str>) -> PrintLang {
        match s {
            Some(l) if l.starts_with("en") => PrintLang::En,
            _ => PrintLang::ZhCn,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            PrintLang::ZhCn => "zh-CN",
            PrintLang::En => "en",
        }
    }

    fn kind(self, k: TaskKind) -> &'static str {
        match (self, k) {
            (PrintLang::ZhCn, TaskKind::Delivery) => "送达",
            (PrintLang::ZhCn, TaskKind::Pickup) => "上门收件",
            (PrintLang::En, TaskKind::Delivery) => "Delivery",
            (PrintLang::En, TaskKind::Pickup) => "Pickup",
        }
    }

    fn words(self, title: String, subtitle: String) -> SheetWords {
        let (code_caption, slip_help) = match self {
            PrintLang::ZhCn => (
                "无法出示二维码时，请告知工作人员以下6位确认码：",
                "工作人员上门送达时，请出示本二维码或告知确认码。请勿将确认码告诉他人。",
            ),
            PrintLang::En => (
                "If you cannot show the QR code, tell the staff member this 6-digit code:",
                "When our staff member brings your documents, show this QR code or tell them the code. Keep the code to yourself.",
            ),
        };
        SheetWords {
            lang: self.tag().into(),
            title,
            subtitle,
            code_caption: code_caption.into(),
            slip_help: slip_help.into(),
        }
    }
}

/// Which tasks a sheet prints.
#[derive(Clone, Copy, Debug)]
pub enum Selection {
    /// A staff member's open tasks (assigned or checked out, or back for another try), in route order.
    Staff(StaffId),
    One(TaskId),
}

struct Printable {
    task: Task,
    compound: String,
    resident: String,
    what: String,
}

fn printable(tx: &mut dyn Tx, sel: Selection, lang: PrintLang) -> ApiResult<Vec<Printable>> {
    let ids: Vec<TaskId> = match sel {
        Selection::One(id) => vec![id],
        Selection::Staff(staff) => tx
            .query(
                "SELECT task_id FROM tasks WHERE assignee = $1 AND status IN ('assigned', 'checked_out', 'attempt_failed')
                 ORDER BY compound, building, task_id",
                params![staff.0],
            )?
            .iter()
            .map(|r| r.text(0)?.parse().map_err(ApiError::internal))
            .collect::<ApiResult<_>>()?,
    };
    let compounds = town::compounds(tx)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (task, _) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
        let sheet = town::sheet(tx, &task)?;
        let compound = compounds.iter().find(|c| c.id == task.address.compound).map(|c| c.name.clone());
        out.push(Printable {
            compound: compound.unwrap_or_else(|| task.address.compound.to_string()),
            resident: mask_name(&sheet.resident_name),
            what: format!("{} · {}", lang.kind(task.kind), sheet.service_item_name),
            task,
        });
    }
    Ok(out)
}

fn render_err(e: render::RenderError) -> ApiError {
    ApiError::internal(e)
}

/// An A4 sheet of packet labels, freshly signed.
pub fn label_sheet(tx: &mut dyn Tx, sel: Selection, title: String, lang: PrintLang) -> ApiResult<String> {
    let signer = proof::signer(tx)?;
    let at = now();
    let items = printable(tx, sel, lang)?;
    let subtitle = match lang {
        PrintLang::ZhCn => format!("共 {} 张标签", items.len()),
        PrintLang::En => format!("{} labels", items.len()),
    };
    let labels: Vec<PacketLabel> = items
        .into_iter()
        .map(|p| PacketLabel {
            token: signer.issue(TokenKind::PacketLabel, p.task.id, at),
            short_code: p.task.id.short(),
            compound: p.compound,
            address: p.task.address.to_string(),
            resident: p.resident,
            what: p.what,
        })
        .collect();
    render::label_sheet(&lang.words(title, subtitle), &labels).map_err(render_err)
}

/// Residents' confirmation slips (QR and 6-digit code) for the deliveries selected; tasks without a code are left
/// out.
pub fn slip_sheet(tx: &mut dyn Tx, sel: Selection, title: String, lang: PrintLang) -> ApiResult<String> {
    let signer = proof::signer(tx)?;
    let at = now();
    let mut slips = Vec::new();
    for p in printable(tx, sel, lang)? {
        let Some((code, _)) = proof::resident_code(tx, p.task.id)? else { continue };
        slips.push(ResidentSlip {
            token: signer.issue(TokenKind::ResidentConfirmation, p.task.id, at),
            code,
            short_code: p.task.id.short(),
            resident: p.resident,
            what: p.what,
        });
    }
    if slips.is_empty() && matches!(sel, Selection::One(_)) {
        return Err(ApiError::NotFound("this task has no resident confirmation code".into()));
    }
    let subtitle = match lang {
        PrintLang::ZhCn => format!("共 {} 份", slips.len()),
        PrintLang::En => format!("{} slips", slips.len()),
    };
    render::slip_sheet(&lang.words(title, subtitle), &slips).map_err(render_err)
}

/// The printable sheet of packet labels (or, with `slips`, residents' confirmation slips) of `sel`, titled with
/// whose it is and `evening` (as the coordinator wrote it: at most 40 characters).
pub fn packet_sheet(tx: &mut dyn Tx, sel: Selection, evening: &str, lang: PrintLang, slips: bool) -> ApiResult<String> {
    if evening.chars().count() > 40 {
        return Err(ApiError::BadRequest("bad_evening", "the evening is a date like 2026-11-29".into()));
    }
    let who = match sel {
        Selection::Staff(s) => tx
            .query_opt("SELECT name FROM staff WHERE id = $1", params![s.0])?
            .ok_or_else(|| ApiError::NotFound(format!("no staff member {s}")))?
            .text("name")?,
        Selection::One(t) => t.short(),
    };
    let title = match (lang, slips) {
        (PrintLang::ZhCn, false) => format!("{who} {evening} 文件袋标签"),
        (PrintLang::ZhCn, true) => format!("{who} {evening} 居民确认码"),
        (PrintLang::En, false) => format!("Packet labels: {who} {evening}"),
        (PrintLang::En, true) => format!("Residents' confirmation codes: {who} {evening}"),
    };
    if slips { slip_sheet(tx, sel, title, lang) } else { label_sheet(tx, sel, title, lang) }
}

const DOOR_CARD_CSS: &str = r#"
.page { width: 210mm; height: 297mm; display: grid; grid-template-columns: repeat(2, 105mm); grid-auto-rows: 74.25mm; page-break-after: always; break-after: page; }
.card { display: flex; gap: 4mm; align-items: center; padding: 5mm; border: 0.2mm dashed #999; overflow: hidden; }
.card svg { flex: none; }
.card .text { min-width: 0; line-height: 1.35; }
.card .head { font-size: 12pt; font-weight: bold; }
.card .ask { font-size: 15pt; font-weight: bold; margin: 2mm 0; }
.card .phone { font-size: 13pt; font-weight: bold; }
.card .number { font: bold 11pt monospace; margin-top: 2mm; }
"#;

/// Cards per A4 page: 2 columns × 4 rows of 105 × 74.25 mm (A7), cut along the dashed lines.
pub const CARDS_PER_PAGE: usize = 8;

/// The printable A4 sheet of `cards`.
pub fn door_card_sheet(cards: &[doorcard::PrintedCard], phone: &str) -> ApiResult<String> {
    let mut html = format!(
        "{}<header><h1>上门联系卡（共 {} 张）</h1><p>沿虚线裁开。上门未遇时，扫描卡片登记后留在门口。</p></header>",
        render::a4_head("zh-CN", "上门联系卡", DOOR_CARD_CSS),
        cards.len()
    );
    for page in cards.chunks(CARDS_PER_PAGE) {
        html.push_str("<section class=\"page\">");
        for c in page {
            let svg = jx_proof::render::svg(&c.url, "40mm").map_err(ApiError::internal)?;
            let _ = write!(
                html,
                "<div class=\"card\" data-url=\"{}\">{svg}<div class=\"text\"><div class=\"head\">泾小二上门服务 · 今天上门未遇</div><div class=\"ask\">扫码预约下次上门时间</div><div>或致电中心</div><div class=\"phone\">{}</div><div class=\"number\">卡号 {:06} · {}</div></div></div>",
                esc(&c.url),
                esc(phone),
                c.number,
                esc(&jx_core::doorcard::short(c.id)),
            );
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    Ok(html)
}

/// Large type for older eyes: the card is read at home, often without glasses.
const CARD_CSS: &str = r#"
.card { width: 210mm; min-height: 297mm; padding: 18mm 16mm; display: flex; flex-direction: column; align-items: center; gap: 6mm; text-align: center; }
.card h1 { font-size: 30pt; margin: 0; }
.card .who { font-size: 24pt; font-weight: bold; }
.card .serial { font-size: 16pt; }
.card .caption { font-size: 18pt; margin: 0; }
.card .code { font: bold 54pt monospace; letter-spacing: 10pt; border: 1mm solid #000; padding: 2mm 8mm; }
.card .help { font-size: 17pt; line-height: 1.6; max-width: 170mm; text-align: left; }
"#;

fn card_shell(lang: PrintLang, title: &str, body: &str) -> String {
    format!("{}<section class=\"card\">{body}</section></body></html>", render::a4_head(lang.tag(), title, CARD_CSS))
}

/// The household card: big QR, the code under it in large type, how to use it. Names masked.
pub fn card_page(
    lang: PrintLang,
    resident: &str,
    row: &household::CardRow,
    token: &str,
) -> Result<String, jx_proof::render::RenderError> {
    let day = jx_core::time::ShanghaiDay::of(row.issued_at);
    let (title, serial, caption, help) = match lang {
        PrintLang::ZhCn => (
            "泾小二 户卡".to_string(),
            format!("卡号 {} · {day} 发卡", row.serial),
            "不方便出示二维码时，请告诉工作人员下面的6位数字：",
            "工作人员上门送达时，请出示本卡的二维码，或告诉他卡上的6位数字。本卡请放在家中妥善保管，不要把数字告诉陌生人。如果遗失，请联系社区事务受理服务中心补办，旧卡随即作废。",
        ),
        PrintLang::En => (
            "Jing Xiaoer household card".to_string(),
            format!("Card No. {} · issued {day}", row.serial),
            "If you cannot show the QR code, tell the staff member these 6 digits:",
            "When our staff member brings your documents, show this card's QR code or tell them the 6 digits. Keep the card at home and the digits to yourself. If you lose it, ask the community service centre for a new one; the old card stops working at once.",
        ),
    };
    let body = format!(
        "<h1>{}</h1><div class=\"who\">{}</div><div class=\"serial\">{}</div>{}<p class=\"caption\">{}</p><div class=\"code\">{}</div><p class=\"help\">{}</p>",
        esc(&title),
        esc(resident),
        esc(&serial),
        jx_proof::render::svg(token, "120mm")?,
        esc(caption),
        esc(&row.code),
        esc(help)
    );
    Ok(card_shell(lang, &title, &body))
}

/// A family member's card: whom they receive for, their masked name and relation, and their code.
pub fn proxy_page(lang: PrintLang, resident: &str, p: &household::ProxyRow) -> String {
    let who = format!("{}（{}）", mask_name(&p.name), p.relation);
    let (title, line, caption, help) = match lang {
        PrintLang::ZhCn => (
            "泾小二 代收人确认码",
            format!("代 {resident} 签收"),
            "代收时，请告诉工作人员下面的6位数字：",
            "您已登记为代收人，可以代家人签收社区事务受理服务中心送达的材料。请妥善保管本确认码，不要告诉他人。",
        ),
        PrintLang::En => (
            "Jing Xiaoer family member's code",
            format!("Receives for {resident}"),
            "When you receive for your family member, tell the staff member these 6 digits:",
            "You are on file as a family member who may receive documents the community service centre delivers. Keep this code to yourself.",
        ),
    };
    let body = format!(
        "<h1>{}</h1><div class=\"who\">{}</div><div class=\"serial\">{}</div><p class=\"caption\">{}</p><div class=\"code\">{}</div><p class=\"help\">{}</p>",
        esc(title),
        esc(&who),
        esc(&line),
        esc(caption),
        esc(&p.code),
        esc(help)
    );
    card_shell(lang, title, &body)
}
