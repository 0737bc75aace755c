//! The routes end to end over the real adapters: a `FileStore` on disk and the real BitMEX client
//! against the fake BitMEX on 127.0.0.1. Every route, every auth failure, every bad-input class;
//! every refusal is checked to leave the stored state byte-for-byte unchanged.

mod routes_support;

use maestro_core::{Candle, Guards, Mode, Params, Price, Strategy};
use maestro_lambda::config::STRATEGY_CAPACITY;
use maestro_lambda::exchange::Side;
use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SKEW_S};
use maestro_lambda::routes::{MAX_BODY_BYTES, Request};
use maestro_lambda::store::{BotRecord, OrderIntent, OrderLog, StateStore};
use routes_support::*;
use serde_json::{Value, json};

async fn pause(h: &Harness, bot: &str, now: i64) -> Value {
    let body = json!({"action": "pause", "bot": bot}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    resp.body
}

// ---------------------------------------------------------------------------------------------
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
    let mut strategy = Strategy::<STRATEGY_CAPACITY>::new(params).expect("valid params");
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
    let mut buf = vec![0u8; Strategy::<STRATEGY_CAPACITY>::MAX_SNAPSHOT_LEN];
    let n = strategy.encode(&mut buf).expect("encode");
    let snapshot = String::from_utf8(buf[..n].to_vec()).expect("snapshot is JSON text");

    let mut record = BotRecord::new("ltc", h.bots[0].params.clone());
    record.snapshot = Some(snapshot);
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
        .record_order("ltc", &log)
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
}

#[tokio::test]
async fn status_reports_a_corrupt_snapshot_instead_of_trusting_it() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let mut record = BotRecord::new("ltc", h.bots[0].params.clone());
    record.snapshot = Some(r#"{"v":1,"params":{"short_window":9}}"#.to_owned());
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
// POST /control: pause, resume, set_params

#[tokio::test]
async fn pause_and_resume_are_conditional_saves() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let body = pause(&h, "ltc", now).await;
    assert_eq!(
        (body["paused"].clone(), body["changed"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(body["version"], 1);
    let stored = h
        .store
        .load("ltc")
        .await
        .expect("load")
        .expect("record created");
    assert!(stored.value.paused);

    // Pausing a paused bot writes nothing.
    let before = h.bot_state();
    let body = pause(&h, "ltc", now).await;
    assert_eq!(body["changed"], false);
    assert_eq!(body["version"], 1);
    assert_eq!(h.bot_state(), before);

    let resume = json!({"action": "resume", "bot": "ltc"}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &resume, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["paused"], false);
    assert_eq!(resp.body["version"], 2);
    let stored = h.store.load("ltc").await.expect("load").expect("record");
    assert!(!stored.value.paused);
    assert_eq!(stored.version, 2);
}

#[tokio::test]
async fn set_params_validates_like_start_up_and_rewarms_on_window_change() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let mut record = BotRecord::new("ltc", h.bots[0].params.clone());
    record.snapshot = Some("{\"stand-in\":true}".to_owned());
    record.last_close_ms = Some(123_000);
    h.store.save(&record, None).await.expect("save");

    // Only dry_run: the core state stays.
    let body = json!({"action": "set_params", "bot": "ltc", "params": {"dry_run": true}});
    let resp = h
        .send(&signed("POST", "/control", "", &body.to_string(), now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["rewarm"], false);
    let stored = h.store.load("ltc").await.expect("load").expect("record");
    assert!(stored.value.params.dry_run);
    assert!(stored.value.snapshot.is_some());

    // Windows and guards: stored, and the snapshot is dropped so the next tick re-warms.
    let body = json!({"action": "set_params", "bot": "ltc", "params": {
        "short_window": 4, "long_window": 9, "mode": "long_only",
        "guards": {"hysteresis_bp": 20, "confirm_bars": 2, "min_hold_bars": 0}}});
    let resp = h
        .send(&signed("POST", "/control", "", &body.to_string(), now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["rewarm"], true);
    assert_eq!(resp.body["params"]["long_window"], 9);
    let stored = h.store.load("ltc").await.expect("load").expect("record");
    let p = &stored.value.params;
    assert_eq!(
        (
            p.short_window,
            p.long_window,
            p.hysteresis_bp,
            p.confirm_bars
        ),
        (4, 9, 20, 2)
    );
    assert!(stored.value.snapshot.is_none() && stored.value.last_close_ms.is_none());
    assert_eq!(stored.version, 3);

    // Each out-of-range setting is refused with a message naming it, and nothing changes.
    let before = h.bot_state();
    let cases = [
        (json!({"short_window": 0}), "short_window"),
        (json!({"short_window": 9}), "short_window"),
        (json!({"long_window": STRATEGY_CAPACITY + 1}), "long_window"),
        (json!({"qty": 0}), "qty"),
        (json!({"qty": 5000}), "max_position"),
        (json!({"guards": {"hysteresis_bp": 20000}}), "hysteresis_bp"),
        (json!({"symbol": "XBTUSDT"}), "symbol"),
        (json!({"bin": "2m"}), "2m"),
        (json!({"windows": 5}), "windows"),
        (json!({"qty": -1}), "qty"),
        (json!("fast"), "params"),
    ];
    for (params, named) in cases {
        let body = json!({"action": "set_params", "bot": "ltc", "params": params});
        let resp = h
            .send(&signed("POST", "/control", "", &body.to_string(), now), now)
            .await;
        assert_error(&resp, 400, "bad_params");
        let detail = resp.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(named),
            "{params}: detail should name {named}: {detail}"
        );
        assert_eq!(h.bot_state(), before, "{params} changed the state");
    }
}

// ---------------------------------------------------------------------------------------------
// POST /control: flatten

#[tokio::test]
async fn flatten_pauses_cancels_and_closes_the_position() {
    let h = Harness::hmac().await;
    let now = now_ms();
    h.fake.set_position("LTCUSDT", -3000);
    h.fake.add_resting_order("LTCUSDT", "Sell", 1000, 90.0);
    let mut record = BotRecord::new("ltc", h.bots[0].params.clone());
    record.pending = Some(OrderIntent {
        cl_ord_id: "mx-ltc-9".to_owned(),
        side: Side::Sell,
        qty: 1000,
        reduce_only: false,
        close: false,
        target: -4000,
        decided_at_ms: now - 60_000,
    });
    h.store.save(&record, None).await.expect("save");

    let body = json!({"action": "flatten", "bot": "ltc"}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["position_before"], -3000);
    assert_eq!(resp.body["cancelled"], 1);
    assert_eq!(resp.body["paused"], true);
    let cl_ord_id = resp.body["order"]["cl_ord_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    assert!(
        cl_ord_id.starts_with("flat-") && cl_ord_id.len() <= 36,
        "{cl_ord_id}"
    );

    assert_eq!(h.fake.position("LTCUSDT"), 0, "the position is closed");
    assert!(
        h.fake.open_orders("LTCUSDT").is_empty(),
        "open orders are cancelled"
    );
    let posts = h.fake.requests_to("POST", "/order");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].param("execInst").as_deref(), Some("Close"));
    assert_eq!(posts[0].param("side").as_deref(), Some("Buy"));
    assert_eq!(
        posts[0].param("clOrdID").as_deref(),
        Some(cl_ord_id.as_str())
    );

    let stored = h.store.load("ltc").await.expect("load").expect("record");
    assert!(stored.value.paused, "flatten leaves the bot paused");
    assert!(
        stored.value.pending.is_none(),
        "no tick may re-send the old intent"
    );
    let orders = h.store.recent_orders("ltc", 5).await.expect("orders");
    assert_eq!(orders[0].cl_ord_id, cl_ord_id);

    // Again, now flat: nothing to close.
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["position_before"], 0);
    assert_eq!(resp.body["order"], Value::Null);
    assert_eq!(h.fake.requests_to("POST", "/order").len(), 1);
}

#[tokio::test]
async fn flatten_of_a_dry_run_bot_sends_nothing() {
    let h = Harness::hmac().await;
    let now = now_ms();
    h.fake.set_position("LTCUSDT", 2000);
    h.fake.clear_requests();
    let body = json!({"action": "flatten", "bot": "paper"}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["paused"], true);
    assert!(
        h.fake.requests().iter().all(|r| r.method == "GET"),
        "a dry-run flatten must not change anything on the exchange"
    );
    assert_eq!(h.fake.position("LTCUSDT"), 2000);
}

#[tokio::test]
async fn flatten_reports_an_exchange_failure_and_stays_paused() {
    use maestro_tests::fake_bitmex::{Fault, FaultRule};
    let h = Harness::hmac().await;
    let now = now_ms();
    h.fake.set_position("LTCUSDT", 1000);
    h.fake.inject(
        FaultRule::new(Fault::Status(
            400,
            "Account has insufficient Available Balance".into(),
        ))
        .times(1)
        .on("POST", "/order"),
    );
    let body = json!({"action": "flatten", "bot": "ltc"}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_error(&resp, 502, "exchange_error");
    assert_eq!(resp.body["paused"], true);
    let stored = h.store.load("ltc").await.expect("load").expect("record");
    assert!(stored.value.paused);
    assert_eq!(h.fake.position("LTCUSDT"), 1000);
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// Each way a signature can be wrong: 401, and the pause it carried is not applied.
#[tokio::test]
async fn every_auth_failure_is_401_and_changes_nothing() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let body = json!({"action": "pause", "bot": "ltc"}).to_string();
    let good = || signed("POST", "/control", "", &body, now);
    let without = |name: &str| {
        let mut r = good();
        r.headers.retain(|(k, _)| k != name);
        r
    };
    let replace = |name: &str, value: &str| {
        let mut r = good();
        for (k, v) in &mut r.headers {
            if k == name {
                *v = value.to_owned();
            }
        }
        r
    };
    let mut tampered_body = good();
    tampered_body.body = json!({"action": "flatten", "bot": "ltc"})
        .to_string()
        .into_bytes();
    let mut tampered_path = signed("GET", "/status", "bot=ltc", "", now);
    tampered_path.query = "bot=paper".to_owned();
    let mut upper_method = good();
    upper_method.method = "post".to_owned();

    let cases: Vec<(&str, Request, i64)> = vec![
        ("no timestamp", without(HEADER_TIMESTAMP), now),
        ("no nonce", without(HEADER_NONCE), now),
        ("no signature", without(HEADER_SIGNATURE), now),
        (
            "no headers at all",
            request("POST", "/control", "", &body),
            now,
        ),
        (
            "wrong secret",
            signed_with(
                "POST",
                "/control",
                "",
                &body,
                now,
                &nonce(),
                "another-secret-0123456789",
            ),
            now,
        ),
        ("signature not hex", replace(HEADER_SIGNATURE, "zz"), now),
        (
            "signature truncated",
            {
                let r = good();
                let sig = r.header(HEADER_SIGNATURE).unwrap_or_default()[..32].to_owned();
                let mut r = r;
                for (k, v) in &mut r.headers {
                    if k == HEADER_SIGNATURE {
                        v.clone_from(&sig);
                    }
                }
                r
            },
            now,
        ),
        ("body changed after signing", tampered_body, now),
        ("query changed after signing", tampered_path, now),
        ("method changed after signing", upper_method, now),
        (
            "timestamp not a number",
            replace(HEADER_TIMESTAMP, "yesterday"),
            now,
        ),
        ("stale: 31 s old", good(), now + (MAX_SKEW_S + 1) * 1000),
        ("stale: 31 s ahead", good(), now - (MAX_SKEW_S + 1) * 1000),
        (
            "nonce too short",
            signed_with("POST", "/control", "", &body, now, "abc", ROUTE_SECRET),
            now,
        ),
        (
            "nonce with spaces",
            signed_with(
                "POST",
                "/control",
                "",
                &body,
                now,
                "has spaces in it",
                ROUTE_SECRET,
            ),
            now,
        ),
    ];
    for (what, req, at) in cases {
        let resp = h.send(&req, at).await;
        if resp.status == 405 {
            // A lower-case method is not the route's method: refused before auth, also fine.
            assert_eq!(what, "method changed after signing");
            continue;
        }
        assert_error(&resp, 401, "unauthorized");
        assert!(h.state().is_empty(), "{what}: the store changed");
    }

    // Replayed: the first use works, the second is refused and changes nothing.
    let req = good();
    let resp = h.send(&req, now).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    let before = h.state();
    let resume = signed_with(
        "POST",
        "/control",
        "",
        &json!({"action": "resume", "bot": "ltc"}).to_string(),
        now,
        req.header(HEADER_NONCE).unwrap_or_default(),
        ROUTE_SECRET,
    );
    for replay in [req, resume] {
        let resp = h.send(&replay, now + 1000).await;
        assert_error(&resp, 401, "unauthorized");
        assert!(
            resp.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("nonce")
        );
        assert_eq!(h.state(), before, "a replay changed the store");
    }
    // Within the window, on the boundary: accepted.
    let resp = h
        .send(
            &signed("GET", "/status", "", "", now),
            now + MAX_SKEW_S * 1000,
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
}

#[tokio::test]
async fn iam_mode_trusts_the_function_url_but_refuses_anonymous_requests() {
    let h = Harness::iam().await;
    let now = now_ms();
    let mut req = request("GET", "/status", "", "");
    let resp = h.send(&req, now).await;
    assert_error(&resp, 401, "unauthorized");
    req.iam_caller = Some("arn:aws:iam::111122223333:user/trader".to_owned());
    let resp = h.send(&req, now).await;
    assert_eq!(resp.status, 200, "{resp:?}");
}

// ---------------------------------------------------------------------------------------------
// Bad input

#[tokio::test]
async fn every_bad_input_class_is_a_4xx_that_says_what_is_wrong() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let big = "x".repeat(MAX_BODY_BYTES + 1);
    let cases: Vec<(&str, &str, &str, &str, u16, &str)> = vec![
        ("unknown path", "GET", "/admin", "", 404, "not_found"),
        (
            "path with trailing slash",
            "GET",
            "/status/",
            "",
            404,
            "not_found",
        ),
        (
            "wrong method on /status",
            "POST",
            "/status",
            "",
            405,
            "method_not_allowed",
        ),
        (
            "wrong method on /control",
            "GET",
            "/control",
            "",
            405,
            "method_not_allowed",
        ),
        (
            "wrong method on /health",
            "DELETE",
            "/health",
            "",
            405,
            "method_not_allowed",
        ),
        ("empty body", "POST", "/control", "", 400, "bad_json"),
        ("not JSON", "POST", "/control", "pause ltc", 400, "bad_json"),
        (
            "JSON of the wrong shape",
            "POST",
            "/control",
            "[1,2]",
            400,
            "bad_json",
        ),
        (
            "missing bot",
            "POST",
            "/control",
            r#"{"action":"pause"}"#,
            400,
            "bad_json",
        ),
        (
            "unknown field",
            "POST",
            "/control",
            r#"{"action":"pause","bot":"ltc","force":true}"#,
            400,
            "bad_json",
        ),
        (
            "unknown action",
            "POST",
            "/control",
            r#"{"action":"liquidate","bot":"ltc"}"#,
            400,
            "unknown_action",
        ),
        (
            "params on pause",
            "POST",
            "/control",
            r#"{"action":"pause","bot":"ltc","params":{}}"#,
            400,
            "bad_params",
        ),
        (
            "set_params without params",
            "POST",
            "/control",
            r#"{"action":"set_params","bot":"ltc"}"#,
            400,
            "bad_params",
        ),
        (
            "unknown bot",
            "POST",
            "/control",
            r#"{"action":"pause","bot":"nobody"}"#,
            404,
            "unknown_bot",
        ),
        (
            "body too large",
            "POST",
            "/control",
            &big,
            413,
            "body_too_large",
        ),
    ];
    for (what, method, path, body, status, code) in cases {
        let resp = h.send(&signed(method, path, "", body, now), now).await;
        assert_eq!(resp.status, status, "{what}: {resp:?}");
        assert_error(&resp, status, code);
        assert!(h.bot_state().is_empty(), "{what}: bot state changed");
    }
}
