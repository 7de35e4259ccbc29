//! A spec as Rust source that builds it with sched-core's public types: for build scripts that
//! read specs with serde on the host and embed them in a program without serde (the firmware's
//! golden table). The parameter types implement [`Literal`] through `params!` / `choice!`
//! (`macros.rs`), so a new kind needs nothing here.
//!
//! The source refers to `sched_core::...` and to a function `vec` that the including code
//! provides: `fn vec<T: Clone, const N: usize>(items: &[T]) -> Result<heapless::Vec<T, N>, E>`,
//! and it uses `?` (expressions are compiled where the source runs, so it needs the `expr`
//! feature there).

use core::fmt::{self, Write};

/// Writes a value as Rust source.
pub(crate) trait Literal {
    fn write(&self, out: &mut dyn Write) -> fmt::Result;
}

impl Literal for u32 {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "{self}")
    }
}

impl Literal for bool {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        write!(out, "{self}")
    }
}

/// `{:?}` is the shortest text that reads back to the same value; a non-finite one has no
/// literal (and no valid spec has one).
macro_rules! float_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn write(&self, out: &mut dyn Write) -> fmt::Result {
                if !self.is_finite() {
                    return Err(fmt::Error);
                }
                write!(out, "{self:?}")
            }
        }
    )*};
}
float_literal!(f32, f64);

impl<T: Literal> Literal for Option<T> {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        match self {
            None => out.write_str("None"),
            Some(v) => {
                out.write_str("Some(")?;
                v.write(out)?;
                out.write_str(")")
            }
        }
    }
}

impl<A: Literal, B: Literal> Literal for (A, B) {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("(")?;
        self.0.write(out)?;
        out.write_str(", ")?;
        self.1.write(out)?;
        out.write_str(")")
    }
}

impl<T: Literal, const N: usize> Literal for heapless::Vec<T, N> {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        out.write_str("vec(&[")?;
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            v.write(out)?;
        }
        out.write_str("])?")
    }
}

impl Literal for crate::LrLambda {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        #[cfg(not(feature = "expr"))]
        let _ = out;
        match self {
            #[cfg(feature = "expr")]
            crate::LrLambda::Expr(e) => {
                write!(out, "sched_core::LrLambda::parse({:?})?", e.source())
            }
            // A Rust fn has no source to write.
            crate::LrLambda::Fn(_) => Err(fmt::Error),
        }
    }
}

impl Literal for crate::ScaleFn {
    fn write(&self, out: &mut dyn Write) -> fmt::Result {
        #[cfg(feature = "expr")]
        return write!(
            out,
            "sched_core::ScaleFn(sched_core::Expr::parse({:?}, \"x\")?)",
            self.0.source()
        );
        #[cfg(not(feature = "expr"))]
        {
            let _ = out;
            match *self {}
        }
    }
}
