//! `maestro fetch` on real BitMEX data: the fake serves the shared XBTUSD testnet minute file
//! (`../shared/data`), and the download must hold the same buckets with the same prices.

use maestro_cli::fetch::{FetchOptions, NoProgress, RequestRate, fetch_history};
use maestro_lambda::exchange::BinSize;
use maestro_tests::data::data_file;
use maestro_tests::fake_bitmex::{SeriesFormat, load_bars, parse_time};
use maestro_tests::market::{FakeMarket, xbtusd};
use maestro_tests::scratch::scratch_dir;
use std::time::Duration;

const FILE: &str = "xbtusd-bitmex-testnet-1m-2020-05.csv";

/// (close time, high, low, close) of every data line of a BitMEX-layout CSV.
fn hlc(text: &str) -> Vec<(i64, f64, f64, f64)> {
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| f[k].parse::<f64>().expect("number");
            (parse_time(f[0]).expect("time"), num(3), num(4), num(5))
        })
        .collect()
}

#[tokio::test]
async fn the_real_xbtusd_month_downloads_with_its_prices_unchanged() {
    let Some(source) = data_file(
        "the_real_xbtusd_month_downloads_with_its_prices_unchanged",
        FILE,
    ) else {
        return;
    };
    let bars = load_bars(&source, SeriesFormat::BitmexCsv, BinSize::M1).expect("shared file reads");
    let (fake, bars) = FakeMarket::minutes(0)
        .instrument(xbtusd())
        .bars(bars)
        .start()
        .await;
    let scratch = scratch_dir("fetch-real");
    let dir = scratch.path();
    let first = bars.first().expect("bars").close_time_ms;
    let last = bars.last().expect("bars").close_time_ms;
    let mut opts = FetchOptions::new(
        "XBTUSD",
        BinSize::M1,
        first - 60_000,
        last,
        dir.join("x.csv"),
    );
    opts.base_url = fake.base_url();
    opts.rate = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");

    assert_eq!(
        summary.rows_written, 4378,
        "every minute of the file, its 4 gaps kept as gaps"
    );
    assert_eq!(summary.pages, 9, "500 rows a page");
    let got = std::fs::read_to_string(&opts.output).expect("output");
    let want = std::fs::read_to_string(&source).expect("source");
    assert_eq!(
        got.lines().next(),
        want.lines().next(),
        "the same columns in the same order as the shared BitMEX file"
    );
    assert_eq!(hlc(&got), hlc(&want), "same buckets, same high/low/close");
}
