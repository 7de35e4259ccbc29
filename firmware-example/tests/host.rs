//! Host tests of the firmware's library (run with `cargo test --target x86_64-unknown-linux-gnu`,
//! test.sh does): the generated golden tables against the JSON files, the LR range test and the
//! fine-tuning, and the reproducibility hashes that test.sh compares with the device's log.

use firmware_example::finetune::{
    as_good, finetune, improved, range_test, Plan, Trainer, HAND_LR, RULE, SEED,
};
use firmware_example::golden::CASES;
use firmware_example::lr_find;
use sched_core::{Spec, Suggestion};
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

/// What the device does, in its order: the LR range test from the starting point (weights
/// restored bit for bit afterwards), then each run from the restored parameters, the last at
/// the suggested lr; it must reach the hand-chosen run's accuracy. Every run is deterministic
/// and starts exactly as from a fresh `Trainer`. The hashes go to target/host-repro.txt; test.sh
/// checks the device logs the same ones (bit-identical).
#[test]
fn finetuning_improves_and_hashes_are_written() {
    let mut out = String::new();
    let mut trainer = Trainer::new();
    let start = trainer.params();
    let test = range_test(&mut trainer, Plan::OneCycle, SEED, |s| {
        println!(
            "lr-find step {}: lr={} loss={} smoothed={}",
            s.step, s.lr, s.loss, s.smoothed
        )
    })
    .unwrap();
    assert_eq!(trainer.params(), start, "weights restored");
    assert_eq!(test.finder.momentum_value(), Some(0.95), "OneCycleLR's");
    let _ = writeln!(out, "repro lr-find hash={:#010x}", test.hash);
    for rule in Suggestion::ALL {
        println!("lr-find suggest {rule}: {:?}", test.finder.suggest(rule));
    }
    let found = test.suggested().unwrap().lr;
    let mut hand = None;
    for plan in [
        Plan::WarmupCosine,
        Plan::OneCycle,
        Plan::OneCycleFound(found),
    ] {
        let mut lines = Vec::new();
        trainer.restore(&start);
        let a = finetune(&mut trainer, plan, |e| lines.push(*e)).unwrap();
        let mut t = Trainer::new();
        let b = finetune(&mut t, plan, |_| {}).unwrap();
        assert_eq!(a, b, "deterministic, and restored = fresh");
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
        match plan {
            Plan::OneCycle => hand = Some(a),
            Plan::OneCycleFound(_) => {
                let hand = hand.unwrap();
                println!(
                    "found max_lr {found} ({RULE}): {:?}; hand-chosen {HAND_LR}: {:?}",
                    a.after, hand.after
                );
                assert!(as_good(&a, &hand), "found-lr run below the hand-chosen one");
            }
            Plan::WarmupCosine => {}
        }
    }
    print!("{out}");
    let path = manifest().join("target/host-repro.txt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

/// The evidence for the rule (README, "LR range test"): the range test's batch order is one
/// choice among many, so run it under 32 orders (the firmware's and 31 others) and fine-tune at
/// what each rule suggests. On this data valley reaches the hand-chosen run's held-out accuracy
/// under 30 of the 32 orders (today's numbers; the bar leaves room for 2 more misses).
#[test]
fn rules_over_batch_orders() {
    let hand = finetune(&mut Trainer::new(), Plan::OneCycle, |_| {}).unwrap();
    let seeds: Vec<u32> = [SEED, 0x9e37_79b9].into_iter().chain(100..130).collect();
    let (mut reached, mut acc, mut loss) = ([0u32; 5], [0u32; 5], [0f32; 5]);
    for &seed in &seeds {
        let test = range_test(&mut Trainer::new(), Plan::OneCycle, seed, |_| {}).unwrap();
        let mut line = format!("seed {seed:#010x}:");
        for (k, rule) in Suggestion::ALL.into_iter().enumerate() {
            let Ok(s) = test.finder.suggest(rule) else {
                line += &format!(" {rule} none");
                continue;
            };
            let out = finetune(&mut Trainer::new(), Plan::OneCycleFound(s.lr), |_| {}).unwrap();
            reached[k] += u32::from(as_good(&out, &hand));
            acc[k] += out.after.correct;
            loss[k] += out.after.loss;
            line += &format!(
                " {rule} {:.3} -> {}/{:.4}",
                s.lr, out.after.correct, out.after.loss
            );
        }
        println!("{line}");
    }
    let n = seeds.len() as f32;
    for (k, rule) in Suggestion::ALL.into_iter().enumerate() {
        println!(
            "{rule}: reaches {}/256 under {}/{} orders; mean accuracy {:.1}/256, mean eval loss {:.4}",
            hand.after.correct,
            reached[k],
            seeds.len(),
            acc[k] as f32 / n,
            loss[k] / n
        );
    }
    let valley = Suggestion::ALL
        .iter()
        .position(|&r| r == Suggestion::Valley)
        .unwrap();
    assert!(reached[valley] >= 28, "valley: {}/32", reached[valley]);
}
