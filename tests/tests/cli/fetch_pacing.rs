//! `maestro fetch` keeps to BitMEX's rate limit: the configured rate (retries included), the
//! `x-ratelimit-*` headers, and a 429's `Retry-After`. Timing is checked as lower bounds only, on
//! the arrival times the fake recorded.

use maestro_cli::fetch::{FetchOptions, NoProgress, RequestRate, fetch_history, iso};
use maestro_lambda::exchange::BinSize;
use maestro_tests::fake_bitmex::{Bar, FakeBitmex, Fault, FaultRule, RecordedRequest};
use maestro_tests::market::FakeMarket;
use maestro_tests::scratch::scratch_dir;
use std::path::Path;
use std::time::Duration;

const SYMBOL: &str = "LTCUSDT";
const MIN: i64 = 60_000;

/// All completed bars, 50 a page, at `rate`, into `dir`.
fn options(fake: &FakeBitmex, bars: &[Bar], rate: RequestRate, dir: &Path) -> FetchOptions {
    let mut opts = FetchOptions::new(
        SYMBOL,
        BinSize::M1,
        bars[0].close_time_ms - MIN,
        bars[bars.len() - 2].close_time_ms,
        dir.join("out.csv"),
    );
    opts.base_url = fake.base_url();
    opts.page_size = 50;
    opts.rate = rate;
    opts
}

fn rows_in(opts: &FetchOptions) -> usize {
    std::fs::read_to_string(&opts.output)
        .expect("output")
        .lines()
        .count()
        - 1
}

/// The most requests that arrived within any window of `per`.
fn busiest_window(requests: &[RecordedRequest], per: Duration) -> usize {
    requests
        .iter()
        .map(|first| {
            requests
                .iter()
                .filter(|r| r.at >= first.at && r.at.duration_since(first.at) < per)
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn gaps(requests: &[RecordedRequest]) -> Vec<Duration> {
    requests
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect()
}

#[tokio::test]
async fn requests_keep_to_the_configured_rate_retries_included() {
    let (fake, bars) = synthetic_fake(600).await;
    let rate = RequestRate::new(5, Duration::from_millis(500)).expect("rate");
    let scratch = scratch_dir("rate");
    let opts = options(&fake, &bars, rate, scratch.path());
    // Two overloaded answers: the client's own retries must keep the pace too.
    fake.inject(
        FaultRule::new(Fault::Overloaded)
            .times(2)
            .on("GET", "/trade/bucketed"),
    );

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");

    assert!(summary.complete);
    assert_eq!(rows_in(&opts), 600);
    let sent = fake.requests();
    assert_eq!(
        sent.len(),
        1 + 2 + 12,
        "the instrument, two refused attempts, twelve pages"
    );
    let busiest = busiest_window(&sent, rate.per());
    assert!(
        busiest <= 5,
        "at most 5 requests in any 500 ms, saw {busiest}"
    );
    for (i, gap) in gaps(&sent).iter().enumerate() {
        assert!(
            *gap >= rate.interval(),
            "request {} came {gap:?} after the previous one, under the {:?} interval",
            i + 1,
            rate.interval()
        );
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let (fake, bars) = synthetic_fake(120).await;
    let fast = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");
    let scratch = scratch_dir("retry-after");
    let opts = options(&fake, &bars, fast, scratch.path());
    fake.inject(
        FaultRule::new(Fault::RateLimited { retry_after_s: 1 }).on("GET", "/trade/bucketed"),
    );

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");

    assert!(summary.complete);
    assert_eq!(rows_in(&opts), 120, "nothing lost to the 429");
    let sent = fake.requests_to("GET", "/trade/bucketed");
    assert_eq!(sent[0].status, 429);
    assert_eq!(sent[1].status, 200);
    assert_eq!(
        sent[1].param("startTime"),
        Some(iso(opts.from_ms + 1)),
        "the same page is asked for again"
    );
    let waited = sent[1].at.duration_since(sent[0].at);
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was honoured, the retry came after {waited:?}"
    );
}

#[tokio::test]
async fn an_empty_bucket_at_the_exchange_is_waited_out() {
    let (fake, bars) = synthetic_fake(120).await;
    let fast = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");
    let scratch = scratch_dir("empty-bucket");
    let opts = options(&fake, &bars, fast, scratch.path());
    fake.set_rate_tokens(0);

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");

    assert!(summary.complete);
    assert_eq!(rows_in(&opts), 120);
    let sent = fake.requests();
    assert_eq!(sent[0].status, 429, "the fake's own bucket was empty");
    assert!(
        sent[1..].iter().all(|r| r.status == 200),
        "after waiting, nothing more is refused"
    );
    assert!(sent[1].at.duration_since(sent[0].at) >= Duration::from_secs(1));
}

#[tokio::test]
async fn rate_limit_headers_slow_the_download_below_the_configured_rate() {
    let (fake, bars) = synthetic_fake(300).await;
    let fast = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");
    let scratch = scratch_dir("headers");
    let opts = options(&fake, &bars, fast, scratch.path());
    // BitMEX says: 30 a minute, none left, full again in 3 s: one request per token's refill time
    // (at least 2 s / 30 ≈ 66 ms), whatever the configured rate allows.
    fake.report_rate_limit(Some((30, 0, 3)));

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");

    assert!(summary.complete);
    assert_eq!(rows_in(&opts), 300);
    let sent = fake.requests();
    assert_eq!(sent.len(), 1 + 6);
    for (i, gap) in gaps(&sent).iter().enumerate() {
        assert!(
            *gap >= Duration::from_millis(60),
            "request {} came {gap:?} after the previous one although the headers said the bucket was empty",
            i + 1
        );
    }
}

/// A fake serving `completed` one-minute LTCUSDT buckets (and one more in progress).
async fn synthetic_fake(completed: usize) -> (FakeBitmex, Vec<Bar>) {
    FakeMarket::minutes(completed + 1)
        .prices(|i| 50.0 + (i % 17) as f64 * 0.25)
        .completed(completed)
        .start()
        .await
}
