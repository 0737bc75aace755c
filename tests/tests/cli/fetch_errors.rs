//! `maestro fetch` refuses clearly, before touching anything: a bad symbol, time range, option or
//! output path, and a file that is not a download it can continue.

use maestro_cli::fetch::{
    FetchError, FetchOptions, HEADER, NoProgress, RequestRate, fetch_history, iso,
};
use maestro_lambda::exchange::BinSize;
use maestro_tests::fake_bitmex::{Bar, FakeBitmex};
use maestro_tests::market::FakeMarket;
use maestro_tests::scratch::scratch_dir;
use std::path::Path;
use std::time::Duration;

const SYMBOL: &str = "LTCUSDT";
const MIN: i64 = 60_000;

fn options(fake: &FakeBitmex, bars: &[Bar], last: usize, path: &Path) -> FetchOptions {
    let mut opts = FetchOptions::new(
        SYMBOL,
        BinSize::M1,
        bars[0].close_time_ms - MIN,
        bars[last].close_time_ms,
        path,
    );
    opts.base_url = fake.base_url();
    opts.page_size = 100;
    opts.rate = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");
    opts
}

#[tokio::test]
async fn files_that_cannot_be_continued_are_refused_and_left_untouched() {
    let (fake, bars) = synthetic_fake(300).await;
    let scratch = scratch_dir("foreign");
    let dir = scratch.path();
    let good_line = format!(
        "{},{SYMBOL},1,2,0.5,1.5,3,4,,,5,6.0,7.0",
        iso(bars[9].close_time_ms)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("notes.txt", b"my notes\nnot a download\n".to_vec()),
        ("binary.bin", vec![0xff, 0x00, 0x13, 0x37]),
        (
            "garbage-line.csv",
            format!("{HEADER}\n{good_line}\nnot,a,row\n").into_bytes(),
        ),
        (
            "other-symbol.csv",
            format!("{HEADER}\n{}\n", good_line.replace(SYMBOL, "XBTUSD")).into_bytes(),
        ),
        (
            "other-bin.csv",
            format!(
                "{HEADER}\n{}\n",
                good_line.replace(&iso(bars[9].close_time_ms), "2024-01-01T00:10:30.000Z")
            )
            .into_bytes(),
        ),
    ];
    let row_at = |t: &str| good_line.replace(&iso(bars[9].close_time_ms), t);
    let minutes_as_hours = format!(
        "{HEADER}\n{}\n{}\n",
        row_at("2024-01-01T00:59:00.000Z"),
        row_at("2024-01-01T01:00:00.000Z")
    );
    let backwards = format!(
        "{HEADER}\n{}\n{}\n",
        row_at("2024-01-01T00:59:00.000Z"),
        row_at("2024-01-01T00:58:00.000Z")
    );
    let mut cases: Vec<(&str, Vec<u8>, BinSize)> = cases
        .into_iter()
        .map(|(name, content)| (name, content, BinSize::M1))
        .collect();
    cases.push((
        "minutes-as-hours.csv",
        minutes_as_hours.into_bytes(),
        BinSize::H1,
    ));
    cases.push(("backwards.csv", backwards.into_bytes(), BinSize::M1));
    for (name, content, bin) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &content).expect("write");
        let mut opts = options(&fake, &bars, 250, &path);
        opts.bin = bin;
        let err = fetch_history(&opts, &NoProgress).await.expect_err(name);
        assert!(
            matches!(&err, FetchError::CorruptFile { path: p, .. } if *p == path),
            "{name}: got {err:?}"
        );
        assert!(err.to_string().contains("untouched"), "{name}: {err}");
        let why = match name {
            "minutes-as-hours.csv" | "other-bin.csv" => "grid",
            "backwards.csv" => "order",
            _ => "",
        };
        assert!(err.to_string().contains(why), "{name}: {err}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            content,
            "{name} unchanged"
        );
    }
    assert!(
        fake.requests().is_empty(),
        "a file that cannot be continued stops the download before any request"
    );
}

#[tokio::test]
async fn bad_symbol_range_and_path_are_clear_errors() {
    let (fake, bars) = synthetic_fake(300).await;
    let scratch = scratch_dir("errors");
    let dir = scratch.path();
    let path = dir.join("out.csv");

    let mut opts = options(&fake, &bars, 250, &path);
    opts.symbol = "NOSUCH".into();
    let err = fetch_history(&opts, &NoProgress)
        .await
        .expect_err("unknown symbol");
    assert!(
        matches!(&err, FetchError::UnknownSymbol(s) if s == "NOSUCH"),
        "{err:?}"
    );
    assert!(
        !path.exists(),
        "no empty file is left for an unknown symbol"
    );
    assert!(fake.requests_to("GET", "/trade/bucketed").is_empty());

    fake.clear_requests();
    let mut refused: Vec<(String, FetchOptions)> = Vec::new();
    let mut o = options(&fake, &bars, 250, &path);
    o.symbol = "LTC USDT".into();
    refused.push(("symbol with a space".into(), o));
    let mut o = options(&fake, &bars, 250, &path);
    (o.from_ms, o.to_ms) = (o.to_ms, o.from_ms);
    refused.push(("reversed range".into(), o));
    let mut o = options(&fake, &bars, 250, &path);
    o.to_ms = o.from_ms;
    refused.push(("empty range".into(), o));
    let mut o = options(&fake, &bars, 250, &path);
    o.page_size = 501;
    refused.push(("page over 500".into(), o));
    let mut o = options(&fake, &bars, 250, &path);
    o.base_url = "ftp://127.0.0.1/api/v1".into();
    refused.push(("bad base URL".into(), o));
    for (what, o) in refused {
        let err = fetch_history(&o, &NoProgress).await.expect_err(&what);
        assert!(
            matches!(err, FetchError::InvalidOption(_) | FetchError::BadRange(_)),
            "{what}: {err:?}"
        );
        assert!(!path.exists(), "{what}: no file written");
    }
    assert!(fake.requests().is_empty(), "bad options send nothing");

    for (what, target) in [
        ("missing directory", dir.join("no/such/dir/out.csv")),
        ("a directory", dir.to_path_buf()),
    ] {
        let o = options(&fake, &bars, 250, &target);
        let err = fetch_history(&o, &NoProgress).await.expect_err(what);
        assert!(matches!(&err, FetchError::Output { .. }), "{what}: {err:?}");
        assert!(
            err.to_string().contains(&target.display().to_string()),
            "{what}: the message names the path: {err}"
        );
    }
    assert!(
        fake.requests().is_empty(),
        "an unwritable path fails before any request"
    );
}

/// A fake serving `completed` one-minute LTCUSDT buckets (and one more in progress).
async fn synthetic_fake(completed: usize) -> (FakeBitmex, Vec<Bar>) {
    FakeMarket::minutes(completed + 1)
        .prices(|i| 60.0 + i as f64)
        .completed(completed)
        .start()
        .await
}
