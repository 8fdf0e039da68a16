//! Export: the evening's report (per compound and team member: done, failed by reason, satisfaction) as CSV to
//! keep, shown here first; and the week's done and failed visits as a chart.

use super::api::DeskError;
use super::{Desk, DeskErrorLine, shanghai_day};
use crate::i18n::{D, Lang, desk};
use dioxus::prelude::*;
use jx_core::wire::DayCount;

/// The fields of one CSV line (quoted fields may hold commas, quotes and line breaks).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[component]
pub fn ReportPage() -> Element {
    let lang = use_context::<Signal<Lang>>();
    let d = use_context::<Desk>();
    let mut day = use_signal(|| shanghai_day(crate::platform::now_ms()));
    let report = use_resource(move || async move {
        let _ = (d.rev)();
        let s = d.session()?;
        let r = s.get_text(&format!("/report/evening.csv?day={}", day())).await;
        d.saw(&r);
        Some(r)
    });
    let week = use_resource(move || async move {
        let _ = (d.rev)();
        let s = d.session()?;
        let r = s.get::<Vec<DayCount>>(&format!("/report/week?until={}", day())).await;
        d.saw(&r);
        Some(r)
    });
    let l = lang();
    let t = |m| desk(l, m);
    let (csv, err): (Option<String>, Option<DeskError>) = match report() {
        Some(Some(Ok(c))) => (Some(c), None),
        Some(Some(Err(e))) => (None, Some(e)),
        _ => (None, None),
    };
    let rows = csv.as_deref().map(csv_rows).unwrap_or_default();
    rsx! {
        div { class: "report",
            div { class: "actions",
                label { r#for: "day", {t(D::Evening)} }
                input { id: "day", r#type: "date", "data-testid": "day", value: "{day}", oninput: move |e| day.set(e.value()) }
                if let Some(c) = csv.clone() {
                    button { class: "primary", "data-testid": "download",
                        onclick: move |_| super::api::save_file(&format!("jing-xiaoer-{}.csv", day()), "text/csv;charset=utf-8", &c),
                        {t(D::DownloadCsv)}
                    }
                }
            }
            DeskErrorLine { error: err }
            if rows.len() > 1 {
                div { class: "scroll",
                table { class: "tasks", "data-testid": "report",
                    thead { tr { for h in rows[0].clone() { th { "data-col": "{h}", {crate::i18n::report_column(l, &h)} } } } }
                    tbody {
                        for (i, r) in rows[1..].iter().cloned().enumerate() {
                            tr { key: "{i}", for (j, f) in r.into_iter().enumerate() { td { key: "{j}", {f} } } }
                        }
                    }
                }
                }
            } else if csv.is_some() {
                p { class: "muted", {t(D::NothingHere)} }
            }
            h3 { {t(D::Week)} }
            match week() {
                Some(Some(Ok(days))) => rsx! { WeekChart { days } },
                Some(Some(Err(e))) => rsx! { DeskErrorLine { error: Some(e) } },
                _ => rsx! {},
            }
        }
    }
}

/// Done and failed visits per day, as bars.
#[component]
fn WeekChart(days: Vec<DayCount>) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let l = lang();
    let max = days.iter().map(|x| x.done.max(x.failed)).max().unwrap_or(0).max(1) as f64;
    let (w, h, bw) = (640.0, 220.0, 36.0);
    let step = w / days.len().max(1) as f64;
    rsx! {
        svg { class: "week", "data-testid": "week", view_box: "0 0 {w} {h + 40.0}", role: "img",
            for (i, x) in days.iter().enumerate() {
                {
                    let x0 = i as f64 * step + (step - 2.0 * bw) / 2.0;
                    let hd = f64::from(x.done) / max * h;
                    let hf = f64::from(x.failed) / max * h;
                    let label = x.day.get(5..).unwrap_or(&x.day).to_string();
                    rsx! {
                        g { key: "{x.day}", "data-day": "{x.day}", "data-done": "{x.done}", "data-failed": "{x.failed}",
                            rect { class: "bar done", x: "{x0:.1}", y: "{h - hd:.1}", width: "{bw}", height: "{hd:.1}" }
                            rect { class: "bar failed", x: "{x0 + bw:.1}", y: "{h - hf:.1}", width: "{bw}", height: "{hf:.1}" }
                            text { x: "{x0 + bw:.1}", y: "{h + 18.0}", "text-anchor": "middle", {label} }
                            text { x: "{x0 + bw / 2.0:.1}", y: "{(h - hd - 4.0).max(12.0):.1}", "text-anchor": "middle", "{x.done}" }
                            text { x: "{x0 + bw * 1.5:.1}", y: "{(h - hf - 4.0).max(12.0):.1}", "text-anchor": "middle", "{x.failed}" }
                        }
                    }
                }
            }
            text { x: "0", y: "{h + 36.0}", class: "legend done", {desk(l, D::LegendDone)} }
            text { x: "120", y: "{h + 36.0}", class: "legend failed", {desk(l, D::LegendFailed)} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::csv_rows;

    #[test]
    fn csv_fields_with_commas_quotes_and_a_bom_read_back() {
        let rows = csv_rows("\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n1,\n");
        assert_eq!(rows, vec![vec!["a", "b"], vec!["x, y", "say \"hi\""], vec!["1", ""]]);
    }
}
