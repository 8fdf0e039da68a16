//! Making codes: a token as a QR code (SVG for print and screen, PNG for anything else), and the printable A4
//! sheets built from them — the packet labels of one staff member's evening and the residents' confirmation slips.
//!
//! Codes use error-correction level M (15% of the code can be lost): a label gets scuffed in a bag, and M keeps a
//! `JX1:` token (124 alphanumeric characters) at QR version 6, 41 modules across, so a 25 mm print has
//! 0.6 mm modules — comfortably above what a cheap phone camera resolves at arm's length.
//!
//! The sheets are plain HTML with print CSS (`@page A4`): every browser prints them, text stays text (CJK included,
//! in whatever font the printing machine has), and the QR codes are inline SVG, so nothing is rasterised until the
//! printer does it. The caller supplies every word printed on a sheet (see [`SheetWords`]): the wording belongs to
//! the caller's translation layer, not to this crate.

use image::{GrayImage, ImageEncoder, Luma};
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write as _;

/// Modules of white border on every side, as the QR standard asks.
pub const QUIET_ZONE: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the text does not fit in a QR code: {0}")]
    TooLong(String),
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// The code for `text` at level M.
pub fn qr(text: &str) -> Result<QrCode, RenderError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| RenderError::TooLong(e.to_string()))
}

/// The QR version (size class, 1–40) `text` needs at level M.
pub fn version(text: &str) -> Result<i16, RenderError> {
    match qr(text)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// Rows of modules, dark = true, without the quiet zone.
fn modules(code: &QrCode) -> (usize, Vec<bool>) {
    let colors = code.to_colors();
    (code.width(), colors.into_iter().map(|c| c == Color::Dark).collect())
}

/// An SVG element drawing `text`'s code, scaled to `size` (any CSS length: `"25mm"`, `"100%"`). One path of
/// horizontal runs keeps it small (about 6 KB for a token) and crisp at any scale.
pub fn svg(text: &str, size: &str) -> Result<String, RenderError> {
    let code = qr(text)?;
    let (width, dark) = modules(&code);
    let full = width + 2 * QUIET_ZONE as usize;
    let mut path = String::with_capacity(width * width);
    for y in 0..width {
        let row = &dark[y * width..(y + 1) * width];
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && row[x] {
                x += 1;
            }
            let q = QUIET_ZONE as usize;
            // Writing into a String cannot fail.
            let _ = write!(path, "M{},{}h{}v1h-{}z", start + q, y + q, x - start, x - start);
        }
    }
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" width="{size}" height="{size}" shape-rendering="crispEdges"><rect width="{full}" height="{full}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
    ))
}

/// `text`'s code as a greyscale PNG, `module_px` pixels per module, quiet zone included.
pub fn png(text: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    let img = raster(text, module_px)?;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .map_err(|e| RenderError::Png(e.to_string()))?;
    Ok(out)
}

/// `text`'s code as pixels, `module_px` per module, quiet zone included (for PNG and for tests that scan it back).
pub fn raster(text: &str, module_px: u32) -> Result<GrayImage, RenderError> {
    let code = qr(text)?;
    let (width, dark) = modules(&code);
    let px = module_px.max(1);
    let side = (width as u32 + 2 * QUIET_ZONE) * px;
    Ok(GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / px).wrapping_sub(QUIET_ZONE), (y / px).wrapping_sub(QUIET_ZONE));
        let is_dark = (mx as usize) < width && (my as usize) < width && dark[my as usize * width + mx as usize];
        Luma([if is_dark { 0 } else { 255 }])
    }))
}

/// One packet label: what the staff member needs to find the door and the centre needs to match the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketLabel {
    /// The signed packet token (`JX1:…`).
    pub token: String,
    /// The task's short code (`TaskId::short`).
    pub short_code: String,
    /// Compound name and building/unit/room.
    pub compound: String,
    pub address: String,
    /// The resident's masked name (`王**`): enough for the staff member, little for anyone who finds the packet.
    pub resident: String,
    /// "Delivery" / "Pickup" and the service item, in the caller's words.
    pub what: String,
}

/// One resident's confirmation slip: the QR they show at the door and the 6-digit code for when they cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentSlip {
    pub token: String,
    /// The 6-digit fallback code.
    pub code: String,
    pub short_code: String,
    pub resident: String,
    pub what: String,
}

/// Every word a sheet prints, supplied by the caller's translation layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetWords {
    /// `<html lang>`.
    pub lang: String,
    pub title: String,
    /// A line under the title (staff member, evening, count).
    pub subtitle: String,
    /// On a slip, before the 6-digit code.
    pub code_caption: String,
    /// On a slip: how to use it.
    pub slip_help: String,
}

/// Labels per A4 page: 3 columns × 7 rows of 63.5 × 38.1 mm, the common 21-up label stock.
pub const LABELS_PER_PAGE: usize = 21;

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The one A4 print stylesheet every printed sheet starts from (labels, slips, door cards, household cards): the page
/// size, the fonts, and the screen-only header that says what the sheet is.
pub const A4_CSS: &str = r#"
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #000; background: #fff; }
header { padding: 4mm 7mm 0; font-size: 10pt; }
header h1 { font-size: 12pt; margin: 0; }
@media print { header { display: none; } }
"#;

const SHEET_CSS: &str = r#"
.page { width: 210mm; height: 297mm; padding: 15.15mm 7.25mm; display: grid; grid-template-columns: repeat(3, 63.5mm); grid-auto-rows: 38.1mm; column-gap: 2.5mm; page-break-after: always; break-after: page; }
.label { display: flex; align-items: center; gap: 1.5mm; padding: 1.5mm; overflow: hidden; }
.label svg { flex: none; }
.label .text { min-width: 0; font-size: 8pt; line-height: 1.25; }
.label .short { font: bold 11pt monospace; letter-spacing: 0.5pt; }
.label .addr { font-weight: bold; font-size: 9pt; }
.slip { width: 210mm; min-height: 99mm; padding: 8mm 12mm; display: flex; gap: 8mm; align-items: center; border-bottom: 0.3mm dashed #888; break-inside: avoid; }
.slip .code { font: bold 26pt monospace; letter-spacing: 4pt; }
.slip .help { font-size: 12pt; line-height: 1.5; }
"#;

/// The opening of a printed A4 page, up to and including `<body>`: `css` is added to [`A4_CSS`].
pub fn a4_head(lang: &str, title: &str, css: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{A4_CSS}{css}</style></head><body>",
        esc(lang),
        esc(title)
    )
}

fn page_start(words: &SheetWords) -> String {
    format!(
        "{}<header><h1>{}</h1><p>{}</p></header>",
        a4_head(&words.lang, &words.title, SHEET_CSS),
        esc(&words.title),
        esc(&words.subtitle)
    )
}

/// A printable A4 sheet (several pages if needed) of packet labels.
pub fn label_sheet(words: &SheetWords, labels: &[PacketLabel]) -> Result<String, RenderError> {
    let mut html = page_start(words);
    for page in labels.chunks(LABELS_PER_PAGE) {
        html.push_str("<section class=\"page\">");
        for l in page {
            let _ = write!(
                html,
                "<div class=\"label\">{}<div class=\"text\"><div class=\"short\">{}</div><div>{}</div><div class=\"addr\">{}</div><div>{}</div><div>{}</div></div></div>",
                svg(&l.token, "30mm")?,
                esc(&l.short_code),
                esc(&l.compound),
                esc(&l.address),
                esc(&l.resident),
                esc(&l.what)
            );
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    Ok(html)
}

/// A printable sheet of residents' confirmation slips, three to an A4 page, each with its code written under it.
pub fn slip_sheet(words: &SheetWords, slips: &[ResidentSlip]) -> Result<String, RenderError> {
    let mut html = page_start(words);
    for s in slips {
        let _ = write!(
            html,
            "<section class=\"slip\">{}<div><div class=\"short\">{} · {}</div><div>{}</div><p>{}</p><div class=\"code\">{}</div><p class=\"help\">{}</p></div></section>",
            svg(&s.token, "60mm")?,
            esc(&s.short_code),
            esc(&s.resident),
            esc(&s.what),
            esc(&words.code_caption),
            esc(&s.code),
            esc(&words.slip_help)
        );
    }
    html.push_str("</body></html>");
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_core::TaskId;
    use jx_core::time::Timestamp;
    use jx_core::token::{TokenKind, TokenSigner};

    fn token(n: u8) -> String {
        let task = TaskId::v7(1_790_000_000_000, [n; 10]);
        TokenSigner::from_secret(1, [7; 32]).issue(TokenKind::PacketLabel, task, Timestamp(1_790_000_000_000))
    }

    #[test]
    fn a_token_fits_version_6_at_level_m() {
        let t = token(1);
        assert!(t.len() > 100, "{t}");
        assert_eq!(version(&t), Ok(6));
    }

    #[test]
    fn the_raster_decodes_back_to_the_token() {
        let t = token(2);
        let img = raster(&t, 4).expect("renders");
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, text) = grids[0].decode().expect("decodes");
        assert_eq!(text, t);
    }

    #[test]
    fn png_is_a_png_of_the_right_size() {
        let t = token(3);
        let bytes = png(&t, 3).expect("renders");
        let img = image::load_from_memory(&bytes).expect("decodes").to_luma8();
        assert_eq!(img.width(), (41 + 2 * QUIET_ZONE) * 3);
        assert_eq!(img, raster(&t, 3).expect("renders"));
    }

    #[test]
    fn svg_draws_every_dark_module_once() {
        let t = token(4);
        let s = svg(&t, "30mm").expect("renders");
        let (_, dark) = modules(&qr(&t).expect("fits"));
        let drawn: usize = s
            .split('M')
            .skip(1)
            .map(|run| {
                let h = run.split('h').nth(1).and_then(|r| r.split('v').next()).expect("run has a width");
                h.parse::<usize>().expect("width is a number")
            })
            .sum();
        assert_eq!(drawn, dark.iter().filter(|d| **d).count());
        assert!(s.len() < 8000, "{} bytes", s.len());
    }

    #[test]
    fn sheets_escape_what_they_print_and_paginate() {
        let words = SheetWords {
            lang: "zh-CN".into(),
            title: "<标签>".into(),
            subtitle: "s".into(),
            code_caption: "c".into(),
            slip_help: "h".into(),
        };
        let labels: Vec<_> = (0..22)
            .map(|n| PacketLabel {
                token: token(n),
                short_code: "ABC-DEF".into(),
                compound: "泾华苑".into(),
                address: "12号楼<script>".into(),
                resident: "王**".into(),
                what: "送达".into(),
            })
            .collect();
        let html = label_sheet(&words, &labels).expect("renders");
        assert_eq!(html.matches("class=\"page\"").count(), 2);
        assert_eq!(html.matches("<svg").count(), 22);
        assert!(!html.contains("<script>") && html.contains("12号楼&lt;script&gt;"));
        assert!(html.contains("&lt;标签&gt;"));
    }

    #[test]
    fn text_too_long_for_any_qr_is_an_error() {
        assert!(matches!(qr(&"x".repeat(5000)), Err(RenderError::TooLong(_))));
    }
}
