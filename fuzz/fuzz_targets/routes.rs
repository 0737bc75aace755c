//! The HTTP routes with HMAC auth, over the real file store (on tmpfs when there is one) and the
//! local bot's simulated exchange (in process, nothing leaves the machine): any request gets a
//! well-formed answer and never a panic, and a request without a valid signature changes no byte
//! of the store and trades nothing. A signed request replayed changes nothing either.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use maestro_cli::sim::{SimExchange, ltcusdt};
use maestro_core::{Candle, Price};
use maestro_lambda::config::{BotConfig, DeployLimits, parse_bots};
use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign};
use maestro_lambda::routes::{Request, Response, RouteAuth, Routes};
use maestro_lambda::secrets::Secret;
use maestro_lambda::store::FileStore;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SECRET: &str = "route-secret-for-fuzzing-0123456789";
const NOW_MS: i64 = 1_734_600_000_000; // 2024-12-19T09:20:00Z, a minute boundary
const BOTS: &str = r#"[
    {"id":"ltc","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5},
    {"id":"paper","symbol":"LTCUSDT","bin":"1m","short_window":3,"long_window":5,"dry_run":true}
]"#;

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Post,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Path_ {
    Health,
    Status,
    History,
    Page,
    Control,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Bot {
    Ltc,
    Paper,
    Other(String),
}

impl Bot {
    fn id(&self) -> &str {
        match self {
            Bot::Ltc => "ltc",
            Bot::Paper => "paper",
            Bot::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Query {
    None,
    Bot(Bot),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct ParamsIn {
    bin: Option<u8>,
    short_window: Option<i64>,
    long_window: Option<i64>,
    mode: Option<u8>,
    qty: Option<i64>,
    max_position: Option<u64>,
    guards: Option<(u32, u32, u32)>,
    dry_run: Option<bool>,
    extra: Option<(String, String)>,
}

impl ParamsIn {
    fn json(&self) -> Value {
        let mut p = serde_json::Map::new();
        let bins = ["1m", "5m", "1h", "1d", "2m", ""];
        if let Some(b) = self.bin {
            p.insert("bin".into(), json!(bins[usize::from(b) % bins.len()]));
        }
        if let Some(v) = self.short_window {
            p.insert("short_window".into(), json!(v));
        }
        if let Some(v) = self.long_window {
            p.insert("long_window".into(), json!(v));
        }
        let modes = ["long_short", "long_only", "short_only", "both"];
        if let Some(m) = self.mode {
            p.insert("mode".into(), json!(modes[usize::from(m) % modes.len()]));
        }
        if let Some(v) = self.qty {
            p.insert("qty".into(), json!(v));
        }
        if let Some(v) = self.max_position {
            p.insert("max_position".into(), json!(v));
        }
        if let Some((h, c, m)) = self.guards {
            p.insert(
                "guards".into(),
                json!({"hysteresis_bp": h, "confirm_bars": c, "min_hold_bars": m}),
            );
        }
        if let Some(d) = self.dry_run {
            p.insert("dry_run".into(), json!(d));
        }
        if let Some((k, v)) = &self.extra {
            p.insert(k.clone(), json!(v));
        }
        Value::Object(p)
    }
}

#[derive(Arbitrary, Debug)]
enum Body {
    Empty,
    Control {
        action: u8,
        bot: Bot,
        params: Option<ParamsIn>,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Auth {
    /// Correct headers over the request as sent (the fuzzer picks the nonce and the clock skew).
    Signed { nonce: String, skew_s: i8 },
    /// Signed, then one byte of the body changes.
    Tampered { nonce: String, flip: u8 },
    /// Only the fuzzer's own headers.
    Unsigned,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: Method,
    path: Path_,
    query: Query,
    body: Body,
    headers: Vec<(u8, String)>,
    auth: Auth,
}

struct World {
    rt: tokio::runtime::Runtime,
    store: FileStore,
    bots: Vec<BotConfig>,
    auth: RouteAuth,
    candles: Vec<Candle>,
    /// The store's files after set-up: every run starts from them.
    baseline: BTreeMap<String, Vec<u8>>,
}

/// Every file of the store but the (empty) lock files, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("store dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".lock") {
            out.insert(name, std::fs::read(entry.path()).expect("store file"));
        }
    }
    out
}

fn restore(dir: &Path, want: &BTreeMap<String, Vec<u8>>) {
    if &files(dir) == want {
        return;
    }
    for entry in std::fs::read_dir(dir).expect("store dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".lock") {
            std::fs::remove_file(entry.path()).expect("remove");
        }
    }
    for (name, bytes) in want {
        std::fs::write(dir.join(name), bytes).expect("write");
    }
}

fn exchange(candles: &[Candle]) -> SimExchange {
    let sim = SimExchange::new(ltcusdt(), 60_000, candles.to_vec()).expect("sim exchange");
    sim.advance_to(NOW_MS);
    sim
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir: PathBuf = base.join(format!("maestro-fuzz-routes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FileStore::open(&dir).expect("file store");
        let candles = (0..200)
            .map(|i: i64| {
                let p = Price(6000 + (i * 37) % 97);
                Candle {
                    close_time_ms: NOW_MS - (199 - i) * 60_000,
                    open: p,
                    high: Price(p.0 + 5),
                    low: Price(p.0 - 5),
                    close: p,
                }
            })
            .collect::<Vec<_>>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut world = World {
            rt,
            store,
            bots: parse_bots(BOTS).expect("bots"),
            auth: RouteAuth::Hmac(Secret::new(SECRET)),
            candles,
            baseline: BTreeMap::new(),
        };
        // Start from stored records, not an empty store: one bot paused, one with new settings.
        let sim = exchange(&world.candles);
        for (i, body) in [
            r#"{"action":"pause","bot":"ltc"}"#,
            r#"{"action":"set_params","bot":"paper","params":{"short_window":4,"long_window":9}}"#,
        ]
        .into_iter()
        .enumerate()
        {
            let mut req = request("POST", "/control", "", body.as_bytes().to_vec());
            add_signature(&mut req, NOW_MS / 1000, &format!("setup-nonce-{i}"));
            let resp = world.rt.block_on(
                Routes::new(
                    &sim,
                    &world.store,
                    &world.bots,
                    DeployLimits::of_bots(&world.bots),
                    &world.auth,
                )
                .handle(&req, NOW_MS),
            );
            assert_eq!(resp.status, 200, "setup {body}: {resp:?}");
        }
        world.baseline = files(world.store.dir());
        world
    })
}

fn request(method: &str, path: &str, query: &str, body: Vec<u8>) -> Request {
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body,
        iam_caller: None,
    }
}

fn add_signature(req: &mut Request, ts_s: i64, nonce: &str) {
    let ts = ts_s.to_string();
    let sig = sign(
        &Secret::new(SECRET),
        &req.method,
        &req.path_and_query(),
        &ts,
        nonce,
        &req.body,
    );
    req.headers.push((HEADER_TIMESTAMP.to_owned(), ts));
    req.headers
        .push((HEADER_NONCE.to_owned(), nonce.to_owned()));
    req.headers.push((HEADER_SIGNATURE.to_owned(), sig));
}

/// Whether the request carries a signature that matches it: the oracle, computed from the
/// request's own headers, apart from the routes' code.
fn signature_matches(req: &Request) -> bool {
    let (Some(ts), Some(nonce), Some(sig)) = (
        req.header(HEADER_TIMESTAMP),
        req.header(HEADER_NONCE),
        req.header(HEADER_SIGNATURE),
    ) else {
        return false;
    };
    let want = sign(
        &Secret::new(SECRET),
        &req.method,
        &req.path_and_query(),
        ts,
        nonce,
        &req.body,
    );
    sig.eq_ignore_ascii_case(&want)
}

fn check_shape(resp: &Response) {
    assert!((200..600).contains(&resp.status), "{resp:?}");
    if resp.status >= 400 {
        let code = resp.body["error"].as_str().unwrap_or_default();
        let detail = resp.body["detail"].as_str().unwrap_or_default();
        assert!(!code.is_empty() && !detail.is_empty(), "{resp:?}");
    }
}

fuzz_target!(|input: Input| {
    let w = world();
    restore(w.store.dir(), &w.baseline);
    let method = match &input.method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Other(m) => m,
    };
    let path = match &input.path {
        Path_::Health => "/health",
        Path_::Status => "/status",
        Path_::History => "/history",
        Path_::Page => "/",
        Path_::Control => "/control",
        Path_::Other(p) => p,
    };
    let query = match &input.query {
        Query::None => String::new(),
        Query::Bot(b) => format!("bot={}", b.id()),
        Query::Raw(q) => q.clone(),
    };
    let body = match &input.body {
        Body::Empty => Vec::new(),
        Body::Control {
            action,
            bot,
            params,
        } => {
            let actions = ["pause", "resume", "flatten", "set_params", "stop", ""];
            let mut cmd = json!({
                "action": actions[usize::from(*action) % actions.len()],
                "bot": bot.id(),
            });
            if let Some(p) = params {
                cmd["params"] = p.json();
            }
            cmd.to_string().into_bytes()
        }
        Body::Raw(b) => b.clone(),
    };
    let mut req = request(method, path, &query, body);
    let names = [
        HEADER_TIMESTAMP,
        HEADER_NONCE,
        HEADER_SIGNATURE,
        "X-Maestro-Nonce",
    ];
    for (n, v) in &input.headers {
        let name = names
            .get(usize::from(*n))
            .map_or_else(|| format!("x-h{n}"), |s| (*s).to_owned());
        req.headers.push((name, v.clone()));
    }
    match &input.auth {
        Auth::Signed { nonce, skew_s } => {
            add_signature(&mut req, NOW_MS / 1000 + i64::from(*skew_s), nonce);
        }
        Auth::Tampered { nonce, flip } => {
            add_signature(&mut req, NOW_MS / 1000, nonce);
            if req.body.is_empty() {
                req.body.push(*flip);
            } else {
                let i = usize::from(*flip) % req.body.len();
                req.body[i] ^= 1 | *flip;
            }
        }
        Auth::Unsigned => {}
    }

    let sim = exchange(&w.candles);
    let routes = Routes::new(
        &sim,
        &w.store,
        &w.bots,
        DeployLimits::of_bots(&w.bots),
        &w.auth,
    );
    let resp = w.rt.block_on(routes.handle(&req, NOW_MS));
    check_shape(&resp);
    let after = files(w.store.dir());
    if !signature_matches(&req) {
        assert!(
            after == w.baseline,
            "an unsigned request changed the store: {req:?} → {resp:?}"
        );
        assert!(
            sim.fills().is_empty(),
            "an unsigned request traded: {req:?}"
        );
        assert!(
            resp.status != 200
                || (req.path == "/health" && req.method == "GET")
                // The dashboard page: the same for everyone, holding no data.
                || (req.path == "/" && req.method == "GET" && resp.page.is_some()),
            "an unsigned request was served: {req:?} → {resp:?}"
        );
        return;
    }
    // The same signed request again is a replay once the first claimed its nonce.
    if after != w.baseline {
        let fills = sim.fills().len();
        let again = w.rt.block_on(routes.handle(&req, NOW_MS));
        check_shape(&again);
        assert!(
            files(w.store.dir()) == after,
            "a replay changed the store: {req:?} → {again:?}"
        );
        assert_eq!(sim.fills().len(), fills, "a replay traded: {req:?}");
    }
});
