//! The local route server of `maestro run` refuses what a web page in the trader's browser could
//! send it: a cross-site "simple request" (`text/plain`, no preflight) and a DNS-rebinding page (a
//! foreign `Host`). Every refusal leaves the bot's stored record and `/status` as they were; the
//! same calls from curl go through.

use crate::run_routes_support::{BOT, Call, FLATTEN, PAUSE, SET_PARAMS, assert_refused, bot, send};
use maestro_cli::local::{MarketSource, RunOptions, run_simulated};
use maestro_core::replay::DEMO_START_MS;
use maestro_lambda::config::DeployLimits;
use maestro_lambda::store::{FileStore, StateStore};
use maestro_tests::scratch::scratch_dir;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The bot's stored record (version and value) and what `/status` says, asked the way curl asks.
async fn snapshot(addr: SocketAddr, state_dir: &Path) -> (Value, Value) {
    let store = FileStore::open(state_dir).expect("the state directory");
    let record = store
        .load(&maestro_tests::bot_id(BOT))
        .await
        .expect("the record loads")
        .expect("the run saved a record");
    let stored = serde_json::json!({
        "version": record.version,
        "value": serde_json::to_value(&record.value).expect("record as JSON"),
    });
    let (status, body) = send(addr, &Call::curl(addr, "GET", "/status", "")).await;
    assert_eq!(status, 200, "GET /status from curl: {body}");
    (stored, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_a_browser_cannot_drive_the_simulated_run() {
    let state = scratch_dir("pages_in_a_browser_cannot_drive_the_simulated_run");
    let options = RunOptions {
        state_dir: state.path().to_owned(),
        bot: bot(),
        limits: DeployLimits::of_bots(&[bot()]),
        market: MarketSource::Demo {
            seed: 7,
            candles: 300,
            start_close_ms: DEMO_START_MS,
        },
        pace: Duration::ZERO,
        listen: Some("127.0.0.1:0".parse().expect("address")),
        max_ticks: None,
        print_ticks: false,
    };
    let summary = run_simulated(&options, &mut std::io::sink(), std::future::pending())
        .await
        .expect("the run");
    // The market has ended: the server goes on serving a state that nothing else changes.
    let addr = summary.listening.expect("the routes were served");
    let port = addr.port();
    let before = snapshot(addr, state.path()).await;

    let evil = "http://evil.example".to_owned();
    let rebound_host = format!("evil.example:{port}");
    let cross_site = |body| Call {
        origin: Some(evil.clone()),
        content_type: Some("text/plain"),
        ..Call::curl(addr, "POST", "/control", body)
    };
    let cases: Vec<(&str, Call<'_>, u16)> = vec![
        (
            "cross-site text/plain set_params",
            cross_site(SET_PARAMS),
            403,
        ),
        ("cross-site text/plain flatten", cross_site(FLATTEN), 403),
        (
            "cross-site application/json flatten",
            Call {
                content_type: Some("application/json"),
                ..cross_site(FLATTEN)
            },
            403,
        ),
        (
            "opaque origin (sandboxed frame) flatten",
            Call {
                origin: Some("null".into()),
                content_type: Some("application/json"),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
            403,
        ),
        (
            "origin on another port of this machine",
            Call {
                origin: Some(format!("http://127.0.0.1:{}", port.wrapping_add(1))),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
            403,
        ),
        (
            "text/plain without an Origin",
            Call {
                content_type: Some("text/plain"),
                ..Call::curl(addr, "POST", "/control", SET_PARAMS)
            },
            415,
        ),
        (
            "form-encoded without an Origin",
            Call {
                content_type: Some("application/x-www-form-urlencoded"),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
            415,
        ),
        (
            "no content type",
            Call {
                content_type: None,
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
            415,
        ),
        (
            "rebinding page reads /status",
            Call {
                host: Some(rebound_host.clone()),
                ..Call::curl(addr, "GET", "/status", "")
            },
            403,
        ),
        (
            "rebinding page posts flatten as same-origin JSON",
            Call {
                host: Some(rebound_host.clone()),
                origin: Some(format!("http://{rebound_host}")),
                ..Call::curl(addr, "POST", "/control", FLATTEN)
            },
            403,
        ),
        (
            "rebinding page posts set_params without an Origin",
            Call {
                host: Some(rebound_host.clone()),
                ..Call::curl(addr, "POST", "/control", SET_PARAMS)
            },
            403,
        ),
        (
            "no Host header",
            Call {
                host: None,
                ..Call::curl(addr, "GET", "/status", "")
            },
            403,
        ),
        (
            "loopback name on another port",
            Call {
                host: Some(format!("localhost:{}", port.wrapping_add(1))),
                ..Call::curl(addr, "GET", "/status", "")
            },
            403,
        ),
    ];
    for (what, call, status) in &cases {
        let got = send(addr, call).await;
        assert_refused(what, &got, *status);
        assert!(
            got.1.get("bots").is_none(),
            "{what}: a refusal tells nothing of the bot: {}",
            got.1
        );
    }
    let after = snapshot(addr, state.path()).await;
    assert_eq!(
        before.0, after.0,
        "refused requests changed the stored record"
    );
    assert_eq!(before.1, after.1, "refused requests changed /status");

    // The same commands from curl (or a page the server itself served) go through.
    let (status, body) = send(addr, &Call::curl(addr, "POST", "/control", PAUSE)).await;
    assert_eq!(status, 200, "curl with application/json: {body}");
    let json_with_charset = Call {
        host: Some(format!("localhost:{port}")),
        origin: Some(format!("http://localhost:{port}")),
        content_type: Some("application/json; charset=utf-8"),
        ..Call::curl(
            addr,
            "POST",
            "/control",
            r#"{"action":"resume","bot":"local"}"#,
        )
    };
    let (status, body) = send(addr, &json_with_charset).await;
    assert_eq!(status, 200, "same-origin JSON on localhost: {body}");
    let (status, body) = send(
        addr,
        &Call {
            host: Some(format!("LOCALHOST:{port}")),
            ..Call::curl(addr, "GET", "/health", "")
        },
    )
    .await;
    assert_eq!(status, 200, "a loopback name in any case: {body}");
    let (stored, _) = snapshot(addr, state.path()).await;
    let version = |v: &Value| v["version"].as_u64().unwrap_or(0);
    assert!(
        version(&stored) > version(&before.0),
        "the accepted commands were saved"
    );
}
