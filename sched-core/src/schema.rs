//! Every kind's parameters as data: names, how a form edits each, PyTorch's defaults (the
//! constants of [`defaults`](crate::defaults), not copies), an example for each required one,
//! and a line of help. The page generates its form from this table; `tests/schema.rs` checks it
//! against what serde fills in, so a new kind is added here, next to its code, and nowhere else.

use crate::defaults as d;
use core::fmt;

/// A default value, written as JSON by [`DefaultValue::write_json`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    /// An f64 parameter.
    F64(f64),
    /// An f32 parameter.
    F32(f32),
    /// A u32 parameter.
    U32(u32),
    /// An optional u32 (`None` is JSON `null`).
    OptU32(Option<u32>),
    /// A flag.
    Bool(bool),
    /// The option at this index of the parameter's [`ParamType::Choice`].
    Choice(usize),
    /// JSON `null`.
    Null,
}

impl DefaultValue {
    /// The value as JSON text; `options` are the parameter's choices.
    pub fn write_json(self, options: &[&str], out: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            // Display gives the shortest text that reads back as the same float.
            DefaultValue::F64(v) => write!(out, "{v}"),
            DefaultValue::F32(v) => write!(out, "{v}"),
            DefaultValue::U32(v) | DefaultValue::OptU32(Some(v)) => write!(out, "{v}"),
            DefaultValue::Bool(v) => write!(out, "{v}"),
            DefaultValue::Choice(i) => write!(out, "\"{}\"", options.get(i).copied().unwrap_or("")),
            DefaultValue::OptU32(None) | DefaultValue::Null => out.write_str("null"),
        }
    }
}

/// How the form edits a parameter (and how its text becomes JSON).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamType {
    /// u32.
    Int,
    /// f32 or f64.
    Float,
    /// Checkbox.
    Bool,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// u32 or `null` (empty field).
    OptInt,
    /// List of u32, e.g. `2, 5, 9`.
    IntList,
    /// A Python lambda body (string).
    Expr,
    /// A Python lambda body or `null` (empty field).
    OptExpr,
    /// A JSON list of child specs.
    Specs,
    /// One JSON child spec.
    Spec,
}

impl ParamType {
    /// The page's name for it, e.g. `"opt_int"`.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Choice(_) => "choice",
            ParamType::OptInt => "opt_int",
            ParamType::IntList => "int_list",
            ParamType::Expr => "expr",
            ParamType::OptExpr => "opt_expr",
            ParamType::Specs => "specs",
            ParamType::Spec => "spec",
        }
    }
}

/// One constructor argument of a kind.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// PyTorch's argument name (the spec key).
    pub name: &'static str,
    /// How the form edits it.
    pub ty: ParamType,
    /// PyTorch's default (a constant of [`defaults`](crate::defaults)); `None` when the
    /// argument is required.
    pub default: Option<DefaultValue>,
    /// The value the form starts with (JSON text): always for a required argument, and where
    /// the default alone does not build (OneCycleLR's `total_steps`).
    pub example: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
}

const fn opt(
    name: &'static str,
    ty: ParamType,
    default: DefaultValue,
    help: &'static str,
) -> Param {
    Param {
        name,
        ty,
        default: Some(default),
        example: None,
        help,
    }
}

const fn opt_ex(
    name: &'static str,
    ty: ParamType,
    default: DefaultValue,
    example: &'static str,
    help: &'static str,
) -> Param {
    Param {
        name,
        ty,
        default: Some(default),
        example: Some(example),
        help,
    }
}

const fn req(
    name: &'static str,
    ty: ParamType,
    example: &'static str,
    help: &'static str,
) -> Param {
    Param {
        name,
        ty,
        default: None,
        example: Some(example),
        help,
    }
}

/// `Anneal`'s options, for OneCycleLR's and SWALR's `anneal_strategy`.
const ANNEAL: ParamType = ParamType::Choice(&["cos", "linear"]);

const WSD: ParamType = ParamType::Choice(&["linear", "cosine", "1-sqrt"]);
const CHILDREN: &str = r#"[{"kind":"LinearLR","start_factor":0.1,"total_iters":5},{"kind":"CosineAnnealingLR","T_max":10}]"#;

/// Every kind's parameters, in `Spec::KINDS` order, with PyTorch's defaults.
pub const PARAMS: &[(&str, &[Param])] = &[
    (
        "LambdaLR",
        &[req(
            "lr_lambda",
            ParamType::Expr,
            r#""0.95 ** epoch""#,
            "factor of the initial lr; Python lambda body in `epoch`",
        )],
    ),
    (
        "MultiplicativeLR",
        &[req(
            "lr_lambda",
            ParamType::Expr,
            r#""0.95""#,
            "factor applied each step; Python lambda body in `epoch`",
        )],
    ),
    (
        "StepLR",
        &[
            req(
                "step_size",
                ParamType::Int,
                "2",
                "period of decay, in scheduler steps",
            ),
            opt(
                "gamma",
                ParamType::Float,
                DefaultValue::F64(d::STEP_LR_GAMMA),
                "multiplicative decay",
            ),
        ],
    ),
    (
        "MultiStepLR",
        &[
            req(
                "milestones",
                ParamType::IntList,
                "[2,5,9]",
                "scheduler steps at which to decay",
            ),
            opt(
                "gamma",
                ParamType::Float,
                DefaultValue::F64(d::MULTI_STEP_LR_GAMMA),
                "multiplicative decay",
            ),
        ],
    ),
    (
        "ConstantLR",
        &[
            opt(
                "factor",
                ParamType::Float,
                DefaultValue::F32(d::CONSTANT_LR_FACTOR),
                "factor until total_iters, in (0, 1]",
            ),
            opt(
                "total_iters",
                ParamType::Int,
                DefaultValue::U32(d::CONSTANT_LR_TOTAL_ITERS),
                "steps before the lr returns to the base",
            ),
        ],
    ),
    (
        "LinearLR",
        &[
            opt(
                "start_factor",
                ParamType::Float,
                DefaultValue::F32(d::LINEAR_LR_START_FACTOR),
                "factor at step 0",
            ),
            opt(
                "end_factor",
                ParamType::Float,
                DefaultValue::F32(d::LINEAR_LR_END_FACTOR),
                "factor at total_iters",
            ),
            opt(
                "total_iters",
                ParamType::Int,
                DefaultValue::U32(d::LINEAR_LR_TOTAL_ITERS),
                "length of the ramp",
            ),
        ],
    ),
    (
        "ExponentialLR",
        &[req(
            "gamma",
            ParamType::Float,
            "0.95",
            "multiplicative decay per step",
        )],
    ),
    (
        "PolynomialLR",
        &[
            opt(
                "total_iters",
                ParamType::Int,
                DefaultValue::U32(d::POLYNOMIAL_LR_TOTAL_ITERS),
                "steps to reach 0",
            ),
            opt(
                "power",
                ParamType::Float,
                DefaultValue::F32(d::POLYNOMIAL_LR_POWER),
                "power of the polynomial",
            ),
        ],
    ),
    (
        "CosineAnnealingLR",
        &[
            req(
                "T_max",
                ParamType::Int,
                "10",
                "half period, in scheduler steps",
            ),
            opt(
                "eta_min",
                ParamType::Float,
                DefaultValue::F64(d::COSINE_ANNEALING_LR_ETA_MIN),
                "minimum lr",
            ),
        ],
    ),
    (
        "CosineAnnealingWarmRestarts",
        &[
            req("T_0", ParamType::Int, "3", "first restart period"),
            opt(
                "T_mult",
                ParamType::Int,
                DefaultValue::U32(d::COSINE_ANNEALING_WARM_RESTARTS_T_MULT),
                "period multiplier after each restart",
            ),
            opt(
                "eta_min",
                ParamType::Float,
                DefaultValue::F32(d::COSINE_ANNEALING_WARM_RESTARTS_ETA_MIN),
                "minimum lr",
            ),
        ],
    ),
    (
        "CyclicLR",
        &[
            req(
                "base_lr",
                ParamType::Float,
                "0.0001",
                "lower bound of the cycle",
            ),
            req(
                "max_lr",
                ParamType::Float,
                "0.001",
                "upper bound of the cycle",
            ),
            opt(
                "step_size_up",
                ParamType::Int,
                DefaultValue::U32(d::CYCLIC_LR_STEP_SIZE_UP),
                "steps rising",
            ),
            opt(
                "step_size_down",
                ParamType::OptInt,
                DefaultValue::OptU32(d::CYCLIC_LR_STEP_SIZE_DOWN),
                "steps falling (empty: step_size_up)",
            ),
            opt(
                "mode",
                ParamType::Choice(&["triangular", "triangular2", "exp_range"]),
                DefaultValue::Choice(d::CYCLIC_LR_MODE as usize),
                "amplitude policy",
            ),
            opt(
                "gamma",
                ParamType::Float,
                DefaultValue::F64(d::CYCLIC_LR_GAMMA),
                "exp_range decay",
            ),
            opt(
                "scale_fn",
                ParamType::OptExpr,
                DefaultValue::Null,
                "custom amplitude, Python lambda body in `x` (overrides mode)",
            ),
            opt(
                "scale_mode",
                ParamType::Choice(&["cycle", "iterations"]),
                DefaultValue::Choice(d::CYCLIC_LR_SCALE_MODE as usize),
                "what scale_fn's x counts",
            ),
            opt(
                "cycle_momentum",
                ParamType::Bool,
                DefaultValue::Bool(d::CYCLIC_LR_CYCLE_MOMENTUM),
                "cycle the momentum inversely",
            ),
            opt(
                "base_momentum",
                ParamType::Float,
                DefaultValue::F32(d::CYCLIC_LR_BASE_MOMENTUM),
                "lower momentum bound",
            ),
            opt(
                "max_momentum",
                ParamType::Float,
                DefaultValue::F32(d::CYCLIC_LR_MAX_MOMENTUM),
                "upper momentum bound",
            ),
        ],
    ),
    (
        "OneCycleLR",
        &[
            req("max_lr", ParamType::Float, "0.001", "peak lr"),
            opt_ex(
                "total_steps",
                ParamType::OptInt,
                DefaultValue::OptU32(d::ONE_CYCLE_LR_TOTAL_STEPS),
                "100",
                "steps in the cycle (or epochs x steps_per_epoch)",
            ),
            opt(
                "epochs",
                ParamType::OptInt,
                DefaultValue::OptU32(d::ONE_CYCLE_LR_EPOCHS),
                "with steps_per_epoch",
            ),
            opt(
                "steps_per_epoch",
                ParamType::OptInt,
                DefaultValue::OptU32(d::ONE_CYCLE_LR_STEPS_PER_EPOCH),
                "with epochs",
            ),
            opt(
                "pct_start",
                ParamType::Float,
                DefaultValue::F32(d::ONE_CYCLE_LR_PCT_START),
                "fraction of the cycle rising",
            ),
            opt(
                "anneal_strategy",
                ANNEAL,
                DefaultValue::Choice(d::ONE_CYCLE_LR_ANNEAL_STRATEGY as usize),
                "annealing shape",
            ),
            opt(
                "cycle_momentum",
                ParamType::Bool,
                DefaultValue::Bool(d::ONE_CYCLE_LR_CYCLE_MOMENTUM),
                "cycle the momentum inversely",
            ),
            opt(
                "base_momentum",
                ParamType::Float,
                DefaultValue::F32(d::ONE_CYCLE_LR_BASE_MOMENTUM),
                "lower momentum bound",
            ),
            opt(
                "max_momentum",
                ParamType::Float,
                DefaultValue::F32(d::ONE_CYCLE_LR_MAX_MOMENTUM),
                "upper momentum bound",
            ),
            opt(
                "div_factor",
                ParamType::Float,
                DefaultValue::F32(d::ONE_CYCLE_LR_DIV_FACTOR),
                "initial_lr = max_lr / div_factor",
            ),
            opt(
                "final_div_factor",
                ParamType::Float,
                DefaultValue::F32(d::ONE_CYCLE_LR_FINAL_DIV_FACTOR),
                "min_lr = initial_lr / final_div_factor",
            ),
            opt(
                "three_phase",
                ParamType::Bool,
                DefaultValue::Bool(d::ONE_CYCLE_LR_THREE_PHASE),
                "fast.ai's three phases",
            ),
        ],
    ),
    (
        "ReduceLROnPlateau",
        &[
            opt(
                "mode",
                ParamType::Choice(&["min", "max"]),
                DefaultValue::Choice(d::REDUCE_LR_ON_PLATEAU_MODE as usize),
                "minimize or maximize the metric",
            ),
            opt(
                "factor",
                ParamType::Float,
                DefaultValue::F32(d::REDUCE_LR_ON_PLATEAU_FACTOR),
                "new_lr = lr * factor",
            ),
            opt(
                "patience",
                ParamType::Int,
                DefaultValue::U32(d::REDUCE_LR_ON_PLATEAU_PATIENCE),
                "bad steps tolerated",
            ),
            opt(
                "threshold",
                ParamType::Float,
                DefaultValue::F32(d::REDUCE_LR_ON_PLATEAU_THRESHOLD),
                "significant change",
            ),
            opt(
                "threshold_mode",
                ParamType::Choice(&["rel", "abs"]),
                DefaultValue::Choice(d::REDUCE_LR_ON_PLATEAU_THRESHOLD_MODE as usize),
                "relative or absolute threshold",
            ),
            opt(
                "cooldown",
                ParamType::Int,
                DefaultValue::U32(d::REDUCE_LR_ON_PLATEAU_COOLDOWN),
                "steps to wait after a reduction",
            ),
            opt(
                "min_lr",
                ParamType::Float,
                DefaultValue::F32(d::REDUCE_LR_ON_PLATEAU_MIN_LR),
                "lower bound",
            ),
            opt(
                "eps",
                ParamType::Float,
                DefaultValue::F32(d::REDUCE_LR_ON_PLATEAU_EPS),
                "smaller updates are ignored",
            ),
        ],
    ),
    (
        "SWALR",
        &[
            req(
                "swa_lr",
                ParamType::Float,
                "0.0005",
                "lr annealed to and held",
            ),
            opt(
                "anneal_epochs",
                ParamType::Int,
                DefaultValue::U32(d::SWALR_ANNEAL_EPOCHS),
                "steps of annealing",
            ),
            opt(
                "anneal_strategy",
                ANNEAL,
                DefaultValue::Choice(d::SWALR_ANNEAL_STRATEGY as usize),
                "annealing shape",
            ),
        ],
    ),
    (
        "WarmupStableDecayLR",
        &[
            req("num_warmup_steps", ParamType::Int, "100", "warmup length"),
            req(
                "num_stable_steps",
                ParamType::Int,
                "500",
                "constant phase length",
            ),
            req("num_decay_steps", ParamType::Int, "400", "decay length"),
            opt(
                "warmup_type",
                WSD,
                DefaultValue::Choice(d::WARMUP_STABLE_DECAY_LR_WARMUP_TYPE as usize),
                "warmup shape",
            ),
            opt(
                "decay_type",
                WSD,
                DefaultValue::Choice(d::WARMUP_STABLE_DECAY_LR_DECAY_TYPE as usize),
                "decay shape",
            ),
            opt(
                "min_lr_ratio",
                ParamType::Float,
                DefaultValue::F32(d::WARMUP_STABLE_DECAY_LR_MIN_LR_RATIO),
                "final lr / base lr",
            ),
            opt(
                "num_cycles",
                ParamType::Float,
                DefaultValue::F32(d::WARMUP_STABLE_DECAY_LR_NUM_CYCLES),
                "cosine decay cycles",
            ),
        ],
    ),
    (
        "InverseSqrtLR",
        &[
            req("num_warmup_steps", ParamType::Int, "100", "warmup length"),
            opt(
                "timescale",
                ParamType::OptInt,
                DefaultValue::OptU32(d::INVERSE_SQRT_LR_TIMESCALE),
                "decay timescale (empty: num_warmup_steps, or 10000)",
            ),
        ],
    ),
    (
        "TimmCosineLR",
        &[
            req("t_initial", ParamType::Int, "100", "first cycle length"),
            opt(
                "lr_min",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_COSINE_LR_LR_MIN),
                "minimum lr",
            ),
            opt(
                "cycle_mul",
                ParamType::Int,
                DefaultValue::U32(d::TIMM_COSINE_LR_CYCLE_MUL),
                "cycle length multiplier",
            ),
            opt(
                "cycle_decay",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_COSINE_LR_CYCLE_DECAY),
                "peak decay per cycle",
            ),
            opt(
                "cycle_limit",
                ParamType::Int,
                DefaultValue::U32(d::TIMM_COSINE_LR_CYCLE_LIMIT),
                "number of cycles",
            ),
            opt(
                "k_decay",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_COSINE_LR_K_DECAY),
                "k-decay exponent",
            ),
        ],
    ),
    (
        "TimmTanhLR",
        &[
            req("t_initial", ParamType::Int, "100", "first cycle length"),
            opt(
                "lb",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_TANH_LR_LB),
                "tanh lower bound",
            ),
            opt(
                "ub",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_TANH_LR_UB),
                "tanh upper bound",
            ),
            opt(
                "lr_min",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_TANH_LR_LR_MIN),
                "minimum lr",
            ),
            opt(
                "cycle_mul",
                ParamType::Int,
                DefaultValue::U32(d::TIMM_TANH_LR_CYCLE_MUL),
                "cycle length multiplier",
            ),
            opt(
                "cycle_decay",
                ParamType::Float,
                DefaultValue::F32(d::TIMM_TANH_LR_CYCLE_DECAY),
                "peak decay per cycle",
            ),
            opt(
                "cycle_limit",
                ParamType::Int,
                DefaultValue::U32(d::TIMM_TANH_LR_CYCLE_LIMIT),
                "number of cycles",
            ),
        ],
    ),
    (
        "CosineWithWarmupLR",
        &[
            req("num_warmup_steps", ParamType::Int, "10", "warmup length"),
            req(
                "num_training_steps",
                ParamType::Int,
                "100",
                "steps of warmup and decay together",
            ),
            opt(
                "num_cycles",
                ParamType::Float,
                DefaultValue::F32(d::COSINE_WITH_WARMUP_LR_NUM_CYCLES),
                "cosine waves over the decay (0.5: down to 0 once)",
            ),
        ],
    ),
    (
        "SequentialLR",
        &[
            req(
                "schedulers",
                ParamType::Specs,
                CHILDREN,
                "child specs (JSON list), run one after another; the first may be a composite",
            ),
            req(
                "milestones",
                ParamType::IntList,
                "[5]",
                "steps at which the next child starts",
            ),
        ],
    ),
    (
        "ChainedScheduler",
        &[req(
            "schedulers",
            ParamType::Specs,
            CHILDREN,
            "child specs (JSON list, composites too), all stepped every step",
        )],
    ),
    (
        "SwitchLR",
        &[
            req(
                "schedulers",
                ParamType::Specs,
                CHILDREN,
                "child specs (JSON list, composites too), one stepped at a time",
            ),
            req(
                "milestones",
                ParamType::IntList,
                "[5]",
                "steps at which the next child takes over",
            ),
        ],
    ),
    (
        "WarmupLR",
        &[
            req("warmup_steps", ParamType::Int, "5", "warmup length"),
            opt(
                "warmup",
                ParamType::Choice(&["linear", "cos"]),
                DefaultValue::Choice(d::WARMUP_LR_WARMUP as usize),
                "ramp shape",
            ),
            opt(
                "start_factor",
                ParamType::Float,
                DefaultValue::F32(d::WARMUP_LR_START_FACTOR),
                "factor at step 0, in [0, 1]",
            ),
            req(
                "schedule",
                ParamType::Spec,
                r#"{"kind":"CosineAnnealingLR","T_max":10}"#,
                "the schedule after the warmup (JSON spec)",
            ),
        ],
    ),
    ("Fixed", &[]),
];
