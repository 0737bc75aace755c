//! `maestro remote` as a trader uses it, against a real `maestro run` (its routes on loopback, no
//! authentication): the status table, pause, set, the JSON for scripts, and the refusals a
//! trader must see (a flatten without --yes, a setting the bot refuses, no secret, a dead URL).

mod common;

use common::{maestro, start_run, text};
use std::process::Output;

fn remote(base: &str, args: &[&str]) -> Output {
    let mut all = vec!["remote", "--url", base, "--auth", "none"];
    all.extend_from_slice(args);
    maestro(&all).output().expect("maestro remote runs")
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
    let out = maestro(&["remote", "--url", &base, "--auth", "hmac", "status"])
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
    // Without --auth and without a secret: SigV4 when built with it (a loopback URL names no
    // region), else HMAC; a build without it says how to get --auth iam.
    let out = maestro(&["remote", "--url", &base, "status"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "no auth given: {}", text(&out));
    let expected = if cfg!(feature = "iam") {
        "--region"
    } else {
        "MAESTRO_ROUTE_SECRET"
    };
    assert!(text(&out).contains(expected), "{}", text(&out));
    let out = maestro(&["remote", "--url", &base, "--auth", "iam", "status"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "--auth iam: {}", text(&out));
    if !cfg!(feature = "iam") {
        assert!(text(&out).contains("--features iam"), "{}", text(&out));
    }
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
