//! The LR range test for the page's "LR finder" view and its golden check: `sched_core::LrFinder`
//! on a recorded `lr_find.csv` ([`lr_find_csv`]) or on a sweep of given losses
//! ([`lr_find_sweep`], what the golden page runs fastai's cases through).
//!
//! A recorded CSV is analysed as `host-train lr-find suggest` analyses it: `num_iter` = the
//! number of rows, `record(lr, loss)` for each row in order (so the smoothing and the stop are the
//! range test's), then every suggestion. The file is read by sched-core's reader
//! (`sched_core::CsvRows`, `LrFinder::from_csv`), the one host-train uses: the same files are
//! accepted, and a bad one gets the same one line naming the problem and its line.

use sched_core::{CsvRows, Error, LrFinder, Status, Suggested, Suggestion, SweepMode};
use wasm_bindgen::prelude::*;

/// The most points the page's range test holds (host-train's `lr-find --iters` maximum).
pub const MAX_POINTS: usize = 10_000;

type Finder = LrFinder<MAX_POINTS>;

/// The columns of a recorded range test.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvCurve {
    /// `lr` of every row.
    pub lrs: Vec<f32>,
    /// `loss` of every row.
    pub losses: Vec<f32>,
    /// `smoothed_loss` of every row, when the file has that column and every cell is a number.
    pub smoothed: Option<Vec<f32>>,
}

/// The rows of `lr_find.csv` (sched-core's reader, the one `host-train lr-find suggest` uses);
/// the error is its one line.
pub fn parse_csv(text: &str) -> Result<CsvCurve, String> {
    let mut curve = CsvCurve {
        lrs: Vec::new(),
        losses: Vec::new(),
        smoothed: Some(Vec::new()),
    };
    for row in CsvRows::new(text).map_err(|e| e.to_string())? {
        let row = row.map_err(|e| e.to_string())?;
        curve.lrs.push(row.lr);
        curve.losses.push(row.loss);
        // The file's own smoothed loss is only compared with the core's: a missing column or a
        // cell that is not a number drops the comparison, not the file.
        match (&mut curve.smoothed, row.smoothed_loss) {
            (Some(v), Some(x)) => v.push(x),
            (s, _) => *s = None,
        }
    }
    Ok(curve)
}

/// A range test's outcome: the points the finder recorded, its status and every suggestion
/// (in `Suggestion::ALL`'s order), plus the rows of the file it was read from.
#[wasm_bindgen]
pub struct LrFind {
    lrs: Vec<f32>,
    smoothed: Vec<f32>,
    status: Status,
    suggestions: [Result<Suggested, Error>; 5],
    rows: CsvCurve,
}

impl LrFind {
    fn new(finder: &Finder, rows: CsvCurve) -> Self {
        LrFind {
            lrs: finder.lrs().to_vec(),
            smoothed: finder.smoothed_losses().to_vec(),
            status: finder.status(),
            suggestions: finder.suggestions(),
            rows,
        }
    }

    /// Every suggestion: `Ok((index, lr))` or the core's error text.
    pub fn suggestion_results(&self) -> Vec<(&'static str, Result<Suggested, String>)> {
        Suggestion::ALL
            .iter()
            .zip(&self.suggestions)
            .map(|(rule, r)| (rule.name(), r.map_err(|e| e.to_string())))
            .collect()
    }
}

#[wasm_bindgen]
impl LrFind {
    /// The lr of every recorded point.
    pub fn lrs(&self) -> Vec<f32> {
        self.lrs.clone()
    }

    /// The smoothed loss of every recorded point.
    pub fn smoothed(&self) -> Vec<f32> {
        self.smoothed.clone()
    }

    /// `finished`, `diverged`, `non-finite loss` or `running`.
    pub fn status(&self) -> String {
        self.status.to_string()
    }

    /// The suggestions as JSON: `[{"name": "valley", "index": 52} | {"name": ..., "error": ...}]`
    /// (the lrs are in [`LrFind::suggested_lrs`], exact as f32).
    pub fn suggestions(&self) -> String {
        let mut out = String::from("[");
        for (i, (name, r)) in self.suggestion_results().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            crate::json_string(&mut out, name);
            match r {
                Ok(s) => {
                    out.push_str(",\"index\":");
                    out.push_str(&s.index.to_string());
                }
                Err(e) => {
                    out.push_str(",\"error\":");
                    crate::json_string(&mut out, &e);
                }
            }
            out.push('}');
        }
        out.push(']');
        out
    }

    /// The lr of each suggestion, NaN where the rule has none.
    pub fn suggested_lrs(&self) -> Vec<f32> {
        self.suggestions
            .iter()
            .map(|r| r.map_or(f32::NAN, |s| s.lr))
            .collect()
    }

    /// The `lr` of every row of the file (all of them, also past the stop).
    pub fn row_lrs(&self) -> Vec<f32> {
        self.rows.lrs.clone()
    }

    /// The raw `loss` of every row.
    pub fn row_losses(&self) -> Vec<f32> {
        self.rows.losses.clone()
    }

    /// The file's own `smoothed_loss` column (empty when it has none).
    pub fn row_smoothed(&self) -> Vec<f32> {
        self.rows.smoothed.clone().unwrap_or_default()
    }
}

/// Analyses a recorded `lr_find.csv` (see the module docs).
pub fn analyse_csv(text: &str) -> Result<LrFind, String> {
    let rows = parse_csv(text)?;
    let finder = Box::new(Finder::from_csv(text).map_err(|e| e.to_string())?);
    Ok(LrFind::new(&finder, rows))
}

/// The range test from `start_lr` to `end_lr` over `num_iter` steps (`linear`: Lightning's linear
/// mode), stopping on divergence when `stop_div`, fed `losses` one step at a time until it stops.
pub fn sweep(
    start_lr: f64,
    end_lr: f64,
    num_iter: u32,
    linear: bool,
    stop_div: bool,
    losses: &[f32],
) -> Result<LrFind, String> {
    let mode = if linear {
        SweepMode::Linear
    } else {
        SweepMode::Exponential
    };
    let mut finder = Box::new(
        Finder::new(start_lr, end_lr, num_iter)
            .map_err(|e| e.to_string())?
            .mode(mode)
            .stop_div(stop_div),
    );
    let mut used = 0;
    for &loss in losses {
        used += 1;
        if finder.observe(loss).is_done() {
            break;
        }
    }
    let rows = CsvCurve {
        lrs: finder.lrs().to_vec(),
        losses: losses[..used].to_vec(),
        smoothed: None,
    };
    Ok(LrFind::new(&finder, rows))
}

/// [`analyse_csv`] for the page: the error is the one-line message.
#[wasm_bindgen]
pub fn lr_find_csv(text: &str) -> Result<LrFind, JsValue> {
    analyse_csv(text).map_err(|e| JsValue::from_str(&e))
}

/// [`sweep`] for the golden page.
#[wasm_bindgen]
pub fn lr_find_sweep(
    start_lr: f64,
    end_lr: f64,
    num_iter: u32,
    linear: bool,
    stop_div: bool,
    losses: Vec<f32>,
) -> Result<LrFind, JsValue> {
    sweep(start_lr, end_lr, num_iter, linear, stop_div, &losses).map_err(|e| JsValue::from_str(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) if s == "NaN" => f64::NAN,
            Value::String(s) if s == "inf" => f64::INFINITY,
            Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
            v => v.as_f64().unwrap(),
        }
    }

    fn case(name: &str) -> Value {
        let p = root().join(format!("tests/golden/lr_find/cases/{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    /// `(name, index, lr)` of the case's expected suggestions, `None` where the reference has none.
    fn expected(case: &Value) -> Vec<(&'static str, Option<(usize, f32)>)> {
        Suggestion::ALL
            .iter()
            .map(|rule| {
                let r = &case["expected"]["suggestions"][rule.name()];
                let v = (!r.is_null()).then(|| {
                    (
                        r["index"].as_u64().unwrap() as usize,
                        r["lr"].as_f64().unwrap() as f32,
                    )
                });
                (rule.name(), v)
            })
            .collect()
    }

    fn ours(f: &LrFind) -> Vec<(&'static str, Option<(usize, f32)>)> {
        f.suggestion_results()
            .into_iter()
            .map(|(n, r)| (n, r.ok().map(|s| (s.index, s.lr))))
            .collect()
    }

    /// The committed fixture the browser test loads is the golden case's curve, and reading it
    /// as a recorded CSV gives fastai's and Lightning's suggestions for that case.
    #[test]
    fn fixture_csv_gives_the_cases_suggestions() {
        let text =
            std::fs::read_to_string(root().join("wasm-demo/tests/fixtures/lr_find.csv")).unwrap();
        let c = case("cnn_sgd_mom09_seed1");
        let f = analyse_csv(&text).unwrap();
        assert_eq!(f.status(), "finished");
        assert_eq!(ours(&f), expected(&c));
        let lrs: Vec<f32> = c["expected"]["lrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| num(v) as f32)
            .collect();
        assert_eq!(f.lrs(), lrs);
        let smoothed: Vec<f32> = c["expected"]["smoothed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| num(v) as f32)
            .collect();
        assert_eq!(f.smoothed(), smoothed);
        // The file's smoothed_loss column is fastai's too.
        assert_eq!(f.row_smoothed(), smoothed);
    }

    /// Every golden case through the same function the golden page calls.
    #[test]
    fn sweep_matches_every_golden_case() {
        let dir = root().join("tests/golden/lr_find/cases");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let c = case(&name);
            let losses: Vec<f32> = c["losses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| num(v) as f32)
                .collect();
            let f = sweep(
                c["start_lr"].as_f64().unwrap(),
                c["end_lr"].as_f64().unwrap(),
                c["num_iter"].as_u64().unwrap() as u32,
                c["mode"] == "linear",
                c["stop_div"].as_bool().unwrap(),
                &losses,
            )
            .unwrap();
            assert_eq!(ours(&f), expected(&c), "{name}");
            n += 1;
        }
        assert!(n >= 10);
    }

    #[test]
    fn columns_in_any_order_extra_ignored() {
        let rows: String = (0..8)
            .map(|i| format!("x,{},{}\n", 2.0 - 0.1 * i as f32, 1e-3 * (i + 1) as f32))
            .collect();
        let f = analyse_csv(&format!("note,loss,lr\r\n{rows}\n\n")).unwrap();
        assert_eq!(f.lrs().len(), 8);
        assert_eq!(f.lrs()[0], 1e-3);
        assert_eq!(f.row_losses()[1], 1.9);
        assert_eq!(f.row_smoothed(), Vec::<f32>::new());
        assert_eq!(f.status(), "finished");
    }

    #[test]
    fn stops_as_the_range_test() {
        // A NaN loss stops the test at that row; the rows after it are kept for the plot.
        let mut text = String::from("step,lr,loss\n");
        for i in 0..10 {
            let loss = if i == 7 {
                "NaN".into()
            } else {
                format!("{}", 2.0 - 0.1 * i as f32)
            };
            text.push_str(&format!("{i},{:e},{loss}\n", 1e-4 * (i + 1) as f32));
        }
        let f = analyse_csv(&text).unwrap();
        assert_eq!(f.status(), "non-finite loss");
        assert_eq!((f.lrs().len(), f.row_lrs().len()), (8, 10));
        assert!(f.smoothed()[7].is_nan());
        let json: Value = serde_json::from_str(&f.suggestions()).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 5);
        assert_eq!(json[0]["name"], "valley");
        assert!(json[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("lr_find suggestion `slide` needs 16 points"));
        assert!(f.suggested_lrs()[3].is_nan());
    }

    #[test]
    fn bad_files_are_one_line() {
        let e = |t: &str| analyse_csv(t).err().unwrap();
        assert_eq!(
            e(""),
            "empty file; expected a header with columns `lr` and `loss`"
        );
        assert_eq!(
            e("step,lr,smoothed_loss\n0,1e-3,2\n"),
            "no `loss` column (the header is `step,lr,smoothed_loss`); expected columns `lr` and `loss`"
        );
        assert_eq!(
            e("step,lr,loss\n0,1e-3,2.1\n1,2e-3,abc\n"),
            "line 3: `loss` is `abc`, not a number"
        );
        assert_eq!(
            e("step,lr,loss\n0,1e-3,2.1\n1,2e-3\n"),
            "line 3: no `loss` cell (2 cells, the header has 3)"
        );
        assert_eq!(
            e("lr,loss\n0,2.1\n"),
            "line 2: `lr` is `0`; a range test's lr must be finite and > 0"
        );
        assert_eq!(
            e("lr,loss\n1e-3,2\n2e-3,1.9\n"),
            "2 rows; the range test needs between 6 and 10000"
        );
        let long: String = (0..=MAX_POINTS)
            .map(|i| format!("{},1\n", 1e-6 + i as f32))
            .collect();
        assert_eq!(
            e(&format!("lr,loss\n{long}")),
            "10001 rows; the range test needs between 6 and 10000"
        );
        for m in [e("x"), e("lr,loss\n1e-3,\"2\nx\"")] {
            assert!(!m.contains('\n'), "{m}");
        }
    }
}
