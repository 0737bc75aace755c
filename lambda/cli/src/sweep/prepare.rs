//! What a sweep works out once before any pair runs: where the gaps cut the series, and whether
//! every figure of the plain loops fits `i64`.

use super::SweepError;
use crate::candles_file::CandleSeries;

/// The gap-free stretches `[start, end)`: where the core would answer `Gap`, the strategy restarts.
pub(super) fn stretches(series: &CandleSeries) -> Result<Vec<(usize, usize)>, SweepError> {
    let mut out = Vec::with_capacity(series.gaps.len() + 1);
    let mut start = 0;
    for (i, pair) in series.candles.windows(2).enumerate() {
        let step = pair[1].close_time_ms - pair[0].close_time_ms;
        if step == series.bin_ms {
            continue;
        }
        if step <= 0 || series.bin_ms <= 0 || step % series.bin_ms != 0 {
            return Err(SweepError::OffGrid { index: i + 1 });
        }
        out.push((start, i + 1));
        start = i + 1;
    }
    out.push((start, series.candles.len()));
    Ok(out)
}

/// Whether every intermediate of the kernel stays inside `i64` for this data.
///
/// The plain crossover's cross products are at most `max_close × short × long` (with guards on,
/// the core compares the means itself, exactly). For money: the equity at
/// any close is `Σ position × Δclose × SCALE − fees`, so its size is at most
/// `q × SCALE × total_variation + fees`, with fees at most `n × 2q × max_close × |ppm|`; cash is
/// the equity minus the position's value (`q × max_close × SCALE`), and every other amount the
/// kernel forms (a fill's notional, a round trip's profit, peak minus equity) is within a small
/// multiple of those. A factor 8 of headroom covers the sums of two such amounts.
pub(super) fn fits_i64(closes: &[i64], pairs: &[(u32, u32)], q: i64, fee_ppm: i64) -> bool {
    let max_close = i128::from(closes.iter().copied().max().unwrap_or(0));
    let variation: i128 = closes
        .windows(2)
        .map(|w| i128::from(w[1].abs_diff(w[0])))
        .sum();
    let max_long = pairs.iter().map(|p| i128::from(p.1)).max().unwrap_or(0);
    let q = i128::from(q);
    let scale = 1_000_000i128;
    let cross = max_close * max_long * max_long;
    let fees = closes.len() as i128 * 2 * q * max_close * i128::from(fee_ppm.unsigned_abs());
    let money =
        q * scale * (variation + max_close) + fees + 2 * q * max_close * (scale + 1_000_000);
    let limit = i128::from(i64::MAX / 8);
    cross < limit && money < limit
}
