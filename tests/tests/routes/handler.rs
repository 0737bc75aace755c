//! The Lambda handler driven by real event JSON (`tests/fixtures/events`, written after the shapes
//! AWS documents for EventBridge scheduled events and function-URL requests), over the real
//! adapters: `DynamoStore` against moto on 127.0.0.1 and the BitMEX client against the fake BitMEX.
//!
//! These tests are about the handler itself (event kinds, budget, errors, auth, logs), so a closure in
//! the handler's `ScheduledTick` seam records the budget it was given; the same handler with the real tick
//! (`tick::AllBots`, as `bootstrap` builds it) is in `tests/tests/tick/handler.rs`.

use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::config::{DeployLimits, FunctionRole, parse_bots};
use maestro_lambda::handler::{Function, HandlerError, TickMetrics};
use maestro_lambda::routes::RouteAuth;
use maestro_lambda::routes::auth::sign;
use maestro_lambda::secrets::Secret;
use maestro_lambda::store::{DynamoStore, StateStore};
use maestro_lambda::tick::{BotOutcome, TickSummary};
use maestro_tests::bot_id;
use maestro_tests::clock::now_ms;
use maestro_tests::dynamo::fresh_table;
use maestro_tests::events::event as fixture;
use maestro_tests::fake_bitmex::{FakeBitmex, TEST_API_KEY, TEST_API_SECRET};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const ROUTE_SECRET: &str = "handler-route-secret-0123456789abcdef";

/// Calls the tick received: (now_ms, time left until its deadline when it was called).
type Calls = Arc<Mutex<Vec<(i64, Duration)>>>;

/// A stand-in for `tick::run_all` that records its budget and reports `outcomes`.
fn recording_tick(
    calls: Calls,
    outcomes: Vec<BotOutcome>,
) -> impl Fn(i64, Instant) -> std::future::Ready<TickSummary> + Send + Sync {
    move |now, deadline| {
        let left = deadline.saturating_duration_since(Instant::now());
        calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((now, left));
        std::future::ready(TickSummary {
            bots: outcomes.clone(),
        })
    }
}

fn ok(bot: &str) -> BotOutcome {
    BotOutcome {
        bot: bot.to_owned(),
        ok: true,
        outcome: "quiet".to_owned(),
        orders: 0,
        duration_ms: 5,
    }
}

struct Setup<T> {
    function: Function<BitmexClient, DynamoStore, T>,
    _fake: FakeBitmex,
}

async fn setup<T>(test: &str, auth: RouteAuth, tick: T) -> Setup<T> {
    captured_logs();
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let table = fresh_table(test).await;
    let bots =
        parse_bots(r#"[{"id":"ltc","bin":"1m","short_window":3,"long_window":5}]"#).expect("bots");
    Setup {
        function: Function {
            exchange: fake.client().expect("client"),
            store: table.store,
            tick,
            limits: DeployLimits::of_bots(&bots),
            bots,
            auth,
            tick_margin: Duration::from_millis(3000),
            role: FunctionRole::Both,
            metrics: TickMetrics::off(),
        },
        _fake: fake,
    }
}

fn hmac() -> RouteAuth {
    RouteAuth::Hmac(Secret::new(ROUTE_SECRET))
}

fn no_tick() -> impl Fn(i64, Instant) -> std::future::Ready<TickSummary> + Send + Sync {
    recording_tick(Arc::default(), Vec::new())
}

/// The function-URL response parts: status, content type, JSON body.
fn url_response(out: &Value) -> (i64, String, Value) {
    let status = out["statusCode"].as_i64().expect("statusCode");
    let content_type = out["headers"]["content-type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body: Value =
        serde_json::from_str(out["body"].as_str().expect("body text")).expect("the body is JSON");
    assert_eq!(out["isBase64Encoded"], false);
    (status, content_type, body)
}

// ---------------------------------------------------------------------------------------------
// Scheduled events

#[tokio::test]
async fn scheduled_event_runs_the_tick_within_the_lambda_deadline() {
    let calls: Calls = Arc::default();
    let s = setup(
        "handler-schedule",
        RouteAuth::Iam,
        recording_tick(calls.clone(), vec![ok("ltc")]),
    )
    .await;
    let now = now_ms();
    let out = s
        .function
        .dispatch(fixture("scheduled-event.json"), now + 50_000, now)
        .await
        .expect("a scheduled event is handled");
    assert_eq!(out["bots"][0]["bot"], "ltc");
    let calls = calls.lock().expect("calls").clone();
    assert_eq!(calls.len(), 1, "the tick runs once per scheduled event");
    assert_eq!(calls[0].0, now);
    // 50 s left minus the 3 s margin, less the moment it took to get there.
    let left = calls[0].1;
    assert!(
        left <= Duration::from_millis(47_000) && left > Duration::from_millis(45_000),
        "budget {left:?}"
    );
}

/// Through `handle` (what `service_fn` calls): the budget comes from the invocation context's
/// deadline; an invocation without a believable one (local emulators) gets the template's timeout.
#[tokio::test]
async fn the_budget_comes_from_the_invocation_deadline() {
    let calls: Calls = Arc::default();
    let s = setup(
        "handler-context",
        RouteAuth::Iam,
        recording_tick(calls.clone(), vec![ok("ltc")]),
    )
    .await;
    let now = u64::try_from(now_ms()).expect("after 1970");
    let assumed = Duration::from_millis(
        u64::try_from(maestro_lambda::handler::ASSUMED_TIMEOUT_MS).expect("positive") - 3000,
    );
    for (deadline, budget) in [
        (now + 20_000, Duration::from_millis(17_000)),
        (0, assumed),
        (5_000, assumed),
    ] {
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline;
        let event = lambda_runtime::LambdaEvent::new(fixture("scheduled-event.json"), context);
        s.function.handle(event).await.expect("handled");
        let left = calls.lock().expect("calls").last().expect("tick ran").1;
        assert!(
            left <= budget && left + Duration::from_millis(2000) > budget,
            "deadline {deadline}: budget {left:?}, expected about {budget:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_bot_makes_the_invocation_an_error_for_the_alarm() {
    let failing = BotOutcome {
        bot: "ltc".to_owned(),
        ok: false,
        outcome: "exchange temporarily unavailable".to_owned(),
        orders: 0,
        duration_ms: 5,
    };
    let s = setup(
        "handler-tick-fails",
        RouteAuth::Iam,
        recording_tick(Arc::default(), vec![failing, ok("other")]),
    )
    .await;
    let now = now_ms();
    let err = s
        .function
        .dispatch(fixture("scheduled-event.json"), now + 50_000, now)
        .await
        .expect_err("a failed bot is an error");
    let HandlerError::TickFailed { failed, total, .. } = &err else {
        panic!("expected TickFailed, got {err:?}");
    };
    assert_eq!((*failed, *total), (1, 2));
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "TickFailed");
    assert!(
        diagnostic
            .error_message
            .contains("ltc: exchange temporarily unavailable")
    );
}

#[tokio::test]
async fn no_tick_starts_without_time_for_it() {
    let calls: Calls = Arc::default();
    let s = setup(
        "handler-no-budget",
        RouteAuth::Iam,
        recording_tick(calls.clone(), vec![ok("ltc")]),
    )
    .await;
    let now = now_ms();
    for left_ms in [2_999, 0, -5_000] {
        let err = s
            .function
            .dispatch(fixture("scheduled-event.json"), now + left_ms, now)
            .await
            .expect_err("too little time");
        assert!(matches!(err, HandlerError::NoBudget { .. }), "{err:?}");
    }
    assert!(calls.lock().expect("calls").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Function-URL requests

#[tokio::test]
async fn url_requests_reach_the_routes_with_iam_auth() {
    let s = setup("handler-url-iam", RouteAuth::Iam, no_tick()).await;
    let now = now_ms();

    let out = s
        .function
        .dispatch(fixture("url-get-health.json"), now + 50_000, now)
        .await
        .expect("health");
    let (status, content_type, body) = url_response(&out);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(body["status"], "ok");

    // The dashboard page goes out as HTML under a policy that lets it run only its own code.
    let mut page = fixture("url-get-health.json");
    page["rawPath"] = "/".into();
    page["requestContext"]["http"]["path"] = "/".into();
    let out = s
        .function
        .dispatch(page, now + 50_000, now)
        .await
        .expect("dashboard");
    assert_eq!(out["statusCode"], 200, "{out}");
    assert_eq!(out["headers"]["content-type"], "text/html; charset=utf-8");
    let csp = out["headers"]["content-security-policy"]
        .as_str()
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(
        out["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("<!doctype html>")),
        "{out}"
    );

    let out = s
        .function
        .dispatch(fixture("url-post-control-iam.json"), now + 50_000, now)
        .await
        .expect("pause");
    let (status, _, body) = url_response(&out);
    assert_eq!(status, 200, "{body}");
    let stored = s
        .function
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused, "the pause reached DynamoDB");

    let out = s
        .function
        .dispatch(fixture("url-get-status-iam.json"), now + 50_000, now)
        .await
        .expect("status");
    let (status, _, body) = url_response(&out);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bots"][0]["state"], "paused");

    // The same request without the IAM identity (a URL opened to the public by mistake): refused.
    let mut anonymous = fixture("url-post-control-iam.json");
    anonymous["requestContext"]
        .as_object_mut()
        .expect("context")
        .remove("authorizer");
    anonymous["body"] = json!(r#"{"action":"resume","bot":"ltc"}"#);
    let out = s
        .function
        .dispatch(anonymous, now + 50_000, now)
        .await
        .expect("answered");
    let (status, _, body) = url_response(&out);
    assert_eq!(status, 401, "{body}");
    let stored = s
        .function
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused, "a refused request changed nothing");
}

/// What `curl -d` sends through a public function URL: a form content type, so the body arrives
/// base64-encoded; the HMAC covers the decoded bytes.
fn hmac_event(body: &str, now: i64, nonce: &str) -> Value {
    let mut event = fixture("url-post-control-hmac-base64.json");
    let ts = (now / 1000).to_string();
    let sig = sign(
        &Secret::new(ROUTE_SECRET),
        "POST",
        "/control",
        &ts,
        nonce,
        body.as_bytes(),
    );
    let headers = event["headers"].as_object_mut().expect("headers");
    headers.insert("x-maestro-timestamp".into(), json!(ts));
    headers.insert("x-maestro-nonce".into(), json!(nonce));
    headers.insert("x-maestro-signature".into(), json!(sig));
    use base64::Engine as _;
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event
}

#[tokio::test]
async fn hmac_signed_base64_bodies_work_once() {
    let s = setup("handler-url-hmac", hmac(), no_tick()).await;
    let now = now_ms();
    // The fixture's own body, as captured: resume.
    let event = hmac_event(
        r#"{"action":"resume","bot":"ltc"}"#,
        now,
        "fixture-nonce-0001",
    );
    assert_eq!(
        event["body"],
        fixture("url-post-control-hmac-base64.json")["body"],
        "the fixture's body is the resume command"
    );
    let out = s
        .function
        .dispatch(event.clone(), now + 50_000, now)
        .await
        .expect("answered");
    let (status, _, body) = url_response(&out);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["action"], "resume");

    let out = s
        .function
        .dispatch(event, now + 50_000, now + 1000)
        .await
        .expect("answered");
    let (status, _, body) = url_response(&out);
    assert_eq!(status, 401, "a replay is refused: {body}");

    let pause = hmac_event(
        r#"{"action":"pause","bot":"ltc"}"#,
        now,
        "fixture-nonce-0002",
    );
    let out = s
        .function
        .dispatch(pause, now + 50_000, now)
        .await
        .expect("answered");
    assert_eq!(url_response(&out).0, 200);
    let stored = s
        .function
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused);

    let mut broken = hmac_event(
        r#"{"action":"resume","bot":"ltc"}"#,
        now,
        "fixture-nonce-0003",
    );
    broken["body"] = json!("%%% not base64 %%%");
    let out = s
        .function
        .dispatch(broken, now + 50_000, now)
        .await
        .expect("answered");
    let (status, _, body) = url_response(&out);
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_body")));
}

// ---------------------------------------------------------------------------------------------
// Neither kind

#[tokio::test]
async fn other_events_are_a_clear_error() {
    let calls: Calls = Arc::default();
    let s = setup(
        "handler-unknown",
        RouteAuth::Iam,
        recording_tick(calls.clone(), vec![ok("ltc")]),
    )
    .await;
    let now = now_ms();
    let mut wrong_source = fixture("scheduled-event.json");
    wrong_source["source"] = json!("aws.ec2");
    let unknown = [
        fixture("sqs-message.json"),
        json!({}),
        Value::Null,
        json!([1, 2]),
        json!("tick"),
        wrong_source,
    ];
    for event in unknown {
        let err = s
            .function
            .dispatch(event.clone(), now + 50_000, now)
            .await
            .expect_err("not ours");
        assert!(
            matches!(err, HandlerError::UnknownEvent(_)),
            "{event}: {err:?}"
        );
        assert!(err.to_string().contains("scheduled event"), "{err}");
    }
    let err = s
        .function
        .dispatch(fixture("sqs-message.json"), now + 50_000, now)
        .await
        .expect_err("sqs");
    assert!(
        err.to_string().contains("Records"),
        "names the keys it saw: {err}"
    );

    // Shaped like a URL request but broken: a malformed-event error, not a panic.
    let mut broken = fixture("url-get-health.json");
    broken["requestContext"]["timeEpoch"] = json!("yesterday");
    let err = s
        .function
        .dispatch(broken, now + 50_000, now)
        .await
        .expect_err("malformed");
    assert!(matches!(err, HandlerError::Malformed { .. }), "{err:?}");
    let mut broken = fixture("scheduled-event.json");
    broken["time"] = json!(12);
    let err = s
        .function
        .dispatch(broken, now + 50_000, now)
        .await
        .expect_err("malformed");
    assert!(matches!(err, HandlerError::Malformed { .. }), "{err:?}");
    assert!(
        calls.lock().expect("calls").is_empty(),
        "no tick for a foreign event"
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Everything logged by this test binary: a global subscriber, installed by [`setup`] before any
/// test logs. A per-thread one (`set_default`, even with the interest cache rebuilt) misses the
/// handler's events when the other handler tests in this binary hit the same callsites at the same
/// time; no other test in the binary installs a subscriber, and the scan then covers their logs too.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .finish();
        // Another global subscriber would make the scan blind: fail loudly instead.
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        captured
    })
}

/// Runs every kind of invocation, including failures (bad auth, exchange refusing the key,
/// foreign events), with logging at TRACE, and finds no secret in any log line of the whole test
/// binary, nor in any response or error.
#[tokio::test]
async fn nothing_logged_or_answered_holds_a_secret() {
    use maestro_tests::fake_bitmex::{Fault, FaultRule};
    let s = setup("handler-secrets", hmac(), no_tick()).await;
    s._fake.set_position("LTCUSDT", 1000);
    s._fake
        .inject(FaultRule::new(Fault::Unauthorized).times(10));
    let now = now_ms();
    let mut seen = String::new();
    let events = vec![
        fixture("url-get-health.json"),
        hmac_event(
            r#"{"action":"flatten","bot":"ltc"}"#,
            now,
            "secret-scan-0001",
        ),
        hmac_event(
            r#"{"action":"pause","bot":"ltc"}"#,
            now - 3_600_000,
            "secret-scan-0002",
        ),
        hmac_event(
            r#"{"action":"set_params","bot":"ltc","params":{"qty":0}}"#,
            now,
            "secret-scan-0003",
        ),
        fixture("url-get-status-iam.json"),
        fixture("sqs-message.json"),
        fixture("scheduled-event.json"),
    ];
    for event in events {
        match s.function.dispatch(event, now + 50_000, now).await {
            Ok(out) => seen.push_str(&out.to_string()),
            Err(e) => seen.push_str(&format!("{e} {e:?}")),
        }
    }
    seen.push_str(&format!("{:?}", s.function.auth));
    let logs = String::from_utf8_lossy(&captured_logs().0.lock().expect("logs")).into_owned();
    assert!(
        logs.contains("route"),
        "the handler logged its requests: {logs}"
    );
    for secret in [ROUTE_SECRET, TEST_API_SECRET, TEST_API_KEY] {
        assert!(!logs.contains(secret), "a log line holds {secret}:\n{logs}");
        assert!(
            !seen.contains(secret),
            "a response or error holds {secret}:\n{seen}"
        );
    }
    assert!(
        seen.contains("exchange refused the credentials"),
        "the flatten did meet the refusing exchange: {seen}"
    );
}
