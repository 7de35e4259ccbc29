//! Build-time generation, all on the host:
//!
//! 1. `data.rs`: a few hundred Fashion-MNIST images (Debian package `dataset-fashion-mnist`,
//!    or `$FASHION_MNIST_DIR`) reduced to 7x7 average-pooled features (49 x u8), plus a starting
//!    point for the classifier head (nearest-centroid weights from a separate slice of images).
//! 2. `golden.rs`: every PyTorch golden case in `../tests/golden/cases` as a compact `const`
//!    table (expected values as f32 at all steps, or at 200 evenly spaced steps for long cases)
//!    plus Rust constructor code for its schedule (no serde, no allocation on the device).
//! 3. `memory.x` copied to OUT_DIR for the linker (the cortex-m-rt template's way).

use serde_json::{Map, Value};
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

fn f64_lit(v: &Value) -> String {
    format!("{:?}_f64", v.as_f64().expect("number"))
}

fn u32_lit(v: &Value) -> String {
    format!("{}_u32", v.as_u64().expect("integer"))
}

struct Fields<'a> {
    kind: &'a str,
    obj: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }
    fn f32(&self, key: &str, default: &str) -> String {
        self.get(key).map_or(default.to_string(), f32_lit)
    }
    fn f64(&self, key: &str, default: &str) -> String {
        self.get(key).map_or(default.to_string(), f64_lit)
    }
    fn u32(&self, key: &str, default: &str) -> String {
        self.get(key).map_or(default.to_string(), u32_lit)
    }
    fn opt_u32(&self, key: &str) -> String {
        self.get(key)
            .map_or("None".to_string(), |v| format!("Some({})", u32_lit(v)))
    }
    fn bool(&self, key: &str, default: bool) -> String {
        self.get(key)
            .map_or(default, |v| v.as_bool().expect("bool"))
            .to_string()
    }
    fn str(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.as_str().expect("string"))
    }
    fn variant(&self, key: &str, ty: &str, default: &str, names: &[(&str, &str)]) -> String {
        let v = match self.str(key) {
            None => default,
            Some(s) => {
                names
                    .iter()
                    .find(|(j, _)| *j == s)
                    .unwrap_or_else(|| panic!("{}: {key} = {s}?", self.kind))
                    .1
            }
        };
        format!("{ty}::{v}")
    }
    /// Fails the build on a key this generator does not know, so a new key cannot be ignored.
    fn only(&self, keys: &[&str]) {
        for k in self.obj.keys() {
            assert!(
                k == "kind" || keys.contains(&k.as_str()),
                "{}: unknown key {k}: teach build.rs",
                self.kind
            );
        }
    }
}

fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// Rust expression of type `LeafSpec` (in a fn returning `Result<_, Error>`).
fn leaf(obj: &Map<String, Value>) -> String {
    let kind = obj["kind"].as_str().unwrap();
    let f = Fields { kind, obj };
    let body = match kind {
        "StepLR" => {
            f.only(&["step_size", "gamma"]);
            format!(
                "StepLR {{ step_size: {}, gamma: {} }}",
                f.u32("step_size", "MISSING"),
                f.f64("gamma", "0.1_f64")
            )
        }
        "MultiStepLR" => {
            f.only(&["milestones", "gamma"]);
            let ms: Vec<String> = obj["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .map(u32_lit)
                .collect();
            format!(
                "MultiStepLR::new(&[{}], {})?",
                ms.join(", "),
                f.f64("gamma", "0.1_f64")
            )
        }
        "ConstantLR" => {
            f.only(&["factor", "total_iters"]);
            format!(
                "ConstantLR {{ factor: {}, total_iters: {} }}",
                f.f32("factor", "(1.0_f32 / 3.0)"),
                f.u32("total_iters", "5")
            )
        }
        "LinearLR" => {
            f.only(&["start_factor", "end_factor", "total_iters"]);
            format!(
                "LinearLR {{ start_factor: {}, end_factor: {}, total_iters: {} }}",
                f.f32("start_factor", "(1.0_f32 / 3.0)"),
                f.f32("end_factor", "1.0"),
                f.u32("total_iters", "5")
            )
        }
        "ExponentialLR" => {
            f.only(&["gamma"]);
            format!("ExponentialLR {{ gamma: {} }}", f.f64("gamma", "MISSING"))
        }
        "PolynomialLR" => {
            f.only(&["total_iters", "power"]);
            format!(
                "PolynomialLR {{ total_iters: {}, power: {} }}",
                f.u32("total_iters", "5"),
                f.f32("power", "1.0")
            )
        }
        "CosineAnnealingLR" => {
            f.only(&["T_max", "eta_min"]);
            format!(
                "CosineAnnealingLR {{ t_max: {}, eta_min: {} }}",
                f.u32("T_max", "MISSING"),
                f.f32("eta_min", "0.0")
            )
        }
        "CosineAnnealingWarmRestarts" => {
            f.only(&["T_0", "T_mult", "eta_min"]);
            format!(
                "CosineAnnealingWarmRestarts {{ t_0: {}, t_mult: {}, eta_min: {} }}",
                f.u32("T_0", "MISSING"),
                f.u32("T_mult", "1"),
                f.f32("eta_min", "0.0")
            )
        }
        "CyclicLR" => {
            f.only(&[
                "base_lr",
                "max_lr",
                "step_size_up",
                "step_size_down",
                "mode",
                "gamma",
                "scale_fn",
                "scale_mode",
                "cycle_momentum",
                "base_momentum",
                "max_momentum",
            ]);
            let scale_fn = f.str("scale_fn").map_or("None".to_string(), |s| {
                format!("Some(ScaleFn(Expr::parse({}, \"x\")?))", rust_str(s))
            });
            format!(
                "CyclicLR {{ base_lr: {}, max_lr: {}, step_size_up: {}, step_size_down: {}, mode: {}, gamma: {}, \
                 scale_fn: {scale_fn}, scale_mode: {}, cycle_momentum: {}, base_momentum: {}, max_momentum: {} }}",
                f.f32("base_lr", "MISSING"),
                f.f32("max_lr", "MISSING"),
                f.u32("step_size_up", "2000"),
                f.opt_u32("step_size_down"),
                f.variant("mode", "CyclicMode", "Triangular", &[
                    ("triangular", "Triangular"),
                    ("triangular2", "Triangular2"),
                    ("exp_range", "ExpRange"),
                ]),
                f.f64("gamma", "1.0_f64"),
                f.variant("scale_mode", "ScaleMode", "Cycle", &[("cycle", "Cycle"), ("iterations", "Iterations")]),
                f.bool("cycle_momentum", true),
                f.f32("base_momentum", "0.8"),
                f.f32("max_momentum", "0.9"),
            )
        }
        "OneCycleLR" => {
            f.only(&[
                "max_lr",
                "total_steps",
                "epochs",
                "steps_per_epoch",
                "pct_start",
                "anneal_strategy",
                "cycle_momentum",
                "base_momentum",
                "max_momentum",
                "div_factor",
                "final_div_factor",
                "three_phase",
            ]);
            format!(
                "OneCycleLR {{ max_lr: {}, total_steps: {}, epochs: {}, steps_per_epoch: {}, pct_start: {}, \
                 anneal_strategy: {}, cycle_momentum: {}, base_momentum: {}, max_momentum: {}, div_factor: {}, \
                 final_div_factor: {}, three_phase: {} }}",
                f.f32("max_lr", "MISSING"),
                f.opt_u32("total_steps"),
                f.opt_u32("epochs"),
                f.opt_u32("steps_per_epoch"),
                f.f32("pct_start", "0.3"),
                f.variant("anneal_strategy", "Anneal", "Cos", &[("cos", "Cos"), ("linear", "Linear")]),
                f.bool("cycle_momentum", true),
                f.f32("base_momentum", "0.85"),
                f.f32("max_momentum", "0.95"),
                f.f32("div_factor", "25.0"),
                f.f32("final_div_factor", "1e4"),
                f.bool("three_phase", false),
            )
        }
        "LambdaLR" | "MultiplicativeLR" => {
            f.only(&["lr_lambda"]);
            format!("{kind}::parse({})?", rust_str(f.str("lr_lambda").unwrap()))
        }
        "ReduceLROnPlateau" => {
            f.only(&[
                "mode",
                "factor",
                "patience",
                "threshold",
                "threshold_mode",
                "cooldown",
                "min_lr",
                "eps",
            ]);
            format!(
                "ReduceLROnPlateau {{ mode: {}, factor: {}, patience: {}, threshold: {}, threshold_mode: {}, \
                 cooldown: {}, min_lr: {}, eps: {} }}",
                f.variant("mode", "PlateauMode", "Min", &[("min", "Min"), ("max", "Max")]),
                f.f32("factor", "0.1"),
                f.u32("patience", "10"),
                f.f32("threshold", "1e-4"),
                f.variant("threshold_mode", "ThresholdMode", "Rel", &[("rel", "Rel"), ("abs", "Abs")]),
                f.u32("cooldown", "0"),
                f.f32("min_lr", "0.0"),
                f.f32("eps", "1e-8"),
            )
        }
        "WarmupStableDecayLR" => {
            f.only(&[
                "num_warmup_steps",
                "num_stable_steps",
                "num_decay_steps",
                "warmup_type",
                "decay_type",
                "min_lr_ratio",
                "num_cycles",
            ]);
            let shapes = &[
                ("linear", "Linear"),
                ("cosine", "Cosine"),
                ("1-sqrt", "OneMinusSqrt"),
            ];
            format!(
                "WarmupStableDecayLR {{ num_warmup_steps: {}, num_stable_steps: {}, num_decay_steps: {}, \
                 warmup_type: {}, decay_type: {}, min_lr_ratio: {}, num_cycles: {} }}",
                f.u32("num_warmup_steps", "MISSING"),
                f.u32("num_stable_steps", "MISSING"),
                f.u32("num_decay_steps", "MISSING"),
                f.variant("warmup_type", "WsdShape", "Linear", shapes),
                f.variant("decay_type", "WsdShape", "Cosine", shapes),
                f.f32("min_lr_ratio", "0.0"),
                f.f32("num_cycles", "0.5"),
            )
        }
        "InverseSqrtLR" => {
            f.only(&["num_warmup_steps", "timescale"]);
            format!(
                "InverseSqrtLR {{ num_warmup_steps: {}, timescale: {} }}",
                f.u32("num_warmup_steps", "MISSING"),
                f.opt_u32("timescale")
            )
        }
        "TimmCosineLR" => {
            f.only(&[
                "t_initial",
                "lr_min",
                "cycle_mul",
                "cycle_decay",
                "cycle_limit",
                "k_decay",
            ]);
            format!(
                "TimmCosineLR {{ t_initial: {}, lr_min: {}, cycle_mul: {}, cycle_decay: {}, cycle_limit: {}, k_decay: {} }}",
                f.u32("t_initial", "MISSING"),
                f.f32("lr_min", "0.0"),
                f.u32("cycle_mul", "1"),
                f.f32("cycle_decay", "1.0"),
                f.u32("cycle_limit", "1"),
                f.f32("k_decay", "1.0"),
            )
        }
        "TimmTanhLR" => {
            f.only(&[
                "t_initial",
                "lb",
                "ub",
                "lr_min",
                "cycle_mul",
                "cycle_decay",
                "cycle_limit",
            ]);
            format!(
                "TimmTanhLR {{ t_initial: {}, lb: {}, ub: {}, lr_min: {}, cycle_mul: {}, cycle_decay: {}, cycle_limit: {} }}",
                f.u32("t_initial", "MISSING"),
                f.f32("lb", "-7.0"),
                f.f32("ub", "3.0"),
                f.f32("lr_min", "0.0"),
                f.u32("cycle_mul", "1"),
                f.f32("cycle_decay", "1.0"),
                f.u32("cycle_limit", "1"),
            )
        }
        other => panic!("golden kind {other}: teach build.rs"),
    };
    assert!(
        !body.contains("MISSING"),
        "{kind}: a required key is missing in {obj:?}"
    );
    format!("LeafSpec::from({body})")
}

fn children(obj: &Map<String, Value>) -> String {
    let kids: Vec<String> = obj["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| leaf(c.as_object().unwrap()))
        .collect();
    format!("children(&[{}])?", kids.join(", "))
}

fn milestones(obj: &Map<String, Value>) -> String {
    let ms: Vec<String> = obj["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .map(u32_lit)
        .collect();
    format!("milestones(&[{}])?", ms.join(", "))
}

/// Rust expression of type `Spec`.
fn spec(obj: &Map<String, Value>) -> String {
    let kind = obj["kind"].as_str().unwrap();
    let f = Fields { kind, obj };
    match kind {
        "Fixed" => {
            f.only(&[]);
            "Spec::Fixed".into()
        }
        "SequentialLR" | "SwitchLR" => {
            f.only(&["schedulers", "milestones"]);
            format!(
                "Spec::from({kind} {{ schedulers: {}, milestones: {} }})",
                children(obj),
                milestones(obj)
            )
        }
        "ChainedScheduler" => {
            f.only(&["schedulers"]);
            format!(
                "Spec::from(ChainedScheduler {{ schedulers: {} }})",
                children(obj)
            )
        }
        "WarmupLR" => {
            f.only(&["warmup_steps", "warmup", "start_factor", "schedule"]);
            format!(
                "Spec::from(WarmupLR {{ warmup_steps: {}, warmup: {}, start_factor: {}, schedule: {} }})",
                f.u32("warmup_steps", "MISSING"),
                f.variant("warmup", "WarmupShape", "Linear", &[("linear", "Linear"), ("cos", "Cos")]),
                f.f32("start_factor", "0.0"),
                leaf(obj["schedule"].as_object().unwrap()),
            )
        }
        _ => format!("Spec::from({})", leaf(obj)),
    }
}

fn f32s(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{:?}", *v as f32)).collect();
    format!("&[{}]", items.join(", "))
}

fn golden(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let known_bugs = known_reference_bugs(dir);
    let mut builders = String::new();
    let mut table = String::new();
    let mut values = 0usize;
    // Without the `expr` feature, cases whose schedule is an expression are left out (counted).
    let expr = env::var_os("CARGO_FEATURE_EXPR").is_some();
    let (mut kept, mut need_expr) = (0usize, 0usize);
    for (i, path) in files.iter().enumerate() {
        let case: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let name = case["name"].as_str().unwrap();
        if !expr && uses_expr(&case["spec"]) {
            need_expr += 1;
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
        let _ = writeln!(
            builders,
            "fn spec_{i}() -> Result<Spec, Error> {{ Ok({}) }}",
            spec(case["spec"].as_object().unwrap())
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
         pub const NEED_EXPR: usize = {need_expr};\n",
    )
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
