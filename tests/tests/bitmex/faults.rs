//! The BitMEX client under every fault the fake can inject: what it retried, how long it waited
//! (lower bounds only), what it returned, and that no fault ever produced a second order.

use maestro_core::TickSize;
use maestro_lambda::bitmex::{ApiSecret, BitmexClient, Credentials};
use maestro_lambda::exchange::{BinSize, Exchange, ExchangeError, OrderRequest, Side};
use maestro_tests::fake_bitmex::{FakeBitmex, Fault, FaultRule, TEST_API_KEY, synthetic};
use std::time::{Duration, Instant};

const SYMBOL: &str = "LTCUSDT";
const TICK: TickSize = TickSize::CENT;

async fn setup() -> (FakeBitmex, BitmexClient) {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let bars = synthetic(1_704_067_260_000, BinSize::M1, 50, |i| {
        70.0 + i as f64 * 0.03
    });
    fake.set_series(SYMBOL, BinSize::M1, bars, 40);
    let client = fake.client().expect("client");
    (fake, client)
}

fn buy(id: &str) -> OrderRequest {
    OrderRequest {
        symbol: SYMBOL.into(),
        side: Side::Buy,
        qty: 1000,
        cl_ord_id: id.into(),
        reduce_only: false,
        close: false,
    }
}

/// Exactly one order per clOrdID and the position it implies: the invariant no fault may break.
fn assert_single_order(fake: &FakeBitmex, id: &str, position: i64) {
    assert_eq!(
        fake.orders_with_cl_ord_id(id),
        1,
        "exactly one order for {id}"
    );
    assert_eq!(fake.orders(SYMBOL).len(), 1, "no other order appeared");
    assert_eq!(fake.position(SYMBOL), position, "the position moved once");
}

#[tokio::test]
async fn overload_503_is_retried_after_at_least_500_ms() {
    let (fake, client) = setup().await;
    fake.inject(
        FaultRule::new(Fault::Overloaded)
            .times(2)
            .on("GET", "/trade/bucketed"),
    );
    let start = Instant::now();
    let candles = client
        .last_candles(SYMBOL, BinSize::M1, TICK, 5)
        .await
        .expect("third attempt succeeds");
    assert!(
        start.elapsed() >= Duration::from_millis(1000),
        "two waits of >= 500 ms"
    );
    assert_eq!(candles.len(), 5);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 503, 200]);
}

#[tokio::test]
async fn an_overloaded_order_post_is_sent_once_looked_up_and_left_unknown() {
    let (fake, client) = setup().await;
    fake.inject(
        FaultRule::new(Fault::Overloaded)
            .times(2)
            .on("POST", "/order"),
    );
    let err = client
        .place_order(&buy("cm-503"))
        .await
        .expect_err("the fate is unknown to the client");
    assert!(err.is_retryable(), "{err:?}");
    let labels = fake.request_log();
    assert_eq!(
        labels,
        vec![
            ("POST /order".to_owned(), 503),
            ("GET /order".to_owned(), 200),
        ],
        "sent once, then looked up: a resend could execute twice where ids are freed"
    );
    assert!(fake.orders(SYMBOL).is_empty(), "nothing was booked");
    assert_eq!(fake.position(SYMBOL), 0);
}

#[tokio::test]
async fn order_executed_then_answered_503_is_found_not_duplicated() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::ExecuteThenOverloaded).on("POST", "/order"));
    let placed = client.place_order(&buy("cm-503x")).await.expect("resolved");
    assert_eq!(placed.cl_ord_id, "cm-503x");
    let labels = fake.request_log();
    assert_eq!(
        labels,
        vec![
            ("POST /order".to_owned(), 503),
            ("GET /order".to_owned(), 200),
        ]
    );
    assert_single_order(&fake, "cm-503x", 1000);
}

#[tokio::test]
async fn order_executed_but_response_dropped_is_found_not_duplicated() {
    let (fake, client) = setup().await;
    // The fake holds the answer far past the client's 300 ms timeout.
    fake.inject(
        FaultRule::new(Fault::ExecuteThenDrop(Duration::from_secs(3))).on("POST", "/order"),
    );
    let start = Instant::now();
    let placed = client.place_order(&buy("cm-drop")).await.expect("resolved");
    assert!(start.elapsed() >= client.config().request_timeout);
    assert_eq!(
        (placed.cl_ord_id.as_str(), placed.filled_qty),
        ("cm-drop", 1000)
    );
    assert_eq!(
        fake.requests_to("POST", "/order").len(),
        1,
        "timed out once, never resent"
    );
    assert_eq!(
        fake.requests_to("GET", "/order").len(),
        1,
        "then looked it up"
    );
    assert_single_order(&fake, "cm-drop", 1000);
}

#[tokio::test]
async fn rate_limited_429_waits_for_retry_after() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::RateLimited { retry_after_s: 1 }).on("GET", "/position"));
    let start = Instant::now();
    assert_eq!(client.position(SYMBOL).await.expect("second attempt"), 0);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(fake.requests_to("GET", "/position").len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_gives_up_at_once() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::RateLimited { retry_after_s: 30 }));
    let bounded = client.with_deadline(Instant::now() + Duration::from_secs(1));
    let err = bounded
        .position(SYMBOL)
        .await
        .expect_err("no time to wait 30 s");
    assert!(matches!(err, ExchangeError::BudgetExhausted(_)), "{err:?}");
    assert!(err.is_retryable(), "the tick may try again next minute");
    assert_eq!(fake.requests().len(), 1, "no request after giving up");
}

#[tokio::test]
async fn the_real_bucket_running_dry_is_a_429_the_client_waits_out() {
    let (fake, client) = setup().await;
    fake.set_rate_tokens(0);
    let start = Instant::now();
    client.instrument(SYMBOL).await.expect("after the refill");
    assert!(start.elapsed() >= Duration::from_secs(1));
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[tokio::test]
async fn the_client_slows_down_when_few_requests_remain() {
    let (fake, client) = setup().await;
    // A 3-request bucket with 1 left, full again in 2 s: a token comes back every 0.5-1 s (the
    // reset is in whole seconds), and the client waits for one before its next request.
    fake.report_rate_limit(Some((3, 1, 2)));
    client.position(SYMBOL).await.expect("first");
    assert_eq!(client.rate_limit().map(|r| r.remaining), Some(1));
    let start = Instant::now();
    client.position(SYMBOL).await.expect("second, later");
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "paused one token's refill time, took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_hang_past_the_timeout_is_retried_for_idempotent_requests() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Hang(Duration::from_secs(3))).on("GET", "/instrument"));
    let start = Instant::now();
    let ins = client.instrument(SYMBOL).await.expect("second attempt");
    assert!(start.elapsed() >= client.config().request_timeout);
    assert_eq!(ins.lot_size, 1000);
    assert_eq!(fake.requests_to("GET", "/instrument").len(), 2);
}

#[tokio::test]
async fn hangs_until_the_deadline_exhaust_the_budget() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Hang(Duration::from_secs(3))).times(100));
    let bounded = client.with_deadline(Instant::now() + Duration::from_millis(800));
    let start = Instant::now();
    let err = bounded
        .cancel_all(SYMBOL)
        .await
        .expect_err("never answered");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "kept trying inside the budget"
    );
    let n = fake.requests().len();
    assert!(
        (2..=5).contains(&n),
        "retried within max_attempts, made {n} requests"
    );
}

#[tokio::test]
async fn a_hung_order_post_is_not_resent() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Hang(Duration::from_secs(3))).on("POST", "/order"));
    let err = client
        .place_order(&buy("cm-hang"))
        .await
        .expect_err("a hung POST has an unknown fate");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(fake.requests_to("POST", "/order").len(), 1, "never resent");
    assert_eq!(fake.requests_to("GET", "/order").len(), 1, "looked up once");
    assert_eq!(fake.position(SYMBOL), fake.executed_position(SYMBOL));
}

#[tokio::test]
async fn a_malformed_body_is_an_error_not_a_retry_or_a_panic() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::MalformedBody).on("GET", "/trade/bucketed"));
    let err = client
        .last_candles(SYMBOL, BinSize::M1, TICK, 5)
        .await
        .expect_err("malformed");
    assert!(matches!(err, ExchangeError::Malformed(_)), "{err:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn an_order_with_an_unreadable_answer_is_looked_up() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::MalformedBody).on("POST", "/order"));
    let placed = client
        .place_order(&buy("cm-garbled"))
        .await
        .expect("found by clOrdID");
    assert_eq!(
        (placed.cl_ord_id.as_str(), placed.filled_qty),
        ("cm-garbled", 1000)
    );
    let labels: Vec<String> = fake.requests().iter().map(|r| r.label()).collect();
    assert_eq!(
        labels,
        vec!["POST /order", "GET /order"],
        "not resent: the 200 means it was taken"
    );
    assert_single_order(&fake, "cm-garbled", 1000);

    // If even the look-up is unreadable, the error says so; the caller's re-POST of the same
    // clOrdID later resolves it as a duplicate.
    fake.inject(FaultRule::new(Fault::MalformedBody).times(2));
    let err = client
        .place_order(&buy("cm-garbled-2"))
        .await
        .expect_err("unreadable twice");
    assert!(matches!(err, ExchangeError::Malformed(_)), "{err:?}");
    client
        .place_order(&buy("cm-garbled-2"))
        .await
        .expect("duplicate resolves it");
    assert_eq!(fake.orders_with_cl_ord_id("cm-garbled-2"), 1);
    assert_eq!(fake.position(SYMBOL), 2000);
}

#[tokio::test]
async fn a_deadline_already_past_sends_nothing() {
    let (fake, client) = setup().await;
    let late = client.with_deadline(Instant::now());
    let err = late
        .place_order(&buy("cm-late"))
        .await
        .expect_err("no time");
    assert!(matches!(err, ExchangeError::BudgetExhausted(_)), "{err:?}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn unauthorized_401_is_never_retried() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Unauthorized).times(5));
    let err = client.position(SYMBOL).await.expect_err("401");
    assert!(matches!(err, ExchangeError::Unauthorized(_)), "{err:?}");
    assert!(!err.is_retryable());
    let err = client.place_order(&buy("cm-401")).await.expect_err("401");
    assert!(matches!(err, ExchangeError::Unauthorized(_)), "{err:?}");
    assert_eq!(fake.requests().len(), 2, "one request each, no retry");
    assert_eq!(fake.orders_with_cl_ord_id("cm-401"), 0);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_signature_check() {
    let (fake, _) = setup().await;
    let wrong = BitmexClient::new(
        fake.client_config(),
        Credentials::new(TEST_API_KEY, ApiSecret::new("not-the-secret")),
    )
    .expect("client");
    assert!(
        !format!("{wrong:?}").contains("not-the-secret"),
        "Debug hides the secret"
    );
    match wrong.position(SYMBOL).await {
        Err(ExchangeError::Unauthorized(message)) => {
            assert!(message.contains("Signature not valid"), "{message}");
            assert!(
                !message.contains("not-the-secret"),
                "the secret never shows"
            );
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn permanent_refusals_are_not_retried_and_keep_bitmex_s_message() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Status(
        403,
        "Forbidden: key lacks order permission".into(),
    )));
    match client.cancel_all(SYMBOL).await {
        Err(ExchangeError::Rejected {
            status: 403,
            message,
            name,
        }) => {
            assert!(message.contains("order permission"), "{message}");
            assert_eq!(name, "HTTPError");
        }
        other => panic!("expected a 403 rejection, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_up_to_max_attempts() {
    let (fake, client) = setup().await;
    fake.inject(FaultRule::new(Fault::Status(502, "Bad Gateway".into())).times(100));
    let err = client
        .cancel_all_after(60_000)
        .await
        .expect_err("always 502");
    assert!(matches!(err, ExchangeError::Retryable(_)), "{err:?}");
    assert_eq!(
        fake.requests().len(),
        client.config().max_attempts as usize,
        "stops at max_attempts"
    );
}

#[tokio::test]
async fn delete_is_retried_after_overload() {
    let (fake, client) = setup().await;
    fake.add_resting_order(SYMBOL, "Buy", 1000, 60.0);
    fake.inject(FaultRule::new(Fault::Overloaded).on("DELETE", "/order/all"));
    let start = Instant::now();
    assert_eq!(client.cancel_all(SYMBOL).await.expect("second attempt"), 1);
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert_eq!(fake.requests_to("DELETE", "/order/all").len(), 2);
}
