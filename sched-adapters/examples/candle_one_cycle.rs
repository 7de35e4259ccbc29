//! A candle-nn training loop under a One Cycle schedule (PyTorch's `OneCycleLR(max_lr=0.05,
//! total_steps=500)` on Adam): each step sets AdamW's lr and beta1 to the schedule's, steps
//! AdamW, then steps the schedule. Halfway it saves the schedule as JSON and resumes from it.
//!
//! `cargo run -p sched-adapters --features candle --example candle_one_cycle`

use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use sched_adapters::{Scheduled, StepError};
use sched_core::{OneCycleLR, Scheduler};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cpu = &Device::Cpu;
    // y = 2x + 1 on four points; w = (slope, intercept).
    let x = Tensor::new(&[[0.0f32, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]], cpu)?;
    let y = Tensor::new(&[[1.0f32], [3.0], [5.0], [7.0]], cpu)?;
    let w = Var::zeros((2, 1), candle_core::DType::F32, cpu)?;
    let params = ParamsAdamW {
        lr: 0.05,
        weight_decay: 0.0,
        ..ParamsAdamW::default()
    };
    let adamw = AdamW::new(vec![w.clone()], params)?;

    let steps = 500;
    let mut optimizer = Scheduled::with_momentum(adamw, OneCycleLR::new(0.05, steps)?)?;
    for step in 0..steps {
        let loss = (x.matmul(w.as_tensor())? - &y)?.sqr()?.mean_all()?;
        match optimizer.backward_step(&loss) {
            Ok(()) => {}
            // The schedule could not step: its lr stays; train on or stop, as the loop decides.
            Err(StepError::Schedule(e)) => eprintln!("step {step}: {e}"),
            Err(e) => return Err(e.into()),
        }
        if step % 100 == 0 {
            let adamw = optimizer.optimizer();
            println!(
                "step {step:3}  lr {:.6}  beta1 {:.4}  loss {:.5}",
                adamw.learning_rate(),
                adamw.params().beta1,
                loss.to_scalar::<f32>()?
            );
        }
        if step == steps / 2 {
            // A checkpoint of the schedule (sched-core's serde feature).
            let saved = serde_json::to_string(optimizer.scheduler())?;
            optimizer.set_scheduler(serde_json::from_str::<Scheduler>(&saved)?);
        }
    }
    println!("w = {:?}", w.as_tensor().flatten_all()?.to_vec1::<f32>()?);
    Ok(())
}
