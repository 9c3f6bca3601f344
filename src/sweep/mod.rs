//! Sweeps (`sweep NETWORK { KEY = [v, ...] ... }`, specs/language.md,
//! "Sweeps"): one [`Row`] per combination of a sweep, with typed fields for
//! plots (ratio against width, width or depth against N), and the table
//! `robmem sweep` writes from them ([`table`]: CSV and JSON Lines).
//!
//! The rows are made by the command line (`cli::sweep`), which compiles
//! each combination exactly as `robmem compile` compiles a network block;
//! [`subsample`] draws a `points = N` combination's points.

pub mod pictures;
pub mod separations;
pub mod subsample;
pub mod table;

use crate::pipeline::Summary;
use crate::spec::{NetworkSpec, SweptValue};

/// One combination of a sweep and what compiling it gave.
#[derive(Clone, Debug)]
pub struct Row {
    /// The sweep's name (its network's).
    pub sweep: String,
    /// 0-based position in the sweep (first key varying slowest).
    pub row: usize,
    /// The swept keys and this row's value of each, in the order written.
    pub values: Vec<(String, SweptValue)>,
    /// The network block with this row's keys, resolved.
    pub network: NetworkSpec,
    /// N, the points compiled (after a `points` subsample).
    pub points: Option<usize>,
    /// The compiled network's figures, or why it failed.
    pub outcome: Result<Outcome, Failure>,
    /// Wall-clock seconds for the whole row (subsample, separation,
    /// compilation, certificate).
    pub seconds: f64,
}

/// A combination that compiled.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// What `robmem compile --json` reports for the network.
    pub summary: Summary,
    /// The radius the certificate states (the checker confirmed it on the
    /// ONNX bytes), `None` when no certificate was made.
    pub certified_radius: Option<f64>,
    /// The arithmetics the certificate claims (`real`, `float32`,
    /// `float64`); empty when none was made.
    pub arithmetics: Vec<String>,
}

/// A combination that failed: the error `robmem compile --json` would
/// print for the same network block.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// A short stable word (`radius`, `width`, `points`, ...).
    pub kind: String,
    /// The message.
    pub message: String,
    /// The spec's `file:line:column` it points at.
    pub place: Option<String>,
}

impl Row {
    /// The swept value of `key` in this row, if `key` is swept.
    pub fn value(&self, key: &str) -> Option<&SweptValue> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The compiled network's figures, when it compiled.
    pub fn summary(&self) -> Option<&Summary> {
        self.outcome.as_ref().ok().map(|o| &o.summary)
    }

    /// The certified radius over the limit delta_p / 2: the certificate's
    /// radius when one was made, the compiler's otherwise.
    pub fn ratio(&self) -> Option<f64> {
        let outcome = self.outcome.as_ref().ok()?;
        let limit = outcome.summary.limit?;
        match outcome.certified_radius {
            Some(r) => Some(r / limit),
            None => outcome.summary.ratio,
        }
    }

    /// The JSON object of this row (one line of `NAME.jsonl`): `sweep`,
    /// `row`, `swept` (key -> value: a number, or the value's text), then
    /// the keys of `robmem compile --json` (with `certified_radius` and
    /// `arithmetics`, `null` without a certificate) and `total_seconds`; a
    /// failed row has `network`, `points` and `error` {kind, message,
    /// place} instead.
    pub fn to_json(&self) -> serde_json::Value {
        let swept: serde_json::Map<String, serde_json::Value> = self
            .values
            .iter()
            .map(|(k, v)| {
                let value = match v.number {
                    // Integers as integers (`24`, not `24.0`).
                    Some(x) if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 => {
                        serde_json::json!(x as i64)
                    }
                    Some(x) => serde_json::json!(x),
                    None => serde_json::json!(v.text),
                };
                (k.clone(), value)
            })
            .collect();
        let mut object = serde_json::json!({
            "sweep": self.sweep,
            "row": self.row,
            "swept": swept,
        });
        match &self.outcome {
            Ok(outcome) => {
                let summary = serde_json::to_value(&outcome.summary).expect("summary serialises");
                for (k, v) in summary.as_object().expect("an object") {
                    object[k] = v.clone();
                }
                object["certified_radius"] = serde_json::json!(outcome.certified_radius);
                object["arithmetics"] = match outcome.certified_radius {
                    Some(_) => serde_json::json!(outcome.arithmetics),
                    None => serde_json::Value::Null,
                };
            }
            Err(failure) => {
                object["network"] = serde_json::json!(self.network.name);
                object["points"] = serde_json::json!(self.points);
                object["error"] = serde_json::json!({
                    "kind": failure.kind,
                    "message": failure.message,
                    "place": failure.place,
                });
            }
        }
        object["total_seconds"] = serde_json::json!(self.seconds);
        object
    }
}
