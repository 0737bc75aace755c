//! The runner's one wall clock. Everything below the binaries takes time as an argument (`now_ms`),
//! so tests pin it; only the binaries and the local loops read it, here.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current UNIX time in milliseconds (a clock before 1970 reads as 0).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
