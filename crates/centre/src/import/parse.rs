//! Reading an import file into rows: CSV (UTF-8, an Excel BOM allowed) or JSON (an array of objects with the CSV's
//! column names as keys), each row numbered by its line. Never panics, whatever the bytes.

use jx_core::wire::ImportRowError;
use std::collections::BTreeMap;

/// The columns of an import, in the order of the CSV template.
pub const COLUMNS: &[&str] = &[
    "kind",
    "case_number",
    "service_item",
    "resident_name",
    "resident_phone",
    "compound",
    "building",
    "unit",
    "room",
    "elderly",
    "disabled",
    "pregnant",
    "follows_case",
];
pub(super) const REQUIRED: &[&str] =
    &["kind", "case_number", "service_item", "resident_name", "resident_phone", "compound", "building", "unit", "room"];

pub(super) type Row = BTreeMap<String, String>;

/// Reads CSV (UTF-8, an Excel BOM allowed) into rows numbered by their line in the file.
pub fn parse_csv(body: &[u8]) -> Result<Vec<(usize, Row)>, ImportRowError> {
    let body = body.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(body);
    if std::str::from_utf8(body).is_err() {
        return Err(ImportRowError {
            line: 1,
            field: None,
            reason: "the file is not UTF-8 text; in Excel, save it as “CSV UTF-8”".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportRowError { line: 1, field: None, reason: format!("the header line is unreadable: {e}") })?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(missing) = REQUIRED.iter().find(|c| !headers.iter().any(|h| h == *c)) {
        return Err(ImportRowError {
            line: 1,
            field: Some((*missing).into()),
            reason: format!("the header has no column “{missing}”"),
        });
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        match record {
            Ok(r) => rows.push((line, headers.iter().cloned().zip(r.iter().map(str::to_string)).collect())),
            Err(e) => {
                let mut bad = Row::new();
                bad.insert("__error".into(), e.to_string());
                rows.push((line, bad));
            }
        }
    }
    Ok(rows)
}

/// Reads a JSON array of objects into rows numbered from 1.
pub fn parse_json(body: &[u8]) -> Result<Vec<(usize, Row)>, ImportRowError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| ImportRowError {
        line: e.line(),
        field: None,
        reason: format!("not valid JSON: {e}"),
    })?;
    let items = value.as_array().ok_or_else(|| ImportRowError {
        line: 1,
        field: None,
        reason: "expected a JSON array of rows".into(),
    })?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut row = Row::new();
            match item.as_object() {
                Some(obj) => {
                    for (k, v) in obj {
                        let text = match v {
                            serde_json::Value::String(s) => s.trim().to_string(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        row.insert(k.clone(), text);
                    }
                }
                None => {
                    row.insert("__error".into(), "a row must be a JSON object".into());
                }
            }
            (i + 1, row)
        })
        .collect())
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Whatever a coordinator uploads, the parsers answer rows or a located error, never a panic.
        #[test]
        fn parsing_any_upload_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_csv(&bytes);
            let _ = parse_json(&bytes);
        }

        /// Text that looks like the real thing: the header, then rows of random cells (quotes, commas, CJK, BOMs).
        #[test]
        fn csv_with_the_right_header_and_wild_cells_never_panics(
            cells in prop::collection::vec(prop::collection::vec("[a-z0-9\"',号楼\u{FEFF} \n-]{0,12}", 0..15), 0..20),
        ) {
            let mut text = String::from("kind,case_number,service_item,resident_name,resident_phone,compound,building,unit,room,elderly,disabled,pregnant,follows_case\n");
            for row in cells {
                text.push_str(&row.join(","));
                text.push('\n');
            }
            if let Ok(rows) = parse_csv(text.as_bytes()) {
                for (line, _) in &rows {
                    prop_assert!(*line >= 2);
                }
            }
        }
    }
}
