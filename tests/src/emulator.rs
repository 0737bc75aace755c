//! The real `bootstrap` under a Lambda runtime emulator: `cargo lambda watch` serves the runtime
//! API and the function URL on 127.0.0.1 and runs the binary built from this workspace. Shared by
//! the emulator tests of the routes and of the dashboard.
//!
//! `cargo lambda` comes from `<root>/.venv-tools/bin` (installed by `.ci/setup`); without it the
//! tests fail and say so. The first start compiles `bootstrap` (debug unless
//! `MAESTRO_EMULATOR_PROFILE=release`), which takes a while.

use crate::dynamo::shared_server;
use crate::fake_bitmex::{TEST_API_KEY, TEST_API_SECRET};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The function's environment for HMAC route auth: this table on the shared DynamoDB emulator,
/// these bots, the fake BitMEX at `bitmex_url`, this route secret.
pub fn hmac_env(
    table: &str,
    bots: &str,
    bitmex_url: &str,
    route_secret: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("TABLE_NAME", table.to_owned()),
        ("BOTS", bots.to_owned()),
        ("BITMEX_BASE_URL", bitmex_url.to_owned()),
        ("BITMEX_API_KEY", TEST_API_KEY.to_owned()),
        ("BITMEX_API_SECRET", TEST_API_SECRET.to_owned()),
        ("ROUTE_AUTH", "hmac".to_owned()),
        ("ROUTE_SECRET", route_secret.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", shared_server().endpoint()),
        ("RUST_LOG", "info".to_owned()),
    ]
}

/// The workspace's root directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// Whether to run the release build (for the performance figures).
pub fn release() -> bool {
    std::env::var("MAESTRO_EMULATOR_PROFILE").is_ok_and(|p| p == "release")
}

/// `PATH` with the project's tool venv first (where `.ci/setup` installs `cargo lambda`); panics
/// saying so when it is missing.
pub fn tools_path() -> String {
    let venv = root().join(".venv-tools/bin");
    assert!(
        venv.join("cargo-lambda").is_file(),
        "{} is missing: run .ci/setup (it installs cargo-lambda into .venv-tools)",
        venv.join("cargo-lambda").display()
    );
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `cargo lambda watch` in its own process group (it starts cargo, which starts the function), so
/// dropping it stops all three.
pub struct Emulator {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Emulator {
    /// Starts `cargo lambda watch` on a free port with this environment, its output in `log`.
    pub fn start(env: &[(&str, String)], log: &Path) -> Emulator {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root())
            .args([
                "lambda",
                "watch",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .args([
                "--ignore-changes",
                "-p",
                "maestro-lambda",
                "--bin",
                "bootstrap",
            ])
            .args(release().then_some("--release"))
            .env("PATH", tools_path())
            .env_remove("SECRET_ARN")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("cargo lambda watch starts");
        Emulator {
            child,
            port,
            log: log.to_owned(),
        }
    }

    /// The port the emulator listens on (its invocation API and function URLs).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulated function URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/bootstrap{path}", self.port)
    }

    /// The emulated function URL's base, without a trailing slash.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/lambda-url/bootstrap", self.port)
    }

    /// Everything the emulator and the function logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of [`Self::log_text`], for a failure's message.
    pub fn log_tail(&self, n: usize) -> String {
        last_lines(&self.log_text(), n)
    }

    /// Waits until the function answers `GET /health` (the first request makes the emulator
    /// compile and start it); panics with the emulator's log after 15 minutes.
    pub async fn wait_ready(&self, http: &reqwest::Client) {
        let started = Instant::now();
        loop {
            match http.get(self.url("/health")).send().await {
                Ok(r) if r.status().as_u16() == 200 => return,
                _ if started.elapsed() > Duration::from_secs(900) => {
                    panic!("the function never answered /health:\n{}", self.log_text())
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// `cargo lambda invoke` with an event file or literal JSON; (succeeded, output).
    pub fn invoke(&self, data: Invoke<'_>) -> (bool, String) {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root())
            .args(["lambda", "invoke", "bootstrap", "-A", "127.0.0.1"])
            .args(["-P", &self.port.to_string(), "--output-format", "json"])
            .env("PATH", tools_path());
        match data {
            Invoke::File(path) => cmd.arg("--data-file").arg(path),
            Invoke::Ascii(text) => cmd.args(["--data-ascii", text]),
        };
        let out = cmd.output().expect("cargo lambda invoke runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The function's process id: the `bootstrap` built in this workspace whose environment holds
    /// this test's table (cargo starts it in a process group of its own).
    pub fn function_pid(&self, table: &str) -> Option<u32> {
        let exe = root()
            .join("target")
            .join(if release() { "release" } else { "debug" })
            .join("bootstrap");
        let marker = format!("TABLE_NAME={table}");
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            if std::fs::read_link(e.path().join("exe")).ok()? != exe {
                return None;
            }
            let environ = std::fs::read(e.path().join("environ")).ok()?;
            environ
                .split(|b| *b == 0)
                .any(|kv| kv == marker.as_bytes())
                .then_some(pid)
        })
    }
}

/// What `cargo lambda invoke` sends.
pub enum Invoke<'a> {
    /// An event file.
    File(&'a Path),
    /// Literal JSON.
    Ascii(&'a str),
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// The last `n` lines of `text`, joined by newlines.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn a_log_tail_is_its_last_lines() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("a\nb", 0), "");
        assert_eq!(last_lines("", 3), "");
    }
}
