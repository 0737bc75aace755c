//! The BitMEX client's market-data calls against the fake BitMEX: candles (paging forward, the last
//! N, public history) and the instrument; what it sends and what it returns.

use maestro_core::{Candle, Price, TickSize};
use maestro_lambda::exchange::{BinSize, Exchange, ExchangeError};
use maestro_tests::fake_bitmex::{Bar, iso};
use maestro_tests::market::FakeMarket;

const SYMBOL: &str = "LTCUSDT";
const TICK: TickSize = TickSize::CENT;
const MIN: i64 = 60_000;

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

#[tokio::test]
async fn candles_after_pages_forward_from_a_close_time() {
    let (fake, bars) = FakeMarket::minutes(1200).completed(1000).start().await;
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
    let (fake, bars) = FakeMarket::minutes(1200).completed(1000).start().await;
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
    let (fake, bars) = FakeMarket::minutes(1500).completed(1500).start().await;
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
    let (fake, _) = FakeMarket::minutes(10).completed(5).start().await;
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
