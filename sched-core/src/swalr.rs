//! `SWALR`: the lr schedule of Stochastic Weight Averaging (Izmailov et al. 2018), which anneals
//! whatever lr the optimizer has to a fixed `swa_lr` and holds it there.

use crate::cosine::half_cosine;
use crate::error::{non_negative, Error};
use crate::kind::Kind;
use crate::one_cycle::Anneal;

params! {
/// `torch.optim.swa_utils.SWALR`: anneals the group's lr to `swa_lr` over `anneal_epochs`
/// steps, then holds it there.
///
/// With `alpha(t)` = `t / anneal_epochs` (`linear`) or `(1 - cos(pi t / anneal_epochs)) / 2`
/// (`cos`), clamped to `[0, 1]`, PyTorch steps it recursively on the group's lr:
/// `lr_t = swa_lr + (lr_{t-1} - swa_lr) * (1 - alpha(t)) / (1 - alpha(t-1))`, so that alone
/// `lr_t = swa_lr * alpha(t) + lr_0 * (1 - alpha(t))`, and after another scheduler it anneals
/// from wherever that one left the lr. `anneal_epochs = 0` sets `swa_lr` at construction.
///
/// ```
/// use sched_core::{Anneal, Scheduler, SWALR};
/// // optimizer = SGD(lr=1.0); SWALR(optimizer, swa_lr=0.5, anneal_epochs=4, anneal_strategy="linear")
/// let mut s = Scheduler::new(SWALR::new(0.5, 4, Anneal::Linear)?, 1.0, 0.0)?;
/// let mut lrs = [0.0; 6];
/// for lr in &mut lrs { *lr = s.lr(); s.step()?; }
/// assert_eq!(lrs, [1.0, 0.875, 0.75, 0.625, 0.5, 0.5]);
/// # Ok::<(), sched_core::Error>(())
/// ```
#[allow(clippy::upper_case_acronyms)]
pub struct SWALR {
    /// lr annealed to and held
    ///
    /// The lr annealed to (>= 0).
    #[per_group = true]
    pub swa_lr: f32 => "0.0005",
    /// steps of annealing
    ///
    /// Steps of annealing (default 10; 0: `swa_lr` at once).
    pub anneal_epochs: u32 = 10,
    /// annealing shape
    ///
    /// Default `cos`.
    pub anneal_strategy: Anneal = Anneal::Cos,
}
}

impl SWALR {
    /// Checked constructor.
    pub fn new(swa_lr: f32, anneal_epochs: u32, anneal_strategy: Anneal) -> Result<Self, Error> {
        let s = SWALR {
            swa_lr,
            anneal_epochs,
            anneal_strategy,
        };
        s.validate()?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative("SWALR", "swa_lr", self.swa_lr)
    }

    /// `1 - alpha(t)`: the weight still on the lr the annealing started from. (Out of line:
    /// `ratio` needs it twice, and flash on a Cortex-M4F is tight.)
    #[inline(never)]
    fn rest(&self, t: u32) -> f32 {
        let n = self.anneal_epochs;
        if n == 0 {
            return 0.0;
        }
        let t = t.min(n);
        match self.anneal_strategy {
            Anneal::Cos => half_cosine(t, n),
            Anneal::Linear => (n - t) as f32 / n as f32,
        }
    }
}

impl Kind for SWALR {
    fn offset(&self) -> Option<f32> {
        Some(self.swa_lr)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        // Once alpha reaches 1 it stays there, and PyTorch returns `swa_lr` whatever the lr was.
        let rest = self.rest(to);
        if rest == 0.0 {
            0.0
        } else {
            rest / from.map_or(1.0, |f| self.rest(f))
        }
    }
}
