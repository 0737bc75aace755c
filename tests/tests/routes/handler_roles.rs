//! The tick and the routes are deployed as two functions of one binary (`FUNCTION_ROLE`), so a
//! flood of route calls cannot use up the tick's concurrency. Each refuses the other's events: the
//! tick function has no URL, and the routes function must never trade on a stray schedule.

use maestro_lambda::config::{DeployLimits, FunctionRole, parse_bots};
use maestro_lambda::handler::{Function, HandlerError, TickMetrics};
use maestro_lambda::routes::RouteAuth;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::TickSummary;
use maestro_tests::bot_id;
use maestro_tests::clock::now_ms;
use maestro_tests::dynamo::fresh_table;
use maestro_tests::events::event as fixture;
use maestro_tests::fake_bitmex::FakeBitmex;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::test]
async fn each_function_refuses_the_other_functions_events() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let table = fresh_table("handler-roles").await;
    let bots =
        parse_bots(r#"[{"id":"ltc","bin":"1m","short_window":3,"long_window":5}]"#).expect("bots");
    let ticks = Arc::new(AtomicUsize::new(0));
    let function = |role| Function {
        exchange: fake.client().expect("client"),
        store: table.store.clone(),
        tick: {
            let ticks = ticks.clone();
            move |_now: i64, _deadline: Instant| {
                ticks.fetch_add(1, Ordering::SeqCst);
                std::future::ready(TickSummary::default())
            }
        },
        bots: bots.clone(),
        limits: DeployLimits::of_bots(&bots),
        auth: RouteAuth::Iam,
        tick_margin: Duration::from_millis(3000),
        role,
        metrics: TickMetrics::off(),
    };
    let now = now_ms();

    // The tick function: a URL request (here a pause) is refused before any route runs.
    let tick_fn = function(FunctionRole::Tick);
    for event in ["url-post-control-iam.json", "url-get-health.json"] {
        let err = tick_fn
            .dispatch(fixture(event), now + 50_000, now)
            .await
            .expect_err("the tick function serves no URL");
        assert!(
            matches!(
                err,
                HandlerError::WrongFunction {
                    role: "tick",
                    event: "function URL requests"
                }
            ),
            "{event}: {err:?}"
        );
        assert_eq!(
            lambda_runtime::Diagnostic::from(err).error_type,
            "WrongFunction"
        );
    }
    assert!(
        table
            .store
            .load(&bot_id("ltc"))
            .await
            .expect("load")
            .is_none(),
        "the refused pause stored nothing"
    );
    tick_fn
        .dispatch(fixture("scheduled-event.json"), now + 50_000, now)
        .await
        .expect("the tick function ticks");
    assert_eq!(ticks.load(Ordering::SeqCst), 1);

    // The routes function: a scheduled event runs no tick.
    let routes_fn = function(FunctionRole::Routes);
    let err = routes_fn
        .dispatch(fixture("scheduled-event.json"), now + 50_000, now)
        .await
        .expect_err("the routes function does not tick");
    assert!(
        matches!(
            err,
            HandlerError::WrongFunction {
                role: "routes",
                event: "scheduled events"
            }
        ),
        "{err:?}"
    );
    assert_eq!(ticks.load(Ordering::SeqCst), 1, "no tick ran");
    let out = routes_fn
        .dispatch(fixture("url-get-health.json"), now + 50_000, now)
        .await
        .expect("the routes function answers");
    assert_eq!(out["statusCode"], 200, "{out}");
}
