//! The DynamoDB emulator for end-to-end tests: moto's server on 127.0.0.1, and a fresh table per test.
//!
//! `.ci/setup` installs moto into `<workspace>/.venv-tools`. Without it the tests fail and say to
//! run `.ci/setup`: a test that silently skips would let CI pass without ever touching DynamoDB.
//!
//! One server serves a whole test binary ([`shared_server`], started on first use); every test gets
//! its own table ([`fresh_table`]), so tests running in parallel never see each other's items.
//!
//! The server is started under a tiny shell watchdog that reads its stdin, a pipe from the test
//! process: when the test process ends, however it ends, the pipe closes and the watchdog kills the
//! server. That is what lets a `static` server (whose `Drop` never runs) not outlive its tests.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use maestro_lambda::store::DynamoStore;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long the server may take to answer after it was started (about 1 s on an idle machine; a
/// machine busy compiling is much slower).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the server (`$0`, with the port `$1`), and once stdin reaches end-of-file kills it and
/// removes its log (`$2`). Only stdin is the pipe; fd 3 carries it into the background reader,
/// whose own stdin a non-interactive shell points at /dev/null. The log outlives a server that
/// dies early, so the harness can quote it.
const WATCHDOG: &str = r#"exec 3<&0
"$0" -H 127.0.0.1 -p "$1" </dev/null &
server=$!
( read -r _ <&3; kill "$server" 2>/dev/null; rm -f "$2" ) &
wait "$server""#;

/// Where `.ci/setup` installs moto's server.
pub fn moto_server_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/moto_server")
}

/// A running moto server on 127.0.0.1. Dropping it stops the server.
#[derive(Debug)]
pub struct MotoServer {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    log: PathBuf,
}

impl MotoServer {
    /// Starts the server installed by `.ci/setup` on a free port and waits until it answers.
    pub fn start() -> Result<MotoServer, String> {
        MotoServer::start_at(&moto_server_path())
    }

    /// Starts the `moto_server` executable at `program`.
    pub fn start_at(program: &Path) -> Result<MotoServer, String> {
        if !program.is_file() {
            return Err(format!(
                "moto_server not found at {}: run .ci/setup in the workspace root to install it",
                program.display()
            ));
        }
        let addr = free_port()?;
        let log = std::env::temp_dir().join(format!(
            "maestro-moto-{}-{}.log",
            std::process::id(),
            addr.port()
        ));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| format!("creating moto log {}: {e}", log.display()))?;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(program)
            .arg(addr.port().to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", program.display()))?;
        let stdin = watchdog.stdin.take();
        let mut server = MotoServer {
            watchdog,
            stdin,
            addr,
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                return Err(format!(
                    "moto_server exited ({status}) before answering on {}; its log:\n{}",
                    self.addr,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "moto_server did not answer on {} within {START_TIMEOUT:?}; its log:\n{}",
                    self.addr,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let skip = text.chars().count().saturating_sub(2000);
        text.chars().skip(skip).collect()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog kill the server and exit.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.watchdog.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// A port nobody was listening on a moment ago. Another process could take it before the server
/// binds; the server then exits and [`MotoServer::start`] reports that.
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port on 127.0.0.1: {e}"))
}

/// The server shared by every test in this test binary, started on first use.
///
/// # Panics
/// When the server cannot start (not installed, or it will not answer), with the reason: tests that
/// need DynamoDB must fail, not skip.
pub fn shared_server() -> &'static MotoServer {
    static SERVER: OnceLock<Result<MotoServer, String>> = OnceLock::new();
    match SERVER.get_or_init(MotoServer::start) {
        Ok(server) => server,
        Err(why) => panic!("DynamoDB emulator unavailable: {why}"),
    }
}

/// An SDK client for `endpoint` with the emulator's dummy credentials, built from explicit
/// configuration so no test depends on (or changes) the process environment.
///
/// Built from scratch, not from a loaded `SdkConfig`, it makes one attempt per call with no
/// timeout: a test that wants the production retries and timeouts sets them on
/// [`config_builder`].
pub fn client(endpoint: &str) -> Client {
    Client::from_conf(config_builder(endpoint).build())
}

/// The configuration behind [`client`], open for a test to add retries or timeouts.
pub fn config_builder(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "maestro-tests",
        ))
}

/// A table of its own for one test, on the shared server.
#[derive(Clone, Debug)]
pub struct DynamoTable {
    /// The store under test.
    pub store: DynamoStore,
    /// A raw client on the same server, to look at or plant items behind the store's back.
    pub client: Client,
    /// The table's name.
    pub table: String,
}

/// Creates a uniquely named table for `test` on the shared server and a [`DynamoStore`] on it.
///
/// # Panics
/// When the server is unavailable or the table cannot be created.
pub async fn fresh_table(test: &str) -> DynamoTable {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = shared_server();
    let mut name: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(180)
        .collect();
    name.push_str(&format!(
        "-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let client = client(&server.endpoint());
    let store = DynamoStore::new(client.clone(), name.clone());
    if let Err(e) = store.create_table().await {
        panic!("creating table {name} on {}: {e}", server.endpoint());
    }
    DynamoTable {
        store,
        client,
        table: name,
    }
}
