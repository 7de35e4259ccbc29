//! PyTorch's defaults (and the reference implementations' for the kinds PyTorch lacks), each
//! named once. The constructors and the spec format (serde fills an omitted argument from these)
//! both use them; `tests/golden/defaults.json`, written by `generate.py` from the references'
//! own signatures, is checked against them (`tests/defaults.rs`).

use crate::{
    Anneal, CyclicMode, PlateauMode, ScaleFn, ScaleMode, ThresholdMode, WarmupShape, WsdShape,
};

macro_rules! defaults {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty = $value:expr; )*) => {
        $( $(#[$doc])* pub const $name: $ty = $value; )*

        /// serde's `default = "..."` functions, one per constant, of the same name.
        #[cfg(feature = "serde")]
        #[allow(non_snake_case)]
        pub(crate) mod f {
            use super::{Anneal, CyclicMode, PlateauMode, ScaleFn, ScaleMode, ThresholdMode, WarmupShape, WsdShape};
            $( pub(crate) fn $name() -> $ty { super::$name } )*
        }
    };
}

defaults! {
    /// `StepLR(gamma=0.1)`.
    STEP_LR_GAMMA: f64 = 0.1;
    /// `MultiStepLR(gamma=0.1)`.
    MULTI_STEP_LR_GAMMA: f64 = 0.1;
    /// `ConstantLR(factor=1/3)`.
    CONSTANT_LR_FACTOR: f32 = 1.0 / 3.0;
    /// `ConstantLR(total_iters=5)`.
    CONSTANT_LR_TOTAL_ITERS: u32 = 5;
    /// `LinearLR(start_factor=1/3)`.
    LINEAR_LR_START_FACTOR: f32 = 1.0 / 3.0;
    /// `LinearLR(end_factor=1.0)`.
    LINEAR_LR_END_FACTOR: f32 = 1.0;
    /// `LinearLR(total_iters=5)`.
    LINEAR_LR_TOTAL_ITERS: u32 = 5;
    /// `PolynomialLR(total_iters=5)`.
    POLYNOMIAL_LR_TOTAL_ITERS: u32 = 5;
    /// `PolynomialLR(power=1.0)`.
    POLYNOMIAL_LR_POWER: f32 = 1.0;
    /// `CosineAnnealingLR(eta_min=0)`.
    COSINE_ANNEALING_LR_ETA_MIN: f64 = 0.0;
    /// `CosineAnnealingWarmRestarts(T_mult=1)`.
    COSINE_ANNEALING_WARM_RESTARTS_T_MULT: u32 = 1;
    /// `CosineAnnealingWarmRestarts(eta_min=0)`.
    COSINE_ANNEALING_WARM_RESTARTS_ETA_MIN: f32 = 0.0;
    /// `CyclicLR(step_size_up=2000)`.
    CYCLIC_LR_STEP_SIZE_UP: u32 = 2000;
    /// `CyclicLR(step_size_down=None)`: `step_size_up`.
    CYCLIC_LR_STEP_SIZE_DOWN: Option<u32> = None;
    /// `CyclicLR(mode='triangular')`.
    CYCLIC_LR_MODE: CyclicMode = CyclicMode::Triangular;
    /// `CyclicLR(gamma=1.0)`.
    CYCLIC_LR_GAMMA: f64 = 1.0;
    /// `CyclicLR(scale_fn=None)`: `mode`.
    CYCLIC_LR_SCALE_FN: Option<ScaleFn> = None;
    /// `CyclicLR(scale_mode='cycle')`.
    CYCLIC_LR_SCALE_MODE: ScaleMode = ScaleMode::Cycle;
    /// `CyclicLR(cycle_momentum=True)`.
    CYCLIC_LR_CYCLE_MOMENTUM: bool = true;
    /// `CyclicLR(base_momentum=0.8)`.
    CYCLIC_LR_BASE_MOMENTUM: f32 = 0.8;
    /// `CyclicLR(max_momentum=0.9)`.
    CYCLIC_LR_MAX_MOMENTUM: f32 = 0.9;
    /// `OneCycleLR(total_steps=None)`.
    ONE_CYCLE_LR_TOTAL_STEPS: Option<u32> = None;
    /// `OneCycleLR(epochs=None)`.
    ONE_CYCLE_LR_EPOCHS: Option<u32> = None;
    /// `OneCycleLR(steps_per_epoch=None)`.
    ONE_CYCLE_LR_STEPS_PER_EPOCH: Option<u32> = None;
    /// `OneCycleLR(pct_start=0.3)`.
    ONE_CYCLE_LR_PCT_START: f32 = 0.3;
    /// `OneCycleLR(anneal_strategy='cos')`.
    ONE_CYCLE_LR_ANNEAL_STRATEGY: Anneal = Anneal::Cos;
    /// `OneCycleLR(cycle_momentum=True)`.
    ONE_CYCLE_LR_CYCLE_MOMENTUM: bool = true;
    /// `OneCycleLR(base_momentum=0.85)`.
    ONE_CYCLE_LR_BASE_MOMENTUM: f32 = 0.85;
    /// `OneCycleLR(max_momentum=0.95)`.
    ONE_CYCLE_LR_MAX_MOMENTUM: f32 = 0.95;
    /// `OneCycleLR(div_factor=25.0)`.
    ONE_CYCLE_LR_DIV_FACTOR: f32 = 25.0;
    /// `OneCycleLR(final_div_factor=1e4)`.
    ONE_CYCLE_LR_FINAL_DIV_FACTOR: f32 = 1e4;
    /// `OneCycleLR(three_phase=False)`.
    ONE_CYCLE_LR_THREE_PHASE: bool = false;
    /// `SWALR(anneal_epochs=10)`.
    SWALR_ANNEAL_EPOCHS: u32 = 10;
    /// `SWALR(anneal_strategy='cos')`.
    SWALR_ANNEAL_STRATEGY: Anneal = Anneal::Cos;
    /// `ReduceLROnPlateau(mode='min')`.
    REDUCE_LR_ON_PLATEAU_MODE: PlateauMode = PlateauMode::Min;
    /// `ReduceLROnPlateau(factor=0.1)`.
    REDUCE_LR_ON_PLATEAU_FACTOR: f32 = 0.1;
    /// `ReduceLROnPlateau(patience=10)`.
    REDUCE_LR_ON_PLATEAU_PATIENCE: u32 = 10;
    /// `ReduceLROnPlateau(threshold=1e-4)`.
    REDUCE_LR_ON_PLATEAU_THRESHOLD: f32 = 1e-4;
    /// `ReduceLROnPlateau(threshold_mode='rel')`.
    REDUCE_LR_ON_PLATEAU_THRESHOLD_MODE: ThresholdMode = ThresholdMode::Rel;
    /// `ReduceLROnPlateau(cooldown=0)`.
    REDUCE_LR_ON_PLATEAU_COOLDOWN: u32 = 0;
    /// `ReduceLROnPlateau(min_lr=0)`.
    REDUCE_LR_ON_PLATEAU_MIN_LR: f32 = 0.0;
    /// `ReduceLROnPlateau(eps=1e-8)`.
    REDUCE_LR_ON_PLATEAU_EPS: f32 = 1e-8;
    /// `get_wsd_schedule(warmup_type="linear")`.
    WARMUP_STABLE_DECAY_LR_WARMUP_TYPE: WsdShape = WsdShape::Linear;
    /// `get_wsd_schedule(decay_type="cosine")`.
    WARMUP_STABLE_DECAY_LR_DECAY_TYPE: WsdShape = WsdShape::Cosine;
    /// `get_wsd_schedule(min_lr_ratio=0)`.
    WARMUP_STABLE_DECAY_LR_MIN_LR_RATIO: f32 = 0.0;
    /// `get_wsd_schedule(num_cycles=0.5)`.
    WARMUP_STABLE_DECAY_LR_NUM_CYCLES: f32 = 0.5;
    /// `get_inverse_sqrt_schedule(timescale=None)`.
    INVERSE_SQRT_LR_TIMESCALE: Option<u32> = None;
    /// timm `CosineLRScheduler(lr_min=0)`.
    TIMM_COSINE_LR_LR_MIN: f32 = 0.0;
    /// timm `CosineLRScheduler(cycle_mul=1)`.
    TIMM_COSINE_LR_CYCLE_MUL: u32 = 1;
    /// timm `CosineLRScheduler(cycle_decay=1.0)`.
    TIMM_COSINE_LR_CYCLE_DECAY: f32 = 1.0;
    /// timm `CosineLRScheduler(cycle_limit=1)`.
    TIMM_COSINE_LR_CYCLE_LIMIT: u32 = 1;
    /// timm `CosineLRScheduler(k_decay=1.0)`.
    TIMM_COSINE_LR_K_DECAY: f32 = 1.0;
    /// timm `TanhLRScheduler(lb=-7)`.
    TIMM_TANH_LR_LB: f32 = -7.0;
    /// timm `TanhLRScheduler(ub=3)`.
    TIMM_TANH_LR_UB: f32 = 3.0;
    /// timm `TanhLRScheduler(lr_min=0)`.
    TIMM_TANH_LR_LR_MIN: f32 = 0.0;
    /// timm `TanhLRScheduler(cycle_mul=1)`.
    TIMM_TANH_LR_CYCLE_MUL: u32 = 1;
    /// timm `TanhLRScheduler(cycle_decay=1.0)`.
    TIMM_TANH_LR_CYCLE_DECAY: f32 = 1.0;
    /// timm `TanhLRScheduler(cycle_limit=1)`.
    TIMM_TANH_LR_CYCLE_LIMIT: u32 = 1;
    /// transformers `get_cosine_schedule_with_warmup(num_cycles=0.5)`.
    COSINE_WITH_WARMUP_LR_NUM_CYCLES: f32 = 0.5;
    /// `WarmupLR(warmup='linear')` (this crate's kind).
    WARMUP_LR_WARMUP: WarmupShape = WarmupShape::Linear;
    /// `WarmupLR(start_factor=0)` (this crate's kind).
    WARMUP_LR_START_FACTOR: f32 = 0.0;
}

/// fastai `Learner.lr_find(start_lr=1e-7)`.
pub const LR_FINDER_START_LR: f64 = 1e-7;
/// fastai `Learner.lr_find(end_lr=10)`.
pub const LR_FINDER_END_LR: f64 = 10.0;
/// fastai `Learner.lr_find(num_it=100)`.
pub const LR_FINDER_NUM_ITER: u32 = 100;
/// fastai's `LRFinder` runs at least this many steps (`if num_it < 6: num_it = 6`).
pub const LR_FINDER_MIN_NUM_ITER: u32 = 6;
/// fastai `Recorder(beta=0.98)`: the smoothing of the loss (`AvgSmoothLoss`).
pub const LR_FINDER_BETA: f64 = 0.98;
/// fastai's `LRFinder(stop_div=True)` stops when the smoothed loss exceeds this times the best
/// (Lightning's `early_stop_threshold=4.0`).
pub const LR_FINDER_DIVERGE_FACTOR: f32 = 4.0;
