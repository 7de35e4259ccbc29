//! A burn training loop under a One Cycle schedule (PyTorch's `OneCycleLR(max_lr=0.1,
//! total_steps=600)`) on a tiny regression: `lr = scheduler.step()` before each iteration, as
//! burn's `Learner` does, then SGD with that lr. Halfway it saves the scheduler's record to
//! burnpack bytes and resumes from it.
//!
//! `cargo run -p sched-adapters --features burn --example burn_one_cycle`

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use sched_adapters::BurnScheduler;
use sched_core::{OneCycleLR, Scheduler};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[allow(deprecated)] // burn 0.22 prefers Device::flex(); ndarray still works
    let device = Device::ndarray().autodiff();
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0], [4, 1]),
        &device,
    );
    let y = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 3.0, 5.0, 7.0], [4, 1]),
        &device,
    );
    let mut model: Linear = LinearConfig::new(1, 1).init(&device);
    let mut optimizer = SgdConfig::new().init();

    let steps = 600;
    let mut scheduler = BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.1, steps)?, 0.1, 0.0)?);
    for step in 0..steps {
        let lr = scheduler.step();
        if let Some(error) = scheduler.error() {
            eprintln!("step {step}: {error}; training on with lr {lr}");
        }
        let diff = model.forward(x.clone()) - y.clone();
        let loss = (diff.clone() * diff).mean();
        if step % 100 == 0 {
            let loss: f32 = loss.clone().into_scalar();
            println!(
                "step {step:3}  lr {lr:.6}  momentum {:.4}  loss {loss:.5}",
                scheduler.momentum()
            );
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads);

        if step == steps / 2 {
            // A checkpoint: the record as burnpack bytes, loaded into a fresh scheduler.
            let bytes = scheduler.to_record().into_bytes()?;
            let mut resumed =
                BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.1, 1)?, 0.1, 0.0)?);
            resumed.load_record(LrSchedulerRecord::from_bytes(bytes)?);
            assert_eq!(resumed.scheduler(), scheduler.scheduler());
            scheduler = resumed;
        }
    }
    println!(
        "final lr {:.3e} after {} scheduler steps",
        scheduler.lr(),
        scheduler.scheduler().steps()
    );
    Ok(())
}
