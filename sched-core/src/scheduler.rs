//! `Scheduler`: a schedule bound to an optimizer's lr and momentum, stepped like PyTorch.

use crate::leaf::{Counters, LeafState, ParamGroup};
use crate::spec::{
    check_children, ChildRef, Children, Composite, LeafSpec, Spec, WarmupLR, MAX_CHILDREN,
    MAX_LEAVES,
};
use crate::Error;
use heapless::Vec;

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(clippy::large_enum_variant)]
enum Body {
    Fixed,
    Leaf(LeafState),
    Composite(Tree),
    Warmup {
        warmup: WarmupLR,
        inner: LeafState,
        base: f32,
    },
}

/// A composite's child: a single scheduler or a nested composite, by its index in the [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Ref {
    Leaf(u8),
    Node(u8),
}

/// A composite in a [`Tree`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Node {
    composite: Composite,
    children: Vec<Ref, MAX_CHILDREN>,
    milestones: Vec<u32, MAX_CHILDREN>,
    /// `SequentialLR`'s `last_epoch`, `SwitchLR`'s count of `step()` calls.
    steps: u32,
}

/// The most composites in one schedule: the outermost and one per child.
const MAX_NODES: usize = 1 + MAX_CHILDREN;

/// A composite schedule, nested ones included, without recursion in its type: every single
/// scheduler's state in one array, and the composites (the outermost last) referring to them
/// and to each other by index. Stepping recurses as deep as the spec nests (two levels).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Tree {
    leaves: Vec<LeafState, MAX_LEAVES>,
    nodes: Vec<Node, MAX_NODES>,
}

/// A deserialized state whose indices do not fit (a built one always fits).
const INCONSISTENT: Error = Error::invalid("Scheduler", "state", "is inconsistent");

fn child_index(milestones: &[u32], n: u32) -> usize {
    milestones.iter().filter(|&&m| m <= n).count()
}

impl Tree {
    fn build(
        composite: Composite,
        children: Children<'_>,
        milestones: &[u32],
        group: &mut ParamGroup,
    ) -> Result<Self, Error> {
        let mut tree = Tree {
            leaves: Vec::new(),
            nodes: Vec::new(),
        };
        tree.add(composite, children, milestones, group)?;
        Ok(tree)
    }

    /// Builds a composite as PyTorch does, its children first, in order, on `group`; returns
    /// its index. Its single schedulers, nested ones included, are the leaves added meanwhile.
    fn add(
        &mut self,
        composite: Composite,
        children: Children<'_>,
        milestones: &[u32],
        group: &mut ParamGroup,
    ) -> Result<u8, Error> {
        check_children(composite, children, milestones)?;
        let first_leaf = self.leaves.len();
        let mut refs = Vec::new();
        for i in 0..children.len() {
            let child = match children.get(i) {
                Some(ChildRef::Leaf(spec)) => {
                    let leaf = LeafState::build(spec, group)?;
                    let index = self.leaves.len() as u8;
                    self.leaves.push(leaf).map_err(|_| {
                        Error::invalid(
                            composite.name(),
                            "schedulers",
                            "must hold at most MAX_LEAVES (8) single schedulers in all",
                        )
                    })?;
                    Ref::Leaf(index)
                }
                Some(ChildRef::Composite(kind, leaves, milestones)) => {
                    Ref::Node(self.add(kind, Children::Nested(leaves), milestones, group)?)
                }
                None => break,
            };
            // The children came from a Vec of this capacity.
            let _ = refs.push(child);
        }
        let first = refs.first().copied();
        // One node per composite in the spec, which MAX_NODES bounds.
        self.nodes
            .push(Node {
                composite,
                children: refs,
                milestones: milestones.iter().copied().collect(),
                steps: 0,
            })
            .map_err(|_| INCONSISTENT)?;
        let index = self.nodes.len() - 1;
        let leaves = self.leaves.get_mut(first_leaf..).unwrap_or_default();
        if composite == Composite::Sequential {
            // SequentialLR's constructor: the lr back to the initial lr, every single
            // scheduler's construction step undone (`recursive_undo`), then the first child's
            // `_initial_step()`: a single scheduler's in initial mode, a composite's as a
            // plain step.
            group.set_lr(group.initial_lr);
            leaves.iter_mut().for_each(LeafState::undo);
            match first {
                Some(Ref::Leaf(l)) => self.leaf(l)?.initial_step(group)?,
                Some(Ref::Node(n)) => self.step_node(usize::from(n), group, None)?,
                None => {}
            }
        } else if leaves
            .iter()
            .any(|c| matches!(&c.spec, LeafSpec::CosineAnnealingLR(s) if s.eta_min > 0.0))
        {
            // Children that step on each other's lr step in exact mode when one of them has a
            // positive offset, below which another child can drive the lr and on through zero
            // (see `LeafState::exact`).
            leaves.iter_mut().for_each(LeafState::set_exact);
        }
        Ok(index as u8)
    }

    fn leaf(&mut self, l: u8) -> Result<&mut LeafState, Error> {
        self.leaves.get_mut(usize::from(l)).ok_or(INCONSISTENT)
    }

    /// Steps `child` of composite `parent`. A nested composite comes before its parent (it was
    /// built first), which bounds the recursion, also for a deserialized state.
    fn step_child(
        &mut self,
        child: Ref,
        parent: usize,
        group: &mut ParamGroup,
        metric: Option<f32>,
    ) -> Result<(), Error> {
        match child {
            Ref::Leaf(l) => self.leaf(l)?.step_in(group, metric),
            Ref::Node(n) if usize::from(n) < parent => {
                self.step_node(usize::from(n), group, metric)
            }
            Ref::Node(_) => Err(INCONSISTENT),
        }
    }

    /// `step()` of composite `node`; `metric` goes to each `ReduceLROnPlateau` that steps.
    fn step_node(
        &mut self,
        node: usize,
        group: &mut ParamGroup,
        metric: Option<f32>,
    ) -> Result<(), Error> {
        let n = self.nodes.get_mut(node).ok_or(INCONSISTENT)?;
        if n.composite == Composite::Chained {
            let mut i = 0;
            while let Some(&child) = self.nodes.get(node).and_then(|n| n.children.get(i)) {
                self.step_child(child, node, group, metric)?;
                i += 1;
            }
            return Ok(());
        }
        let steps = n.steps.checked_add(1).ok_or(Error::invalid(
            n.composite.name(),
            "step",
            "count overflowed u32",
        ))?;
        let i = child_index(&n.milestones, steps);
        let child = *n.children.get(i).ok_or(INCONSISTENT)?;
        let restart = i > 0 && n.milestones.get(i - 1) == Some(&steps);
        match (n.composite, child) {
            // `_update_lr(0)`, which only a single scheduler has (check_children).
            (Composite::Sequential, Ref::Leaf(l)) if restart => {
                self.leaf(l)?.restart_in(group, metric)?
            }
            (Composite::Sequential, Ref::Node(_)) if restart => return Err(INCONSISTENT),
            _ => self.step_child(child, node, group, metric)?,
        }
        // Counted once the child stepped: a failed step changes nothing here.
        if let Some(n) = self.nodes.get_mut(node) {
            n.steps = steps;
        }
        Ok(())
    }

    /// `step()` of the outermost composite. In a `ChainedScheduler` a child may fail after
    /// another stepped: then keep the step atomic by saving the counters (not the specs) first.
    /// (A single scheduler's step and a composite's count change nothing when they fail.)
    fn step(&mut self, group: &mut ParamGroup, metric: Option<f32>) -> Result<(), Error> {
        let root = self.nodes.len().wrapping_sub(1);
        if !self.nodes.iter().any(|n| n.composite == Composite::Chained) {
            return self.step_node(root, group, metric);
        }
        // Filled in place: a returned Vec would be copied whole, capacity included, every step.
        let (mut counters, mut steps) = (Vec::<Counters, MAX_LEAVES>::new(), [0; MAX_NODES]);
        for leaf in &self.leaves {
            let _ = counters.push(leaf.c);
        }
        for (s, node) in steps.iter_mut().zip(&self.nodes) {
            *s = node.steps;
        }
        let saved_group = *group;
        let result = self.step_node(root, group, metric);
        if result.is_err() {
            for (leaf, c) in self.leaves.iter_mut().zip(&counters) {
                leaf.c = *c;
            }
            for (node, s) in self.nodes.iter_mut().zip(steps) {
                node.steps = s;
            }
            *group = saved_group;
        }
        result
    }

    /// A `SequentialLR` of single schedulers: its child at step `k`, restarted at `start` (see
    /// `Scheduler::at`).
    fn sequential_leaf(&self, k: u32) -> Option<(&LeafState, u32)> {
        let (root, nested) = self.nodes.split_last()?;
        if root.composite != Composite::Sequential || !nested.is_empty() {
            return None;
        }
        let i = child_index(&root.milestones, k);
        let start = if i == 0 { 0 } else { root.milestones[i - 1] };
        match root.children.get(i)? {
            Ref::Leaf(l) => Some((self.leaves.get(usize::from(*l))?, start)),
            Ref::Node(_) => None,
        }
    }
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
            spec => match spec.composite() {
                Some((composite, children, milestones)) => {
                    Body::Composite(Tree::build(composite, children, milestones, &mut group)?)
                }
                None => {
                    let leaf = spec.as_leaf().ok_or(Error::invalid(
                        "Spec",
                        "kind",
                        "is not a schedule",
                    ))?;
                    Body::Leaf(LeafState::build(&leaf, &mut group)?)
                }
            },
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

    /// True for `ReduceLROnPlateau`, and for a composite or `WarmupLR` holding one: step it
    /// with [`Scheduler::step_with_metric`] (a composite's other schedulers ignore the metric).
    pub fn needs_metric(&self) -> bool {
        match &self.body {
            Body::Fixed => false,
            Body::Leaf(leaf) => leaf.needs_metric(),
            Body::Composite(tree) => tree.leaves.iter().any(LeafState::needs_metric),
            Body::Warmup { inner, .. } => inner.needs_metric(),
        }
    }

    /// `scheduler.step()`. On error the state is unchanged.
    pub fn step(&mut self) -> Result<(), Error> {
        self.step_on(None)
    }

    /// `ReduceLROnPlateau.step(metric)`; for a composite or `WarmupLR` holding a
    /// `ReduceLROnPlateau`, its `step()` with the metric going to each `ReduceLROnPlateau` that
    /// steps (see [`SequentialLR`](crate::SequentialLR)). On error the state is unchanged.
    pub fn step_with_metric(&mut self, metric: f32) -> Result<(), Error> {
        if !self.needs_metric() {
            return Err(Error::MetricNotAccepted);
        }
        self.step_on(Some(metric))
    }

    fn step_on(&mut self, metric: Option<f32>) -> Result<(), Error> {
        let next = self.steps.checked_add(1).ok_or(Error::invalid(
            "Scheduler",
            "step",
            "count overflowed u32",
        ))?;
        let group = &mut self.group;
        match &mut self.body {
            Body::Fixed => {}
            Body::Leaf(leaf) => leaf.step_in(group, metric)?,
            Body::Composite(tree) => tree.step(group, metric)?,
            Body::Warmup {
                warmup,
                inner,
                base,
            } => {
                if next < warmup.warmup_steps {
                    group.set_lr(*base * warmup.factor(next));
                } else if next == warmup.warmup_steps {
                    inner.restart_in(group, metric)?;
                } else {
                    inner.step_in(group, metric)?;
                }
            }
        }
        self.steps = next;
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
            Body::Composite(tree) => {
                // OneCycleLR rewrites the group's initial lr, which the reset then uses; a child
                // cycling momentum sets it when built, whoever runs; SWALR restarts from the lr
                // the child before it left.
                if tree.leaves.iter().any(|c| {
                    matches!(c.spec, LeafSpec::OneCycleLR(_) | LeafSpec::SWALR(_))
                        || c.touches_momentum()
                }) {
                    return None;
                }
                // SequentialLR resets the lr to the group's initial lr as the constructors left
                // it: a CyclicLR built first has made it its `base_lr`.
                let (leaf, start) = tree.sequential_leaf(k)?;
                restarted(leaf, k - start, self.group.initial_lr)
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
