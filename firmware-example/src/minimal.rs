//! The smallest sched-core firmware: one `OneCycleLR` driving a training loop, with no serde,
//! no expressions and no `Scheduler` (whose code serves every kind): `OneCycleLR::at(t)` gives
//! the lr and momentum of step `t` directly. `firmware-example/test.sh` builds it with
//! `cargo build --release --bin minimal --no-default-features`, runs it under QEMU, and fails if
//! sched-core's code in it reaches 4 KB.
//!
//! The loop fits `w` to minimize `(w - 3)^2` with PyTorch's SGD + momentum (`v = m v + g`,
//! `w -= lr v`), the lr and momentum of every step from the schedule.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod device {
    use core::hint::black_box;
    use cortex_m as _; // its critical-section implementation, for the defmt logger
    use cortex_m_rt::entry;
    use firmware_example::bringup::{self, code};
    use sched_core::OneCycleLR;

    const STEPS: u32 = 1000;

    #[entry]
    fn main() -> ! {
        // black_box: the parameters are run-time values, as they would be read from a config.
        let Ok(schedule) = OneCycleLR::new(black_box(0.1), black_box(STEPS)) else {
            defmt::error!("minimal: OneCycleLR rejected its parameters");
            bringup::exit(code::CHECK_FAILED)
        };
        let (mut w, mut v) = (0.0f32, 0.0f32);
        let mut peak = (0u32, 0.0f32);
        for t in 0..STEPS {
            let (lr, momentum) = schedule.at(t);
            if lr > peak.1 {
                peak = (t, lr);
            }
            let grad = 2.0 * (w - 3.0);
            v = momentum.unwrap_or(0.0) * v + grad;
            w -= lr * v;
        }
        let (first, _) = schedule.at(0);
        let (last, _) = schedule.at(STEPS - 1);
        defmt::info!(
            "minimal: OneCycleLR over {=u32} steps: lr {=f32} -> peak {=f32} at step {=u32} -> {=f32}; w = {=f32}",
            STEPS, first, peak.1, peak.0, last, w
        );
        // PyTorch's OneCycleLR(max_lr=0.1, total_steps=1000): 0.1 / 25 at step 0, the peak at
        // step 0.3 * 1000 - 1, 0.1 / 25 / 1e4 at the last step; and the loop converged.
        let ok = first == 0.1 / 25.0
            && peak == (299, 0.1)
            && (last - 0.1 / 25.0 / 1e4).abs() <= 1e-6 * 0.1 / 25.0 / 1e4 * 10.0
            && (w - 3.0).abs() < 1e-3;
        if ok {
            defmt::info!("minimal: all checks passed");
            bringup::exit(code::OK)
        } else {
            defmt::error!("minimal: check FAILED");
            bringup::exit(code::CHECK_FAILED)
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("minimal runs on the device: `cargo run --release --bin minimal` (QEMU mps2-an386)");
    std::process::exit(2);
}
