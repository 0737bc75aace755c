//! A flatten that lands while a tick's order is in flight: the tick has saved its intent, the trader's
//! `POST /control {"action":"flatten"}` pauses the bot, drops the intent and closes the (still flat)
//! position, and only then does the tick's order reach the exchange. The account must end flat.
//! Real adapters: the BitMEX client against the fake BitMEX, the file store, the real routes.

use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::config::parse_bots;
use maestro_lambda::exchange::{BinSize, Exchange};
use maestro_lambda::routes::{Request, RouteAuth, Routes};
use maestro_lambda::store::{FileStore, StateStore};
use maestro_lambda::tick::{Failpoint, Failpoints, Tick};
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const FIRST_CLOSE_MS: i64 = 1_700_000_040_000;

/// At the moment the intent is saved, a trader flattens the bot through the routes.
struct FlattenWhileInFlight<'a> {
    routes: Routes<'a, BitmexClient, FileStore>,
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
                tokio::runtime::Handle::current().block_on(
                    self.routes
                        .handle(&request, maestro_lambda::clock::now_ms()),
                )
            });
            assert_eq!(response.status, 200, "flatten: {}", response.body_text());
        }
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_flight_during_a_flatten_is_closed_again() {
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
    let failpoints = FlattenWhileInFlight {
        routes: Routes::new(&client, &store, &bots, &auth),
        fired: AtomicBool::new(false),
    };
    let tick = Tick {
        exchange: &client,
        store: &store,
        instrument: &instrument,
        now_ms: FIRST_CLOSE_MS + 11 * 60_000 + 2_000,
        deadline: Instant::now() + Duration::from_secs(30),
        failpoints: &failpoints,
    };
    let report = tick.run("ltc", &bots[0].params).await.expect("tick");
    assert!(
        failpoints.fired.load(Ordering::SeqCst),
        "the flatten ran mid-tick"
    );

    let orders = fake.orders("LTCUSDT");
    assert_eq!(
        fake.position("LTCUSDT"),
        0,
        "flat after the flatten: {orders:?}"
    );
    assert!(
        orders.iter().any(|o| o.cl_ord_id.ends_with('u')),
        "the tick closed its own late order: {orders:?} ({})",
        report.note
    );
    let stored = store.load("ltc").await.expect("load").expect("record");
    assert!(stored.value.paused, "the flatten's pause stands");
    assert_eq!(stored.value.pending, None);

    // The next tick is paused: nothing more is sent.
    let before = fake.orders("LTCUSDT").len();
    fake.advance("LTCUSDT", 1);
    let next = Tick {
        now_ms: FIRST_CLOSE_MS + 12 * 60_000 + 2_000,
        failpoints: &maestro_lambda::tick::NoFailpoints,
        ..tick
    };
    next.run("ltc", &bots[0].params).await.expect("tick");
    assert_eq!(fake.orders("LTCUSDT").len(), before);
    assert_eq!(fake.position("LTCUSDT"), 0);
}
