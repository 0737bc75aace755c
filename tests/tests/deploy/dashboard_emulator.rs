//! The dashboard served by the real `bootstrap` through the emulated function URL in HMAC mode
//! (`cargo lambda watch`, DynamoDB on moto, the fake BitMEX), in a headless browser over WebDriver:
//! the page asks for the route secret, a wrong one is refused and asked again with nothing
//! changed, the right one is typed into the form, the page signs its calls with WebCrypto, what
//! it shows equals a signed `/status` (P&L included), and a click on pause lands in DynamoDB. A
//! screenshot is kept: `dashboard-lambda.png` under `CARGO_TARGET_TMPDIR`.

use maestro_lambda::exchange::BinSize;
use maestro_lambda::routes::auth::sign;
use maestro_lambda::secrets::Secret;
use maestro_lambda::store::StateStore;
use maestro_tests::bot_id;
use maestro_tests::dashboard_page::{assert_page_shows, shown};
use maestro_tests::dynamo::fresh_table;
use maestro_tests::emulator::{Emulator, Invoke, hmac_env, root};
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use maestro_tests::webdriver::Browser;
use serde_json::Value;
use std::time::{Duration, Instant};

const ROUTE_SECRET: &str = "dashboard-route-secret-0123456789abcdef";
const BOTS: &str =
    r#"[{"id":"ltc","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5}]"#;

/// `GET path` on the emulated function URL, signed with the route secret.
async fn signed_get(http: &reqwest::Client, emu: &Emulator, path: &str, nonce: &str) -> Value {
    let ts = (maestro_lambda::clock::now_ms() / 1000).to_string();
    let sig = sign(&Secret::new(ROUTE_SECRET), "GET", path, &ts, nonce, b"");
    let resp = http
        .get(emu.url(path))
        .header("x-maestro-timestamp", &ts)
        .header("x-maestro-nonce", nonce)
        .header("x-maestro-signature", sig)
        .send()
        .await
        .expect("signed GET");
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    resp.json().await.expect("JSON")
}

/// Runs the blocking WebDriver calls off the runtime's async workers (the fake BitMEX runs there).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_signs_through_the_function_url() {
    let table = fresh_table("dashboard").await;
    let fake = FakeBitmex::start().await.expect("fake BitMEX");
    let dir = tempfile::tempdir().expect("temp dir");
    let env = hmac_env(&table.table, BOTS, &fake.base_url(), ROUTE_SECRET);
    let emu = Emulator::start(&env, &dir.path().join("watch.log"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    emu.wait_ready(&http).await;
    let started = Instant::now();

    // A market that crosses: the first tick warms the core up, the next ones trade on the fake,
    // so the order log holds real fills from the real BitMEX client.
    let first = (maestro_lambda::clock::now_ms() / 60_000 - 100) * 60_000;
    fake.set_series(
        "LTCUSDT",
        BinSize::M1,
        synthetic(first, BinSize::M1, 120, |i| 60.0 + (i % 5) as f64 * 0.2),
        100,
    );
    let scheduled = root().join("tests/fixtures/events/scheduled-event.json");
    for _ in 0..3 {
        let (ok, out) = emu.invoke(Invoke::File(&scheduled));
        assert!(ok && out.contains("\"ok\": true"), "{out}");
        fake.advance("LTCUSDT", 1);
    }
    let before = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("a record after the ticks");
    assert!(!before.value.paused);

    let base = format!("{}/", emu.base());
    let browser = blocking(|| {
        let browser = Browser::start(1280, 1100);
        browser.goto(&base);
        // Unsigned, the routes refuse and the page asks for the secret.
        let form = browser.wait_for("#auth", Duration::from_secs(20));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !browser.displayed(&form) {
            assert!(
                Instant::now() < deadline,
                "the page never asked for the secret"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // A wrong secret: refused, asked again, nothing shown.
        let input = browser.wait_for("#auth-value", Duration::from_secs(5));
        browser.type_into(&input, "not-the-route-secret");
        browser.click(&browser.wait_for("#auth button", Duration::from_secs(5)));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let message = browser.text(&browser.wait_for("#message", Duration::from_secs(5)));
            if browser.displayed(&form) && message.contains("does not match") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a wrong secret is refused and asked again: {message:?}\n{}",
                browser.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            browser.try_find("[data-bot]").is_none(),
            "nothing shown with a wrong secret"
        );
        browser
    });
    let after_wrong = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert_eq!(after_wrong, before, "a wrong secret changes nothing");

    // The right secret: the page signs with WebCrypto and shows the bot.
    blocking(|| {
        let input = browser.wait_for("#auth-value", Duration::from_secs(5));
        browser.type_into(&input, ROUTE_SECRET);
        browser.click(&browser.wait_for("#auth button", Duration::from_secs(5)));
        browser.wait_for("section[data-bot='ltc']", Duration::from_secs(20));
        browser.wait_for("body[data-loaded='true']", Duration::from_secs(5));
    });
    let status = signed_get(&http, &emu, "/status", "dashboard-nonce-1").await;
    let bot = &status["bots"][0];
    assert!(
        bot["pnl"]["fills"].as_u64().is_some_and(|n| n >= 1),
        "the ticks traded: {bot}"
    );
    blocking(|| {
        assert_page_shows(&browser, bot);
        assert_eq!(shown(&browser, "state"), "running");
        browser.click(&browser.wait_for("button[data-action='pause']", Duration::from_secs(5)));
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stored = table
            .store
            .load(&bot_id("ltc"))
            .await
            .expect("load")
            .expect("record");
        if stored.value.paused {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the click on pause never reached DynamoDB"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-lambda.png");
    blocking(|| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while shown(&browser, "paused") != "true" {
            assert!(Instant::now() < deadline, "the page shows the pause");
            std::thread::sleep(Duration::from_millis(100));
        }
        browser.screenshot(&shot);
        drop(browser);
    });
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000));
    println!(
        "browser test (function URL, after the function started): {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
    let logs = emu.log_text();
    assert!(
        !logs.contains(ROUTE_SECRET),
        "the function logged the secret"
    );
}
