//! Missed ticks: after downtime the next tick reads the backlog of completed candles in order
//! (paging when it is longer than one request) and ends exactly where a tick-by-tick run ends:
//! same core state, same target, same exchange position.

use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::fake_bitmex::Bar;
use maestro_tests::tick_harness::{Harness, find_segment, params, real_bars, stored_strategy};

const SHORT: u32 = 5;
const LONG: u32 = 20;
const READY: usize = LONG as usize;

/// Real bars where a fresh 5/20 model takes its first regime on the 20th bar and then flips an odd
/// number of times within the next `missed` bars (so the backlog moves the target).
fn segment(test: &str, missed: usize) -> Option<Vec<Bar>> {
    let bars = real_bars(test)?;
    let len = READY + missed;
    let start = find_segment(SHORT, LONG, &bars, 2000, len, |s| {
        s.first() == Some(&(READY - 1)) && (s.len() - 1) % 2 == 1
    })
    .expect("the real data holds such a stretch");
    Some(bars[start..start + len].to_vec())
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
        ra.snapshot, rb.snapshot,
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
    let Some(bars) = segment("thirty_missed_minutes_dynamo", 30) else {
        return;
    };
    let a = Harness::dynamo("backlog-a", params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::dynamo("backlog-b", params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 30).await;
}

#[tokio::test]
async fn thirty_missed_minutes_file() {
    let Some(bars) = segment("thirty_missed_minutes_file", 30) else {
        return;
    };
    let a = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::file(params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 30).await;
}

/// Longer than one page (500 candles): the tick pages through it.
#[tokio::test]
async fn seven_hundred_missed_minutes_file() {
    let Some(bars) = segment("seven_hundred_missed_minutes_file", 700) else {
        return;
    };
    let a = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
    let b = Harness::file(params(SHORT, LONG), bars, READY).await;
    backlog(a, b, 700).await;
}
