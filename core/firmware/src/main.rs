//! Boots on a Cortex-M4F, runs the strategy core and reports over semihosting.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use maestro_core::{Candle, Price};
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    let c = Candle {
        close_time_ms: 60_000,
        open: Price(100),
        high: Price(110),
        low: Price(90),
        close: Price(105),
    };
    hprintln!("boot close={}", c.close.ticks());
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}
