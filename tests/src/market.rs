//! A fake BitMEX with candles, built the same way by every test that needs one, and the synthetic
//! price series those tests use.
//!
//! ```text
//! FakeMarket::minutes(300).completed(250).start()   300 LTCUSDT 1m bars, 250 done, a wavy series
//!     .prices(|i| ...)  .bars(real)  .symbol(..)  .instrument(spec)
//! ```

use crate::clock::MINUTE_MS;
use crate::fake_bitmex::{Bar, FakeBitmex, InstrumentSpec, synthetic};
use maestro_lambda::exchange::BinSize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The traded symbol of the synthetic markets.
pub const SYMBOL: &str = "LTCUSDT";
/// 2024-01-01T00:01:00Z: the close of the first synthetic bucket.
pub const FIRST_CLOSE: i64 = 1_704_067_260_000;

/// A price that wanders between 100 and 107 in steps whose shortest decimal spelling is long
/// (e.g. 100.07000000000001): a float round trip with too few digits would change it.
pub fn wavy(i: usize) -> f64 {
    100.0 + ((i * 37) % 101) as f64 * 0.07
}

/// `n` closes of a seeded market that does what real minutes do to a crossover: trends both ways,
/// sideways chop (whipsaws), and a crash of about 30 % over half an hour a third of the way in,
/// followed by a partial rebound. Always positive, two decimals; the same seed gives the same series.
pub fn rough_market(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed | 1;
    let mut next = move || {
        // xorshift64*: a fixed, dependency-free generator so the series never changes under us.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let crash = n / 3;
    let mut price = 300.0_f64;
    let mut drift = 0.0_f64;
    (0..n)
        .map(|i| {
            if i % 90 == 0 {
                // A new regime: up, down or sideways.
                drift = (next() - 0.5) * 0.002;
            }
            let shock = (next() - 0.5) * 0.006;
            let crash_step = if (crash..crash + 30).contains(&i) {
                -0.012
            } else if (crash + 30..crash + 60).contains(&i) {
                0.005
            } else {
                0.0
            };
            price *= 1.0 + drift + shock + crash_step;
            price = price.max(1.0);
            (price * 100.0).round() / 100.0
        })
        .collect()
}

/// Builds a [`FakeBitmex`] serving one candle series; see the module doc.
pub struct FakeMarket {
    symbol: String,
    bin: BinSize,
    bars: Vec<Bar>,
    completed: usize,
    instrument: Option<InstrumentSpec>,
}

impl FakeMarket {
    /// `total` one-minute LTCUSDT bars from [`FIRST_CLOSE`] on the [`wavy`] series, all completed.
    pub fn minutes(total: usize) -> Self {
        FakeMarket {
            symbol: SYMBOL.to_owned(),
            bin: BinSize::M1,
            bars: synthetic(FIRST_CLOSE, BinSize::M1, total, wavy),
            completed: total,
            instrument: None,
        }
    }

    /// Serves `bars` (real candles, or made elsewhere) instead, all completed.
    pub fn bars(mut self, bars: Vec<Bar>) -> Self {
        self.completed = bars.len();
        self.bars = bars;
        self
    }

    /// Closes from `close(i)` for the same number of bars and the same times.
    pub fn prices(mut self, close: impl Fn(usize) -> f64) -> Self {
        let first = self.bars.first().map_or(FIRST_CLOSE, |b| b.close_time_ms);
        self.bars = synthetic(first, self.bin, self.bars.len(), close);
        self
    }

    /// Only the first `completed` bars are done; the rest complete as the test advances the fake.
    pub fn completed(mut self, completed: usize) -> Self {
        self.completed = completed;
        self
    }

    /// Another symbol, with its instrument's terms.
    pub fn instrument(mut self, spec: InstrumentSpec) -> Self {
        self.symbol = spec.symbol.clone();
        self.instrument = Some(spec);
        self
    }

    /// Starts the fake serving the series; returns it with the bars it serves.
    ///
    /// # Panics
    /// When the fake cannot start (no port on 127.0.0.1).
    pub async fn start(self) -> (FakeBitmex, Vec<Bar>) {
        let fake = match FakeBitmex::start().await {
            Ok(fake) => fake,
            Err(e) => panic!("the fake BitMEX does not start: {e}"),
        };
        if let Some(spec) = self.instrument {
            fake.add_instrument(spec);
        }
        fake.set_series(&self.symbol, self.bin, self.bars.clone(), self.completed);
        (fake, self.bars)
    }
}

/// BitMEX's XBTUSD: inverse, lot 100, tick 0.5 (the shared testnet file's market).
pub fn xbtusd() -> InstrumentSpec {
    InstrumentSpec {
        symbol: "XBTUSD".into(),
        lot_size: 100,
        tick_size: 0.5,
        multiplier: -100_000_000,
        underlying_to_position_multiplier: None,
        taker_fee: 0.00075,
        maker_fee: -0.00025,
        state: "Open".into(),
    }
}

/// Writes `closes` as a freqtrade JSON candle file in `dir` (`[[open_ms, o, h, l, c, v], ...]`,
/// start-of-bar times one minute apart, the first bar closing at [`FIRST_CLOSE`]), leaving out the
/// rows in `holes` as exchange outages would; returns its path.
///
/// # Panics
/// When the file cannot be written.
pub fn write_freqtrade(dir: &Path, closes: &[f64], holes: &[Range<usize>]) -> PathBuf {
    let rows: Vec<serde_json::Value> = closes
        .iter()
        .enumerate()
        .filter(|(i, _)| !holes.iter().any(|h| h.contains(i)))
        .map(|(i, &c)| {
            let o = if i == 0 { c } else { closes[i - 1] };
            let high = (c.max(o) * 100.0 + 1.0).round() / 100.0;
            let low = (c.min(o) * 100.0 - 1.0).round() / 100.0;
            serde_json::json!([close_of(i) - MINUTE_MS, o, high, low, c, 1000.0])
        })
        .collect();
    let path = dir.join("synthetic-freqtrade.json");
    if let Err(e) = std::fs::write(&path, serde_json::Value::Array(rows).to_string()) {
        panic!("writing {}: {e}", path.display());
    }
    path
}

/// The close time of bar `i` of a one-minute series starting at [`FIRST_CLOSE`].
pub fn close_of(i: usize) -> i64 {
    FIRST_CLOSE + MINUTE_MS * i as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rough_market_is_seeded_positive_and_crashes() {
        let a = rough_market(7, 1200);
        assert_eq!(a, rough_market(7, 1200), "same seed, same series");
        assert_ne!(a, rough_market(8, 1200), "another seed, another series");
        assert!(a.iter().all(|p| *p >= 1.0), "always positive");
        let before = a[399];
        let bottom = a[400..430].iter().copied().fold(f64::MAX, f64::min);
        assert!(bottom < before * 0.8, "a crash: {before} -> {bottom}");
    }
}
