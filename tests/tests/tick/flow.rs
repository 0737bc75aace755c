//! The tick end to end on a seeded synthetic market, with the real BitMEX client against the fake BitMEX and
//! each real store (DynamoDB on moto, and the file store): warm-up from empty state, the first
//! regime and a crossover, the same minute ticked twice, paused and dry-run bots, a hand trade,
//! and missed ticks caught up from a backlog.

use maestro_core::TickSize;
use maestro_lambda::config::BotConfig;
use maestro_lambda::exchange::Side;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{
    HEARTBEAT_MS, InstrumentCache, NoFailpoints, Outcome, TickError, run_all,
};
use maestro_tests::bot_id;
use maestro_tests::fake_bitmex::Bar;
use maestro_tests::tick_harness::{
    Harness, Oracle, SYMBOL, TICK_BUDGET, find_segment, params, stored_strategy, synthetic_bars,
};
use std::time::Instant;

const SHORT: u32 = 5;
const LONG: u32 = 20;
/// Bars already completed when the bot first runs: fewer than the long window, so it warms up.
const FIRST_COMPLETED: usize = 15;

/// Bars of the synthetic market from the first stretch where a fresh 5/20 crossover takes its first regime on the
/// 20th bar, flips 3 to 13 bars later, and then holds for at least 8 bars. Returns the bars and the
/// index of the flip.
fn crossover_segment() -> (Vec<Bar>, usize) {
    let bars = synthetic_bars();
    let len = 60;
    let start = find_segment(SHORT, LONG, &bars, 1000, len, |s| {
        s.len() >= 2
            && s[0] == LONG as usize - 1
            && (s[0] + 3..=s[0] + 13).contains(&s[1])
            && s.get(2).is_none_or(|&next| next > s[1] + 8)
    })
    .expect("the synthetic market holds such a crossover");
    let flip = maestro_tests::tick_harness::signals(SHORT, LONG, &bars, start, len)[1];
    (bars[start..start + len].to_vec(), flip)
}

fn side_for(delta: i64) -> Side {
    if delta > 0 { Side::Buy } else { Side::Sell }
}

/// Warm-up from nothing, the first regime, the same regime (no order), the crossover (one order of
/// the right side and size), the same minute again (nothing), the new regime (no order).
async fn warm_up_then_crossover<S: StateStore>(mut h: Harness<S>, flip: usize) {
    let mut oracle = Oracle::new(SHORT, LONG, 1000);
    for bar in h.completed_bars() {
        oracle.push(bar);
    }
    assert!(h.record().await.is_none(), "empty state to start from");
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::WarmingUp, "{report:?}");
    assert_eq!(
        report.candles, FIRST_COMPLETED,
        "every completed bar is read"
    );
    let stored = h.record().await.expect("warm-up candles are saved");
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.value.last_close_ms,
        Some(h.completed_bars()[FIRST_COMPLETED - 1].close_time_ms)
    );
    let mut version = stored.version;
    let mut position = 0;
    let last_minute = flip + 8;
    while h.completed() < last_minute {
        h.advance(1);
        let signal = oracle.push(&h.completed_bars()[h.completed() - 1]);
        let report = h.tick_ok().await;
        assert_eq!(report.candles, 1, "one new candle per minute");
        assert_eq!(
            report.target,
            oracle.target(),
            "target at minute {}",
            h.completed()
        );
        let stored = h.record().await.expect("record");
        assert!(stored.version > version, "a new candle is saved");
        version = stored.version;
        let orders = h.orders();
        match signal {
            None if !oracle.is_ready() => {
                assert_eq!(report.outcome, Outcome::WarmingUp, "{report:?}");
                assert!(orders.is_empty(), "no order while warming up");
            }
            None => {
                assert_eq!(report.outcome, Outcome::Advanced, "{report:?}");
                assert_eq!(report.order, None, "same regime: no order");
            }
            Some(target) => {
                assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
                let sent = report.order.clone().expect("the order");
                let delta = target - position;
                assert_eq!(
                    sent.side,
                    side_for(delta),
                    "side at minute {}",
                    h.completed()
                );
                assert_eq!(
                    sent.qty,
                    delta.unsigned_abs(),
                    "size: from {position} to {target}"
                );
                assert_eq!(
                    orders.last().map(|o| o.cl_ord_id.clone()),
                    Some(sent.cl_ord_id)
                );
                position = target;
                // The same minute again: nothing new, nothing written, no second order; the
                // exchange is asked only for new candles.
                h.fake.clear_requests();
                let again = h.tick_ok().await;
                let asked: Vec<String> = h.fake.requests().iter().map(|r| r.label()).collect();
                assert_eq!(asked, ["GET /trade/bucketed"]);
                assert_eq!(again.outcome, Outcome::Quiet, "{again:?}");
                assert_eq!(again.order, None);
                let unchanged = h.record().await.expect("record");
                assert_eq!(unchanged.version, version, "a quiet tick writes nothing");
            }
        }
        assert_eq!(
            h.position(),
            position,
            "exchange position at minute {}",
            h.completed()
        );
        assert_eq!(h.position(), oracle.target(), "the position is the model's");
    }
    let orders = h.orders();
    assert_eq!(
        orders.len(),
        2,
        "first regime and one crossover: {orders:#?}"
    );
    assert_eq!(orders[0].order_qty, 1000);
    assert_eq!(orders[1].order_qty, 2000, "the flip reverses the position");
    assert_ne!(orders[0].side, orders[1].side);
    h.assert_no_duplicate_orders();
}

#[tokio::test]
async fn warm_up_then_crossover_dynamo() {
    let (bars, flip) = crossover_segment();
    let h = Harness::dynamo("warm-up", params(SHORT, LONG), bars, FIRST_COMPLETED).await;
    warm_up_then_crossover(h, flip).await;
}

#[tokio::test]
async fn warm_up_then_crossover_file() {
    let (bars, flip) = crossover_segment();
    let h = Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await;
    warm_up_then_crossover(h, flip).await;
}

/// Ticks until the bot holds its first regime's position (the 20th bar).
async fn to_first_regime<S: StateStore>(h: &mut Harness<S>) {
    h.tick_ok().await;
    while h.completed() < LONG as usize {
        h.advance(1);
        h.tick_ok().await;
    }
}

/// A paused bot records every candle and places nothing through a crossover; once resumed, its
/// next tick brings the position to the target it kept computing.
async fn paused_bot<S: StateStore>(mut h: Harness<S>, flip: usize) {
    to_first_regime(&mut h).await;
    let held = h.position();
    assert_ne!(held, 0, "the first regime was traded");
    h.bot.edit(|r| r.paused = true).await;
    while h.completed() < flip + 3 {
        h.advance(1);
        let report = h.tick_ok().await;
        assert_eq!(report.outcome, Outcome::Paused, "{report:?}");
        let stored = h.record().await.expect("record");
        assert_eq!(
            stored.value.last_close_ms,
            h.completed_bars().last().map(|b| b.close_time_ms),
            "a paused bot still records candles"
        );
    }
    assert_eq!(h.orders().len(), 1, "nothing sent while paused");
    assert_eq!(h.position(), held);
    let target = h
        .record()
        .await
        .and_then(|r| stored_strategy(&r.value))
        .expect("strategy");
    assert_eq!(
        target.target_position(),
        -held,
        "the crossover was computed while paused"
    );
    // What the `resume` route does: running again, the exchange's position taken as it is.
    h.bot
        .edit(|r| {
            r.paused = false;
            r.expected_position = None;
        })
        .await;
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
    assert_eq!(
        h.position(),
        -held,
        "resumed: the position follows the target"
    );
    h.assert_no_duplicate_orders();
}

#[tokio::test]
async fn paused_bot_dynamo() {
    let (bars, flip) = crossover_segment();
    let h = Harness::dynamo("paused", params(SHORT, LONG), bars, FIRST_COMPLETED).await;
    paused_bot(h, flip).await;
}

#[tokio::test]
async fn paused_bot_file() {
    let (bars, flip) = crossover_segment();
    paused_bot(
        Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await,
        flip,
    )
    .await;
}

/// Dry run: each signal's order is recorded with status `dry_run`, and nothing reaches BitMEX's
/// order routes.
async fn dry_run_bot<S: StateStore>(mut h: Harness<S>, flip: usize) {
    to_first_regime(&mut h).await;
    while h.completed() < flip + 3 {
        h.advance(1);
        h.tick_ok().await;
    }
    assert!(h.orders().is_empty(), "a dry run sends nothing");
    assert!(h.fake.requests_to("POST", "/order").is_empty());
    let recorded = h
        .bot
        .store
        .recent_orders(&h.bot.id, 10, h.now_ms() / 1000)
        .await
        .expect("orders");
    assert_eq!(
        recorded.len(),
        2,
        "first regime and the flip: {recorded:#?}"
    );
    assert!(
        recorded
            .iter()
            .all(|o| o.status == "dry_run" && o.order_id.is_none())
    );
    let (newest, oldest) = (&recorded[0], &recorded[1]);
    assert_eq!((oldest.qty, newest.qty), (1000, 2000));
    assert_ne!(oldest.side, newest.side);
    let record = h.record().await.expect("record").value;
    let target = stored_strategy(&record)
        .expect("strategy")
        .target_position();
    assert_eq!(
        record.dry_position, target,
        "the simulated position follows the target"
    );
}

#[tokio::test]
async fn dry_run_dynamo() {
    let (bars, flip) = crossover_segment();
    let mut p = params(SHORT, LONG);
    p.dry_run = true;
    dry_run_bot(
        Harness::dynamo("dry-run", p, bars, FIRST_COMPLETED).await,
        flip,
    )
    .await;
}

#[tokio::test]
async fn dry_run_file() {
    let (bars, flip) = crossover_segment();
    let mut p = params(SHORT, LONG);
    p.dry_run = true;
    dry_run_bot(Harness::file(p, bars, FIRST_COMPLETED).await, flip).await;
}

/// Someone trades by hand: the bot does not fight it. At the next candle it sees a position its
/// own orders do not explain, stops itself and says why; after a `resume` it takes the position
/// as it is and orders the difference back to its target.
async fn hand_trade<S: StateStore>(mut h: Harness<S>) {
    to_first_regime(&mut h).await;
    let target = h.position();
    assert_ne!(target, 0);
    h.fake
        .hand_trade(
            SYMBOL,
            if target > 0 { "Sell" } else { "Buy" },
            4 * target.abs(),
        )
        .expect("hand trade");
    assert_eq!(h.position(), -3 * target);
    let quiet = h.tick_ok().await;
    assert_eq!(quiet.outcome, Outcome::Quiet, "no new candle: {quiet:?}");
    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Stopped, "{report:?}");
    assert_eq!(report.order, None, "nothing sent");
    let stored = h.record().await.expect("record").value;
    assert!(stored.paused);
    let reason = stored.stopped.clone().expect("the reason is kept");
    assert!(
        reason.contains(&format!("position is {}", -3 * target)) && reason.contains("by hand"),
        "{reason}"
    );
    h.advance(1);
    assert_eq!(h.tick_ok().await.outcome, Outcome::Paused);
    assert_eq!(h.position(), -3 * target, "a stopped bot sends nothing");

    // What the `resume` route does.
    h.bot
        .edit(|r| {
            r.paused = false;
            r.stopped = None;
            r.expected_position = None;
        })
        .await;
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
    let sent = report.order.expect("a correcting order");
    assert_eq!(sent.qty, 4 * target.unsigned_abs());
    assert_eq!(sent.side, side_for(target));
    assert_eq!(h.position(), target, "back on target");
    assert_eq!(
        h.orders().len(),
        3,
        "the first regime's, the hand trade, the correction"
    );
    h.assert_no_duplicate_orders();
}

#[tokio::test]
async fn hand_trade_dynamo() {
    let (bars, _) = crossover_segment();
    hand_trade(Harness::dynamo("hand", params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

#[tokio::test]
async fn hand_trade_file() {
    let (bars, _) = crossover_segment();
    hand_trade(Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

/// Several bots in one deployment: each has its own record, and a bot whose parameters do not fit
/// the instrument fails alone.
async fn several_bots<S: StateStore>(h: Harness<S>) {
    let mut broken = params(SHORT, LONG);
    broken.qty = 1500; // not a multiple of LTCUSDT's 1000-contract lot
    let bots = [
        BotConfig {
            id: "broken".parse().expect("a valid bot id"),
            params: broken,
        },
        BotConfig {
            id: "good".parse().expect("a valid bot id"),
            params: params(SHORT, LONG),
        },
    ];
    let cache = InstrumentCache::default();
    let deadline = Instant::now() + TICK_BUDGET;
    let client = h.bot.client.with_deadline(deadline);
    let results = run_all(
        &client,
        &h.bot.store,
        &bots,
        &cache,
        h.now_ms(),
        deadline,
        &NoFailpoints,
    )
    .await;
    assert_eq!(results.len(), 2);
    assert!(
        matches!(&results[0], (id, Err(TickError::Params(_))) if id == "broken"),
        "{results:?}"
    );
    let (id, good) = &results[1];
    assert_eq!(id, "good");
    let good = good.as_ref().expect("the good bot ticks");
    assert_eq!(good.candles, FIRST_COMPLETED);
    assert!(
        h.bot
            .store
            .load(&bot_id("good"))
            .await
            .expect("load")
            .is_some()
    );
    assert!(
        h.bot
            .store
            .load(&bot_id("broken"))
            .await
            .expect("load")
            .is_none()
    );
}

#[tokio::test]
async fn several_bots_dynamo() {
    let (bars, _) = crossover_segment();
    several_bots(Harness::dynamo("bots", params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

#[tokio::test]
async fn several_bots_file() {
    let (bars, _) = crossover_segment();
    several_bots(Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

/// The exchange changed the instrument's tick size since the core's state was saved: its sums are
/// other prices, so the bot warms up again from history in one go, and holds its position until
/// the re-warmed strategy has a direction.
async fn tick_size_change<S: StateStore>(mut h: Harness<S>) {
    to_first_regime(&mut h).await;
    let held = h.position();
    assert_ne!(held, 0);
    let saved = h.record().await.expect("record").value;
    let core = saved.core.clone().expect("core state");
    assert_eq!(
        core.tick_size,
        Some(TickSize::CENT),
        "the tick size is kept"
    );
    let other = TickSize::new(5, 2).expect("0.05");
    h.bot
        .edit(|r| {
            if let Some(core) = r.core.as_mut() {
                core.tick_size = Some(other);
            }
        })
        .await;
    h.advance(1);
    let report = h.tick_ok().await;
    assert!(
        report.candles > 1,
        "warmed up again from history, not from one candle: {report:?}"
    );
    assert_eq!(h.position(), held, "the position is held: {report:?}");
    let core = h.record().await.expect("record").value.core.expect("core");
    assert_eq!(core.tick_size, Some(TickSize::CENT));
    assert_ne!(core.state, saved.core.expect("core").state);
}

#[tokio::test]
async fn tick_size_change_file() {
    let (bars, _) = crossover_segment();
    tick_size_change(Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

/// Quiet minutes write nothing, except a heartbeat once [`HEARTBEAT_MS`] has passed since the
/// record was last written: `/status` can tell a bot that still runs from one whose ticks stopped
/// at the cost of one write a quarter hour. The heartbeat keeps what the last tick did.
async fn heartbeat<S: StateStore>(mut h: Harness<S>) {
    to_first_regime(&mut h).await;
    let saved = h.record().await.expect("record");
    let seen = saved
        .value
        .last_tick_ms
        .expect("the tick that traded saved its time");
    assert_eq!(seen, h.now_ms());
    let mut version = saved.version;
    let mut last_beat = seen;
    let mut beats = 0;
    for minute in 1..=31 {
        let report = h.tick_later(minute * 60_000).await;
        assert_eq!(
            report.outcome,
            Outcome::Quiet,
            "minute {minute}: {report:?}"
        );
        let now = h.now_ms() + minute * 60_000;
        let stored = h.record().await.expect("record");
        if now - last_beat >= HEARTBEAT_MS {
            assert_eq!(stored.version, version + 1, "minute {minute}: a heartbeat");
            assert_eq!(stored.value.last_tick_ms, Some(now));
            assert_eq!(
                stored.value.last_outcome, saved.value.last_outcome,
                "a heartbeat keeps the last outcome"
            );
            version = stored.version;
            last_beat = now;
            beats += 1;
        } else {
            assert_eq!(
                stored.version, version,
                "minute {minute}: quiet, nothing written"
            );
        }
    }
    assert_eq!(beats, 2, "two heartbeats in 31 quiet minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_dynamo() {
    let (bars, _) = crossover_segment();
    heartbeat(Harness::dynamo("heartbeat", params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_file() {
    let (bars, _) = crossover_segment();
    heartbeat(Harness::file(params(SHORT, LONG), bars, FIRST_COMPLETED).await).await;
}
