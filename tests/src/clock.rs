//! The wall clock as the tests use it: now in milliseconds or seconds, and minute alignment.
//!
//! The product takes time as an argument (the caller owns the clock); tests are that caller.

/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// Milliseconds since the Unix epoch, from the same clock the product's binaries read.
pub fn now_ms() -> i64 {
    maestro_lambda::clock::now_ms()
}

/// Whole seconds since the Unix epoch.
pub fn now_s() -> i64 {
    now_ms().div_euclid(1000)
}

/// The start of the minute holding `ms` (the close time of the last completed one-minute bucket
/// when `ms` is now).
pub fn minute_floor(ms: i64) -> i64 {
    ms - ms.rem_euclid(MINUTE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_floor_keeps_the_minute_and_drops_the_rest() {
        for (ms, floor) in [
            (0, 0),
            (59_999, 0),
            (60_000, 60_000),
            (1_704_067_260_001, 1_704_067_260_000),
            (-1, -60_000),
        ] {
            assert_eq!(minute_floor(ms), floor, "minute_floor({ms})");
        }
    }

    #[test]
    fn seconds_and_milliseconds_tell_the_same_time() {
        let (ms, s) = (now_ms(), now_s());
        assert!((s - ms / 1000).abs() <= 1, "{s} s vs {ms} ms");
        assert!(ms > 1_700_000_000_000, "a clock after 2023: {ms}");
    }
}
