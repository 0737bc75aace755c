//! The size probe without the core: same start-up, candle generator and exit, no strategy.
//!
//! `size_probe` minus this binary is what the core costs in flash and RAM (see `size.sh`).
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;

#[path = "../probe_input.rs"]
mod probe_input;

#[entry]
fn main() -> ! {
    let mut input = probe_input::Candles::new();
    for _ in 0..probe_input::CANDLES {
        black_box(input.next_candle());
    }
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// No formatting machinery: it would hide what the core itself costs.
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
