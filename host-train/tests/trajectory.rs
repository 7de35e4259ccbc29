//! host-train's trainer against PyTorch, step by step: the same initial weights, the same images in the
//! same order, the same schedules and optimizers (`tests/golden/trajectory*/`, made by
//! `tests/golden/trajectory/generate.py` with PyTorch and the `schedulefree` package).
//!
//! Tolerance: 1e-3 relative on every step's training loss and on the test loss after each epoch. Over
//! these 40 steps PyTorch's own float32 run differs from its float64 run by up to 9e-5 (recorded in
//! expected.json), and from itself on 1 vs 2 threads by about 5e-5; a wrong gradient shows as 1e-2 and more.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const TOLERANCE: f64 = 1e-3;

/// The study's network's fixture (with the data every fixture trains on).
fn fixture() -> PathBuf {
    fixture_of("trajectory")
}

fn fixture_of(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(name)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// The CPU kernels' paths (`--isa`); each is checked where this CPU has it and reported as skipped
/// where it does not.
const PATHS: [&str; 4] = ["avx512", "avx2", "neon", "portable"];

#[test]
fn training_follows_pytorch_step_by_step() {
    on_every_path(&fixture());
}

/// Another network than the study's (`model = { conv = [64, 32, 16] }`, its own PyTorch fixture).
#[test]
fn another_network_follows_pytorch_step_by_step() {
    on_every_path(&fixture_of("trajectory-64-32-16"));
}

/// The other optimizers against their references (`trajectory-optimizers`): torch.optim.AdamW (and
/// amsgrad under OneCycleLR, which cycles beta1), torch.optim.SGD with nesterov, weight decay and
/// dampening, and the `schedulefree` package's SGDScheduleFree and AdamWScheduleFree (the test losses
/// are of their averaged weights x).
#[test]
fn optimizers_follow_their_references_step_by_step() {
    on_every_path(&fixture_of("trajectory-optimizers"));
}

/// PyTorch's RMSprop (plain, with momentum and weight decay, centered, under OneCycleLR cycling its
/// momentum) against torch.optim.RMSprop (`trajectory-rmsprop`).
#[test]
fn rmsprop_follows_pytorch_step_by_step() {
    on_every_path(&fixture_of("trajectory-rmsprop"));
}

/// PyTorch's RAdam (plain, with L2 and with decoupled weight decay, under OneCycleLR cycling beta1;
/// its first five steps unrectified, then rectified) against torch.optim.RAdam (`trajectory-radam`).
#[test]
fn radam_follows_pytorch_step_by_step() {
    on_every_path(&fixture_of("trajectory-radam"));
}

/// Param groups and hyperparameter schedules against PyTorch (`trajectory-groups`): SGD with the
/// convolutions and the linear layer in two groups (their own lr and weight decay) under OneCycleLR
/// with a per-group `max_lr` list; AdamW with two groups (their own lr, betas and weight decay),
/// each group's weight decay on a cosine; SGD's momentum and AdamW's beta2 on schedules.
#[test]
fn param_groups_and_hyperparameter_schedules_follow_pytorch_step_by_step() {
    on_every_path(&fixture_of("trajectory-groups"));
}

/// candle's path (what `--device cuda` trains with: candle's conv2d and autograd, the shared
/// optimizers) on the CPU (`--engine candle`), against the same references: checked on
/// every machine, not only on one with a GPU.
#[test]
fn candle_path_follows_the_references_on_the_cpu() {
    // (RMSprop's and RAdam's fixtures check the optimizers, which both paths share: on the CPU path.)
    for fx in ["trajectory", "trajectory-optimizers", "trajectory-groups"] {
        follows_pytorch(&fixture_of(fx), CANDLE_ON_CPU, None);
    }
}

/// `HOST_TRAIN_TEST_ISAS=neon` (comma-separated) checks only those paths: under QEMU, where a step
/// is ~100 times slower (scripts/aarch64-test.sh).
const ONLY_ENV: &str = "HOST_TRAIN_TEST_ISAS";

/// `--convolution` values each path is checked with (`HOST_TRAIN_TEST_CONVOLUTIONS=winograd` for
/// only those).
const CONVOLUTIONS: [&str; 2] = ["winograd", "direct"];
const CONVOLUTIONS_ENV: &str = "HOST_TRAIN_TEST_CONVOLUTIONS";

fn on_every_path(fx: &Path) {
    let only = std::env::var(CONVOLUTIONS_ENV).ok();
    for convolution in CONVOLUTIONS {
        if only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == convolution))
        {
            on_every_path_with(fx, convolution);
        }
    }
}

fn on_every_path_with(fx: &Path, convolution: &str) {
    let only = std::env::var(ONLY_ENV).ok();
    let wanted = |isa: &&str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == *isa))
    };
    for isa in PATHS.iter().filter(|isa| !wanted(isa)) {
        eprintln!(
            "{isa}: skipped ({ONLY_ENV}={})",
            only.as_deref().unwrap_or_default()
        );
    }
    let checked: Vec<&str> = PATHS
        .into_iter()
        .filter(wanted)
        .filter(|isa| follows_pytorch(fx, "cpu", Some((isa, convolution))))
        .collect();
    eprintln!("{convolution}: checked on: {}", checked.join(", "));
    assert!(!checked.is_empty(), "no path checked");
    if only.is_none() {
        assert!(
            checked.contains(&"portable"),
            "the portable path runs everywhere"
        );
    }
}

/// The same on the GPU (a `--features cuda` build on a machine with an NVIDIA GPU; scripts/gpu-check.sh),
/// for every fixture: the study's network, another shape and the other optimizers, each checked even
/// when an earlier one fails (a GPU is a rare visitor: one run should say everything).
/// Without a usable device it is skipped, unless HOST_TRAIN_REQUIRE_CUDA is set.
#[cfg(feature = "cuda")]
#[test]
fn cuda_training_follows_pytorch_step_by_step() {
    if candle_core::Device::new_cuda(0).is_err()
        && std::env::var_os("HOST_TRAIN_REQUIRE_CUDA").is_none()
    {
        eprintln!("no CUDA device: skipped");
        return;
    }
    let failed: Vec<&str> = [
        "trajectory",
        "trajectory-64-32-16",
        "trajectory-optimizers",
        "trajectory-rmsprop",
        "trajectory-radam",
        "trajectory-groups",
    ]
    .into_iter()
    .filter(|fx| {
        std::panic::catch_unwind(|| follows_pytorch(&fixture_of(fx), "cuda", None)).is_err()
    })
    .collect();
    assert!(
        failed.is_empty(),
        "on the GPU, off PyTorch's trajectory: {failed:?}"
    );
}

/// The `device` of [`follows_pytorch`] that means candle's path on the CPU.
const CANDLE_ON_CPU: &str = "candle-cpu";

/// Trains the fixture's config on `device` (on the CPU, with the kernel path `isa` and
/// `--convolution`) and compares every step with PyTorch's; false where this CPU lacks `isa`
/// (skipped, and said so).
fn follows_pytorch(fx: &Path, device: &str, kernels: Option<(&str, &str)>) -> bool {
    let isa = kernels.map(|k| k.0);
    let expected = json(&fx.join("expected.json"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut cmd = Command::cargo_bin("host-train").unwrap();
    let mut extra = Vec::new();
    if let Some((isa, convolution)) = kernels {
        extra.extend(["--isa", isa, "--convolution", convolution]);
    }
    let device_arg = if device == CANDLE_ON_CPU {
        extra.extend(["--engine", "candle"]);
        "cpu"
    } else {
        device
    };
    let run = cmd
        .env("HOST_TRAIN_NO_PROGRESS", "1")
        .args([
            "bench",
            "--no-plots",
            "--order",
            "file",
            "--device",
            device_arg,
            "--config",
        ])
        .arg(fx.join("config.toml"))
        .args(&extra)
        .arg("--data")
        .arg(fixture().join("data"))
        .arg("--init")
        .arg(fx.join("init.safetensors"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    if let Some(isa) = isa {
        if !run.status.success() && stderr.contains("this CPU lacks") {
            eprintln!("{isa}: skipped ({})", stderr.trim());
            return false;
        }
    }
    assert!(run.status.success(), "{stderr}");
    let label = format!(
        "{} {}",
        fx.file_name().unwrap().to_string_lossy(),
        kernels.map_or(device.to_string(), |(isa, conv)| format!("{isa} {conv}"))
    );
    let test_images = expected["test_images"].as_f64().unwrap();
    for run in expected["runs"].as_array().unwrap() {
        let name = run["name"].as_str().unwrap();
        let ours = json(&out.join(format!("runs/{name}-seed0/result.json")));
        let theirs: Vec<f64> = run["step_losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mine: Vec<f64> = ours["trace_loss"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(mine.len(), theirs.len(), "{name}: steps");
        let worst = mine
            .iter()
            .zip(&theirs)
            .map(|(a, b)| rel(*a, *b))
            .fold(0.0, f64::max);
        eprintln!(
            "{label}: {name}: worst step-loss relative error {worst:.2e} over {} steps",
            mine.len()
        );
        for (step, (a, b)) in mine.iter().zip(&theirs).enumerate() {
            assert!(
                rel(*a, *b) <= TOLERANCE,
                "{name}: step {step} loss {a} vs PyTorch {b}"
            );
        }
        // The run learns (the comparison above is not of two flat lines).
        assert!(theirs[theirs.len() - 1] < 0.7 * theirs[0], "{name}");
        for (e, (a, b)) in ours["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(run["epochs"].as_array().unwrap())
            .enumerate()
        {
            let (la, lb) = (
                a["test_loss"].as_f64().unwrap(),
                b["test_loss"].as_f64().unwrap(),
            );
            eprintln!(
                "{label}: {name}: epoch {} test loss {la:.6} vs PyTorch {lb:.6} ({:.2e})",
                e + 1,
                rel(la, lb)
            );
            assert!(
                rel(la, lb) <= TOLERANCE,
                "{name} epoch {}: test loss {la} vs {lb}",
                e + 1
            );
            // An image whose two top logits are within rounding may flip: allow 2 of 500.
            let (aa, ab) = (
                a["test_accuracy"].as_f64().unwrap(),
                b["test_accuracy"].as_f64().unwrap(),
            );
            assert!(
                (aa - ab).abs() * test_images <= 2.0 + 1e-9,
                "{name} epoch {}: accuracy {aa} vs {ab}",
                e + 1
            );
        }
    }
    true
}

#[test]
fn init_file_errors_name_the_tensor() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    // A file lacking seq.7.bias, and one whose seq.2.weight has the wrong shape.
    let dev = candle_core::Device::Cpu;
    let mut ok = candle_core::safetensors::load(fx.join("init.safetensors"), &dev).unwrap();
    let mut missing = ok.clone();
    missing.remove("seq.7.bias");
    candle_core::safetensors::save(&missing, tmp.path().join("missing.safetensors")).unwrap();
    ok.insert(
        "seq.2.weight".into(),
        candle_core::Tensor::zeros((16, 32, 3, 2), candle_core::DType::F32, &dev).unwrap(),
    );
    candle_core::safetensors::save(&ok, tmp.path().join("shape.safetensors")).unwrap();
    for (file, want) in [
        ("missing.safetensors", "lacks tensor `seq.7.bias`"),
        (
            "shape.safetensors",
            "`seq.2.weight` has shape [16, 32, 3, 2], expected [16, 32, 3, 3]",
        ),
        ("nowhere.safetensors", "nowhere.safetensors"),
    ] {
        let out = Command::cargo_bin("host-train")
            .unwrap()
            .args(["bench", "--no-plots", "--config"])
            .arg(fx.join("config.toml"))
            .arg("--data")
            .arg(fx.join("data"))
            .arg("--init")
            .arg(tmp.path().join(file))
            .arg("--out")
            .arg(tmp.path().join("out"))
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(want), "{file}: {err}");
        assert!(!tmp.path().join("out").exists(), "{file}: wrote output");
    }
}
