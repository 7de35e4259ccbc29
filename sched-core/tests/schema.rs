//! sched-core's parameter table (`Spec::PARAMS`, what the page builds its form from) against
//! the core itself: every kind in order, the parameter names and defaults serde fills in, required
//! parameters that are required, choices that parse, and examples that build.

use sched_core::schema::{DefaultValue, Param, ParamType};

const PARAMS: &[(&str, &[Param])] = Spec::PARAMS;
use sched_core::{Scheduler, Spec};
use serde_json::{json, Value};

fn json_text(d: DefaultValue, ty: ParamType) -> String {
    let options = match ty {
        ParamType::Choice(o) => o,
        _ => &[],
    };
    let mut s = String::new();
    d.write_json(options, &mut s).unwrap();
    s
}

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
                let d: Value = serde_json::from_str(&json_text(d, p.ty)).unwrap();
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
            if let ParamType::Choice(options) = p.ty {
                for o in options {
                    let mut v = full.clone();
                    v[p.name] = json!(o);
                    serde_json::from_value::<Spec>(v)
                        .unwrap_or_else(|e| panic!("{kind}.{} = {o}: {e}", p.name));
                }
            }
        }
        // The example builds, as the page builds it (a length for fastai's schedules).
        let spec: Spec = serde_json::from_value(full).unwrap();
        Scheduler::from_spec(&spec.with_total_steps(1000), 0.001, 0.0)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}
