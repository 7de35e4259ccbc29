//! What stepping needs from a leaf kind. Each kind implements [`Kind`] in its own file, next to
//! its parameters and its `validate`; `LeafSpec` dispatches to it (the `kinds!` macro in
//! `spec.rs`), and `leaf.rs` holds only PyTorch's stepping protocol, common to all kinds.

use crate::Error;

/// A leaf kind's math. The defaults describe a kind that is neither recursive nor closed-form
/// (`MultiplicativeLR` and `ReduceLROnPlateau`, whose state `leaf.rs` keeps).
pub(crate) trait Kind {
    /// For the kinds PyTorch steps recursively, `lr_t = e + (lr_{t-1} - e) * F(t) / F(t-1)`:
    /// the offset `e` (0, or `eta_min`). `None` for the others.
    fn offset(&self) -> Option<f32> {
        None
    }

    /// For the recursive kinds: `F(to) / F(from)`, the ratio of the closed-form factor (`from =
    /// None` is before the first step, where `F = 1`), formed from exponent and step differences
    /// rather than as a quotient of two powers (`0.95^2000` alone underflows f32).
    fn ratio(&self, _from: Option<u32>, _to: u32) -> f32 {
        1.0
    }

    /// [`Kind::offset`] with the parameter's full precision.
    fn offset64(&self) -> Option<f64> {
        self.offset().map(f64::from)
    }

    /// [`Kind::ratio`] in f64, as PyTorch computes it: for compositions whose lr can be driven
    /// below a positive offset and through zero, where f32 rounding of any step would show in
    /// the lr relative to its size (`leaf.rs`, exact mode).
    fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
        f64::from(self.ratio(from, to))
    }

    /// For the recursive kinds: the factor of PyTorch's `get_lr()` at `last_epoch` 0 outside
    /// its initial mode, `F(0) / F(-1)`: the step a composite's schedulers take when a
    /// `SequentialLR` they are first in has undone their construction (`recursive_undo`). For
    /// most kinds `F(-1)` is taken as 1 there (PyTorch special-cases step 0).
    fn ratio_before_first(&self) -> f32 {
        self.ratio(None, 0)
    }

    /// For the recursive kinds: whether the factor changes at step `t` (at the other steps
    /// PyTorch returns the group's lr untouched).
    fn changes_at(&self, _t: u32) -> bool {
        true
    }

    /// For the kinds that are functions of the run's progress (fastai's): their `total_steps`,
    /// which [`Spec::with_total_steps`](crate::Spec::with_total_steps) fills in.
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        None
    }

    /// For the kinds PyTorch computes in closed form from the step: `(lr, momentum)` at step `t`
    /// from the base lr (momentum `None` when the kind leaves it alone).
    fn absolute(&self, _base: f32, _t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        None
    }
}

/// A closed-form lr that must be finite, or the parameter that made it not.
pub(crate) fn finite(
    schedule: &'static str,
    parameter: &'static str,
    lr: f32,
) -> Result<f32, Error> {
    if lr.is_finite() {
        Ok(lr)
    } else {
        Err(Error::invalid(
            schedule,
            parameter,
            "gave a non-finite value",
        ))
    }
}
