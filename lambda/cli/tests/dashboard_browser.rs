//! The dashboard in a real headless browser (Debian's `chromium`, installed by `.ci/setup`):
//! `maestro run` serves it, the browser runs its script, and what it shows equals `/status`. A
//! screenshot is kept as a test artifact under `target/dashboard.png`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> String {
    for name in ["chromium", "chromium-browser"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return name.to_owned();
        }
    }
    panic!("no headless browser: install Debian's chromium (.ci/setup does)");
}

fn browser(args: &[&str], url: &str) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=8000",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the element `<dd data-field="NAME">` in `dom`.
fn shown(dom: &str, name: &str) -> String {
    let tag = format!("data-field=\"{name}\"");
    let at = dom
        .find(&tag)
        .unwrap_or_else(|| panic!("{name} is not on the page:\n{dom}"));
    let rest = &dom[at..];
    let start = rest.find('>').map_or(0, |i| i + 1);
    let end = rest.find("</dd>").unwrap_or(rest.len());
    rest[start..end].to_owned()
}

#[test]
fn the_dashboard_shows_what_status_says() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["run", "--state-dir"])
        .arg(state.path())
        .args(["--pace-ms", "150", "--listen", "127.0.0.1:0"])
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
    let base = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("routes on http://") => {
                break line
                    .trim_start_matches("routes on ")
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(':')
                    .to_owned();
            }
            Ok(_) => {}
            Err(e) => panic!("maestro run never printed its routes: {e}"),
        }
    };
    // Let it trade, then pause it: a paused bot's state and position stand still while the
    // browser looks (its strategy still follows the candles).
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.contains(" Filled") => break,
            Ok(_) => {}
            Err(e) => panic!("no order within two minutes: {e}"),
        }
    }
    let curl = |args: &[&str]| -> serde_json::Value {
        let out = Command::new("curl")
            .arg("-sS")
            .args(args)
            .output()
            .expect("curl");
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let paused = curl(&[
        &format!("{base}/control"),
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"action":"pause","bot":"local"}"#,
    ]);
    assert_eq!(paused["paused"], true, "{paused}");
    let before = curl(&[&format!("{base}/status")]);
    let dom = browser(&["--dump-dom"], &format!("{base}/"));
    let status = curl(&[&format!("{base}/status")]);
    let bot = &status["bots"][0];
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the script ran:\n{dom}"
    );
    assert!(dom.contains("data-bot=\"local\""), "{dom}");
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "–".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert_eq!(shown(&dom, "state"), text(&bot["state"]));
    assert_eq!(shown(&dom, "position"), text(&bot["last_position"]));
    // The strategy may have moved between the two reads: either one.
    for field in ["target", "regime"] {
        let seen = shown(&dom, field);
        let read = |s: &serde_json::Value| text(&s["bots"][0]["core"][field]);
        assert!(
            seen == read(&before) || seen == read(&status),
            "{field}: the page shows {seen}, /status {} then {}",
            read(&before),
            read(&status)
        );
    }
    assert_eq!(shown(&dom, "paused"), "true");
    assert_eq!(shown(&dom, "dry_run"), text(&bot["dry_run"]));
    assert!(shown(&dom, "last_seen").ends_with("ago"), "{dom}");
    // The chart: price and both SMAs from /history, and the bot's fill on it.
    for series in ["close", "short_sma", "long_sma"] {
        assert!(
            dom.contains(&format!("data-series=\"{series}\"")),
            "{series}:\n{dom}"
        );
    }
    assert!(dom.contains("data-fill="), "the fill is marked:\n{dom}");

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    browser(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
        &format!("{base}/"),
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "a screenshot at {}",
        shot.display()
    );
    drop(run);
}
