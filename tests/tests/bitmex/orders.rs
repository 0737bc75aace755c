//! The BitMEX client's account and order calls against the fake BitMEX: position, market orders,
//! duplicates, look-up, cancel-all, the dead-man's switch, rate-limit headers.

use maestro_lambda::exchange::{Exchange, ExchangeError, OrderRequest, Side};
use maestro_tests::fake_bitmex::TEST_API_KEY;
use maestro_tests::market::FakeMarket;

const SYMBOL: &str = "LTCUSDT";

fn order(side: Side, qty: u64, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: SYMBOL.into(),
        side,
        qty,
        cl_ord_id: id.into(),
        reduce_only: false,
        close: false,
    }
}

#[tokio::test]
async fn position_is_signed_and_flat_when_none_is_listed() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    assert_eq!(
        client.position(SYMBOL).await.expect("flat"),
        0,
        "no row = flat"
    );
    let r = &fake.requests_to("GET", "/position")[0];
    assert_eq!(
        r.param("filter").as_deref(),
        Some(r#"{"symbol":"LTCUSDT"}"#)
    );
    assert_eq!(r.api_key.as_deref(), Some(TEST_API_KEY));

    fake.set_position(SYMBOL, -3000); // a hand trade on the website
    assert_eq!(client.position(SYMBOL).await.expect("short"), -3000);
    fake.set_position("XBTUSD", 700);
    assert_eq!(
        client
            .position(SYMBOL)
            .await
            .expect("other symbols ignored"),
        -3000
    );
}

#[tokio::test]
async fn market_orders_fill_at_the_close_and_move_the_position() {
    let (fake, bars) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");

    let placed = client
        .place_order(&order(Side::Buy, 2000, "cm-open-1"))
        .await
        .expect("buy");
    assert_eq!(
        (placed.side, placed.qty, placed.filled_qty),
        (Side::Buy, 2000, 2000)
    );
    assert_eq!(placed.status, "Filled");
    assert_eq!(placed.cl_ord_id, "cm-open-1");
    assert_eq!(placed.avg_price, Some(bars[4].close));
    assert_eq!(fake.position(SYMBOL), 2000);
    let body = &fake.requests_to("POST", "/order")[0];
    assert_eq!(
        body.param("ordType").as_deref(),
        Some("Market"),
        "Market is explicit"
    );
    assert_eq!(body.param("orderQty").as_deref(), Some("2000"));
    assert_eq!(body.param("execInst"), None);

    let mut reduce = order(Side::Sell, 1000, "cm-reduce-1");
    reduce.reduce_only = true;
    client.place_order(&reduce).await.expect("reduce");
    assert_eq!(fake.position(SYMBOL), 1000);
    assert_eq!(
        fake.requests_to("POST", "/order")[1]
            .param("execInst")
            .as_deref(),
        Some("ReduceOnly")
    );

    let mut close = order(Side::Sell, 0, "cm-close-1");
    close.close = true;
    let closed = client.place_order(&close).await.expect("close");
    assert_eq!(closed.filled_qty, 1000);
    assert_eq!(fake.position(SYMBOL), 0);
    let sent = &fake.requests_to("POST", "/order")[2];
    assert_eq!(sent.param("execInst").as_deref(), Some("Close"));
    assert_eq!(sent.param("orderQty"), None, "Close sends no quantity");

    // ReduceOnly never opens a position: the exchange cancels it.
    let mut wrong = order(Side::Sell, 1000, "cm-reduce-2");
    wrong.reduce_only = true;
    let cancelled = client.place_order(&wrong).await.expect("answered");
    assert_eq!(
        (cancelled.status.as_str(), cancelled.filled_qty),
        ("Canceled", 0)
    );
    assert_eq!(fake.position(SYMBOL), 0);

    // Off-lot quantities are refused by the exchange with its message.
    match client
        .place_order(&order(Side::Buy, 1500, "cm-bad-lot"))
        .await
    {
        Err(ExchangeError::Rejected {
            status: 400,
            message,
            ..
        }) => {
            assert!(message.contains("lot size"), "{message}");
        }
        other => panic!("expected a 400 rejection, got {other:?}"),
    }
    assert_eq!(fake.orders_with_cl_ord_id("cm-bad-lot"), 0);
}

#[tokio::test]
async fn reduce_only_and_close_never_flip_a_position_changed_by_hand() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    client
        .place_order(&order(Side::Buy, 3000, "cm-long"))
        .await
        .expect("open long");
    fake.set_position(SYMBOL, 1000); // someone sold 2000 by hand on the website

    let mut reduce = order(Side::Sell, 3000, "cm-reduce-all");
    reduce.reduce_only = true;
    let capped = client.place_order(&reduce).await.expect("answered");
    assert_eq!(capped.filled_qty, 1000, "capped at the position");
    assert_eq!(fake.position(SYMBOL), 0, "flat, not short");

    let mut close = order(Side::Sell, 0, "cm-close-flat");
    close.close = true;
    let nothing = client.place_order(&close).await.expect("answered");
    assert_eq!(
        (nothing.status.as_str(), nothing.filled_qty),
        ("Canceled", 0)
    );
    assert_eq!(fake.position(SYMBOL), 0);
}

#[tokio::test]
async fn a_reused_cl_ord_id_is_resolved_to_the_existing_order() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    let first = client
        .place_order(&order(Side::Buy, 1000, "cm-dup"))
        .await
        .expect("first");
    let again = client
        .place_order(&order(Side::Buy, 1000, "cm-dup"))
        .await
        .expect("a duplicate is success, not an error");
    assert_eq!(again.order_id, first.order_id);
    assert_eq!(fake.orders_with_cl_ord_id("cm-dup"), 1);
    assert_eq!(fake.position(SYMBOL), 1000, "no second fill");
    let labels = fake.request_log();
    assert_eq!(
        labels,
        vec![
            ("POST /order".to_owned(), 200),
            ("POST /order".to_owned(), 400),
            ("GET /order".to_owned(), 200),
        ]
    );
    assert_eq!(
        fake.requests()[2].param("filter").as_deref(),
        Some(r#"{"clOrdID":"cm-dup"}"#)
    );
}

#[tokio::test]
async fn order_look_up_by_cl_ord_id() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    assert_eq!(
        client
            .order_by_cl_ord_id(SYMBOL, "cm-x")
            .await
            .expect("none"),
        None
    );
    let placed = client
        .place_order(&order(Side::Sell, 3000, "cm-x"))
        .await
        .expect("sell");
    client
        .place_order(&order(Side::Buy, 1000, "cm-y"))
        .await
        .expect("buy");
    let found = client
        .order_by_cl_ord_id(SYMBOL, "cm-x")
        .await
        .expect("look-up")
        .expect("found");
    assert_eq!(found, placed);
}

#[tokio::test]
async fn cancel_all_cancels_only_the_symbol() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    fake.add_resting_order(SYMBOL, "Buy", 1000, 90.0);
    fake.add_resting_order(SYMBOL, "Sell", 1000, 120.0);
    fake.add_resting_order("XBTUSD", "Buy", 100, 9000.0);
    assert_eq!(client.cancel_all(SYMBOL).await.expect("cancel"), 2);
    assert!(fake.open_orders(SYMBOL).is_empty());
    assert_eq!(fake.open_orders("XBTUSD").len(), 1);
    let r = &fake.requests_to("DELETE", "/order/all")[0];
    assert_eq!(r.param("symbol").as_deref(), Some(SYMBOL));
    assert_eq!(client.cancel_all(SYMBOL).await.expect("nothing left"), 0);
}

#[tokio::test]
async fn dead_mans_switch_arms_disarms_and_fires() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    client.cancel_all_after(60_000).await.expect("arm");
    assert_eq!(fake.dead_mans_switch().map(|d| d.timeout_ms), Some(60_000));
    assert_eq!(
        fake.requests_to("POST", "/order/cancelAllAfter")[0]
            .param("timeout")
            .as_deref(),
        Some("60000")
    );
    client.cancel_all_after(0).await.expect("disarm");
    assert_eq!(fake.dead_mans_switch(), None);

    fake.add_resting_order(SYMBOL, "Buy", 1000, 90.0);
    client.cancel_all_after(100).await.expect("arm short");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        fake.open_orders(SYMBOL).is_empty(),
        "the switch cancelled the open order"
    );
    assert_eq!(fake.dead_mans_fired(), 1);
}

#[tokio::test]
async fn rate_limit_headers_are_exposed() {
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
    let client = fake.client().expect("client");
    assert_eq!(
        client.rate_limit(),
        None,
        "nothing known before the first answer"
    );
    client.position(SYMBOL).await.expect("position");
    let rl = client.rate_limit().expect("read from the answer");
    assert_eq!(rl.limit, Some(120));
    assert!(
        rl.remaining < 120,
        "one request was taken from the bucket: {rl:?}"
    );

    // Clones share the state: the tick's deadline-bound clone reports to the same place.
    fake.report_rate_limit(Some((120, 42, 30)));
    let bounded =
        client.with_deadline(std::time::Instant::now() + std::time::Duration::from_secs(2));
    bounded.position(SYMBOL).await.expect("position");
    let shared = client.rate_limit().expect("shared");
    assert_eq!((shared.limit, shared.remaining), (Some(120), 42));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    assert!(
        (now + 29..=now + 30).contains(&shared.reset_unix_s),
        "reset {shared:?} vs now {now}"
    );
}
