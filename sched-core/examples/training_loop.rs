//! A training loop with sched-core, the way PyTorch code reads:
//!
//! ```python
//! optimizer = SGD(params, lr=0.1, momentum=0.9)
//! scheduler = SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.1, total_iters=5),
//!                                      CosineAnnealingLR(optimizer, T_max=25)], milestones=[5])
//! for epoch in range(30):
//!     train(optimizer)            # uses group["lr"], group["momentum"]
//!     scheduler.step()
//! ```
//!
//! Run: `cargo run -p sched-core --example training_loop`

use sched_core::{CosineAnnealingLR, Error, LeafSpec, LinearLR, Scheduler, SequentialLR};

fn main() -> Result<(), Error> {
    let warmup: LeafSpec = LinearLR::new(0.1, 1.0, 5)?.into();
    let cosine: LeafSpec = CosineAnnealingLR::new(25, 0.0)?.into();
    let spec = SequentialLR {
        schedulers: [warmup, cosine].into_iter().collect(),
        milestones: [5].into_iter().collect(),
    };
    let mut scheduler = Scheduler::new(spec, 0.1, 0.9)?;

    // Where the math allows, any epoch is available without stepping.
    println!("lr at epoch 20, read directly: {:?}", scheduler.lr_at(20));

    for epoch in 0..30 {
        let (lr, momentum) = (scheduler.lr(), scheduler.momentum());
        println!("epoch {epoch:2}: lr {lr:.6} momentum {momentum}");
        // train_one_epoch(lr, momentum);
        if epoch == 14 {
            // A checkpoint: the scheduler is a plain value (and serde with the `serde` feature).
            let saved = scheduler.clone();
            assert_eq!(saved, scheduler);
        }
        scheduler.step()?;
    }
    Ok(())
}
