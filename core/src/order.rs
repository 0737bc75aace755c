//! The order the core plans: side, quantity in contracts, and whether it only reduces the position.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_spelt_as_bitmex_spells_them() {
        assert_eq!([Side::Buy, Side::Sell].map(Side::as_str), ["Buy", "Sell"]);
    }
}
