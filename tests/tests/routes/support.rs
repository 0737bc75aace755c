//! What the route tests share: the routes over the real adapters (a `FileStore` in a temporary
//! directory, the `BitmexClient` against the fake BitMEX on 127.0.0.1), signed requests, and a
//! byte-exact picture of the stored state to prove that a refused request changed nothing.

#![allow(dead_code)] // not every helper is used by every route test

use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::config::{BotConfig, DeployLimits, parse_bots};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign};
use maestro_lambda::routes::{Request, Response, RouteAuth, Routes};
use maestro_lambda::secrets::Secret;
use maestro_lambda::store::FileStore;
/// The wall clock in UNIX ms. Route tests run at the real time because the stores expire nonces by
/// the real clock; each test takes `now` once and derives every timestamp from it.
pub use maestro_tests::clock::now_ms;
use maestro_tests::fake_bitmex::{FakeBitmex, synthetic};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The route secret of these tests.
pub const ROUTE_SECRET: &str = "route-secret-for-tests-0123456789";

/// Two bots on LTCUSDT: `ltc` trades, `paper` is dry-run.
pub const BOTS: &str = r#"[
    {"id":"ltc","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5},
    {"id":"paper","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5,"dry_run":true}
]"#;

/// The routes' surroundings, all real.
pub struct Harness {
    /// The fake BitMEX.
    pub fake: FakeBitmex,
    /// The real client pointed at it.
    pub exchange: BitmexClient,
    /// The real file store.
    pub store: FileStore,
    /// Keeps the store's directory alive.
    pub dir: tempfile::TempDir,
    /// The configured bots.
    pub bots: Vec<BotConfig>,
    /// The deployment's limits: a cap of 10 lots, live trading allowed (tests of the limits
    /// themselves set their own).
    pub limits: DeployLimits,
    /// Route authentication.
    pub auth: RouteAuth,
}

impl Harness {
    /// HMAC-authenticated routes.
    pub async fn hmac() -> Harness {
        Harness::with_auth(RouteAuth::Hmac(Secret::new(ROUTE_SECRET))).await
    }

    /// Routes behind an IAM-authenticated function URL.
    pub async fn iam() -> Harness {
        Harness::with_auth(RouteAuth::Iam).await
    }

    async fn with_auth(auth: RouteAuth) -> Harness {
        let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
        // Minute candles up to about now, so a close order has a price to fill at.
        let first = (now_ms() / 60_000 - 100) * 60_000;
        let bars = synthetic(first, BinSize::M1, 120, |i| 60.0 + (i % 7) as f64 * 0.25);
        fake.set_series("LTCUSDT", BinSize::M1, bars, 100);
        let exchange = fake.client().expect("client for the fake");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FileStore::open(dir.path().join("state")).expect("file store");
        let bots = parse_bots(BOTS).expect("test bots are valid");
        Harness {
            fake,
            exchange,
            store,
            dir,
            bots,
            limits: DeployLimits {
                position_cap: 10_000,
                live_allowed: true,
            },
            auth,
        }
    }

    /// Sends one request to the routes at `now_ms`.
    pub async fn send(&self, req: &Request, now_ms: i64) -> Response {
        Routes::new(
            &self.exchange,
            &self.store,
            &self.bots,
            self.limits,
            &self.auth,
        )
        .handle(req, now_ms)
        .await
    }

    /// Every file of the store, by name, with its bytes (lock files excluded: they are empty and
    /// created on first access).
    pub fn state(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(self.store.dir()) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".lock") {
                continue;
            }
            out.insert(name, std::fs::read(entry.path()).unwrap_or_default());
        }
        out
    }

    /// The state without the nonce file (a signed request legitimately claims its nonce).
    pub fn bot_state(&self) -> BTreeMap<String, Vec<u8>> {
        let mut state = self.state();
        state.retain(|name, _| !name.starts_with("nonces."));
        state
    }
}

/// A fresh nonce per call.
pub fn nonce() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("nonce-{:012}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An unsigned request.
pub fn request(method: &str, path: &str, query: &str, body: &str) -> Request {
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.as_bytes().to_vec(),
        iam_caller: None,
    }
}

/// A request signed with [`ROUTE_SECRET`], timestamped `now_ms`, with a fresh nonce.
pub fn signed(method: &str, path: &str, query: &str, body: &str, now_ms: i64) -> Request {
    signed_with(method, path, query, body, now_ms, &nonce(), ROUTE_SECRET)
}

/// A request signed with any secret, timestamp and nonce.
pub fn signed_with(
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    now_ms: i64,
    nonce: &str,
    secret: &str,
) -> Request {
    let mut req = request(method, path, query, body);
    let ts = (now_ms / 1000).to_string();
    let path_and_query = req.path_and_query();
    let sig = sign(
        &Secret::new(secret),
        method,
        &path_and_query,
        &ts,
        nonce,
        body.as_bytes(),
    );
    req.headers.push((HEADER_TIMESTAMP.to_owned(), ts));
    req.headers
        .push((HEADER_NONCE.to_owned(), nonce.to_owned()));
    req.headers.push((HEADER_SIGNATURE.to_owned(), sig));
    req
}

/// Asserts an error response: its status and code, and a non-empty detail.
pub fn assert_error(resp: &Response, status: u16, code: &str) {
    assert_eq!(
        resp.status, status,
        "expected {status} {code}, got {resp:?}"
    );
    assert_eq!(resp.body["error"], code, "{resp:?}");
    let detail = resp.body["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.is_empty(),
        "an error must say what is wrong: {resp:?}"
    );
}
