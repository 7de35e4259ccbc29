//! Board bring-up for QEMU's mps2-an386 (knurling app-template style): the defmt logger over
//! semihosting, a panic handler and a HardFault handler that end QEMU with a failure code, and
//! [`exit`]. No allocator is linked.

use defmt_semihosting as _; // global defmt logger: semihosting stdout, decoded by defmt-print

/// Exit codes the runner sees.
pub mod code {
    /// Every on-device check passed.
    pub const OK: i32 = 0;
    /// A check failed.
    pub const CHECK_FAILED: i32 = 1;
    /// Panic.
    pub const PANIC: i32 = 101;
    /// HardFault.
    pub const HARD_FAULT: i32 = 102;
}

/// Ends the QEMU process with `code` (semihosting SYS_EXIT_EXTENDED).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(code::PANIC)
}

#[cortex_m_rt::exception]
#[allow(unsafe_code)]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#010x}", frame.pc());
    exit(code::HARD_FAULT)
}
