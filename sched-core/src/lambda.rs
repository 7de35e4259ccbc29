//! `LambdaLR` and the function type of `LambdaLR` / `MultiplicativeLR` (`recursive.rs`).

#[cfg(feature = "expr")]
use crate::expr::Expr;
#[cfg(feature = "expr")]
use crate::Error;

/// The function of a `LambdaLR` / `MultiplicativeLR`: a Rust function, or (with the `expr`
/// feature) a compiled Python lambda body in the variable `epoch` (the spec format's
/// `lr_lambda` string).
// Without a heap the compiled expression lives inline; the fn variant is small.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum LrLambda {
    /// `lr_lambda = "0.95 ** epoch"` in the spec format.
    #[cfg(feature = "expr")]
    Expr(Expr),
    /// A Rust function of the step (a non-capturing closure coerces to it). Not serializable.
    Fn(fn(u32) -> f32),
}

impl LrLambda {
    /// Compiles a Python lambda body in the variable `epoch`.
    #[cfg(feature = "expr")]
    pub fn parse(body: &str) -> Result<Self, Error> {
        Expr::parse(body, "epoch").map(LrLambda::Expr)
    }

    pub(crate) fn eval(&self, t: u32) -> f32 {
        match self {
            #[cfg(feature = "expr")]
            LrLambda::Expr(e) => e.eval(f64::from(t)) as f32,
            LrLambda::Fn(f) => f(t),
        }
    }

    /// Evaluates at `t` and rejects a non-finite value, which PyTorch would turn into an error
    /// (e.g. `ZeroDivisionError`) or a NaN lr.
    pub(crate) fn checked(&self, schedule: &'static str, t: u32) -> Result<f32, crate::Error> {
        let v = self.eval(t);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(crate::Error::invalid(
                schedule,
                "lr_lambda",
                "gave a non-finite value",
            ))
        }
    }
}

impl PartialEq for LrLambda {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            #[cfg(feature = "expr")]
            (LrLambda::Expr(a), LrLambda::Expr(b)) => a == b,
            (LrLambda::Fn(a), LrLambda::Fn(b)) => core::ptr::fn_addr_eq(*a, *b),
            #[cfg(feature = "expr")]
            _ => false,
        }
    }
}

impl From<fn(u32) -> f32> for LrLambda {
    fn from(f: fn(u32) -> f32) -> Self {
        LrLambda::Fn(f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for LrLambda {
    fn format(&self, f: defmt::Formatter) {
        match self {
            #[cfg(feature = "expr")]
            LrLambda::Expr(e) => defmt::write!(f, "{=str}", e.source()),
            LrLambda::Fn(_) => defmt::write!(f, "<fn>"),
        }
    }
}

#[cfg(all(feature = "defmt", feature = "expr"))]
impl defmt::Format for Expr {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{=str}", self.source())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for LrLambda {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(not(feature = "expr"))]
        let _ = s;
        match self {
            #[cfg(feature = "expr")]
            LrLambda::Expr(e) => crate::expr::serialize_expr(e, s),
            LrLambda::Fn(_) => Err(serde::ser::Error::custom(
                "a Rust fn lr_lambda cannot be serialized; use an expression string",
            )),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for LrLambda {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[cfg(feature = "expr")]
        return crate::expr::deserialize_expr(d, "epoch").map(LrLambda::Expr);
        #[cfg(not(feature = "expr"))]
        return crate::de::no_expr(d);
    }
}

params! {
/// `torch.optim.lr_scheduler.LambdaLR`: `lr_t = base_lr * lr_lambda(t)`.
///
/// ```
/// use sched_core::{LambdaLR, Scheduler};
/// # #[cfg(feature = "expr")] {
/// let s = Scheduler::new(LambdaLR::parse("0.5 ** epoch")?, 2.0, 0.0)?;
/// assert_eq!(s.lr_at(3), Some(0.25));
/// # }
/// let warmup = Scheduler::new(LambdaLR::new(|t| (t as f32 + 1.0).min(4.0) / 4.0), 1.0, 0.0)?;
/// assert_eq!(warmup.lr(), 0.25);
/// # Ok::<(), sched_core::Error>(())
/// ```
pub struct LambdaLR {
    /// factor of the initial lr; Python lambda body in `epoch`
    ///
    /// The factor as a function of the step.
    #[per_group = true]
    pub lr_lambda: LrLambda => r#""0.95 ** epoch""#,
}
}

impl LambdaLR {
    /// From a Rust function of the step.
    pub fn new(f: fn(u32) -> f32) -> Self {
        LambdaLR {
            lr_lambda: LrLambda::Fn(f),
        }
    }
    /// From a Python lambda body in `epoch`, e.g. `"0.95 ** epoch"`.
    #[cfg(feature = "expr")]
    pub fn parse(body: &str) -> Result<Self, Error> {
        Ok(LambdaLR {
            lr_lambda: LrLambda::parse(body)?,
        })
    }
}

impl LambdaLR {
    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        Ok(())
    }
}

impl crate::kind::Kind for LambdaLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), crate::Error>> {
        Some(
            self.lr_lambda
                .checked("LambdaLR", t)
                .map(|f| (base * f, None)),
        )
    }
}

impl crate::schema::SchemaType for LrLambda {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Expr;
}
