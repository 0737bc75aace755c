//! The dashboard in a real headless browser, driven over W3C WebDriver (Debian's `chromium` and
//! `chromedriver`, installed by `.ci/setup`): `maestro run` serves it, and the test reads what the
//! page shows, compares it with `/status` (P&L included), checks that flatten asks first, and
//! clicks pause. A screenshot is kept as a test artifact: `dashboard.png` under
//! `CARGO_TARGET_TMPDIR`.
//!
//! The bot trades first in a run of its own, then a second run on the same state serves the page
//! with ticks ten minutes apart, so nothing moves while the browser looks.

#[allow(dead_code)]
#[path = "../../../tests/src/webdriver.rs"]
mod webdriver;

#[allow(dead_code)]
#[path = "../../../tests/src/dashboard_page.rs"]
mod dashboard_page;

use dashboard_page::{assert_page_shows, shown};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use webdriver::Browser;

struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl(args: &[&str]) -> Value {
    let out = Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_dashboard_shows_status_and_its_buttons_work() {
    let started = Instant::now();
    let state = tempfile::tempdir().expect("temp dir");
    // Trade a while, flat out, without routes.
    let traded = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["run", "--state-dir"])
        .arg(state.path())
        .args(["--no-listen", "--pace-ms", "0", "--ticks", "200", "--quiet"])
        .output()
        .expect("maestro run");
    let summary = String::from_utf8_lossy(&traded.stdout);
    assert!(traded.status.success(), "{summary}");
    assert!(summary.contains(" 2 fills,"), "the bot traded: {summary}");

    // Resume on the same state, serving the routes; one tick, then ten minutes of quiet.
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["run", "--state-dir"])
        .arg(state.path())
        .args(["--pace-ms", "600000", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start maestro run");
    let stdout = child.stdout.take().expect("stdout");
    let run = Run(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("maestro run said nothing more: {e}"))
    };
    let base = loop {
        let line = next();
        if let Some(rest) = line.strip_prefix("routes on ") {
            break rest.split(": ").next().unwrap_or_default().to_owned();
        }
    };
    // The tick line ends with the simulated account's equity: the P&L net of fees, computed by
    // the simulated exchange itself, a check independent of the order log.
    let tick = next();
    let equity: f64 = tick
        .split("equity")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a tick line with the equity: {tick}"));

    let status = curl(&[&format!("{base}/status")]);
    let bot = &status["bots"][0];
    let pnl = &bot["pnl"];
    assert_eq!(pnl["fills"], 2, "{pnl}");
    assert_eq!(pnl["matches_position"], true, "{pnl}");
    let net: f64 = pnl["net"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("net");
    assert!(
        (net - equity).abs() < 0.000_05 + 1e-9,
        "/status's net P&L {net} is the simulated account's equity {equity}"
    );

    let browser = Browser::start(1280, 1100);
    browser.goto(&format!("{base}/"));
    browser.wait_for("body[data-loaded='true']", Duration::from_secs(20));
    assert_page_shows(&browser, bot);
    assert!(shown(&browser, "pnl_since").starts_with("2 fills since "));
    assert!(shown(&browser, "last_seen").ends_with("ago"));
    for series in ["close", "short_sma", "long_sma"] {
        browser.wait_for(
            &format!("polyline[data-series='{series}']"),
            Duration::from_secs(5),
        );
    }

    // Flatten asks first; Cancel changes nothing.
    browser.click(&browser.wait_for("button[data-action='flatten']", Duration::from_secs(5)));
    let question = browser.dialog_text(Duration::from_secs(5));
    assert!(question.contains("Close bot local"), "{question}");
    browser.answer_dialog(false);
    let after = curl(&[&format!("{base}/status")]);
    assert_eq!(after["bots"][0]["flattening"], false, "a dismissed flatten");
    assert_eq!(after["bots"][0]["version"], bot["version"], "nothing saved");

    // Pause: /status says so, and so does the page once it has re-read it.
    browser.click(&browser.wait_for("button[data-action='pause']", Duration::from_secs(5)));
    let waited = Instant::now();
    loop {
        let now = curl(&[&format!("{base}/status")]);
        if now["bots"][0]["paused"] == true {
            assert_eq!(now["bots"][0]["state"], "paused");
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the click on pause never reached /status: {now}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.wait_for("[data-field='state']", Duration::from_secs(5));
    let waited = Instant::now();
    while shown(&browser, "paused") != "true" {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the page shows the pause"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(shown(&browser, "state"), "paused");

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    browser.screenshot(&shot);
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "a screenshot at {}",
        shot.display()
    );
    drop(browser);
    drop(run);
    println!(
        "browser test (maestro run): {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
}
