//! The study's own numbers (../shared/seed: its single PyTorch run of each schedule).

/// The study's single-run final accuracies, by run name.
pub fn study_accuracy(name: &str) -> Option<f32> {
    Some(match name {
        "Constant Learning Rate" => 0.8160,
        "Step LR Scheduler Epochs" => 0.8083,
        "Step LR Scheduler Batches" => 0.7762,
        "MultiStep LR Scheduler Epochs" => 0.8143,
        "Multiplicative LR Scheduler Epochs" => 0.8215,
        "Lambda LR Scheduler Epochs" => 0.8172,
        "Exponential LR Scheduler Epochs" => 0.7754,
        "One Cycle LR Scheduler Batches" => 0.8610,
        "Cyclic LR Scheduler Batches" => 0.8564,
        "Cosine Annealing LR Scheduler Epochs" => 0.8062,
        "Cosine Annealing With Warm Restarts Scheduler Epochs" => 0.8142,
        "Reduce LR On Plateau Scheduler" => 0.8044,
        "Combining Multiple LR Schedulers Epochs V1" => 0.7937,
        "Combining Multiple LR Schedulers Epochs V2" => 0.8285,
        _ => return None,
    })
}
