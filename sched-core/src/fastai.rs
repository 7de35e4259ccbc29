//! fastai's schedules (`fastai.callback.schedule`, 2.8.12), each under its name: kind
//! `"fastai.SchedCos"` is [`SchedCos`], and the schedules `Learner.fit_one_cycle`,
//! `fit_flat_cos` and `fit_sgdr` set are kinds of those names ([`FitOneCycle`], ...).
//!
//! A fastai schedule is a function of the training's progress, `pos = t / N` for batch `t` of
//! the `N` a fit runs (its `ParamScheduler` sets the hyperparameters before each batch): the lr
//! of optimizer update `t` is the schedule at `t / total_steps`, an absolute value (`fit_*` take
//! the optimizer's lr, `--lr`, where their `lr_max` is not given), and `fit_one_cycle` also
//! sets the momentum (fastai's `mom`: SGD's momentum, Adam's first beta). `total_steps`, `N`, is
//! this crate's parameter, fastai's `n_epoch` times its batches per epoch: `curve` and the page
//! fill it in from their length when a spec leaves it out
//! ([`Spec::with_total_steps`](crate::Spec::with_total_steps)); a run config gives it.
//!
//! fastai combines schedules (`combine_scheds`) on a float32 tensor of the cumulated
//! fractions, so the position inside each part is a float32 value; these kinds compute it the
//! same way. `fit_*`'s other arguments (`wd`, `cbs`, `reset_opt`, `start_epoch`) are not
//! schedule arguments and are not taken.

use crate::cosine::half_cosines;
use crate::error::{at_least_one, non_negative, positive, Error};
use crate::kind::{finite, Kind};
use heapless::Vec;

/// Most schedules a `combine_scheds` joins (sized so that no kind outgrows `MultiStepLR`).
pub const MAX_SCHEDS: usize = 2;

/// `total_steps`, or the error that names it.
fn total(kind: &'static str, total_steps: Option<u32>) -> Result<u32, Error> {
    match total_steps {
        Some(n) if n >= 1 => Ok(n),
        Some(_) => Err(Error::invalid(kind, "total_steps", "must be >= 1")),
        None => Err(Error::invalid(
            kind,
            "total_steps",
            "must be given: fastai's schedules are functions of pos = t / total_steps (`curve` and the page fill it in from their length)",
        )),
    }
}

/// A given `total_steps` is >= 1.
fn check_total(kind: &'static str, total_steps: Option<u32>) -> Result<(), Error> {
    total_steps.map_or(Ok(()), |n| at_least_one(kind, "total_steps", n))
}

/// A fraction of the run, in [0, 1].
fn check_fraction(kind: &'static str, name: &'static str, value: f64) -> Result<(), Error> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(kind, name, "must be in [0, 1]"))
    }
}

/// The arguments `fit_one_cycle` and `fit_flat_cos` share: `n_epoch`, the (optional) lr,
/// `div_final` and `pct_start`.
fn check_fit(
    kind: &'static str,
    (n_epoch, (lr_name, lr), div_final, pct_start): (u32, (&'static str, Option<f32>), f32, f64),
) -> Result<(), Error> {
    at_least_one(kind, "n_epoch", n_epoch)?;
    if let Some(lr) = lr {
        positive(kind, lr_name, lr)?;
    }
    positive(kind, "div_final", div_final)?;
    check_fraction(kind, "pct_start", pct_start)
}

/// `pos = t / N` and `1 - pos`, from integers.
fn position(t: u32, n: u32) -> (f32, f32) {
    let t = t.min(n);
    (t as f32 / n as f32, (n - t) as f32 / n as f32)
}

choice! {
in fastai;
/// The shape of one of fastai's annealing schedules.
pub enum Annealing {
    /// `start + pos * (end - start)`.
    Lin = "fastai.SchedLin",
    /// `start + (1 + cos(pi (1 - pos))) * (end - start) / 2`.
    Cos = "fastai.SchedCos",
    /// `start`.
    No = "fastai.SchedNo",
    /// `start * (end / start)^pos`.
    Exp = "fastai.SchedExp",
    /// `start + (end - start) * pos^power`.
    Poly = "fastai.SchedPoly",
}
}

/// fastai's annealing at `pos` (with `1 - pos` as `rest`). Each is `start + w * (end - start)`
/// with a weight `w` going from 0 to 1; past the middle it is taken as `end + (1 - w) * (start -
/// end)`, with `1 - w` formed directly, so that a value that ends far below `start` keeps its
/// relative precision (fastai's float64 would, float32's `start + w * (end - start)` would not).
fn anneal(shape: Annealing, start: f32, end: f32, power: f32, pos: f32, rest: f32) -> f32 {
    let between = |w: f32, one_minus_w: f32| {
        if w <= 0.5 {
            start + w * (end - start)
        } else {
            end + one_minus_w * (start - end)
        }
    };
    match shape {
        Annealing::Lin => between(pos, rest),
        // (1 + cos(pi (1 - pos))) / 2 and its complement, each accurate where it is small.
        Annealing::Cos => {
            let (w, one_minus_w) = half_cosines(rest, pos);
            between(w, one_minus_w)
        }
        Annealing::No => start,
        Annealing::Exp => start * libm::powf(end / start, pos),
        Annealing::Poly => {
            let w = libm::powf(pos, power);
            // 1 - pos^power = -expm1(power * ln(1 - rest)), without the cancellation.
            between(w, -libm::expm1f(power * libm::log1pf(-rest)))
        }
    }
}

params! {
in fastai;
/// One schedule of a `fastai.combine_scheds`: `{"kind": "fastai.SchedCos", "start": ..., "end":
/// ...}` (`power` for `fastai.SchedPoly` only).
pub struct Sched {
    /// the schedule: fastai.SchedLin, SchedCos, SchedNo, SchedExp or SchedPoly
    pub kind: Annealing => r#""fastai.SchedCos""#,
    /// value at its start
    pub start: f32 => "0.1",
    /// value at its end
    pub end: f32 => "0.0",
    /// SchedPoly's power (empty for the others)
    pub power: Option<f32> = None,
}
}

impl Sched {
    fn validate(&self, kind: &'static str) -> Result<(), Error> {
        match (self.kind, self.power) {
            (Annealing::Poly, None) => Err(Error::invalid(kind, "power", "SchedPoly needs it")),
            (Annealing::Poly, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err(Error::invalid(kind, "power", "is SchedPoly's only")),
        }
    }

    fn at(&self, pos: f32, rest: f32) -> f32 {
        anneal(
            self.kind,
            self.start,
            self.end,
            self.power.unwrap_or(1.0),
            pos,
            rest,
        )
    }
}

macro_rules! annealer {
    ($(#[$meta:meta])* $name:ident, $shape:ident, $kind:literal) => {
        params! {
        in fastai;
        $(#[$meta])*
        pub struct $name {
            /// value at pos 0
            pub start: f32 => "0.1",
            /// value at pos 1
            pub end: f32 => "0.001",
            /// N, the run's steps (empty: the run's length)
            pub total_steps: Option<u32> = None,
        }
        }

        impl $name {
            pub(crate) fn validate(&self) -> Result<(), Error> {
                check_total($kind, self.total_steps)
            }
        }

        impl Kind for $name {
            fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
                Some(&mut self.total_steps)
            }

            fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
                let n = match total($kind, self.total_steps) {
                    Ok(n) => n,
                    Err(e) => return Some(Err(e)),
                };
                let (pos, rest) = position(t, n);
                let v = anneal(Annealing::$shape, self.start, self.end, 1.0, pos, rest);
                Some(finite($kind, "end", v).map(|v| (v, None)))
            }
        }
    };
}

annealer!(
    /// `fastai.SchedLin(start, end)`: `start + pos * (end - start)`.
    SchedLin,
    Lin,
    "fastai.SchedLin"
);
annealer!(
    /// `fastai.SchedCos(start, end)`: `start + (1 + cos(pi (1 - pos))) * (end - start) / 2`.
    SchedCos,
    Cos,
    "fastai.SchedCos"
);
annealer!(
    /// `fastai.SchedNo(start, end)`: `start`.
    SchedNo,
    No,
    "fastai.SchedNo"
);
annealer!(
    /// `fastai.SchedExp(start, end)`: `start * (end / start)^pos`.
    SchedExp,
    Exp,
    "fastai.SchedExp"
);

params! {
in fastai;
/// `fastai.SchedPoly(start, end, power)`: `start + (end - start) * pos^power`.
pub struct SchedPoly {
    /// value at pos 0
    pub start: f32 => "0.1",
    /// value at pos 1
    pub end: f32 => "0.001",
    /// power of the polynomial
    pub power: f32 => "2.0",
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl SchedPoly {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_total("fastai.SchedPoly", self.total_steps)
    }
}

impl Kind for SchedPoly {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        const K: &str = "fastai.SchedPoly";
        let n = match total(K, self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let (pos, rest) = position(t, n);
        let v = anneal(Annealing::Poly, self.start, self.end, self.power, pos, rest);
        Some(finite(K, "power", v).map(|v| (v, None)))
    }
}

/// fastai's `combine_scheds` at `pos`: the cumulated fractions as a float32 tensor, the part
/// `pos` falls in (the last one from its start on), and the position inside it in float32.
/// `at(i, pos, rest)` evaluates part `i`.
fn combined(pcts: &[f64], t: u32, n: u32, at: impl Fn(usize, f32, f32) -> f32) -> f32 {
    let pos = (f64::from(t) / f64::from(n)) as f32;
    let (mut lo, mut i) = (0.0f32, 0usize);
    for (k, &p) in pcts.iter().enumerate() {
        let hi = lo + p as f32;
        if k + 1 < pcts.len() && pos >= hi {
            lo = hi;
            continue;
        }
        i = k;
        let part = (pos - lo) / (hi - lo);
        // fastai's sched_* take 1 - part in f64, exactly.
        return at(i, part, (1.0 - f64::from(part)) as f32);
    }
    at(i, 0.0, 1.0)
}

/// fastai's `assert sum(pcts) == 1.` (in Python floats, in order) and `pcts >= 0`.
fn check_pcts(kind: &'static str, pcts: &[f64]) -> Result<(), Error> {
    if pcts.iter().any(|p| !(p.is_finite() && *p >= 0.0)) {
        return Err(Error::invalid(kind, "pcts", "must be >= 0"));
    }
    if pcts.iter().sum::<f64>() != 1.0 {
        return Err(Error::invalid(
            kind,
            "pcts",
            "must add up to 1 (fastai asserts sum(pcts) == 1.)",
        ));
    }
    Ok(())
}

params! {
in fastai;
/// `fastai.combine_scheds(pcts, scheds)`: schedule `i` over the fraction `pcts[i]` of the run,
/// each from its own pos 0 to 1.
pub struct CombineScheds {
    /// the fractions of the run, adding up to 1
    ///
    /// At most [`MAX_SCHEDS`]; f64, as fastai checks their sum in Python floats.
    pub pcts: Vec<f64, MAX_SCHEDS> => "[0.3, 0.7]",
    /// the schedules (JSON list of {"kind": "fastai.SchedCos", "start", "end"})
    pub scheds: Vec<Sched, MAX_SCHEDS>
        => r#"[{"kind":"fastai.SchedLin","start":0.001,"end":0.1},{"kind":"fastai.SchedCos","start":0.1,"end":0.0}]"#,
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl CombineScheds {
    const K: &'static str = "fastai.combine_scheds";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.pcts.is_empty() || self.pcts.len() != self.scheds.len() {
            return Err(Error::invalid(
                Self::K,
                "scheds",
                "must have as many entries as pcts, at least one",
            ));
        }
        check_pcts(Self::K, &self.pcts)?;
        self.scheds.iter().try_for_each(|s| s.validate(Self::K))?;
        check_total(Self::K, self.total_steps)
    }
}

impl Kind for CombineScheds {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let n = match total(Self::K, self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let v = combined(&self.pcts, t, n, |i, pos, rest| {
            self.scheds.get(i).map_or(0.0, |s| s.at(pos, rest))
        });
        Some(finite(Self::K, "scheds", v).map(|v| (v, None)))
    }
}

/// `combined_cos(pct, start, middle, end)` at step `t` of `n`.
fn combined_cos(pct: f64, start: f32, middle: f32, end: f32, t: u32, n: u32) -> f32 {
    combined(&[pct, 1.0 - pct], t, n, |i, pos, rest| match i {
        0 => anneal(Annealing::Cos, start, middle, 1.0, pos, rest),
        _ => anneal(Annealing::Cos, middle, end, 1.0, pos, rest),
    })
}

params! {
in fastai;
/// `fastai.combined_cos(pct, start, middle, end)`: a cosine from `start` to `middle` over the
/// fraction `pct` of the run, then from `middle` to `end`.
pub struct CombinedCos {
    /// fraction of the run in the first cosine
    ///
    /// f64, as fastai adds `1 - pct` in Python floats.
    pub pct: f64 => "0.25",
    /// value at pos 0
    pub start: f32 => "0.004",
    /// value at pos pct
    pub middle: f32 => "0.1",
    /// value at pos 1
    pub end: f32 => "0.000001",
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl CombinedCos {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "fastai.combined_cos";
        check_fraction(K, "pct", self.pct)?;
        check_total(K, self.total_steps)
    }
}

impl Kind for CombinedCos {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let n = match total("fastai.combined_cos", self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let v = combined_cos(self.pct, self.start, self.middle, self.end, t, n);
        Some(Ok((v, None)))
    }
}

impl crate::schema::SchemaType for Option<Vec<f32, 3>> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::FloatList;
}

impl crate::schema::Typed<Option<Vec<f32, 3>>> {
    pub(crate) const fn value(&self) -> crate::schema::DefaultValue {
        crate::schema::DefaultValue::Null
    }
}

params! {
in fastai;
/// The schedules of fastai's `Learner.fit_one_cycle` (Smith's 1cycle as fastai runs it): the
/// lr is `combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)` and the momentum
/// `combined_cos(pct_start, *moms)`. Unlike PyTorch's `OneCycleLR` the phases are fractions of
/// the run (`pct_start` 0.25), the end is `lr_max / div_final` (1e5) and the momentum ends
/// where it started.
pub struct FitOneCycle {
    /// epochs (N = n_epoch x batches per epoch; see total_steps)
    pub n_epoch: u32 as AtLeastOne => "1",
    /// peak lr (empty: the optimizer's lr)
    pub lr_max: Option<f32> = None,
    /// initial lr = lr_max / div
    pub div: f32 = 25.0,
    /// final lr = lr_max / div_final
    pub div_final: f32 = 1e5,
    /// fraction of the run rising
    ///
    /// f64, as fastai adds `1 - pct_start` in Python floats.
    pub pct_start: f64 = 0.25,
    /// momentum at the start, the peak lr and the end (empty: fastai's 0.95, 0.85, 0.95)
    pub moms: Option<Vec<f32, 3>> = None,
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl FitOneCycle {
    const K: &'static str = "fastai.fit_one_cycle";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let fit = (
            self.n_epoch,
            ("lr_max", self.lr_max),
            self.div_final,
            self.pct_start,
        );
        check_fit(Self::K, fit)?;
        positive(Self::K, "div", self.div)?;
        if let Some(m) = &self.moms {
            if m.len() != 3 {
                return Err(Error::invalid(Self::K, "moms", "must have 3 entries"));
            }
            m.iter()
                .try_for_each(|&v| non_negative(Self::K, "moms", v))?;
        }
        check_total(Self::K, self.total_steps)
    }
}

impl Kind for FitOneCycle {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let n = match total(Self::K, self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let lr_max = self.lr_max.unwrap_or(base);
        let p = self.pct_start;
        let lr = combined_cos(p, lr_max / self.div, lr_max, lr_max / self.div_final, t, n);
        let [m0, m1, m2] = match self.moms.as_deref() {
            Some(&[a, b, c]) => [a, b, c],
            _ => [0.95, 0.85, 0.95],
        };
        let mom = combined_cos(p, m0, m1, m2, t, n);
        Some(Ok((lr, Some(mom))))
    }
}

params! {
in fastai;
/// The schedule of fastai's `Learner.fit_flat_cos`: the lr flat at `lr` for the fraction
/// `pct_start` of the run, then a cosine to `lr / div_final` (`combined_cos(pct_start, lr, lr,
/// lr / div_final)`); the momentum is left alone.
pub struct FitFlatCos {
    /// epochs (N = n_epoch x batches per epoch; see total_steps)
    pub n_epoch: u32 as AtLeastOne => "1",
    /// the flat lr (empty: the optimizer's lr)
    pub lr: Option<f32> = None,
    /// final lr = lr / div_final
    pub div_final: f32 = 1e5,
    /// fraction of the run flat
    ///
    /// f64, as fastai adds `1 - pct_start` in Python floats.
    pub pct_start: f64 = 0.75,
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl FitFlatCos {
    const K: &'static str = "fastai.fit_flat_cos";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let fit = (
            self.n_epoch,
            ("lr", self.lr),
            self.div_final,
            self.pct_start,
        );
        check_fit(Self::K, fit)?;
        check_total(Self::K, self.total_steps)
    }
}

impl Kind for FitFlatCos {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let n = match total(Self::K, self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let lr = self.lr.unwrap_or(base);
        let v = combined_cos(self.pct_start, lr, lr, lr / self.div_final, t, n);
        Some(Ok((v, None)))
    }
}

/// Most cycles of a `fit_sgdr`.
pub const MAX_CYCLES: u32 = 16;

params! {
in fastai;
/// The schedule of fastai's `Learner.fit_sgdr`: `n_cycles` cosines from `lr_max` to 0, cycle
/// `i` lasting `cycle_len * cycle_mult^i` of the run's `n_epoch = cycle_len * (cycle_mult^n_cycles
/// - 1) / (cycle_mult - 1)` epochs (`combine_scheds` of `SchedCos(lr_max, 0)`s).
pub struct FitSgdr {
    /// number of cycles
    ///
    /// 1 to [`MAX_CYCLES`].
    pub n_cycles: u32 as AtLeastOne => "3",
    /// epochs of the first cycle
    pub cycle_len: u32 as AtLeastOne => "1",
    /// peak lr (empty: the optimizer's lr)
    pub lr_max: Option<f32> = None,
    /// cycle length multiplier
    ///
    /// >= 2 (fastai divides by cycle_mult - 1).
    pub cycle_mult: u32 = 2,
    /// N, the run's steps (empty: the run's length)
    pub total_steps: Option<u32> = None,
}
}

impl FitSgdr {
    const K: &'static str = "fastai.fit_sgdr";

    /// fastai's `pcts`, in Python floats.
    fn pcts(&self) -> Result<Vec<f64, { MAX_CYCLES as usize }>, Error> {
        let (len, mult) = (u64::from(self.cycle_len), u64::from(self.cycle_mult));
        let n_epoch = len * (mult.pow(self.n_cycles) - 1) / (mult - 1);
        let mut pcts = Vec::new();
        for i in 0..self.n_cycles {
            let p = (len * mult.pow(i)) as f64 / n_epoch as f64;
            pcts.push(p)
                .map_err(|_| Error::invalid(Self::K, "n_cycles", "must be at most 16"))?;
        }
        Ok(pcts)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one(Self::K, "n_cycles", self.n_cycles)?;
        at_least_one(Self::K, "cycle_len", self.cycle_len)?;
        if self.n_cycles > MAX_CYCLES {
            return Err(Error::invalid(Self::K, "n_cycles", "must be at most 16"));
        }
        if self.cycle_mult < 2 {
            return Err(Error::invalid(
                Self::K,
                "cycle_mult",
                "must be >= 2 (fastai divides by cycle_mult - 1)",
            ));
        }
        if u64::from(self.cycle_mult)
            .checked_pow(self.n_cycles)
            .and_then(|p| p.checked_mul(u64::from(self.cycle_len)))
            .is_none_or(|p| p > 1 << 52)
        {
            return Err(Error::invalid(Self::K, "n_cycles", "gives a run too long"));
        }
        if let Some(lr) = self.lr_max {
            positive(Self::K, "lr_max", lr)?;
        }
        check_pcts(Self::K, &self.pcts()?)?;
        check_total(Self::K, self.total_steps)
    }
}

impl Kind for FitSgdr {
    fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
        Some(&mut self.total_steps)
    }

    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let n = match total(Self::K, self.total_steps) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let pcts = match self.pcts() {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let lr_max = self.lr_max.unwrap_or(base);
        let v = combined(&pcts, t, n, |_, pos, rest| {
            anneal(Annealing::Cos, lr_max, 0.0, 1.0, pos, rest)
        });
        Some(Ok((v, None)))
    }
}

impl<const N: usize> crate::schema::SchemaType for Vec<Sched, N> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Specs;
}
