//! A run's schedules as it trains: the lr (and momentum) schedule over its param groups and each
//! hyperparameter's, stepped together; what each optimizer step reads from them
//! ([`group_steps`]); and how a checkpoint saves them.

use crate::config::{ParamGroup, Run, MAX_PARAM_GROUPS};
use crate::optim::{GroupStep, Slot};
use anyhow::{bail, Context, Result};
use sched_core::{GroupScheduler, Scheduler};
use serde::{Deserialize, Serialize};

/// One schedule over a run's param groups (sched-core's `GroupScheduler`: each group from its
/// own lr and its values of the schedule's per-group arguments, stepped together as PyTorch's
/// one scheduler). Saved as a single `Scheduler` when the run has one group, as before param
/// groups existed, so older checkpoints still read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Saved", into = "Saved")]
pub struct Schedules(GroupScheduler<MAX_PARAM_GROUPS>);

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Saved {
    One(Box<Scheduler>),
    Groups(Box<GroupScheduler<MAX_PARAM_GROUPS>>),
}

impl TryFrom<Saved> for Schedules {
    type Error = sched_core::Error;
    fn try_from(saved: Saved) -> Result<Self, Self::Error> {
        match saved {
            Saved::One(s) => Ok(Schedules(GroupScheduler::from_schedulers([*s])?)),
            Saved::Groups(g) => Ok(Schedules(*g)),
        }
    }
}

impl From<Schedules> for Saved {
    fn from(s: Schedules) -> Self {
        match s.0.groups() {
            [one] => Saved::One(Box::new(one.clone())),
            _ => Saved::Groups(Box::new(s.0)),
        }
    }
}

impl std::ops::Deref for Schedules {
    type Target = GroupScheduler<MAX_PARAM_GROUPS>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Schedules {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// A hyperparameter's schedule over the param groups, and the option it sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HyperState {
    pub slot: Slot,
    pub scheduler: Schedules,
}

/// A run's fresh schedules.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSchedules {
    pub lr: Schedules,
    pub hyperparameters: Vec<HyperState>,
}

impl Run {
    /// The run's fresh schedules on a network of `layers` layers; errors name the run.
    pub fn schedules(&self, layers: usize) -> Result<RunSchedules> {
        let groups = self.param_groups(layers)?;
        let in_run = |e: sched_core::Error| anyhow::anyhow!("run `{}`: {e}", self.name);
        let specs: Vec<_> = groups.iter().map(|g| g.schedule.clone()).collect();
        let lrs: Vec<f32> = groups.iter().map(|g| g.lr).collect();
        let momenta: Vec<f32> = groups.iter().map(|g| g.optimizer.momentum()).collect();
        let lr = Schedules(GroupScheduler::new(&specs, &lrs, &momenta).map_err(in_run)?);
        let mut hyperparameters = Vec::new();
        for (name, schedule) in &self.hyperparameters {
            for (slot, spec) in schedule.slots(name) {
                let at = || format!("run `{}`: `hyperparameters.{slot}`", self.name);
                let bases = groups
                    .iter()
                    .map(|g| g.optimizer.value(&slot))
                    .collect::<Result<Vec<f32>>>()
                    .with_context(at)?;
                let scheduler = GroupScheduler::new(std::slice::from_ref(spec), &bases, &[0.0])
                    .map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
                if scheduler.needs_metric() {
                    bail!("{}: ReduceLROnPlateau needs a metric, which a hyperparameter's schedule does not get", at());
                }
                hyperparameters.push(HyperState {
                    slot,
                    scheduler: Schedules(scheduler),
                });
            }
        }
        let schedules = RunSchedules {
            lr,
            hyperparameters,
        };
        // The first step's values pass the optimizer's rules (later ones are checked as they come).
        group_steps(
            &groups,
            &schedules.lr,
            &schedules.hyperparameters,
            &mut Vec::new(),
        )
        .map_err(|e| anyhow::anyhow!("run `{}`: {e:#}", self.name))?;
        Ok(schedules)
    }
}

/// What each param group's next optimizer step reads: its lr and momentum from the lr schedule,
/// and its optimizer with each scheduled hyperparameter's value in place (a schedule of the
/// momentum slot, `momentum` or `betas[0]`, sets the momentum too).
pub fn group_steps(
    groups: &[ParamGroup],
    lr: &Schedules,
    hyperparameters: &[HyperState],
    out: &mut Vec<GroupStep>,
) -> Result<()> {
    out.clear();
    for (g, group) in groups.iter().enumerate() {
        let (Some(group_lr), Some(mut momentum)) = (lr.lr(g), lr.momentum(g)) else {
            bail!("internal: the schedule has fewer groups than the run");
        };
        let mut optimizer = group.optimizer;
        for h in hyperparameters {
            let value = h
                .scheduler
                .lr(g)
                .context("internal: a hyperparameter's group")?;
            optimizer = optimizer
                .with_value(&h.slot, value)
                .with_context(|| format!("`hyperparameters.{}` = {value}", h.slot))?;
            if h.slot == group.momentum_slot {
                momentum = value;
            }
        }
        out.push(GroupStep {
            lr: group_lr,
            momentum,
            optimizer,
        });
    }
    Ok(())
}

/// `scheduler.step()` (with the metric for ReduceLROnPlateau) of the lr schedule and every
/// hyperparameter's; errors name the run.
pub fn step(
    run: &Run,
    lr: &mut Schedules,
    hyperparameters: &mut [HyperState],
    metric: Option<f32>,
) -> Result<()> {
    let in_run = |e: sched_core::Error| anyhow::anyhow!("run `{}`: {e}", run.name);
    match metric {
        Some(m) if lr.needs_metric() => lr.step_with_metric(m),
        _ => lr.step(),
    }
    .map_err(in_run)?;
    for h in hyperparameters {
        h.scheduler.step().map_err(in_run)?;
    }
    Ok(())
}
