//! The real-money scenarios of the reconcile-first tick, end to end: the real BitMEX client
//! against the fake BitMEX over HTTP, the real stores (DynamoDB on moto, the file store), the real
//! routes for a trader's commands. Every scenario runs under both readings of BitMEX's undocumented
//! clOrdID rule ([`IdReuse::Forever`], [`IdReuse::WhileOpen`]) and is judged by the fake's
//! execution journal (what the exchange executed), not by the requests it accepted.
//!
//! | module | scenario |
//! |---|---|
//! | [`flatten`] | 1. a flatten against an order in flight, a crash, a failed close |
//! | [`ids`] | 2. a lost answer is not executed twice; a state reset reuses no id |
//! | [`stale`] | 3. a stale intent after a hand close; dry run switched on with an intent pending |
//! | [`rewarm`] | 4. a re-warming strategy holds the position |
//! | [`live`] | 5. one live bot per symbol |
//! | [`housekeeping`] | 6. only the bot's own orders are cancelled, never all |
//! | [`pause`] | 7. a pause while an order is in flight closes nothing |
//! | [`breaker`] | 8. rejections and a liquidation stop the bot until a `resume` |
//!
//! The markets are drawn for the scenarios (a zigzag, a plateau) so that every flip lands on a
//! known minute; the harness's simulated clock makes waits past `SETTLE_MS` free.

mod breaker;
mod flatten;
mod housekeeping;
mod ids;
mod live;
mod pause;
mod rewarm;
mod stale;

use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::routes::{Request, Response, RouteAuth, Routes};
use maestro_lambda::store::{BotRecord, DynamoStore, FileStore, OrderIntent, StateStore};
use maestro_lambda::tick::{NoFailpoints, TickError, TickReport, own_prefix};
use maestro_tests::fake_bitmex::{Bar, ExecKind, Execution, IdReuse, synthetic};
use maestro_tests::market::FIRST_CLOSE;
use maestro_tests::tick_harness::{BOT_ID, Bot, Harness, SYMBOL, params, signals};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Both readings of how long BitMEX keeps a clOrdID reserved; `WhileOpen` first, because there an
/// order sent twice executes twice and the journal shows it before anything else fails.
const MODES: [IdReuse; 2] = [IdReuse::WhileOpen, IdReuse::Forever];

const SHORT: u32 = 5;
const LONG: u32 = 20;
/// Completed bars when a scenario starts: the first tick takes the first regime at once.
const READY: usize = LONG as usize;
/// The bot's order size and its largest position.
const LOT: i64 = 1000;

/// A market drawn for the scenarios, and the minutes (completed bars) at which a fresh 5/20
/// crossover takes a new regime after the first.
struct Market {
    bars: Vec<Bar>,
    flips: Vec<usize>,
}

/// Closes in cents from `cents(i)`, as bars from [`FIRST_CLOSE`].
fn drawn(n: usize, cents: impl Fn(usize) -> i64) -> Vec<Bar> {
    synthetic(FIRST_CLOSE, BinSize::M1, n, |i| cents(i) as f64 / 100.0)
}

fn market(bars: Vec<Bar>) -> Market {
    let changes = signals(SHORT, LONG, &bars, 0, bars.len());
    assert_eq!(
        changes.first(),
        Some(&(READY - 1)),
        "the first regime comes with the 20th bar: {changes:?}"
    );
    Market {
        flips: changes[1..].iter().map(|i| i + 1).collect(),
        bars,
    }
}

/// Up 10 cents a minute to bar 24, down to bar 44, up again: long from minute 20, short after
/// the first flip, long after the second.
fn zigzag() -> Market {
    let m = market(drawn(70, |i| match i {
        0..=24 => 10_000 + 10 * i as i64,
        25..=44 => 10_240 - 10 * (i as i64 - 24),
        _ => 10_040 + 10 * (i as i64 - 44),
    }));
    assert_eq!(m.flips.len(), 2, "two flips: {:?}", m.flips);
    assert!(m.flips[0] > READY + 2, "{:?}", m.flips);
    m
}

/// The bar on which the plateau ends and the price starts to fall.
const PLATEAU_END: usize = 65;

/// Up to bar 24, flat (equal means: no regime indicated) to bar 64, then down: one flip, on the
/// first falling bar.
fn plateau() -> Market {
    let m = market(drawn(80, |i| match i {
        0..=24 => 10_000 + 10 * i as i64,
        25..PLATEAU_END => 10_240,
        _ => 10_240 - 10 * (i as i64 - 64),
    }));
    assert_eq!(m.flips, [PLATEAU_END + 1], "one flip, on the fall");
    m
}

async fn dynamo(test: &str, market: &Market, mode: IdReuse) -> Harness<DynamoStore> {
    let h = Harness::dynamo(test, params(SHORT, LONG), market.bars.clone(), READY).await;
    h.fake.set_id_reuse(mode);
    h
}

async fn file(market: &Market, mode: IdReuse) -> Harness<FileStore> {
    let h = Harness::file_in_memory(params(SHORT, LONG), market.bars.clone(), READY).await;
    h.fake.set_id_reuse(mode);
    h
}

/// Ticks every minute up to `minute` completed bars (the current minute included).
async fn tick_to<S: StateStore>(h: &mut Harness<S>, minute: usize) {
    h.tick_ok().await;
    while h.completed() < minute {
        h.advance(1);
        h.tick_ok().await;
    }
}

/// The harness's bot as the routes' configuration.
fn this_bot<S>(h: &Harness<S>) -> Vec<BotConfig> {
    vec![BotConfig {
        id: BOT_ID.parse().expect("a valid bot id"),
        params: h.bot.params.clone(),
    }]
}

/// `POST /control` with `body` through the real routes over the harness's client and store.
async fn control<S: StateStore>(
    h: &Harness<S>,
    bots: &[BotConfig],
    body: Value,
    now_ms: i64,
) -> Response {
    let request = Request {
        method: "POST".to_owned(),
        path: "/control".to_owned(),
        body: body.to_string().into_bytes(),
        ..Request::default()
    };
    Routes::new(
        &h.bot.client,
        &h.bot.store,
        bots,
        DeployLimits::of_bots(bots),
        &RouteAuth::Loopback,
    )
    .handle(&request, now_ms)
    .await
}

/// A trader's `pause`, `resume` or `flatten` of the harness's bot; it must be answered 200
/// except for a flatten, whose close may fail (502) and is then finished by the ticks.
async fn command<S: StateStore>(h: &Harness<S>, action: &str, now_ms: i64) -> Response {
    let body = json!({ "action": action, "bot": BOT_ID });
    let response = control(h, &this_bot(h), body, now_ms).await;
    if action != "flatten" {
        assert_eq!(response.status, 200, "{action}: {response:?}");
    }
    response
}

async fn record<S: StateStore>(h: &Harness<S>) -> BotRecord {
    h.record().await.expect("the bot has a record").value
}

async fn pending<S: StateStore>(h: &Harness<S>) -> OrderIntent {
    record(h).await.pending.expect("an intent is pending")
}

/// The executions of the bot's own orders (its clOrdID prefix), oldest first.
fn bot_executions<S>(h: &Harness<S>) -> Vec<Execution> {
    let prefix = own_prefix(BOT_ID);
    h.fake
        .executions(SYMBOL)
        .into_iter()
        .filter(|e| e.kind == ExecKind::Order && e.cl_ord_id.starts_with(&prefix))
        .collect()
}

/// Contracts the exchange executed under `cl_ord_id`.
fn executed_qty<S>(h: &Harness<S>, cl_ord_id: &str) -> i64 {
    bot_executions(h)
        .iter()
        .filter(|e| e.cl_ord_id == cl_ord_id)
        .map(|e| e.qty)
        .sum()
}

/// Contracts the bot's own orders executed in all.
fn bot_volume<S>(h: &Harness<S>) -> i64 {
    bot_executions(h).iter().map(|e| e.qty).sum()
}

/// `POST /order` requests that carried `cl_ord_id`.
fn posts_of<S>(h: &Harness<S>, cl_ord_id: &str) -> usize {
    h.fake
        .requests_to("POST", "/order")
        .iter()
        .filter(|r| r.param("clOrdID").as_deref() == Some(cl_ord_id))
        .count()
}

/// The largest absolute position the account held, replaying the journal.
fn peak_position<S>(h: &Harness<S>) -> i64 {
    h.fake
        .executions(SYMBOL)
        .iter()
        .scan(0i64, |position, e| {
            *position += e.signed_qty();
            Some(position.abs())
        })
        .max()
        .unwrap_or(0)
}

/// What every scenario ends with: the journal explains the position, no clOrdID executed under
/// two orders, and no clOrdID reached the engine twice.
fn assert_journal_sound<S: StateStore>(h: &Harness<S>, mode: IdReuse) {
    assert_eq!(
        h.fake.executed_position(SYMBOL),
        h.position(),
        "{mode:?}: the journal explains the position"
    );
    let mut orders_by_id: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in bot_executions(h) {
        orders_by_id
            .entry(e.cl_ord_id.clone())
            .or_default()
            .insert(e.order_id.clone());
    }
    for (id, orders) in &orders_by_id {
        assert_eq!(
            orders.len(),
            1,
            "{mode:?}: clOrdID {id} executed under several orders: {:#?}",
            h.fake.executions(SYMBOL)
        );
    }
    h.assert_no_duplicate_orders();
}

/// Starts a tick of the harness's bot at `now_ms` on its own task, over `store`.
fn spawn_tick<S, T>(
    h: &Harness<S>,
    store: T,
    now_ms: i64,
) -> tokio::task::JoinHandle<Result<TickReport, TickError>>
where
    T: StateStore + 'static,
{
    let bot = Bot {
        client: h.bot.client.clone(),
        store,
        instrument: h.bot.instrument.clone(),
        id: h.bot.id.clone(),
        params: h.bot.params.clone(),
        per_call_budget: false,
    };
    tokio::spawn(async move { bot.tick_at(now_ms, &NoFailpoints).await })
}
