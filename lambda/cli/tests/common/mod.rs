//! What the CLI's end-to-end tests share: the `maestro` binary with a clean environment, and a
//! real `maestro run` serving its routes on a free loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `maestro ARGS` with nothing of the caller's route settings or AWS identity in its environment.
pub fn maestro(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args)
        .env_remove("MAESTRO_ROUTE_SECRET")
        .env_remove("MAESTRO_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        // No instance metadata lookups (they wait for timeouts off EC2), no files of this machine.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/maestro-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/maestro-test/credentials",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// What a finished command printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Starts `maestro run` on a free port; returns it, its base URL and its stdout lines.
pub fn start_run(dir: &str) -> (Child, String, mpsc::Receiver<String>) {
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
