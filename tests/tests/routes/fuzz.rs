//! Random requests at the routes (real `FileStore`, real BitMEX client against the fake): no request
//! panics, none gets a 5xx, and none that should be refused changes the stored state or sends
//! anything to the exchange.

use super::support::*;
use maestro_lambda::routes::Request;
use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use maestro_lambda::store::{BotRecord, StateStore};
use maestro_tests::bot_id;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get", ""
        ])
        .prop_map(str::to_owned),
        "[A-Za-z]{1,12}",
        "\\PC{0,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "/health",
            "/status",
            "/control",
            "/",
            "",
            "/control/",
            "//control",
            "/Status",
            "/status/../control",
            "/control%00",
            "/health?x=1",
        ])
        .prop_map(str::to_owned),
        "/[a-z/]{0,20}",
        "\\PC{0,40}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("bot=ltc".to_owned()),
        Just("bot=%FF%FE".to_owned()),
        "[a-z=&%0-9]{0,30}",
        "\\PC{0,30}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            HEADER_TIMESTAMP,
            HEADER_NONCE,
            HEADER_SIGNATURE,
            "X-Maestro-Signature",
            "content-type",
            "authorization",
        ])
        .prop_map(str::to_owned),
        "[a-z-]{1,20}",
    ];
    let value = prop_oneof![
        "[0-9]{0,14}",
        "[0-9a-f]{0,64}",
        "[A-Za-z0-9_-]{0,70}",
        "\\PC{0,40}"
    ];
    prop::collection::vec((name, value), 0..6)
}

fn command() -> impl Strategy<Value = Vec<u8>> {
    let action = prop_oneof![
        prop::sample::select(vec!["pause", "resume", "flatten", "set_params"])
            .prop_map(str::to_owned),
        "\\PC{0,12}",
    ];
    let bot = prop_oneof![
        prop::sample::select(vec!["ltc", "paper"]).prop_map(str::to_owned),
        "\\PC{0,12}"
    ];
    (action, bot, any::<u32>(), any::<i64>()).prop_map(|(action, bot, w, q)| {
        json!({"action": action, "bot": bot, "params": {"short_window": w, "qty": q}})
            .to_string()
            .into_bytes()
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,200}".prop_map(String::into_bytes),
        command(),
    ]
}

prop_compose! {
    fn unsigned_request()(
        method in method(), path in path(), query in query(), headers in headers(), body in body()
    ) -> Request {
        Request { method, path, query, headers, body, iam_caller: None }
    }
}

/// Requests without a valid signature: nothing but `GET /health` succeeds, nothing changes.
#[test]
fn unsigned_random_requests_never_panic_nor_change_state() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let h = rt.block_on(Harness::hmac());
    let now = now_ms();
    // A stored record, so "unchanged" is about real bytes.
    let record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    rt.block_on(h.store.save(&record, None))
        .expect("seed record");
    let before = h.state();
    h.fake.clear_requests();

    runner(256)
        .run(&unsigned_request(), |req| {
            let resp = rt.block_on(h.send(&req, now));
            let health = req.method == "GET" && req.path == "/health";
            let page = req.method == "GET" && req.path == "/";
            if health && req.body.len() <= maestro_lambda::routes::MAX_BODY_BYTES {
                prop_assert_eq!(resp.status, 200);
            } else if page {
                // The dashboard: the same page for everyone, holding no data.
                prop_assert_eq!(resp.status, 200);
                prop_assert_eq!(resp.page, Some(maestro_lambda::routes::DASHBOARD));
            } else {
                prop_assert!((400..500).contains(&resp.status), "{:?} -> {:?}", req, resp);
                prop_assert!(resp.body["error"].is_string() && resp.body["detail"].is_string());
            }
            prop_assert_eq!(&h.state(), &before, "state changed by {:?}", req);
            prop_assert!(h.fake.requests().is_empty(), "exchange called by {:?}", req);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Correctly signed requests carrying commands that must be refused: 4xx, no bot state change, no
/// order or cancel sent (the nonce is claimed, which is the only write allowed).
#[test]
fn signed_invalid_commands_never_change_bot_state() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let h = rt.block_on(Harness::hmac());
    let record = BotRecord::new(bot_id("ltc"), h.bots[0].params.clone());
    rt.block_on(h.store.save(&record, None))
        .expect("seed record");
    let before = h.bot_state();

    let invalid = prop_oneof![
        // An action that does not exist.
        "\\PC{0,16}"
            .prop_filter("not a real action", |a| {
                !["pause", "resume", "flatten", "set_params"].contains(&a.as_str())
            })
            .prop_map(|a| json!({"action": a, "bot": "ltc"}).to_string()),
        // A real action for a bot that does not exist.
        (
            prop::sample::select(vec!["pause", "resume", "flatten"]),
            "[a-z0-9_-]{1,12}".prop_filter("unknown bot", |b| b != "ltc" && b != "paper"),
        )
            .prop_map(|(a, b)| json!({"action": a, "bot": b}).to_string()),
        // Windows out of order or out of range.
        (0u32..5000, 0u32..5000)
            .prop_filter("invalid windows", |(s, l)| *s == 0 || s >= l || *l > 1024)
            .prop_map(|(s, l)| json!({"action": "set_params", "bot": "ltc",
                "params": {"short_window": s, "long_window": l}})
            .to_string()),
        // Size rules.
        (0u64..3000, 0u64..3000)
            .prop_filter("invalid size", |(q, m)| *q == 0 || m < q)
            .prop_map(|(q, m)| json!({"action": "set_params", "bot": "ltc",
                "params": {"qty": q, "max_position": m}})
            .to_string()),
        // Anything that is not JSON.
        "[^{\\[\"0-9tfn -]\\PC{0,60}",
    ];

    runner(64)
        .run(&invalid, |body| {
            let now = now_ms();
            let resp = rt.block_on(h.send(&signed("POST", "/control", "", &body, now), now));
            prop_assert!((400..500).contains(&resp.status), "{} -> {:?}", body, resp);
            prop_assert_eq!(&h.bot_state(), &before, "bot state changed by {}", body);
            let writes = h
                .fake
                .requests()
                .iter()
                .filter(|r| r.method != "GET")
                .count();
            if writes > 0 {
                return Err(TestCaseError::fail(format!("{body} reached the exchange")));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
