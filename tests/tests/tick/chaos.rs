//! The chaos run: 2,000+ minutes of real LTC candles (19 May 2021's crash included) through the
//! real tick, the real BitMEX client against the fake BitMEX, and a real store, with faults drawn
//! from a seeded generator: 503s, 429s, timeouts and dropped responses on the exchange's routes,
//! crashes at every failpoint, hand trades, and duplicate and concurrent invocations of a minute.
//!
//! After every minute: no clOrdID reached the engine twice, the stored version never went down,
//! and after at most one fault-free tick the exchange position is the reference model's target.
//! The counts are printed at the end (`cargo test ... -- --nocapture` shows them).
//!
//! The seed is fixed so a failure replays exactly; `MAESTRO_CHAOS_SEED=<u64>` tries another.
//!
//! The real-data runs skip on a clone without `../shared/data`; the synthetic runs check the same
//! invariants on a seeded rough market (trends, chop and a crash, [`rough_market`]) and always run.

use maestro_lambda::exchange::BinSize;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{Failpoint, Failpoints, NoFailpoints, TickError, TickReport};
use maestro_tests::fake_bitmex::{Fault, FaultRule, synthetic};
use maestro_tests::market::{FIRST_CLOSE, rough_market};
use maestro_tests::tick_harness::{
    Harness, Oracle, SYMBOL, assert_no_duplicates, build_client, params, real_bars, stored_strategy,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SHORT: u32 = 5;
const LONG: u32 = 20;
/// Simulated minutes of the run on real data.
const MINUTES: usize = 2000;
/// Simulated minutes of the synthetic runs: enough for every fault kind, failpoint and race to
/// occur, short enough to run on every `cargo test`.
const SYNTHETIC_MINUTES: usize = 700;
/// The synthetic market's seed (the fault draws have their own).
const MARKET_SEED: u64 = 0x005e_ed0f_c4a0;
/// Where the run starts in the May 2021 file: a few hours before the 19 May crash.
const START: usize = 5000;
const DEFAULT_SEED: u64 = 0x6d61_6573_7472_6f21;
/// The client gives up on one attempt after this long (a hang or a dropped answer lasts longer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(50);
/// How long a hung or dropped request is held.
const HOLD: Duration = Duration::from_millis(80);
/// Each exchange call's budget: below BitMEX's 500 ms overload wait, so a 503 fails the call (and
/// the tick) at once instead of stalling the run; the next invocation must pick up the pieces.
const CALL_BUDGET: Duration = Duration::from_millis(450);
/// The routes the tick calls, each drawn for a fault separately.
const ROUTES: [(&str, &str); 6] = [
    ("GET", "/trade/bucketed"),
    ("GET", "/position"),
    ("POST", "/order"),
    ("GET", "/order"),
    ("DELETE", "/order/all"),
    ("POST", "/order/cancelAllAfter"),
];

/// Crashes drawn per failpoint from a seeded generator, counted by point.
struct RandomCrash {
    rng: Mutex<StdRng>,
    p: f64,
    fired: Arc<Mutex<BTreeMap<String, u32>>>,
}

impl Failpoints for RandomCrash {
    fn fire(&self, point: Failpoint) -> bool {
        let hit = self.rng.lock().is_ok_and(|mut r| r.random_bool(self.p));
        if hit {
            if let Ok(mut fired) = self.fired.lock() {
                *fired.entry(format!("{point:?}")).or_default() += 1;
            }
        }
        hit
    }
}

fn fault_name(fault: &Fault) -> &'static str {
    match fault {
        Fault::Overloaded => "503 overloaded",
        Fault::RateLimited { .. } => "429 rate limited",
        Fault::Hang(_) => "timeout",
        Fault::ExecuteThenDrop(_) => "executed, response dropped",
        Fault::ExecuteThenOverloaded => "executed, then 503",
        Fault::MalformedBody => "malformed body",
        _ => "other",
    }
}

/// Queues faults for the next requests of randomly chosen routes.
fn draw_faults(fake: &maestro_tests::fake_bitmex::FakeBitmex, rng: &mut StdRng) {
    for (method, route) in ROUTES {
        if !rng.random_bool(0.3) {
            continue;
        }
        let fault = match rng.random_range(0..100) {
            0..25 => Fault::Overloaded,
            25..50 => Fault::RateLimited { retry_after_s: 0 },
            50..70 => Fault::Hang(HOLD),
            70..90 => Fault::ExecuteThenDrop(HOLD),
            _ => Fault::ExecuteThenOverloaded,
        };
        let times = rng.random_range(1..=2);
        fake.inject(FaultRule::new(fault).times(times).on(method, route));
    }
}

#[derive(Default)]
struct Counts {
    ticks: u32,
    failed: BTreeMap<&'static str, u32>,
    outcomes: BTreeMap<String, u32>,
    faulty_minutes: u32,
    fault_free_ticks: u32,
    duplicate_minutes: u32,
    concurrent_minutes: u32,
    hand_trades: u32,
}

impl Counts {
    fn tally(&mut self, result: &Result<TickReport, TickError>) {
        self.ticks += 1;
        match result {
            Ok(r) => *self.outcomes.entry(format!("{:?}", r.outcome)).or_default() += 1,
            Err(e) => {
                let kind = match e {
                    TickError::Injected(_) => "crash (failpoint)",
                    TickError::Exchange(_) => "exchange error",
                    TickError::Store(_) => "store error",
                    _ => "other",
                };
                *self.failed.entry(kind).or_default() += 1;
            }
        }
    }
}

async fn chaos<S: StateStore + Clone + 'static>(mut h: Harness<S>, label: &str, minutes: usize) {
    let seed = std::env::var("MAESTRO_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = StdRng::seed_from_u64(seed);
    // Faulty minutes use a client with short timeouts and budgets so the run stays quick; the
    // fault-free ticks, where every assertion is strict, use the usual test client.
    let mut config = h.fake.client_config();
    config.request_timeout = ATTEMPT_TIMEOUT;
    config.default_budget = CALL_BUDGET;
    config.backoff_base = Duration::from_millis(5);
    config.backoff_cap = Duration::from_millis(40);
    let mut wild = h.bot.clone();
    wild.client = build_client(config);
    wild.per_call_budget = true;
    let calm = h.bot.clone();
    let started = Instant::now();
    let crashes = Arc::new(Mutex::new(BTreeMap::new()));
    let mut counts = Counts::default();
    let mut oracle = Oracle::new(SHORT, LONG, 1000);
    oracle.push(&h.completed_bars()[0]);
    // The first tick runs clean so the bot's history starts where the model's does.
    let first = h.tick().await;
    counts.tally(&first);
    assert!(first.is_ok(), "{first:?}");

    let mut version = 0;
    let mut seen_orders = 0;
    let mut ids = HashSet::new();
    for _ in 0..minutes {
        h.advance(1);
        let signal = oracle
            .push(&h.completed_bars()[h.completed() - 1])
            .is_some();
        if oracle.is_ready() && rng.random_bool(0.01) {
            h.fake.set_position(SYMBOL, rng.random_range(-3..=3) * 1000);
            counts.hand_trades += 1;
        }
        // Faults gather where it hurts: most minutes that trade are faulty.
        let faulty = rng.random_bool(if signal { 0.8 } else { 0.15 });
        let failpoints: Arc<dyn Failpoints> = if faulty {
            counts.faulty_minutes += 1;
            draw_faults(&h.fake, &mut rng);
            Arc::new(RandomCrash {
                rng: Mutex::new(StdRng::seed_from_u64(rng.random())),
                p: 0.25,
                fired: Arc::clone(&crashes),
            })
        } else {
            Arc::new(NoFailpoints)
        };
        let now = h.now_ms();
        let bot = if faulty { &wild } else { &calm };
        let results = match rng.random_range(0..100) {
            0..76 => vec![bot.tick_at(now, failpoints.as_ref()).await],
            76..88 => {
                counts.duplicate_minutes += 1;
                let a = bot.tick_at(now, failpoints.as_ref()).await;
                let b = bot.tick_at(now, failpoints.as_ref()).await;
                vec![a, b]
            }
            _ => {
                counts.concurrent_minutes += 1;
                let n = rng.random_range(2..=4);
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let bot = bot.clone();
                        let fp = Arc::clone(&failpoints);
                        tokio::spawn(async move { bot.tick_at(now, fp.as_ref()).await })
                    })
                    .collect();
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.expect("a tick task panicked"));
                }
                out
            }
        };
        for r in &results {
            counts.tally(r);
            if !faulty {
                assert!(
                    r.is_ok(),
                    "a fault-free tick failed at minute {}: {r:?}",
                    h.completed()
                );
            }
            if let Ok(report) = r {
                assert!(
                    report.version >= Some(version),
                    "version went back: {report:?}"
                );
            }
        }
        check_orders(&h, &mut seen_orders, &mut ids);

        if faulty {
            let stored = h.record().await.expect("record");
            assert!(stored.version >= version, "stored version went back");
            version = stored.version;
            h.fake.clear_faults();
            let clean = h.tick().await;
            counts.tally(&clean);
            counts.fault_free_ticks += 1;
            assert!(
                clean.is_ok(),
                "fault-free tick at minute {}: {clean:?}",
                h.completed()
            );
            check_orders(&h, &mut seen_orders, &mut ids);
        }
        let stored = h.record().await.expect("record");
        assert!(stored.version >= version, "stored version went back");
        version = stored.version;
        assert_eq!(
            stored.value.pending,
            None,
            "minute {}: intent left",
            h.completed()
        );
        let strategy = stored_strategy(&stored.value).expect("strategy");
        assert_eq!(
            strategy.last_close_ms(),
            h.completed_bars().last().map(|b| b.close_time_ms)
        );
        assert_eq!(
            strategy.target_position(),
            oracle.target(),
            "minute {}",
            h.completed()
        );
        assert_eq!(
            h.position(),
            oracle.target(),
            "position at minute {}",
            h.completed()
        );
    }

    let orders = h.orders();
    assert_no_duplicates(&orders);
    let mut faults: BTreeMap<&str, u32> = BTreeMap::new();
    for r in h.fake.requests() {
        if let Some(f) = &r.fault {
            *faults.entry(fault_name(f)).or_default() += 1;
        }
    }
    let crashes = crashes.lock().map(|c| c.clone()).unwrap_or_default();
    println!(
        "chaos run ({label}, seed {seed}): {minutes} minutes in {:.1?}",
        started.elapsed()
    );
    println!(
        "  ticks: {} ({} fault-free follow-ups)",
        counts.ticks, counts.fault_free_ticks
    );
    println!(
        "  minutes: {} faulty, {} ticked twice, {} ticked concurrently; {} hand trades",
        counts.faulty_minutes,
        counts.duplicate_minutes,
        counts.concurrent_minutes,
        counts.hand_trades
    );
    println!("  faults injected by kind: {faults:?}");
    println!("  crashes by failpoint: {crashes:?}");
    println!("  failed ticks by cause: {:?}", counts.failed);
    println!("  outcomes: {:?}", counts.outcomes);
    println!(
        "  orders on the exchange: {} (distinct clOrdIDs: {}); conflicts: {}",
        orders.len(),
        ids.len(),
        counts.outcomes.get("Conflict").copied().unwrap_or(0)
    );
    assert!(faults.len() >= 5, "every fault kind was drawn: {faults:?}");
    assert!(crashes.len() >= 4, "every failpoint fired: {crashes:?}");
    assert!(
        counts.outcomes.get("Conflict").copied().unwrap_or(0) > 0,
        "races happened"
    );
}

/// No clOrdID on the exchange twice, checking only the orders new since the last call.
fn check_orders<S: StateStore>(h: &Harness<S>, seen: &mut usize, ids: &mut HashSet<String>) {
    let orders = h.orders();
    for o in &orders[*seen..] {
        assert!(
            ids.insert(o.cl_ord_id.clone()),
            "clOrdID {} placed twice",
            o.cl_ord_id
        );
    }
    *seen = orders.len();
}

/// The synthetic market of the always-running chaos runs, one bar more than the run's minutes.
fn synthetic_chaos_bars(minutes: usize) -> Vec<maestro_tests::fake_bitmex::Bar> {
    let closes = rough_market(MARKET_SEED, minutes + 1);
    synthetic(FIRST_CLOSE, BinSize::M1, closes.len(), |i| closes[i])
}

fn chaos_bars(test: &str) -> Option<Vec<maestro_tests::fake_bitmex::Bar>> {
    let bars = real_bars(test)?;
    Some(bars[START..START + MINUTES + 1].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_dynamo() {
    let Some(bars) = chaos_bars("chaos_run_dynamo") else {
        return;
    };
    chaos(
        Harness::dynamo("chaos", params(SHORT, LONG), bars, 1).await,
        "DynamoStore on moto",
        MINUTES,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_file() {
    let Some(bars) = chaos_bars("chaos_run_file") else {
        return;
    };
    // In RAM: every minute saves, and a disk's fsync (about 14 ms here) would dominate the run.
    let h = Harness::file_in_memory(params(SHORT, LONG), bars, 1).await;
    chaos(h, "FileStore in /dev/shm", MINUTES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_synthetic_dynamo() {
    let bars = synthetic_chaos_bars(SYNTHETIC_MINUTES);
    chaos(
        Harness::dynamo("chaos-synthetic", params(SHORT, LONG), bars, 1).await,
        "synthetic market, DynamoStore on moto",
        SYNTHETIC_MINUTES,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_synthetic_file() {
    let bars = synthetic_chaos_bars(SYNTHETIC_MINUTES);
    let h = Harness::file_in_memory(params(SHORT, LONG), bars, 1).await;
    chaos(
        h,
        "synthetic market, FileStore in /dev/shm",
        SYNTHETIC_MINUTES,
    )
    .await;
}
