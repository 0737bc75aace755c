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
