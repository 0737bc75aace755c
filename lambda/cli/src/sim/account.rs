//! The one fill rule and fee computation shared by the simulated exchange, the backtest and the
//! sweep, so that replaying a file through `SimExchange` gives exactly the backtest's trades.
//!
//! Money is exact: an integer count of [`Money::SCALE`]-ths of the value of one contract moving one
//! tick. For a linear contract that value is `tick / underlyingToPositionMultiplier` in the quote
//! currency (LTCUSDT: 0.01 / 10,000 = 1e-6 USDT, BitMEX's USDt), so a fill of `q` contracts at `p`
//! ticks moves `q × p × SCALE` units and its fee is `q × p × fee_ppm` units, with no rounding.

use maestro_core::{Candle, Price};
use std::fmt;

/// An exact amount of money in units of 1/[`Money::SCALE`] contract×tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i128);

impl Money {
    /// Units per contract×tick: one per fee ppm, so fees are exact.
    pub const SCALE: i128 = 1_000_000;

    /// In the quote currency, given the value of one contract×tick (display only).
    pub fn to_quote(self, contract_tick_value: f64) -> f64 {
        self.0 as f64 / Self::SCALE as f64 * contract_tick_value
    }
}

impl core::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl core::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

/// A fee rate in parts per million of the traded notional (5 bp = 0.0005 = 500 ppm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FeeRate {
    ppm: i64,
}

impl FeeRate {
    /// BitMEX's LTCUSDT taker fee: 5 bp.
    pub const LTCUSDT_TAKER: FeeRate = FeeRate { ppm: 500 };

    /// A rate of `ppm` parts per million (negative = rebate).
    pub const fn from_ppm(ppm: i64) -> Self {
        FeeRate { ppm }
    }

    /// Parts per million.
    pub const fn ppm(self) -> i64 {
        self.ppm
    }

    /// The rate as BitMEX's instrument lists it (`takerFee` 0.0005), rounded to a whole ppm.
    pub fn from_fraction(rate: f64) -> Option<Self> {
        let ppm = (rate * 1e6).round();
        (rate.is_finite() && ppm.abs() < 1e6).then_some(FeeRate { ppm: ppm as i64 })
    }

    /// Parses basis points as decimal text (`"5"`, `"7.5"`, `"-2.5"`), exactly; at most two decimals
    /// (one ppm is 0.01 bp).
    pub fn from_bp_text(text: &str) -> Result<Self, String> {
        let err =
            || format!("fee {text:?} must be basis points with at most 2 decimals, e.g. 5 or 7.5");
        let t = text.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty()
            || frac.len() > 2
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
            || whole.len() > 5
        {
            return Err(err());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| err())?;
        let ppm = whole * 100 + frac;
        Ok(FeeRate {
            ppm: if negative { -ppm } else { ppm },
        })
    }

    /// The rate in basis points (display only).
    pub fn bp(self) -> f64 {
        self.ppm as f64 / 100.0
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bp", self.bp())
    }
}

/// The fill rule: a market order placed on a candle fills at that candle's close, no slippage.
pub const fn fill_price(candle: &Candle) -> Price {
    candle.close
}

/// One executed market order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Signed contracts traded (positive = bought).
    pub delta: i64,
    /// Fill price.
    pub price: Price,
    /// Fee charged.
    pub fee: Money,
    /// Slippage paid (the fill's distance from the close, as a cost; 0 without slippage).
    pub slippage: Money,
    /// Position after the fill.
    pub position_after: i64,
    /// Profit of the round trip this fill ended (position back to flat or to the other side),
    /// after both fills' fees.
    pub closed_trip: Option<Money>,
    /// The position changed side (long to short or back).
    pub flip: bool,
}

/// A trading account in one instrument: position, cash and the bookkeeping reports need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Signed position in contracts.
    pub position: i64,
    /// Cash change since the start (fills and fees).
    pub cash: Money,
    /// Fees paid.
    pub fees: Money,
    /// Slippage paid.
    pub slippage: Money,
    /// Funding paid (negative: received).
    pub funding: Money,
    /// Sum of closed round trips' profits.
    pub realised: Money,
    /// Equity when the open round trip began (before its opening fee).
    trip_start: Money,
    /// Round trips closed.
    pub round_trips: u64,
    /// Round trips closed with a profit (> 0 after fees).
    pub wins: u64,
    /// Fills that took the position from one side to the other.
    pub flips: u64,
    /// Fills.
    pub fills: u64,
    /// Contracts traded.
    pub volume: u64,
}

impl Account {
    /// Equity marked at `mark`: cash plus the position's value (profit and loss since the start).
    pub fn equity(&self, mark: Price) -> Money {
        Money(self.cash.0 + i128::from(self.position) * i128::from(mark.0) * Money::SCALE)
    }

    /// Profit of the open round trip at `mark` (0 when flat).
    pub fn unrealised(&self, mark: Price) -> Money {
        if self.position == 0 {
            Money(0)
        } else {
            self.equity(mark) - self.trip_start
        }
    }

    /// Trades `delta` contracts at `price`, charging `fee` on the notional. The only place where
    /// a fill changes money.
    ///
    /// ```
    /// use maestro_core::Price;
    /// use maestro_cli::sim::account::{Account, FeeRate, Money};
    /// let mut a = Account::default();
    /// a.fill(1000, Price(10_000), FeeRate::LTCUSDT_TAKER); // buy 1000 at 100.00
    /// let f = a.fill(-1000, Price(10_100), FeeRate::LTCUSDT_TAKER); // sell at 101.00
    /// // +100 ticks × 1000 contracts, minus 5 bp on both notionals, exactly.
    /// let want = 100 * 1000 * Money::SCALE - 1000 * 10_000 * 500 - 1000 * 10_100 * 500;
    /// assert_eq!(f.closed_trip, Some(Money(want)));
    /// assert_eq!(a.position, 0);
    /// ```
    pub fn fill(&mut self, delta: i64, price: Price, fee: FeeRate) -> Fill {
        self.fill_slipped(delta, price, fee, Money(0))
    }

    /// Like [`Account::fill`], paying `slip` per contract on top of the fee (the backtest's
    /// slippage, in the same exact units). With `slip` 0 every figure equals [`Account::fill`]'s.
    pub fn fill_slipped(&mut self, delta: i64, price: Price, fee: FeeRate, slip: Money) -> Fill {
        let p0 = self.position;
        let p1 = p0 + delta;
        let px = i128::from(price.0);
        let fee_of =
            |qty: u64| Money(i128::from(qty) * px * i128::from(fee.ppm) + i128::from(qty) * slip.0);
        let before = self.equity(price);
        let closes = p0 != 0 && (p1 == 0 || (p0 > 0) != (p1 > 0));
        let mut closed_trip = None;
        if closes {
            let after_close = before - fee_of(p0.unsigned_abs());
            let profit = after_close - self.trip_start;
            self.realised = self.realised + profit;
            self.round_trips += 1;
            self.wins += u64::from(profit.0 > 0);
            closed_trip = Some(profit);
            self.trip_start = after_close;
        } else if p0 == 0 {
            self.trip_start = before;
        }
        let total_cost = fee_of(delta.unsigned_abs());
        let slippage = Money(i128::from(delta.unsigned_abs()) * slip.0);
        let total_fee = total_cost - slippage;
        self.cash = Money(self.cash.0 - i128::from(delta) * px * Money::SCALE - total_cost.0);
        self.fees = self.fees + total_fee;
        self.slippage = self.slippage + slippage;
        self.position = p1;
        self.fills += 1;
        self.volume += delta.unsigned_abs();
        let flip = p0 != 0 && p1 != 0 && (p0 > 0) != (p1 > 0);
        self.flips += u64::from(flip);
        Fill {
            delta,
            price,
            fee: total_fee,
            slippage,
            position_after: p1,
            closed_trip,
            flip,
        }
    }
}

impl Account {
    /// Pays `amount` of funding (negative: receives it). The open round trip's profit carries it.
    pub fn pay_funding(&mut self, amount: Money) {
        self.cash = self.cash - amount;
        self.funding = self.funding + amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_round_trip_and_a_flip_are_exact() {
        let fee = FeeRate::LTCUSDT_TAKER;
        let mut a = Account::default();
        // Buy 1000 at 100.00 (10_000 ticks): fee 1000 × 10_000 × 500.
        let f = a.fill(1000, Price(10_000), fee);
        assert_eq!(f.fee, Money(5_000_000_000));
        assert_eq!(a.equity(Price(10_000)), Money(-5_000_000_000));
        assert_eq!(
            a.unrealised(Price(10_100)),
            Money(1000 * 100 * 1_000_000 - 5_000_000_000)
        );
        // Flip to short at 101.00: closes the long (+100 ticks × 1000) paying two fees.
        let f = a.fill(-2000, Price(10_100), fee);
        assert!(f.flip);
        let close_fee = 1000 * 10_100 * 500;
        let want = 1000 * 100 * 1_000_000 - 5_000_000_000 - close_fee;
        assert_eq!(f.closed_trip, Some(Money(want)));
        assert_eq!(a.realised, Money(want));
        assert_eq!(a.position, -1000);
        // Cover at 101.00: the short trip lost exactly its two fees.
        let f = a.fill(1000, Price(10_100), fee);
        assert_eq!(f.closed_trip, Some(Money(-2 * close_fee)));
        assert_eq!(a.equity(Price(1)), a.realised, "flat: equity is realised");
        assert_eq!(
            (a.round_trips, a.wins, a.flips, a.fills, a.volume),
            (2, 1, 1, 3, 4000)
        );
        assert_eq!(a.fees, Money(5_000_000_000 + 3 * close_fee));
    }

    #[test]
    fn fee_text_is_exact_basis_points() {
        let cases: &[(&str, Result<i64, ()>)] = &[
            ("5", Ok(500)),
            ("7.5", Ok(750)),
            ("0.01", Ok(1)),
            ("-2.5", Ok(-250)),
            ("0", Ok(0)),
            (".5", Ok(50)),
            ("0.001", Err(())),
            ("five", Err(())),
            ("", Err(())),
            ("1e3", Err(())),
        ];
        for (text, want) in cases {
            let got = FeeRate::from_bp_text(text)
                .map(FeeRate::ppm)
                .map_err(|_| ());
            assert_eq!(got, *want, "fee {text:?}");
        }
        assert_eq!(FeeRate::from_fraction(0.0005), Some(FeeRate::LTCUSDT_TAKER));
    }
}
