//! A bot's profit and loss from its own fills, in exact integers: what the dashboard shows.
//!
//! Money is counted in **units**: one unit is a [`PRICE_SCALE`]th of a tick times one contract. A
//! fill's average price (a float from the exchange) becomes whole sub-ticks once, at the edge
//! ([`price_units`]); from there every sum is an `i128` and nothing is rounded again.
//!
//! - **Realised**: the contracts closed, first in first out: each closing fill is matched against
//!   the oldest open lots, and (exit − entry) × contracts is booked (sign-flipped for shorts). A
//!   fill larger than the position closes it and opens the rest on the other side.
//! - **Unrealised**: the open lots marked at a price (the last completed candle's close).
//! - **Fees**: the sum of each fill's fee. The exchange's order record carries no commission, so the
//!   fee is the fill's notional times the instrument's taker rate (the bot only sends market
//!   orders), rounded up to a whole unit against the bot.
//!
//! The caller decides which fills count; see `routes::status` for what "since start" means there.

use crate::exchange::Side;
use maestro_core::TickSize;
use std::collections::VecDeque;

/// Sub-ticks per tick: an average fill price is kept to a ten-thousandth of a tick.
pub const PRICE_SCALE: i64 = 10_000;

/// One fill as the ledger counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Side.
    pub side: Side,
    /// Contracts filled.
    pub qty: u64,
    /// Average price in sub-ticks (see [`price_units`]).
    pub price: i64,
    /// Fee in units (see [`fee_units`]); negative for a rebate.
    pub fee: i128,
}

/// Contracts opened at one price and not closed yet; `qty` is signed (negative = short).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lot {
    qty: i128,
    price: i128,
}

/// The running totals over a sequence of fills, oldest first. All open lots have the same sign.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    lots: VecDeque<Lot>,
    realised: i128,
    fees: i128,
    fills: u32,
}

impl Ledger {
    /// Books one fill: closes open lots of the other side first in first out, opens the rest.
    pub fn update(&mut self, fill: &Fill) {
        let price = i128::from(fill.price);
        let mut rest = match fill.side {
            Side::Buy => i128::from(fill.qty),
            Side::Sell => -i128::from(fill.qty),
        };
        while rest != 0 {
            let Some(lot) = self.lots.front_mut() else {
                break;
            };
            if lot.qty.signum() == rest.signum() {
                break;
            }
            let closed = rest.abs().min(lot.qty.abs());
            // The contracts closed, with the lot's sign (the lot holds at least that many).
            let step = lot.qty.clamp(-closed, closed);
            // A long lot gains when sold higher, a short lot when bought lower.
            let gain = step.saturating_mul(price - lot.price);
            self.realised = self.realised.saturating_add(gain);
            lot.qty -= step;
            rest += step;
            if lot.qty == 0 {
                self.lots.pop_front();
            }
        }
        if rest != 0 {
            self.lots.push_back(Lot { qty: rest, price });
        }
        self.fees = self.fees.saturating_add(fill.fee);
        self.fills = self.fills.saturating_add(1);
    }

    /// The position the fills add up to (contracts, negative = short).
    pub fn position(&self) -> i128 {
        self.lots
            .iter()
            .fold(0i128, |sum, l| sum.saturating_add(l.qty))
    }

    /// Realised P&L in units, before fees.
    pub fn realised(&self) -> i128 {
        self.realised
    }

    /// Fees paid in units.
    pub fn fees(&self) -> i128 {
        self.fees
    }

    /// Fills booked.
    pub fn fills(&self) -> u32 {
        self.fills
    }

    /// The open lots' P&L if closed at `mark` (sub-ticks), in units.
    pub fn unrealised(&self, mark: i64) -> i128 {
        let mark = i128::from(mark);
        self.lots.iter().fold(0i128, |sum, l| {
            sum.saturating_add((mark - l.price).saturating_mul(l.qty))
        })
    }
}

/// A price in quote currency (an exchange's float average) as whole sub-ticks of `tick`, rounded
/// to the nearest; `None` when it is not a finite positive price that fits.
pub fn price_units(price: f64, tick: TickSize) -> Option<i64> {
    // NaN, infinities, zero and negative prices all fail the range check at the end.
    // price / (mantissa × 10^-exp) × SCALE, with the power of ten applied as a multiplication.
    let units =
        price * 10f64.powi(i32::from(tick.exp())) * PRICE_SCALE as f64 / f64::from(tick.mantissa());
    let units = units.round();
    (units >= 1.0 && units < i64::MAX as f64).then_some(units as i64)
}

/// A whole tick price in sub-ticks.
pub fn ticks_to_units(ticks: i64) -> i128 {
    i128::from(ticks) * i128::from(PRICE_SCALE)
}

/// A fee rate as an instrument lists it (`0.0005`) in parts per million; `None` unless finite and
/// below 100 %.
pub fn rate_ppm(rate: f64) -> Option<i64> {
    let ppm = (rate * 1e6).round();
    (rate.is_finite() && ppm.abs() < 1e6).then_some(ppm as i64)
}

/// The fee of `qty` contracts at `price` sub-ticks at `ppm` parts per million, in units, rounded up
/// (a charge rounds against the bot, and so does a rebate). Saturates rather than overflow on
/// absurd inputs.
pub fn fee_units(qty: u64, price: i64, ppm: i64) -> i128 {
    let gross = i128::from(qty)
        .saturating_mul(i128::from(price))
        .saturating_mul(i128::from(ppm));
    // Ceiling division: -floor(-x / d); -gross cannot overflow after the saturating products
    // except at i128::MIN, which saturating_neg keeps in range.
    gross
        .saturating_neg()
        .div_euclid(1_000_000)
        .saturating_neg()
}

/// Units as an amount of quote currency per contract-multiple: `units / SCALE × tick`, divided by
/// the contracts per unit of the underlying when the instrument gives it (LTCUSDT: 10 000), so the
/// result is in the quote currency. Display only.
pub fn to_quote(units: i128, tick: TickSize, contracts_per_underlying: Option<f64>) -> f64 {
    let per = contracts_per_underlying
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or(1.0);
    let tick = f64::from(tick.mantissa()) / 10f64.powi(i32::from(tick.exp()));
    units as f64 / PRICE_SCALE as f64 * tick / per
}

#[cfg(test)]
mod tests;
