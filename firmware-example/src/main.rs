//! The firmware: fine-tunes the classifier head under two sched-core schedules, checks the
//! PyTorch golden table, measures instructions per `step()`, and exits 0 only when every
//! check passed. Run it with `cargo run --release` (QEMU mps2-an386, see qemu-run.sh).
//!
//! The program is in `firmware.rs`, compiled for the device only; on the host (where `cargo
//! test --target x86_64-unknown-linux-gnu` builds every bin) this is a stub.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod firmware;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("firmware-example runs on the device: `cargo run --release` (QEMU mps2-an386)");
    std::process::exit(2);
}
