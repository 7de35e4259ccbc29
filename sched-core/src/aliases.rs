//! The other names a spec's `kind` may have (one table, which reading a spec consults).

/// Other names a spec's `kind` may have, and the kind each means: this crate's names for the
/// library schedules it had before it had the libraries' own, and transformers'
/// `get_reduce_on_plateau_schedule`, which is PyTorch's `ReduceLROnPlateau`.
pub const ALIASES: &[(&str, &str)] = &[
    #[cfg(feature = "transformers")]
    (
        "CosineWithWarmupLR",
        "transformers.get_cosine_schedule_with_warmup",
    ),
    #[cfg(feature = "transformers")]
    ("InverseSqrtLR", "transformers.get_inverse_sqrt_schedule"),
    #[cfg(feature = "transformers")]
    ("WarmupStableDecayLR", "transformers.get_wsd_schedule"),
    #[cfg(feature = "transformers")]
    (
        "transformers.get_reduce_on_plateau_schedule",
        "ReduceLROnPlateau",
    ),
];
