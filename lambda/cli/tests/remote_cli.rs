//! `maestro remote` as a trader uses it, against a real `maestro run` (its routes on loopback, no
//! authentication): the status table, pause, set, the JSON for scripts, and the refusals a
//! trader must see (a flatten without --yes, a setting the bot refuses, no secret, a dead URL).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn maestro(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args)
        .env_remove("MAESTRO_ROUTE_SECRET")
        .env_remove("MAESTRO_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn remote(base: &str, args: &[&str]) -> Output {
    let mut all = vec!["remote", "--url", base, "--auth", "none"];
    all.extend_from_slice(args);
    maestro(&all).output().expect("maestro remote runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Starts `maestro run` on a free port; returns it, its base URL and its stdout lines.
fn start_run(dir: &str) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = maestro(&[
        "run",
        "--state-dir",
        dir,
        "--pace-ms",
        "100",
        "--listen",
        "127.0.0.1:0",
    ])
    .spawn()
    .expect("start maestro run");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let routes = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("routes on http://") => break line,
            Ok(_) => {}
            Err(e) => panic!("maestro run never printed its routes: {e}"),
        }
    };
    let base = routes
        .trim_start_matches("routes on ")
        .split([',', ' '])
        .next()
        .expect("address")
        .trim_end_matches(':')
        .to_owned();
    (child, base, rx)
}

#[test]
fn remote_drives_a_local_run() {
    let state = tempfile::tempdir().expect("temp dir");
    let dir = state.path().to_str().expect("utf-8 path");
    let (mut child, base, _lines) = start_run(dir);

    let out = remote(&base, &["status"]);
    assert!(out.status.success(), "status: {}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.starts_with("BOT"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("local ")), "{table}");

    let out = remote(&base, &["pause", "local"]);
    assert!(out.status.success(), "pause: {}", text(&out));
    assert!(
        text(&out).starts_with("pause local: done"),
        "{}",
        text(&out)
    );

    let out = remote(&base, &["set", "local", "short_window=5", "long_window=20"]);
    assert!(out.status.success(), "set: {}", text(&out));
    assert!(text(&out).contains("re-warms"), "{}", text(&out));

    let out = remote(&base, &["--json", "status", "--bot", "local"]);
    assert!(out.status.success(), "status --json: {}", text(&out));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let bot = &body["bots"][0];
    assert_eq!(bot["paused"], true, "{bot}");
    assert_eq!(
        (
            &bot["params"]["short_window"],
            &bot["params"]["long_window"]
        ),
        (&serde_json::json!(5), &serde_json::json!(20))
    );

    // Refusals: exit 2 for options, exit 1 for what the bot refused; nothing changes.
    let out = remote(&base, &["flatten", "local"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "flatten without --yes: {}",
        text(&out)
    );
    assert!(text(&out).contains("--yes"));
    let out = remote(&base, &["set", "local", "qty=0"]);
    assert_eq!(out.status.code(), Some(1), "qty 0: {}", text(&out));
    assert!(text(&out).contains("bad_params"), "{}", text(&out));
    let out = maestro(&["remote", "--url", &base, "status"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "hmac without a secret: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("MAESTRO_ROUTE_SECRET"),
        "{}",
        text(&out)
    );
    let out = remote(&base, &["--json", "status", "--bot", "local"]);
    let after: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        after["bots"][0]["params"], bot["params"],
        "refusals changed nothing"
    );

    let _ = child.kill();
    let _ = child.wait();
    // The run is gone: a clear error, exit 1.
    let out = remote(&base, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("cannot connect"), "{}", text(&out));
}
