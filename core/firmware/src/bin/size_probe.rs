//! What the strategy core costs on a Cortex-M4F: one `Strategy<64>` (windows 10/50) in `.bss`, fed
//! candles through `on_candle`, with `plan_order` after each step; no formatting anywhere.
//!
//! `size.sh` compares it with `size_baseline` (everything but the core) and reads the size of the
//! never-inlined wrappers below, which hold the step and the order planning with all they inline.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use maestro_core::{Candle, CandleError, Guards, Mode, Order, Params, Step, Strategy};

#[path = "../probe_input.rs"]
mod probe_input;

const CAP: usize = 64;

/// The strategy step: SMA updates, crossover, guards, target.
#[inline(never)]
fn maestro_step(strategy: &mut Strategy<CAP>, candle: &Candle) -> Result<Step, CandleError> {
    strategy.on_candle(candle)
}

/// The order that moves a position to the target.
#[inline(never)]
fn maestro_plan(strategy: &Strategy<CAP>, position: i64) -> Option<Order> {
    strategy.plan_order(position)
}

fn fail() -> ! {
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[entry]
fn main() -> ! {
    let params = black_box(Params {
        short_window: 10,
        long_window: 50,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards: Guards::default(),
    });
    let Ok(strategy) = Strategy::<CAP>::new(params) else {
        fail()
    };
    // In a static, so that `llvm-size` shows the state as `.bss`.
    let Some(strategy) = cortex_m::singleton!(: Strategy<CAP> = strategy) else {
        fail()
    };
    let mut input = probe_input::Candles::new();
    let mut position = 0;
    for _ in 0..probe_input::CANDLES {
        let candle = input.next_candle();
        if maestro_step(strategy, &candle).is_err() {
            fail();
        }
        if let Some(order) = maestro_plan(strategy, black_box(position)) {
            black_box(order);
            position = strategy.target_position();
        }
    }
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// No formatting machinery: it would hide what the core itself costs.
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    fail()
}
