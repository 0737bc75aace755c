//! `POST /control` end to end over the real adapters: pause, resume and set_params as conditional
//! saves in a `FileStore`, flatten through the real BitMEX client against the fake BitMEX. Every
//! refused command is checked to leave the stored state byte-for-byte unchanged.

use super::support::*;
use maestro_lambda::config::DeployLimits;
use maestro_lambda::exchange::Side;
use maestro_lambda::params::LIVE_CAPACITY;
use maestro_lambda::store::{BotRecord, CoreState, OrderIntent, StateStore};
use maestro_tests::bot_id;
use serde_json::{Value, json};

async fn pause(h: &Harness, bot: &str, now: i64) -> Value {
    let body = json!({"action": "pause", "bot": bot}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    resp.body
}

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
        .load(&bot_id("ltc"))
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
    let stored = h
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(!stored.value.paused);
    assert_eq!(stored.version, 2);
}

#[tokio::test]
async fn set_params_validates_like_start_up_and_rewarms_on_window_change() {
    let h = Harness::hmac().await;
    let now = now_ms();
    let mut record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    record.core = Some(CoreState {
        lot_size: 1000,
        state: "{\"stand-in\":true}".to_owned(),
        tick_size: None,
    });
    record.last_close_ms = Some(123_000);
    h.store.save(&record, None).await.expect("save");

    // Only dry_run: the core state stays.
    let body = json!({"action": "set_params", "bot": "ltc", "params": {"dry_run": true}});
    let resp = h
        .send(&signed("POST", "/control", "", &body.to_string(), now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["rewarm"], false);
    let stored = h
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.params.dry_run);
    assert!(stored.value.core.is_some());

    // Windows and guards: stored, and the core's state is dropped so the next tick re-warms.
    let body = json!({"action": "set_params", "bot": "ltc", "params": {
        "short_window": 4, "long_window": 9, "mode": "long_only",
        "guards": {"hysteresis_bp": 20, "confirm_bars": 2, "min_hold_bars": 0}}});
    let resp = h
        .send(&signed("POST", "/control", "", &body.to_string(), now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["rewarm"], true);
    assert_eq!(resp.body["params"]["long_window"], 9);
    let stored = h
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    let p = &stored.value.params;
    assert_eq!(
        (
            p.short_window,
            p.long_window,
            p.guards.hysteresis_bp,
            p.guards.confirm_bars
        ),
        (4, 9, 20, 2)
    );
    assert!(stored.value.core.is_none() && stored.value.last_close_ms.is_none());
    assert_eq!(stored.version, 3);

    // Each out-of-range setting is refused with a message naming it, and nothing changes.
    let before = h.bot_state();
    let cases = [
        (json!({"short_window": 0}), "short_window"),
        (json!({"short_window": 9}), "short_window"),
        (json!({"long_window": LIVE_CAPACITY + 1}), "long_window"),
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

/// The deployment's limits hold whatever an authenticated caller asks: no size past the position
/// cap, and no way out of dry run where live trading is not allowed. Nothing changes.
#[tokio::test]
async fn set_params_cannot_go_past_the_deployment_limits() {
    let mut h = Harness::hmac().await;
    h.limits = DeployLimits {
        position_cap: 2000,
        live_allowed: false,
    };
    let now = now_ms();
    let send = |params: Value, now: i64| {
        let body = json!({"action": "set_params", "bot": "paper", "params": params});
        signed("POST", "/control", "", &body.to_string(), now)
    };
    // Within the cap: accepted (so the refusals below are the limits, not something else).
    let resp = h.send(&send(json!({"max_position": 2000}), now), now).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let before = h.bot_state();
    let too_big = [
        json!({"max_position": 2001}),
        json!({"qty": 3000, "max_position": 3000}),
        json!({"qty": i64::MAX, "max_position": i64::MAX}),
    ];
    for (i, params) in too_big.into_iter().enumerate() {
        let at = now + 1 + i as i64;
        let resp = h.send(&send(params.clone(), at), at).await;
        assert_error(&resp, 400, "bad_params");
        let detail = resp.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("position cap (2000)"), "{params}: {detail}");
        assert_eq!(h.bot_state(), before, "{params} changed the state");
    }
    let at = now + 10;
    let resp = h.send(&send(json!({"dry_run": false}), at), at).await;
    assert_error(&resp, 403, "live_not_allowed");
    assert_eq!(h.bot_state(), before, "dry_run false changed the state");
    let stored = h
        .store
        .load(&bot_id("paper"))
        .await
        .expect("load")
        .expect("saved");
    assert!(stored.value.params.dry_run, "still in dry run");
    assert_eq!(stored.value.params.max_position, 2000);
}

// ---------------------------------------------------------------------------------------------
// POST /control: flatten

#[tokio::test]
async fn flatten_settles_the_old_intent_closes_the_position_and_leaves_the_traders_orders() {
    let h = Harness::hmac().await;
    let now = now_ms();
    h.fake.set_position("LTCUSDT", -3000);
    // The trader's own stop, placed by hand: not the bot's to cancel.
    h.fake.add_resting_order("LTCUSDT", "Sell", 1000, 90.0);
    let mut record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    record.pending = Some(OrderIntent {
        cl_ord_id: "mx-ltc-9".to_owned(),
        side: Side::Sell,
        qty: 1000,
        reduce_only: false,
        close: false,
        target: -4000,
        decided_at_ms: now - 60_000,
        saved_at_ms: now - 60_000,
    });
    h.store.save(&record, None).await.expect("save");

    let body = json!({"action": "flatten", "bot": "ltc"}).to_string();
    let resp = h
        .send(&signed("POST", "/control", "", &body, now), now)
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.body["position_before"], -3000);
    assert_eq!(resp.body["paused"], true);
    assert_eq!(resp.body["flattening"], false, "flat at once: done");
    let cl_ord_id = resp.body["order"]["cl_ord_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    assert!(
        cl_ord_id.starts_with(&maestro_lambda::tick::own_prefix("ltc")) && cl_ord_id.len() <= 36,
        "{cl_ord_id}"
    );

    assert_eq!(h.fake.position("LTCUSDT"), 0, "the position is closed");
    assert_eq!(
        h.fake.open_orders("LTCUSDT").len(),
        1,
        "the trader's resting order is untouched"
    );
    assert!(h.fake.requests_to("DELETE", "/order/all").is_empty());
    assert!(
        h.fake
            .requests_to("POST", "/order/cancelAllAfter")
            .is_empty(),
        "no account-wide dead-man's switch"
    );
    let posts = h.fake.requests_to("POST", "/order");
    assert_eq!(posts.len(), 1, "the old intent is looked up, never re-sent");
    assert_eq!(posts[0].param("execInst").as_deref(), Some("Close"));
    assert_eq!(posts[0].param("side").as_deref(), Some("Buy"));
    assert_eq!(
        posts[0].param("clOrdID").as_deref(),
        Some(cl_ord_id.as_str())
    );

    let stored = h
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused, "flatten leaves the bot paused");
    assert!(!stored.value.flatten, "the flatten is finished");
    assert!(
        stored.value.pending.is_none(),
        "the old intent is settled: unknown to the exchange, so never placed"
    );
    let orders = h
        .store
        .recent_orders(&bot_id("ltc"), 5, maestro_lambda::clock::now_ms() / 1000)
        .await
        .expect("orders");
    let ids: Vec<&str> = orders.iter().map(|o| o.cl_ord_id.as_str()).collect();
    assert!(ids.contains(&cl_ord_id.as_str()), "{ids:?}");
    assert!(
        ids.contains(&"mx-ltc-9"),
        "the settled intent is logged: {ids:?}"
    );

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
    assert_eq!(resp.body["flattening"], true);
    let stored = h
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused);
    assert!(stored.value.flatten, "the flatten stays for the next tick");
    assert_eq!(h.fake.position("LTCUSDT"), 1000);

    // The exchange takes the close now: a second flatten (or the next tick) finishes it.
    let resp = h
        .send(
            &signed("POST", "/control", "", &body, now + 1000),
            now + 1000,
        )
        .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(h.fake.position("LTCUSDT"), 0);
    assert_eq!(h.fake.executed_position("LTCUSDT"), 0);
}
