//! The chaos run: 2,000+ minutes through the real tick, the real BitMEX client against the fake
//! BitMEX, and a real store, in both of the fake's clOrdID modes (reserved forever, or only while
//! the order is open), with faults drawn from a seeded generator: 503s, 429s, timeouts and dropped
//! responses on the exchange's routes, store faults (throttling, 500s, timeouts, writes whose
//! answer was lost) through a proxy in front of moto, crashes at every failpoint and ticks killed
//! at random await points, hand trades and liquidations, the trader's pause / flatten / resume through the real
//! routes, and duplicate and concurrent invocations of a minute.
//!
//! Counted from the fake's execution journal, not from accepted requests: no order executed
//! twice; the bot's own executions never take the position past `max_position`; after one
//! settled fault-free tick the position is what the trader's commands and the reference model
//! say; and the bot traded exactly the volume needed to get there, nothing more. The stored
//! version never goes down. The counts are printed at the end (`-- --nocapture` shows them).
//!
//! The seed is fixed so a failure replays exactly; `MAESTRO_CHAOS_SEED=<u64>` tries another.
//!
//! The real-data runs skip on a clone without `../shared/data`; the synthetic runs check the same
//! invariants on a seeded rough market (trends, chop and a crash, [`rough_market`]) and always run.

use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::routes::{Request, RouteAuth, Routes};
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{
    Failpoint, Failpoints, NoFailpoints, TickError, TickReport, own_prefix,
};
use maestro_tests::fake_bitmex::{ExecKind, Fault, FaultRule, IdReuse, synthetic};
use maestro_tests::market::{FIRST_CLOSE, rough_market};
use maestro_tests::store_proxy::StoreProxy;
use maestro_tests::tick_harness::{
    Bot, Harness, Oracle, SYMBOL, assert_no_duplicates, build_client, params, real_bars,
    stored_strategy,
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
/// Simulated minutes of the synthetic run on moto (the file-store runs take [`MINUTES`] in each
/// id mode): enough for every fault kind, failpoint and race to occur, short enough to run on
/// every `cargo test`.
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
const ROUTES: [(&str, &str); 5] = [
    ("GET", "/trade/bucketed"),
    ("GET", "/position"),
    ("POST", "/order"),
    ("GET", "/order"),
    ("DELETE", "/order"),
];
/// A clean tick this long after the minute's faulty ones: past `SETTLE_MS`, so an intent the
/// exchange never received is settled as such.
const SETTLED_MS: i64 = 40_000;

/// Crashes drawn per failpoint from a seeded generator, counted by point.
struct RandomCrash {
    rng: Mutex<StdRng>,
    p: f64,
    fired: Arc<Mutex<BTreeMap<String, u32>>>,
}

impl Failpoints for RandomCrash {
    fn fire(&self, point: Failpoint) -> bool {
        let hit = self.rng.lock().is_ok_and(|mut r| r.random_bool(self.p));
        if hit && let Ok(mut fired) = self.fired.lock() {
            *fired.entry(format!("{point:?}")).or_default() += 1;
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
    killed: u32,
    /// Saves of killed ticks that landed after the clean tick that followed them.
    late_saves: u32,
    hand_trades: u32,
    liquidations: u32,
    trader: BTreeMap<&'static str, u32>,
    stops: BTreeMap<String, u32>,
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

/// What the trader has told the bot, as the run's model of the position it must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trader {
    /// Trading: the position follows the reference model.
    Running,
    /// Paused: the bot trades nothing; the position is whatever the account holds.
    Paused,
    /// Flattened this minute: the position is 0.
    Flattened,
}

/// The trader's request through the real routes (loopback auth), at `now_ms`.
async fn control<S: StateStore>(
    h: &Harness<S>,
    bots: &[BotConfig],
    action: &str,
    now_ms: i64,
) -> u16 {
    let auth = RouteAuth::Loopback;
    let routes = Routes::new(
        &h.bot.client,
        &h.bot.store,
        bots,
        DeployLimits::of_bots(bots),
        &auth,
    );
    let request = Request {
        method: "POST".to_owned(),
        path: "/control".to_owned(),
        body: format!(r#"{{"action":"{action}","bot":"{}"}}"#, h.bot.id).into_bytes(),
        ..Request::default()
    };
    routes.handle(&request, now_ms).await.status
}

/// A tick that may be killed at any await point: with probability `p` it is given only a few
/// milliseconds and dropped wherever it is then, as a process that dies mid-request would be.
async fn maybe_killed<S: StateStore>(
    bot: &Bot<S>,
    now: i64,
    failpoints: &dyn Failpoints,
    kill_after: Option<Duration>,
) -> Option<Result<TickReport, TickError>> {
    match kill_after {
        None => Some(bot.tick_at(now, failpoints).await),
        Some(after) => tokio::time::timeout(after, bot.tick_at(now, failpoints))
            .await
            .ok(),
    }
}

async fn chaos<S: StateStore + Clone + 'static>(
    mut h: Harness<S>,
    label: &str,
    minutes: usize,
    ids: IdReuse,
    store_faults: Option<&StoreProxy>,
) {
    let seed = std::env::var("MAESTRO_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = StdRng::seed_from_u64(seed);
    h.fake.set_id_reuse(ids);
    let bots = [BotConfig {
        id: h.bot.id.parse().expect("bot id"),
        params: h.bot.params.clone(),
    }];
    let prefix = own_prefix(&h.bot.id);
    let max_position = i64::try_from(h.bot.params.max_position).expect("a small cap");
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

    let mut trader = Trader::Running;
    // The volume the bot must trade: per minute, from the position the minute starts with (after
    // hand trades, liquidations and the trader's commands) to the one it must end with.
    let mut needed: i64 = 0;
    let mut version = 0;
    for _ in 0..minutes {
        h.advance(1);
        let now = h.now_ms();
        let signal = oracle
            .push(&h.completed_bars()[h.completed() - 1])
            .is_some();
        if oracle.is_ready() && rng.random_bool(0.01) {
            let qty = rng.random_range(1..=3) * 1000;
            let side = if rng.random_bool(0.5) { "Buy" } else { "Sell" };
            h.fake.hand_trade(SYMBOL, side, qty).expect("hand trade");
            counts.hand_trades += 1;
        }
        if rng.random_bool(0.002) && h.fake.liquidate(SYMBOL).is_some() {
            counts.liquidations += 1;
        }
        // The trader's commands, through the real routes, before the minute's ticks.
        let command = match (trader, rng.random_range(0..1000)) {
            (Trader::Running, 0..3) => Some(("pause", Trader::Paused)),
            (_, 3..6) => Some(("flatten", Trader::Flattened)),
            (Trader::Paused | Trader::Flattened, 6..206) => Some(("resume", Trader::Running)),
            _ => None,
        };
        let start = h.position();
        if let Some((action, next)) = command {
            let status = control(&h, &bots, action, now).await;
            assert_eq!(status, 200, "{action} at minute {}", h.completed());
            *counts.trader.entry(action).or_default() += 1;
            trader = next;
        } else if trader == Trader::Flattened {
            trader = Trader::Paused;
        }

        // Faults gather where it hurts: most minutes that trade are faulty.
        let faulty = rng.random_bool(if signal { 0.8 } else { 0.15 });
        let failpoints: Arc<dyn Failpoints> = if faulty {
            counts.faulty_minutes += 1;
            draw_faults(&h.fake, &mut rng);
            if let Some(proxy) = store_faults {
                // Throttling, 500s, hangs and writes whose answer is lost, on 30% of requests:
                // the SDK's own retries absorb most, some fail the tick.
                proxy.random(rng.random(), 300);
            }
            Arc::new(RandomCrash {
                rng: Mutex::new(StdRng::seed_from_u64(rng.random())),
                p: 0.25,
                fired: Arc::clone(&crashes),
            })
        } else {
            Arc::new(NoFailpoints)
        };
        let kill = |rng: &mut StdRng| {
            (faulty && rng.random_bool(0.15))
                .then(|| Duration::from_millis(rng.random_range(1..=25)))
        };
        let bot = if faulty { &wild } else { &calm };
        let results = match rng.random_range(0..100) {
            0..76 => vec![maybe_killed(bot, now, failpoints.as_ref(), kill(&mut rng)).await],
            76..88 => {
                counts.duplicate_minutes += 1;
                let (k1, k2) = (kill(&mut rng), kill(&mut rng));
                let a = maybe_killed(bot, now, failpoints.as_ref(), k1).await;
                let b = maybe_killed(bot, now, failpoints.as_ref(), k2).await;
                vec![a, b]
            }
            _ => {
                counts.concurrent_minutes += 1;
                let n = rng.random_range(2..=4);
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let bot = bot.clone();
                        let fp = Arc::clone(&failpoints);
                        let k = kill(&mut rng);
                        tokio::spawn(async move { maybe_killed(&bot, now, fp.as_ref(), k).await })
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
            let Some(r) = r else {
                counts.killed += 1;
                continue;
            };
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
        check_journal(&h, &prefix, max_position);

        // A clean tick once any intent has settled; a bot that stopped itself is resumed (a
        // trader who has looked at why), then ticks clean again.
        h.fake.clear_faults();
        if let Some(proxy) = store_faults {
            proxy.clear();
        }
        let mut later = SETTLED_MS;
        loop {
            let clean = calm.tick_at(now + later, &NoFailpoints).await;
            counts.tally(&clean);
            counts.fault_free_ticks += 1;
            let clean = clean
                .unwrap_or_else(|e| panic!("fault-free tick at minute {}: {e}", h.completed()));
            let stored = h.record().await.expect("record");
            // A killed tick's save can still land after the clean tick read the record (the file
            // store writes on a blocking thread that outlives the dropped future, as a dead
            // process's request can still reach DynamoDB). Then the record moved past what the
            // clean tick left, and the intent it holds is the dead tick's: the next clean tick
            // settles it. When the record is the clean tick's own, an intent left is a failure.
            if stored.value.pending.is_some() && Some(stored.version) != clean.version {
                counts.late_saves += 1;
                assert!(
                    counts.late_saves <= 50,
                    "minute {}: a late save again; late saves cannot be this common",
                    h.completed()
                );
                later += 1000;
                continue;
            }
            let Some(reason) = stored.value.stopped.clone() else {
                break;
            };
            assert!(
                reason.contains("by hand") || reason.contains("in the last"),
                "minute {}: the bot stopped for a reason chaos does not explain: {reason} \
                 ({clean:?})",
                h.completed()
            );
            let kind = if reason.contains("by hand") {
                "position changed"
            } else {
                "order limits"
            };
            *counts.stops.entry(kind.to_owned()).or_default() += 1;
            assert_eq!(control(&h, &bots, "resume", now + later).await, 200);
            trader = Trader::Running;
            later += 1000;
        }
        check_journal(&h, &prefix, max_position);

        let stored = h.record().await.expect("record");
        assert!(stored.version >= version, "stored version went back");
        version = stored.version;
        assert_eq!(
            stored.value.pending,
            None,
            "minute {}: intent left",
            h.completed()
        );
        assert!(
            !stored.value.flatten,
            "minute {}: flatten left",
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
        let must_hold = match trader {
            Trader::Running => oracle.target(),
            Trader::Paused => start,
            Trader::Flattened => 0,
        };
        assert_eq!(
            h.position(),
            must_hold,
            "position at minute {} ({trader:?})",
            h.completed()
        );
        needed += (must_hold - start).abs();
    }

    let orders = h.orders();
    assert_no_duplicates(&orders);
    let journal = h.fake.executions(SYMBOL);
    let traded: i64 = journal
        .iter()
        .filter(|e| e.kind == ExecKind::Order)
        .map(|e| e.qty)
        .sum();
    assert_eq!(
        traded, needed,
        "the bot traded exactly the volume the model, the trader's commands, hand trades and \
         liquidations made necessary"
    );
    assert_eq!(h.fake.executed_position(SYMBOL), h.position());
    let mut faults: BTreeMap<&str, u32> = BTreeMap::new();
    for r in h.fake.requests() {
        if let Some(f) = &r.fault {
            *faults.entry(fault_name(f)).or_default() += 1;
        }
    }
    let crashes = crashes.lock().map(|c| c.clone()).unwrap_or_default();
    println!(
        "chaos run ({label}, ids reserved {ids:?}, seed {seed}): {minutes} minutes in {:.1?}",
        started.elapsed()
    );
    println!(
        "  ticks: {} ({} fault-free follow-ups), {} killed at a random await point, {} of \
         whose saves landed after the next clean tick",
        counts.ticks, counts.fault_free_ticks, counts.killed, counts.late_saves
    );
    println!(
        "  minutes: {} faulty, {} ticked twice, {} ticked concurrently; {} hand trades, {} \
         liquidations; trader commands {:?}",
        counts.faulty_minutes,
        counts.duplicate_minutes,
        counts.concurrent_minutes,
        counts.hand_trades,
        counts.liquidations,
        counts.trader
    );
    println!("  faults injected by kind: {faults:?}");
    if let Some(proxy) = store_faults {
        println!(
            "  store faults: {} of {} requests",
            proxy.faults_fired(),
            proxy.seen().len()
        );
        assert!(proxy.faults_fired() > 0, "the store met faults");
        assert!(
            counts.failed.contains_key("store error"),
            "store faults failed ticks: {:?}",
            counts.failed
        );
    }
    println!("  crashes by failpoint: {crashes:?}");
    println!("  failed ticks by cause: {:?}", counts.failed);
    println!(
        "  outcomes: {:?}; stops: {:?}",
        counts.outcomes, counts.stops
    );
    println!(
        "  executions: {} ({traded} contracts traded by the bot, exactly as needed); orders on \
         the exchange: {}",
        journal.len(),
        orders.len(),
    );
    assert!(faults.len() >= 5, "every fault kind was drawn: {faults:?}");
    assert!(crashes.len() >= 3, "every failpoint fired: {crashes:?}");
    assert!(counts.killed > 0, "ticks were killed at random points");
    assert!(
        counts.outcomes.get("Conflict").copied().unwrap_or(0) > 0,
        "races happened"
    );
}

/// Replays the execution journal: the bot's own executions never take the position beyond
/// `max_position` unless they reduce it (a hand trade may have put it there), and no clOrdID
/// executed twice.
fn check_journal<S: StateStore>(h: &Harness<S>, prefix: &str, max_position: i64) {
    let mut position = 0i64;
    let mut seen = HashSet::new();
    for e in h.fake.executions(SYMBOL) {
        let before = position;
        position += e.signed_qty();
        if e.kind != ExecKind::Order {
            continue;
        }
        assert!(
            e.cl_ord_id.starts_with(prefix),
            "an execution the bot did not send: {e:?}"
        );
        assert!(
            position.abs() <= max_position || position.abs() < before.abs(),
            "the bot took the position from {before} to {position}: {e:?}"
        );
        assert!(
            seen.insert(e.order_id.clone()),
            "order {} executed twice",
            e.order_id
        );
    }
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
        IdReuse::Forever,
        None,
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
    chaos(
        h,
        "FileStore in /dev/shm",
        MINUTES,
        IdReuse::WhileOpen,
        None,
    )
    .await;
}

/// Minutes of the long run (`cargo test -p maestro-tests --release --test tick chaos_long_run
/// -- --ignored --nocapture`); `MAESTRO_CHAOS_MINUTES` changes it.
const LONG_MINUTES: usize = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_synthetic_dynamo() {
    let bars = synthetic_chaos_bars(SYNTHETIC_MINUTES);
    let (h, proxy, _table) =
        Harness::dynamo_behind_proxy("chaos-synthetic", params(SHORT, LONG), bars, 1).await;
    chaos(
        h,
        "synthetic market, DynamoStore on moto behind a fault proxy",
        SYNTHETIC_MINUTES,
        IdReuse::WhileOpen,
        Some(&proxy),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_synthetic_file_ids_reserved_forever() {
    let bars = synthetic_chaos_bars(MINUTES);
    let h = Harness::file_in_memory(params(SHORT, LONG), bars, 1).await;
    chaos(
        h,
        "synthetic market, FileStore in /dev/shm",
        MINUTES,
        IdReuse::Forever,
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_synthetic_file_ids_reserved_while_open() {
    let bars = synthetic_chaos_bars(MINUTES);
    let h = Harness::file_in_memory(params(SHORT, LONG), bars, 1).await;
    chaos(
        h,
        "synthetic market, FileStore in /dev/shm",
        MINUTES,
        IdReuse::WhileOpen,
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run for the figures: 20,000 minutes per id mode"]
async fn chaos_long_run() {
    let minutes = std::env::var("MAESTRO_CHAOS_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(LONG_MINUTES);
    for ids in [IdReuse::Forever, IdReuse::WhileOpen] {
        let bars = synthetic_chaos_bars(minutes);
        let h = Harness::file_in_memory(params(SHORT, LONG), bars, 1).await;
        chaos(
            h,
            "synthetic market, FileStore in /dev/shm",
            minutes,
            ids,
            None,
        )
        .await;
    }
}
