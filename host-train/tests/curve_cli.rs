//! `host-train curve` end to end: the study's 13 deterministic runs print exactly the per-batch
//! lr and momentum PyTorch gives (tests/golden/cases/tutorial_*.json), and bad input exits 2
//! with one line naming the parameter.

use assert_cmd::Command;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Golden {
    lr_values: Vec<f64>,
    momentum_values: Vec<f64>,
}

fn golden(case: &str) -> Golden {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../tests/golden/cases/{case}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn curve(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("host-train")
        .unwrap()
        .arg("curve")
        .args(args)
        .output()
        .unwrap()
}

/// Max of |a - b| / max(|b|, 1e-6 * max |b|), the golden suite's metric.
fn max_rel_err(actual: &[f64], expected: &[f64]) -> f64 {
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (1e-6 * scale).max(f64::MIN_POSITIVE);
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs() / e.abs().max(floor))
        .fold(0.0, f64::max)
}

const RUNS: &[(&str, &str)] = &[
    ("Constant Learning Rate", "tutorial_constant_learning_rate"),
    (
        "Step LR Scheduler Epochs",
        "tutorial_step_lr_scheduler_epochs",
    ),
    (
        "Step LR Scheduler Batches",
        "tutorial_step_lr_scheduler_batches",
    ),
    (
        "MultiStep LR Scheduler Epochs",
        "tutorial_multistep_lr_scheduler_epochs",
    ),
    (
        "Multiplicative LR Scheduler Epochs",
        "tutorial_multiplicative_lr_scheduler_epochs",
    ),
    (
        "Lambda LR Scheduler Epochs",
        "tutorial_lambda_lr_scheduler_epochs",
    ),
    (
        "Exponential LR Scheduler Epochs",
        "tutorial_exponential_lr_scheduler_epochs",
    ),
    (
        "One Cycle LR Scheduler Batches",
        "tutorial_one_cycle_lr_scheduler_batches",
    ),
    (
        "Cyclic LR Scheduler Batches",
        "tutorial_cyclic_lr_scheduler_batches",
    ),
    (
        "Cosine Annealing LR Scheduler Epochs",
        "tutorial_cosine_annealing_lr_scheduler_epochs",
    ),
    (
        "Cosine Annealing With Warm Restarts Scheduler Epochs",
        "tutorial_cosine_annealing_with_warm_restarts_scheduler_epochs",
    ),
    (
        "Combining Multiple LR Schedulers Epochs V1",
        "tutorial_combining_multiple_lr_schedulers_epochs_v1",
    ),
    (
        "Combining Multiple LR Schedulers Epochs V2",
        "tutorial_combining_multiple_lr_schedulers_epochs_v2",
    ),
];

#[test]
fn tutorial_preset_csv_matches_pytorch() {
    for (run, case) in RUNS {
        let out = curve(&["--preset", "tutorial", "--run", run]);
        assert!(
            out.status.success(),
            "{run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("step,lr,momentum"));
        let (mut lrs, mut moms) = (Vec::new(), Vec::new());
        for (i, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields[0], i.to_string());
            // At least 9 significant digits.
            assert!(
                fields[1]
                    .split('e')
                    .next()
                    .unwrap()
                    .replace(['.', '-'], "")
                    .len()
                    >= 9,
                "{line}"
            );
            lrs.push(fields[1].parse::<f64>().unwrap());
            moms.push(fields[2].parse::<f64>().unwrap());
        }
        assert_eq!(lrs.len(), 7035, "{run}");
        let g = golden(case);
        let (e_lr, e_m) = (
            max_rel_err(&lrs, &g.lr_values),
            max_rel_err(&moms, &g.momentum_values),
        );
        assert!(
            e_lr <= 1e-5 && e_m <= 1e-5,
            "{run}: max rel err lr {e_lr:.2e}, momentum {e_m:.2e}"
        );
    }
}

#[test]
fn schedule_json_and_formats() {
    let out = curve(&[
        "--schedule",
        r#"{"kind":"StepLR","step_size":2,"gamma":0.5}"#,
        "--lr",
        "1",
        "--steps",
        "5",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lrs: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25]);

    let out = curve(&[
        "--schedule",
        r#"{"kind":"ExponentialLR","gamma":0.5}"#,
        "--lr",
        "1",
        "--steps",
        "4",
        "--step-every",
        "2",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["lr"], serde_json::json!([1.0, 1.0, 0.5, 0.5]));
    assert_eq!(doc["momentum"], serde_json::json!([0.0, 0.0, 0.0, 0.0]));
}

#[test]
fn plateau_reads_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("metrics.txt");
    std::fs::write(&metrics, "1.0\n1.0\n1.0\n1.0\n").unwrap();
    let spec = r#"{"kind":"ReduceLROnPlateau","patience":1,"factor":0.5}"#;
    let out = curve(&[
        "--schedule",
        spec,
        "--lr",
        "1",
        "--steps",
        "4",
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lrs: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    // Metric 1.0 is an improvement once, then bad twice: cut after the third step.
    assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5]);

    let out = curve(&["--schedule", spec, "--lr", "1", "--steps", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics is required"));

    std::fs::write(&metrics, "1.0\n").unwrap();
    let out = curve(&[
        "--schedule",
        spec,
        "--lr",
        "1",
        "--steps",
        "4",
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: scheduler step after optimizer step 1: ReduceLROnPlateau needs metric 2 but 1 were given (one per scheduler step)",
    );
}

/// `--lr A,B`: one scheduler over two param groups, the schedule's per-group arguments as
/// lists; every group's column matches PyTorch's SGD with two groups
/// (tests/golden/groups/, generate.py's `define_group_cases`).
#[test]
fn param_groups_print_one_pair_of_columns_per_group_as_pytorch() {
    #[derive(Deserialize)]
    struct GroupGolden {
        spec: serde_json::Value,
        lr: Vec<f32>,
        momentum: Vec<f32>,
        steps: usize,
        lr_values: Vec<Vec<f64>>,
        momentum_values: Vec<Vec<f64>>,
    }
    for case in [
        "groups_OneCycleLR_lists",
        "groups3_CosineAnnealingWarmRestarts",
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../tests/golden/groups/{case}.json"));
        let g: GroupGolden =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let list = |v: &[f32]| v.iter().map(f32::to_string).collect::<Vec<_>>().join(",");
        let (lrs, momenta, steps) = (list(&g.lr), list(&g.momentum), g.steps.to_string());
        let spec = g.spec.to_string();
        let out = curve(&[
            "--schedule",
            &spec,
            "--lr",
            &lrs,
            "--momentum",
            &momenta,
            "--steps",
            &steps,
        ]);
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = std::iter::once("step".to_string())
            .chain((0..g.lr.len()).flat_map(|i| [format!("lr_{i}"), format!("momentum_{i}")]))
            .collect();
        assert_eq!(lines.next().unwrap(), header.join(","), "{case}");
        let rows: Vec<Vec<f64>> = lines
            .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), g.steps, "{case}");
        for group in 0..g.lr.len() {
            let column = |c: usize| rows.iter().map(|r| r[c]).collect::<Vec<_>>();
            let lr_err = max_rel_err(&column(2 * group), &g.lr_values[group]);
            let m_err = max_rel_err(&column(2 * group + 1), &g.momentum_values[group]);
            assert!(
                lr_err <= 1e-5 && m_err <= 1e-5,
                "{case} group {group}: {lr_err:e} {m_err:e}"
            );
        }
    }
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_parameter() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--schedule",
                r#"{"kind":"OneCycleLR","max_lr":[0.01,0.1],"total_steps":10}"#,
                "--lr",
                "0.1,0.2,0.3",
                "--steps",
                "3",
            ],
            "--schedule: max_lr: expected 3 values (one per param group), got 2",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--lr",
                "0.1,fast",
                "--steps",
                "3",
            ],
            "--lr: must be a number or a comma-separated list of numbers, got `0.1,fast`",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--lr",
                "0.1,0.2",
                "--momentum",
                "0.9,0.9,0.9",
                "--steps",
                "3",
            ],
            "--momentum: must give one momentum, or one per param group (2), got 3",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":0}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "`step_size` must be >= 1",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLr","step_size":2}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "unknown variant `StepLr`, expected one of",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2,"gama":1}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "unknown field `gama`",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":10,"pct_start":1.5}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "`pct_start` must be in (0, 1)",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--lr",
                "-1",
                "--steps",
                "3",
            ],
            "`lr` must be >= 0",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--steps",
                "3",
            ],
            "--lr is required",
        ),
        (
            &["--preset", "tutorial", "--run", "Nope"],
            "unknown run `Nope`",
        ),
        (
            &["--preset", "nope", "--run", "x"],
            "unknown --preset `nope`",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":3}"#,
                "--lr",
                "0.1",
                "--steps",
                "10",
            ],
            "error: scheduler step after optimizer step 3: OneCycleLR: stepped past `total_steps`",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--lr",
                "0.1",
                "--steps",
                "-5",
            ],
            "error: --steps: must be a non-negative integer, got -5",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":2}"#,
                "--lr",
                "0.1",
                "--steps",
                "ten",
            ],
            "error: --steps: must be a non-negative integer, got ten",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"CyclicLR","base_lr":0.001,"max_lr":0.01,"mode":"zigzag"}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "error: --schedule: mode: unknown variant `zigzag`, expected one of `triangular`, `triangular2`, `exp_range`",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"StepLR","step_size":"three"}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "error: --schedule: step_size: invalid type: string \"three\", expected an integer >= 1",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"ChainedScheduler","schedulers":[{"kind":"StepLR","step_size":2},{"kind":"ExponentialLR","gamma":"0.9"}]}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "error: --schedule: schedulers[1].gamma: invalid type: string \"0.9\", expected a number",
        ),
        (
            &[
                "--schedule",
                r#"{"kind":"LambdaLR","lr_lambda":"0.95 ** epoch +"}"#,
                "--lr",
                "0.1",
                "--steps",
                "3",
            ],
            "error: --schedule: lr_lambda: invalid expression at byte 15: unexpected end",
        ),
    ];
    for (args, want) in cases {
        let out = curve(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: `{stderr}` lacks `{want}`");
    }
}

#[test]
fn plot_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["curve.png", "curve.svg"] {
        let path = dir.path().join(name);
        let out = curve(&[
            "--preset",
            "tutorial",
            "--run",
            "Cyclic LR Scheduler Batches",
            "--plot",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 1000, "{name}: {} bytes", bytes.len());
        if name.ends_with(".png") {
            assert_eq!(&bytes[1..4], b"PNG");
        } else {
            assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
        }
    }
    let out = curve(&[
        "--preset",
        "tutorial",
        "--run",
        "Cyclic LR Scheduler Batches",
        "--plot",
        dir.path().join("x.gif").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// One text for a failed curve: the same bad specs through `host-train curve` and through the
/// page's `curve_values` (wasm-demo, natively) give the same message; the CLI only puts `error: `
/// (and `--schedule: ` for a spec that does not parse) in front.
#[test]
fn cli_and_page_print_the_same_error_text() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_file = dir.path().join("metrics.txt");
    std::fs::write(&metrics_file, "1.0\n2.0\n").unwrap();
    // (spec, lr, steps, step_every, metrics)
    let cases: &[(&str, f32, u32, u32, &[f32])] = &[
        (
            r#"{"kind":"CyclicLR","base_lr":0.001,"max_lr":0.01,"mode":"zigzag"}"#,
            0.1,
            3,
            1,
            &[],
        ),
        (r#"{"kind":"StepLR","step_size":"three"}"#, 0.1, 3, 1, &[]),
        (r#"{"kind":"StepLR","step_sise":3}"#, 0.1, 3, 1, &[]),
        (r#"{"kind":"StepLr","step_size":3}"#, 0.1, 3, 1, &[]),
        (
            r#"{"kind":"SequentialLR","milestones":[2],"schedulers":[{"kind":"StepLR","step_size":1},{"kind":"ExponentialLR","gamma":-1}]}"#,
            0.1,
            3,
            1,
            &[],
        ),
        (
            r#"{"kind":"SwitchLR","milestones":[2],"schedulers":[{"kind":"StepLR","step_size":1},{"kind":"ExponentialLR","gamma":[0.9]}]}"#,
            0.1,
            3,
            1,
            &[],
        ),
        (
            r#"{"kind":"LambdaLR","lr_lambda":"0.95 ** epoch +"}"#,
            0.1,
            3,
            1,
            &[],
        ),
        (r#"{"kind":"StepLR","step_size":0}"#, 0.1, 3, 1, &[]),
        (r#"{"kind":"StepLR","step_size":2}"#, -1.0, 3, 1, &[]),
        (
            r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":3}"#,
            0.1,
            10,
            1,
            &[],
        ),
        (
            r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":3}"#,
            0.1,
            10,
            2,
            &[],
        ),
        (
            r#"{"kind":"LambdaLR","lr_lambda":"1 / (epoch - 2)"}"#,
            0.1,
            5,
            1,
            &[],
        ),
        (r#"{"kind":"ExponentialLR","gamma":1e30}"#, 1.0, 5, 1, &[]),
        (
            r#"{"kind":"ReduceLROnPlateau","patience":1}"#,
            0.1,
            5,
            1,
            &[1.0, 2.0],
        ),
    ];
    for &(spec, lr, steps, step_every, metrics) in cases {
        let page =
            wasm_demo::curve_values(spec, lr, 0.0, steps, step_every, metrics).expect_err(spec);
        let (lr_text, steps_text, every_text) =
            (lr.to_string(), steps.to_string(), step_every.to_string());
        let mut args = vec![
            "--schedule",
            spec,
            "--lr",
            &lr_text,
            "--steps",
            &steps_text,
            "--step-every",
            &every_text,
        ];
        if !metrics.is_empty() {
            args.extend(["--metrics", metrics_file.to_str().unwrap()]);
        }
        let out = curve(&args);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        let cli = stderr.trim_end();
        assert!(
            cli == format!("error: {page}") || cli == format!("error: --schedule: {page}"),
            "{spec}\n  cli: {cli}\n page: {page}"
        );
    }
}
