//! One scheduler on an optimizer param group, stepped the way PyTorch steps it.
//!
//! PyTorch's recursive ("chainable") schedulers read the group's current lr and scale it, so
//! several schedulers on one optimizer compose. Here each recursive scheduler remembers an
//! anchor: the lr it last saw from outside and its own factor then. While nobody else touches
//! the lr, `lr_t = e + (anchor - e) * F(t) / F(anchor)` is computed directly from the anchor, so
//! long runs do not drift; when another scheduler changed the lr, it re-anchors on that value,
//! which is exactly PyTorch's one-step recursion.

use crate::plateau::PlateauState;
use crate::recursive::Product;
use crate::spec::LeafSpec;
use crate::Error;

/// The optimizer state a scheduler drives: PyTorch's `param_groups[0]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParamGroup {
    /// `group["lr"]`.
    pub lr: f32,
    /// `group["momentum"]`.
    pub momentum: f32,
    /// `group["initial_lr"]`: set by the first scheduler built on the group (OneCycleLR
    /// overwrites it); the base lr of the schedulers built after.
    pub initial_lr: f32,
    /// The lr in f64, kept by compositions that step in exact mode (see `LeafState::exact`);
    /// meaningful while it rounds to `lr`.
    #[cfg_attr(feature = "serde", serde(default))]
    exact: f64,
    /// Whether a scheduler has set `initial_lr` yet (PyTorch's group has no such key until
    /// then); before, `initial_lr` is the optimizer's lr.
    #[cfg_attr(feature = "serde", serde(default))]
    initial_set: bool,
    /// `(group["max_momentum"], group["base_momentum"])`, written by the last `CyclicLR` or
    /// `OneCycleLR` built with `cycle_momentum`; `OneCycleLR` reads its momentum from them.
    #[cfg_attr(feature = "serde", serde(default))]
    momentum_bounds: Option<(f32, f32)>,
}

impl ParamGroup {
    pub(crate) fn new(lr: f32, momentum: f32) -> Self {
        ParamGroup {
            lr,
            momentum,
            initial_lr: lr,
            exact: f64::from(lr),
            initial_set: false,
            momentum_bounds: None,
        }
    }

    /// PyTorch's base class constructor: `group.setdefault("initial_lr", group["lr"])`.
    fn set_default_initial_lr(&mut self) {
        if !self.initial_set {
            self.initial_lr = self.lr;
            self.initial_set = true;
        }
    }

    /// Sets the lr to an f32 value. The f64 value is left: it no longer rounds to `lr` (so
    /// [`ParamGroup::lr64`] gives `lr`) unless `lr` is the value it had, which it then refines.
    pub(crate) fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Sets the lr from its f64 value (the f32 `lr` is that rounded).
    pub(crate) fn set_lr64(&mut self, lr: f64) {
        self.lr = lr as f32;
        self.exact = lr;
    }

    /// The lr in f64: the exact value where one is kept, else the f32 lr.
    pub(crate) fn lr64(&self) -> f64 {
        if self.exact as f32 == self.lr {
            self.exact
        } else {
            f64::from(self.lr)
        }
    }
}

impl LeafSpec {
    /// For the kinds PyTorch steps recursively: the ratio `F(to) / F(from)` of their
    /// closed-form factor, by which `lr - e` scales from step `from` to step `to`, and the
    /// offset `e` (each kind's `Kind` impl).
    fn recursive(&self, from: Option<u32>, to: u32) -> Option<(f32, f32)> {
        let offset = self.offset()?;
        Some((self.ratio(from, to), offset))
    }
}

/// A leaf schedule with PyTorch's state: `last_epoch`, its base lr, and what the kind needs.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct LeafState {
    pub(crate) spec: LeafSpec,
    /// Everything that changes when stepping: small and `Copy`, so a composite can undo a step.
    pub(crate) c: Counters,
    /// Exact mode: the recursive kinds step in f64 (`Kind::ratio64`) and keep the group's lr in
    /// f64, as PyTorch does. Set for the children of a composition in which another child can
    /// drive the lr below a positive offset (a `CosineAnnealingLR` with `eta_min > 0`): there
    /// `e + (lr - e) r` cancels as the lr nears zero, and f32 rounding of any earlier step would
    /// show in it relative to its size.
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) exact: bool,
}

/// A leaf scheduler's mutable state.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Counters {
    /// `base_lrs[0]`.
    base: f32,
    /// `last_epoch`.
    t: u32,
    /// The lr this scheduler last wrote; another value in the group means someone else wrote.
    written: f32,
    /// Recursive kinds: the lr and step to scale from (`None`: before the first step).
    anchor_lr: f32,
    anchor_t: Option<u32>,
    /// Exact mode: `anchor_lr` in f64 (set when exact mode is turned on, then kept by it).
    #[cfg_attr(feature = "serde", serde(default))]
    anchor_exact: f64,
    /// MultiplicativeLR: the product of factors since the anchor.
    product: Product,
    /// CosineAnnealingWarmRestarts: `(T_cur, T_i)`.
    restart: (u32, u32),
    plateau: Option<PlateauState>,
    /// `last_epoch` is -1: a `SequentialLR` this scheduler is nested in undid its construction
    /// step (PyTorch's `recursive_undo`), and its next `step()` is `step_after_undo`.
    #[cfg_attr(feature = "serde", serde(default))]
    undone: bool,
}

impl LeafState {
    /// PyTorch's constructor on `group`, including its initial step (`last_epoch = 0`).
    pub(crate) fn build(spec: &LeafSpec, group: &mut ParamGroup) -> Result<Self, Error> {
        spec.validate()?;
        // Constructor side effects PyTorch applies before its base class's constructor.
        match &spec {
            LeafSpec::CyclicLR(s) => {
                group.set_lr(s.base_lr);
                if s.cycle_momentum {
                    group.momentum = s.max_momentum;
                    group.momentum_bounds = Some((s.max_momentum, s.base_momentum));
                }
            }
            LeafSpec::OneCycleLR(s) => {
                group.initial_lr = s.max_lr / s.div_factor;
                group.initial_set = true;
                if s.cycle_momentum {
                    group.momentum = s.max_momentum;
                    group.momentum_bounds = Some((s.max_momentum, s.base_momentum));
                }
            }
            _ => {}
        }
        // ReduceLROnPlateau has its own constructor, which leaves the group alone.
        if !matches!(spec, LeafSpec::ReduceLROnPlateau(_)) {
            group.set_default_initial_lr();
        }
        let mut state = LeafState {
            c: Counters {
                base: group.initial_lr,
                t: 0,
                written: group.lr,
                anchor_lr: group.lr,
                anchor_t: None,
                anchor_exact: 0.0,
                product: Product::ONE,
                restart: (0, 1),
                plateau: None,
                undone: false,
            },
            spec: spec.clone(),
            exact: false,
        };
        match &state.spec {
            LeafSpec::CosineAnnealingWarmRestarts(s) => state.c.restart = (0, s.t_0),
            LeafSpec::ReduceLROnPlateau(s) => {
                // No initial step: the lr is left as it is.
                state.c.plateau = Some(s.start());
                return Ok(state);
            }
            _ => {}
        }
        state.initial_step(group)?;
        if let LeafSpec::CyclicLR(s) = &state.spec {
            // PyTorch's initial step runs on `base_lrs = [initial_lr]`, and at step 0 the lr is
            // the base: `base_lr` for the first scheduler on the group, the `initial_lr` an
            // earlier one set otherwise. Only then does `base_lrs` become `base_lr`.
            state.c.base = s.base_lr;
            let lr = group.initial_lr;
            state.set(group, lr);
        }
        Ok(state)
    }

    /// Turns exact mode on (see `LeafState::exact`), after the construction steps.
    pub(crate) fn set_exact(&mut self) {
        self.exact = true;
        self.c.anchor_exact = f64::from(self.c.anchor_lr);
    }

    /// `_initial_step()`: `last_epoch = 0` in initial mode.
    pub(crate) fn initial_step(&mut self, group: &mut ParamGroup) -> Result<(), Error> {
        self.c.t = 0;
        self.c.undone = false;
        if let LeafSpec::CosineAnnealingWarmRestarts(s) = &self.spec {
            self.c.restart = (0, s.t_0);
        }
        self.c.anchor_lr = group.lr;
        self.c.anchor_t = None;
        self.c.product = Product::ONE;
        if let Some((factor, offset)) = self.spec.recursive(None, 0) {
            if matches!(self.spec, LeafSpec::CosineAnnealingLR(_)) {
                // PyTorch's initial step leaves the lr alone; F(0) = 1.
                self.c.written = group.lr;
            } else {
                let lr = offset + (self.c.anchor_lr - offset) * factor;
                self.check(lr)?;
                self.set(group, lr);
            }
            return Ok(());
        }
        match &self.spec {
            LeafSpec::MultiplicativeLR(_) => self.c.written = group.lr,
            LeafSpec::ReduceLROnPlateau(_) => {}
            _ => self.apply_absolute(group, 0)?,
        }
        Ok(())
    }

    fn set(&mut self, group: &mut ParamGroup, lr: f32) {
        group.set_lr(lr);
        self.c.written = lr;
    }

    fn check(&self, lr: f32) -> Result<(), Error> {
        if lr.is_finite() {
            Ok(())
        } else {
            Err(Error::NonFiniteLr {
                schedule: self.spec.kind(),
            })
        }
    }

    fn apply_absolute(&mut self, group: &mut ParamGroup, t: u32) -> Result<(), Error> {
        if let Some(result) = self.spec.absolute(self.c.base, t) {
            let (lr, mut momentum) = result?;
            self.check(lr)?;
            self.set(group, lr);
            if let (LeafSpec::OneCycleLR(s), Some((max, base))) =
                (&self.spec, group.momentum_bounds)
            {
                if momentum.is_some() && (max, base) != (s.max_momentum, s.base_momentum) {
                    // PyTorch's OneCycleLR anneals between the group's bounds, which a CyclicLR
                    // or OneCycleLR built after it has overwritten with its own.
                    let mut s = s.clone();
                    (s.max_momentum, s.base_momentum) = (max, base);
                    momentum = s.at(t).1;
                }
            }
            if let Some(m) = momentum {
                group.momentum = m;
            }
        }
        Ok(())
    }

    pub(crate) fn needs_metric(&self) -> bool {
        matches!(self.spec, LeafSpec::ReduceLROnPlateau(_))
    }

    /// PyTorch's `recursive_undo`: `last_epoch -= 1` (see `Counters::undone`).
    pub(crate) fn undo(&mut self) {
        self.c.undone = true;
    }

    /// `scheduler.step()` from `last_epoch` -1 to 0 outside PyTorch's initial mode, as a
    /// composite that is a `SequentialLR`'s first child takes it when the `SequentialLR` is built
    /// (or, for a `SwitchLR`'s later child, when it first steps). The recursive kinds multiply
    /// by `F(0) / F(-1)` (`Kind::ratio_before_first`), the others take their step-0 value
    /// (`restart`); SWALR counts its own steps, not `last_epoch`, and steps as ever.
    #[inline(never)]
    fn step_after_undo(&mut self, group: &mut ParamGroup) -> Result<(), Error> {
        let offset = match (&self.spec, self.spec.offset()) {
            (LeafSpec::SWALR(_), _) => return self.step(group),
            (_, None) => return self.restart(group),
            (_, Some(offset)) => offset,
        };
        let lr = match &self.spec {
            // PyTorch's additive branch, where `(last_epoch - 1 - T_max) % (2 T_max) == 0`: at
            // step 0 only for T_max = 1, where it adds `base - eta_min`.
            LeafSpec::CosineAnnealingLR(s) if s.t_max == 1 => group.lr + (self.c.base - offset),
            spec => offset + (group.lr - offset) * spec.ratio_before_first(),
        };
        self.check(lr)?;
        (self.c.t, self.c.anchor_t) = (0, Some(0));
        (self.c.anchor_lr, self.c.anchor_exact) = (lr, f64::from(lr));
        self.set(group, lr);
        Ok(())
    }

    /// `scheduler.step()`. On error nothing changes.
    pub(crate) fn step(&mut self, group: &mut ParamGroup) -> Result<(), Error> {
        if self.c.undone {
            self.c.undone = false;
            let result = self.step_after_undo(group);
            self.c.undone = result.is_err();
            return result;
        }
        let t = self.c.t.checked_add(1).ok_or(Error::invalid(
            self.spec.kind(),
            "step",
            "count overflowed u32",
        ))?;
        if let Some(offset) = self.spec.offset() {
            if self.exact {
                return self.step_exact(group, t);
            }
            // Work on copies and commit only a finite result, so an error changes nothing.
            let (mut anchor_lr, mut anchor_t) = (self.c.anchor_lr, self.c.anchor_t);
            if group.lr != self.c.written {
                anchor_lr = group.lr;
                anchor_t = Some(t - 1);
            }
            let lr = match &self.spec {
                LeafSpec::CosineAnnealingLR(s)
                    if u64::from(t - 1) % (2 * u64::from(s.t_max)) == u64::from(s.t_max) =>
                {
                    // PyTorch's branch one step past a trough, where the ratio would divide by
                    // zero: an additive step up.
                    let (rise, _) = self.spec.recursive(None, t).unwrap_or((0.0, 0.0));
                    if group.lr == offset {
                        // Exactly at the trough, as when it runs alone: this is the closed form
                        // again, so anchor on the base lr.
                        (anchor_lr, anchor_t) = (self.c.base, None);
                        offset + (self.c.base - offset) * rise
                    } else {
                        let lr = group.lr + (self.c.base - offset) * rise;
                        (anchor_lr, anchor_t) = (lr, Some(t));
                        lr
                    }
                }
                // The multiplicative kinds' PyTorch branch that returns the group's lr unchanged.
                spec if !spec.changes_at(t) => group.lr,
                spec => {
                    let (ratio, _) = spec.recursive(anchor_t, t).unwrap_or((1.0, offset));
                    offset + (anchor_lr - offset) * ratio
                }
            };
            self.check(lr)?;
            (self.c.t, self.c.anchor_lr, self.c.anchor_t) = (t, anchor_lr, anchor_t);
            self.set(group, lr);
            return Ok(());
        }
        match &self.spec {
            LeafSpec::MultiplicativeLR(s) => {
                let f = s.lr_lambda.checked("MultiplicativeLR", t)?;
                let (mut anchor_lr, mut product) = (self.c.anchor_lr, self.c.product);
                if group.lr != self.c.written {
                    (anchor_lr, product) = (group.lr, Product::ONE);
                }
                product = product.times(f);
                let lr = product.scale(anchor_lr);
                self.check(lr)?;
                (self.c.t, self.c.anchor_lr, self.c.product) = (t, anchor_lr, product);
                self.set(group, lr);
            }
            LeafSpec::CosineAnnealingWarmRestarts(s) => {
                let (mut t_cur, mut t_i) = self.c.restart;
                t_cur += 1;
                if t_cur >= t_i {
                    t_cur %= t_i;
                    t_i = t_i.saturating_mul(s.t_mult);
                }
                let lr = s.lr(self.c.base, t_cur, t_i);
                self.c.restart = (t_cur, t_i);
                self.c.t = t;
                self.set(group, lr);
            }
            LeafSpec::OneCycleLR(s) => {
                let total = s.total_steps();
                if t > total {
                    return Err(Error::PastTotalSteps { total_steps: total });
                }
                self.apply_absolute(group, t)?;
                self.c.t = t;
            }
            LeafSpec::ReduceLROnPlateau(_) => return Err(Error::MetricRequired),
            _ => {
                self.apply_absolute(group, t)?;
                self.c.t = t;
            }
        }
        Ok(())
    }

    /// `step()` of a recursive kind in exact mode: the same steps as the f32 path, in f64.
    /// Out of line, so that it does not weigh on the f32 path.
    #[inline(never)]
    fn step_exact(&mut self, group: &mut ParamGroup, t: u32) -> Result<(), Error> {
        let offset = self.spec.offset64().unwrap_or(0.0);
        let base = f64::from(self.c.base);
        let (mut anchor, mut anchor_t) = (self.c.anchor_exact, self.c.anchor_t);
        if group.lr != self.c.written {
            anchor = group.lr64();
            anchor_t = Some(t - 1);
        }
        let lr = match &self.spec {
            LeafSpec::CosineAnnealingLR(s)
                if u64::from(t - 1) % (2 * u64::from(s.t_max)) == u64::from(s.t_max) =>
            {
                // PyTorch's additive step one past a trough (see `step`).
                let rise = self.spec.ratio64(None, t);
                if group.lr64() == offset {
                    (anchor, anchor_t) = (base, None);
                    offset + (base - offset) * rise
                } else {
                    let lr = group.lr64() + (base - offset) * rise;
                    (anchor, anchor_t) = (lr, Some(t));
                    lr
                }
            }
            spec if !spec.changes_at(t) => group.lr64(),
            spec => offset + (anchor - offset) * spec.ratio64(anchor_t, t),
        };
        self.check(lr as f32)?;
        (self.c.t, self.c.anchor_t) = (t, anchor_t);
        (self.c.anchor_exact, self.c.anchor_lr) = (anchor, anchor as f32);
        group.set_lr64(lr);
        self.c.written = group.lr;
        Ok(())
    }

    /// `ReduceLROnPlateau.step(metric)`.
    pub(crate) fn step_with_metric(
        &mut self,
        group: &mut ParamGroup,
        metric: f32,
    ) -> Result<(), Error> {
        let (LeafSpec::ReduceLROnPlateau(s), Some(state)) = (&self.spec, self.c.plateau.as_mut())
        else {
            return Err(Error::MetricNotAccepted);
        };
        self.c.t = self.c.t.saturating_add(1);
        group.set_lr(s.step(state, group.lr, metric));
        self.c.written = group.lr;
        Ok(())
    }

    /// A step inside a composite, with the step's metric if it has one: `ReduceLROnPlateau`
    /// takes it (and needs it), the other kinds step as ever.
    pub(crate) fn step_in(
        &mut self,
        group: &mut ParamGroup,
        metric: Option<f32>,
    ) -> Result<(), Error> {
        match (self.needs_metric(), metric) {
            (true, Some(m)) => {
                self.c.undone = false;
                self.step_with_metric(group, m)
            }
            (true, None) => Err(Error::MetricRequired),
            (false, _) => self.step(group),
        }
    }

    /// A `SequentialLR`'s (or `WarmupLR`'s) switch to this scheduler. `ReduceLROnPlateau`,
    /// which PyTorch cannot restart, starts afresh as if built then (best metric, counters and
    /// cooldown reset) from its own step 0, the initial lr, as every restarted scheduler does,
    /// and takes the switching step's metric as its first; the others restart.
    pub(crate) fn restart_in(
        &mut self,
        group: &mut ParamGroup,
        metric: Option<f32>,
    ) -> Result<(), Error> {
        if let LeafSpec::ReduceLROnPlateau(s) = &self.spec {
            let m = metric.ok_or(Error::MetricRequired)?;
            let (saved, saved_group) = (self.c, *group);
            self.c.plateau = Some(s.start());
            self.c.t = 0;
            group.set_lr(self.c.base);
            let result = self.step_in(group, Some(m));
            if result.is_err() {
                (self.c, *group) = (saved, saved_group);
            }
            return result;
        }
        self.restart(group)
    }

    /// `_update_lr(0)` as `SequentialLR` calls it when it switches to this scheduler:
    /// `last_epoch = 0` and the closed form where PyTorch has one.
    pub(crate) fn restart(&mut self, group: &mut ParamGroup) -> Result<(), Error> {
        self.c.undone = false;
        if let LeafSpec::SWALR(_) = self.spec {
            // No closed form: `get_lr()` at SWALR's own step count, which `_update_lr` leaves
            // at 1, anneals from the group's lr as its initial step did.
            return self.initial_step(group);
        }
        self.c.t = 0;
        if let Some((factor, offset)) = self.spec.recursive(None, 0) {
            self.c.anchor_lr = self.c.base;
            self.c.anchor_t = None;
            self.set(group, offset + (self.c.base - offset) * factor);
            return Ok(());
        }
        match &self.spec {
            LeafSpec::MultiplicativeLR(s) => {
                // No closed form in PyTorch: get_lr() outside initial mode multiplies by f(0).
                let f = s.lr_lambda.checked("MultiplicativeLR", 0)?;
                let product = Product::ONE.times(f);
                let lr = product.scale(group.lr);
                self.check(lr)?;
                (self.c.product, self.c.anchor_lr) = (product, group.lr);
                self.set(group, lr);
            }
            LeafSpec::CosineAnnealingWarmRestarts(s) => {
                self.c.restart = (0, s.t_0);
                let lr = s.lr(self.c.base, 0, s.t_0);
                self.set(group, lr);
            }
            _ => self.apply_absolute(group, 0)?,
        }
        Ok(())
    }

    /// `(lr, momentum)` after `k` steps of this scheduler alone from its construction, when
    /// the math gives it without stepping; `None` otherwise.
    pub(crate) fn at(&self, k: u32, initial: ParamGroup) -> Option<(f32, f32)> {
        if let Some((factor, offset)) = self.spec.recursive(None, k) {
            // PyTorch's CosineAnnealingLR initial step leaves the lr alone.
            let lr = if k == 0 && matches!(self.spec, LeafSpec::CosineAnnealingLR(_)) {
                initial.lr
            } else {
                offset + (initial.lr - offset) * factor
            };
            return Some((lr, initial.momentum));
        }
        let momentum = match &self.spec {
            LeafSpec::CyclicLR(s) if s.cycle_momentum => s.max_momentum,
            LeafSpec::OneCycleLR(s) if s.cycle_momentum => s.max_momentum,
            _ => initial.momentum,
        };
        let (lr, m) = self.spec.absolute(self.c.base, k)?.ok()?;
        Some((lr, m.unwrap_or(momentum)))
    }
}

impl LeafState {
    /// Whether the scheduler sets the momentum (OneCycleLR and CyclicLR with `cycle_momentum`).
    pub(crate) fn touches_momentum(&self) -> bool {
        match &self.spec {
            LeafSpec::CyclicLR(s) => s.cycle_momentum,
            LeafSpec::OneCycleLR(s) => s.cycle_momentum,
            _ => false,
        }
    }
}
