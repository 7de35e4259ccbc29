//! sched-core's named defaults (`sched_core::defaults`, which the constructors and serde use)
//! against `tests/golden/defaults.json`, which `generate.py` writes from PyTorch's own signatures
//! (and the reference implementations' for the kinds PyTorch lacks).
//!
//! For every kind, a spec of that kind from the golden cases is read with every defaulted
//! argument removed; what serde fills in must be the reference's default, and every argument
//! sched-core fills in must have a reference default.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// Every spec object in `v` (children included).
fn specs<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
    match v {
        Value::Object(o) => {
            if o.contains_key("kind") {
                out.push(o);
            }
            o.values().for_each(|c| specs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| specs(c, out)),
        _ => {}
    }
}

fn same(reference: &Value, ours: &Value) -> bool {
    match (reference, ours) {
        // f32 parameters come back widened to f64: compare as f32.
        (Value::Number(a), Value::Number(b)) => {
            a.as_f64().unwrap() as f32 == b.as_f64().unwrap() as f32
        }
        _ => reference == ours,
    }
}

#[test]
fn named_defaults_are_the_references() {
    let table: BTreeMap<String, Map<String, Value>> =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("defaults.json")).unwrap())
            .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(golden_dir().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let cases: Vec<Value> = files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    let mut all = Vec::new();
    for c in &cases {
        specs(&c["spec"], &mut all);
    }
    let mut checked = BTreeMap::new();
    for spec in all {
        let kind = spec["kind"].as_str().unwrap();
        if checked.contains_key(kind) {
            continue;
        }
        let empty = Map::new();
        let reference = table.get(kind).unwrap_or(&empty);
        let mut stripped = spec.clone();
        stripped.retain(|k, _| !reference.contains_key(k));
        // Children are read as they are; only this kind's own arguments are stripped.
        let parsed: sched_core::Spec = serde_json::from_value(Value::Object(stripped.clone()))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let back = serde_json::to_value(&parsed).unwrap();
        let back = back.as_object().unwrap();
        for (name, value) in back {
            if stripped.contains_key(name) {
                continue;
            }
            let want = reference.get(name).unwrap_or_else(|| {
                panic!("{kind}.{name}: sched-core fills in {value}, the reference has no default")
            });
            assert!(
                same(want, value),
                "{kind}.{name}: sched-core's default {value}, the reference's {want}"
            );
        }
        for name in reference.keys() {
            assert!(
                back.contains_key(name),
                "{kind}.{name}: the reference has a default, sched-core has no such argument"
            );
        }
        checked.insert(kind.to_string(), reference.len());
    }
    // Every kind with a reference default was checked.
    for kind in table.keys() {
        assert!(
            checked.contains_key(kind),
            "{kind}: no golden case of this kind"
        );
    }
    assert_eq!(checked.len(), sched_core::Spec::KINDS.len(), "{checked:?}");
}

/// The constructors fill in what the spec reader fills in (checked above against the
/// references): both take each default from the kind's one declaration.
#[test]
fn constructors_use_the_declared_defaults() {
    use sched_core::{CyclicLR, OneCycleLR, ReduceLROnPlateau};
    let read = |json: &str| serde_json::from_str::<sched_core::Spec>(json).unwrap();
    assert_eq!(
        sched_core::Spec::from(CyclicLR::new(0.1, 1.0).unwrap()),
        read(r#"{"kind": "CyclicLR", "base_lr": 0.1, "max_lr": 1.0}"#)
    );
    assert_eq!(
        sched_core::Spec::from(OneCycleLR::new(0.1, 100).unwrap()),
        read(r#"{"kind": "OneCycleLR", "max_lr": 0.1, "total_steps": 100}"#)
    );
    assert_eq!(
        sched_core::Spec::from(ReduceLROnPlateau::default()),
        read(r#"{"kind": "ReduceLROnPlateau"}"#)
    );
}
