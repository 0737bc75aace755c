//! Options shared by `backtest` and `sweep`: how to read the file, the contract, the strategy.

use crate::backtest::costs::{Costs, Funding, FundingRate, Liquidity, Slippage, read_funding};
use crate::candles_file::{Format, LoadOptions, OffGrid, Stamp};
use crate::sim::account::FeeRate;
use clap::{Args, ValueEnum};
use maestro_core::{Guards, Mode, TickSize};
use maestro_lambda::exchange::BinSize;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use super::CliError;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Detect from the content: `[[` freqtrade, `[{` BitMEX JSON, a header line CSV.
    Auto,
    /// freqtrade JSON: `[[open_time_ms, open, high, low, close, volume], ...]`.
    Freqtrade,
    /// BitMEX `trade/bucketed` JSON (array of objects, end-of-bucket timestamps).
    BitmexJson,
    /// CSV with a header `timestamp,open,high,low,close[,volume...]`.
    Csv,
}

/// `--stamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StampArg {
    /// The format's own: BitMEX (JSON, or CSV with BitMEX's columns) end; freqtrade and other CSV start.
    Auto,
    /// Timestamps name the start of each bar.
    Start,
    /// Timestamps name the end of each bar (BitMEX).
    End,
}

/// `--off-grid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OffGridArg {
    /// Leave such rows out and warn, counting and locating them (what they leave is a gap).
    Skip,
    /// Move each to the nearest bar of the grid (refused where two rows would share a bar).
    Snap,
    /// Refuse the file, naming the first such row.
    Error,
}

impl From<OffGridArg> for OffGrid {
    fn from(a: OffGridArg) -> OffGrid {
        match a {
            OffGridArg::Skip => OffGrid::Skip,
            OffGridArg::Snap => OffGrid::Snap,
            OffGridArg::Error => OffGrid::Error,
        }
    }
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Long on a golden cross, short on a death cross.
    LongShort,
    /// Long on a golden cross, flat on a death cross.
    LongOnly,
    /// Short on a death cross, flat on a golden cross.
    ShortOnly,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::LongShort => Mode::LongShort,
            ModeArg::LongOnly => Mode::LongOnly,
            ModeArg::ShortOnly => Mode::ShortOnly,
        }
    }
}

/// The candle file and how to read it.
#[derive(Args, Clone, Debug)]
pub struct FileArgs {
    /// Candle file: freqtrade JSON, BitMEX trade/bucketed JSON, or CSV with a
    /// timestamp,open,high,low,close header (timestamps in ms or ISO-8601, UTC when no zone).
    pub file: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Which end of its bar a row's timestamp names; candles are converted once to end-of-bar.
    #[arg(long, value_enum, default_value = "auto")]
    pub stamp: StampArg,
    /// Bars to trade on: auto (the file's own, its most common step between rows) or a length
    /// such as 1m, 5m, 15m, 1h, 4h, 1d. Longer than the file's bars, they are built from whole
    /// UTC-aligned bins of them (open of the first, highest high, lowest low, close of the last);
    /// a bin with bars missing is a gap, never a short bar.
    #[arg(long, default_value = "auto", value_parser = parse_bin)]
    pub bin: BinArg,
    /// Rows stamped off the file's bar grid (real exchange history has some): skip them with a
    /// warning that counts and locates them, snap them to the nearest bar, or refuse the file.
    #[arg(long, value_enum, default_value = "skip")]
    pub off_grid: OffGridArg,
    /// Price tick of the instrument; prices in the file are rounded to it.
    #[arg(long, default_value = "0.01", value_parser = parse_tick)]
    pub tick: TickSize,
}

/// `--bin`: detected, or a length in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinArg(pub Option<i64>);

impl From<Option<BinSize>> for BinArg {
    fn from(bin: Option<BinSize>) -> Self {
        BinArg(bin.map(BinSize::millis))
    }
}

/// `auto`, or a whole number of minutes, hours or days (`5m`, `4h`, `1d`).
fn parse_bin(text: &str) -> Result<BinArg, String> {
    if text == "auto" {
        return Ok(BinArg(None));
    }
    let bad = || format!("{text:?} is not a bar length: use auto or e.g. 1m, 5m, 1h, 4h, 1d");
    let split = text.len().saturating_sub(1);
    let (count, unit) = (text.get(..split).ok_or_else(bad)?, text.get(split..));
    let unit_ms: i64 = match unit {
        Some("m") => 60_000,
        Some("h") => 3_600_000,
        Some("d") => 86_400_000,
        _ => return Err(bad()),
    };
    let count: i64 = count
        .parse()
        .ok()
        .filter(|n| (1..=366).contains(n) && count.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(bad)?;
    Ok(BinArg(Some(count * unit_ms)))
}

fn parse_tick(text: &str) -> Result<TickSize, String> {
    TickSize::from_decimal(text).map_err(|e| format!("{e}"))
}

impl FileArgs {
    /// The loader's options.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            format: match self.format {
                FormatArg::Auto => None,
                FormatArg::Freqtrade => Some(Format::Freqtrade),
                FormatArg::BitmexJson => Some(Format::BitmexJson),
                FormatArg::Csv => Some(Format::Csv),
            },
            stamp: match self.stamp {
                StampArg::Auto => None,
                StampArg::Start => Some(Stamp::Start),
                StampArg::End => Some(Stamp::End),
            },
            bin_ms: self.bin.0,
            off_grid: self.off_grid.into(),
            tick: self.tick,
        }
    }
}

/// Position size, contract and costs.
#[derive(Args, Clone, Debug)]
pub struct TradeArgs {
    /// Which positions the strategy may hold.
    #[arg(long, value_enum, default_value = "long-short")]
    pub mode: ModeArg,
    /// Contracts held when in the market (a multiple of --lot-size; LTCUSDT: 1000 = 0.1 LTC).
    #[arg(long, default_value_t = 1000)]
    pub qty: u64,
    /// The instrument's lot size in contracts.
    #[arg(long, default_value_t = 1000)]
    pub lot_size: u64,
    /// Largest absolute position in contracts [default: --qty].
    #[arg(long)]
    pub max_position: Option<u64>,
    /// Taker fee in basis points charged on every fill's notional (BitMEX LTCUSDT: 5).
    #[arg(long, default_value = "5", value_parser = FeeRate::from_bp_text, allow_hyphen_values = true)]
    pub fee_bp: FeeRate,
    /// Maker fee in basis points (negative = rebate; BitMEX LTCUSDT: -1), paid with --fills maker.
    #[arg(long, default_value = "-1", value_parser = FeeRate::from_bp_text, allow_hyphen_values = true)]
    pub maker_bp: FeeRate,
    /// Which fee fills pay: taker (market orders, what the bot sends) or maker (a what-if).
    #[arg(long, value_enum, default_value = "taker")]
    pub fills: FillsArg,
    /// Slippage in basis points of the fill price, paid on every fill [default: none].
    #[arg(long, value_parser = FeeRate::from_bp_text, conflicts_with = "slippage_range")]
    pub slippage_bp: Option<FeeRate>,
    /// Slippage as a fraction of the bar's range (high - low) per contract, e.g. 0.25.
    #[arg(long, value_parser = parse_fraction)]
    pub slippage_range: Option<i64>,
    /// Perpetual funding: this rate at every BitMEX funding instant (04:00, 12:00, 20:00 UTC);
    /// a long pays rate × position value, a short receives it [default: no funding].
    #[arg(long, value_parser = parse_funding_rate, allow_hyphen_values = true, conflicts_with = "funding_file")]
    pub funding_rate: Option<FundingRate>,
    /// Perpetual funding from a file of BitMEX `funding` records (JSON, as GET /funding returns)
    /// for --funding-symbol.
    #[arg(long, value_name = "PATH")]
    pub funding_file: Option<PathBuf>,
    /// The symbol whose records --funding-file charges.
    #[arg(long, default_value = "LTCUSDT")]
    pub funding_symbol: String,
    /// Contracts per unit of the underlying (BitMEX underlyingToPositionMultiplier; LTCUSDT:
    /// 10000). Money is reported in the quote currency: contracts × price / this.
    #[arg(long, default_value_t = 10_000)]
    pub contracts_per_unit: u64,
    /// Hysteresis band in basis points: the short SMA must clear the long one by this much (0 = off).
    #[arg(long, default_value_t = 0)]
    pub hysteresis_bp: u32,
    /// Consecutive closes a new regime must hold before it is taken (0 or 1 = off).
    #[arg(long, default_value_t = 0)]
    pub confirm_bars: u32,
    /// Minimum bars between two flips (0 = off).
    #[arg(long, default_value_t = 0)]
    pub min_hold_bars: u32,
}

/// `--fills`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FillsArg {
    /// Taker fee (--fee-bp).
    Taker,
    /// Maker fee (--maker-bp).
    Maker,
}

fn parse_fraction(text: &str) -> Result<i64, String> {
    crate::backtest::costs::fixed(text, 6)
        .filter(|v| *v >= 0)
        .ok_or_else(|| format!("{text:?} must be a fraction with at most 6 decimals, e.g. 0.25"))
}

fn parse_funding_rate(text: &str) -> Result<FundingRate, String> {
    FundingRate::from_text(text)
}

impl TradeArgs {
    /// Every cost, with the funding file read.
    pub fn costs(&self) -> Result<Costs, CliError> {
        let funding = match (&self.funding_rate, &self.funding_file) {
            (Some(rate), _) => Funding::Flat(*rate),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    CliError::Failed(format!("cannot read {}: {e}", path.display()))
                })?;
                Funding::Schedule(
                    read_funding(&text, &self.funding_symbol)
                        .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?,
                )
            }
            (None, None) => Funding::None,
        };
        Ok(Costs {
            taker: self.fee_bp,
            maker: self.maker_bp,
            liquidity: match self.fills {
                FillsArg::Taker => Liquidity::Taker,
                FillsArg::Maker => Liquidity::Maker,
            },
            slippage: match (self.slippage_bp, self.slippage_range) {
                (Some(bp), _) => Slippage::PriceBp(bp),
                (None, Some(ppm)) => Slippage::RangePpm(ppm),
                (None, None) => Slippage::None,
            },
            funding,
        })
    }

    /// The whipsaw guards.
    pub fn guards(&self) -> Guards {
        Guards {
            hysteresis_bp: self.hysteresis_bp,
            confirm_bars: self.confirm_bars,
            min_hold_bars: self.min_hold_bars,
        }
    }

    /// The largest position.
    pub fn max_position(&self) -> u64 {
        self.max_position.unwrap_or(self.qty)
    }

    /// Quote-currency value of one contract moving one tick (display only).
    pub fn contract_tick_value(&self, tick: TickSize) -> Result<f64, CliError> {
        if self.contracts_per_unit == 0 {
            return Err(CliError::Usage(
                "--contracts-per-unit must be positive (LTCUSDT: 10000)".into(),
            ));
        }
        Ok(maestro_core::Price(1).to_f64(tick) / self.contracts_per_unit as f64)
    }
}

/// Parses a window range: `2..30` (inclusive), `2..=30`, or a single window `10`.
pub fn parse_range(text: &str) -> Result<RangeInclusive<u32>, String> {
    let bad = || {
        format!(
            "{text:?} is not a window range: write FROM..TO (inclusive, e.g. 2..30) or one window"
        )
    };
    let (from, to) = match text.split_once("..") {
        Some((a, b)) => (a, b.strip_prefix('=').unwrap_or(b)),
        None => (text, text),
    };
    let from: u32 = from.trim().parse().map_err(|_| bad())?;
    let to: u32 = to.trim().parse().map_err(|_| bad())?;
    if from == 0 || from > to {
        return Err(format!(
            "{text:?}: windows start at 1 and FROM must not exceed TO"
        ));
    }
    Ok(from..=to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive() {
        assert_eq!(parse_range("2..30"), Ok(2..=30));
        assert_eq!(parse_range("2..=30"), Ok(2..=30));
        assert_eq!(parse_range("7"), Ok(7..=7));
        assert!(parse_range("30..2").is_err());
        assert!(parse_range("0..5").is_err());
        assert!(parse_range("a..b").is_err());
    }

    #[test]
    fn bar_lengths_are_whole_minutes_hours_or_days() {
        let cases: &[(&str, Option<Option<i64>>)] = &[
            ("auto", Some(None)),
            ("1m", Some(Some(60_000))),
            ("5m", Some(Some(300_000))),
            ("4h", Some(Some(14_400_000))),
            ("1d", Some(Some(86_400_000))),
            ("0m", None),
            ("1w", None),
            ("h", None),
            ("-1h", None),
            ("+1h", None),
            ("1.5h", None),
            ("", None),
            ("é", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_bin(text).ok().map(|b| b.0), *want, "--bin {text:?}");
        }
    }
}
