//! A PyTorch golden case from `tests/golden/cases` (see tests/golden/README.md).
#![allow(dead_code)] // each test binary uses its part

use sched_core::{Scheduler, Spec};
use serde_json::Value;

pub struct Case {
    spec: Spec,
    initial: (f32, f32),
    pub step_every: usize,
    pub metrics: Vec<f32>,
    /// PyTorch's `param_groups[0]["lr"]` / `["momentum"]` in effect for each optimizer step.
    pub lr: Vec<f64>,
    pub momentum: Vec<f64>,
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect())
        .unwrap_or_default()
}

impl Case {
    pub fn load(name: &str) -> Self {
        let path = format!(
            "{}/../tests/golden/cases/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        Case {
            spec: serde_json::from_value(case["spec"].clone()).unwrap(),
            initial: (
                case["lr"].as_f64().unwrap() as f32,
                case["momentum"].as_f64().unwrap() as f32,
            ),
            step_every: case["step_every"].as_u64().unwrap() as usize,
            metrics: floats(&case["metrics"])
                .into_iter()
                .map(|m| m as f32)
                .collect(),
            lr: floats(&case["lr_values"]),
            momentum: floats(&case["momentum_values"]),
        }
    }

    /// The case's schedule on an optimizer with its lr and momentum.
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::from_spec(&self.spec, self.initial.0, self.initial.1).unwrap()
    }

    /// The case's spec.
    pub fn spec(&self) -> Spec {
        self.spec.clone()
    }
}
