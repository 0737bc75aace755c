//! `DynamoStore` end to end through a fault-injecting proxy in front of moto ([`StoreProxy`]): what
//! the adapter, and the SDK retries under it, make of throttling, 500s, hangs and lost answers; and
//! that a writer that reloads after every error never loses, repeats or rewinds a save.
//!
//! The store has production's SDK configuration with every duration divided by [`TIME_SCALE`]:
//! standard retries (3 attempts, jittered backoff from 100 ms), attempt timeout 300 ms, operation
//! timeout 1 s. What the SDK does with each fault, here and with production's durations alike:
//! - throttling and 500s are retried: one is absorbed; one per attempt surfaces as `Unavailable`,
//!   and nothing reaches the table;
//! - a hung attempt is abandoned at the attempt timeout and retried; when every attempt hangs, the
//!   operation timeout ends the call with `Unavailable` (in production at 10 s: three 3 s attempts
//!   and their backoffs do not fit, so the third is cut short);
//! - a lost answer is retried like any 500, so the write is sent again: a conditional save's retry
//!   fails on its own write (`Conflict`), a recorded order is written again over the same item.

use crate::suite::record;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use maestro_lambda::exchange::Side;
use maestro_lambda::store::dynamo::timeouts;
use maestro_lambda::store::{BotRecord, DynamoStore, OrderLog, StateStore, StoreError, Versioned};
use maestro_tests::dynamo;
use maestro_tests::store_proxy::{
    Fault, ProxiedTable, Seen, StoreProxy, TIME_SCALE, proxied_table, scaled_retries,
    scaled_timeouts,
};
use std::time::{Duration, Instant};

/// Attempts the SDK makes per call.
fn attempts() -> u32 {
    scaled_retries().max_attempts()
}

/// The record as it really is in the table, read past the proxy.
async fn stored(t: &ProxiedTable, bot_id: &str) -> Versioned<BotRecord> {
    t.direct
        .store
        .load(&maestro_tests::bot_id(bot_id))
        .await
        .expect("direct load")
        .expect("record present")
}

fn is_unavailable<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(e @ StoreError::Unavailable(_)) if e.is_retryable())
}

/// Everything the fault tests say about the SDK holds for production only if the proxied store is
/// production's configuration: the one `from_sdk_config` builds, durations divided by TIME_SCALE.
#[tokio::test]
async fn the_proxied_store_is_the_production_configuration_time_scaled() {
    let t = proxied_table("config").await;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(dynamo::shared_server().endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let production = DynamoStore::from_sdk_config(&sdk, t.direct.table.clone());
    let production = production.client().config();
    let proxied = t.store.client().config();

    let standard = RetryConfig::standard();
    assert_eq!(
        production.retry_config(),
        Some(&standard),
        "production retries (is AWS_MAX_ATTEMPTS or AWS_RETRY_MODE set?)"
    );
    assert_eq!(standard.max_attempts(), 3, "the SDK's standard mode");
    let retry = proxied.retry_config().expect("proxied store retries");
    assert_eq!(retry, &scaled_retries());
    assert_eq!(
        (retry.mode(), retry.max_attempts()),
        (standard.mode(), standard.max_attempts()),
        "the same attempts"
    );
    assert_eq!(
        [retry.initial_backoff(), retry.max_backoff()].map(|d| d * TIME_SCALE),
        [standard.initial_backoff(), standard.max_backoff()],
        "backoff divided by {TIME_SCALE}"
    );

    assert_eq!(production.timeout_config(), Some(&timeouts()));
    let scaled = proxied.timeout_config().expect("proxied store timeouts");
    assert_eq!(scaled, &scaled_timeouts());
    let durations = |c: &TimeoutConfig| {
        [
            c.connect_timeout(),
            c.read_timeout(),
            c.operation_attempt_timeout(),
            c.operation_timeout(),
        ]
    };
    assert_eq!(
        durations(scaled).map(|d| d.map(|d| d * TIME_SCALE)),
        durations(&timeouts()),
        "every timeout divided by {TIME_SCALE}"
    );
}

/// As many throttles or 500s as the SDK makes attempts: `Unavailable`, no request reached the table.
#[tokio::test]
async fn throttles_or_500s_past_the_sdk_retries_are_unavailable_and_change_nothing() {
    let t = proxied_table("past-retries").await;
    for (bot, fault) in [
        ("throttled", Fault::Throttle),
        ("errored", Fault::ServerError),
    ] {
        t.direct
            .store
            .save(&record(bot, "v1"), None)
            .await
            .expect("v1");
        let fired = t.proxy.faults_fired();
        t.proxy.inject(Some("PutItem"), fault, attempts());
        let save = t.store.save(&record(bot, "v2"), Some(1)).await;
        assert!(is_unavailable(&save), "{fault:?}: got {save:?}");
        assert_eq!(
            t.proxy.faults_fired() - fired,
            attempts(),
            "{fault:?}: one fault per SDK attempt, then the SDK gives up"
        );
        let now = stored(&t, bot).await;
        assert_eq!(
            (now.version, now.value),
            (1, record(bot, "v1")),
            "{fault:?}: record changed"
        );
    }
    assert_eq!(
        t.proxy.forwarded(),
        0,
        "a faulted request reached the table"
    );
}

/// One throttle, 500 or hung attempt: the SDK retries it and the save succeeds as if nothing
/// happened.
#[tokio::test]
async fn one_fault_is_absorbed_by_an_sdk_retry() {
    let t = proxied_table("absorbed").await;
    for (bot, fault) in [
        ("throttled", Fault::Throttle),
        ("errored", Fault::ServerError),
        ("hung", Fault::Hang),
    ] {
        t.direct
            .store
            .save(&record(bot, "v1"), None)
            .await
            .expect("v1");
        let (fired, forwarded) = (t.proxy.faults_fired(), t.proxy.forwarded());
        t.proxy.inject(Some("PutItem"), fault, 1);
        let save = t.store.save(&record(bot, "v2"), Some(1)).await;
        assert!(matches!(save, Ok(2)), "{fault:?}: got {save:?}");
        assert_eq!(t.proxy.faults_fired() - fired, 1, "{fault:?}: fault fired");
        assert_eq!(
            t.proxy.forwarded() - forwarded,
            1,
            "{fault:?}: only the retry reached the table"
        );
        let now = stored(&t, bot).await;
        assert_eq!(
            (now.version, now.value),
            (2, record(bot, "v2")),
            "{fault:?}"
        );
    }
}

/// Every attempt hangs: the store's own timeouts end the call with `Unavailable` while the proxy
/// still holds the requests, and none of them reached the table.
#[tokio::test]
async fn a_hung_store_is_unavailable_within_its_timeouts_and_changes_nothing() {
    let t = proxied_table("hung").await;
    // Far past the operation timeout: if the store waited for an answer, it would wait this long.
    let hang = Duration::from_secs(5);
    t.proxy.set_hang(hang);
    t.direct
        .store
        .save(&record("bot", "v1"), None)
        .await
        .expect("v1");
    t.proxy.inject(Some("PutItem"), Fault::Hang, attempts());
    let started = Instant::now();
    let save = t.store.save(&record("bot", "v2"), Some(1)).await;
    let took = started.elapsed();
    assert!(is_unavailable(&save), "got {save:?}");
    assert!(
        took < hang && t.proxy.in_flight() > 0,
        "the store must give up by its own timeouts, not wait for the proxy (took {took:?})"
    );
    // Measured: all three attempts start within the 1 s operation timeout, which cuts the third.
    assert!(
        (2..=attempts()).contains(&t.proxy.faults_fired()),
        "a timed-out attempt is retried: {} hung attempts",
        t.proxy.faults_fired()
    );
    assert_eq!(t.proxy.forwarded(), 0, "a hung request reached the table");
    let now = stored(&t, "bot").await;
    assert_eq!((now.version, now.value), (1, record("bot", "v1")));
}

/// A conditional save that landed but whose answer was lost: the caller gets an error, the table
/// holds the new version, and saving again on the old version conflicts instead of writing twice.
#[tokio::test]
async fn a_lost_answer_to_a_save_lands_once_and_a_retry_conflicts() {
    let t = proxied_table("lost-save").await;
    // Lost once: the SDK's retry sends the save again and it fails on its own write's version.
    // Lost on every attempt: the SDK gives up on the 500s.
    let cases = [
        ("once", 1, "Conflict"),
        ("always", attempts(), "Unavailable"),
    ];
    for (bot, lost, want) in cases {
        t.direct
            .store
            .save(&record(bot, "v1"), None)
            .await
            .expect("v1");
        let forwarded = t.proxy.forwarded();
        t.proxy.inject(Some("PutItem"), Fault::LostAnswer, lost);
        let save = t.store.save(&record(bot, "v2"), Some(1)).await;
        let got = match &save {
            Err(StoreError::Conflict {
                expected: Some(1), ..
            }) => "Conflict",
            e if is_unavailable(e) => "Unavailable",
            _ => "something else",
        };
        assert_eq!(got, want, "answer lost {bot}: got {save:?}");
        assert_eq!(
            t.proxy.forwarded() - forwarded,
            attempts().min(lost + 1),
            "answer lost {bot}: every attempt reached the table"
        );
        let now = stored(&t, bot).await;
        assert_eq!(
            (now.version, &now.value),
            (2, &record(bot, "v2")),
            "answer lost {bot}: the first attempt landed, and only it"
        );

        let again = t.store.save(&record(bot, "v2"), Some(1)).await;
        assert!(
            matches!(again, Err(StoreError::Conflict { .. })),
            "answer lost {bot}: saving again on version 1 gave {again:?}"
        );
        assert_eq!(stored(&t, bot).await.version, 2, "answer lost {bot}");
    }
}

/// Recording an order is idempotent, so a lost answer costs nothing: the SDK's retries and the
/// caller's retry write the same item again, and the bot has one order.
#[tokio::test]
async fn a_lost_answer_to_record_order_is_harmless_to_retry() {
    let t = proxied_table("lost-order").await;
    let order = |bot: &str| OrderLog {
        decided_at_ms: 1_620_000_060_000,
        recorded_at_ms: 1_620_000_061_000,
        cl_ord_id: format!("{bot}-1620000060000-p1000"),
        side: Side::Buy,
        qty: 1000,
        order_id: Some("oid-1".to_owned()),
        status: "Filled".to_owned(),
        avg_price: Some(182.37),
        filled_qty: Some(1000),
    };
    let now_s = 1_620_000_100;
    for (bot, lost) in [("once", 1), ("always", attempts())] {
        let forwarded = t.proxy.forwarded();
        t.proxy.inject(Some("PutItem"), Fault::LostAnswer, lost);
        let first = t
            .store
            .record_order(&maestro_tests::bot_id(bot), &order(bot))
            .await;
        if lost < attempts() {
            assert!(
                first.is_ok(),
                "lost {bot}: the SDK's retry succeeds: {first:?}"
            );
        } else {
            assert!(is_unavailable(&first), "lost {bot}: got {first:?}");
            t.store
                .record_order(&maestro_tests::bot_id(bot), &order(bot))
                .await
                .expect("the caller's retry");
        }
        assert_eq!(
            t.proxy.forwarded() - forwarded,
            lost + 1,
            "lost {bot}: every write reached the table"
        );
        let orders = t
            .direct
            .store
            .recent_orders(&maestro_tests::bot_id(bot), 10, now_s)
            .await
            .expect("list");
        assert_eq!(orders, vec![order(bot)], "lost {bot}: one order, as sent");
    }
}

/// Sends `n` requests one after the other, cycling through four operations, and returns what the
/// proxy saw.
async fn drive(proxy: &StoreProxy, n: usize) -> Vec<Seen> {
    let http = reqwest::Client::new();
    let ops = ["GetItem", "PutItem", "Query", "TransactWriteItems"];
    for op in ops.iter().cycle().take(n) {
        // moto refuses the empty request; only the order of requests matters here.
        http.post(proxy.endpoint())
            .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body("{}")
            .send()
            .await
            .expect("the proxy answers");
    }
    proxy.seen()
}

/// The random mode draws once per request: the same seed fires the same faults at the same
/// requests. Raw requests, not the store, drive it: the SDK's retries depend on timing, the draws
/// only on the order of requests.
#[tokio::test]
async fn random_faults_follow_the_seed() {
    let moto = dynamo::shared_server().addr();
    let proxies = [
        StoreProxy::start(moto),
        StoreProxy::start(moto),
        StoreProxy::start(moto),
    ];
    for (proxy, seed) in proxies.iter().zip([7, 7, 8]) {
        proxy.set_hang(Duration::from_millis(5));
        proxy.random(seed, 300);
    }
    let [a, b, c] = &proxies;
    let (a, b, c) = tokio::join!(drive(a, 80), drive(b, 80), drive(c, 80));
    assert_eq!(a, b, "seed 7 twice");
    assert_ne!(a, c, "seeds 7 and 8");
    for fault in Fault::ALL {
        assert!(
            a.iter().any(|s| s.fault == Some(fault)),
            "seed 7 never fired {fault:?}"
        );
    }
    let faulted = a.iter().filter(|s| s.fault.is_some()).count();
    assert!(
        (12..=40).contains(&faulted),
        "300 per mille of 80 requests, got {faulted}"
    );
    let reached = a
        .iter()
        .filter(|s| s.fault.is_none_or(Fault::forwards))
        .count();
    assert_eq!(
        proxies[0].forwarded() as usize,
        reached,
        "exactly the unfaulted and lost-answer requests reach moto"
    );
}

/// A writer that reloads after every error, under random faults on every request: the version it
/// sees never goes backwards, every save it was told succeeded is in the table as saved, and a save
/// it was told failed landed at most once (a lost answer) and is then what the table holds.
#[tokio::test]
async fn a_writer_under_random_faults_never_loses_repeats_or_rewinds_a_save() {
    let t = proxied_table("random-writer").await;
    t.proxy.random(0x5EED, 150);
    let (mut known, mut succeeded, mut landed_anyway, mut failed) = (0, 0, 0, 0);
    for i in 0..100 {
        let attempt = record("bot", &format!("save {i}"));
        match t.store.save(&attempt, (known > 0).then_some(known)).await {
            Ok(version) => {
                assert_eq!(version, known + 1, "save {i}");
                let now = stored(&t, "bot").await;
                assert_eq!(
                    (now.version, &now.value),
                    (version, &attempt),
                    "save {i} succeeded but the table holds something else"
                );
                known = version;
                succeeded += 1;
            }
            Err(e) => {
                assert!(e.is_retryable(), "save {i}: {e}");
                failed += 1;
                let now = reload(&t.store, "bot").await;
                assert!(
                    now.version >= known,
                    "save {i}: version went back to {}",
                    now.version
                );
                assert!(now.version <= known + 1, "save {i} landed more than once");
                if now.version == known + 1 {
                    assert_eq!(now.value, attempt, "save {i}: a version nobody saved");
                    landed_anyway += 1;
                }
                known = now.version;
            }
        }
    }
    assert_eq!(stored(&t, "bot").await.version, known);
    assert_eq!(
        known,
        succeeded + landed_anyway,
        "every version is one save"
    );
    assert!(
        failed > 0 && landed_anyway > 0,
        "the faults must fail some saves for this test to mean anything \
         ({failed} failed, {landed_anyway} of them landed)"
    );
}

/// Loads through the faulty proxy until a load gets through.
async fn reload(store: &DynamoStore, bot_id: &str) -> Versioned<BotRecord> {
    for _ in 0..20 {
        match store.load(&maestro_tests::bot_id(bot_id)).await {
            Ok(Some(record)) => return record,
            Ok(None) => panic!("{bot_id} vanished"),
            Err(e) => assert!(e.is_retryable(), "load: {e}"),
        }
    }
    panic!("20 loads of {bot_id} in a row failed")
}
