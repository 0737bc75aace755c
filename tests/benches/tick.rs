//! What one tick costs: CPU time and wall time per tick by kind (quiet: no new candle; candle: a
//! new candle, no order; signal: a new candle and an order), and the requests a quiet tick makes
//! to the store and to the exchange.
//!
//! The real tick runs with the real BitMEX client against the fake BitMEX on loopback and the
//! `FileStore` in a temporary directory, over real LTC candles (windows 10/50 on 1-minute bins,
//! every minute ticked twice so the second tick is quiet). The fake runs on a thread of its own;
//! the tick's CPU time is the process's CPU time minus that thread's, read from `/proc` (per-thread
//! `schedstat`, nanoseconds), so network waits and the server's own work are excluded.
//!
//! `cargo bench -p maestro-tests --bench tick` (add `-- --minutes N` for a longer run).

use maestro_lambda::bot_id::BotId;
use maestro_lambda::store::{BotRecord, FileStore, OrderLog, StateStore, StoreResult, Versioned};
use maestro_lambda::tick::{NoFailpoints, Outcome};
use maestro_tests::fake_bitmex::{Bar, FakeBitmex};
use maestro_tests::tick_harness::{Bot, SYMBOL, build_client, params, real_bars};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The file store, counting calls by kind.
#[derive(Clone)]
struct Counting {
    inner: FileStore,
    loads: Arc<AtomicU64>,
    saves: Arc<AtomicU64>,
    others: Arc<AtomicU64>,
}

impl StateStore for Counting {
    async fn load(&self, bot_id: &BotId) -> StoreResult<Option<Versioned<BotRecord>>> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.inner.load(bot_id).await
    }
    async fn save(&self, record: &BotRecord, expected: Option<u64>) -> StoreResult<u64> {
        self.saves.fetch_add(1, Ordering::Relaxed);
        self.inner.save(record, expected).await
    }
    async fn record_order(&self, bot_id: &BotId, order: &OrderLog) -> StoreResult<()> {
        self.others.fetch_add(1, Ordering::Relaxed);
        self.inner.record_order(bot_id, order).await
    }
    async fn recent_orders(
        &self,
        bot_id: &BotId,
        limit: usize,
        now_s: i64,
    ) -> StoreResult<Vec<OrderLog>> {
        self.others.fetch_add(1, Ordering::Relaxed);
        self.inner.recent_orders(bot_id, limit, now_s).await
    }
    async fn claim_nonce(&self, nonce: &str, now_s: i64, expires_at_s: i64) -> StoreResult<bool> {
        self.others.fetch_add(1, Ordering::Relaxed);
        self.inner.claim_nonce(nonce, now_s, expires_at_s).await
    }
}

/// CPU time (ns) every thread of this process except `skip` has run so far.
fn cpu_ns_except(skip: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| t.file_name().to_str() != Some(skip))
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[derive(Default)]
struct Kind {
    cpu_ns: Vec<u64>,
    wall_ns: Vec<u64>,
}

fn summary(name: &str, k: &mut Kind, overhead_ns: u64) {
    if k.cpu_ns.is_empty() {
        println!("{name:>7}: no ticks");
        return;
    }
    k.cpu_ns.sort_unstable();
    k.wall_ns.sort_unstable();
    let n = k.cpu_ns.len();
    let us = |v: u64| v.saturating_sub(overhead_ns) as f64 / 1000.0;
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    let p = |v: &[u64], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    println!(
        "{name:>7}: {n:>5} ticks | CPU µs mean {:>7.1} median {:>7.1} p95 {:>7.1} | wall µs mean {:>7.1} median {:>7.1} p95 {:>7.1}",
        us(mean(&k.cpu_ns)),
        us(p(&k.cpu_ns, 0.5)),
        us(p(&k.cpu_ns, 0.95)),
        mean(&k.wall_ns) as f64 / 1000.0,
        p(&k.wall_ns, 0.5) as f64 / 1000.0,
        p(&k.wall_ns, 0.95) as f64 / 1000.0,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, and
    // then a short smoke run proves the bench still works without spending CI time on figures.
    let benching = std::env::args().any(|a| a == "--bench");
    let minutes = std::env::args()
        .skip_while(|a| a != "--minutes")
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(if benching { 1500usize } else { 30 });
    let Some(all) = real_bars("tick bench") else {
        return;
    };
    let bars: Vec<Bar> = all[10_000..10_000 + 60 + minutes].to_vec();

    // The fake on its own thread and runtime, so its CPU time can be told apart.
    let (fake, fake_tid) = FakeBitmex::start_on_own_thread();
    let p = params(10, 50);
    fake.set_series(SYMBOL, p.bin, bars.clone(), 60);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Counting {
            inner: FileStore::open(dir.path()).expect("file store"),
            loads: Arc::default(),
            saves: Arc::default(),
            others: Arc::default(),
        };
        let client = build_client(fake.client_config());
        let instrument = maestro_lambda::exchange::Exchange::instrument(&client, SYMBOL)
            .await
            .expect("instrument");
        let bot = Bot {
            client,
            store: store.clone(),
            instrument,
            id: maestro_tests::bot_id("bench"),
            params: p,
            per_call_budget: false,
        };
        let now = |completed: usize| bars[completed - 1].close_time_ms + 1000;
        bot.tick_at(now(60), &NoFailpoints).await.expect("warm-up tick");

        // Cost of the measurement itself (two reads of /proc), subtracted from every sample.
        let mut probe = Vec::new();
        for _ in 0..200 {
            let a = cpu_ns_except(&fake_tid);
            let b = cpu_ns_except(&fake_tid);
            probe.push(b.saturating_sub(a));
        }
        probe.sort_unstable();
        let overhead = probe[probe.len() / 2];

        let (mut quiet, mut candle, mut signal) = (Kind::default(), Kind::default(), Kind::default());
        let (mut quiet_requests, mut quiet_loads, mut quiet_saves, mut quiet_others) = (0, 0, 0, 0);
        let load_count = |s: &Counting| {
            (
                s.loads.load(Ordering::Relaxed),
                s.saves.load(Ordering::Relaxed),
                s.others.load(Ordering::Relaxed),
            )
        };
        let mut routes = std::collections::BTreeMap::new();
        fake.clear_requests();
        let cpu_start = cpu_ns_except(&fake_tid);
        let wall_start = Instant::now();
        for completed in 61..=60 + minutes {
            fake.advance(SYMBOL, 1);
            fake.set_rate_tokens(120);
            for second in [false, true] {
                let calls_before = load_count(&store);
                let cpu0 = cpu_ns_except(&fake_tid);
                let t0 = Instant::now();
                let report = bot.tick_at(now(completed), &NoFailpoints).await.expect("tick");
                let wall = t0.elapsed().as_nanos() as u64;
                let cpu = cpu_ns_except(&fake_tid).saturating_sub(cpu0);
                let kind = match report.outcome {
                    Outcome::Quiet => &mut quiet,
                    Outcome::Ordered => &mut signal,
                    _ => &mut candle,
                };
                kind.cpu_ns.push(cpu);
                kind.wall_ns.push(wall);
                let requests = fake.requests();
                fake.clear_requests();
                for r in &requests {
                    *routes.entry(r.label()).or_insert(0u32) += 1;
                }
                if second {
                    assert_eq!(report.outcome, Outcome::Quiet, "the second tick of a minute is quiet");
                    let calls = load_count(&store);
                    quiet_requests += requests.len();
                    quiet_loads += calls.0 - calls_before.0;
                    quiet_saves += calls.1 - calls_before.1;
                    quiet_others += calls.2 - calls_before.2;
                }
            }
        }
        let total_cpu = cpu_ns_except(&fake_tid) - cpu_start;
        let ticks = quiet.cpu_ns.len() + candle.cpu_ns.len() + signal.cpu_ns.len();
        println!(
            "tick bench: {minutes} real LTC minutes (10/50 SMA, 1m), each ticked twice; FileStore + fake BitMEX on loopback"
        );
        println!("measurement overhead subtracted per sample: {:.1} µs", overhead as f64 / 1000.0);
        summary("quiet", &mut quiet, overhead);
        summary("candle", &mut candle, overhead);
        summary("signal", &mut signal, overhead);
        println!(
            "all ticks: {ticks} in {:.2?}, tick CPU {:.1} µs/tick on average (including measurement)",
            wall_start.elapsed(),
            total_cpu as f64 / ticks as f64 / 1000.0
        );
        let n = minutes as f64;
        println!(
            "per quiet tick: {:.2} exchange requests, {:.2} store loads, {:.2} store saves, {:.2} other store calls",
            quiet_requests as f64 / n,
            quiet_loads as f64 / n,
            quiet_saves as f64 / n,
            quiet_others as f64 / n
        );
        println!("exchange requests over the whole run by route: {routes:?}");
    });
}
