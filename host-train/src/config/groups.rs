//! A run's param groups (PyTorch's `param_groups`: layers with their own lr and optimizer options,
//! under one schedule) and its hyperparameter schedules (optax's `inject_hyperparams`, fastai's
//! `ParamScheduler`: any numeric optimizer option on a schedule).
//!
//! ```toml
//! [[run]]
//! name = "backbone and head"
//! lr = 0.05
//! momentum = 0.9
//! step = "batch"
//! schedule = { kind = "OneCycleLR", max_lr = [0.05, 0.01], total_steps = 40 }
//! param_groups = [{ layers = [0, 1, 2] }, { layers = [3], lr = 0.01, weight_decay = 0.001 }]
//! hyperparameters = { weight_decay = { kind = "CosineAnnealingLR", T_max = 40 } }
//! ```

use super::Run;
use crate::optim::{Optimizer, Slot};
use anyhow::{bail, Context, Result};
use sched_core::Spec;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The most param groups a run may have.
pub const MAX_PARAM_GROUPS: usize = 8;

/// One param group of a run: `{ layers = [3], lr = 0.01, weight_decay = 0.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupConfig {
    /// The network's layers it holds, by index: the convolutions from 0, the linear layer last.
    /// Consecutive; the groups take the layers in order, each once.
    pub layers: Vec<usize>,
    /// Its lr (default: the run's `lr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f32>,
    /// Its options in place of the run's optimizer's (`momentum`, `weight_decay`, `betas`, ...).
    #[serde(flatten)]
    pub options: toml::Table,
}

/// A param group as it trains.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    /// Its layers (input first).
    pub layers: Range<usize>,
    pub lr: f32,
    /// The run's optimizer with the group's options.
    pub optimizer: Optimizer,
    /// The option PyTorch's momentum cycling drives (`momentum` or `betas[0]`), found once.
    pub momentum_slot: Slot,
    /// The run's schedule with the group's values of its per-group arguments.
    pub schedule: Spec,
}

/// A hyperparameter's schedule: one spec, or one per element of a list-valued option (`betas =
/// [SPEC, SPEC]`). Each starts from the option's configured value, as a PyTorch scheduler starts
/// from a group's initial lr (optax's, Keras' and fastai's give absolute values).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HyperSchedule {
    One(Box<Spec>),
    Each(Vec<Spec>),
}

impl<'de> Deserialize<'de> for HyperSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    serde_json::from_value(v).map_err(|e| D::Error::custom(format!("[{i}]: {e}")))
                })
                .collect::<Result<_, _>>()
                .map(HyperSchedule::Each),
            v => serde_json::from_value(v)
                .map(|spec| HyperSchedule::One(Box::new(spec)))
                .map_err(D::Error::custom),
        }
    }
}

impl HyperSchedule {
    /// Each scheduled slot of option `name` with its spec.
    pub fn slots<'a>(&'a self, name: &str) -> Vec<(Slot, &'a Spec)> {
        let slot = |index| Slot {
            field: name.to_string(),
            index,
        };
        match self {
            HyperSchedule::One(spec) => vec![(slot(None), spec)],
            HyperSchedule::Each(specs) => specs
                .iter()
                .enumerate()
                .map(|(i, spec)| (slot(Some(i)), spec))
                .collect(),
        }
    }
}

impl Run {
    /// The run's param groups over a network of `layers` layers; one group of every layer when
    /// the run names none. Errors name the run, the group and the rule.
    pub fn param_groups(&self, layers: usize) -> Result<Vec<ParamGroup>> {
        let in_run = || format!("run `{}`", self.name);
        if self.param_groups.is_empty() {
            return Ok(vec![ParamGroup {
                layers: 0..layers,
                lr: self.lr,
                optimizer: self.optimizer(),
                momentum_slot: self.optimizer().momentum_slot(),
                schedule: self.schedule.clone(),
            }]);
        }
        let mut next = 0;
        let mut groups = Vec::new();
        for (g, (config, schedule)) in self
            .param_groups
            .iter()
            .zip(&self.group_schedules)
            .enumerate()
        {
            let at = || format!("{}: `param_groups[{g}]`", in_run());
            let expected: Vec<usize> = (next..next + config.layers.len()).collect();
            if config.layers.is_empty() || config.layers != expected {
                bail!(
                    "{}: `layers` = {:?}: each group takes the next layers in order, consecutive (this one starts at layer {next}; the network has layers 0 to {})",
                    at(),
                    config.layers,
                    layers - 1
                );
            }
            next += config.layers.len();
            if next > layers {
                bail!(
                    "{}: `layers`: the network has layers 0 to {}",
                    at(),
                    layers - 1
                );
            }
            let lr = config.lr.unwrap_or(self.lr);
            if !(lr.is_finite() && lr > 0.0) {
                bail!("{}: `lr` must be > 0 and finite", at());
            }
            let optimizer = self
                .optimizer()
                .with_options(&config.options)
                .with_context(at)?;
            groups.push(ParamGroup {
                layers: config.layers[0]..next,
                lr,
                momentum_slot: optimizer.momentum_slot(),
                optimizer,
                schedule: schedule.clone(),
            });
        }
        if next != layers {
            bail!(
                "{}: `param_groups` take layers 0 to {}, but the network has layers 0 to {} (each layer in one group)",
                in_run(),
                next.saturating_sub(1),
                layers - 1
            );
        }
        Ok(groups)
    }
}

/// Reads each run's schedule over its param groups (PyTorch's per-group lists: `max_lr = [0.05,
/// 0.01]`); returns each run's group schedules (none for a run without groups) and leaves the
/// first group's in the table, so that the run reads as before.
pub(super) fn take_group_schedules(table: &mut toml::Table) -> Result<Vec<Vec<Spec>>> {
    let Some(toml::Value::Array(runs)) = table.get_mut("run") else {
        return Ok(Vec::new());
    };
    let mut all = Vec::new();
    for run in runs.iter_mut() {
        let name = super::run_name(run);
        let groups = match run.get("param_groups") {
            Some(toml::Value::Array(groups)) => groups.len(),
            _ => {
                all.push(Vec::new());
                continue;
            }
        };
        if !(1..=MAX_PARAM_GROUPS).contains(&groups) {
            bail!("run `{name}`: `param_groups` must list 1 to {MAX_PARAM_GROUPS} groups, got {groups}");
        }
        let Some(schedule) = run.get("schedule").cloned() else {
            all.push(Vec::new());
            continue; // the missing field's own error follows
        };
        let specs = Spec::for_groups(schedule, groups)
            .map_err(|e| anyhow::anyhow!("run `{name}`: `schedule`: {}", e.message().trim()))?;
        let first = toml::Value::try_from(&specs[0]).context("internal: a spec as TOML")?;
        if let Some(table) = run.as_table_mut() {
            table.insert("schedule".into(), first);
        }
        all.push(specs);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::super::RunConfig;

    /// A config of one run on the study's network (layers 0-2: convolutions, 3: linear) with
    /// `extra` lines.
    fn parse(schedule: &str, extra: &str) -> anyhow::Result<RunConfig> {
        let text = format!(
            "epochs = 1\nbatch_size = 8\nseed = 1\n[[run]]\nname = \"a\"\nlr = 0.1\nmomentum = 0.9\nstep = \"batch\"\nschedule = {schedule}\n{extra}\n"
        );
        RunConfig::parse(&text, "test")
    }

    fn err(schedule: &str, extra: &str) -> String {
        format!("{:#}", parse(schedule, extra).unwrap_err())
    }

    const TWO: &str = "param_groups = [{ layers = [0, 1, 2] }, { layers = [3], lr = 0.01, weight_decay = 0.001 }]";

    #[test]
    fn groups_take_their_own_lr_options_and_list_values() {
        let config = parse(
            "{ kind = \"OneCycleLR\", max_lr = [0.1, 0.01], total_steps = 10 }",
            TWO,
        )
        .unwrap();
        let run = &config.runs[0];
        let groups = run.param_groups(4).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].layers.clone(), groups[0].lr), (0..3, 0.1));
        assert_eq!((groups[1].layers.clone(), groups[1].lr), (3..4, 0.01));
        let json = serde_json::to_value(groups[1].optimizer).unwrap();
        assert_eq!(json["weight_decay"], 0.0010000000474974513);
        assert_eq!(json["momentum"], 0.8999999761581421);
        let s = run.schedules(4).unwrap();
        // OneCycleLR starts each group at its max_lr / 25.
        assert_eq!(s.lr.lr(0), Some(0.1 / 25.0));
        assert_eq!(s.lr.lr(1), Some(0.01 / 25.0));
    }

    #[test]
    fn bad_groups_name_the_run_the_group_and_the_rule() {
        let fixed = "{ kind = \"Fixed\" }";
        let cases = [
            (
                "param_groups = [{ layers = [0, 2] }, { layers = [1, 3] }]",
                "run `a`: `param_groups[0]`: `layers` = [0, 2]: each group takes the next layers in order, consecutive (this one starts at layer 0; the network has layers 0 to 3)",
            ),
            (
                "param_groups = [{ layers = [0, 1] }]",
                "run `a`: `param_groups` take layers 0 to 1, but the network has layers 0 to 3 (each layer in one group)",
            ),
            (
                "param_groups = [{ layers = [0, 1, 2] }, { layers = [3], wd = 0.1 }]",
                "unknown field `wd`",
            ),
            (
                "param_groups = [{ layers = [0, 1, 2] }, { layers = [3], lr = -1.0 }]",
                "run `a`: `param_groups[1]`: `lr` must be > 0 and finite",
            ),
            (
                "hyperparameters = { gamma = { kind = \"Fixed\" } }",
                "run `a`: `hyperparameters.gamma`: `gamma` is not a number option of SGD; those are: dampening, momentum, weight_decay",
            ),
            (
                "hyperparameters = { momentum = { kind = \"ReduceLROnPlateau\" } }",
                "ReduceLROnPlateau needs a metric",
            ),
            (
                "hyperparameters = { momentum = { kind = \"optax.constant_schedule\", value = 1.5 } }",
                "`hyperparameters.momentum` = 1.5: `optimizer.momentum` must be in [0, 1)",
            ),
        ];
        for (extra, expected) in cases {
            let e = err(fixed, extra);
            assert!(e.contains(expected), "{extra}\n  got: {e}");
        }
        let e = err(
            "{ kind = \"OneCycleLR\", max_lr = [0.1, 0.2, 0.3], total_steps = 10 }",
            TWO,
        );
        assert!(
            e.contains(
                "run `a`: `schedule`: max_lr: expected 2 values (one per param group), got 3"
            ),
            "{e}"
        );
    }
}
