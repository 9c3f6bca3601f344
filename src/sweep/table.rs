//! A sweep's table as text: CSV (one header line, one line per row) and
//! JSON Lines (one [`Row::to_json`] object per line).
//!
//! The CSV columns are `sweep, row`, one `swept_KEY` column per swept key
//! (the value as written), then [`COLUMNS`]. A file robmem wrote begins
//! with `sweep,row,` (CSV) or `{"sweep":` (JSON Lines): [`made_by_robmem`]
//! tells such a file from a user's, which robmem must not replace.

use super::Row;
use crate::analysis::report::show;
use std::io::BufRead;
use std::path::Path;

/// The CSV columns after the swept values.
pub const COLUMNS: &[&str] = &[
    "network",
    "points",
    "dim",
    "labels",
    "norm",
    "delta",
    "limit",
    "radius",
    "ratio",
    "certified_radius",
    "arithmetics",
    "construction",
    "projection",
    "m",
    "width",
    "depth",
    "parameters",
    "seconds",
    "error_kind",
    "error",
];

/// The CSV text of `rows` (all of one sweep, with the same swept keys).
pub fn csv(rows: &[Row]) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let keys: Vec<String> = rows
        .first()
        .map(|r| r.values.iter().map(|(k, _)| format!("swept_{k}")).collect())
        .unwrap_or_default();
    let header = ["sweep", "row"]
        .into_iter()
        .map(String::from)
        .chain(keys)
        .chain(COLUMNS.iter().map(|c| c.to_string()));
    writer.write_record(header).expect("writing to memory");
    for row in rows {
        writer.write_record(record(row)).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8 fields")
}

/// The JSON Lines text of `rows`.
pub fn jsonl(rows: &[Row]) -> String {
    rows.iter().map(|r| format!("{}\n", r.to_json())).collect()
}

/// One CSV record: the fields of [`csv`]'s header.
fn record(row: &Row) -> Vec<String> {
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    let mut fields = vec![row.sweep.clone(), row.row.to_string()];
    fields.extend(row.values.iter().map(|(_, v)| v.text.clone()));
    fields.push(row.network.name.clone());
    fields.push(row.points.map_or(String::new(), |n| n.to_string()));
    match &row.outcome {
        Ok(o) => {
            let s = &o.summary;
            fields.extend([
                s.dim.to_string(),
                s.labels.to_string(),
                s.norm.clone(),
                opt(s.delta),
                opt(s.limit),
                opt(s.radius),
                opt(row.ratio()),
                opt(o.certified_radius),
                o.arithmetics.join(" "),
                s.construction.clone(),
                s.projection.clone(),
                s.m.to_string(),
                s.width.to_string(),
                s.depth.to_string(),
                s.parameters.to_string(),
                format!("{:.3}", row.seconds),
                String::new(),
                String::new(),
            ]);
        }
        Err(f) => {
            fields.extend(std::iter::repeat_n(String::new(), COLUMNS.len() - 5));
            fields.push(format!("{:.3}", row.seconds));
            fields.push(f.kind.clone());
            fields.push(f.message.clone());
        }
    }
    fields
}

/// One line for people: the swept values, then the certified radius and
/// its ratio to the limit, m, width and depth, or the error.
pub fn text_line(row: &Row) -> String {
    let values: Vec<String> = row
        .values
        .iter()
        .map(|(k, v)| format!("{k} = {}", v.text))
        .collect();
    let what = match &row.outcome {
        Ok(o) => {
            let s = &o.summary;
            let radius = o
                .certified_radius
                .or(s.radius)
                .map_or("infinite".into(), show);
            let certified = if o.certified_radius.is_some() {
                format!(", certified in {}", o.arithmetics.join(", "))
            } else {
                String::new()
            };
            format!(
                "radius {radius} ({} of the limit), {} m = {}, width {}, depth {}{certified}",
                row.ratio().map_or("-".into(), show),
                s.projection,
                s.m,
                s.width,
                s.depth
            )
        }
        Err(f) => format!("error ({}): {}", f.kind, f.message),
    };
    format!(
        "  {:>3}  {}: {what} [{:.2} s]",
        row.row,
        values.join(", "),
        row.seconds
    )
}

/// True when `path` is missing, or a file whose first line robmem's tables
/// (or its sweep pictures: [`super::pictures::MARKER`], a PNG's
/// [`crate::plot::png::SOFTWARE`] chunk) begin with (so robmem made it and may replace it); false for anything
/// else (an empty file, a folder, a user's file).
pub fn made_by_robmem(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e == "png") {
        return match std::fs::read(path) {
            Ok(bytes) => crate::plot::png::made_by_robmem(&bytes),
            Err(_) => !path.exists(),
        };
    }
    let Ok(file) = std::fs::File::open(path) else {
        return !path.exists();
    };
    let mut first = String::new();
    if std::io::BufReader::new(file).read_line(&mut first).is_err() {
        return false;
    }
    first.starts_with("sweep,row,")
        || first.starts_with("{\"sweep\":")
        || first.trim_end() == super::pictures::MARKER
}
