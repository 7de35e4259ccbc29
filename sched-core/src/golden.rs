//! The golden metric: how far a computed series is from PyTorch's. One definition, used by the
//! host golden suite (`tests/golden.rs`), the page's golden check (through the wasm export) and
//! the firmware's on-device check.
//!
//! The error of a value is `|actual - expected| / max(|expected|, 1e-6 * scale)`, where `scale`
//! is the largest `|expected|` of the series, so values that decay to nothing are judged
//! against the scale of the series. A case passes when every error is at most [`BAR`].

/// The bar every golden case must meet.
pub const BAR: f64 = 1e-5;

/// The error metric of one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric {
    floor: f64,
}

impl Metric {
    /// For a series whose largest `|expected|` is `scale`.
    pub fn new(scale: f64) -> Self {
        Metric {
            floor: libm::fmax(1e-6 * libm::fabs(scale), f64::MIN_POSITIVE),
        }
    }

    /// For the series `expected`.
    pub fn of(expected: impl IntoIterator<Item = f64>) -> Self {
        Self::new(
            expected
                .into_iter()
                .fold(0.0, |m, v| libm::fmax(m, libm::fabs(v))),
        )
    }

    /// The denominator's floor, `1e-6 * scale`.
    pub fn floor(&self) -> f64 {
        self.floor
    }

    /// The error of `actual` against `expected`; a NaN counts as infinitely wrong.
    pub fn error(&self, actual: f64, expected: f64) -> f64 {
        if actual == expected {
            return 0.0;
        }
        let error = libm::fabs(actual - expected) / libm::fmax(libm::fabs(expected), self.floor);
        if error.is_nan() {
            f64::INFINITY
        } else {
            error
        }
    }
}

/// The worst error of a series and where it is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Worst {
    /// The largest error (0 when every value is exact).
    pub error: f64,
    /// Its step.
    pub step: usize,
    /// PyTorch's value there.
    pub expected: f64,
    /// sched-core's value there.
    pub actual: f64,
}

/// The worst error of `actual` against `expected` over every step but those in `skip` (known
/// reference bugs). A missing or extra value is an infinite error at the first step where the
/// lengths differ.
///
/// ```
/// use sched_core::golden::{worst, BAR};
/// let w = worst(&[1.0, 0.5, 0.0], &[1.0, 0.500001, 1e-13], &[]);
/// assert!(w.error <= BAR && w.step == 1);
/// ```
pub fn worst(expected: &[f64], actual: &[f32], skip: &[usize]) -> Worst {
    let metric = Metric::of(expected.iter().copied());
    let mut worst = Worst::default();
    for (step, (&e, &a)) in expected.iter().zip(actual).enumerate() {
        if skip.contains(&step) {
            continue;
        }
        let error = metric.error(f64::from(a), e);
        if error > worst.error {
            worst = Worst {
                error,
                step,
                expected: e,
                actual: f64::from(a),
            };
        }
    }
    if expected.len() != actual.len() {
        let step = expected.len().min(actual.len());
        worst = Worst {
            error: f64::INFINITY,
            step,
            expected: expected.get(step).copied().unwrap_or(f64::NAN),
            actual: actual.get(step).map_or(f64::NAN, |&a| f64::from(a)),
        };
    }
    worst
}
