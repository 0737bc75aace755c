//! Every shared market data file loads, with the row counts, spans and outages its README states.

use maestro_cli::candles_file::{Format, LoadOptions, Stamp, load, stamp::format_utc};
use maestro_tests::data::data_file;

struct Expect {
    name: &'static str,
    format: Format,
    stamp: Stamp,
    rows: usize,
    bin_ms: i64,
    /// First and last close time (end of bucket), UTC.
    first_close: &'static str,
    last_close: &'static str,
    /// Missing bars per gap, in file order.
    gaps: &'static [u64],
}

const MIN: i64 = 60_000;

const FILES: &[Expect] = &[
    Expect {
        name: "ltcusdt-binance-spot-1m-2021-05.json",
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        rows: 44_447,
        bin_ms: MIN,
        first_close: "2021-05-15 15:25",
        last_close: "2021-06-15 12:11",
        gaps: &[],
    },
    Expect {
        name: "ltcusdt-binance-spot-1m-2021-04-gaps.json",
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        rows: 61_277,
        bin_ms: MIN,
        first_close: "2021-04-02 00:01",
        last_close: "2021-05-14 20:30",
        // The README counts the outages as 151 and 284 minutes between stamps: 150 and 283 bars missing.
        gaps: &[150, 283],
    },
    Expect {
        name: "ltcusdt-binance-spot-1m-2024-12.csv",
        format: Format::Csv,
        stamp: Stamp::Start,
        rows: 43_344,
        bin_ms: MIN,
        first_close: "2024-12-26 17:46",
        last_close: "2025-01-25 20:09",
        gaps: &[],
    },
    Expect {
        name: "btcperp-ftx-1m-2022-01.csv",
        format: Format::Csv,
        stamp: Stamp::Start,
        rows: 45_031,
        bin_ms: MIN,
        first_close: "2021-12-31 23:02",
        last_close: "2022-02-01 05:32",
        gaps: &[],
    },
    Expect {
        name: "xbtusd-bitmex-testnet-1m-2020-05.csv",
        format: Format::Csv,
        stamp: Stamp::End,
        rows: 4_378,
        bin_ms: MIN,
        first_close: "2020-05-29 00:00",
        last_close: "2020-06-01 01:01",
        gaps: &[1, 1, 1, 1],
    },
];

#[test]
fn shared_files_load_as_their_readme_describes() {
    for want in FILES {
        let Some(path) = data_file("shared_files_load_as_their_readme_describes", want.name) else {
            continue;
        };
        let series = load(&path, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{} must load: {e}", want.name));
        let n = series.candles.len();
        assert_eq!(series.format, want.format, "{}: format", want.name);
        assert_eq!(series.stamp, want.stamp, "{}: stamp convention", want.name);
        assert_eq!(n, want.rows, "{}: rows", want.name);
        assert_eq!(series.bin_ms, want.bin_ms, "{}: bar length", want.name);
        assert_eq!(
            format_utc(series.candles[0].close_time_ms),
            want.first_close,
            "{}: first close",
            want.name
        );
        assert_eq!(
            format_utc(series.candles[n - 1].close_time_ms),
            want.last_close,
            "{}: last close",
            want.name
        );
        let gaps: Vec<u64> = series.gaps.iter().map(|g| g.missing).collect();
        assert_eq!(gaps, want.gaps, "{}: missing bars per gap", want.name);
        let spacing_ok = series.candles.windows(2).all(|p| {
            let step = p[1].close_time_ms - p[0].close_time_ms;
            step > 0 && step % series.bin_ms == 0
        });
        assert!(spacing_ok, "{}: close times on the bar grid", want.name);
    }
}
