//! The rules the references' constructors enforce on optimizer parameters, as one-line errors naming
//! `optimizer.<field>`.

use anyhow::{bail, Result};

/// `v` within `[lo, hi)` (or `(lo, hi)` when `lo_open`).
pub fn range(field: &str, v: f32, lo: f32, lo_open: bool, hi: f32) -> Result<()> {
    let above = if lo_open { v > lo } else { v >= lo };
    if !(above && v < hi) {
        let open = if lo_open { "(" } else { "[" };
        bail!("`optimizer.{field}` must be in {open}{lo}, {hi}); got {v}");
    }
    Ok(())
}

/// `v >= 0` and finite.
pub fn non_negative(field: &str, v: f32) -> Result<()> {
    if !(v.is_finite() && v >= 0.0) {
        bail!("`optimizer.{field}` must be >= 0 and finite; got {v}");
    }
    Ok(())
}

/// `v` finite.
pub fn finite(field: &str, v: f32) -> Result<()> {
    if !v.is_finite() {
        bail!("`optimizer.{field}` must be finite; got {v}");
    }
    Ok(())
}

/// Adam's `betas`: each in [0, 1).
pub fn betas(betas: [f32; 2]) -> Result<()> {
    for (i, b) in betas.into_iter().enumerate() {
        range(&format!("betas[{i}]"), b, 0.0, false, 1.0)?;
    }
    Ok(())
}
