use core::fmt;

/// Why a schedule could not be built or stepped.
///
/// Constructors validate every parameter and return this instead of panicking; the message names
/// the schedule, the parameter and the rule it broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A parameter broke its rule, e.g. `StepLR` `step_size` must be >= 1.
    InvalidParameter {
        /// The schedule kind, e.g. `"StepLR"`.
        schedule: &'static str,
        /// The parameter, with PyTorch's name, e.g. `"step_size"`.
        parameter: &'static str,
        /// The rule it broke, e.g. `"must be >= 1"`.
        rule: &'static str,
    },
    /// A `lr_lambda` or `scale_fn` expression could not be parsed.
    InvalidExpression {
        /// Byte offset in the expression where parsing stopped.
        position: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// `ReduceLROnPlateau` was stepped without a metric; use `step_with_metric`.
    MetricRequired,
    /// A metric was given to a schedule that does not take one; use `step`.
    MetricNotAccepted,
    /// The next lr would not be a finite number (e.g. `gamma > 1` compounding past f32's range,
    /// or a `lr_lambda` dividing by zero); the state is left as it was.
    NonFiniteLr {
        /// The schedule kind.
        schedule: &'static str,
    },
    /// `OneCycleLR` was stepped past its `total_steps` (PyTorch raises `ValueError` here too).
    PastTotalSteps {
        /// The schedule's total number of steps.
        total_steps: u32,
    },
    /// An [`LrFinder`](crate::LrFinder) curve, trimmed as its rule trims it, has too few points
    /// for the rule (fastai raises and Lightning returns `None` there).
    CurveTooShort {
        /// The rule's name, e.g. `"slide"`.
        suggestion: &'static str,
        /// The points left after trimming.
        points: u32,
        /// The fewest the rule needs.
        needed: u32,
    },
}

impl Error {
    pub(crate) const fn invalid(
        schedule: &'static str,
        parameter: &'static str,
        rule: &'static str,
    ) -> Self {
        Error::InvalidParameter {
            schedule,
            parameter,
            rule,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParameter { schedule, parameter, rule } => {
                write!(f, "{schedule}: `{parameter}` {rule}")
            }
            Error::InvalidExpression { position, reason } => {
                write!(f, "invalid expression at byte {position}: {reason}")
            }
            Error::MetricRequired => {
                f.write_str("ReduceLROnPlateau steps on a metric: call step_with_metric(metric)")
            }
            Error::MetricNotAccepted => {
                f.write_str("only ReduceLROnPlateau takes a metric: call step()")
            }
            Error::NonFiniteLr { schedule } => write!(
                f,
                "{schedule}: the next lr is not a finite number; check its parameters (gamma, lr_lambda, ...)"
            ),
            Error::PastTotalSteps { total_steps } => write!(
                f,
                "OneCycleLR: stepped past `total_steps` ({total_steps}); raise total_steps or epochs"
            ),
            Error::CurveTooShort { suggestion, points, needed } => write!(
                f,
                "lr_find suggestion `{suggestion}` needs {needed} points of the trimmed curve but it has {points}; run more iterations or a wider lr range"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// An f32 or f64 parameter, compared in its own type (an f32 in f64 would be soft float on a
/// Cortex-M4F).
pub(crate) trait Real: Copy {
    fn positive(self) -> bool;
    fn non_negative(self) -> bool;
}

impl Real for f32 {
    fn positive(self) -> bool {
        self.is_finite() && self > 0.0
    }
    fn non_negative(self) -> bool {
        self.is_finite() && self >= 0.0
    }
}

impl Real for f64 {
    fn positive(self) -> bool {
        self.is_finite() && self > 0.0
    }
    fn non_negative(self) -> bool {
        self.is_finite() && self >= 0.0
    }
}

/// Checks `value` (f32 or f64) is finite and `> 0`. (The checks are out of line: on a
/// Cortex-M4F each call site would otherwise carry its own copy.)
#[inline(never)]
pub(crate) fn positive<T: Real>(
    schedule: &'static str,
    parameter: &'static str,
    value: T,
) -> Result<(), Error> {
    if value.positive() {
        Ok(())
    } else {
        Err(Error::invalid(
            schedule,
            parameter,
            "must be > 0 and finite",
        ))
    }
}

/// Checks `value` (f32 or f64) is finite and `>= 0`.
#[inline(never)]
pub(crate) fn non_negative<T: Real>(
    schedule: &'static str,
    parameter: &'static str,
    value: T,
) -> Result<(), Error> {
    if value.non_negative() {
        Ok(())
    } else {
        Err(Error::invalid(
            schedule,
            parameter,
            "must be >= 0 and finite",
        ))
    }
}

/// Checks an integer period is `>= 1`.
#[inline(never)]
pub(crate) fn at_least_one(
    schedule: &'static str,
    parameter: &'static str,
    value: u32,
) -> Result<(), Error> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::invalid(schedule, parameter, "must be >= 1"))
    }
}
