//! The Lambda handler with the real tick: an EventBridge scheduled event (AWS's JSON) runs
//! `AllBots` — the same value `bootstrap` builds — over the BitMEX client against the fake BitMEX and
//! `DynamoStore` against moto; then a function-URL request (AWS's JSON) reads the result on /status.

use maestro_lambda::config::{DeployLimits, FunctionRole, parse_bots};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::handler::{Function, TickMetrics};
use maestro_lambda::routes::RouteAuth;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::AllBots;
use maestro_tests::bot_id;
use maestro_tests::dynamo::fresh_table;
use maestro_tests::events::event as fixture;
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIRST_CLOSE_MS: i64 = 1_700_000_040_000;

/// Rises for 20 minutes, then falls: a golden regime, then a death cross.
fn price(i: usize) -> f64 {
    if i < 20 {
        70.0 + i as f64 * 0.25
    } else {
        75.0 - (i - 20) as f64 * 0.5
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_events_trade_through_the_real_tick_and_status_shows_it() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    fake.set_series(
        "LTCUSDT",
        BinSize::M1,
        synthetic(FIRST_CLOSE_MS, BinSize::M1, 40, price),
        12,
    );
    let table = fresh_table("handler-real-tick").await;
    let bots =
        parse_bots(r#"[{"id":"ltc","bin":"1m","short_window":3,"long_window":5}]"#).expect("bots");
    let exchange = fake.client().expect("client");
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let function = Function {
        exchange: exchange.clone(),
        store: table.store.clone(),
        tick: AllBots::new(exchange, table.store.clone(), bots.clone()),
        limits: DeployLimits::of_bots(&bots),
        bots,
        auth: RouteAuth::Iam,
        tick_margin: Duration::from_millis(3000),
        role: FunctionRole::Both,
        metrics: TickMetrics::to("CryptoMaestro/test", {
            let lines = lines.clone();
            move |line| lines.lock().expect("lines").push(line.to_owned())
        }),
    };
    let minute = |completed: i64| FIRST_CLOSE_MS + (completed - 1) * 60_000 + 2_000;
    let deadline = |now: i64| now + 50_000;

    // Warm-up on 12 rising candles: the first regime is bullish, one lot bought.
    let now = minute(12);
    let out = function
        .dispatch(fixture("scheduled-event.json"), deadline(now), now)
        .await
        .expect("the scheduled tick succeeds");
    assert_eq!(out["bots"][0]["ok"], true, "{out}");
    let orders = fake.orders("LTCUSDT");
    assert_eq!(orders.len(), 1, "one order after warm-up: {orders:?}");
    assert_eq!(fake.position("LTCUSDT"), 1000);
    // One embedded-metric line for the bot: a tick, an order, no error, under the namespace, at
    // the tick's time.
    let emitted: Vec<Value> = lines
        .lock()
        .expect("lines")
        .drain(..)
        .map(|l| serde_json::from_str(&l).expect("an EMF line is JSON"))
        .collect();
    assert_eq!(emitted.len(), 1, "{emitted:?}");
    let m = &emitted[0];
    assert_eq!(m["Bot"], "ltc", "{m}");
    assert_eq!(
        (&m["Ticks"], &m["Orders"], &m["Errors"]),
        (&1.into(), &1.into(), &0.into()),
        "{m}"
    );
    assert!(m["DurationMs"].is_u64(), "{m}");
    assert_eq!(m["_aws"]["Timestamp"], now, "{m}");
    assert_eq!(
        m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "CryptoMaestro/test"
    );

    // The same minute again, and the next rising minutes: no order.
    for completed in [12, 13, 14] {
        if completed > 12 {
            fake.advance("LTCUSDT", 1);
        }
        let now = minute(completed);
        function
            .dispatch(fixture("scheduled-event.json"), deadline(now), now)
            .await
            .expect("tick");
        assert_eq!(
            fake.orders("LTCUSDT").len(),
            1,
            "minute {completed}: no new order"
        );
        let emitted = std::mem::take(&mut *lines.lock().expect("lines"));
        assert_eq!(emitted.len(), 1, "a line every tick, quiet or not");
        assert!(
            emitted[0].contains(r#""Ticks":1,"Orders":0,"Errors":0"#),
            "{emitted:?}"
        );
    }

    // The fall: a death cross flips the position to short with one order of two lots.
    let mut completed = 14;
    while completed < 30 && fake.position("LTCUSDT") > 0 {
        fake.advance("LTCUSDT", 1);
        completed += 1;
        let now = minute(completed);
        function
            .dispatch(fixture("scheduled-event.json"), deadline(now), now)
            .await
            .expect("tick");
    }
    assert_eq!(
        fake.position("LTCUSDT"),
        -1000,
        "short after the death cross"
    );
    let orders = fake.orders("LTCUSDT");
    assert_eq!(orders.len(), 2, "{orders:?}");

    // The function URL shows what the tick did, asked at the last tick's time: the orders it lists
    // are those not yet expired then, whatever today's date.
    let now = minute(completed);
    let out = function
        .dispatch(fixture("url-get-status-iam.json"), deadline(now), now)
        .await
        .expect("status");
    assert_eq!(out["statusCode"], 200, "{out}");
    let body: Value = serde_json::from_str(out["body"].as_str().expect("body")).expect("JSON");
    let bot = &body["bots"][0];
    assert_eq!(bot["id"], "ltc", "{body}");
    assert_eq!(bot["pending"], Value::Null, "no intent left behind: {bot}");
    assert_eq!(
        bot["recent_orders"].as_array().map(Vec::len),
        Some(2),
        "both orders listed: {bot}"
    );
    let stored = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("the bot has a record");
    assert_eq!(stored.value.last_position, Some(-1000));
}

/// A new process knows nothing of what an earlier one left working: its first invocation cancels
/// every bot's own open orders (by clOrdID prefix) and nothing else; later invocations of the same
/// process do not list orders again unless a bot trades.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_process_cancels_the_bots_own_stray_orders_once_and_nothing_else() {
    use maestro_lambda::tick::{ScheduledTick, cl_ord_id};
    use maestro_tests::fake_bitmex::Remainder;
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    // Flat prices: the bot warms up, takes no regime change and sends nothing of its own.
    fake.set_series(
        "LTCUSDT",
        BinSize::M1,
        synthetic(FIRST_CLOSE_MS, BinSize::M1, 40, price),
        4,
    );
    let trader = fake.add_resting_order("LTCUSDT", "Buy", 1000, 50.0);
    fake.fill_partially(1000, Remainder::Resting, 1);
    let stray = cl_ord_id("ltc");
    fake.place_direct("LTCUSDT", "Sell", 2000, &stray)
        .expect("a stray order of the bot's own");
    let table = fresh_table("handler-sweep").await;
    let bots =
        parse_bots(r#"[{"id":"ltc","bin":"1m","short_window":3,"long_window":5}]"#).expect("bots");
    let tick = AllBots::new(fake.client().expect("client"), table.store.clone(), bots);
    let now = FIRST_CLOSE_MS + 3 * 60_000 + 2_000;
    let far = std::time::Instant::now() + Duration::from_secs(30);
    let summary = tick.run_all(now, far).await;
    assert!(summary.failures().next().is_none(), "{summary:?}");
    let open: Vec<String> = fake
        .open_orders("LTCUSDT")
        .into_iter()
        .map(|o| o.order_id)
        .collect();
    assert_eq!(open, [trader], "only the trader's order is left working");
    assert_eq!(fake.requests_to("DELETE", "/order").len(), 1);
    assert!(fake.requests_to("DELETE", "/order/all").is_empty());

    // A second stray after the first invocation: the same process does not sweep again.
    fake.fill_partially(1000, Remainder::Resting, 1);
    let later = cl_ord_id("ltc");
    fake.place_direct("LTCUSDT", "Sell", 2000, &later)
        .expect("another stray");
    fake.clear_requests();
    let summary = tick.run_all(now + 60_000, far).await;
    assert!(summary.failures().next().is_none(), "{summary:?}");
    assert!(fake.requests_to("DELETE", "/order").is_empty());
    assert_eq!(fake.open_orders("LTCUSDT").len(), 2);
}
