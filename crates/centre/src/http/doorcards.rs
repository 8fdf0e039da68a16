//! The residents' door card pages, outside `/api/v1` and without a login: `GET /d/{token}` shows what is waiting
//! and the evenings to choose from, `POST /d/{token}` books one (see `crate::doorcard` for the rules). Rate-limited
//! per client ([`PAGES_PER_CLIENT_MINUTE`]), in very large type, every refusal a page that says why in zh-CN and gives the centre's number.

use super::extract::ClientAddr;
use crate::db::now;
use crate::doorcard::{CardView, PageError, Refusal, book, view};
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jx_core::doorcard::{subject_zh, zh_date};
use jx_core::state::TaskStatus;
use jx_proof::render::esc;
use std::fmt::Write as _;

fn status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::NotACard | Refusal::BadEvening => StatusCode::BAD_REQUEST,
        Refusal::Forged => StatusCode::FORBIDDEN,
        Refusal::NotLeft => StatusCode::NOT_FOUND,
        Refusal::Expired | Refusal::Settled { .. } | Refusal::Cancelled => StatusCode::GONE,
        Refusal::Returning | Refusal::AlreadyBooked { .. } => StatusCode::CONFLICT,
        Refusal::Busy => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// The heading and the explanation, in zh-CN.
fn words(r: &Refusal) -> (String, String) {
    match r {
        Refusal::NotACard => ("无法识别这张卡片".into(), "这个链接不是本中心的上门联系卡，或者卡片已损坏。".into()),
        Refusal::Forged => ("卡片校验未通过".into(), "这张卡片不是本中心发出的，或者内容已被改动。".into()),
        Refusal::Expired => ("这张卡片已过期".into(), "这张卡片已经停止使用。".into()),
        Refusal::NotLeft => {
            ("暂时无法预约".into(), "这张卡片还没有登记到上门记录。工作人员的手机联网后即可预约，请稍后再试。".into())
        }
        Refusal::Settled { status: TaskStatus::Returned } => {
            ("回执已退回中心".into(), "这件回执已经退回中心，请到中心领取或来电咨询。".into())
        }
        Refusal::Settled { .. } => ("该事项已办结".into(), "这次上门服务已经完成，不需要再预约。".into()),
        Refusal::Cancelled => ("该事项已取消".into(), "这次上门服务已经取消，不需要预约。".into()),
        Refusal::Returning => {
            ("已三次上门未遇".into(), "已经三次上门都没有遇到您，回执将退回中心。请到中心领取或来电商量。".into())
        }
        Refusal::AlreadyBooked { evening } => (
            "您已经预约过了".into(),
            format!("您已预约{}晚上7点后上门。一张卡片只能预约一次，如需更改请来电。", zh_date(*evening)),
        ),
        Refusal::BadEvening => ("请重新选择日期".into(), "只能预约页面上列出的日期（明天起7天内）。".into()),
        Refusal::Busy => ("请稍后再试".into(), "现在访问的人较多，请过一分钟再试。".into()),
    }
}

/// Pages one client (an address) may ask for in a minute: far above what a resident scans, far below a flood. Kept
/// in the database, so every replica counts the same, and per client, so one cannot block every resident.
pub const PAGES_PER_CLIENT_MINUTE: i64 = 30;

/// Whether `address` may have another page now.
async fn allowed(st: &AppState, address: String) -> bool {
    let key = format!("door-page:{address}");
    let counted = st.db.call(move |tx| throttle::hit(tx, &key, PAGES_PER_CLIENT_MINUTE, 60_000, now())).await;
    // A database that cannot count cannot book either; the page says so below.
    counted.unwrap_or(true)
}

const PAGE_CSS: &str = r#"
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 20px 48px; font-family: "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 28px; line-height: 1.5; color: #000; background: #fff; }
h1 { font-size: 40px; line-height: 1.3; margin: 0 0 20px; }
p { margin: 0 0 20px; }
.what { font-size: 34px; font-weight: bold; }
.where { font-size: 28px; }
form { margin: 0; }
button { display: block; width: 100%; min-height: 88px; margin: 0 0 16px; padding: 12px; font-size: 32px; font-weight: bold; color: #fff; background: #003a8c; border: 4px solid #000; border-radius: 12px; }
button:focus { outline: 6px solid #ffbf00; }
.phone { font-size: 36px; font-weight: bold; }
.phone a { color: #003a8c; }
.note { font-size: 24px; color: #222; }
"#;

fn page(title: &str, body: &str, phone: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{t}</title><style>{PAGE_CSS}</style></head><body><main><h1>{t}</h1>{body}<p>如有疑问，请致电中心：</p><p class=\"phone\"><a href=\"tel:{p}\">{p}</a></p></main></body></html>",
        t = esc(title),
        p = esc(phone),
    )
}

fn what(view: &CardView) -> String {
    subject_zh(view.kind, &view.item)
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

fn refused(r: &Refusal, phone: &str) -> Response {
    let (title, why) = words(r);
    tracing::info!(refusal = r.code(), "a door card page refused");
    html(status(r), page(&title, &format!("<p>{}</p>", esc(&why)), phone))
}

fn failed(e: PageError, phone: &str) -> Response {
    match e {
        PageError::Refused(r) => refused(&r, phone),
        PageError::Failed(e) => {
            tracing::error!(error = %e, "a door card page failed");
            let status = match e {
                ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::CONFLICT,
            };
            html(status, page("暂时无法预约", "<p>中心系统暂时无法处理，请稍后再试。</p>", phone))
        }
    }
}

fn booking_page(view: &CardView) -> String {
    let mut body = format!("<p class=\"what\">{}</p><p class=\"where\">{}</p>", esc(&what(view)), esc(&view.compound));
    match view.booked {
        Some(d) => {
            let _ = write!(body, "<p>您已预约<b>{}</b>晚上7点后上门。</p>", zh_date(d));
        }
        None => {
            body.push_str("<p>请选择方便在家的晚上，工作人员将在当晚7点后上门：</p><form method=\"post\">");
            for d in &view.evenings {
                let _ = write!(
                    body,
                    "<button type=\"submit\" name=\"evening\" value=\"{d}\">{} 晚上</button>",
                    zh_date(*d)
                );
            }
            body.push_str("</form>");
        }
    }
    let _ = write!(body, "<p class=\"note\">卡号 {:06}</p>", view.number);
    body
}

/// `GET /d/{token}`: the booking page.
pub async fn get_page(
    State(st): State<AppState>,
    ClientAddr(address): ClientAddr,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let phone = st.settings.centre_phone.clone();
    if !allowed(&st, address).await {
        return refused(&Refusal::Busy, &phone);
    }
    let Ok(Path(token)) = token else { return refused(&Refusal::NotACard, &phone) };
    match st.db.call(move |tx| Ok(view(tx, &token, now()))).await {
        Ok(Ok(view)) => html(StatusCode::OK, page("预约下次上门时间", &booking_page(&view), &phone)),
        Ok(Err(e)) => failed(e, &phone),
        Err(e) => failed(PageError::Failed(e), &phone),
    }
}

/// The `evening` field of a form body.
fn form_evening(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| pair.strip_prefix("evening=")).map(|v| v.replace("%2D", "-").replace("%2d", "-"))
}

/// `POST /d/{token}` with `evening=YYYY-MM-DD`: books the visit.
pub async fn post_booking(
    State(st): State<AppState>,
    ClientAddr(address): ClientAddr,
    token: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let phone = st.settings.centre_phone.clone();
    if !allowed(&st, address).await {
        return refused(&Refusal::Busy, &phone);
    }
    let Ok(Path(token)) = token else { return refused(&Refusal::NotACard, &phone) };
    let Some(evening) = body.ok().as_deref().and_then(form_evening) else {
        return refused(&Refusal::BadEvening, &phone);
    };
    let outcome = st
        .db
        .call(move |tx| match book(tx, &token, &evening, now()) {
            Ok(b) => Ok(Ok(b)),
            // A refusal found before anything was written commits nothing worth keeping; a failure rolls back.
            Err(PageError::Refused(r)) => Ok(Err(r)),
            Err(PageError::Failed(e)) => Err(e),
        })
        .await;
    match outcome {
        Ok(Ok(b)) => {
            let body = format!(
                "<p class=\"what\">{}</p><p>工作人员将于<b>{}</b>晚上7点后上门，请届时在家。</p><p class=\"note\">卡号 {:06}</p>",
                esc(&what(&b.view)),
                zh_date(b.evening),
                b.view.number
            );
            html(StatusCode::OK, page("预约成功", &body, &phone))
        }
        Ok(Err(r)) => refused(&r, &phone),
        Err(e) => failed(PageError::Failed(e), &phone),
    }
}

/// The residents' pages, outside `/api/v1`: `GET` and `POST /d/{token}`, rate-limited, with small bodies.
pub fn page_router() -> Router<AppState> {
    Router::new().route("/d/{token}", get(get_page).post(post_booking)).layer(DefaultBodyLimit::max(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_body_gives_its_evening() {
        assert_eq!(form_evening(b"evening=2026-12-03").as_deref(), Some("2026-12-03"));
        assert_eq!(form_evening(b"x=1&evening=2026%2D12%2D03").as_deref(), Some("2026-12-03"));
        assert_eq!(form_evening(b"day=2026-12-03"), None);
        assert_eq!(form_evening(&[0xFF, 0xFE]), None);
    }
}
