//! Missed ticks: after downtime the next tick reads the backlog of completed candles in order
//! (paging when it is longer than one request) and ends exactly where a tick-by-tick run ends:
//! same core state, same target, same exchange position.

use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::fake_bitmex::Bar;
use maestro_tests::tick_harness::{Harness, find_segment, params, stored_strategy, synthetic_bars};

const SHORT: u32 = 5;
const LONG: u32 = 20;
const READY: usize = LONG as usize;

/// Bars of the synthetic market where a fresh 5/20 model takes its first regime on the 20th bar and then flips an odd
/// number of times within the next `missed` bars (so the backlog moves the target).
fn segment(missed: usize) -> Vec<Bar> {
    let bars = synthetic_bars();
    let len = READY + missed;
    let start = find_segment(SHORT, LONG, &bars, 2000, len, |s| {
        s.first() == Some(&(READY - 1)) && (s.len() - 1) % 2 == 1
    })
    .expect("the synthetic market holds such a stretch");
    bars[start..start + len].to_vec()
}

/// Runs `a` tick by tick and `b` once after `missed` minutes, then compares them.
async fn backlog<S: StateStore>(mut a: Harness<S>, mut b: Harness<S>, missed: usize) {
    let first_a = a.tick_ok().await;
    let first_b = b.tick_ok().await;
    assert_eq!(
        first_a.outcome,
        Outcome::Ordered,
        "ready at once: {first_a:?}"
    );
    assert_eq!(first_a.target, first_b.target);
    for _ in 0..missed {
        a.advance(1);
        a.tick_ok().await;
    }
    b.advance(missed);
    b.fake.clear_requests();
    let caught_up = b.tick_ok().await;
    assert_eq!(
        caught_up.candles, missed,
        "the whole backlog is consumed: {caught_up:?}"
    );
    let pages = b.fake.requests_to("GET", "/trade/bucketed").len();
    assert_eq!(pages, missed.div_ceil(500), "one request per page of 500");

    let ra = a.record().await.expect("a's record").value;
    let rb = b.record().await.expect("b's record").value;
    assert_eq!(
        ra.last_close_ms, rb.last_close_ms,
        "both end at the same candle"
    );
    assert_eq!(
        ra.core, rb.core,
        "in-order consumption leaves the core exactly as tick-by-tick does"
    );
    let target = stored_strategy(&ra).expect("strategy").target_position();
    assert_ne!(target, first_a.target, "the backlog moved the target");
    assert_eq!(caught_up.target, target);
    assert_eq!(a.position(), target);
    assert_eq!(
        b.position(),
        target,
        "the caught-up bot holds the same position"
    );
    assert_eq!(
        b.orders().len(),
        2,
        "one order for the warm-up, one to catch up"
    );
    a.assert_no_duplicate_orders();
    b.assert_no_duplicate_orders();
}

#[tokio::test]
async fn thirty_missed_minutes_dynamo() {
    let bars = segment(30);
    let a = Harness::dynamo("backlog-a", params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::dynamo("backlog-b", params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 30).await;
}

#[tokio::test]
async fn thirty_missed_minutes_file() {
    let bars = segment(30);
    let a = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::file(params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 30).await;
}

/// Longer than one page (500 candles): the tick pages through it.
#[tokio::test]
async fn seven_hundred_missed_minutes_file() {
    let bars = segment(700);
    let a = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::file(params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 700).await;
}

/// An exchange outage (151 minutes between two buckets, 150 never produced, as in April 2021): the
/// averages over the hole are unknowable, so the bot warms up again from the first candle after it, holds its position
/// meanwhile, and then follows a fresh model started at that candle.
async fn outage<S: StateStore>(mut h: Harness<S>, gap_at: usize) {
    let first = h.tick_ok().await;
    assert_eq!(first.outcome, Outcome::Ordered, "{first:?}");
    while h.completed() < gap_at {
        h.advance(1);
        h.tick_ok().await;
    }
    let held = h.position();
    let orders_before = h.orders().len();
    let mut fresh = maestro_tests::tick_harness::Oracle::new(SHORT, LONG, 1000);
    h.advance(1);
    fresh.push(&h.completed_bars()[gap_at]);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::WarmingUp, "{report:?}");
    let bars = h.bars();
    let missing = (bars[gap_at].close_time_ms - bars[gap_at - 1].close_time_ms) / 60_000 - 1;
    assert_eq!(
        missing, 150,
        "the outage of 151 minutes between two buckets"
    );
    assert!(report.note.contains("150 missing candles"), "{report:?}");
    while !fresh.is_ready() {
        assert_eq!(
            h.position(),
            held,
            "the position is held while warming up again"
        );
        assert_eq!(h.orders().len(), orders_before);
        h.advance(1);
        fresh.push(&h.completed_bars()[h.completed() - 1]);
        h.tick_ok().await;
    }
    for _ in 0..10 {
        assert_eq!(
            h.position(),
            fresh.target(),
            "after the outage the fresh model rules"
        );
        h.advance(1);
        fresh.push(&h.completed_bars()[h.completed() - 1]);
        h.tick_ok().await;
    }
    assert_eq!(h.position(), fresh.target());
    h.assert_no_duplicate_orders();
}

/// Bars around the first outage in the April 2021 file, and the index of the first bar after it.
fn outage_bars(test: &str) -> Option<(Vec<Bar>, usize)> {
    let path = maestro_tests::data::data_file(test, "ltcusdt-binance-spot-1m-2021-04-gaps.json")?;
    let bars = maestro_tests::fake_bitmex::load_bars(
        &path,
        maestro_tests::fake_bitmex::SeriesFormat::FreqtradeJson,
        maestro_lambda::exchange::BinSize::M1,
    )
    .expect("the April 2021 file reads");
    let gap = bars
        .windows(2)
        .position(|w| w[1].close_time_ms - w[0].close_time_ms > 60_000)
        .expect("the file holds an outage")
        + 1;
    let start = gap - 40;
    Some((bars[start..gap + 40].to_vec(), 40))
}

/// The synthetic market with an outage cut in like April 2021's first one: 40 bars, 150 missing,
/// 40 bars; and the index of the first bar after it.
fn synthetic_outage_bars() -> (Vec<Bar>, usize) {
    let bars = synthetic_bars();
    let from = 2000;
    let mut cut = bars[from..from + 40].to_vec();
    cut.extend_from_slice(&bars[from + 190..from + 230]);
    (cut, 40)
}

#[tokio::test]
async fn exchange_outage_synthetic_file() {
    let (bars, gap_at) = synthetic_outage_bars();
    outage(
        Harness::file(params(SHORT, LONG), bars, READY).await,
        gap_at,
    )
    .await;
}

#[tokio::test]
async fn exchange_outage_synthetic_dynamo() {
    let (bars, gap_at) = synthetic_outage_bars();
    outage(
        Harness::dynamo("outage-synthetic", params(SHORT, LONG), bars, READY).await,
        gap_at,
    )
    .await;
}

#[tokio::test]
async fn exchange_outage_dynamo() {
    let Some((bars, gap_at)) = outage_bars("exchange_outage_dynamo") else {
        return;
    };
    outage(
        Harness::dynamo("outage", params(SHORT, LONG), bars, READY).await,
        gap_at,
    )
    .await;
}

#[tokio::test]
async fn exchange_outage_file() {
    let Some((bars, gap_at)) = outage_bars("exchange_outage_file") else {
        return;
    };
    outage(
        Harness::file(params(SHORT, LONG), bars, READY).await,
        gap_at,
    )
    .await;
}
