//! Scenario 3: an intent goes stale. Decided at +1000 as "Sell 2000" and failing on a 503, it
//! must never be sent once the trader has closed the position by hand; and a bot switched to
//! dry run with an intent pending only looks the intent up.

use super::*;
use maestro_lambda::exchange::Side;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::fake_bitmex::{Fault, FaultRule};

/// Long 1000 on the eve of the flip; the flip's "Sell 2000" answered 503 and never placed.
async fn stale_sell_2000<S: StateStore>(
    h: &mut Harness<S>,
    mode: IdReuse,
    flip: usize,
) -> OrderIntent {
    tick_to(h, flip - 1).await;
    assert_eq!(h.position(), LOT, "{mode:?}");
    h.advance(1);
    h.fake
        .inject(FaultRule::new(Fault::Overloaded).on("POST", "/order"));
    let failed = h.tick().await;
    assert!(
        matches!(&failed, Err(e) if e.is_retryable()),
        "{mode:?}: {failed:?}"
    );
    let intent = pending(h).await;
    assert_eq!((intent.side, intent.qty), (Side::Sell, 2000), "{mode:?}");
    intent
}

/// The trader closes the position by hand while "Sell 2000" is pending: the bot drops the
/// intent, sees a position its orders do not explain and stops; it never sells 2000, and the
/// account never holds more than `max_position`, before or after a `resume`.
async fn a_hand_close_makes_the_intent_stale<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
) {
    let intent = stale_sell_2000(&mut h, mode, flip).await;
    h.fake
        .hand_trade(SYMBOL, "Sell", LOT)
        .expect("the trader's hand trade");
    assert_eq!(h.position(), 0);

    let report = h.tick_later(5_000).await;
    assert_eq!(
        peak_position(&h),
        LOT,
        "{mode:?}: never beyond max_position"
    );
    assert_eq!(report.outcome, Outcome::Waiting, "{mode:?}: {report:?}");
    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(
        peak_position(&h),
        LOT,
        "{mode:?}: never beyond max_position"
    );
    assert_eq!(report.outcome, Outcome::Stopped, "{mode:?}: {report:?}");
    let stored = record(&h).await;
    let reason = stored.stopped.clone().unwrap_or_default();
    assert!(reason.contains("by hand"), "{mode:?}: {reason}");
    assert_eq!(
        stored.pending, None,
        "{mode:?}: the stale intent is dropped"
    );
    for _ in 0..2 {
        h.advance(1);
        let report = h.tick_ok().await;
        assert_eq!(report.outcome, Outcome::Paused, "{mode:?}: {report:?}");
    }
    assert_eq!(h.position(), 0, "{mode:?}: a stopped bot sends nothing");
    assert_eq!(posts_of(&h, &intent.cl_ord_id), 1, "{mode:?}");
    assert_eq!(executed_qty(&h, &intent.cl_ord_id), 0, "{mode:?}");

    command(&h, "resume", h.now_ms() + 1_000).await;
    let report = h.tick_later(2_000).await;
    assert_eq!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
    assert_eq!(h.position(), -LOT, "{mode:?}: from 0 to the target");
    assert!(
        bot_executions(&h).iter().all(|e| e.qty < 2000),
        "{mode:?}: nothing sold 2000 after the hand close: {:#?}",
        bot_executions(&h)
    );
    assert_eq!(
        peak_position(&h),
        LOT,
        "{mode:?}: never beyond max_position"
    );
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn a_hand_close_makes_the_intent_stale_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s3-stale", &m, mode).await;
        a_hand_close_makes_the_intent_stale(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn a_hand_close_makes_the_intent_stale_file() {
    let m = zigzag();
    for mode in MODES {
        a_hand_close_makes_the_intent_stale(file(&m, mode).await, mode, m.flips[0]).await;
    }
}

/// Dry run switched on while "Sell 2000" is pending: the intent is looked up, never sent, and
/// nothing else reaches the exchange's order routes.
async fn dry_run_only_looks_the_intent_up<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
) {
    let intent = stale_sell_2000(&mut h, mode, flip).await;
    let body = json!({"action": "set_params", "bot": BOT_ID, "params": {"dry_run": true}});
    let switched = control(&h, &this_bot(&h), body, h.now_ms() + 1_000).await;
    assert_eq!(switched.status, 200, "{mode:?}: {switched:?}");
    let posts = h.fake.requests_to("POST", "/order").len();
    let executions = h.fake.executions(SYMBOL).len();

    h.tick_later(5_000).await;
    while h.completed() < flip + 3 {
        h.advance(1);
        h.tick_ok().await;
    }
    assert_eq!(
        h.fake.executions(SYMBOL).len(),
        executions,
        "{mode:?}: nothing executed"
    );
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        posts,
        "{mode:?}: a dry-run bot sends nothing"
    );
    assert!(
        h.fake.requests_to("DELETE", "/order").is_empty(),
        "{mode:?}: nor cancels anything"
    );
    let looked_up = h
        .fake
        .requests_to("GET", "/order")
        .iter()
        .filter(|r| {
            r.param("filter")
                .is_some_and(|f| f.contains(&intent.cl_ord_id))
        })
        .count();
    assert!(looked_up >= 1, "{mode:?}: the intent was looked up");
    assert_eq!(executed_qty(&h, &intent.cl_ord_id), 0, "{mode:?}");
    assert_eq!(h.position(), LOT, "{mode:?}: the account is untouched");
    let stored = record(&h).await;
    assert_eq!(stored.pending, None, "{mode:?}: settled as never placed");
    assert_eq!(
        stored.dry_position, -LOT,
        "{mode:?}: the simulated position"
    );
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn dry_run_only_looks_the_intent_up_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s3-dry", &m, mode).await;
        dry_run_only_looks_the_intent_up(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn dry_run_only_looks_the_intent_up_file() {
    let m = zigzag();
    for mode in MODES {
        dry_run_only_looks_the_intent_up(file(&m, mode).await, mode, m.flips[0]).await;
    }
}
