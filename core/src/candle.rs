//! The candle as the core sees it: a completed bucket stamped with its close time.

use crate::price::Price;
use serde::{Deserialize, Serialize};

/// One completed candle. `close_time_ms` is the END of the bucket in milliseconds since the UNIX
/// epoch (BitMEX's convention); sources that stamp the start convert once, at the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// End of the bucket, ms since the UNIX epoch.
    pub close_time_ms: i64,
    /// First trade price (on BitMEX: the previous bucket's close; may lie outside `[low, high]`).
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price: the value the strategy averages.
    pub close: Price,
}
