//! `maestro remote dashboard` in front of the real function (under `cargo lambda watch`, HMAC
//! mode): the page's calls through the proxy are signed and answered as a direct signed call is,
//! its pause lands in DynamoDB, and a foreign page's POST or a rebinding `Host` is refused by the
//! proxy and never reaches the function.

use maestro_cli::remote::{Auth, Call, Remote, dashboard};
use maestro_lambda::secrets::Secret;
use maestro_lambda::store::StateStore;
use maestro_tests::bot_id;
use maestro_tests::dynamo::DynamoTable;
use serde_json::Value;
use std::time::Duration;

/// Runs the checks against the function at `base` (bot `ltc`, paused on entry) with `secret`;
/// `log` gives the emulator's log, shown when the function does not answer as expected.
pub async fn check(base: &str, secret: &str, table: &DynamoTable, log: &dyn Fn() -> String) {
    let remote = || Remote::new(base, Auth::Hmac(Secret::new(secret))).expect("a loopback URL");
    let bound = dashboard::spawn(remote(), "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("the proxy starts");
    let local = format!("http://{bound}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let call = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        let mut request = http
            .request(method.parse().expect("method"), format!("{local}{path}"))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move {
            let answer = request.send().await.expect("the proxy answers");
            let status = answer.status().as_u16();
            let text = answer.text().await.expect("body");
            (status, text)
        }
    };
    let now_s = || maestro_lambda::clock::now_ms() / 1000;
    let record = || async {
        table
            .store
            .load(&bot_id("ltc"))
            .await
            .expect("load")
            .expect("record")
    };

    // The page, and its status read through the proxy: what a direct signed call reads.
    let (status, page) = call("GET", "/", &[], "").await;
    assert_eq!(
        (status, page.as_str()),
        (200, maestro_lambda::routes::DASHBOARD)
    );
    let (status, proxied) = call("GET", "/status?bot=ltc", &[], "").await;
    assert_eq!(status, 200, "{proxied}\nthe emulator's log:\n{}", log());
    let proxied: Value = serde_json::from_str(&proxied).expect("JSON");
    let (_, direct) = remote()
        .send(&Call::status(Some("ltc")), now_s())
        .await
        .expect("direct status");
    assert_eq!(
        proxied["bots"], direct["bots"],
        "through the proxy as directly"
    );
    let (status, history) = call("GET", "/history?bot=ltc", &[], "").await;
    assert_eq!(status, 200, "{history}\nthe emulator's log:\n{}", log());

    // Resumed directly, paused through the proxy as the page does it (its own origin, JSON).
    let (code, _) = remote()
        .send(&Call::control("resume", "ltc", None), now_s())
        .await
        .expect("resume");
    assert_eq!(code, 200);
    assert!(!record().await.value.paused);
    let json = ("content-type", "application/json");
    let pause = r#"{"action":"pause","bot":"ltc"}"#;
    let (status, body) = call("POST", "/control", &[json, ("origin", &local)], pause).await;
    assert_eq!(status, 200, "{body}\nthe emulator's log:\n{}", log());
    assert!(
        record().await.value.paused,
        "the proxy's pause is in DynamoDB"
    );

    // What the guard refuses never reaches the function: the record does not move.
    let version = record().await.version;
    let resume = r#"{"action":"resume","bot":"ltc"}"#;
    let foreign = call(
        "POST",
        "/control",
        &[json, ("origin", "http://evil.example")],
        resume,
    )
    .await;
    assert_eq!(foreign.0, 403, "a foreign page's POST: {foreign:?}");
    let rebound = call(
        "POST",
        "/control",
        &[json, ("host", "evil.example:80")],
        resume,
    )
    .await;
    assert_eq!(rebound.0, 403, "a rebinding Host: {rebound:?}");
    let after = record().await;
    assert_eq!(
        after.version, version,
        "a refused request changed the record"
    );
    assert!(after.value.paused);
}
