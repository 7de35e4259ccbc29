//! `host-train lr-find`, `lr-find suggest` and `"find"` in a run config, end to end.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;

const CONFIG: &str = r#"
epochs = 2
batch_size = 16
seed = 3

[[run]]
name = "finder one-cycle"
lr = 0.01
step = "batch"
schedule = { kind = "OneCycleLR", max_lr = "find", total_steps = 18 }

[[run]]
name = "finder constant"
lr = "find:minimum"
momentum = 0.9
step = "batch"
schedule = { kind = "Fixed" }

[[run]]
name = "plain"
lr = 0.05
step = "batch"
schedule = { kind = "Fixed" }
"#;

struct Fixture {
    ws: common::Workspace,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            ws: common::Workspace::new("find.toml", CONFIG, 144),
        }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.ws.path(p)
    }
    fn cmd(&self, sub: &str, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("host-train").unwrap();
        cmd.env("HOST_TRAIN_NO_PROGRESS", "1").arg(sub);
        if sub != "lr-find" || args.first() != Some(&"suggest") {
            cmd.arg("--config")
                .arg(self.path("find.toml"))
                .arg("--data")
                .arg(self.path("data"))
                .args(["--threads", "2"]);
        }
        cmd.args(args);
        cmd
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One line on stderr, exit 2, naming `want`.
fn fails_with(cmd: &mut Command, want: &str) {
    let out = cmd.assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(want), "wanted `{want}` in: {err}");
}

#[test]
fn lr_find_writes_the_curve_the_suggestions_and_plots() {
    let f = Fixture::new();
    let out = f.path("lf");
    let o = f
        .cmd(
            "lr-find",
            &["--run", "finder constant", "--iters", "60", "--end-lr", "1"],
        )
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .clone();
    let table = String::from_utf8_lossy(&o.stdout);
    for name in ["valley", "steep", "minimum", "slide", "lightning"] {
        assert!(table.contains(name), "{table}");
    }
    for file in ["lr_find.csv", "lr_find.json", "lr_find.png"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let record = json(&out.join("lr_find.json"));
    let test = &record["range_test"];
    assert_eq!(test["momentum"], 0.9, "the run's momentum");
    let csv = std::fs::read_to_string(out.join("lr_find.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("step,lr,loss,smoothed_loss"));
    let rows = csv.lines().count() - 1;
    assert_eq!(rows, test["lr"].as_array().unwrap().len());

    // The recorded curve, analysed again from the CSV, gives the same suggestions (when the
    // test ran all its steps, the CSV's rows are its num_iter).
    if test["stopped"] == "finished" {
        let o = f
            .cmd("lr-find", &["suggest", "--format", "json", "--csv"])
            .arg(out.join("lr_find.csv"))
            .assert()
            .success()
            .get_output()
            .clone();
        let again: Value = serde_json::from_slice(&o.stdout).unwrap();
        for (name, s) in test["suggestions"].as_object().unwrap() {
            assert_eq!(
                again[name],
                s.get("lr").cloned().unwrap_or(Value::Null),
                "{name}"
            );
        }
    }
    // An existing test is not overwritten.
    fails_with(
        f.cmd("lr-find", &["--run", "finder constant"])
            .arg("--out")
            .arg(&out),
        "already holds",
    );
}

/// `lr-find suggest` on curves fastai recorded itself (tests/golden/lr_find): the same lrs as
/// fastai's `lr_find` and Lightning's rule, through the CSV reader and the JSON writer.
#[test]
fn suggest_matches_fastai_on_the_golden_curves() {
    let f = Fixture::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/lr_find/cases");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let case = json(&entry.unwrap().path());
        let expected = &case["expected"];
        let lrs = expected["lrs"].as_array().unwrap();
        // A CSV's num_iter is its row count: only curves fastai ran to the end compare.
        if lrs.len() as u64 != case["num_iter"].as_u64().unwrap() {
            continue;
        }
        let mut csv = String::from("step,lr,loss\n");
        for (i, (lr, loss)) in lrs
            .iter()
            .zip(case["losses"].as_array().unwrap())
            .enumerate()
        {
            let loss = match loss {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            csv.push_str(&format!("{i},{},{loss}\n", lr.as_f64().unwrap() as f32));
        }
        let path = f.path(&format!("{}.csv", case["name"].as_str().unwrap()));
        std::fs::write(&path, csv).unwrap();
        let o = f
            .cmd("lr-find", &["suggest", "--format", "json", "--csv"])
            .arg(&path)
            .assert()
            .success()
            .get_output()
            .clone();
        let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
        for (name, reference) in expected["suggestions"].as_object().unwrap() {
            let want = reference.get("lr").map(|v| v.as_f64().unwrap() as f32);
            let got = ours[name].as_f64().map(|v| v as f32);
            assert_eq!(got, want, "{}: {name}", case["name"]);
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} golden curves ran to num_iter");
}

#[test]
fn bad_input_is_one_line_exit_2_and_writes_nothing() {
    let f = Fixture::new();
    fn with(extra: &[&'static str]) -> Vec<&'static str> {
        [&["--run", "plain"][..], extra].concat()
    }
    for (args, want) in [
        (
            with(&["--start-lr", "1", "--end-lr", "0.1"]),
            "--end-lr must be finite and > --start-lr",
        ),
        (with(&["--iters", "5"]), "--iters must be >= 6"),
        (with(&["--iters", "20000"]), "--iters must be <= 10000"),
        (with(&["--start-lr", "-1"]), "--start-lr"),
        // The loss is finite at the first step (the initial weights) and not at the second.
        (
            with(&["--start-lr", "1e30", "--end-lr", "1e31"]),
            "too few points",
        ),
        (vec!["--run", "nope"], "unknown run `nope`"),
    ] {
        fails_with(
            f.cmd("lr-find", &args).arg("--out").arg(f.path("bad")),
            want,
        );
        assert!(!f.path("bad").exists(), "{args:?} wrote something");
    }
    let csv = |name: &str, text: &str| {
        let p = f.path(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let rows = |n: usize| (0..n).map(|i| format!("{i},0.1,2.0\n")).collect::<String>();
    for (path, want) in [
        (csv("nolr.csv", "step,loss\n0,1\n"), "no `lr` column"),
        (
            csv("cell.csv", &format!("step,lr,loss\n{}7,0.1,abc\n", rows(7))),
            "line 9: `loss` is `abc`, not a number",
        ),
        (
            csv("short.csv", &format!("step,lr,loss\n{}", rows(3))),
            "3 rows; the range test needs between 6",
        ),
        (csv("empty.csv", ""), "empty file"),
        (f.path("missing.csv"), "cannot read"),
    ] {
        fails_with(f.cmd("lr-find", &["suggest", "--csv"]).arg(&path), want);
    }
    // A curve that is NaN from the start: the JSON says null for every rule.
    let nan = csv(
        "nan.csv",
        &format!(
            "lr,loss\n{}",
            (0..10)
                .map(|i| format!("{},NaN\n", 0.1 * (i + 1) as f32))
                .collect::<String>()
        ),
    );
    let o = f
        .cmd("lr-find", &["suggest", "--format", "json", "--csv"])
        .arg(&nan)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"valley": null, "steep": null, "minimum": null, "slide": null, "lightning": null})
    );

    // "find:<unknown>" in a run config names the run, the key and the choices.
    std::fs::write(
        f.path("bad.toml"),
        CONFIG.replace("\"find:minimum\"", "\"find:fastest\""),
    )
    .unwrap();
    let mut cmd = Command::cargo_bin("host-train").unwrap();
    cmd.args(["bench", "--config"]).arg(f.path("bad.toml"));
    fails_with(&mut cmd, "run `finder constant`: `lr` = \"find:fastest\": unknown suggestion `fastest`; expected one of valley, steep");
}

/// `"find"` in a run config: `bench` runs the range test per seed, trains at its suggestion,
/// records both in results.json, and a resumed bench reuses the test.
#[test]
fn bench_finds_the_lr_per_seed_and_records_it() {
    let f = Fixture::new();
    let out = f.path("b");
    let args = ["--seeds", "2", "--no-plots", "--out", out.to_str().unwrap()];
    f.cmd("bench", &args).assert().success();
    let results = json(&out.join("results.json"));
    let runs = results["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    let mut found = Vec::new();
    for r in runs {
        let name = r["name"].as_str().unwrap();
        if name == "plain" {
            assert!(r.get("lr_find").is_none());
            continue;
        }
        let lf = &r["lr_find"];
        let (rule, lr) = (lf["rule"].as_str().unwrap(), lf["lr"].as_f64().unwrap());
        assert_eq!(
            lf["range_test"]["suggestions"][rule]["lr"]
                .as_f64()
                .unwrap(),
            lr
        );
        match name {
            "finder one-cycle" => {
                assert_eq!((rule, lf["target"].as_str().unwrap()), ("valley", "max_lr"));
                assert_eq!(r["spec"]["max_lr"].as_f64().unwrap(), lr);
                // OneCycleLR's first momentum, 0.95, is what the range test trained at.
                assert_eq!(lf["range_test"]["momentum"], 0.95);
            }
            _ => {
                assert_eq!((rule, lf["target"].as_str().unwrap()), ("minimum", "lr"));
                assert_eq!(r["lr"].as_f64().unwrap(), lr);
                assert_eq!(lf["range_test"]["momentum"], 0.9);
            }
        }
        found.push(lr);
    }
    // The pair folder keeps the test; resuming a finished bench changes nothing.
    let kept = out.join("runs/finder-one-cycle-seed3/lr_find.json");
    let before = std::fs::read(&kept).unwrap();
    f.cmd("bench", &[&args[..], &["--resume"]].concat())
        .assert()
        .success();
    assert_eq!(std::fs::read(&kept).unwrap(), before);
    assert_eq!(json(&out.join("results.json"))["runs"], results["runs"]);
    // `curve` cannot show a run whose lr is still to be found.
    let mut cmd = Command::cargo_bin("host-train").unwrap();
    cmd.args([
        "curve",
        "--preset",
        "tutorial",
        "--run",
        "LR finder + One Cycle",
    ]);
    fails_with(&mut cmd, "LR range test");
}
