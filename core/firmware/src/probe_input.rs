//! Candles for the size probes, made by a few integer operations so that they cost the same in the
//! probe and in its baseline and cannot be folded away at compile time.

use core::hint::black_box;
use maestro_core::{Candle, Price};

/// How many candles a probe feeds.
pub const CANDLES: u32 = 2_000;

/// A random walk of closes one minute apart.
pub struct Candles {
    state: u32,
    close: i64,
    time_ms: i64,
}

impl Candles {
    /// Starts from a seed the compiler cannot see.
    pub fn new() -> Self {
        Self {
            state: black_box(0x9e37_79b9),
            close: 10_000,
            time_ms: 0,
        }
    }

    /// The next candle of the walk.
    pub fn next_candle(&mut self) -> Candle {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        let step = i64::from(self.state % 21) - 10;
        self.close = (self.close + step).max(100);
        self.time_ms += 60_000;
        Candle {
            close_time_ms: self.time_ms,
            open: Price(self.close - step),
            high: Price(self.close + 5),
            low: Price(self.close - 5),
            close: Price(self.close),
        }
    }
}
