//! A reference model of the plain crossover (no guards), written independently of maestro-core: the
//! naive sums of the last N closes, compared by cross-multiplication. The end-to-end tests ask it
//! what position the bot should hold after each candle, and which stretches of the real data hold
//! a crossover soon after warm-up.

use crate::fake_bitmex::Bar;
use maestro_core::{Price, TickSize};

/// The plain crossover in long-short mode, candle by candle.
#[derive(Clone, Debug)]
pub struct Oracle {
    short: usize,
    long: usize,
    qty: i64,
    closes: Vec<i64>,
    bullish: Option<bool>,
    target: i64,
}

impl Oracle {
    /// A model with windows `short < long` holding `±qty` contracts.
    pub fn new(short: u32, long: u32, qty: u64) -> Self {
        Oracle {
            short: short as usize,
            long: long as usize,
            qty: i64::try_from(qty).unwrap_or(i64::MAX),
            closes: Vec::new(),
            bullish: None,
            target: 0,
        }
    }

    /// Feeds one close; returns the new target when the regime changed on it.
    pub fn push(&mut self, bar: &Bar) -> Option<i64> {
        self.closes.push(ticks(bar.close));
        if self.closes.len() < self.long {
            return None;
        }
        let n = self.closes.len();
        let short: i128 = self.closes[n - self.short..]
            .iter()
            .map(|&c| i128::from(c))
            .sum();
        let long: i128 = self.closes[n - self.long..]
            .iter()
            .map(|&c| i128::from(c))
            .sum();
        // short/s > long/l  ⇔  short·l > long·s; equal means keep the regime.
        let lhs = short * self.long as i128;
        let rhs = long * self.short as i128;
        let indicated = match lhs.cmp(&rhs) {
            std::cmp::Ordering::Greater => Some(true),
            std::cmp::Ordering::Less => Some(false),
            std::cmp::Ordering::Equal => None,
        };
        match indicated {
            Some(up) if self.bullish != Some(up) => {
                self.bullish = Some(up);
                self.target = if up { self.qty } else { -self.qty };
                Some(self.target)
            }
            _ => None,
        }
    }

    /// The position the model holds now (0 before the first regime).
    pub fn target(&self) -> i64 {
        self.target
    }

    /// Whether enough closes arrived for both windows.
    pub fn is_ready(&self) -> bool {
        self.closes.len() >= self.long
    }

    /// The targets after each of `bars`, fed from a fresh model.
    pub fn targets(short: u32, long: u32, qty: u64, bars: &[Bar]) -> Vec<i64> {
        let mut model = Oracle::new(short, long, qty);
        bars.iter()
            .map(|b| {
                model.push(b);
                model.target()
            })
            .collect()
    }
}

/// A close in cents, as the bot sees it (LTCUSDT's tick is 0.01).
pub fn ticks(price: f64) -> i64 {
    Price::from_f64(price, TickSize::CENT).map_or(0, |p| p.0)
}

/// Indices (into `bars`, counting from `start`) where the regime changes when a fresh model is fed
/// `bars[start..start + len]`.
pub fn signals(short: u32, long: u32, bars: &[Bar], start: usize, len: usize) -> Vec<usize> {
    let mut model = Oracle::new(short, long, 1);
    let end = (start + len).min(bars.len());
    (start..end)
        .filter(|&i| model.push(&bars[i]).is_some())
        .map(|i| i - start)
        .collect()
}

/// The first `start >= from` where a fresh model's signals over `len` bars satisfy `want`.
pub fn find_segment(
    short: u32,
    long: u32,
    bars: &[Bar],
    from: usize,
    len: usize,
    want: impl Fn(&[usize]) -> bool,
) -> Option<usize> {
    (from..bars.len().saturating_sub(len)).find(|&s| want(&signals(short, long, bars, s, len)))
}
