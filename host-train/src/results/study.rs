//! The study's runs by name (../shared/seed: its single PyTorch run of each schedule), then the runs
//! this project added, in one fixed order: each run's place gives its look in every plot
//! (`crate::plot::run_styles`), and the study's runs carry their final accuracy.

/// Every known run: its name and the study's final test accuracy (`None`: not one of the study's).
pub const RUNS: [(&str, Option<f32>); 20] = [
    ("Constant Learning Rate", Some(0.8160)),
    ("Step LR Scheduler Epochs", Some(0.8083)),
    ("Step LR Scheduler Batches", Some(0.7762)),
    ("MultiStep LR Scheduler Epochs", Some(0.8143)),
    ("Multiplicative LR Scheduler Epochs", Some(0.8215)),
    ("Lambda LR Scheduler Epochs", Some(0.8172)),
    ("Exponential LR Scheduler Epochs", Some(0.7754)),
    ("One Cycle LR Scheduler Batches", Some(0.8610)),
    ("Cyclic LR Scheduler Batches", Some(0.8564)),
    ("Cosine Annealing LR Scheduler Epochs", Some(0.8062)),
    (
        "Cosine Annealing With Warm Restarts Scheduler Epochs",
        Some(0.8142),
    ),
    ("Reduce LR On Plateau Scheduler", Some(0.8044)),
    ("Combining Multiple LR Schedulers Epochs V1", Some(0.7937)),
    ("Combining Multiple LR Schedulers Epochs V2", Some(0.8285)),
    (
        "One Cycle LR Scheduler Batches, cycle_momentum = false",
        None,
    ),
    ("Cyclic LR Scheduler Batches, cycle_momentum = false", None),
    ("Constant Learning Rate, SGD momentum 0.9", None),
    ("LR finder + One Cycle", None),
    ("LR finder (minimum) + One Cycle", None),
    ("LR finder (steep) + One Cycle", None),
];

/// The study's baseline: the run the paired differences are taken against when a set has it.
pub const REFERENCE_RUN: &str = RUNS[0].0;

/// The study's single-run final accuracy of the run `name`, if it is one of the study's.
pub fn study_accuracy(name: &str) -> Option<f32> {
    RUNS.iter().find(|(n, _)| *n == name).and_then(|(_, a)| *a)
}

/// The place of the run `name` among the known runs.
pub fn position(name: &str) -> Option<usize> {
    RUNS.iter().position(|(n, _)| *n == name)
}
