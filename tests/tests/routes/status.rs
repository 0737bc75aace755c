//! `GET /health` and `GET /status` end to end over the real adapters (a `FileStore` on disk, the
//! real BitMEX client against the fake BitMEX on 127.0.0.1).

use super::support::*;
use maestro_core::{Candle, Guards, Mode, Params, Price, Strategy};
use maestro_lambda::exchange::Side;
use maestro_lambda::params::LIVE_CAPACITY;
use maestro_lambda::store::{BotRecord, CoreState, OrderIntent, OrderLog, StateStore};
use maestro_tests::bot_id;
use serde_json::{Value, json};

// GET /health

#[tokio::test]
async fn health_needs_no_auth_and_shows_no_secret() {
    let h = Harness::hmac().await;
    let resp = h.send(&request("GET", "/health", "", ""), now_ms()).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["status"], "ok");
    assert_eq!(resp.body["version"], env!("CARGO_PKG_VERSION"));
    assert!(!resp.body_text().contains(ROUTE_SECRET));
    assert!(h.state().is_empty(), "health must not touch the store");
}

/// `GET /` is the dashboard: one self-contained page, no auth, no data, nothing stored; it reaches
/// the bot only through the authenticated routes.
#[tokio::test]
async fn the_dashboard_is_one_self_contained_page_without_data() {
    let h = Harness::hmac().await;
    let resp = h.send(&request("GET", "/", "", ""), now_ms()).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type(), "text/html; charset=utf-8");
    let page = resp.body_text();
    assert!(page.starts_with("<!doctype html>"), "{}", &page[..40]);
    assert!(
        page.len() < 32 * 1024,
        "a few tens of KiB at most: {}",
        page.len()
    );
    // The one absolute URL is SVG's namespace name, which nothing fetches.
    let page_without_ns = page.replace("\"http://www.w3.org/2000/svg\"", "");
    for outside in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(
            !page_without_ns.contains(outside),
            "the page loads nothing from outside: {outside}"
        );
    }
    // It signs exactly like the README's recipe and calls only the JSON routes.
    for part in [
        "x-maestro-signature",
        "\"HMAC\"",
        "\"/status\"",
        "\"/control\"",
        "\"/history?bot=\"",
    ] {
        assert!(page.contains(part), "{part}");
    }
    assert!(!page.contains(ROUTE_SECRET));
    assert!(h.state().is_empty(), "the page must not touch the store");
    let resp = h.send(&request("POST", "/", "", ""), now_ms()).await;
    assert_eq!(resp.status, 405, "{resp:?}");
}

// ---------------------------------------------------------------------------------------------
// GET /status

#[tokio::test]
async fn status_lists_every_bot_before_any_tick() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let resp = h.send(&signed("GET", "/status", "", "", now), now).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let bots = resp.body["bots"].as_array().expect("bots list");
    assert_eq!(bots.len(), 2);
    assert_eq!(bots[0]["id"], "ltc");
    assert_eq!(bots[0]["state"], "not_started");
    assert_eq!(bots[0]["params"]["short_window"], 3);
    assert_eq!(bots[0]["params"]["guards"]["hysteresis_bp"], 0);
    assert_eq!(bots[0]["core"], Value::Null);
    assert_eq!(bots[1]["id"], "paper");
    assert_eq!(bots[1]["dry_run"], true);
    assert!(h.bot_state().is_empty(), "status must not write bot state");
}

/// A record as a tick leaves it: a real core snapshot after six candles, a pending intent, an
/// order log; /status decodes the snapshot with the core's decoder and shows it all.
#[tokio::test]
async fn status_shows_core_state_position_pending_and_orders() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let params = Params {
        short_window: 3,
        long_window: 5,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards: Guards::default(),
    };
    let mut strategy = Strategy::<LIVE_CAPACITY>::new(params).expect("valid params");
    let closes = [6000, 6010, 6020, 6030, 6040, 6100]; // ticks of 0.01: 60.00 .. 61.00
    let t0 = 1_699_999_000_000 - 1_699_999_000_000 % 60_000;
    for (i, c) in closes.iter().enumerate() {
        let p = Price(*c);
        let candle = Candle {
            close_time_ms: t0 + 60_000 * i as i64,
            open: p,
            high: Price(c + 5),
            low: Price(c - 5),
            close: p,
        };
        strategy.on_candle(&candle).expect("valid candle");
    }

    let mut record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    record.core = Some(CoreState::of(&strategy).expect("encode"));
    record.last_close_ms = strategy.last_close_ms();
    record.last_position = Some(1000);
    record.last_tick_ms = Some(now - 5_000);
    record.last_outcome = Some("ordered".to_owned());
    record.pending = Some(OrderIntent {
        cl_ord_id: "mx-ltc-1".to_owned(),
        side: Side::Buy,
        qty: 1000,
        reduce_only: false,
        close: false,
        target: 1000,
        decided_at_ms: t0 + 300_000,
        saved_at_ms: 0,
    });
    h.store.save(&record, None).await.expect("save record");
    let log = OrderLog {
        decided_at_ms: t0 + 240_000,
        recorded_at_ms: now - 60_000,
        cl_ord_id: "mx-ltc-0".to_owned(),
        side: Side::Buy,
        qty: 1000,
        order_id: Some("ord-0".to_owned()),
        status: "Filled".to_owned(),
        avg_price: Some(60.4),
        filled_qty: Some(1000),
    };
    // The market now: the last completed bar (the 100th) closed at 61.00, the ones before at
    // 60.00; the last close is the mark for the open position.
    let first = (now / 60_000 - 100) * 60_000;
    h.fake.set_series(
        "LTCUSDT",
        maestro_lambda::exchange::BinSize::M1,
        maestro_tests::fake_bitmex::synthetic(
            first,
            maestro_lambda::exchange::BinSize::M1,
            120,
            |i| if i == 99 { 61.0 } else { 60.0 },
        ),
        100,
    );
    h.store
        .record_order(&bot_id("ltc"), &log)
        .await
        .expect("record order");

    let resp = h
        .send(&signed("GET", "/status", "bot=ltc", "", now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let bots = resp.body["bots"].as_array().expect("bots");
    assert_eq!(bots.len(), 1, "?bot=ltc shows one bot");
    let b = &bots[0];
    assert_eq!(b["state"], "running");
    assert_eq!(b["version"], 1);
    let core = &b["core"];
    assert_eq!(core["ready"], true, "{core}");
    // Exact sums: short = last 3 closes, long = last 5.
    assert_eq!(core["short_sma"]["sum_ticks"], 6030 + 6040 + 6100);
    assert_eq!(core["short_sma"]["n"], 3);
    assert_eq!(
        core["long_sma"]["sum_ticks"],
        6010 + 6020 + 6030 + 6040 + 6100
    );
    let short_price = core["short_sma"]["price"]
        .as_f64()
        .expect("price from the tick size");
    assert!((short_price - 60.5667).abs() < 1e-3, "{short_price}");
    assert_eq!(core["regime"], json!(strategy.regime()));
    assert_eq!(core["target"], strategy.target_position());
    assert_eq!(b["last_position"], 1000);
    assert_eq!(b["pending"]["cl_ord_id"], "mx-ltc-1");
    assert_eq!(b["last_outcome"], "ordered");
    assert_eq!(b["recent_orders"][0]["cl_ord_id"], "mx-ltc-0");
    assert_eq!(b["recent_orders"][0]["status"], "Filled");
    // 1000 contracts (0.1 LTC) bought at 60.40, marked at 61.00: +0.06 USDT; the taker fee on
    // 6.04 USDT at 5 bp: 0.00302 USDT.
    let pnl = &b["pnl"];
    assert_eq!(pnl["fills"], 1, "{pnl}");
    assert_eq!(pnl["position"], "1000");
    assert_eq!(pnl["matches_position"], true);
    assert_eq!(pnl["mark"], 61.0);
    assert_eq!(pnl["realised"], "0.000000");
    assert_eq!(pnl["unrealised"], "0.060000");
    assert_eq!(pnl["fees"], "0.003020");
    assert_eq!(pnl["net"], "0.056980");
    assert_eq!(pnl["since_ms"], t0 + 240_000);
    assert_eq!(b["last_tick_ms"], now - 5_000);
    assert_eq!(b["overdue"], false, "ticked 5 s ago");
    assert_eq!(
        resp.body["limits"],
        json!({"position_cap": h.limits.position_cap, "live_allowed": h.limits.live_allowed})
    );

    // Seventeen minutes and a second without a heartbeat: the ticks are being lost.
    let later = now - 5_000 + 17 * 60_000 + 1;
    let resp = h
        .send(&signed("GET", "/status", "bot=ltc", "", later), later)
        .await;
    assert_eq!(resp.body["bots"][0]["overdue"], true, "{}", resp.body);
}

#[tokio::test]
async fn status_reports_a_corrupt_snapshot_instead_of_trusting_it() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let mut record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    record.core = Some(CoreState {
        lot_size: 1000,
        state: r#"{"v":1,"closes":[9]}"#.to_owned(),
        tick_size: None,
    });
    h.store.save(&record, None).await.expect("save");
    let resp = h
        .send(&signed("GET", "/status", "bot=ltc", "", now), now)
        .await;
    assert_eq!(resp.status, 200);
    let error = resp.body["bots"][0]["core"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("unreadable"), "{resp:?}");
}

#[tokio::test]
async fn status_refuses_bad_queries() {
    let h = Harness::hmac().await;
    let now = now_ms();
    for (query, status, code) in [
        ("bot=nobody", 404, "unknown_bot"),
        ("bot=ltc&bot=paper", 400, "bad_query"),
        ("verbose=1", 400, "bad_query"),
    ] {
        let resp = h.send(&signed("GET", "/status", query, "", now), now).await;
        assert_error(&resp, status, code);
    }
    assert!(h.bot_state().is_empty());
}

// ---------------------------------------------------------------------------------------------
// GET /history

/// The chart's data: the exchange's recent candles with both SMAs over them, and the bot's fills;
/// under the same auth as /status.
#[tokio::test]
async fn history_gives_candles_smas_and_fills() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let log = OrderLog {
        decided_at_ms: now - 30 * 60_000,
        recorded_at_ms: now - 30 * 60_000,
        cl_ord_id: "cm-fill-1".to_owned(),
        side: Side::Sell,
        qty: 1000,
        order_id: Some("ord-1".to_owned()),
        status: "Filled".to_owned(),
        avg_price: Some(60.5),
        // Logged the way orders were before fills were kept: a `Filled` one filled its qty.
        filled_qty: None,
    };
    h.store
        .record_order(&bot_id("ltc"), &log)
        .await
        .expect("record order");
    // A later order cancelled after part of it filled: 400 of 1000.
    let partial = OrderLog {
        decided_at_ms: now - 20 * 60_000,
        recorded_at_ms: now - 20 * 60_000,
        cl_ord_id: "cm-fill-2".to_owned(),
        side: Side::Buy,
        qty: 1000,
        order_id: Some("ord-2".to_owned()),
        status: "Canceled".to_owned(),
        avg_price: Some(60.0),
        filled_qty: Some(400),
    };
    h.store
        .record_order(&bot_id("ltc"), &partial)
        .await
        .expect("record order");

    let resp = h
        .send(&signed("GET", "/history", "bot=ltc", "", now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let candles = resp.body["candles"].as_array().expect("candles");
    assert!(
        candles.len() >= 90,
        "the fake's completed bars: {}",
        candles.len()
    );
    let closes: Vec<f64> = candles
        .iter()
        .map(|c| c["close"].as_f64().expect("close"))
        .collect();
    for (i, c) in candles.iter().enumerate() {
        assert!(c["t"].as_i64().expect("t") <= now, "completed candles only");
        // The bots of these tests trade 3/5.
        for (key, n) in [("short_sma", 3), ("long_sma", 5)] {
            match i.checked_sub(n - 1) {
                Some(start) => {
                    let want = closes[start..=i].iter().sum::<f64>() / n as f64;
                    let got = c[key].as_f64().expect("an SMA once the window is full");
                    assert!((got - want).abs() < 1e-9, "{key} at {i}: {got} vs {want}");
                }
                None => assert_eq!(c[key], Value::Null, "{key} at {i}: not enough closes"),
            }
        }
    }
    assert_eq!(
        resp.body["fills"],
        json!([
            {"t": now - 20 * 60_000, "side": "Buy", "qty": 400, "price": 60.0},
            {"t": now - 30 * 60_000, "side": "Sell", "qty": 1000, "price": 60.5},
        ])
    );
    // The same fills in /status's P&L: 0.1 LTC sold at 60.50, 0.04 bought back at 60.00
    // (+0.02 USDT), a short of 600 contracts the bot never read as its position.
    let status = h
        .send(&signed("GET", "/status", "bot=ltc", "", now), now)
        .await;
    let pnl = &status.body["bots"][0]["pnl"];
    assert_eq!(pnl["fills"], 2, "{pnl}");
    assert_eq!(pnl["position"], "-600");
    assert_eq!(pnl["realised"], "0.020000");
    assert_eq!(pnl["matches_position"], false, "no position read yet");
    assert_eq!(pnl["fees"], "0.004225", "5 bp of 6.05 and of 2.40 USDT");

    let unsigned = h
        .send(&request("GET", "/history", "bot=ltc", ""), now)
        .await;
    assert_eq!(unsigned.status, 401, "{unsigned:?}");
    let resp = h
        .send(&signed("GET", "/history", "bot=nobody", "", now), now)
        .await;
    assert_eq!(resp.status, 404, "{resp:?}");
    let resp = h.send(&signed("GET", "/history", "", "", now), now).await;
    assert_eq!(resp.status, 400, "{resp:?}");
}
