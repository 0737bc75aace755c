use super::*;
use maestro_core::Price;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// The simulated exchange never waits, so one poll finishes every call.
fn now<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("SimExchange must never be pending"),
    }
}

const MIN: i64 = 60_000;

fn candles(closes: &[i64]) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| Candle {
            close_time_ms: MIN * (i as i64 + 1),
            open: Price(c),
            high: Price(c + 5),
            low: Price(c - 5),
            close: Price(c),
        })
        .collect()
}

fn order(id: &str, side: Side, qty: u64) -> OrderRequest {
    OrderRequest {
        symbol: "LTCUSDT".into(),
        side,
        qty,
        cl_ord_id: id.into(),
        reduce_only: false,
        close: false,
    }
}

fn sim() -> SimExchange {
    SimExchange::new(ltcusdt(), MIN, candles(&[10_000, 10_100, 10_200, 10_050]))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn candles_appear_as_the_clock_advances() {
    let x = sim();
    let sym = "LTCUSDT";
    x.advance_to(2 * MIN + 30_000);
    let got = now(x.candles_after(sym, BinSize::M1, TickSize::CENT, 0, 10));
    assert_eq!(
        got.ok().map(|c| c.len()),
        Some(2),
        "two candles closed by 2.5 min"
    );
    let got = now(x.candles_after(sym, BinSize::M1, TickSize::CENT, MIN, 10));
    assert_eq!(got.ok().map(|c| c[0].close_time_ms), Some(2 * MIN));
    x.advance_to(MIN); // never backwards
    assert_eq!(x.now_ms(), 2 * MIN + 30_000);
    assert!(now(x.candles_after(sym, BinSize::M5, TickSize::CENT, 0, 10)).is_err());
    assert!(now(x.position("XBTUSD")).is_err());
}

#[test]
fn market_orders_fill_at_the_current_close_with_the_taker_fee() {
    let x = sim();
    assert!(
        now(x.place_order(&order("a", Side::Buy, 1000))).is_err(),
        "no candle yet"
    );
    x.advance_to(MIN);
    let placed = now(x.place_order(&order("a", Side::Buy, 1000))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (placed.status.as_str(), placed.filled_qty),
        ("Filled", 1000)
    );
    assert_eq!(placed.avg_price, Some(100.0));
    // Same clOrdID again: the existing order, no second fill.
    let again = now(x.place_order(&order("a", Side::Buy, 1000))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, placed);
    assert_eq!(now(x.position("LTCUSDT")).ok(), Some(1000));
    x.advance_to(3 * MIN);
    let flip = now(x.place_order(&order("b", Side::Sell, 2000))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flip.avg_price, Some(102.0));
    let acct = x.account();
    assert_eq!(acct.position, -1000);
    let fee = |qty: i128, px: i128| qty * px * 500;
    assert_eq!(acct.fees.0, fee(1000, 10_000) + fee(2000, 10_200));
    // Long 1000 from 100.00 to 102.00 = 200 ticks × 1000 contracts, minus both fees.
    let trip = 200 * 1000 * Money::SCALE - fee(1000, 10_000) - fee(1000, 10_200);
    assert_eq!(acct.realised.0, trip);
    assert_eq!(acct.flips, 1);
    assert_eq!(
        now(x.order_by_cl_ord_id("LTCUSDT", "b"))
            .ok()
            .flatten()
            .map(|o| o.qty),
        Some(2000)
    );
    assert!(now(x.order_by_cl_ord_id("LTCUSDT", "zz")).is_ok_and(|o| o.is_none()));
}

#[test]
fn lot_size_reduce_only_and_close_follow_bitmex() {
    let x = sim();
    x.advance_to(MIN);
    assert!(
        now(x.place_order(&order("odd", Side::Buy, 1500))).is_err(),
        "not a lot multiple"
    );
    let mut ro = order("ro", Side::Sell, 1000);
    ro.reduce_only = true;
    let got = now(x.place_order(&ro)).map(|o| o.status);
    assert_eq!(got.ok().as_deref(), Some("Canceled"), "nothing to reduce");
    let _ = now(x.place_order(&order("open", Side::Buy, 3000)));
    let mut close = order("close", Side::Sell, 0);
    close.close = true;
    let got = now(x.place_order(&close)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.filled_qty, 3000);
    assert_eq!(x.account().position, 0);
    assert_eq!(x.fills().len(), 2);
}

#[test]
fn ltcusdt_contract_tick_is_one_usdt_millionth() {
    assert!((contract_tick_value(&ltcusdt()) - 1e-6).abs() < 1e-18);
}

#[test]
fn the_bot_s_orders_are_listed_by_prefix_and_time_and_cancels_touch_only_known_ids() {
    let x = sim();
    let sym = "LTCUSDT";
    x.advance_to(MIN);
    assert!(now(x.place_order(&order("bot-a-1", Side::Buy, 1000))).is_ok());
    x.advance_to(2 * MIN);
    assert!(now(x.place_order(&order("hand-1", Side::Buy, 1000))).is_ok());
    x.advance_to(3 * MIN);
    assert!(now(x.place_order(&order("bot-a-2", Side::Sell, 2000))).is_ok());
    let ids = |v: ExchangeResult<Vec<PlacedOrder>>| -> Vec<String> {
        v.map(|os| os.into_iter().map(|o| o.cl_ord_id).collect())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        ids(now(x.orders_since(sym, "bot-a-", 0, 10))),
        ["bot-a-1", "bot-a-2"],
        "prefix match, oldest first"
    );
    assert_eq!(
        ids(now(x.orders_since(sym, "bot-a-", 2 * MIN, 10))),
        ["bot-a-2"]
    );
    assert_eq!(
        ids(now(x.orders_since(sym, "", 0, 2))),
        ["hand-1", "bot-a-2"],
        "the newest `max`"
    );
    let listed = now(x.orders_since(sym, "bot-a-2", 0, 1)).unwrap_or_default();
    assert_eq!(
        listed
            .first()
            .map(|o| (o.timestamp_ms, o.filled_qty, o.leaves_qty, o.is_open())),
        Some((3 * MIN, 2000, 0, false))
    );
    let cancelled = now(x.cancel_orders(sym, &["bot-a-1".into(), "never-sent".into()]));
    assert_eq!(ids(cancelled), ["bot-a-1"], "unknown ids are skipped");
    assert_eq!(
        now(x.position(sym)).ok(),
        Some(0),
        "a cancel executes nothing"
    );
}
