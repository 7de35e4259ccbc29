//! PyTorch's defaults, named in serde's `default = "..."` attributes.

use crate::cyclic::{CyclicMode, ScaleMode};
use crate::modern::WsdShape;
use crate::one_cycle::Anneal;
use crate::plateau::{PlateauMode, ThresholdMode};
use crate::spec::WarmupShape;

pub(crate) fn gamma_default() -> f64 {
    0.1
}

pub(crate) fn one() -> f32 {
    1.0
}

pub(crate) fn one_u32() -> u32 {
    1
}

pub(crate) fn two_thousand() -> u32 {
    2000
}

pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn point_nine() -> f32 {
    0.9
}

pub(crate) fn point_eight() -> f32 {
    0.8
}

pub(crate) fn pct_default() -> f32 {
    0.3
}

pub(crate) fn base_m() -> f32 {
    0.85
}

pub(crate) fn max_m() -> f32 {
    0.95
}

pub(crate) fn div_default() -> f32 {
    25.0
}

pub(crate) fn final_div_default() -> f32 {
    1e4
}

pub(crate) fn min() -> PlateauMode {
    PlateauMode::Min
}

pub(crate) fn ten() -> u32 {
    10
}

pub(crate) fn rel() -> ThresholdMode {
    ThresholdMode::Rel
}

pub(crate) fn linear() -> WsdShape {
    WsdShape::Linear
}

pub(crate) fn cosine() -> WsdShape {
    WsdShape::Cosine
}

pub(crate) fn half() -> f32 {
    0.5
}

pub(crate) fn lb_default() -> f32 {
    -7.0
}

pub(crate) fn ub_default() -> f32 {
    3.0
}

pub(crate) fn linear_warmup() -> WarmupShape {
    WarmupShape::Linear
}

pub(crate) fn cos() -> Anneal {
    Anneal::Cos
}

pub(crate) fn cycle() -> ScaleMode {
    ScaleMode::Cycle
}

pub(crate) fn eps_default() -> f32 {
    1e-8
}

pub(crate) fn five() -> u32 {
    5
}

pub(crate) fn one_third() -> f32 {
    1.0 / 3.0
}

pub(crate) fn tenth() -> f32 {
    0.1
}

pub(crate) fn threshold_default() -> f32 {
    1e-4
}

pub(crate) fn triangular() -> CyclicMode {
    CyclicMode::Triangular
}

pub(crate) fn one_f64() -> f64 {
    1.0
}
