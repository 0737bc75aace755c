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
    };
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
