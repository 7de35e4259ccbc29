//! Properties over random specs of every kind: accepted parameters give finite lrs, random
//! access equals stepping, save/restore continues bit-identically, and no input panics.

use proptest::prelude::*;
use sched_core::schema::{Param, ParamType};
use sched_core::{Expr, Scheduler, Spec};
use serde_json::{json, Value};

/// The leaf kinds: every kind of the schema table (`Spec::PARAMS`, so a new kind is covered
/// without an entry here) but the composites, `Fixed` and `ReduceLROnPlateau` (which needs a
/// metric and sits in no composite).
fn leaf_kinds() -> Vec<(&'static str, &'static [Param])> {
    Spec::PARAMS
        .iter()
        .copied()
        .filter(|(kind, params)| {
            !matches!(*kind, "Fixed" | "ReduceLROnPlateau")
                && !params
                    .iter()
                    .any(|p| matches!(p.ty, ParamType::Spec) || p.name == "schedulers")
        })
        .collect()
}

fn float() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(-1.0),
        Just(1e30),
        Just(1e-30),
        0.0f64..1.0,
        0.0f64..10.0,
        -10.0f64..10.0,
    ]
    .prop_map(|v| json!(v))
    .boxed()
}

fn int() -> BoxedStrategy<Value> {
    prop_oneof![0u32..4, 0u32..60, Just(u32::MAX), 0u32..100_000]
        .prop_map(|v| json!(v))
        .boxed()
}

/// A random value of a parameter of type `ty` (named `name`: optax's `cosine_kwargs` holds
/// `warmup_cosine_decay_schedule` arguments).
fn value(name: &str, ty: ParamType) -> BoxedStrategy<Value> {
    match ty {
        ParamType::Int => int(),
        ParamType::OptInt => prop_oneof![4 => int(), 1 => Just(Value::Null)].boxed(),
        ParamType::Float => float(),
        ParamType::OptFloat => prop_oneof![4 => float(), 1 => Just(Value::Null)].boxed(),
        ParamType::Bool => any::<bool>().prop_map(|v| json!(v)).boxed(),
        ParamType::Choice(options) => prop::sample::select(options).prop_map(|v| json!(v)).boxed(),
        ParamType::IntList => prop::collection::vec(0u32..50, 0..6)
            .prop_map(|v| json!(v))
            .boxed(),
        ParamType::FloatList => prop::collection::vec(float(), 0..6)
            .prop_map(Value::Array)
            .boxed(),
        ParamType::StepMap => prop::collection::vec((0u32..60, float()), 0..6)
            .prop_map(|v| Value::Object(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
            .boxed(),
        ParamType::Expr | ParamType::OptExpr => prop_oneof![
            Just("0.95 ** epoch"),
            Just("0.9 if epoch < 10 else 0.99"),
            Just("1 / epoch"),
            Just("min(1.0, (epoch + 1) / 5)"),
            Just("exp(-epoch)"),
            Just("log(epoch)"),
            Just("0.95"),
        ]
        .prop_map(|v| json!(v))
        .boxed(),
        ParamType::Specs if name == "cosine_kwargs" => prop::collection::vec(
            arguments(sched_core::optax::WarmupCosineDecaySchedule::PARAMS),
            0..4,
        )
        .prop_map(Value::Array)
        .boxed(),
        ParamType::Specs | ParamType::Spec => Just(Value::Null).boxed(),
    }
}

/// A random subset of `params`, each with a random value, as a JSON object.
fn arguments(params: &'static [Param]) -> BoxedStrategy<Value> {
    let fields: Vec<_> = params
        .iter()
        .map(|p| prop::option::weighted(0.8, value(p.name, p.ty)).prop_map(move |v| (p.name, v)))
        .collect();
    fields
        .prop_map(|fields| {
            Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(name, v)| Some((name.to_string(), v?)))
                    .collect(),
            )
        })
        .boxed()
}

/// A random leaf spec: a kind and a random subset of its parameters.
fn leaf() -> BoxedStrategy<Value> {
    prop::sample::select(leaf_kinds())
        .prop_flat_map(|(kind, params)| {
            arguments(params).prop_map(move |mut object| {
                object["kind"] = json!(kind);
                object
            })
        })
        .boxed()
}

/// A random composite of `children`.
fn composite(children: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![
        (
            prop::collection::vec(children.clone(), 1..4),
            prop::collection::vec(1u32..40, 0..4)
        )
            .prop_map(|(s, m)| json!({"kind": "SequentialLR", "schedulers": s, "milestones": m})),
        prop::collection::vec(children.clone(), 1..4)
            .prop_map(|s| json!({"kind": "ChainedScheduler", "schedulers": s})),
        (
            prop::collection::vec(children, 1..4),
            prop::collection::vec(1u32..40, 0..4)
        )
            .prop_map(|(s, m)| json!({"kind": "SwitchLR", "schedulers": s, "milestones": m})),
    ]
    .boxed()
}

fn spec() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => leaf(),
        // Composites of single schedulers and, nested, of composites of single schedulers
        // (a later composite in a SequentialLR is rejected, as PyTorch would fail on it).
        3 => composite(prop_oneof![3 => leaf(), 1 => composite(leaf())].boxed()),
        1 => (leaf(), 1u32..30, any::<bool>()).prop_map(|(s, w, cos)| json!({
            "kind": "WarmupLR", "warmup_steps": w, "warmup": if cos { "cos" } else { "linear" }, "schedule": s})),
    ]
    .boxed()
}

fn build(spec: &Value, lr: f32) -> Option<Scheduler> {
    let spec: Spec = serde_json::from_value(spec.clone()).ok()?;
    Scheduler::from_spec(&spec, lr, 0.0).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn accepted_parameters_give_finite_lrs(spec in spec(), lr in prop_oneof![Just(0.1f32), 1e-6f32..10.0]) {
        if let Some(mut s) = build(&spec, lr) {
            for _ in 0..300 {
                prop_assert!(s.lr().is_finite() && s.momentum().is_finite(), "{spec} gave {} / {}", s.lr(), s.momentum());
                if s.step().is_err() {
                    break; // OneCycleLR past total_steps, a lambda dividing by zero: a typed error
                }
            }
        }
    }

    #[test]
    fn random_access_equals_stepping(spec in spec(), k in 0u32..300) {
        if let Some(mut s) = build(&spec, 0.1) {
            let direct = s.at(k);
            for _ in 0..k {
                if s.step().is_err() {
                    return Ok(());
                }
            }
            if let Some((lr, m)) = direct {
                prop_assert_eq!((lr.to_bits(), m.to_bits()), (s.lr().to_bits(), s.momentum().to_bits()),
                    "{} at step {}: direct {:?}, stepped {:?}", spec, k, (lr, m), (s.lr(), s.momentum()));
            }
        }
    }

    #[test]
    fn save_and_restore_continue_bit_identically(spec in spec(), at in 0u32..100, more in 1u32..100) {
        if let Some(mut s) = build(&spec, 0.1) {
            for _ in 0..at {
                if s.step().is_err() {
                    return Ok(());
                }
            }
            let saved = serde_json::to_string(&s).unwrap();
            let mut restored: Scheduler = serde_json::from_str(&saved).unwrap();
            prop_assert_eq!(&restored, &s);
            for _ in 0..more {
                let (a, b) = (s.step(), restored.step());
                prop_assert_eq!(a.is_ok(), b.is_ok());
                prop_assert_eq!((s.lr().to_bits(), s.momentum().to_bits()), (restored.lr().to_bits(), restored.momentum().to_bits()));
            }
        }
    }

    #[test]
    fn no_json_input_panics(text in "\\PC{0,120}") {
        if let Ok(spec) = serde_json::from_str::<Spec>(&text) {
            if let Ok(mut s) = Scheduler::from_spec(&spec, 0.1, 0.0) {
                let _ = s.step();
                let _ = s.step_with_metric(1.0);
            }
        }
    }

    #[test]
    fn no_expression_panics(text in "[-+*/%()<>=!. a-z0-9,_]{0,60}", x in -1e6f64..1e6) {
        if let Ok(e) = Expr::parse(&text, "epoch") {
            let _ = e.eval(x);
        }
    }

    #[test]
    fn metrics_never_panic(metrics in prop::collection::vec(prop_oneof![Just(f32::NAN), Just(f32::INFINITY), -1e3f32..1e3], 0..200)) {
        let spec: Spec = serde_json::from_value(json!({"kind": "ReduceLROnPlateau", "patience": 2})).unwrap();
        let mut s = Scheduler::from_spec(&spec, 0.1, 0.0).unwrap();
        for m in metrics {
            s.step_with_metric(m).unwrap();
            prop_assert!(s.lr().is_finite() && s.lr() >= 0.0);
        }
    }
}
