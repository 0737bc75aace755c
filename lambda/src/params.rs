//! A bot's settings as the runner stores and validates them (the core's `Params` are built from these
//! plus the instrument's lot size).

use crate::exchange::BinSize;
use serde::{Deserialize, Serialize};

/// Which positions the bot may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeMode {
    /// Long on a golden cross, short on a death cross.
    LongShort,
    /// Long on a golden cross, flat on a death cross.
    LongOnly,
    /// Short on a death cross, flat on a golden cross.
    ShortOnly,
}

/// One bot's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotParams {
    /// Instrument symbol (`LTCUSDT`).
    pub symbol: String,
    /// Candle bucket length.
    pub bin: BinSize,
    /// Short SMA window in candles.
    pub short_window: u32,
    /// Long SMA window in candles.
    pub long_window: u32,
    /// Positions allowed.
    pub mode: TradeMode,
    /// Position size in contracts when in the market (a multiple of the lot size).
    pub qty: u64,
    /// Largest absolute position the bot may ever hold, in contracts.
    pub max_position: u64,
    /// Hysteresis band in basis points (0 = off).
    #[serde(default)]
    pub hysteresis_bp: u32,
    /// Consecutive closes a new regime must hold before it counts (0 or 1 = off).
    #[serde(default)]
    pub confirm_bars: u32,
    /// Minimum candles between two flips (0 = off).
    #[serde(default)]
    pub min_hold_bars: u32,
    /// Compute and record orders without sending them.
    #[serde(default)]
    pub dry_run: bool,
}

impl Default for BotParams {
    /// The original script's settings: LTCUSDT daily candles, windows 10/50, one lot, long-short.
    fn default() -> Self {
        BotParams {
            symbol: "LTCUSDT".to_owned(),
            bin: BinSize::D1,
            short_window: 10,
            long_window: 50,
            mode: TradeMode::LongShort,
            qty: 1000,
            max_position: 1000,
            hysteresis_bp: 0,
            confirm_bars: 0,
            min_hold_bars: 0,
            dry_run: false,
        }
    }
}

/// Ring-buffer capacity of the live strategy: the largest window a bot may use.
pub const LIVE_CAPACITY: usize = 1024;

/// The strategy the runner keeps per bot.
pub type LiveStrategy = maestro_core::Strategy<LIVE_CAPACITY>;

impl TradeMode {
    /// The core's mode.
    pub const fn to_core(self) -> maestro_core::Mode {
        match self {
            TradeMode::LongShort => maestro_core::Mode::LongShort,
            TradeMode::LongOnly => maestro_core::Mode::LongOnly,
            TradeMode::ShortOnly => maestro_core::Mode::ShortOnly,
        }
    }
}

impl BotParams {
    /// The core's parameters for these settings on an instrument with `lot_size` (not yet validated:
    /// `Strategy::new` does that).
    pub fn core_params(&self, lot_size: u64) -> maestro_core::Params {
        maestro_core::Params {
            short_window: self.short_window,
            long_window: self.long_window,
            mode: self.mode.to_core(),
            qty: self.qty,
            lot_size,
            max_position: self.max_position,
            bin_ms: self.bin.millis(),
            guards: maestro_core::Guards {
                hysteresis_bp: self.hysteresis_bp,
                confirm_bars: self.confirm_bars,
                min_hold_bars: self.min_hold_bars,
            },
        }
    }
}
