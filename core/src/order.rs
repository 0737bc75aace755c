//! The order the core plans: side, quantity in contracts, and whether it only reduces the position.

use crate::num::div_rem;
use serde::{Deserialize, Serialize};

/// Order side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// BitMEX's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "Buy",
            Side::Sell => "Sell",
        }
    }
}

/// A market order that moves the current position to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// Side.
    pub side: Side,
    /// Quantity in contracts: positive, a multiple of the lot size.
    pub qty: u64,
    /// The order only closes (part of) the position and never opens the other side.
    pub reduce_only: bool,
}

impl Order {
    /// The market order that moves a position of `current` contracts towards `target` in whole
    /// lots of `lot_size`, or `None` when less than one lot separates them.
    ///
    /// The rule of [`Strategy::plan_order`](crate::Strategy::plan_order), for callers that keep
    /// the target themselves (backtests, sweeps): the quantity is `|target − current|` rounded
    /// down to the lot size, so the order never overshoots the target; `reduce_only` is set when
    /// the order only shrinks the current position without crossing zero. Exact for any two
    /// positions; a lot size of 0 allows no order.
    ///
    /// ```
    /// use maestro_core::{Order, Side};
    /// let flip = Order::towards(-1000, 1000, 1000);
    /// assert_eq!(flip, Some(Order { side: Side::Buy, qty: 2000, reduce_only: false }));
    /// assert_eq!(Order::towards(0, 1500, 1000).map(|o| o.qty), Some(1000)); // never overshoots
    /// assert_eq!(Order::towards(1000, 0, 1000).map(|o| o.reduce_only), Some(true));
    /// assert_eq!(Order::towards(0, 999, 1000), None); // less than a lot away
    /// ```
    pub fn towards(current: i64, target: i64, lot_size: u64) -> Option<Order> {
        let diff = i128::from(target) - i128::from(current);
        // Two i64 are less than 2^64 apart.
        let dist = diff.unsigned_abs() as u64;
        let qty = dist - div_rem(dist, lot_size).1;
        if qty == 0 {
            return None;
        }
        let side = if diff > 0 { Side::Buy } else { Side::Sell };
        let reduce_only = match side {
            Side::Buy => current < 0 && qty <= current.unsigned_abs(),
            Side::Sell => current > 0 && qty <= current.unsigned_abs(),
        };
        Some(Order {
            side,
            qty,
            reduce_only,
        })
    }

    /// The change of position the order makes: `+qty` for a buy, `−qty` for a sell. Exact for
    /// every quantity, hence `i128`.
    ///
    /// ```
    /// use maestro_core::{Order, Side};
    /// let sell = Order { side: Side::Sell, qty: 2000, reduce_only: false };
    /// assert_eq!(sell.delta(), -2000);
    /// assert_eq!(Order { side: Side::Buy, ..sell }.delta(), 2000);
    /// ```
    pub const fn delta(self) -> i128 {
        match self.side {
            Side::Buy => self.qty as i128,
            Side::Sell => -(self.qty as i128),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(side: Side, qty: u64, reduce_only: bool) -> Option<Order> {
        Some(Order {
            side,
            qty,
            reduce_only,
        })
    }

    #[test]
    fn towards_rounds_down_to_whole_lots_and_marks_reductions() {
        use Side::{Buy, Sell};
        let cases: &[(i64, i64, u64, Option<Order>)] = &[
            (0, 1000, 1000, o(Buy, 1000, false)),
            (0, -1000, 1000, o(Sell, 1000, false)),
            (1000, -1000, 1000, o(Sell, 2000, false)),
            (-1000, 1000, 1000, o(Buy, 2000, false)),
            (1000, 1000, 1000, None),
            (0, 0, 1000, None),
            // Rounded down, never past the target.
            (0, 1999, 1000, o(Buy, 1000, false)),
            (0, -1999, 1000, o(Sell, 1000, false)),
            (0, 999, 1000, None),
            (0, -999, 1000, None),
            // Shrinking without crossing zero is reduce-only, up to exactly closing.
            (3000, 1000, 1000, o(Sell, 2000, true)),
            (3000, 0, 1000, o(Sell, 3000, true)),
            (-3000, 0, 1000, o(Buy, 3000, true)),
            (-3000, -1000, 1000, o(Buy, 2000, true)),
            // One lot past zero is not.
            (3000, -1000, 1000, o(Sell, 4000, false)),
            (-3000, 1000, 1000, o(Buy, 4000, false)),
            // An odd position closes only whole lots, still reduce-only.
            (2500, 0, 1000, o(Sell, 2000, true)),
            (-2500, 0, 1000, o(Buy, 2000, true)),
            // A lot of 1, and a lot of 0 (no order).
            (0, 7, 1, o(Buy, 7, false)),
            (0, 7, 0, None),
            // The extremes: exact, no overflow.
            (i64::MIN, i64::MAX, 1, o(Buy, u64::MAX, false)),
            (i64::MAX, i64::MIN, 1, o(Sell, u64::MAX, false)),
            (i64::MIN, 0, 1, o(Buy, 1 << 63, true)),
            (i64::MAX, 0, u64::MAX, None),
        ];
        for &(current, target, lot, want) in cases {
            assert_eq!(
                Order::towards(current, target, lot),
                want,
                "from {current} to {target} in lots of {lot}"
            );
        }
    }

    #[test]
    fn delta_is_signed_by_side_and_exact() {
        let order = |side, qty| Order {
            side,
            qty,
            reduce_only: false,
        };
        assert_eq!(order(Side::Buy, 1000).delta(), 1000);
        assert_eq!(order(Side::Sell, 1000).delta(), -1000);
        assert_eq!(order(Side::Buy, u64::MAX).delta(), i128::from(u64::MAX));
        assert_eq!(order(Side::Sell, u64::MAX).delta(), -i128::from(u64::MAX));
        assert_eq!(order(Side::Sell, 0).delta(), 0);
    }
}
