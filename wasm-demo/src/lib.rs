//! The browser's view of `sched-core`: a thin `wasm-bindgen` layer for the static page in `www/`.
//!
//! Everything the page computes goes through [`group_curve_values`] (one group for the page's
//! curves, several for the golden page's param-group cases), the same loop as the golden suite
//! (`sched_core::Curve`), so the numbers on screen are the trainer's and the firmware's. Errors
//! are the CLI's text: serde's (with the path of the bad value, from sched-core) for a spec that
//! does not parse, `sched_core::Error`'s for one that does not build, `sched_core::CurveError`'s
//! (`scheduler step after optimizer step N: ...`) for one that fails while stepping;
//! `host-train curve` prints the same after `error: ` (and `--schedule: ` for a spec that does
//! not parse), which `host-train/tests/curve_cli.rs` checks. The golden page judges its results
//! with sched-core's own metric ([`golden_worst`]).
//!
//! The LR finder view and the golden page's range-test check go through [`lr_find_csv`] and
//! [`lr_find_sweep`] (`sched_core::LrFinder`, see the `lr_find` module): a recorded
//! `lr_find.csv` is analysed as `host-train lr-find suggest` analyses it.
//!
//! The form is generated from `sched_core::Spec::PARAMS`, sched-core's table of every kind's
//! parameters, types and defaults (its own tests check the table against serde).

use sched_core::schema::{Param, ParamType};
use sched_core::{Curve, GroupScheduler, Spec};
use wasm_bindgen::prelude::*;

/// Every kind's parameters, as sched-core declares them.
const PARAMS: &[(&str, &[Param])] = Spec::PARAMS;

mod lr_find;
pub use lr_find::{
    analyse_csv, lr_find_csv, lr_find_sweep, parse_csv, sweep, CsvCurve, LrFind, MAX_POINTS,
};

/// Appends `s` as a JSON string.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `PARAMS` as JSON for the page: `{"kinds": [...], "params": {kind: [{name, type, help,
/// options?, default? | required, example?}]}}`. Written by hand (the defaults are JSON text
/// already) so that the wasm carries no `serde_json::Value`.
pub fn params_json() -> String {
    let string = json_string;
    let mut out = String::from("{\"kinds\":[");
    for (i, kind) in Spec::KINDS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, kind);
    }
    out.push_str("],\"params\":{");
    for (i, (kind, params)) in PARAMS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, kind);
        out.push_str(":[");
        for (j, p) in params.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            string(&mut out, p.name);
            out.push_str(",\"type\":");
            string(&mut out, p.ty.name());
            out.push_str(",\"help\":");
            string(&mut out, p.help);
            let options = match p.ty {
                ParamType::Choice(options) => options,
                _ => &[],
            };
            if !options.is_empty() {
                out.push_str(",\"options\":[");
                for (k, o) in options.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    string(&mut out, o);
                }
                out.push(']');
            }
            match p.default {
                Some(d) => {
                    out.push_str(",\"default\":");
                    // Writing to a String cannot fail.
                    let _ = d.write_json(options, &mut out);
                }
                None => out.push_str(",\"required\":true"),
            }
            if let Some(e) = p.example {
                out.push_str(",\"example\":");
                out.push_str(e);
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push_str("}}");
    out
}

/// The study's 14 runs from `host-train/presets/tutorial.toml`, as JSON.
pub const PRESETS: &str = include_str!(concat!(env!("OUT_DIR"), "/presets.json"));

/// The lr and momentum for optimizer steps `0..steps`, `scheduler.step()` after every
/// `step_every`-th optimizer step (ReduceLROnPlateau: on the next of `metrics`), exactly as the
/// golden suite runs a case. Output: `steps` lrs followed by `steps` momenta.
pub fn curve_values(
    spec_json: &str,
    lr: f32,
    momentum: f32,
    steps: u32,
    step_every: u32,
    metrics: &[f32],
) -> Result<Vec<f32>, String> {
    group_curve_values(spec_json, &[lr], &[momentum], steps, step_every, metrics)
}

/// Most param groups the page computes (as `host-train curve --lr`).
const MAX_GROUPS: usize = 8;

/// [`curve_values`] over param groups, one per lr in `lrs` (`momenta`: one, or one per group),
/// the spec's per-group arguments given as lists as `Spec::for_groups` reads them. Output: for
/// each group, `steps` lrs and then `steps` momenta.
pub fn group_curve_values(
    spec_json: &str,
    lrs: &[f32],
    momenta: &[f32],
    steps: u32,
    step_every: u32,
    metrics: &[f32],
) -> Result<Vec<f32>, String> {
    // A schedule of the run's progress (fastai's) that leaves out its length runs over the
    // curve's scheduler steps, as in `host-train curve`.
    let length = steps.div_ceil(step_every.max(1));
    let mut reader = serde_json::Deserializer::from_str(spec_json);
    let specs: Vec<Spec> = Spec::for_groups(&mut reader, lrs.len())
        .and_then(|specs| reader.end().map(|()| specs))
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|spec| spec.with_total_steps(length))
        .collect();
    let scheduler =
        GroupScheduler::<MAX_GROUPS>::new(&specs, lrs, momenta).map_err(|e| e.to_string())?;
    let steps = steps as usize;
    let mut out = vec![0.0f32; 2 * steps * lrs.len()];
    for (i, value) in Curve::new(scheduler, step_every, metrics)
        .take(steps)
        .enumerate()
    {
        // sched_core::CurveError's text, which `host-train curve` prints too.
        let values = value.map_err(|e| e.to_string())?;
        for (g, (l, m)) in values.iter().enumerate() {
            out[2 * g * steps + i] = *l;
            out[(2 * g + 1) * steps + i] = *m;
        }
    }
    Ok(out)
}

/// The golden metric (`sched_core::golden::worst`) for the golden page: the worst error of
/// `actual` against PyTorch's `expected`, skipping the steps in `skip` (known reference bugs),
/// as `[error, step, expected, actual]`.
#[wasm_bindgen]
pub fn golden_worst(expected: Vec<f64>, actual: Vec<f32>, skip: Vec<u32>) -> Vec<f64> {
    let skip: Vec<usize> = skip.into_iter().map(|s| s as usize).collect();
    let w = sched_core::golden::worst(&expected, &actual, &skip);
    vec![w.error, w.step as f64, w.expected, w.actual]
}

/// The bar of the golden metric (`sched_core::golden::BAR`).
#[wasm_bindgen]
pub fn golden_bar() -> f64 {
    sched_core::golden::BAR
}

/// Every kind, PyTorch's first (JSON list).
#[wasm_bindgen]
pub fn kinds() -> String {
    serde_json::to_string(Spec::KINDS).unwrap_or_default()
}

/// The form's table: every kind's parameters with PyTorch's defaults (JSON, see [`params_json`]).
#[wasm_bindgen]
pub fn params() -> String {
    params_json()
}

/// The study's presets (JSON: `{epochs, batches_per_epoch, runs: [{name, lr, momentum, step, schedule}]}`).
#[wasm_bindgen]
pub fn presets() -> String {
    PRESETS.to_string()
}

/// See [`curve_values`]; the result is a `Float32Array` of `2 * steps` values (lrs, then momenta).
#[wasm_bindgen]
pub fn curve(
    spec_json: &str,
    lr: f32,
    momentum: f32,
    steps: u32,
    step_every: u32,
    metrics: Vec<f32>,
) -> Result<Vec<f32>, JsValue> {
    curve_values(spec_json, lr, momentum, steps, step_every, &metrics)
        .map_err(|e| JsValue::from_str(&e))
}

/// See [`group_curve_values`]; a `Float32Array` of `2 * steps` values per group.
#[wasm_bindgen]
pub fn group_curve(
    spec_json: &str,
    lrs: Vec<f32>,
    momenta: Vec<f32>,
    steps: u32,
    step_every: u32,
    metrics: Vec<f32>,
) -> Result<Vec<f32>, JsValue> {
    group_curve_values(spec_json, &lrs, &momenta, steps, step_every, &metrics)
        .map_err(|e| JsValue::from_str(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn params_json_is_complete() {
        let v: Value = serde_json::from_str(&params_json()).unwrap();
        assert_eq!(v["kinds"].as_array().unwrap().len(), Spec::KINDS.len());
        assert_eq!(v["params"]["StepLR"][1]["default"], json!(0.1));
        assert_eq!(v["params"]["StepLR"][0]["required"], json!(true));
        assert_eq!(
            v["params"]["CyclicLR"][4]["options"],
            json!(["triangular", "triangular2", "exp_range"])
        );
        assert_eq!(
            v["params"]["OneCycleLR"][1],
            json!({"name": "total_steps", "type": "opt_int", "help": "steps in the cycle (or epochs x steps_per_epoch)", "default": null, "example": 100})
        );
        assert_eq!(
            v["params"]["LambdaLR"][0]["help"],
            json!("factor of the initial lr; Python lambda body in `epoch`")
        );
        for (kind, params) in PARAMS {
            for (p, j) in params.iter().zip(v["params"][kind].as_array().unwrap()) {
                // sched-core's tests check the defaults themselves; here, that each is written.
                assert_eq!(
                    j.get("default").is_some(),
                    p.default.is_some(),
                    "{kind}.{}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn presets_are_the_studys_14_runs_and_build() {
        let v: Value = serde_json::from_str(PRESETS).unwrap();
        assert_eq!(v["epochs"], 15);
        assert_eq!(v["batches_per_epoch"], 469);
        let runs = v["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 14);
        for r in runs {
            let spec: Spec = serde_json::from_value(r["schedule"].clone()).unwrap();
            sched_core::Scheduler::from_spec(&spec, r["lr"].as_f64().unwrap() as f32, 0.0).unwrap();
        }
    }

    #[test]
    fn errors_are_the_cli_messages() {
        let e =
            curve_values(r#"{"kind":"StepLR","step_size":0}"#, 0.1, 0.0, 5, 1, &[]).unwrap_err();
        assert_eq!(e, "StepLR: `step_size` must be >= 1");
        let e =
            curve_values(r#"{"kind":"StepLR","step_sise":2}"#, 0.1, 0.0, 5, 1, &[]).unwrap_err();
        assert!(e.starts_with("unknown field `step_sise`, expected"), "{e}");
        let e = curve_values(
            r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":3}"#,
            0.1,
            0.0,
            10,
            1,
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("scheduler step after optimizer step 3: OneCycleLR: stepped past"),
            "{e}"
        );
        let e =
            curve_values(r#"{"kind":"ReduceLROnPlateau"}"#, 0.1, 0.0, 10, 1, &[1.0]).unwrap_err();
        assert_eq!(
            e,
            "scheduler step after optimizer step 1: ReduceLROnPlateau needs metric 2 but 1 were given (one per scheduler step)"
        );
        // A spec that does not parse names the path of the bad value.
        let e = curve_values(
            r#"{"kind":"SequentialLR","milestones":[2],"schedulers":[{"kind":"StepLR","step_size":1},{"kind":"CyclicLR","base_lr":0.1,"max_lr":1,"mode":"zigzag"}]}"#,
            0.1,
            0.0,
            5,
            1,
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("schedulers[1].mode: unknown variant `zigzag`, expected one of `triangular`, `triangular2`, `exp_range`"),
            "{e}"
        );
    }

    #[test]
    fn curve_layout() {
        let v = curve_values(
            r#"{"kind":"StepLR","step_size":2,"gamma":0.5}"#,
            1.0,
            0.9,
            3,
            1,
            &[],
        )
        .unwrap();
        assert_eq!(v, [1.0, 1.0, 0.5, 0.9, 0.9, 0.9]);
    }
}
