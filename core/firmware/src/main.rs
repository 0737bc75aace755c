//! The strategy core on a Cortex-M4F: replays the deterministic demo market through
//! `Strategy<64>` (windows 10/50, once plain and once with every guard on) and prints, over
//! semihosting, a digest of every decision. The host computes the same digests
//! (`tests/tests/core/firmware_qemu.rs`); equal digests mean bit-identical decisions.
//!
//! Exit code 0 after both runs, 1 on any error (also from a panic, through `panic-semihosting`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use maestro_core::replay::demo_digest;
use maestro_core::{Guards, Mode, Params};
use panic_semihosting as _;

/// Keep these in step with `tests/tests/core/firmware_qemu.rs`, which checks the printed values too.
const SEED: u64 = 0x4d41_4553_5452_4f21;
const CANDLES: usize = 100_000;
const CAP: usize = 64;

fn params(guards: Guards) -> Params {
    Params {
        short_window: 10,
        long_window: 50,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards,
    }
}

#[entry]
fn main() -> ! {
    let runs = [
        ("plain", params(Guards::default())),
        (
            "guarded",
            params(Guards {
                hysteresis_bp: 5,
                confirm_bars: 2,
                min_hold_bars: 3,
            }),
        ),
    ];
    let mut status = debug::EXIT_SUCCESS;
    for (name, p) in runs {
        match demo_digest::<CAP>(p, SEED, CANDLES) {
            // `hprintln!` cannot capture names inside its format string, hence the arguments.
            Ok((digest, signals)) => hprintln!(
                "run={} seed={:#018x} candles={} short={} long={} hysteresis_bp={} \
                 confirm_bars={} min_hold_bars={} digest={:#018x} signals={}",
                name,
                SEED,
                CANDLES,
                p.short_window,
                p.long_window,
                p.guards.hysteresis_bp,
                p.guards.confirm_bars,
                p.guards.min_hold_bars,
                digest,
                signals,
            ),
            Err(e) => {
                hprintln!("run={} error: {}", name, e);
                status = debug::EXIT_FAILURE;
            }
        }
    }
    debug::exit(status);
    #[allow(clippy::empty_loop)]
    loop {}
}
