//! `GroupScheduler`: one schedule over an optimizer's param groups, as PyTorch steps them.

use crate::{Error, Scheduler, Spec};
use heapless::Vec;

/// One schedule driving up to `N` optimizer param groups (backbone and head at their own lrs),
/// stepped together like one PyTorch scheduler on an optimizer with several groups.
///
/// PyTorch's schedulers compute each group from that group alone: its own base lr and
/// momentum, its own value of a per-group argument (`OneCycleLR(max_lr=[0.1, 0.01])`), the
/// same step count and, for `ReduceLROnPlateau`, the same metric (whose counters decide the
/// same reductions for every group). So each group here is a [`Scheduler`] built on the group's
/// lr and momentum from the group's spec ([`Spec::for_groups`] reads PyTorch's lists), and a
/// step steps them all or, on error, none.
///
/// Memory: `N` schedulers (`size_of::<GroupScheduler<N>>()` is about `N *
/// size_of::<Scheduler>()`); a step also holds one scheduler's copy on the stack.
///
/// ```
/// use sched_core::{GroupScheduler, OneCycleLR, Spec};
/// // SGD([{"params": backbone, "lr": 0.01}, {"params": head}], lr=0.1, momentum=0.9)
/// // OneCycleLR(optimizer, max_lr=[0.01, 0.1], total_steps=100)
/// let specs: [Spec; 2] = [
///     OneCycleLR::new(0.01, 100)?.into(),
///     OneCycleLR::new(0.1, 100)?.into(),
/// ];
/// let mut s = GroupScheduler::<2>::new(&specs, &[0.01, 0.1], &[0.9])?;
/// assert_eq!(s.len(), 2);
/// s.step()?;
/// let (backbone, head) = (s.lr(0).unwrap(), s.lr(1).unwrap());
/// assert!((head / backbone - 10.0).abs() < 1e-4); // the same curve at a tenth
/// # Ok::<(), sched_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GroupScheduler<const N: usize> {
    groups: Vec<Scheduler, N>,
}

/// Fewer than one or more than `N` groups.
const GROUP_COUNT: Error = Error::invalid(
    "GroupScheduler",
    "lrs",
    "must give 1 to N (the capacity) param groups",
);

impl<const N: usize> GroupScheduler<N> {
    /// Builds the groups in order, group `i` from `specs[i]` on an optimizer group with lr
    /// `lrs[i]` and momentum `momenta[i]`. `lrs` gives the number of groups (1 to `N`); one
    /// spec or one momentum serves every group.
    pub fn new(specs: &[Spec], lrs: &[f32], momenta: &[f32]) -> Result<Self, Error> {
        if lrs.is_empty() || lrs.len() > N {
            return Err(GROUP_COUNT);
        }
        let each = |len: usize| len == 1 || len == lrs.len();
        if !each(specs.len()) {
            return Err(Error::invalid(
                "GroupScheduler",
                "specs",
                "must give one spec, or one per param group",
            ));
        }
        if !each(momenta.len()) {
            return Err(Error::invalid(
                "GroupScheduler",
                "momenta",
                "must give one momentum, or one per param group",
            ));
        }
        let mut groups = Vec::<Scheduler, N>::new();
        for (i, &lr) in lrs.iter().enumerate() {
            let spec = specs.get(i).or(specs.first());
            let momentum = momenta.get(i).or(momenta.first());
            let (Some(spec), Some(&momentum)) = (spec, momentum) else {
                break; // checked above
            };
            let _ = groups.push(Scheduler::from_spec(spec, lr, momentum)?);
        }
        Self::from_schedulers(groups)
    }

    /// The groups' schedulers, built already (one per group, in order, 1 to `N`; a restored
    /// single-group state, for instance).
    pub fn from_schedulers(schedulers: impl IntoIterator<Item = Scheduler>) -> Result<Self, Error> {
        let mut groups = Vec::new();
        for s in schedulers {
            groups.push(s).map_err(|_| GROUP_COUNT)?;
        }
        let Some(first) = groups.first() else {
            return Err(GROUP_COUNT);
        };
        if groups
            .iter()
            .any(|g| g.needs_metric() != first.needs_metric())
        {
            return Err(Error::invalid(
                "GroupScheduler",
                "specs",
                "must all need a metric (ReduceLROnPlateau) or none",
            ));
        }
        Ok(GroupScheduler { groups })
    }

    /// The number of param groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Never true: a `GroupScheduler` has at least one group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Group `i`'s lr for the next optimizer step (`optimizer.param_groups[i]["lr"]`).
    pub fn lr(&self, i: usize) -> Option<f32> {
        self.groups.get(i).map(Scheduler::lr)
    }

    /// Group `i`'s momentum for the next optimizer step.
    pub fn momentum(&self, i: usize) -> Option<f32> {
        self.groups.get(i).map(Scheduler::momentum)
    }

    /// Each group's scheduler, in order.
    pub fn groups(&self) -> &[Scheduler] {
        &self.groups
    }

    /// True when a step takes a metric ([`Scheduler::needs_metric`]).
    pub fn needs_metric(&self) -> bool {
        self.groups.iter().any(Scheduler::needs_metric)
    }

    /// How many steps succeeded.
    pub fn steps(&self) -> u32 {
        self.groups.first().map_or(0, Scheduler::steps)
    }

    /// `scheduler.step()` for every group. On error no group has stepped.
    pub fn step(&mut self) -> Result<(), Error> {
        self.step_all(None)
    }

    /// `scheduler.step(metric)` for every group. On error no group has stepped.
    pub fn step_with_metric(&mut self, metric: f32) -> Result<(), Error> {
        self.step_all(Some(metric))
    }

    /// `step()`, or `step(metric)` with `Some`.
    pub(crate) fn step_all(&mut self, metric: Option<f32>) -> Result<(), Error> {
        let step = |s: &mut Scheduler| match metric {
            Some(m) => s.step_with_metric(m),
            None => s.step(),
        };
        // A step is a function of the state alone, so stepping each group's copy first finds
        // any error before a group changes (one copy at a time, not N).
        for group in &self.groups {
            step(&mut group.clone())?;
        }
        for group in &mut self.groups {
            step(group)?;
        }
        Ok(())
    }
}
