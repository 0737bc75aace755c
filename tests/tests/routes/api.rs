//! The routes' gatekeeping end to end over the real adapters: every authentication failure
//! (missing, wrong, stale, replayed) and every bad-input class, each checked to leave the stored
//! state byte-for-byte unchanged.

use super::support::*;
use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SKEW_S};
use maestro_lambda::routes::{MAX_BODY_BYTES, Request};
use serde_json::json;

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
