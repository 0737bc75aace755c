//! Fifty bots in one tick: the wall time of a scheduled invocation (`run_all`) with every bot of a
//! deployment, each on its own symbol, against the fake BitMEX on loopback and the `FileStore`,
//! and the same bots ticked one after the other in the same process as the baseline.
//!
//! Each minute every bot gets a new candle; the synthetic markets are phase-shifted sine waves, so
//! some bots trade every few minutes (an order POST and its save on top of the candles, position and
//! record). The fake answers from its own thread, as a remote exchange would.
//!
//! Every answer of the fake waits `--latency-ms` (50 by default), as a round trip to BitMEX would.
//!
//! `cargo bench -p maestro-tests --bench bots` (add `-- --minutes N --bots N --latency-ms N`). Under
//! `cargo test --all-targets` it runs a short smoke run with the same checks.

use maestro_lambda::config::BotConfig;
use maestro_lambda::exchange::BinSize;
use maestro_lambda::store::{FileStore, StateStore};
use maestro_lambda::tick::{InstrumentCache, NoFailpoints, Tick, run_all};
use maestro_tests::fake_bitmex::{FakeBitmex, InstrumentSpec, synthetic};
use maestro_tests::market::FIRST_CLOSE;
use maestro_tests::tick_harness::{build_client, params};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Candles each market starts with (enough for the 5/20 windows).
const HISTORY: usize = 30;

fn arg(name: &str) -> Option<usize> {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|m| m.parse().ok())
}

/// One deployment: its own fake exchange, store and bots.
struct World {
    fake: Arc<FakeBitmex>,
    store: FileStore,
    bots: Vec<BotConfig>,
    _dir: tempfile::TempDir,
}

fn world(n: usize, minutes: usize, latency: Duration) -> World {
    let (fake, _) = FakeBitmex::start_on_own_thread();
    // The bench measures the tick's concurrency, not BitMEX's budget of 120 requests a minute per
    // API key; the requests a minute of every bot are printed against it.
    fake.set_rate_limit(1_000_000);
    fake.set_latency(latency);
    let mut bots = Vec::with_capacity(n);
    for i in 0..n {
        let symbol = format!("B{i:02}USDT");
        fake.add_instrument(InstrumentSpec {
            symbol: symbol.clone(),
            ..InstrumentSpec::ltcusdt()
        });
        let phase = i as f64 * 0.37;
        let bars = synthetic(FIRST_CLOSE, BinSize::M1, HISTORY + minutes + 1, |m| {
            70.0 + 3.0 * (m as f64 / 7.0 + phase).sin()
        });
        fake.set_series(&symbol, BinSize::M1, bars, HISTORY);
        let mut p = params(5, 20);
        p.symbol = symbol;
        bots.push(BotConfig {
            id: format!("bot-{i:02}").parse().expect("bot id"),
            params: p,
        });
    }
    let shm = std::path::Path::new("/dev/shm");
    let parent = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::tempdir_in(parent).expect("temp dir");
    let store = FileStore::open(dir.path()).expect("file store");
    World {
        fake,
        store,
        bots,
        _dir: dir,
    }
}

impl World {
    fn advance(&self) {
        for bot in &self.bots {
            self.fake.advance(&bot.params.symbol, 1);
        }
    }

    fn now_ms(&self, minute: usize) -> i64 {
        FIRST_CLOSE + (HISTORY + minute - 2) as i64 * 60_000 + 2_000
    }
}

/// Every bot at once, as the scheduled invocation runs them. Returns the wall time.
async fn concurrent(w: &World, cache: &InstrumentCache, now_ms: i64) -> Duration {
    let client = build_client(w.fake.client_config());
    let deadline = Instant::now() + Duration::from_secs(50);
    let started = Instant::now();
    let results = run_all(
        &client,
        &w.store,
        &w.bots,
        cache,
        now_ms,
        deadline,
        &NoFailpoints,
    )
    .await;
    let took = started.elapsed();
    for (bot, result) in results {
        if let Err(e) = result {
            panic!("{bot}: {e}");
        }
    }
    took
}

/// The baseline: the same bots one after the other.
async fn sequential(w: &World, cache: &InstrumentCache, now_ms: i64) -> Duration {
    let client = build_client(w.fake.client_config());
    let deadline = Instant::now() + Duration::from_secs(50);
    let started = Instant::now();
    for bot in &w.bots {
        let instrument = cache
            .get(&client, &bot.params.symbol)
            .await
            .expect("instrument");
        let tick = Tick {
            exchange: &client,
            store: &w.store,
            instrument: &instrument,
            now_ms,
            deadline,
            failpoints: &NoFailpoints,
        };
        if let Err(e) = tick.run(&bot.id, &bot.params).await {
            panic!("{}: {e}", bot.id);
        }
    }
    started.elapsed()
}

fn stats(name: &str, v: &mut [Duration]) -> f64 {
    v.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64;
    println!(
        "{name:>11}: {} minutes | ms per tick of every bot: mean {mean:>7.1} median {:>7.1} max {:>7.1}",
        v.len(),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
    );
    mean
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let minutes = arg("--minutes").unwrap_or(if benching { 40 } else { 3 });
    let n = arg("--bots").unwrap_or(if benching { 50 } else { 8 });
    let latency = Duration::from_millis(arg("--latency-ms").unwrap_or(50) as u64);
    let fast = world(n, minutes, latency);
    let slow = world(n, minutes, latency);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let (fast_cache, slow_cache) = (InstrumentCache::default(), InstrumentCache::default());
        // The first minute warms every bot up from history; it is timed apart.
        let warm_fast = concurrent(&fast, &fast_cache, fast.now_ms(1)).await;
        let warm_slow = sequential(&slow, &slow_cache, slow.now_ms(1)).await;
        let warm_requests = fast.fake.requests().len();
        let (mut conc, mut seq) = (Vec::new(), Vec::new());
        for minute in 2..=minutes + 1 {
            fast.advance();
            slow.advance();
            // Alternate which runs first, so neither always meets a warmer machine.
            if minute % 2 == 0 {
                conc.push(concurrent(&fast, &fast_cache, fast.now_ms(minute)).await);
                seq.push(sequential(&slow, &slow_cache, slow.now_ms(minute)).await);
            } else {
                seq.push(sequential(&slow, &slow_cache, slow.now_ms(minute)).await);
                conc.push(concurrent(&fast, &fast_cache, fast.now_ms(minute)).await);
            }
        }
        println!(
            "{n} bots, each on its own symbol, 5/20 on 1-minute candles; fake BitMEX on loopback"
        );
        println!(
            "warm-up tick: concurrent {:.1} ms, one after the other {:.1} ms",
            warm_fast.as_secs_f64() * 1000.0,
            warm_slow.as_secs_f64() * 1000.0
        );
        let c = stats("concurrent", &mut conc);
        let s = stats("sequential", &mut seq);
        println!("sequential / concurrent: {:.2}x", s / c);
        // Both deployments traded the same markets the same way.
        let mut orders = 0;
        for (a, b) in fast.bots.iter().zip(&slow.bots) {
            let symbol = &a.params.symbol;
            assert_eq!(
                fast.fake.position(symbol),
                slow.fake.position(symbol),
                "{symbol}"
            );
            orders += fast.fake.orders(symbol).len();
            let record = fast.store.load(&a.id).await.expect("load").expect("record");
            assert!(
                record.value.stopped.is_none(),
                "{}: {:?}",
                a.id,
                record.value.stopped
            );
            assert_eq!(b.id, a.id);
        }
        let requests = fast.fake.requests().len();
        println!(
            "orders placed per deployment: {orders}; exchange requests: {:.1} a minute after \
             the warm-up (BitMEX allows 120 a minute per API key)",
            (requests as f64 - warm_requests as f64) / minutes as f64
        );
        assert!(orders > 0, "the markets made the bots trade");
    });
}
