//! Host tests of the firmware's library (run with `cargo test --target x86_64-unknown-linux-gnu`,
//! test.sh does): the generated golden tables against the JSON files, the fine-tuning, and the
//! reproducibility hashes that test.sh compares with the device's log.

use firmware_example::finetune::{finetune, improved, Plan, Trainer};
use firmware_example::golden::CASES;
use firmware_example::lr_find;
use sched_core::Spec;
use std::fmt::Write as _;
use std::path::PathBuf;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// build.rs turns each JSON spec into constructor code; it must build the very Spec that
/// sched-core's own serde reader builds from the file (defaults and renames included).
#[test]
fn generated_constructors_match_the_json_specs() {
    let dir = manifest().join("../tests/golden/cases");
    let files = std::fs::read_dir(&dir).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "json")
    });
    assert_eq!(
        files.count(),
        CASES.len(),
        "every golden file is in the table"
    );
    for case in &CASES {
        let text = std::fs::read_to_string(dir.join(format!("{}.json", case.name))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let parsed: Spec = serde_json::from_value(json["spec"].clone()).unwrap();
        let built = (case.spec)().unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(built, parsed, "{}", case.name);
        assert_eq!(
            case.lr,
            json["lr"].as_f64().unwrap() as f32,
            "{}",
            case.name
        );
        assert_eq!(
            case.momentum,
            json["momentum"].as_f64().unwrap() as f32,
            "{}",
            case.name
        );
        assert_eq!(
            case.steps as u64,
            json["steps"].as_u64().unwrap(),
            "{}",
            case.name
        );
    }
}

/// The same table and metric the device evaluates.
#[test]
fn golden_table_passes_on_the_host() {
    let mut misses = Vec::new();
    for case in &CASES {
        match case.run(1.0) {
            Ok(v) if v.pass() => {}
            other => misses.push(format!("{}: {other:?}", case.name)),
        }
    }
    assert!(misses.is_empty(), "{misses:#?}");
    // And a perturbation of 1e-4 is caught (what the force-failure build does on the device).
    assert!(!CASES[0].run(1.0 + 1e-4).unwrap().pass());
}

/// The LR range test table the device checks: every case file is in it, each passes on the
/// host too, and a perturbed loss is caught (what the force-failure build does on the device).
#[test]
fn lr_find_table_passes_on_the_host() {
    let dir = manifest().join("../tests/golden/lr_find/cases");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(
        files,
        lr_find::CASES.len(),
        "every lr_find case is in the table"
    );
    let mut finder = lr_find::CASES[0].finder().unwrap();
    let mut misses = Vec::new();
    for case in &lr_find::CASES {
        let v = case.run(&mut finder, 1.0);
        if !v.pass() || v.suggestions != 5 {
            misses.push(format!("{}: {v:?}", case.name));
        }
    }
    assert!(misses.is_empty(), "{misses:#?}");
    let long = lr_find::CASES.iter().map(|c| c.num_iter).max().unwrap();
    assert_eq!(lr_find::CAPACITY, long as usize);
    assert!(!lr_find::CASES[0].run(&mut finder, 1.0 + 1e-4).pass());
}

/// Fine-tuning improves the held-out loss, and the trajectory is deterministic. The hashes go
/// to target/host-repro.txt; test.sh checks the device logs the same ones (bit-identical).
#[test]
fn finetuning_improves_and_hashes_are_written() {
    let mut out = String::new();
    for plan in Plan::ALL {
        let mut lines = Vec::new();
        let mut t = Trainer::new();
        let a = finetune(&mut t, plan, |e| lines.push(*e)).unwrap();
        let mut t = Trainer::new();
        let b = finetune(&mut t, plan, |_| {}).unwrap();
        assert_eq!(a, b, "deterministic");
        assert!(improved(&a), "{}: {a:?}", plan.name());
        for e in &lines {
            println!(
                "{} epoch {}: train_loss={} eval_loss={} eval_acc={}/{} lr={} momentum={}",
                plan.name(),
                e.epoch,
                e.train_loss,
                e.eval.loss,
                e.eval.correct,
                e.eval.total,
                e.lr,
                e.momentum
            );
        }
        let _ = writeln!(out, "repro {} hash={:#010x}", plan.name(), a.hash);
    }
    print!("{out}");
    let path = manifest().join("target/host-repro.txt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}
