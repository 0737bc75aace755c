//! Scenario 2: where BitMEX keeps a clOrdID reserved only while its order is open, nothing may
//! rest on the exchange refusing a reused id: a lost answer is looked up, never sent again, and
//! a state reset never brings an old id back.

use super::*;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::bot_id;
use maestro_tests::fake_bitmex::{Fault, FaultRule};
use maestro_tests::tick_harness::{Oracle, stored_strategy};

/// The flip's order executes, but its answer is a 503 and the client's look-up fails too: the
/// tick ends with the intent pending. The next ticks find the order and count it; the exchange
/// executes exactly the volume the model needs.
async fn a_lost_answer_is_counted_not_executed_again<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
) {
    tick_to(&mut h, flip - 1).await;
    h.advance(1);
    h.fake
        .inject(FaultRule::new(Fault::ExecuteThenOverloaded).on("POST", "/order"));
    h.fake
        .inject(FaultRule::new(bad_gateway()).times(5).on("GET", "/order"));
    let failed = h.tick().await;
    assert!(
        matches!(&failed, Err(e) if e.is_retryable()),
        "{mode:?}: {failed:?}"
    );
    let intent = pending(&h).await;
    assert_eq!(executed_qty(&h, &intent.cl_ord_id), 2000, "{mode:?}");
    h.fake.clear_faults();

    // The same minute again (the scheduler's retry), then the following minutes.
    h.tick_later(5_000).await;
    assert_eq!(record(&h).await.pending, None, "{mode:?}: counted");
    while h.completed() < flip + 3 {
        h.advance(1);
        let report = h.tick_ok().await;
        assert_ne!(report.outcome, Outcome::Stopped, "{mode:?}: {report:?}");
    }
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        2000,
        "{mode:?}: executed once"
    );
    assert_eq!(posts_of(&h, &intent.cl_ord_id), 1, "{mode:?}: sent once");
    let targets = Oracle::targets(SHORT, LONG, LOT as u64, h.completed_bars());
    let model = *targets.last().expect("bars");
    assert_eq!(h.position(), model, "{mode:?}: on the model's target");
    assert_eq!(
        bot_volume(&h),
        LOT + 2 * LOT,
        "{mode:?}: the first regime and one flip, nothing more"
    );
    assert_journal_sound(&h, mode);
}

/// A 5xx the client retries at once (a 503 would make it wait half a second each time).
fn bad_gateway() -> Fault {
    Fault::Status(502, "Bad Gateway".to_owned())
}

#[tokio::test]
async fn a_lost_answer_is_counted_not_executed_again_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s2-lost", &m, mode).await;
        a_lost_answer_is_counted_not_executed_again(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn a_lost_answer_is_counted_not_executed_again_file() {
    let m = zigzag();
    for mode in MODES {
        a_lost_answer_is_counted_not_executed_again(file(&m, mode).await, mode, m.flips[0]).await;
    }
}

/// The record is lost and a new one written for the same bot (a recreated table, a restore from
/// an empty backup) while the account holds the bot's position. The bot re-warms and takes the
/// position as it is; a flatten, and the order after a `resume`, carry ids never used before and
/// execute as new orders.
async fn a_state_reset_reuses_no_id<S: StateStore>(mut h: Harness<S>, mode: IdReuse, flip: usize) {
    tick_to(&mut h, flip).await;
    assert_eq!(h.position(), -LOT, "{mode:?}: short after the flip");
    let params = h.bot.params.clone();
    h.bot
        .edit(|r| *r = BotRecord::new(bot_id(BOT_ID), params.clone()))
        .await;

    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(
        report.order, None,
        "{mode:?}: already on target: {report:?}"
    );
    let flatten = command(&h, "flatten", h.now_ms() + 1_000).await;
    assert_eq!(flatten.status, 200, "{mode:?}: {flatten:?}");
    assert_eq!(
        h.position(),
        0,
        "{mode:?}: the flatten closed: {:#?}",
        h.orders()
    );

    command(&h, "resume", h.now_ms() + 2_000).await;
    let report = h.tick_later(3_000).await;
    assert_eq!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
    let stored = record(&h).await;
    let target = stored_strategy(&stored)
        .expect("strategy")
        .target_position();
    assert_eq!(target, -LOT, "{mode:?}");
    assert_eq!(h.position(), target, "{mode:?}: back on target");

    assert_eq!(bot_volume(&h), LOT + 2 * LOT + LOT + LOT, "{mode:?}");
    assert_journal_sound(&h, mode);
    let ids: Vec<String> = h.orders().into_iter().map(|o| o.cl_ord_id).collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "{mode:?}: an id came back: {ids:#?}"
    );
}

#[tokio::test]
async fn a_state_reset_reuses_no_id_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s2-reset", &m, mode).await;
        a_state_reset_reuses_no_id(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn a_state_reset_reuses_no_id_file() {
    let m = zigzag();
    for mode in MODES {
        a_state_reset_reuses_no_id(file(&m, mode).await, mode, m.flips[0]).await;
    }
}
