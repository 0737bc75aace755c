//! `maestro run` as a trader starts it: the binary on its embedded defaults, its routes on loopback,
//! a pause through POST /control, Ctrl-C, and a second run that resumes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn maestro(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Streams the child's stdout lines into a channel.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) -> String {
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if pred(&line) => return line,
            Ok(_) => {}
            Err(e) => panic!("maestro run never printed {what}: {e}"),
        }
    }
}

fn http(method: &str, url: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().expect("method"), url);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let resp = req.send().await.expect("request to the local routes");
        let status = resp.status().as_u16();
        let json = resp.json().await.expect("JSON body");
        (status, json)
    })
}

#[test]
fn run_serves_routes_pauses_stops_on_ctrl_c_and_resumes() {
    let state = tempfile::tempdir().expect("temp dir");
    let dir = state.path().to_str().expect("utf-8 path");
    let mut child = maestro(&[
        "run",
        "--state-dir",
        dir,
        "--pace-ms",
        "20",
        "--listen",
        "127.0.0.1:0",
    ])
    .spawn()
    .expect("start maestro run");
    let rx = lines_of(&mut child);
    let routes = wait_for(&rx, "the routes' address", |l| {
        l.starts_with("routes on http://")
    });
    let base = routes
        .trim_start_matches("routes on ")
        .split(':')
        .take(3)
        .collect::<Vec<_>>()
        .join(":");
    let base = base.split_whitespace().next().expect("address").to_owned();

    let (status, health) = http("GET", &format!("{base}/health"), None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    // Let the bot warm up and trade, then look at it.
    wait_for(&rx, "a first order", |l| l.contains(" Filled"));
    let (status, body) = http("GET", &format!("{base}/status?bot=local"), None);
    assert_eq!(status, 200, "GET /status: {body}");
    let bot = &body["bots"][0];
    assert_eq!(bot["id"], "local");
    assert!(
        bot["recent_orders"]
            .as_array()
            .is_some_and(|o| !o.is_empty()),
        "status lists the order just placed: {bot}"
    );

    let (status, body) = http(
        "POST",
        &format!("{base}/control"),
        Some(r#"{"action":"pause","bot":"local"}"#),
    );
    assert_eq!(status, 200, "pause: {body}");
    wait_for(&rx, "a paused tick", |l| l.ends_with("paused"));
    let (status, body) = http(
        "POST",
        &format!("{base}/control"),
        Some(r#"{"action":"explode","bot":"local"}"#),
    );
    assert_eq!(status, 400, "an unknown action is refused: {body}");

    // Ctrl-C: the run stops cleanly with its state saved.
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let summary = wait_for(&rx, "the closing summary", |l| {
        l.starts_with("interrupted:")
    });
    let exit = child.wait().expect("wait");
    assert!(
        exit.success(),
        "Ctrl-C is a clean stop: {exit:?} ({summary})"
    );

    // A second run resumes after the last stored candle, still paused.
    let out = maestro(&[
        "run",
        "--state-dir",
        dir,
        "--pace-ms",
        "0",
        "--ticks",
        "20",
        "--no-listen",
    ])
    .output()
    .expect("second run");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("resuming bot local after"), "{text}");
    assert!(
        text.lines().skip(1).take(20).all(|l| l.ends_with("paused")),
        "the pause survives a restart:\n{text}"
    );
    assert!(text.contains("tick limit reached: 20 ticks"), "{text}");
}

#[test]
fn bad_options_exit_with_2_and_say_what_to_do() {
    // Each is refused before anything is written: no state directory appears.
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let out = maestro(&["run", "--short", "50", "--long", "10", "--no-listen"])
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("window"), "the error names the windows: {err}");

    let out = maestro(&[
        "run",
        "--listen",
        "0.0.0.0:8080",
        "--ticks",
        "1",
        "--state-dir",
    ])
    .arg(&state)
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback"), "{err}");
    assert!(!state.exists(), "a refused run left {}", state.display());

    let out = maestro(&["run", "--live", "--no-listen", "--state-dir"])
        .arg(&state)
        .env_remove("BITMEX_API_KEY")
        .env_remove("BITMEX_API_SECRET")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BITMEX_API_KEY"), "{err}");
    assert!(!state.exists(), "a refused run left {}", state.display());
}
