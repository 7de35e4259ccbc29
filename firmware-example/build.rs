//! Build-time generation, all on the host:
//!
//! 1. `data.rs`: a few hundred Fashion-MNIST images (Debian package `dataset-fashion-mnist`,
//!    or `$FASHION_MNIST_DIR`) reduced to 7x7 average-pooled features (49 x u8), plus a starting
//!    point for the classifier head (nearest-centroid weights from a separate slice of images).
//! 2. `golden.rs`: every PyTorch golden case in `../tests/golden/cases` as a compact `const`
//!    table (expected values as f32 at all steps, or at 200 evenly spaced steps for long cases)
//!    plus Rust constructor code for its schedule (no serde, no allocation on the device). The
//!    code comes from sched-core itself (a build-dependency with `serde`): each case's spec is
//!    read into the typed `Spec` and written back with `Spec::write_rust`, so this file knows
//!    nothing of the kinds, their parameters or their defaults.
//! 3. `lr_find.rs`: every fastai/Lightning LR range test case in `../tests/golden/lr_find/cases`
//!    as a `const` table (the range test's arguments, the raw losses to feed, fastai's lrs and
//!    smoothed losses as f32, and each rule's suggested point), checked on the device exactly as
//!    `sched-core/tests/lr_finder.rs` checks it on the host.
//! 4. `memory.x` copied to OUT_DIR for the linker (the cortex-m-rt template's way).

use serde_json::Value;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Sampled steps per long case (cases with at most `FULL` steps are checked at every step).
const SAMPLES: usize = 200;
const FULL: usize = 256;

/// Training / evaluation / head-initialisation slices (disjoint).
const N_TRAIN: usize = 512;
const N_EVAL: usize = 256;
const N_INIT: usize = 100; // train-images[N_TRAIN .. N_TRAIN + N_INIT]
const POOL: usize = 4; // 28x28 -> 7x7
const FEATURES: usize = 49;
const CLASSES: usize = 10;

/// Steps where the reference is known wrong (`tests/golden/known_reference_bugs.json`, shared
/// with the host and browser checks).
fn known_reference_bugs(cases: &Path) -> Vec<(String, usize)> {
    let path = cases.join("../known_reference_bugs.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let bugs: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    bugs.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["case"].as_str().unwrap().to_string(),
                b["step"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    // memory.x for cortex-m-rt's link.x.
    fs::copy(manifest.join("memory.x"), out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");

    let cases = manifest.join("../tests/golden/cases");
    println!("cargo:rerun-if-changed={}", cases.display());
    fs::write(out.join("golden.rs"), golden(&cases)).unwrap();

    let lr_find_cases = manifest.join("../tests/golden/lr_find/cases");
    println!("cargo:rerun-if-changed={}", lr_find_cases.display());
    fs::write(out.join("lr_find.rs"), lr_find(&lr_find_cases)).unwrap();

    println!("cargo:rerun-if-env-changed=FASHION_MNIST_DIR");
    let dir = env::var("FASHION_MNIST_DIR")
        .unwrap_or_else(|_| "/usr/share/datasets/fashion-mnist".into());
    let dir = PathBuf::from(dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    fs::write(out.join("data.rs"), data(&dir)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST

fn gunzip(path: &Path) -> Vec<u8> {
    let file = fs::File::open(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nFashion-MNIST is needed at build time: `apt-get install dataset-fashion-mnist` \
             (Debian), or set FASHION_MNIST_DIR to a folder with the four *-ubyte.gz files",
            path.display()
        )
    });
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// (7x7 average-pooled images as u8, labels).
fn load(dir: &Path, prefix: &str, range: std::ops::Range<usize>) -> (Vec<[u8; FEATURES]>, Vec<u8>) {
    let images = gunzip(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")));
    let labels = gunzip(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")));
    assert_eq!(be32(&images, 0), 2051, "bad image file magic");
    assert_eq!(be32(&labels, 0), 2049, "bad label file magic");
    assert!(be32(&images, 4) >= range.end && be32(&images, 8) == 28 && be32(&images, 12) == 28);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in range {
        let img = &images[16 + i * 784..16 + (i + 1) * 784];
        let mut f = [0u8; FEATURES];
        for (k, v) in f.iter_mut().enumerate() {
            let (r, c) = (k / 7, k % 7);
            let mut sum = 0u32;
            for dr in 0..POOL {
                for dc in 0..POOL {
                    sum += u32::from(img[(r * POOL + dr) * 28 + c * POOL + dc]);
                }
            }
            *v = ((sum + 8) / 16) as u8;
        }
        xs.push(f);
        ys.push(labels[8 + i]);
    }
    (xs, ys)
}

fn data(dir: &Path) -> String {
    let (train_x, train_y) = load(dir, "train", 0..N_TRAIN);
    let (init_x, init_y) = load(dir, "train", N_TRAIN..N_TRAIN + N_INIT);
    let (eval_x, eval_y) = load(dir, "t10k", 0..N_EVAL);

    // Starting point: a nearest-centroid classifier written as a linear head,
    // w_c = mu_c, b_c = -|mu_c|^2 / 2 (features scaled to [0, 1]), from a separate slice.
    let mut mu = [[0f64; FEATURES]; CLASSES];
    let mut count = [0usize; CLASSES];
    for (x, &y) in init_x.iter().zip(&init_y) {
        count[y as usize] += 1;
        for (m, &v) in mu[y as usize].iter_mut().zip(x) {
            *m += f64::from(v) / 255.0;
        }
    }
    let mut s = String::from("// @generated by build.rs from Fashion-MNIST\n");
    let _ = writeln!(
        s,
        "pub const FEATURES: usize = {FEATURES};\npub const CLASSES: usize = {CLASSES};"
    );
    let _ = writeln!(s, "/// Head weights at the starting point (nearest-centroid on {N_INIT} other training images).");
    let _ = writeln!(s, "pub static INIT_W: [[f32; FEATURES]; CLASSES] = [");
    let mut bias = Vec::new();
    for c in 0..CLASSES {
        let n = count[c].max(1) as f64;
        let row: Vec<f64> = mu[c].iter().map(|m| m / n).collect();
        bias.push(-0.5 * row.iter().map(|v| v * v).sum::<f64>());
        let _ = writeln!(
            s,
            "  [{}],",
            row.iter()
                .map(|v| format!("{:?}", *v as f32))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        s,
        "];\npub static INIT_B: [f32; CLASSES] = [{}];",
        bias.iter()
            .map(|v| format!("{:?}", *v as f32))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, xs, ys, what) in [
        ("TRAIN", &train_x, &train_y, "train-images[0..512]"),
        ("EVAL", &eval_x, &eval_y, "t10k-images[0..256]"),
    ] {
        let _ = writeln!(s, "/// {what}, 7x7 average-pooled.");
        let _ = writeln!(s, "pub static {name}_X: [[u8; FEATURES]; {}] = [", xs.len());
        for x in xs.iter() {
            let _ = writeln!(s, "  {x:?},");
        }
        let _ = writeln!(s, "];\npub static {name}_Y: [u8; {}] = {ys:?};", ys.len());
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Golden cases

fn f32_lit(v: &Value) -> String {
    // serde_json reads an f32 field as f64 then `as f32`; do the same in const context.
    format!("({:?}_f64 as f32)", v.as_f64().expect("number"))
}

fn f32s(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{:?}", *v as f32)).collect();
    format!("&[{}]", items.join(", "))
}

/// The `*.json` case files in `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn golden(dir: &Path) -> String {
    let files = json_files(dir);
    let known_bugs = known_reference_bugs(dir);
    let mut builders = String::new();
    let mut table = String::new();
    let mut values = 0usize;
    // Without the `expr` feature, cases whose schedule is an expression are left out (counted),
    // and so are the cases of a library family whose feature is off.
    let expr = env::var_os("CARGO_FEATURE_EXPR").is_some();
    let (mut kept, mut need_expr) = (0usize, 0usize);
    let mut left_out = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let case: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let name = case["name"].as_str().unwrap();
        let off =
            |lib: &str| env::var_os(format!("CARGO_FEATURE_{}", lib.to_uppercase())).is_none();
        if library(&case["spec"]).is_some_and(off) {
            left_out.push(name.to_string());
            continue;
        }
        if !expr && uses_expr(&case["spec"]) {
            need_expr += 1;
            left_out.push(name.to_string());
            continue;
        }
        kept += 1;
        let steps = case["steps"].as_u64().unwrap() as usize;
        let lrs: Vec<f64> = case["lr_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let moms: Vec<f64> = case["momentum_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!((lrs.len(), moms.len()), (steps, steps), "{name}");
        // The scale of sched_core::golden's metric: max |expected| over the whole case.
        let scale = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let sample: Vec<usize> = if steps <= FULL {
            (0..steps).collect()
        } else {
            // Evenly spaced, first and last included; strictly increasing since steps > SAMPLES.
            (0..SAMPLES)
                .map(|k| k * (steps - 1) / (SAMPLES - 1))
                .collect()
        };
        let skip: Vec<usize> = known_bugs
            .iter()
            .filter(|b| b.0 == name)
            .map(|b| b.1)
            .collect();
        let sample: Vec<usize> = sample.into_iter().filter(|s| !skip.contains(s)).collect();
        let pick = |v: &[f64]| sample.iter().map(|&s| v[s]).collect::<Vec<f64>>();
        let (lr_s, m_s) = (pick(&lrs), pick(&moms));
        let constant_m = m_s.iter().all(|m| *m == m_s[0]);
        let m_field = if constant_m {
            format!("Momenta::Constant({:?})", m_s[0] as f32)
        } else {
            format!("Momenta::Each({})", f32s(&m_s))
        };
        values += lr_s.len() + if constant_m { 1 } else { m_s.len() };
        let steps_field = if sample.len() == steps {
            "Steps::All".to_string()
        } else {
            format!(
                "Steps::Sampled(&{:?})",
                sample.iter().map(|&s| s as u32).collect::<Vec<_>>()
            )
        };
        let metrics = match case.get("metrics").filter(|m| !m.is_null()) {
            Some(m) => f32s(
                &m.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect::<Vec<_>>(),
            ),
            None => "&[]".into(),
        };
        // The typed spec, read by sched-core's own serde reader (omitted arguments get its
        // defaults), written back as constructor code by sched-core.
        let typed: sched_core::Spec =
            serde_json::from_value(case["spec"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut code = String::new();
        typed
            .write_rust(&mut code)
            .unwrap_or_else(|_| panic!("{name}: the spec has no Rust form"));
        let _ = writeln!(
            builders,
            "fn spec_{i}() -> Result<Spec, Error> {{ Ok({code}) }}"
        );
        let _ = writeln!(
            table,
            "    GoldenCase {{ name: {name:?}, spec: spec_{i}, lr: {}, momentum: {}, steps: {steps}, step_every: {}, \
             metrics: {metrics}, lr_scale: {:?}, momentum_scale: {:?}, checked: {steps_field}, lr_values: {}, momentum_values: {m_field} }},",
            f32_lit(&case["lr"]),
            f32_lit(&case["momentum"]),
            case["step_every"].as_u64().unwrap(),
            scale(&lrs),
            scale(&moms),
            f32s(&lr_s),
        );
    }
    format!(
        "// @generated by build.rs from tests/golden/cases/*.json ({kept} cases, {values} f32 expected values)\n\
         {builders}\npub static CASES: [GoldenCase; {kept}] = [\n{table}];\n\
         /// Golden cases left out because their schedule is an expression and the `expr` feature is off.\n\
         pub const NEED_EXPR: usize = {need_expr};\n\
         /// The golden cases left out (an expression without `expr`, or a library family whose feature is off).\n\
         pub const LEFT_OUT: &[&str] = &{left_out:?};\n",
    )
}

/// The library family (`optax`) of a spec's kind (`optax.sgdr_schedule`), if it is one.
fn library(spec: &Value) -> Option<&str> {
    spec["kind"].as_str()?.split_once('.').map(|(lib, _)| lib)
}

/// Whether a spec (or a child) has an `lr_lambda` or `scale_fn` expression.
fn uses_expr(spec: &Value) -> bool {
    match spec {
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| ((k == "lr_lambda" || k == "scale_fn") && v.is_string()) || uses_expr(v)),
        Value::Array(a) => a.iter().any(uses_expr),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// LR range test golden cases (fastai 2.8 `Learner.lr_find`, Lightning's `suggestion`)

/// A number of a case file: non-finite ones are the strings "NaN", "inf", "-inf".
fn lr_find_num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().expect("a number"),
    }
}

/// An f32 literal, non-finite values included.
fn f32_code(v: f32) -> String {
    if v.is_nan() {
        "f32::NAN".into()
    } else if v == f32::INFINITY {
        "f32::INFINITY".into()
    } else if v == f32::NEG_INFINITY {
        "f32::NEG_INFINITY".into()
    } else {
        format!("{v:?}")
    }
}

fn f32_slice(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|&v| f32_code(v)).collect();
    format!("&[{}]", items.join(", "))
}

fn lr_find(dir: &Path) -> String {
    let files = json_files(dir);
    assert!(
        !files.is_empty(),
        "no LR range test cases in {}",
        dir.display()
    );
    let mut table = String::new();
    let mut capacity = 0u64;
    let mut values = 0usize;
    for path in &files {
        let case: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // As sched-core/tests/lr_finder.rs reads them: every number `as f32`.
        let f32s_of = |v: &Value| -> Vec<f32> {
            v.as_array()
                .unwrap_or_else(|| panic!("{name}: not an array"))
                .iter()
                .map(|x| lr_find_num(x) as f32)
                .collect()
        };
        let expected = &case["expected"];
        // fastai's smoothed losses are f32 tensors: storing them as f32 loses nothing.
        for v in expected["smoothed"].as_array().unwrap() {
            let x = lr_find_num(v);
            assert!(
                x.is_nan() || f64::from(x as f32) == x,
                "{name}: smoothed loss {x} is not an f32"
            );
        }
        let (losses, lrs, smoothed) = (
            f32s_of(&case["losses"]),
            f32s_of(&expected["lrs"]),
            f32s_of(&expected["smoothed"]),
        );
        values += losses.len() + lrs.len() + smoothed.len();
        let num_iter = case["num_iter"].as_u64().unwrap();
        capacity = capacity.max(num_iter);
        let mode = match case["mode"].as_str().unwrap() {
            "linear" => "SweepMode::Linear",
            "exponential" => "SweepMode::Exponential",
            m => panic!("{name}: unknown mode {m}"),
        };
        let suggestions: Vec<String> = sched_core::Suggestion::ALL
            .iter()
            .map(|rule| match &expected["suggestions"][rule.name()] {
                Value::Null => "None".to_string(),
                Value::Object(r) => format!(
                    "Some(Point {{ index: {}, lr: {} }})",
                    r["index"].as_u64().unwrap(),
                    f32_code(r["lr"].as_f64().unwrap() as f32)
                ),
                other => panic!("{name}: suggestion {rule}: {other}"),
            })
            .collect();
        let _ = writeln!(
            table,
            "    LrFindCase {{ name: {name:?}, start_lr: {:?}, end_lr: {:?}, num_iter: {num_iter}, mode: {mode}, \
             stop_div: {}, losses: {}, lrs: {}, smoothed: {}, suggestions: [{}] }},",
            case["start_lr"].as_f64().unwrap(),
            case["end_lr"].as_f64().unwrap(),
            case["stop_div"].as_bool().unwrap(),
            f32_slice(&losses),
            f32_slice(&lrs),
            f32_slice(&smoothed),
            suggestions.join(", "),
        );
    }
    format!(
        "// @generated by build.rs from tests/golden/lr_find/cases/*.json ({} cases, {values} f32 values)\n\
         /// The largest `num_iter` of the cases: the finder's capacity.\n\
         pub const CAPACITY: usize = {capacity};\n\
         pub static CASES: [LrFindCase; {}] = [\n{table}];\n",
        files.len(),
        files.len(),
    )
}
