//! Any text as a JSON spec: parsing, building and stepping must never panic, and every lr a
//! successful step gives is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sched_core::{Scheduler, Spec};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<Spec>(data) else {
        return;
    };
    let Ok(mut s) = Scheduler::from_spec(&spec, 0.1, 0.0) else {
        return;
    };
    for i in 0..200u32 {
        let stepped = if s.needs_metric() {
            s.step_with_metric((i % 7) as f32)
        } else {
            s.step()
        };
        if stepped.is_err() {
            break;
        }
        assert!(s.lr().is_finite() && s.momentum().is_finite());
    }
});
