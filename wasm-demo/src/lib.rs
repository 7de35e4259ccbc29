//! The browser's view of `sched-core`: a thin `wasm-bindgen` layer for the static page in `www/`.
//!
//! Everything the page computes goes through [`curve_values`], the same loop as the golden suite
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
//! [`PARAMS`] is the one table of every kind's parameters, types and PyTorch defaults that the
//! form is generated from; the tests check it against the defaults serde fills in.

use sched_core::{Curve, Scheduler, Spec};
use wasm_bindgen::prelude::*;

mod lr_find;
pub use lr_find::{
    analyse_csv, lr_find_csv, lr_find_sweep, parse_csv, sweep, CsvCurve, LrFind, MAX_POINTS,
};

/// How the form edits a parameter (and how its text becomes JSON).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ty {
    /// u32.
    Int,
    /// f32 or f64.
    Float,
    /// Checkbox.
    Bool,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// u32 or `null` (empty field).
    OptInt,
    /// List of u32, e.g. `2, 5, 9`.
    IntList,
    /// A Python lambda body (string).
    Expr,
    /// A Python lambda body or `null` (empty field).
    OptExpr,
    /// A JSON list of child specs.
    Specs,
    /// One JSON child spec.
    Spec,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Choice(_) => "choice",
            Ty::OptInt => "opt_int",
            Ty::IntList => "int_list",
            Ty::Expr => "expr",
            Ty::OptExpr => "opt_expr",
            Ty::Specs => "specs",
            Ty::Spec => "spec",
        }
    }
}

/// One constructor argument of a kind.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// PyTorch's argument name (the spec key).
    pub name: &'static str,
    /// How the form edits it.
    pub ty: Ty,
    /// PyTorch's default as JSON text; `None` when the argument is required.
    pub default: Option<&'static str>,
    /// The value the form starts with (JSON text): always for a required argument, and where
    /// the default alone does not build (OneCycleLR's `total_steps`).
    pub example: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
}

const fn opt(name: &'static str, ty: Ty, default: &'static str, help: &'static str) -> Param {
    Param {
        name,
        ty,
        default: Some(default),
        example: None,
        help,
    }
}

const fn opt_ex(
    name: &'static str,
    ty: Ty,
    default: &'static str,
    example: &'static str,
    help: &'static str,
) -> Param {
    Param {
        name,
        ty,
        default: Some(default),
        example: Some(example),
        help,
    }
}

const fn req(name: &'static str, ty: Ty, example: &'static str, help: &'static str) -> Param {
    Param {
        name,
        ty,
        default: None,
        example: Some(example),
        help,
    }
}

const WSD: Ty = Ty::Choice(&["linear", "cosine", "1-sqrt"]);
const CHILDREN: &str = r#"[{"kind":"LinearLR","start_factor":0.1,"total_iters":5},{"kind":"CosineAnnealingLR","T_max":10}]"#;

/// Every kind's parameters, in `Spec::KINDS` order, with PyTorch's defaults.
pub const PARAMS: &[(&str, &[Param])] = &[
    (
        "LambdaLR",
        &[req(
            "lr_lambda",
            Ty::Expr,
            r#""0.95 ** epoch""#,
            "factor of the initial lr; Python lambda body in `epoch`",
        )],
    ),
    (
        "MultiplicativeLR",
        &[req(
            "lr_lambda",
            Ty::Expr,
            r#""0.95""#,
            "factor applied each step; Python lambda body in `epoch`",
        )],
    ),
    (
        "StepLR",
        &[
            req(
                "step_size",
                Ty::Int,
                "2",
                "period of decay, in scheduler steps",
            ),
            opt("gamma", Ty::Float, "0.1", "multiplicative decay"),
        ],
    ),
    (
        "MultiStepLR",
        &[
            req(
                "milestones",
                Ty::IntList,
                "[2,5,9]",
                "scheduler steps at which to decay",
            ),
            opt("gamma", Ty::Float, "0.1", "multiplicative decay"),
        ],
    ),
    (
        "ConstantLR",
        &[
            opt(
                "factor",
                Ty::Float,
                "0.3333333333333333",
                "factor until total_iters, in (0, 1]",
            ),
            opt(
                "total_iters",
                Ty::Int,
                "5",
                "steps before the lr returns to the base",
            ),
        ],
    ),
    (
        "LinearLR",
        &[
            opt(
                "start_factor",
                Ty::Float,
                "0.3333333333333333",
                "factor at step 0",
            ),
            opt("end_factor", Ty::Float, "1.0", "factor at total_iters"),
            opt("total_iters", Ty::Int, "5", "length of the ramp"),
        ],
    ),
    (
        "ExponentialLR",
        &[req(
            "gamma",
            Ty::Float,
            "0.95",
            "multiplicative decay per step",
        )],
    ),
    (
        "PolynomialLR",
        &[
            opt("total_iters", Ty::Int, "5", "steps to reach 0"),
            opt("power", Ty::Float, "1.0", "power of the polynomial"),
        ],
    ),
    (
        "CosineAnnealingLR",
        &[
            req("T_max", Ty::Int, "10", "half period, in scheduler steps"),
            opt("eta_min", Ty::Float, "0.0", "minimum lr"),
        ],
    ),
    (
        "CosineAnnealingWarmRestarts",
        &[
            req("T_0", Ty::Int, "3", "first restart period"),
            opt(
                "T_mult",
                Ty::Int,
                "1",
                "period multiplier after each restart",
            ),
            opt("eta_min", Ty::Float, "0.0", "minimum lr"),
        ],
    ),
    (
        "CyclicLR",
        &[
            req("base_lr", Ty::Float, "0.0001", "lower bound of the cycle"),
            req("max_lr", Ty::Float, "0.001", "upper bound of the cycle"),
            opt("step_size_up", Ty::Int, "2000", "steps rising"),
            opt(
                "step_size_down",
                Ty::OptInt,
                "null",
                "steps falling (empty: step_size_up)",
            ),
            opt(
                "mode",
                Ty::Choice(&["triangular", "triangular2", "exp_range"]),
                "\"triangular\"",
                "amplitude policy",
            ),
            opt("gamma", Ty::Float, "1.0", "exp_range decay"),
            opt(
                "scale_fn",
                Ty::OptExpr,
                "null",
                "custom amplitude, Python lambda body in `x` (overrides mode)",
            ),
            opt(
                "scale_mode",
                Ty::Choice(&["cycle", "iterations"]),
                "\"cycle\"",
                "what scale_fn's x counts",
            ),
            opt(
                "cycle_momentum",
                Ty::Bool,
                "true",
                "cycle the momentum inversely",
            ),
            opt("base_momentum", Ty::Float, "0.8", "lower momentum bound"),
            opt("max_momentum", Ty::Float, "0.9", "upper momentum bound"),
        ],
    ),
    (
        "OneCycleLR",
        &[
            req("max_lr", Ty::Float, "0.001", "peak lr"),
            opt_ex(
                "total_steps",
                Ty::OptInt,
                "null",
                "100",
                "steps in the cycle (or epochs x steps_per_epoch)",
            ),
            opt("epochs", Ty::OptInt, "null", "with steps_per_epoch"),
            opt("steps_per_epoch", Ty::OptInt, "null", "with epochs"),
            opt(
                "pct_start",
                Ty::Float,
                "0.3",
                "fraction of the cycle rising",
            ),
            opt(
                "anneal_strategy",
                Ty::Choice(&["cos", "linear"]),
                "\"cos\"",
                "annealing shape",
            ),
            opt(
                "cycle_momentum",
                Ty::Bool,
                "true",
                "cycle the momentum inversely",
            ),
            opt("base_momentum", Ty::Float, "0.85", "lower momentum bound"),
            opt("max_momentum", Ty::Float, "0.95", "upper momentum bound"),
            opt(
                "div_factor",
                Ty::Float,
                "25.0",
                "initial_lr = max_lr / div_factor",
            ),
            opt(
                "final_div_factor",
                Ty::Float,
                "10000.0",
                "min_lr = initial_lr / final_div_factor",
            ),
            opt("three_phase", Ty::Bool, "false", "fast.ai's three phases"),
        ],
    ),
    (
        "ReduceLROnPlateau",
        &[
            opt(
                "mode",
                Ty::Choice(&["min", "max"]),
                "\"min\"",
                "minimize or maximize the metric",
            ),
            opt("factor", Ty::Float, "0.1", "new_lr = lr * factor"),
            opt("patience", Ty::Int, "10", "bad steps tolerated"),
            opt("threshold", Ty::Float, "0.0001", "significant change"),
            opt(
                "threshold_mode",
                Ty::Choice(&["rel", "abs"]),
                "\"rel\"",
                "relative or absolute threshold",
            ),
            opt("cooldown", Ty::Int, "0", "steps to wait after a reduction"),
            opt("min_lr", Ty::Float, "0.0", "lower bound"),
            opt("eps", Ty::Float, "1e-8", "smaller updates are ignored"),
        ],
    ),
    (
        "WarmupStableDecayLR",
        &[
            req("num_warmup_steps", Ty::Int, "100", "warmup length"),
            req("num_stable_steps", Ty::Int, "500", "constant phase length"),
            req("num_decay_steps", Ty::Int, "400", "decay length"),
            opt("warmup_type", WSD, "\"linear\"", "warmup shape"),
            opt("decay_type", WSD, "\"cosine\"", "decay shape"),
            opt("min_lr_ratio", Ty::Float, "0.0", "final lr / base lr"),
            opt("num_cycles", Ty::Float, "0.5", "cosine decay cycles"),
        ],
    ),
    (
        "InverseSqrtLR",
        &[
            req("num_warmup_steps", Ty::Int, "100", "warmup length"),
            opt(
                "timescale",
                Ty::OptInt,
                "null",
                "decay timescale (empty: num_warmup_steps, or 10000)",
            ),
        ],
    ),
    (
        "TimmCosineLR",
        &[
            req("t_initial", Ty::Int, "100", "first cycle length"),
            opt("lr_min", Ty::Float, "0.0", "minimum lr"),
            opt("cycle_mul", Ty::Int, "1", "cycle length multiplier"),
            opt("cycle_decay", Ty::Float, "1.0", "peak decay per cycle"),
            opt("cycle_limit", Ty::Int, "1", "number of cycles"),
            opt("k_decay", Ty::Float, "1.0", "k-decay exponent"),
        ],
    ),
    (
        "TimmTanhLR",
        &[
            req("t_initial", Ty::Int, "100", "first cycle length"),
            opt("lb", Ty::Float, "-7.0", "tanh lower bound"),
            opt("ub", Ty::Float, "3.0", "tanh upper bound"),
            opt("lr_min", Ty::Float, "0.0", "minimum lr"),
            opt("cycle_mul", Ty::Int, "1", "cycle length multiplier"),
            opt("cycle_decay", Ty::Float, "1.0", "peak decay per cycle"),
            opt("cycle_limit", Ty::Int, "1", "number of cycles"),
        ],
    ),
    (
        "SequentialLR",
        &[
            req(
                "schedulers",
                Ty::Specs,
                CHILDREN,
                "child specs (JSON list), run one after another",
            ),
            req(
                "milestones",
                Ty::IntList,
                "[5]",
                "steps at which the next child starts",
            ),
        ],
    ),
    (
        "ChainedScheduler",
        &[req(
            "schedulers",
            Ty::Specs,
            CHILDREN,
            "child specs (JSON list), all stepped every step",
        )],
    ),
    (
        "SwitchLR",
        &[
            req(
                "schedulers",
                Ty::Specs,
                CHILDREN,
                "child specs (JSON list), one stepped at a time",
            ),
            req(
                "milestones",
                Ty::IntList,
                "[5]",
                "steps at which the next child takes over",
            ),
        ],
    ),
    (
        "WarmupLR",
        &[
            req("warmup_steps", Ty::Int, "5", "warmup length"),
            opt(
                "warmup",
                Ty::Choice(&["linear", "cos"]),
                "\"linear\"",
                "ramp shape",
            ),
            opt(
                "start_factor",
                Ty::Float,
                "0.0",
                "factor at step 0, in [0, 1]",
            ),
            req(
                "schedule",
                Ty::Spec,
                r#"{"kind":"CosineAnnealingLR","T_max":10}"#,
                "the schedule after the warmup (JSON spec)",
            ),
        ],
    ),
    ("Fixed", &[]),
];

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
            if let Ty::Choice(options) = p.ty {
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
                    out.push_str(d);
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

/// Parses a spec as the CLI does (`serde_json`), with its message on error.
pub fn parse_spec(spec_json: &str) -> Result<Spec, String> {
    serde_json::from_str(spec_json).map_err(|e| e.to_string())
}

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
    let spec = parse_spec(spec_json)?;
    let scheduler = Scheduler::from_spec(&spec, lr, momentum).map_err(|e| e.to_string())?;
    let steps = steps as usize;
    let mut out = vec![0.0f32; 2 * steps];
    let (lrs, momenta) = out.split_at_mut(steps);
    for (i, value) in Curve::new(scheduler, step_every, metrics)
        .take(steps)
        .enumerate()
    {
        // sched_core::CurveError's text, which `host-train curve` prints too.
        let (l, m) = value.map_err(|e| e.to_string())?;
        lrs[i] = l;
        momenta[i] = m;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn required_only(kind: &str, params: &[Param]) -> Value {
        with_examples(kind, params, false)
    }

    /// The spec the form starts with (`all`) or only its required parameters.
    fn with_examples(kind: &str, params: &[Param], all: bool) -> Value {
        let mut o = json!({ "kind": kind });
        for p in params
            .iter()
            .filter(|p| p.default.is_none() || (all && p.example.is_some()))
        {
            o[p.name] = serde_json::from_str(p.example.unwrap()).unwrap();
        }
        o
    }

    fn same(table: &Value, core: &Value) -> bool {
        match (table, core) {
            // f32 defaults come back widened to f64: compare as f32.
            (Value::Number(a), Value::Number(b)) => {
                a.as_f64().unwrap() as f32 == b.as_f64().unwrap() as f32
            }
            _ => table == core,
        }
    }

    #[test]
    fn table_lists_every_kind_in_order() {
        let table: Vec<&str> = PARAMS.iter().map(|(k, _)| *k).collect();
        assert_eq!(table, Spec::KINDS);
    }

    /// The table's parameter names and defaults are the core's: a spec with only the required
    /// parameters, read back through serde, has exactly the table's keys and defaults.
    #[test]
    fn defaults_match_the_core() {
        for (kind, params) in PARAMS {
            let spec: Spec = serde_json::from_value(required_only(kind, params))
                .unwrap_or_else(|e| panic!("{kind}: required-only spec does not parse: {e}"));
            let back = serde_json::to_value(&spec).unwrap();
            let back = back.as_object().unwrap();
            let mut keys: Vec<&str> = back
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "kind")
                .collect();
            let mut names: Vec<&str> = params.iter().map(|p| p.name).collect();
            keys.sort();
            names.sort();
            assert_eq!(keys, names, "{kind}: parameter names");
            for p in params.iter() {
                if let Some(d) = p.default {
                    let d: Value = serde_json::from_str(d).unwrap();
                    assert!(
                        same(&d, &back[p.name]),
                        "{kind}.{}: table default {d}, core default {}",
                        p.name,
                        back[p.name]
                    );
                }
            }
        }
    }

    /// Required parameters really are required, and every choice is accepted.
    #[test]
    fn required_and_choices() {
        for (kind, params) in PARAMS {
            for p in params.iter() {
                assert!(
                    p.default.is_some() || p.example.is_some(),
                    "{kind}.{}: required without example",
                    p.name
                );
            }
            let full = with_examples(kind, params, true);
            for p in params.iter() {
                if p.default.is_none() {
                    let mut v = full.clone();
                    v.as_object_mut().unwrap().remove(p.name);
                    let err = serde_json::from_value::<Spec>(v).unwrap_err().to_string();
                    assert!(
                        err.contains(&format!("missing field `{}`", p.name)),
                        "{kind}.{}: {err}",
                        p.name
                    );
                }
                if let Ty::Choice(options) = p.ty {
                    for o in options {
                        let mut v = full.clone();
                        v[p.name] = json!(o);
                        serde_json::from_value::<Spec>(v)
                            .unwrap_or_else(|e| panic!("{kind}.{} = {o}: {e}", p.name));
                    }
                }
            }
            // The example builds.
            let spec: Spec = serde_json::from_value(full).unwrap();
            Scheduler::from_spec(&spec, 0.001, 0.0).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }

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
                if let Some(d) = p.default {
                    assert_eq!(j["default"], serde_json::from_str::<Value>(d).unwrap());
                }
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
            Scheduler::from_spec(&spec, r["lr"].as_f64().unwrap() as f32, 0.0).unwrap();
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
