//! The fake exchange misbehaves across a run of synthetic candles: 503 storms, 429s and timeouts.
//! Reads are retried inside a tick; an order POST is sent once, so a fault on it fails the tick
//! with the intent saved, and a later tick looks the intent up, finds it never placed and decides
//! afresh. No clOrdID reaches the engine twice, and once the faults stop the position is the
//! model's target.

use maestro_lambda::store::StateStore;
use maestro_tests::fake_bitmex::{Bar, Fault, FaultRule};
use maestro_tests::tick_harness::{Harness, Oracle, find_segment, params, signals, synthetic_bars};
use std::time::Duration;

const SHORT: u32 = 5;
const LONG: u32 = 20;
const READY: usize = LONG as usize;
const LEN: usize = 90;

/// Bars of the synthetic market where a fresh 5/20 model takes its first regime on the 20th bar and flips at least
/// twice afterwards, the flips at least 8 minutes apart and the first one 4 or more minutes after
/// the start. Returns the bars and the two flip minutes (completed counts).
fn segment() -> (Vec<Bar>, usize, usize) {
    let bars = synthetic_bars();
    let start = find_segment(SHORT, LONG, &bars, 5000, LEN, |s| {
        s.len() >= 3 && s[0] == READY - 1 && s[1] >= READY + 4 && s[2] >= s[1] + 8 && s[2] + 4 < LEN
    })
    .expect("the synthetic market holds such a stretch");
    let s = signals(SHORT, LONG, &bars, start, LEN);
    (bars[start..start + LEN].to_vec(), s[1] + 1, s[2] + 1)
}

fn on(fault: Fault, times: u32, method: &str, route: &str) -> FaultRule {
    FaultRule::new(fault).times(times).on(method, route)
}

/// What the faults at a minute should do to its tick.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The client's retries absorb them.
    Absorbed,
    /// The tick fails; a later one recovers.
    Fails,
}

async fn faulty_run<S: StateStore>(mut h: Harness<S>, flip1: usize, flip2: usize) {
    let overloaded = Fault::Overloaded;
    let hang = Fault::Hang(Duration::from_millis(450));
    let limited = Fault::RateLimited { retry_after_s: 1 };
    // (minute, faults, expected effect on that minute's tick)
    let plan: Vec<(usize, Vec<FaultRule>, Expect)> = vec![
        // An order answered 503 is not resent: the tick fails with its intent saved, and the
        // next minute's tick settles it as never placed and sends the first regime's order.
        (
            READY,
            vec![on(overloaded.clone(), 1, "POST", "/order")],
            Expect::Fails,
        ),
        (
            READY + 1,
            vec![on(limited, 1, "GET", "/trade/bucketed")],
            Expect::Absorbed,
        ),
        (
            READY + 2,
            vec![on(hang.clone(), 2, "GET", "/position")],
            Expect::Absorbed,
        ),
        // A timed-out order POST: unknown fate, looked up once, the tick fails.
        (flip1, vec![on(hang, 1, "POST", "/order")], Expect::Fails),
        // A storm on every route outlasts two ticks' retries.
        (
            flip1 + 2,
            vec![FaultRule::new(overloaded.clone()).times(12)],
            Expect::Fails,
        ),
        (flip1 + 3, vec![], Expect::Fails),
        (
            flip2,
            vec![on(overloaded, 1, "POST", "/order")],
            Expect::Fails,
        ),
    ];
    let mut oracle = Oracle::new(SHORT, LONG, 1000);
    for bar in h.completed_bars() {
        oracle.push(bar);
    }
    let mut failed = 0;
    loop {
        let planned = plan.iter().find(|(m, _, _)| *m == h.completed());
        if h.completed() == flip1 + 4 {
            h.fake.clear_faults(); // the storm ends
        }
        for rule in planned.map(|(_, r, _)| r.clone()).unwrap_or_default() {
            h.fake.inject(rule);
        }
        let result = h.tick().await;
        h.assert_no_duplicate_orders();
        match (planned.map(|p| p.2), &result) {
            (Some(Expect::Fails), Err(e)) => {
                assert!(e.is_retryable(), "a fault is retryable: {e}");
                failed += 1;
            }
            (Some(Expect::Fails), Ok(r)) => {
                panic!("minute {}: expected a failure, got {r:?}", h.completed())
            }
            (_, Err(e)) => panic!("minute {}: the client should absorb it: {e}", h.completed()),
            (_, Ok(report)) => {
                assert_eq!(
                    h.position(),
                    oracle.target(),
                    "on target at minute {}: {report:?}",
                    h.completed()
                );
                let stored = h.record().await.expect("record");
                assert_eq!(stored.value.pending, None, "no intent left behind");
            }
        }
        if h.completed() == h.bars().len() {
            break;
        }
        h.advance(1);
        oracle.push(&h.completed_bars()[h.completed() - 1]);
    }
    assert_eq!(failed, 5, "the planned failures happened");
    let faulted = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(faulted >= 10, "{faulted} requests met a fault");
    assert_eq!(
        h.fake.executed_position("LTCUSDT"),
        h.position(),
        "the journal explains the position"
    );
    let orders = h.orders();
    assert!(
        orders.len() >= 3,
        "first regime and two flips at least: {orders:#?}"
    );
    assert_eq!(h.position(), oracle.target());
}

#[tokio::test]
async fn fault_storms_across_a_run_dynamo() {
    let (bars, f1, f2) = segment();
    faulty_run(
        Harness::dynamo("storms", params(SHORT, LONG), bars, READY).await,
        f1,
        f2,
    )
    .await;
}

#[tokio::test]
async fn fault_storms_across_a_run_file() {
    let (bars, f1, f2) = segment();
    faulty_run(
        Harness::file(params(SHORT, LONG), bars, READY).await,
        f1,
        f2,
    )
    .await;
}

/// A store that stops answering cannot hold the tick past its deadline: the call is abandoned at
/// the deadline and the tick fails as the store being unavailable, long before the store's own
/// timeouts (none here) would end it.
#[tokio::test]
async fn a_hung_store_call_ends_at_the_ticks_deadline() {
    use maestro_lambda::store::{DynamoStore, StoreError};
    use maestro_lambda::tick::{NoFailpoints, Tick, TickError};
    use maestro_tests::dynamo::{config_builder, fresh_table, shared_server};
    use maestro_tests::store_proxy::{Fault as StoreFault, StoreProxy};
    use std::time::Instant;

    let (bars, _, _) = segment();
    let h = Harness::file(params(SHORT, LONG), bars, READY).await;
    let table = fresh_table("hung-store").await;
    let proxy = StoreProxy::start(shared_server().addr());
    proxy.set_hang(Duration::from_secs(10));
    proxy.inject(Some("GetItem"), StoreFault::Hang, 1);
    let client = aws_sdk_dynamodb::Client::from_conf(config_builder(&proxy.endpoint()).build());
    let store = DynamoStore::new(client, table.table.clone());
    let started = Instant::now();
    let tick = Tick {
        exchange: &h.bot.client,
        store: &store,
        instrument: &h.bot.instrument,
        now_ms: h.now_ms(),
        deadline: started + Duration::from_millis(300),
        failpoints: &NoFailpoints,
    };
    let result = tick.run(&h.bot.id, &h.bot.params).await;
    let took = started.elapsed();
    match result {
        Err(TickError::Store(StoreError::Unavailable(why))) => {
            assert!(why.contains("time budget"), "{why}");
        }
        other => panic!("expected the store to be reported unavailable, got {other:?}"),
    }
    assert!(took < Duration::from_secs(3), "the tick took {took:?}");
    assert_eq!(proxy.faults_fired(), 1);
}

/// Orders that never reach the book do not count toward the breaker's hourly limit: 40 attempts
/// in 27 minutes, each answered 503 and settled as never placed, leave the bot trading (the limit
/// on 1-minute bars is 30 an hour), and once the exchange answers, one order is counted.
#[tokio::test]
async fn orders_that_never_reached_the_book_do_not_trip_the_breaker() {
    use maestro_lambda::exchange::BinSize;
    use maestro_lambda::tick::{NoFailpoints, Outcome, TickError};
    use maestro_tests::fake_bitmex::synthetic;
    use maestro_tests::market::FIRST_CLOSE;
    // A steady rise: the bot wants to be long as soon as it is warm.
    let bars = synthetic(FIRST_CLOSE, BinSize::M1, READY, |i| 70.0 + i as f64 * 0.1);
    let h = Harness::file(params(SHORT, LONG), bars, READY).await;
    let start = h.now_ms();
    for attempt in 0..40 {
        h.fake.inject(on(Fault::Overloaded, 1, "POST", "/order"));
        let at = start + attempt * 40_000;
        match h.bot.tick_at(at, &NoFailpoints).await {
            Err(TickError::Exchange(e)) => assert!(e.is_retryable(), "{e}"),
            other => panic!("attempt {attempt}: expected the 503 to fail the tick, got {other:?}"),
        }
    }
    assert_eq!(h.fake.requests_to("POST", "/order").len(), 40);
    assert_eq!(h.position(), 0, "nothing was booked");
    let report = h
        .bot
        .tick_at(start + 40 * 40_000, &NoFailpoints)
        .await
        .expect("the exchange answers again");
    assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
    assert_ne!(h.position(), 0);
    let record = h.record().await.expect("record").value;
    assert_eq!(
        record.sent.len(),
        1,
        "only the placed order counts: {:?}",
        record.sent
    );
    assert!(record.stopped.is_none());
}
