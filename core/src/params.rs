//! Strategy parameters: what a user configures, validated once into a value the strategy trusts.

use crate::crossover::{Guards, MAX_HYSTERESIS_BP, Regime};
use crate::num::div_rem;
use crate::price::MAX_WINDOW;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Which positions the strategy may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Long in a bullish regime, short in a bearish one.
    LongShort,
    /// Long in a bullish regime, flat in a bearish one.
    LongOnly,
    /// Flat in a bullish regime, short in a bearish one.
    ShortOnly,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::LongShort => "long-short",
            Mode::LongOnly => "long-only",
            Mode::ShortOnly => "short-only",
        })
    }
}

/// Strategy configuration. Checked once by [`Strategy::new`](crate::Strategy::new) (and again
/// when a snapshot is decoded); a `Strategy` never holds invalid parameters.
///
/// Unknown fields are refused when deserialising: a misspelt setting is an error, not a default,
/// and skipping an unknown value would make decoding recurse as deep as hostile input nests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Short window in candles: `1 <= short_window < long_window`.
    pub short_window: u32,
    /// Long window in candles: `long_window <= CAP`.
    pub long_window: u32,
    /// Which sides the strategy trades.
    pub mode: Mode,
    /// Contracts held when in the market; a positive multiple of `lot_size`.
    pub qty: u64,
    /// The exchange's lot size in contracts; positive.
    pub lot_size: u64,
    /// The largest absolute position; `qty` is capped to it (rounded down to the lot size).
    pub max_position: u64,
    /// Candle spacing in milliseconds; positive.
    pub bin_ms: i64,
    /// Whipsaw guards (all off by default).
    pub guards: Guards,
}

/// Why parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// The short window is 0.
    ShortWindowZero,
    /// The short window is not below the long window.
    ShortNotBelowLong {
        /// Short window.
        short: u32,
        /// Long window.
        long: u32,
    },
    /// The long window does not fit the strategy's buffer.
    LongAboveCapacity {
        /// Long window.
        long: u32,
        /// The buffer capacity (`CAP`).
        capacity: usize,
    },
    /// The lot size is 0.
    LotSizeZero,
    /// `qty` is 0 or not a multiple of the lot size.
    QtyNotPositiveLotMultiple,
    /// `qty` or `max_position` does not fit a signed 64-bit position.
    TooLarge,
    /// `max_position` is below one lot: the strategy could never hold anything.
    MaxPositionBelowLot,
    /// `bin_ms` is not positive.
    BinNotPositive,
    /// The hysteresis band is wider than [`MAX_HYSTERESIS_BP`].
    HysteresisTooWide,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::ShortWindowZero => f.write_str("short window must be at least 1"),
            ParamsError::ShortNotBelowLong { short, long } => write!(
                f,
                "short window ({short}) must be smaller than the long window ({long})"
            ),
            ParamsError::LongAboveCapacity { long, capacity } => write!(
                f,
                "long window ({long}) exceeds the buffer capacity ({capacity})"
            ),
            ParamsError::LotSizeZero => f.write_str("lot size must be positive"),
            ParamsError::QtyNotPositiveLotMultiple => {
                f.write_str("quantity must be a positive multiple of the lot size")
            }
            ParamsError::TooLarge => f.write_str("quantity or max position is too large"),
            ParamsError::MaxPositionBelowLot => {
                f.write_str("max position must be at least one lot")
            }
            ParamsError::BinNotPositive => f.write_str("bin length must be positive"),
            ParamsError::HysteresisTooWide => write!(
                f,
                "hysteresis band must be at most {MAX_HYSTERESIS_BP} basis points"
            ),
        }
    }
}

impl core::error::Error for ParamsError {}

impl Params {
    /// Checks every rule against a buffer of `capacity` closes and returns the contracts held in
    /// the market (`qty` capped to `max_position`, rounded down to the lot size).
    pub fn validate(&self, capacity: usize) -> Result<u64, ParamsError> {
        if self.short_window == 0 {
            return Err(ParamsError::ShortWindowZero);
        }
        if self.short_window >= self.long_window {
            return Err(ParamsError::ShortNotBelowLong {
                short: self.short_window,
                long: self.long_window,
            });
        }
        if self.long_window as usize > capacity || self.long_window as usize > MAX_WINDOW {
            return Err(ParamsError::LongAboveCapacity {
                long: self.long_window,
                capacity,
            });
        }
        if self.lot_size == 0 {
            return Err(ParamsError::LotSizeZero);
        }
        if self.qty == 0 || div_rem(self.qty, self.lot_size).1 != 0 {
            return Err(ParamsError::QtyNotPositiveLotMultiple);
        }
        if self.qty > i64::MAX as u64 || self.max_position > i64::MAX as u64 {
            return Err(ParamsError::TooLarge);
        }
        if self.max_position < self.lot_size {
            return Err(ParamsError::MaxPositionBelowLot);
        }
        if self.bin_ms <= 0 {
            return Err(ParamsError::BinNotPositive);
        }
        if self.guards.hysteresis_bp > MAX_HYSTERESIS_BP {
            return Err(ParamsError::HysteresisTooWide);
        }
        let cap = self.max_position - div_rem(self.max_position, self.lot_size).1;
        Ok(self.qty.min(cap))
    }

    /// The target position for a regime under these parameters, given the capped quantity.
    pub(crate) const fn target_for(&self, regime: Option<Regime>, qty: i64) -> i64 {
        match (regime, self.mode) {
            (None, _) => 0,
            (Some(Regime::Bullish), Mode::LongShort | Mode::LongOnly) => qty,
            (Some(Regime::Bearish), Mode::LongShort | Mode::ShortOnly) => -qty,
            (Some(_), _) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn params() -> Params {
        Params {
            short_window: 2,
            long_window: 3,
            mode: Mode::LongShort,
            qty: 2000,
            lot_size: 1000,
            max_position: 5000,
            bin_ms: 60_000,
            guards: Guards::default(),
        }
    }

    /// Every limit checked on both sides: the last value accepted and the first refused.
    #[test]
    fn every_limit_holds_exactly_at_its_edge() {
        let p = params();
        let huge = i64::MAX as u64;
        let band = |hysteresis_bp| Guards {
            hysteresis_bp,
            ..Guards::default()
        };
        let too_long = |long, capacity| Err(ParamsError::LongAboveCapacity { long, capacity });
        let cases: &[(&str, Params, usize, Result<u64, ParamsError>)] = &[
            ("base", p, 8, Ok(2000)),
            (
                "long = capacity",
                Params {
                    long_window: 8,
                    ..p
                },
                8,
                Ok(2000),
            ),
            (
                "long = capacity + 1",
                Params {
                    long_window: 9,
                    ..p
                },
                8,
                too_long(9, 8),
            ),
            (
                "long = MAX_WINDOW",
                Params {
                    long_window: MAX_WINDOW as u32,
                    ..p
                },
                usize::MAX,
                Ok(2000),
            ),
            (
                "long = MAX_WINDOW + 1 under a larger capacity",
                Params {
                    long_window: MAX_WINDOW as u32 + 1,
                    ..p
                },
                usize::MAX,
                too_long(MAX_WINDOW as u32 + 1, usize::MAX),
            ),
            (
                "qty = i64::MAX",
                Params {
                    qty: huge,
                    lot_size: 1,
                    ..p
                },
                8,
                Ok(5000),
            ),
            (
                "qty = i64::MAX + 1",
                Params {
                    qty: huge + 1,
                    lot_size: 1,
                    ..p
                },
                8,
                Err(ParamsError::TooLarge),
            ),
            (
                "max_position = i64::MAX",
                Params {
                    max_position: huge,
                    ..p
                },
                8,
                Ok(2000),
            ),
            (
                "max_position = i64::MAX + 1",
                Params {
                    max_position: huge + 1,
                    ..p
                },
                8,
                Err(ParamsError::TooLarge),
            ),
            (
                "max_position = u64::MAX",
                Params {
                    max_position: u64::MAX,
                    ..p
                },
                8,
                Err(ParamsError::TooLarge),
            ),
            (
                "both at i64::MAX: the largest position",
                Params {
                    qty: huge,
                    max_position: huge,
                    lot_size: 1,
                    ..p
                },
                8,
                Ok(huge),
            ),
            (
                "max_position = one lot",
                Params {
                    max_position: 1000,
                    ..p
                },
                8,
                Ok(1000),
            ),
            (
                "max_position one below a lot",
                Params {
                    max_position: 999,
                    ..p
                },
                8,
                Err(ParamsError::MaxPositionBelowLot),
            ),
            ("bin_ms = 1", Params { bin_ms: 1, ..p }, 8, Ok(2000)),
            (
                "hysteresis = maximum",
                Params {
                    guards: band(MAX_HYSTERESIS_BP),
                    ..p
                },
                8,
                Ok(2000),
            ),
            (
                "hysteresis = maximum + 1",
                Params {
                    guards: band(MAX_HYSTERESIS_BP + 1),
                    ..p
                },
                8,
                Err(ParamsError::HysteresisTooWide),
            ),
            (
                "qty rounded down to the lot under max_position",
                Params {
                    qty: 9000,
                    max_position: 3500,
                    ..p
                },
                8,
                Ok(3000),
            ),
            (
                "qty below max_position is kept",
                Params {
                    qty: 3000,
                    max_position: 3999,
                    ..p
                },
                8,
                Ok(3000),
            ),
        ];
        for (name, params, capacity, want) in cases {
            assert_eq!(params.validate(*capacity), *want, "{name}");
        }
    }

    #[test]
    fn every_error_says_what_was_wrong() {
        let cases: &[(ParamsError, &str)] = &[
            (
                ParamsError::ShortWindowZero,
                "short window must be at least 1",
            ),
            (
                ParamsError::ShortNotBelowLong { short: 5, long: 4 },
                "short window (5) must be smaller than the long window (4)",
            ),
            (
                ParamsError::LongAboveCapacity {
                    long: 9,
                    capacity: 8,
                },
                "long window (9) exceeds the buffer capacity (8)",
            ),
            (ParamsError::LotSizeZero, "lot size must be positive"),
            (
                ParamsError::QtyNotPositiveLotMultiple,
                "quantity must be a positive multiple of the lot size",
            ),
            (
                ParamsError::TooLarge,
                "quantity or max position is too large",
            ),
            (
                ParamsError::MaxPositionBelowLot,
                "max position must be at least one lot",
            ),
            (ParamsError::BinNotPositive, "bin length must be positive"),
            (
                ParamsError::HysteresisTooWide,
                "hysteresis band must be at most 10000 basis points",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), *text);
        }
        let modes = [Mode::LongShort, Mode::LongOnly, Mode::ShortOnly].map(|m| m.to_string());
        assert_eq!(modes, ["long-short", "long-only", "short-only"]);
    }
}
