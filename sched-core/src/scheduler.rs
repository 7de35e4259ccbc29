//! `Scheduler`: a schedule bound to an optimizer's lr and momentum, stepped like PyTorch.

use crate::leaf::{LeafState, ParamGroup};
use crate::spec::{check_children, LeafSpec, Spec, WarmupLR, MAX_CHILDREN};
use crate::Error;
use heapless::Vec;

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(clippy::large_enum_variant)]
enum Body {
    Fixed,
    Leaf(LeafState),
    Sequential {
        children: Vec<LeafState, MAX_CHILDREN>,
        milestones: Vec<u32, MAX_CHILDREN>,
    },
    Chained(Vec<LeafState, MAX_CHILDREN>),
    Switch {
        children: Vec<LeafState, MAX_CHILDREN>,
        milestones: Vec<u32, MAX_CHILDREN>,
    },
    Warmup {
        warmup: WarmupLR,
        inner: LeafState,
        base: f32,
    },
}

/// A schedule driving one optimizer param group: the lr and momentum in effect now, and
/// `step()` to advance, with PyTorch's semantics.
///
/// The whole state is a plain value (`Clone`, and `serde` with the `serde` feature): save it
/// with a checkpoint and a restored scheduler continues bit-identically.
///
/// ```
/// use sched_core::{Scheduler, Spec, StepLR};
/// // optimizer = SGD(lr=0.1); scheduler = StepLR(optimizer, step_size=30)
/// let mut s = Scheduler::new(StepLR::new(30, 0.1)?, 0.1, 0.0)?;
/// for epoch in 0..100 {
///     let lr = s.lr(); // train one epoch with this lr
///     # let _ = (epoch, lr);
///     s.step()?;
/// }
/// assert_eq!(s.lr(), 1e-4); // 0.1 * 0.1^3: epochs 90..99
/// # Ok::<(), sched_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Scheduler {
    group: ParamGroup,
    initial: ParamGroup,
    steps: u32,
    body: Body,
}

fn build_all(
    children: &[LeafSpec],
    group: &mut ParamGroup,
) -> Result<Vec<LeafState, MAX_CHILDREN>, Error> {
    let mut built = Vec::new();
    for child in children {
        // check_children bounded the count, so the push cannot fail.
        let _ = built.push(LeafState::build(child, group)?);
    }
    Ok(built)
}

/// Children that step on each other's lr (`ChainedScheduler`, `SwitchLR`) step in exact mode
/// when one of them has a positive offset, below which another child can drive the lr and on
/// through zero (see `LeafState::exact`).
fn exact(mut children: Vec<LeafState, MAX_CHILDREN>) -> Vec<LeafState, MAX_CHILDREN> {
    if children
        .iter()
        .any(|c| matches!(&c.spec, LeafSpec::CosineAnnealingLR(s) if s.eta_min > 0.0))
    {
        children.iter_mut().for_each(LeafState::set_exact);
    }
    children
}

fn child_index(milestones: &[u32], n: u32) -> usize {
    milestones.iter().filter(|&&m| m <= n).count()
}

impl Scheduler {
    /// Builds `spec` on an optimizer whose lr and momentum are `lr` and `momentum`
    /// (PyTorch: `SGD(params, lr=lr, momentum=momentum)`, then the scheduler's constructor).
    pub fn new(spec: impl Into<Spec>, lr: f32, momentum: f32) -> Result<Self, Error> {
        Self::from_spec(&spec.into(), lr, momentum)
    }

    /// As [`Scheduler::new`], from a borrowed spec.
    pub fn from_spec(spec: &Spec, lr: f32, momentum: f32) -> Result<Self, Error> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::invalid("optimizer", "lr", "must be >= 0 and finite"));
        }
        if !(momentum.is_finite() && momentum >= 0.0) {
            return Err(Error::invalid(
                "optimizer",
                "momentum",
                "must be >= 0 and finite",
            ));
        }
        let mut group = ParamGroup::new(lr, momentum);
        let initial = group;
        let body = match spec {
            Spec::Fixed => Body::Fixed,
            Spec::SequentialLR(s) => {
                check_children("SequentialLR", &s.schedulers, Some(&s.milestones))?;
                let mut children = build_all(&s.schedulers, &mut group)?;
                group.set_lr(group.initial_lr);
                children[0].initial_step(&mut group)?;
                Body::Sequential {
                    children,
                    milestones: s.milestones.clone(),
                }
            }
            Spec::ChainedScheduler(s) => {
                check_children("ChainedScheduler", &s.schedulers, None)?;
                Body::Chained(exact(build_all(&s.schedulers, &mut group)?))
            }
            Spec::SwitchLR(s) => {
                check_children("SwitchLR", &s.schedulers, Some(&s.milestones))?;
                Body::Switch {
                    children: exact(build_all(&s.schedulers, &mut group)?),
                    milestones: s.milestones.clone(),
                }
            }
            Spec::WarmupLR(w) => {
                w.validate()?;
                let base = group.initial_lr;
                let inner = LeafState::build(&w.schedule, &mut group)?;
                group.set_lr(base * w.factor(0));
                Body::Warmup {
                    warmup: w.clone(),
                    inner,
                    base,
                }
            }
            leaf => {
                let leaf =
                    leaf.as_leaf()
                        .ok_or(Error::invalid("Spec", "kind", "is not a schedule"))?;
                Body::Leaf(LeafState::build(&leaf, &mut group)?)
            }
        };
        Ok(Scheduler {
            group,
            initial,
            steps: 0,
            body,
        })
    }

    /// The lr in effect for the next optimizer step (PyTorch: `optimizer.param_groups[0]["lr"]`).
    pub fn lr(&self) -> f32 {
        self.group.lr
    }

    /// The momentum in effect for the next optimizer step. `OneCycleLR` and `CyclicLR` with
    /// `cycle_momentum` (their default) set it, as they do on PyTorch's SGD.
    pub fn momentum(&self) -> f32 {
        self.group.momentum
    }

    /// The optimizer param group the scheduler drives.
    pub fn group(&self) -> ParamGroup {
        self.group
    }

    /// How many times `step` / `step_with_metric` succeeded.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// True for `ReduceLROnPlateau`, which must be stepped with [`Scheduler::step_with_metric`].
    pub fn needs_metric(&self) -> bool {
        matches!(&self.body, Body::Leaf(leaf) if leaf.needs_metric())
    }

    /// `scheduler.step()`. On error the state is unchanged.
    pub fn step(&mut self) -> Result<(), Error> {
        let next = self.steps.checked_add(1).ok_or(Error::invalid(
            "Scheduler",
            "step",
            "count overflowed u32",
        ))?;
        let group = &mut self.group;
        match &mut self.body {
            Body::Fixed => {}
            Body::Leaf(leaf) => leaf.step(group)?,
            Body::Sequential {
                children,
                milestones,
            } => {
                let i = child_index(milestones, next);
                if i > 0 && milestones[i - 1] == next {
                    children[i].restart(group)?;
                } else {
                    children[i].step(group)?;
                }
            }
            Body::Chained(children) => {
                // A later child may fail after an earlier one stepped: keep the step atomic by
                // saving the counters (not the specs) first.
                let saved_group = *group;
                let saved: Vec<_, MAX_CHILDREN> = children.iter().map(|c| c.c).collect();
                for child in children.iter_mut() {
                    if let Err(e) = child.step(group) {
                        *group = saved_group;
                        for (child, counters) in children.iter_mut().zip(saved) {
                            child.c = counters;
                        }
                        return Err(e);
                    }
                }
            }
            Body::Switch {
                children,
                milestones,
            } => children[child_index(milestones, next)].step(group)?,
            Body::Warmup {
                warmup,
                inner,
                base,
            } => {
                if next < warmup.warmup_steps {
                    group.set_lr(*base * warmup.factor(next));
                } else if next == warmup.warmup_steps {
                    inner.restart(group)?;
                } else {
                    inner.step(group)?;
                }
            }
        }
        self.steps = next;
        Ok(())
    }

    /// `ReduceLROnPlateau.step(metric)`.
    pub fn step_with_metric(&mut self, metric: f32) -> Result<(), Error> {
        match &mut self.body {
            Body::Leaf(leaf) => leaf.step_with_metric(&mut self.group, metric)?,
            _ => return Err(Error::MetricNotAccepted),
        }
        self.steps = self.steps.saturating_add(1);
        Ok(())
    }

    /// The `(lr, momentum)` in effect after `k` steps from construction, computed directly
    /// where the math allows (every leaf but `MultiplicativeLR` and `ReduceLROnPlateau`;
    /// `SequentialLR` and `WarmupLR` of such leaves that leave the momentum alone, without
    /// `SWALR`, which anneals from the lr it is handed); `None`
    /// where only stepping can tell (`ChainedScheduler`, `SwitchLR`, ...).
    pub fn at(&self, k: u32) -> Option<(f32, f32)> {
        let initial = self.initial;
        let restarted = |leaf: &LeafState, local: u32, base: f32| {
            let mut group = initial;
            group.set_lr(base);
            leaf.at(local, group)
        };
        match &self.body {
            Body::Fixed => Some((initial.lr, initial.momentum)),
            Body::Leaf(leaf) => leaf.at(k, initial),
            Body::Sequential {
                children,
                milestones,
            } => {
                // OneCycleLR rewrites the group's initial lr, which the reset then uses; a child
                // cycling momentum sets it when built, whoever runs; SWALR restarts from the lr
                // the child before it left.
                if children.iter().any(|c| {
                    matches!(c.spec, LeafSpec::OneCycleLR(_) | LeafSpec::SWALR(_))
                        || c.touches_momentum()
                }) {
                    return None;
                }
                let i = child_index(milestones, k);
                let start = if i == 0 { 0 } else { milestones[i - 1] };
                restarted(&children[i], k - start, initial.lr)
            }
            Body::Warmup {
                warmup,
                inner,
                base,
            } => {
                if inner.touches_momentum() || matches!(inner.spec, LeafSpec::SWALR(_)) {
                    return None;
                }
                if k < warmup.warmup_steps {
                    Some((*base * warmup.factor(k), initial.momentum))
                } else {
                    restarted(inner, k - warmup.warmup_steps, *base)
                }
            }
            Body::Chained(_) | Body::Switch { .. } => None,
        }
    }

    /// The lr after `k` steps without stepping, where the math allows (see [`Scheduler::at`]).
    pub fn lr_at(&self, k: u32) -> Option<f32> {
        self.at(k).map(|(lr, _)| lr)
    }

    /// The momentum after `k` steps without stepping, where the math allows.
    pub fn momentum_at(&self, k: u32) -> Option<f32> {
        self.at(k).map(|(_, m)| m)
    }
}
