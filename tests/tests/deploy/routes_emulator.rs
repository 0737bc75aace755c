//! The `bootstrap` binary itself under a Lambda runtime emulator: `cargo lambda watch` serves the
//! runtime API and the function URL on 127.0.0.1 and runs the real binary with the real clients,
//! against DynamoDB (moto) and the fake BitMEX. Requests go through the emulated function URL (with
//! the README's HMAC shell recipe), scheduled events through `cargo lambda invoke` (running the real
//! tick); the responses, the state in DynamoDB and the exchange are checked, and everything the
//! function logged is scanned for secrets.
//!
//! `cargo lambda` comes from `<root>/.venv-tools/bin` (installed by `.ci/setup`); without it this test
//! fails and says so. The first run compiles `bootstrap` (debug), which takes a while.
//!
//! The test prints the function's time to ready and its resident memory. For the release figures run
//! it with `MAESTRO_EMULATOR_PROFILE=release` (after `cargo build --release -p maestro-lambda --bin
//! bootstrap`, or it compiles that first).

use maestro_lambda::exchange::BinSize;
use maestro_lambda::store::StateStore;
use maestro_tests::bot_id;
use maestro_tests::dynamo::fresh_table;
use maestro_tests::emulator::{Emulator, Invoke, hmac_env, release, root};
use maestro_tests::fake_bitmex::{FakeBitmex, TEST_API_KEY, TEST_API_SECRET, synthetic};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const ROUTE_SECRET: &str = "emulator-route-secret-0123456789abcdef";
pub(super) const BOTS: &str =
    r#"[{"id":"ltc","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5}]"#;

/// The README's HMAC recipe, verbatim (the test checks the README still holds it).
const README_MAESTRO_FN: &str = r#"mcall() {  # mcall METHOD PATH [BODY]; python3 reads the key from its environment
  local ts nonce sig
  ts=$(date +%s); nonce=$(openssl rand -hex 16)
  sig=$(printf '%s\n%s\n%s\n%s\n%s' "$1" "$2" "$ts" "$nonce" "${3:-}" | python3 -c 'if 1:
        import hashlib, hmac, os, sys
        key = os.environ["ROUTE_SECRET"].encode()
        print(hmac.new(key, sys.stdin.buffer.read(), hashlib.sha256).hexdigest())')
  curl -sS -X "$1" "$url$2" -H "x-maestro-timestamp: $ts" -H "x-maestro-nonce: $nonce" \
       -H "x-maestro-signature: $sig" -H 'content-type: application/json' ${3:+--data-binary "$3"}
}"#;

/// Runs the README's `maestro` shell function against the emulated URL; returns the JSON answer.
fn readme_maestro(base: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    let script = format!("{README_MAESTRO_FN}\nmcall \"$@\"");
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &script, "maestro", method, path])
        .env("url", base)
        .env("ROUTE_SECRET", ROUTE_SECRET);
    if let Some(body) = body {
        cmd.arg(body);
    }
    let out = cmd.output().expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: not JSON ({e}): {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_under_cargo_lambda_watch() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    assert!(
        readme.contains(README_MAESTRO_FN),
        "README.md no longer holds the HMAC recipe this test runs"
    );

    let table = fresh_table("emulator").await;
    let fake = FakeBitmex::start().await.expect("fake BitMEX");

    let dir = tempfile::tempdir().expect("temp dir");
    let env = hmac_env(&table.table, BOTS, &fake.base_url(), ROUTE_SECRET);
    let emu = Emulator::start(&env, &dir.path().join("watch.log"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");

    emu.wait_ready(&http).await;

    // The market, set once the function runs (compiling it can take minutes): the tick warms up on
    // the candles of the last few minutes of wall-clock time, so they must be recent.
    let first = (maestro_lambda::clock::now_ms() / 60_000 - 100) * 60_000;
    fake.set_series(
        "LTCUSDT",
        BinSize::M1,
        synthetic(first, BinSize::M1, 120, |i| 60.0 + (i % 5) as f64 * 0.2),
        100,
    );
    fake.set_position("LTCUSDT", 2000);

    // Unsigned: refused, nothing stored.
    let r = http.get(emu.url("/status")).send().await.expect("status");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        table
            .store
            .load(&bot_id("ltc"))
            .await
            .expect("load")
            .is_none()
    );

    // The README's recipe: pause, then read the status.
    let paused = tokio::task::spawn_blocking({
        let base = emu.base();
        move || {
            readme_maestro(
                &base,
                "POST",
                "/control",
                Some(r#"{"action":"pause","bot":"ltc"}"#),
            )
        }
    })
    .await
    .expect("pause");
    assert_eq!(paused["paused"], true, "{paused}");
    let stored = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(stored.value.paused, "the pause is in DynamoDB");
    let status = tokio::task::spawn_blocking({
        let base = emu.base();
        move || readme_maestro(&base, "GET", "/status?bot=ltc", None)
    })
    .await
    .expect("status");
    assert_eq!(status["bots"][0]["state"], "paused", "{status}");

    // A replayed request: refused, nothing changes.
    let ts = (maestro_lambda::clock::now_ms() / 1000).to_string();
    let body = r#"{"action":"resume","bot":"ltc"}"#;
    let sig = maestro_lambda::routes::auth::sign(
        &maestro_lambda::secrets::Secret::new(ROUTE_SECRET),
        "POST",
        "/control",
        &ts,
        "emulator-nonce-1",
        body.as_bytes(),
    );
    let send = || {
        http.post(emu.url("/control"))
            .header("x-maestro-timestamp", &ts)
            .header("x-maestro-nonce", "emulator-nonce-1")
            .header("x-maestro-signature", &sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(send().await.expect("resume").status().as_u16(), 200);
    let version = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record")
        .version;
    assert_eq!(send().await.expect("replay").status().as_u16(), 401);
    let after = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert_eq!(after.version, version, "a replay changed the record");

    // Flatten through the URL: the fake exchange's position is closed.
    let flat = tokio::task::spawn_blocking({
        let base = emu.base();
        move || {
            readme_maestro(
                &base,
                "POST",
                "/control",
                Some(r#"{"action":"flatten","bot":"ltc"}"#),
            )
        }
    })
    .await
    .expect("flatten");
    assert_eq!(flat["position_before"], 2000, "{flat}");
    assert_eq!(fake.position("LTCUSDT"), 0);

    // Events through the runtime API.
    let events = root().join("tests/fixtures/events");
    let (ok, out) = emu.invoke(Invoke::File(&events.join("url-get-health.json")));
    assert!(ok && out.contains("\"statusCode\": 200"), "{out}");
    let (ok, out) = emu.invoke(Invoke::Ascii("{}"));
    assert!(!ok && out.contains("UnknownEvent"), "{out}");
    // The minute schedule runs the real tick. The bot is paused (flatten): it records candles and
    // the core's state, and orders nothing.
    let scheduled = events.join("scheduled-event.json");
    let (ok, out) = emu.invoke(Invoke::File(&scheduled));
    assert!(ok && out.contains("\"ok\": true"), "{out}");
    let stored = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(
        stored.value.last_tick_ms.is_some(),
        "the tick ran: {stored:?}"
    );
    assert!(
        stored.value.core.is_some(),
        "the core warmed up: {stored:?}"
    );
    assert_eq!(fake.position("LTCUSDT"), 0, "a paused bot orders nothing");

    // Resumed, at the next completed candle the bot takes the core's target position.
    let resumed = tokio::task::spawn_blocking({
        let base = emu.base();
        move || {
            readme_maestro(
                &base,
                "POST",
                "/control",
                Some(r#"{"action":"resume","bot":"ltc"}"#),
            )
        }
    })
    .await
    .expect("resume");
    assert_eq!(resumed["paused"], false, "{resumed}");
    fake.advance("LTCUSDT", 1);
    let (ok, out) = emu.invoke(Invoke::File(&scheduled));
    assert!(ok, "{out}");
    let status = tokio::task::spawn_blocking({
        let base = emu.base();
        move || readme_maestro(&base, "GET", "/status?bot=ltc", None)
    })
    .await
    .expect("status");
    let target = status["bots"][0]["core"]["target"]
        .as_i64()
        .unwrap_or_else(|| panic!("a warmed-up core has a target: {status}"));
    // The series alternates around its mean, so the warmed-up core always holds a side.
    assert_ne!(target, 0, "{status}");
    assert_eq!(fake.position("LTCUSDT"), target, "{status}");
    assert_eq!(status["bots"][0]["last_position"], target, "{status}");

    // `maestro remote` signs what the function checks: the status it reads is the recipe's, a
    // wrong secret gets 401 with what to check, and its pause lands.
    let remote = |secret: &str| {
        maestro_cli::remote::Remote::new(
            &emu.base(),
            maestro_cli::remote::Auth::Hmac(maestro_lambda::secrets::Secret::new(secret)),
        )
        .expect("a loopback URL")
    };
    let now_s = maestro_lambda::clock::now_ms() / 1000;
    let status_call = maestro_cli::remote::Call::status(Some("ltc"));
    let (code, seen) = remote(ROUTE_SECRET)
        .send(&status_call, now_s)
        .await
        .expect("maestro remote status");
    assert_eq!(code, 200, "{seen}");
    assert_eq!(seen["bots"][0]["core"]["target"], target, "{seen}");
    let refused = remote("not-the-route-secret-0123456789abcdef")
        .send(&status_call, now_s)
        .await
        .expect_err("a wrong secret is refused");
    assert!(
        refused.to_string().contains("MAESTRO_ROUTE_SECRET"),
        "{refused}"
    );
    let (code, paused) = remote(ROUTE_SECRET)
        .send(
            &maestro_cli::remote::Call::control("pause", "ltc", None),
            now_s,
        )
        .await
        .expect("maestro remote pause");
    assert_eq!(
        (code, &paused["paused"]),
        (200, &Value::Bool(true)),
        "{paused}"
    );

    // `maestro remote dashboard`'s proxy, signing the page's calls.
    super::dashboard_proxy::check(&emu.base(), ROUTE_SECRET, &table, &|| emu.log_tail(80)).await;

    // Figures (reported, not asserted: timing belongs in benchmarks).
    let logs = emu.log_text();
    let ready_us = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["fields"]["message"] == "ready")
        .and_then(|v| v["fields"]["ready_us"].as_u64());
    let rss_kb = emu.function_pid(&table.table).and_then(|pid| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    let profile = if release() { "release" } else { "debug" };
    eprintln!(
        "bootstrap ({profile} build) ready after {ready_us:?} us; RSS after the calls and two ticks {rss_kb:?} kB"
    );
    assert!(
        ready_us.is_some(),
        "the function logs when it is ready:\n{logs}"
    );

    // The tick's embedded metrics reach stdout, where CloudWatch Logs reads them: one line per
    // scheduled tick of the one bot, each a tick without error.
    let metrics: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), 2, "one metric line per tick:\n{logs}");
    for m in &metrics {
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "CryptoMaestro"
        );
        assert_eq!(
            (&m["Bot"], &m["Ticks"], &m["Errors"]),
            (&"ltc".into(), &1.into(), &0.into()),
            "{m}"
        );
    }

    for secret in [ROUTE_SECRET, TEST_API_SECRET, TEST_API_KEY] {
        assert!(
            !logs.contains(secret),
            "the function logged {secret}:\n{logs}"
        );
    }
}
