//! Any text as a `lr_lambda` body: compiling and evaluating must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sched_core::Expr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Expr::parse(text, "epoch") {
        for x in [0.0, 1.0, 7.0, 1e6, -3.0] {
            let _ = e.eval(x);
        }
    }
});
