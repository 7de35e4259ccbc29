//! Any text as a JSON spec, for one param group and for two (PyTorch's per-group lists): parsing,
//! building and stepping must never panic, and every lr a successful step gives is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sched_core::{GroupScheduler, Scheduler, Spec};

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = serde_json::from_slice::<Spec>(data) {
        if let Ok(s) = Scheduler::from_spec(&spec, 0.1, 0.0) {
            run(s, |s| s.lr().is_finite() && s.momentum().is_finite());
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(data);
    if let Ok(specs) = Spec::for_groups(&mut reader, 2) {
        if let Ok(s) = GroupScheduler::<2>::new(&specs, &[0.1, 0.01], &[0.9]) {
            run(s, |s| {
                s.groups()
                    .iter()
                    .all(|g| g.lr().is_finite() && g.momentum().is_finite())
            });
        }
    }
});

/// 200 steps (with a metric where one is needed); stops at the first error; every state a step
/// succeeds into is `finite`.
fn run<S: sched_core::Schedule>(mut s: S, finite: impl Fn(&S) -> bool) {
    for i in 0..200u32 {
        let metric = s.needs_metric().then_some((i % 7) as f32);
        if s.step_on(metric).is_err() {
            break;
        }
        assert!(finite(&s));
    }
}
