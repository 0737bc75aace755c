//! A flatten that lands while a tick's order is in flight: the tick has saved its intent, the
//! trader's `POST /control {"action":"flatten"}` saves the flatten (paused, intent kept) and finds
//! the intent not settled yet, and only then does the tick's order reach the exchange. The next
//! tick counts that order and closes the position: the account is flat within one clean tick.
//! Real adapters: the BitMEX client against the fake BitMEX, the file store, the real routes.

use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::config::{DeployLimits, parse_bots};
use maestro_lambda::exchange::{BinSize, Exchange};
use maestro_lambda::routes::{Request, RouteAuth, Routes};
use maestro_lambda::store::{FileStore, StateStore};
use maestro_lambda::tick::{Failpoint, Failpoints, Tick};
use maestro_tests::bot_id;
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const FIRST_CLOSE_MS: i64 = 1_700_000_040_000;

/// At the moment the intent is saved, a trader flattens the bot through the routes.
struct FlattenWhileInFlight<'a> {
    routes: Routes<'a, BitmexClient, FileStore>,
    /// The trader's request time: just after the tick's.
    now_ms: i64,
    fired: AtomicBool,
}

impl Failpoints for FlattenWhileInFlight<'_> {
    fn fire(&self, point: Failpoint) -> bool {
        if point == Failpoint::AfterIntentSaved && !self.fired.swap(true, Ordering::SeqCst) {
            let request = Request {
                method: "POST".to_owned(),
                path: "/control".to_owned(),
                body: br#"{"action":"flatten","bot":"ltc"}"#.to_vec(),
                ..Request::default()
            };
            let response = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current()
                    .block_on(self.routes.handle(&request, self.now_ms))
            });
            assert_eq!(response.status, 200, "flatten: {}", response.body_text());
        }
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_flight_during_a_flatten_is_closed_by_the_next_tick() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    fake.set_series(
        "LTCUSDT",
        BinSize::M1,
        synthetic(FIRST_CLOSE_MS, BinSize::M1, 20, |i| 70.0 + i as f64 * 0.25),
        12,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::open(dir.path()).expect("file store");
    let client = fake.client().expect("client");
    let instrument = client.instrument("LTCUSDT").await.expect("instrument");
    let bots =
        parse_bots(r#"[{"id":"ltc","bin":"1m","short_window":3,"long_window":5}]"#).expect("bots");
    let auth = RouteAuth::Loopback;
    let now_ms = FIRST_CLOSE_MS + 11 * 60_000 + 2_000;
    let failpoints = FlattenWhileInFlight {
        routes: Routes::new(&client, &store, &bots, DeployLimits::of_bots(&bots), &auth),
        now_ms: now_ms + 500,
        fired: AtomicBool::new(false),
    };
    let tick = Tick {
        exchange: &client,
        store: &store,
        instrument: &instrument,
        now_ms,
        deadline: Instant::now() + Duration::from_secs(30),
        failpoints: &failpoints,
    };
    let report = tick
        .run(&bot_id("ltc"), &bots[0].params)
        .await
        .expect("tick");
    assert!(
        failpoints.fired.load(Ordering::SeqCst),
        "the flatten ran mid-tick"
    );
    assert_eq!(
        fake.position("LTCUSDT"),
        1000,
        "the tick's order landed: {report:?}"
    );
    let stored = store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(
        stored.value.paused && stored.value.flatten,
        "the flatten stands: {:?}",
        stored.value
    );
    assert!(
        stored.value.pending.is_some(),
        "the tick's intent is kept for the next tick to settle"
    );

    // The next tick settles the intent (placed, filled) and finishes the flatten.
    fake.advance("LTCUSDT", 1);
    let next = Tick {
        now_ms: FIRST_CLOSE_MS + 12 * 60_000 + 2_000,
        failpoints: &maestro_lambda::tick::NoFailpoints,
        ..tick
    };
    next.run(&bot_id("ltc"), &bots[0].params)
        .await
        .expect("tick");
    let orders = fake.orders("LTCUSDT");
    assert_eq!(
        fake.position("LTCUSDT"),
        0,
        "flat after the flatten: {orders:?}"
    );
    assert_eq!(fake.executed_position("LTCUSDT"), 0);
    assert_eq!(
        orders.len(),
        2,
        "the tick's order and one close: {orders:?}"
    );
    assert_eq!(orders[1].exec_inst, "Close");
    let stored = store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused, "the flatten's pause stands");
    assert!(!stored.value.flatten, "the flatten is done");
    assert_eq!(stored.value.pending, None);

    // The next tick is paused: nothing more is sent.
    fake.advance("LTCUSDT", 1);
    let after = Tick {
        now_ms: FIRST_CLOSE_MS + 13 * 60_000 + 2_000,
        ..next
    };
    after
        .run(&bot_id("ltc"), &bots[0].params)
        .await
        .expect("tick");
    assert_eq!(fake.orders("LTCUSDT").len(), 2);
    assert_eq!(fake.position("LTCUSDT"), 0);
}
