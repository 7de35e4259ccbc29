//! `host-train bench` / `report` end to end on tiny IDX data the tests write themselves.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

mod common;
use common::Workspace;

const TINY_CONFIG: &str = r#"
epochs = 3
batch_size = 32
seed = 7
validation = 16

[[run]]
name = "step"
lr = 0.05
optimizer = { kind = "SGD", momentum = 0.9, nesterov = true, weight_decay = 0.01 }
step = "batch"
schedule = { kind = "StepLR", step_size = 3, gamma = 0.9 }

[[run]]
name = "plateau"
lr = 0.005
optimizer = { kind = "AdamWScheduleFree", warmup_steps = 5 }
step = "epoch"
schedule = { kind = "ReduceLROnPlateau", mode = "min", factor = 0.5, patience = 0, threshold = 0.001, min_lr = 0.0001 }

[[run]]
name = "cosine"
lr = 0.005
optimizer = { kind = "AdamW" }
step = "epoch"
schedule = { kind = "CosineAnnealingLR", T_max = 3 }

[[run]]
name = "onecycle"
lr = 0.05
optimizer = { kind = "SGDScheduleFree" }
step = "batch"
schedule = { kind = "OneCycleLR", max_lr = 0.1, total_steps = 300 }
"#;

/// The tiny config's runs, as pair folder names for seed 7.
const TINY_PAIRS: [&str; 4] = [
    "step-seed7",
    "plateau-seed7",
    "cosine-seed7",
    "onecycle-seed7",
];

struct Fixture {
    ws: Workspace,
}

impl Fixture {
    fn new() -> Self {
        Self::with_config(TINY_CONFIG)
    }
    fn with_config(config: &str) -> Self {
        Self {
            ws: Workspace::new("tiny.toml", config, 136),
        }
    }
    fn path(&self, p: &str) -> std::path::PathBuf {
        self.ws.path(p)
    }
    fn bench(&self, out: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("host-train").unwrap();
        cmd.env("HOST_TRAIN_NO_PROGRESS", "1")
            .arg("bench")
            .arg("--config")
            .arg(self.path("tiny.toml"))
            .arg("--data")
            .arg(self.path("data"))
            .arg("--out")
            .arg(self.path(out))
            .args(extra);
        if !extra.contains(&"--threads") {
            cmd.args(["--threads", "2"]);
        }
        cmd
    }

    /// A bench into `out` that dies like a killed process after epoch `at` (`N` or `N/M`: see
    /// `--abort-after-epoch`).
    fn killed_after(&self, out: &str, at: &str) {
        self.bench(out, &["--no-plots", "--abort-after-epoch", at])
            .assert()
            .failure();
    }

    /// `--resume` of the bench in `out`, which must succeed; its stderr.
    fn resumed(&self, out: &str) -> String {
        let run = self
            .bench(out, &["--resume", "--no-plots"])
            .assert()
            .success();
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    }

    /// Two bench folders of the tiny config agree on everything deterministic: the learned
    /// results of both runs, each run's final model file byte for byte, and the lr/momentum trace.
    fn assert_same_results(&self, a: &str, b: &str, epochs: u32) {
        let (ra, rb) = (results(&self.path(a)), results(&self.path(b)));
        let (ra, rb) = (
            ra["runs"].as_array().unwrap(),
            rb["runs"].as_array().unwrap(),
        );
        assert_eq!((ra.len(), rb.len()), (TINY_PAIRS.len(), TINY_PAIRS.len()));
        for (x, y) in ra.iter().zip(rb) {
            assert_eq!(learned(x), learned(y));
        }
        for run in TINY_PAIRS {
            let m = format!("runs/{run}/model-epoch{epochs:03}.safetensors");
            assert_eq!(
                std::fs::read(self.path(&format!("{a}/{m}"))).unwrap(),
                std::fs::read(self.path(&format!("{b}/{m}"))).unwrap(),
                "{m}"
            );
        }
        assert_eq!(
            std::fs::read(self.path(&format!("{a}/trace.csv"))).unwrap(),
            std::fs::read(self.path(&format!("{b}/trace.csv"))).unwrap()
        );
    }
}

fn results(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// The deterministic part of a result (no timings).
fn learned(r: &Value) -> Value {
    serde_json::json!([
        r["name"],
        r["seed"],
        r["epochs"],
        r["final_accuracy"],
        r["spec"]
    ])
}

#[test]
fn bench_writes_the_results_set() {
    let f = Fixture::new();
    f.bench("out", &["--seeds", "2"]).assert().success();
    let out = f.path("out");
    for p in [
        "results.json",
        "results.csv",
        "results.md",
        "trace.csv",
        "plots/lr_grid.png",
        "plots/test_accuracy.png",
        "plots/final_accuracy.png",
    ] {
        assert!(out.join(p).exists(), "missing {p}");
    }
    assert!(
        !out.join("plots/lr_grid.svg").exists(),
        "one image format per set"
    );
    let r = results(&out);
    let runs = r["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2 * TINY_PAIRS.len());
    for run in runs {
        for key in [
            "name",
            "spec",
            "seed",
            "epochs",
            "final_accuracy",
            "train_images_per_sec",
            "eval_images_per_sec",
            "wall_seconds",
        ] {
            assert!(!run[key].is_null(), "results.json lacks {key}");
        }
        // The build that trained the pair: a 40-hex-digit commit in a git checkout, else `unknown`.
        let build = &run["builds"][0];
        let commit = build["commit"].as_str().unwrap_or_default();
        let in_checkout = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            if in_checkout {
                commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())
            } else {
                commit == "unknown"
            },
            "results.json: builds {build}"
        );
        assert!(build["dirty"].is_boolean(), "results.json: builds {build}");
        let e = run["epochs"].as_array().unwrap();
        assert_eq!(e.len(), 3);
        // `validation = 16`: every epoch is also evaluated on the held-out images.
        for k in [
            "train_loss",
            "test_loss",
            "test_accuracy",
            "lr",
            "val_loss",
            "val_accuracy",
        ] {
            assert!(e[0][k].is_number(), "epoch lacks {k}");
        }
        // Each run's optimizer with all its parameters (the references' defaults filled in).
        let opt = &run["optimizer"];
        let want = match run["name"].as_str().unwrap() {
            "step" => {
                serde_json::json!({"kind": "SGD", "momentum": 0.9, "dampening": 0.0, "nesterov": true, "weight_decay": 0.01})
            }
            "cosine" => {
                serde_json::json!({"kind": "AdamW", "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "amsgrad": false})
            }
            "plateau" => {
                serde_json::json!({"kind": "AdamWScheduleFree", "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "warmup_steps": 5, "r": 0.0, "weight_lr_power": 2.0})
            }
            _ => {
                serde_json::json!({"kind": "SGDScheduleFree", "momentum": 0.9, "weight_decay": 0.0, "warmup_steps": 0, "r": 0.0, "weight_lr_power": 2.0})
            }
        };
        assert_eq!(opt, &want, "{}", run["name"]);
    }
    // 136 images, 16 held out: 4 batches of 32 (the last of 24) per epoch.
    assert_eq!(runs[0]["train_images"], 120);
    for key in ["machine", "device", "versions"] {
        assert!(!r[key].is_null(), "results.json lacks {key}");
    }
    // Specs as written (shortest decimals of the f32 values), no absolute paths, the data's checksums.
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    for written in [
        "\"max_lr\": 0.1,",
        "\"threshold\": 0.001,",
        "\"min_lr\": 0.0001",
    ] {
        assert!(text.contains(written), "results.json lacks {written}");
    }
    assert!(
        !text.contains("0.10000000") && !text.contains("0.0010000"),
        "widened f32"
    );
    assert!(
        !text.contains(&*f.path("").to_string_lossy()),
        "absolute path in results.json"
    );
    assert_eq!(r["sources"], serde_json::json!(["."]));
    assert_eq!(r["data"]["name"], "data");
    let sums = r["data"]["sha256"].as_object().unwrap();
    assert_eq!(sums.len(), 4);
    assert!(sums.values().all(|v| v.as_str().unwrap().len() == 64));
    // It learns: the training loss goes down.
    let e = runs[0]["epochs"].as_array().unwrap();
    assert!(
        e[2]["train_loss"].as_f64().unwrap() < e[0]["train_loss"].as_f64().unwrap(),
        "{}",
        runs[0]
    );
    // Same seed, same result; another seed, another result.
    assert_ne!(runs[0]["epochs"], runs[1]["epochs"]);
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("| 1 | step | SGD | 0.05 | batch | 2 |") && md.contains(" ± "),
        "{md}"
    );
    // Running again into the same folder without --resume is refused.
    let o = f
        .bench("out", &["--seeds", "2"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&o).contains("--resume"));
}

/// Fused training (all four runs of a seed in one pass over each batch: batch-stepped, epoch-stepped,
/// plateau and one-cycle with momentum cycling) gives every model exactly what training it alone gives:
/// losses, accuracies, lr/momentum traces and final weights, bit for bit, on 1 or 2 threads.
/// The tiny config on another network than the study's.
fn tiny_config_wide() -> String {
    TINY_CONFIG.replace("seed = 7\n", "seed = 7\nmodel = { conv = [64, 32, 16] }\n")
}

#[test]
fn fused_is_bit_identical_to_one_at_a_time() {
    fused_is_bit_identical(&Fixture::new(), [32, 16, 8]);
}

#[test]
fn fused_is_bit_identical_on_another_network() {
    fused_is_bit_identical(&Fixture::with_config(&tiny_config_wide()), [64, 32, 16]);
}

fn fused_is_bit_identical(f: &Fixture, conv: [u64; 3]) {
    let fused = f
        .bench("fused", &["--no-plots", "--seeds", "2"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&fused).contains("2 group(s) of up to 4"),
        "{}",
        String::from_utf8_lossy(&fused)
    );
    f.bench("alone", &["--no-plots", "--seeds", "2", "--fuse", "1"])
        .assert()
        .success();
    f.bench(
        "pairs",
        &[
            "--no-plots",
            "--seeds",
            "2",
            "--fuse",
            "3",
            "--threads",
            "1",
        ],
    )
    .assert()
    .success();
    for other in ["alone", "pairs"] {
        let (a, b) = (results(&f.path("fused")), results(&f.path(other)));
        let fused_sizes: Vec<u64> = a["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["fused"].as_u64().unwrap())
            .collect();
        assert_eq!(fused_sizes, [4; 8]);
        for r in a["runs"].as_array().unwrap() {
            assert_eq!(r["model"]["conv"], serde_json::json!(conv));
        }
        let (a, b) = (a["runs"].as_array().unwrap(), b["runs"].as_array().unwrap());
        assert_eq!(a.len(), 8);
        for (x, y) in a.iter().zip(b) {
            assert_eq!(learned(x), learned(y), "{other}");
        }
        for seed in [7, 8] {
            for pair in TINY_PAIRS {
                let pair = pair.replace("seed7", &format!("seed{seed}"));
                let m = format!("runs/{pair}/model-epoch003.safetensors");
                assert_eq!(
                    std::fs::read(f.path(&format!("fused/{m}"))).unwrap(),
                    std::fs::read(f.path(&format!("{other}/{m}"))).unwrap(),
                    "{other}: {m}"
                );
                let r = format!("runs/{pair}/result.json");
                let (ra, rb) = (
                    results_file(&f.path(&format!("fused/{r}"))),
                    results_file(&f.path(&format!("{other}/{r}"))),
                );
                assert_eq!(ra["trace_loss"], rb["trace_loss"], "{other}: {r}");
                assert_eq!(ra["trace_momentum"], rb["trace_momentum"], "{other}: {r}");
            }
        }
        assert_eq!(
            std::fs::read(f.path("fused/trace.csv")).unwrap(),
            std::fs::read(f.path(&format!("{other}/trace.csv"))).unwrap()
        );
    }
    // The runs really differ from one another (the comparison above is not vacuous).
    let r = results(&f.path("fused"));
    let runs = r["runs"].as_array().unwrap();
    assert_ne!(runs[0]["epochs"], runs[2]["epochs"]);
    assert_ne!(runs[4]["epochs"], runs[6]["epochs"]);
}

/// AVX-512 and AVX2 (and NEON) run the same fused multiply-adds in the same order: the same bits.
#[test]
fn fma_paths_agree_bit_for_bit() {
    let f = Fixture::new();
    for isa in ["avx512", "avx2"] {
        let o = f
            .bench(isa, &["--no-plots", "--epochs", "1", "--isa", isa])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        if !o.status.success() && e.contains("this CPU lacks") {
            eprintln!("{isa}: skipped ({})", e.trim());
            return;
        }
        assert!(o.status.success(), "{e}");
    }
    for pair in TINY_PAIRS {
        let r = format!("runs/{pair}/result.json");
        let (a, b) = (
            results_file(&f.path(&format!("avx512/{r}"))),
            results_file(&f.path(&format!("avx2/{r}"))),
        );
        assert_eq!(a["trace_loss"], b["trace_loss"], "{r}");
        assert_eq!(a["epochs"], b["epochs"], "{r}");
        assert_eq!(
            (a["kernels"].as_str(), b["kernels"].as_str()),
            (Some("avx512"), Some("avx2"))
        );
        // The study's network on 28 x 28: layer 1 direct, layers 2 and 3 Winograd F(4x4, 3x3).
        let convolutions = serde_json::json!(["direct", "winograd-f4", "winograd-f4"]);
        assert_eq!(
            (&a["convolutions"], &b["convolutions"]),
            (&convolutions, &convolutions)
        );
    }
}

fn results_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Killed after only half of a fused group has saved its epoch-2 checkpoint: the resumed bench trains
/// the two halves as separate groups (they are at different epochs) and still ends bit-identical.
#[test]
fn killed_mid_group_checkpoint_splits_the_group_and_stays_bit_identical() {
    let f = Fixture::new();
    f.bench("full", &["--no-plots"]).assert().success();
    f.killed_after("cut", "2/2");
    let err = f.resumed("cut");
    assert!(
        err.contains("4 unfinished pair(s) in 2 group(s) of up to 2"),
        "{err}"
    );
    f.assert_same_results("full", "cut", 3);
}

/// The tiny config with param groups and hyperparameter schedules in every run (the same run
/// names): per-group lists, per-group options, the Schedule-Free ones included.
fn tiny_config_grouped() -> String {
    let groups = |run: &str, extra: &str| {
        let at = TINY_CONFIG.find(&format!("name = \"{run}\"")).unwrap();
        let end = TINY_CONFIG[at..]
            .find("\n\n")
            .map_or(TINY_CONFIG.len(), |e| at + e);
        (end, extra.to_string())
    };
    let mut inserts = [
        groups(
            "step",
            "param_groups = [{ layers = [0, 1] }, { layers = [2, 3], lr = 0.01, weight_decay = 0.0 }]\nhyperparameters = { momentum = { kind = \"LinearLR\", start_factor = 0.5, total_iters = 9 } }",
        ),
        groups(
            "plateau",
            "param_groups = [{ layers = [0, 1, 2] }, { layers = [3], lr = 0.002 }]",
        ),
        groups(
            "cosine",
            "param_groups = [{ layers = [0] }, { layers = [1, 2, 3], betas = [0.9, 0.99] }]\nhyperparameters = { weight_decay = { kind = \"CosineAnnealingLR\", T_max = 20 } }",
        ),
        groups(
            "onecycle",
            "param_groups = [{ layers = [0, 1, 2] }, { layers = [3], lr = 0.01 }]",
        ),
    ];
    inserts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut config = TINY_CONFIG.to_string();
    for (at, text) in inserts {
        config.insert_str(at, &format!("\n{text}"));
    }
    config.replace("max_lr = 0.1,", "max_lr = [0.1, 0.02],")
}

/// With param groups and hyperparameter schedules: fused or one at a time, killed and resumed,
/// the same bits (each group's optimizer state and every schedule in the checkpoint).
#[test]
fn param_groups_fuse_and_resume_bit_identically() {
    let f = Fixture::with_config(&tiny_config_grouped());
    f.bench("full", &["--no-plots"]).assert().success();
    f.bench("alone", &["--no-plots", "--fuse", "1"])
        .assert()
        .success();
    f.assert_same_results("full", "alone", 3);
    f.killed_after("cut", "1");
    f.resumed("cut");
    f.assert_same_results("full", "cut", 3);
    let state = std::fs::read_to_string(f.path("cut/runs/cosine-seed7/state.json")).unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["scheduler"]["groups"].as_array().unwrap().len(), 2);
    assert_eq!(state["optimizer_groups"].as_array().unwrap().len(), 1);
    assert_eq!(state["hyperparameters"][0]["slot"]["field"], "weight_decay");
    // Each group's lr follows its own schedule: the onecycle run's head peaks at its own max_lr.
    let r = results_file(&f.path("full/runs/onecycle-seed7/result.json"));
    assert_eq!(r["param_groups"].as_array().unwrap().len(), 2);
    assert_eq!(r["group_specs"][1]["max_lr"], 0.02);
}

#[test]
fn killed_and_resumed_is_bit_identical() {
    let f = Fixture::new();
    f.bench("full", &["--no-plots"]).assert().success();
    // Die right after the first checkpoint, then after the second, then finish.
    f.killed_after("cut", "1");
    assert!(!f.path("cut/results.json").exists());
    f.bench("cut", &["--resume", "--no-plots"])
        .args(["--abort-after-epoch", "2"])
        .assert()
        .failure();
    let log = f
        .bench("cut", &["--resume", "--no-plots"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let log = String::from_utf8_lossy(&log);
    // The first run continues at epoch 3 (epochs 1-2 are not recomputed).
    assert!(
        !log.contains("step (seed 7) epoch  1/3") && log.contains("step (seed 7) epoch  3/3"),
        "{log}"
    );
    f.assert_same_results("full", "cut", 3);
    // It trained on Winograd (the default): resuming it on the direct kernels would mix two
    // arithmetics in one run.
    let e = one_line_error(f.bench(
        "cut",
        &["--resume", "--no-plots", "--convolution", "direct"],
    ));
    assert!(
        e.contains("was trained with --convolution winograd; give it again"),
        "{e}"
    );
    // Resuming a finished bench recomputes nothing.
    let log = f
        .bench("cut", &["--resume", "--no-plots"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8_lossy(&log).contains("epoch"));
}

/// A last checkpoint that cannot be read (a truncated model file; a state file of garbage) is set
/// aside as `.corrupt` with a warning naming it, and its pair resumes from the checkpoint before: the
/// bench still ends bit-identical to one never interrupted.
#[test]
fn corrupt_last_checkpoint_resumes_from_the_one_before() {
    let f = Fixture::new();
    f.bench("full", &["--no-plots"]).assert().success();
    f.killed_after("cut", "2");
    let pair = |p: &str, file: &str| f.path(&format!("cut/runs/{p}/{file}"));
    for p in TINY_PAIRS {
        assert!(
            pair(p, "state-previous.json").exists(),
            "{p}: two checkpoints kept"
        );
        assert!(pair(p, "model-epoch001.safetensors").exists(), "{p}");
    }
    let model = pair("step-seed7", "model-epoch002.safetensors");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(
        pair("plateau-seed7", "state.json"),
        "{\"version\": 1, \"name",
    )
    .unwrap();
    let err = f.resumed("cut");
    for (p, file) in [
        ("step-seed7", "model-epoch002.safetensors"),
        ("plateau-seed7", "state.json"),
    ] {
        assert!(
            err.lines().any(|l| l.starts_with("warning:")
                && l.contains(&format!("{p}/{file}"))
                && l.contains("resuming from the one before (epoch 1)")),
            "{err}"
        );
        let mut aside = pair(p, file).into_os_string();
        aside.push(".corrupt");
        assert!(
            std::path::Path::new(&aside).exists(),
            "{p}/{file} set aside"
        );
    }
    f.assert_same_results("full", "cut", 3);
}

/// A first checkpoint that cannot be read, with none before it, starts its pair over (with the
/// warning), and the bench still ends bit-identical.
#[test]
fn corrupt_first_checkpoint_starts_the_pair_over() {
    let f = Fixture::new();
    f.bench("full", &["--no-plots"]).assert().success();
    f.killed_after("cut", "1");
    let state = f.path("cut/runs/cosine-seed7/state.json");
    assert!(!f.path("cut/runs/cosine-seed7/state-previous.json").exists());
    std::fs::write(&state, "{").unwrap();
    let err = f.resumed("cut");
    assert!(
        err.lines().any(|l| l.starts_with("warning:")
            && l.contains("cosine-seed7/state.json")
            && l.contains("resuming from the start")),
        "{err}"
    );
    f.assert_same_results("full", "cut", 3);
}

#[test]
fn shards_merge_into_the_unsharded_results() {
    let f = Fixture::new();
    f.bench("all", &["--seeds", "2", "--epochs", "2", "--no-plots"])
        .assert()
        .success();
    f.bench(
        "s0",
        &[
            "--seeds",
            "2",
            "--epochs",
            "2",
            "--no-plots",
            "--shard",
            "0/3",
        ],
    )
    .assert()
    .success();
    f.bench(
        "s1",
        &[
            "--seeds",
            "2",
            "--epochs",
            "2",
            "--no-plots",
            "--shard",
            "1/3",
        ],
    )
    .assert()
    .success();
    f.bench(
        "s2",
        &[
            "--seeds",
            "2",
            "--epochs",
            "2",
            "--no-plots",
            "--shard",
            "2/3",
        ],
    )
    .assert()
    .success();
    // 8 pairs over 3 shards: 3, 3 and 2.
    assert_eq!(results(&f.path("s0"))["runs"].as_array().unwrap().len(), 3);
    assert_eq!(
        results(&f.path("s0"))["missing"].as_array().unwrap().len(),
        5
    );
    Command::cargo_bin("host-train")
        .unwrap()
        .args(["report"])
        .arg(f.path("s0"))
        .arg(f.path("s1"))
        .arg(f.path("s2"))
        .arg("--out")
        .arg(f.path("merged"))
        .assert()
        .success();
    let (a, m) = (results(&f.path("all")), results(&f.path("merged")));
    let la: Vec<Value> = a["runs"].as_array().unwrap().iter().map(learned).collect();
    let lm: Vec<Value> = m["runs"].as_array().unwrap().iter().map(learned).collect();
    assert_eq!(la.len(), 2 * TINY_PAIRS.len());
    assert_eq!(la, lm);
    assert!(m["missing"].as_array().unwrap().is_empty());
    assert_eq!(m["sources"], serde_json::json!(["../s0", "../s1", "../s2"]));
    assert_eq!(m["data"], a["data"]);
    assert!(f.path("merged/plots/final_accuracy.png").exists());
    // A lone shard still reports, listing what is missing.
    let md = std::fs::read_to_string(f.path("s1/results.md")).unwrap();
    assert!(md.contains("Not finished"), "{md}");
}

#[test]
fn trace_matches_curve() {
    let f = Fixture::new();
    // The tutorial preset's batch-stepped runs on tiny data: 136 images = 2 batches of 128 per epoch.
    for run in [
        "Step LR Scheduler Batches",
        "One Cycle LR Scheduler Batches",
    ] {
        let out = format!("t-{}", run.len());
        let mut cmd = Command::cargo_bin("host-train").unwrap();
        cmd.env("HOST_TRAIN_NO_PROGRESS", "1")
            .args([
                "bench",
                "--preset",
                "tutorial",
                "--runs",
                run,
                "--epochs",
                "2",
                "--no-plots",
                "--data",
            ])
            .arg(f.path("data"))
            .arg("--out")
            .arg(f.path(&out))
            .assert()
            .success();
        let trace = std::fs::read_to_string(f.path(&format!("{out}/trace.csv"))).unwrap();
        // One row where the lr or momentum changes, and the last step: each holds until the next.
        let rows: Vec<Vec<&str>> = trace
            .lines()
            .skip(1)
            .map(|l| l.rsplitn(4, ',').take(3).collect())
            .collect();
        let mut ours = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            let step: usize = r[2].parse().unwrap();
            let until = rows.get(k + 1).map_or(step + 1, |n| n[2].parse().unwrap());
            for s in step..until {
                ours.push(format!("{},{},{s}", r[0], r[1]));
            }
        }
        assert_eq!(ours.len(), 4);
        let curve = Command::cargo_bin("host-train")
            .unwrap()
            .args(["curve", "--preset", "tutorial", "--run", run])
            .output()
            .unwrap();
        assert!(curve.status.success());
        let curve = String::from_utf8(curve.stdout).unwrap();
        let theirs: Vec<String> = curve
            .lines()
            .skip(1)
            .take(4)
            .map(|l| l.rsplitn(4, ',').take(3).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(ours, theirs, "{run}");
    }
}

#[test]
fn input_errors_exit_2_with_one_line() {
    let f = Fixture::new();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--subset", "0"], "--subset"),
        (vec!["--runs", "nope"], "unknown run `nope`"),
        (vec!["--shard", "3/3"], "--shard"),
        (vec!["--device", "cuda"], "cuda"),
        (vec!["--resume"], "bench.json"),
        (vec!["--isa", "sse"], "invalid value 'sse' for '--isa"),
        // The path of the other architecture.
        #[cfg(target_arch = "x86_64")]
        (vec!["--isa", "neon"], "--isa neon: this CPU lacks neon"),
        #[cfg(target_arch = "aarch64")]
        (vec!["--isa", "avx2"], "--isa avx2: this CPU lacks avx2"),
    ];
    for (args, want) in cases {
        let e = one_line_error(f.bench("e", &args));
        assert!(e.contains(want), "{args:?}: {e}");
    }
    std::fs::write(f.path("bad.toml"), "epochs = 1\n").unwrap();
    let o = Command::cargo_bin("host-train")
        .unwrap()
        .args(["bench", "--config"])
        .arg(f.path("bad.toml"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&o).contains("bad.toml"));
    // A bad optimizer is one line naming the run and the field, before anything is written.
    for (optimizer, want) in [
        (
            r#"{ kind = "Adam" }"#,
            "run `step`: `optimizer.kind` = \"Adam\": unknown optimizer; expected one of SGD, AdamW, SGDScheduleFree, AdamWScheduleFree",
        ),
        (
            r#"{ kind = "AdamW", betas = [0.9, 1.5] }"#,
            "run `step`: `optimizer.betas[1]` must be in [0, 1); got 1.5",
        ),
        (
            r#"{ kind = "AdamW", weight_decay = -0.1 }"#,
            "`optimizer.weight_decay` must be >= 0",
        ),
        (
            r#"{ kind = "SGD", nesterov = true }"#,
            "`optimizer.nesterov` = true requires a momentum > 0 and zero dampening",
        ),
        (
            r#"{ kind = "SGD", momentun = 0.9 }"#,
            "unknown field `momentun`, expected one of `momentum`, `dampening`, `nesterov`, `weight_decay`",
        ),
    ] {
        let config = TINY_CONFIG.replace(
            r#"optimizer = { kind = "SGD", momentum = 0.9, nesterov = true, weight_decay = 0.01 }"#,
            &format!("optimizer = {optimizer}"),
        );
        std::fs::write(f.path("bad-opt.toml"), config).unwrap();
        let mut cmd = Command::cargo_bin("host-train").unwrap();
        cmd.args(["bench", "--config"])
            .arg(f.path("bad-opt.toml"))
            .arg("--data")
            .arg(f.path("data"))
            .arg("--out")
            .arg(f.path("e4"));
        let e = one_line_error(cmd);
        assert!(e.contains(want), "{optimizer}: {e}");
        assert!(!f.path("e4").exists(), "{optimizer}: wrote output");
    }
    let o = f
        .bench("e3", &[])
        .env("HOST_TRAIN_ISA", "avx1024")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8_lossy(&o);
    assert!(
        e.contains(
            "HOST_TRAIN_ISA=avx1024: unknown path (expected auto, avx512, avx2, neon or portable)"
        ),
        "{e}"
    );
    let o = Command::cargo_bin("host-train")
        .unwrap()
        .args(["bench", "--preset", "tutorial", "--data"])
        .arg(f.path("nowhere"))
        .arg("--out")
        .arg(f.path("e2"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8_lossy(&o);
    assert!(
        e.contains("nowhere") && e.contains("apt-get install -y dataset-fashion-mnist"),
        "{e}"
    );
}

/// The stderr of a command that must fail with exit code 2 and a one-line error.
fn one_line_error(mut cmd: Command) -> String {
    let o = cmd.assert().code(2).get_output().stderr.clone();
    let e = String::from_utf8_lossy(&o).into_owned();
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    e
}

/// A real `kill -9` wherever the process happens to be (mid-batch, mid-checkpoint), twice, then
/// `--resume`: the results, models and trace equal an uninterrupted run's.
#[test]
fn sigkill_anywhere_then_resume_is_bit_identical() {
    const EPOCHS: &str = "30";
    let f = Fixture::new();
    f.bench("full", &["--no-plots", "--epochs", EPOCHS])
        .assert()
        .success();
    let kill_after_a_checkpoint = |resume: bool| {
        let out = f.path("cut");
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("host-train"));
        cmd.env("HOST_TRAIN_NO_PROGRESS", "1")
            .args([
                "bench",
                "--no-plots",
                "--threads",
                "2",
                "--epochs",
                EPOCHS,
                "--config",
            ])
            .arg(f.path("tiny.toml"))
            .arg("--data")
            .arg(f.path("data"))
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if resume {
            cmd.arg("--resume");
        }
        let state = out.join("runs/step-seed7/state.json");
        let before = std::fs::metadata(&state).and_then(|m| m.modified()).ok();
        let mut child = cmd.spawn().unwrap();
        let start = std::time::Instant::now();
        // Wait for a new checkpoint of the first run, then kill at once: 29 epochs are left.
        while std::fs::metadata(&state).and_then(|m| m.modified()).ok() == before {
            assert!(
                child.try_wait().unwrap().is_none(),
                "bench ended before a checkpoint"
            );
            assert!(
                start.elapsed().as_secs() < 300,
                "no checkpoint within 300 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            !out.join("results.json").exists(),
            "the kill came after the end"
        );
    };
    kill_after_a_checkpoint(false);
    kill_after_a_checkpoint(true);
    f.bench("cut", &["--resume", "--no-plots", "--epochs", EPOCHS])
        .assert()
        .success();
    f.assert_same_results("full", "cut", EPOCHS.parse().unwrap());
}

/// `--dry-run` checks everything and writes nothing (submit.sh relies on it before submitting).
#[test]
fn dry_run_checks_and_writes_nothing() {
    let f = Fixture::new();
    let err = f
        .bench("dry", &["--dry-run", "--seeds", "2", "--shard", "1/3"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8_lossy(&err).contains("3 pair(s) of 8"),
        "{}",
        String::from_utf8_lossy(&err)
    );
    assert!(!f.path("dry").exists());
    f.bench("dry", &["--dry-run", "--runs", "nope"])
        .assert()
        .code(2);
    assert!(!f.path("dry").exists());
}
