//! The BitMEX client against the fake BitMEX, one endpoint at a time: what it sends, what it returns.

use maestro_core::{Candle, Price, TickSize};
use maestro_lambda::exchange::{BinSize, Exchange, ExchangeError, OrderRequest, Side};
use maestro_tests::fake_bitmex::{Bar, FakeBitmex, TEST_API_KEY, iso, synthetic};

const SYMBOL: &str = "LTCUSDT";
const TICK: TickSize = TickSize::CENT;
/// 2024-01-01T00:01:00Z: the close of the first bucket.
const FIRST_CLOSE: i64 = 1_704_067_260_000;
const MIN: i64 = 60_000;

/// A fake with `total` one-minute bars of which `completed` are done.
async fn fake_with_bars(total: usize, completed: usize) -> (FakeBitmex, Vec<Bar>) {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let bars = synthetic(FIRST_CLOSE, BinSize::M1, total, |i| {
        100.0 + ((i * 37) % 101) as f64 * 0.07
    });
    fake.set_series(SYMBOL, BinSize::M1, bars.clone(), completed);
    (fake, bars)
}

/// The candle the client must produce for bar `i`: BitMEX's open is the previous close.
fn expected(bars: &[Bar], i: usize) -> Candle {
    let p = |x: f64| Price::from_f64(x, TICK).expect("test prices are valid");
    Candle {
        close_time_ms: bars[i].close_time_ms,
        open: p(if i == 0 {
            bars[0].open
        } else {
            bars[i - 1].close
        }),
        high: p(bars[i].high),
        low: p(bars[i].low),
        close: p(bars[i].close),
    }
}

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
async fn candles_after_pages_forward_from_a_close_time() {
    let (fake, bars) = fake_with_bars(1200, 1000).await;
    let client = fake.client().expect("client");

    let page = client
        .candles_after(SYMBOL, BinSize::M1, TICK, bars[99].close_time_ms, 800)
        .await
        .expect("first page");
    assert_eq!(page.len(), 500, "one request returns at most 500 candles");
    assert_eq!(
        page[0],
        expected(&bars, 100),
        "first candle is the one after the given close"
    );
    assert_eq!(page[499], expected(&bars, 599));

    let sent = fake.requests_to("GET", "/trade/bucketed");
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.param("binSize").as_deref(), Some("1m"));
    assert_eq!(r.param("partial").as_deref(), Some("false"));
    assert_eq!(r.param("symbol").as_deref(), Some(SYMBOL));
    assert_eq!(r.param("count").as_deref(), Some("500"));
    assert_eq!(
        r.param("startTime"),
        Some(iso(bars[99].close_time_ms + 1)),
        "startTime filters on the end-of-bucket stamp, just after the last close held"
    );

    // Page to the end: every completed candle exactly once, none in progress.
    let mut all = page;
    loop {
        let last = all.last().expect("non-empty").close_time_ms;
        let next = client
            .candles_after(SYMBOL, BinSize::M1, TICK, last, 500)
            .await
            .expect("page");
        if next.is_empty() {
            break;
        }
        all.extend(next);
    }
    assert_eq!(all.len(), 900);
    assert_eq!(
        all.last(),
        Some(&expected(&bars, 999)),
        "the bucket in progress is never served"
    );
    assert!(
        all.windows(2)
            .all(|w| w[1].close_time_ms - w[0].close_time_ms == MIN)
    );

    // The market moves on by one bucket: exactly that one arrives.
    fake.advance(SYMBOL, 1);
    let next = client
        .candles_after(SYMBOL, BinSize::M1, TICK, bars[999].close_time_ms, 500)
        .await
        .expect("after advance");
    assert_eq!(next, vec![expected(&bars, 1000)]);
    assert!(
        client
            .candles_after(SYMBOL, BinSize::M1, TICK, 0, 0)
            .await
            .expect("max 0")
            .is_empty(),
        "max = 0 asks for nothing"
    );
}

#[tokio::test]
async fn last_candles_reads_newest_first_and_returns_oldest_first() {
    let (fake, bars) = fake_with_bars(1200, 1000).await;
    let client = fake.client().expect("client");

    let last10 = client
        .last_candles(SYMBOL, BinSize::M1, TICK, 10)
        .await
        .expect("last 10");
    let want: Vec<Candle> = (990..1000).map(|i| expected(&bars, i)).collect();
    assert_eq!(last10, want);
    let r = &fake.requests_to("GET", "/trade/bucketed")[0];
    assert_eq!(r.param("reverse").as_deref(), Some("true"));
    assert_eq!(r.param("count").as_deref(), Some("10"));

    fake.clear_requests();
    let last700 = client
        .last_candles(SYMBOL, BinSize::M1, TICK, 700)
        .await
        .expect("last 700");
    let want: Vec<Candle> = (300..1000).map(|i| expected(&bars, i)).collect();
    assert_eq!(last700, want, "two pages stitched without gap or overlap");
    let sent = fake.requests_to("GET", "/trade/bucketed");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].param("count").as_deref(), Some("200"));
    assert_eq!(
        sent[1].param("endTime"),
        Some(iso(bars[500].close_time_ms - 1))
    );

    let everything = client
        .last_candles(SYMBOL, BinSize::M1, TICK, 5000)
        .await
        .expect("more than exist");
    assert_eq!(
        everything.len(),
        1000,
        "stops when the exchange has no older buckets"
    );
    assert_eq!(everything[0], expected(&bars, 0));
}

#[tokio::test]
async fn public_client_downloads_history_without_credentials() {
    let (fake, bars) = fake_with_bars(1500, 1500).await;
    let client = fake.public_client().expect("public client");
    let mut pages = Vec::new();
    let got = client
        .history(
            SYMBOL,
            BinSize::M1,
            TICK,
            bars[9].close_time_ms,
            bars[1209].close_time_ms,
            |page| pages.push(page.len()),
        )
        .await
        .expect("history");
    let want: Vec<Candle> = (10..=1209).map(|i| expected(&bars, i)).collect();
    assert_eq!(got, want);
    assert_eq!(pages, vec![500, 500, 200]);
    let sent = fake.requests();
    assert!(
        sent.iter().all(|r| r.api_key.is_none()),
        "a public client sends no key"
    );
    assert!(
        sent.iter()
            .all(|r| r.param("endTime") == Some(iso(bars[1209].close_time_ms)))
    );

    let err = client.position(SYMBOL).await.expect_err("private route");
    assert!(matches!(err, ExchangeError::Unauthorized(_)), "{err:?}");
    assert_eq!(
        fake.requests().len(),
        sent.len(),
        "refused without a request"
    );
}

#[tokio::test]
async fn instrument_reads_lot_tick_multipliers_fees_and_state() {
    let (fake, _) = fake_with_bars(10, 5).await;
    let client = fake.client().expect("client");
    let ins = client.instrument(SYMBOL).await.expect("instrument");
    assert_eq!(ins.symbol, SYMBOL);
    assert_eq!(ins.lot_size, 1000);
    assert_eq!(ins.tick_size, TickSize::CENT);
    assert_eq!(ins.multiplier, 100);
    assert_eq!(ins.underlying_to_position_multiplier, Some(10_000.0));
    assert!((ins.taker_fee - 0.0005).abs() < 1e-12);
    assert_eq!(ins.state, "Open");
    assert_eq!(fake.requests()[0].param("symbol").as_deref(), Some(SYMBOL));

    match client.instrument("NOPE").await {
        Err(ExchangeError::Rejected { status: 404, .. }) => {}
        other => panic!("an unlisted symbol is a 404 rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn position_is_signed_and_flat_when_none_is_listed() {
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let (fake, bars) = fake_with_bars(10, 5).await;
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let labels: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .map(|r| (r.label(), r.status))
        .collect();
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
    let (fake, _) = fake_with_bars(10, 5).await;
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
