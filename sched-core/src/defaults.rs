//! The defaults that belong to no schedule kind: the LR range test's (fastai's). Each kind's
//! defaults are declared with its parameters, in its own file (`params!`), and read from there
//! by the spec reader, `Kind::with_defaults` and the schema; `tests/golden/defaults.json`,
//! written by `generate.py` from the references' own signatures, is checked against them
//! (`tests/defaults.rs`).

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
