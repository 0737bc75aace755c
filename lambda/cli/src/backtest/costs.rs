//! What trading costs besides the price: fees (taker or maker), slippage and perpetual funding,
//! all in the exact units of [`Money`].
//!
//! - Slippage is a cost per contract on every fill: basis points of the fill price
//!   (`|q| × price × ppm`, exact like the fee) or a fraction of the bar's range
//!   (`|q| × (high − low) × ppm`).
//! - Funding (BitMEX: every 8 hours, at 04:00, 12:00 and 20:00 UTC): the position held at that
//!   instant pays `position × mark × rate` (a long pays a positive rate, a short receives it). The
//!   mark is the close of the bar the instant falls in (or ends); a position held through a gap
//!   pays at the first close after it. Rates are exact to 1e-8; a payment is rounded to a whole
//!   unit of [`Money`] (1e-12 USDT on LTCUSDT).

use crate::sim::account::{FeeRate, Money};
use maestro_core::Candle;

/// BitMEX's funding interval.
pub const FUNDING_INTERVAL_MS: i64 = 8 * 3_600_000;
/// Funding instants fall this far into each interval: 04:00, 12:00, 20:00 UTC.
pub const FUNDING_PHASE_MS: i64 = 4 * 3_600_000;

/// Which fee a fill pays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Liquidity {
    /// A market order takes liquidity (what the bot sends).
    #[default]
    Taker,
    /// A resting order filled at the close (a what-if: the bot sends market orders).
    Maker,
}

/// Slippage per fill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Slippage {
    /// Fills at the close exactly.
    #[default]
    None,
    /// Parts per million of the fill price (1 bp = 100).
    PriceBp(FeeRate),
    /// Parts per million of the bar's range, high − low (0.25 = 250,000).
    RangePpm(i64),
}

/// A funding rate per interval, in units of 1e-8 (0.0001 = 10,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingRate(pub i64);

impl FundingRate {
    /// Parses a decimal rate (`0.0001`, `-0.000375`, `1e-4` is refused) exactly, to 1e-8.
    pub fn from_text(text: &str) -> Result<Self, String> {
        fixed(text, 8).map(FundingRate).ok_or_else(|| {
            format!("funding rate {text:?} must be a decimal with at most 8 decimals, e.g. 0.0001")
        })
    }

    /// The payment of `position` contracts marked at `mark` ticks, in [`Money`] (rounded half
    /// away from zero to a whole unit).
    pub fn payment(self, position: i64, mark: i64) -> Money {
        // Money units: position × mark × SCALE × rate / 1e8 = position × mark × rate / 100.
        let x = i128::from(position) * i128::from(mark) * i128::from(self.0);
        let q = x / 100;
        let r = x % 100;
        Money(
            q + if r >= 50 {
                1
            } else if r <= -50 {
                -1
            } else {
                0
            },
        )
    }
}

/// Funding on the position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Funding {
    /// None (spot-like; the default).
    #[default]
    None,
    /// The same rate at every BitMEX funding instant.
    Flat(FundingRate),
    /// Historical rates: (funding instant in ms, rate), oldest first. Instants outside the list
    /// pay nothing.
    Schedule(Vec<(i64, FundingRate)>),
}

/// Every cost of a fill and of holding a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Costs {
    /// Taker fee.
    pub taker: FeeRate,
    /// Maker fee (negative: a rebate).
    pub maker: FeeRate,
    /// Which of the two fills pay.
    pub liquidity: Liquidity,
    /// Slippage.
    pub slippage: Slippage,
    /// Funding.
    pub funding: Funding,
}

impl Costs {
    /// Only a taker fee: what the backtest charged before it knew other costs.
    pub fn taker_only(taker: FeeRate) -> Self {
        Costs {
            taker,
            maker: FeeRate::from_ppm(0),
            liquidity: Liquidity::Taker,
            slippage: Slippage::None,
            funding: Funding::None,
        }
    }

    /// Whether only the taker fee applies (the sweep's fast path).
    pub fn is_taker_only(&self) -> bool {
        self.liquidity == Liquidity::Taker
            && self.slippage == Slippage::None
            && self.funding == Funding::None
    }

    /// The fee fills pay.
    pub fn fee(&self) -> FeeRate {
        match self.liquidity {
            Liquidity::Taker => self.taker,
            Liquidity::Maker => self.maker,
        }
    }

    /// Slippage per contract filled on `candle`, in [`Money`] units.
    pub fn slip_per_contract(&self, candle: &Candle) -> Money {
        match self.slippage {
            Slippage::None => Money(0),
            Slippage::PriceBp(rate) => Money(i128::from(candle.close.0) * i128::from(rate.ppm())),
            Slippage::RangePpm(ppm) => {
                Money(i128::from(candle.high.0 - candle.low.0).max(0) * i128::from(ppm))
            }
        }
    }

    /// The rates of the funding instants in `(after_ms, until_ms]`, in order.
    pub fn funding_between(&self, after_ms: i64, until_ms: i64) -> Vec<FundingRate> {
        match &self.funding {
            Funding::None => Vec::new(),
            Funding::Flat(rate) => {
                let first = after_ms
                    - (after_ms - FUNDING_PHASE_MS).rem_euclid(FUNDING_INTERVAL_MS)
                    + FUNDING_INTERVAL_MS;
                let n = if until_ms < first {
                    0
                } else {
                    (until_ms - first) / FUNDING_INTERVAL_MS + 1
                };
                vec![*rate; usize::try_from(n).unwrap_or(0)]
            }
            Funding::Schedule(list) => {
                let from = list.partition_point(|(t, _)| *t <= after_ms);
                let to = list.partition_point(|(t, _)| *t <= until_ms);
                list[from..to.max(from)].iter().map(|(_, r)| *r).collect()
            }
        }
    }
}

/// Parses a decimal with at most `places` decimals into an integer of 10^-places units.
pub(crate) fn fixed(text: &str, places: usize) -> Option<i64> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && frac.is_empty())
        || frac.len() > places
        || whole.len() > 6
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<places$}").parse().ok()?
    };
    let v = whole.checked_mul(10i64.checked_pow(u32::try_from(places).ok()?)?)? + frac;
    Some(if negative { -v } else { v })
}

/// Reads BitMEX `funding` records (`GET /funding`: a JSON array of objects with `timestamp`,
/// `symbol`, `fundingInterval`, `fundingRate`, `fundingRateDaily`) for `symbol`, oldest first.
/// A record that cannot be read is named.
pub fn read_funding(text: &str, symbol: &str) -> Result<Vec<(i64, FundingRate)>, String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| format!("not a JSON array of BitMEX funding records: {e}"))?;
    let mut out: Vec<(i64, FundingRate)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let bad = |what: &str| format!("funding record {}: {what}", i + 1);
        if item.get("symbol").and_then(|s| s.as_str()) != Some(symbol) {
            continue;
        }
        let stamp = item
            .get("timestamp")
            .and_then(|t| t.as_str())
            .ok_or_else(|| bad("no timestamp"))?;
        let ms = crate::candles_file::stamp::parse_timestamp(stamp).map_err(|e| bad(&e))?;
        let rate = item
            .get("fundingRate")
            .filter(|r| r.is_number())
            .map(|r| r.to_string())
            .ok_or_else(|| bad("no numeric fundingRate"))?;
        // serde_json spells small rates with an exponent (1e-5): those go through f64, to 1e-8.
        let rate = if rate.contains(['e', 'E']) {
            rate.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() < 1.0)
                .map(|v| FundingRate((v * 1e8).round() as i64))
                .ok_or_else(|| bad("fundingRate out of range"))?
        } else {
            FundingRate::from_text(&rate).map_err(|e| bad(&e))?
        };
        if out.last().is_some_and(|(t, _)| *t >= ms) {
            return Err(bad(
                "timestamp is not after the previous record's (oldest first)",
            ));
        }
        out.push((ms, rate));
    }
    if out.is_empty() {
        return Err(format!("no funding record for {symbol}"));
    }
    Ok(out)
}
