//! Scenario 1: a flatten against an order in flight. Whatever became of the order, the flatten
//! closes the account within one clean tick, the order is never sent a second time, and the bot
//! stays paused.

use super::*;
use maestro_lambda::exchange::Side;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{Failpoint, Outcome};
use maestro_tests::fake_bitmex::{Fault, FaultRule, INSUFFICIENT_BALANCE};
use maestro_tests::tick_harness::{CrashOnce, HoldAfterLoad};

/// The close orders (`execInst=Close`) the exchange received.
fn closes<S: StateStore>(h: &Harness<S>) -> Vec<maestro_tests::fake_bitmex::FakeOrder> {
    h.orders()
        .into_iter()
        .filter(|o| o.exec_inst == "Close")
        .collect()
}

/// After the flatten: flat, paused, nothing pending, exactly one close executed, and the next
/// minute's tick sends nothing.
async fn assert_flattened<S: StateStore>(h: &mut Harness<S>, mode: IdReuse) {
    assert_eq!(h.position(), 0, "{mode:?}: flat: {:#?}", h.orders());
    let stored = record(h).await;
    assert!(stored.paused, "{mode:?}: the flatten leaves the bot paused");
    assert!(!stored.flatten, "{mode:?}: the flatten is finished");
    assert_eq!(stored.pending, None, "{mode:?}");
    let executed: Vec<_> = closes(h).into_iter().filter(|o| o.cum_qty > 0).collect();
    assert_eq!(executed.len(), 1, "{mode:?}: one close: {executed:#?}");
    let posts = h.fake.requests_to("POST", "/order").len();
    let volume = bot_volume(h);
    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Paused, "{mode:?}: {report:?}");
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        posts,
        "{mode:?}"
    );
    assert_eq!(bot_volume(h), volume, "{mode:?}");
    assert_journal_sound(h, mode);
}

/// What became of the flip's order when its POST got no usable answer.
#[derive(Clone, Copy, Debug)]
enum Unanswered {
    /// Answered 503, but the engine has it and fills it moments later.
    FilledLate,
    /// The request hung until the client gave up; it never reached the engine.
    Lost,
}

/// The flip's POST gets no usable answer, so the tick ends with the intent pending. A second
/// tick of the same minute loads the record; before it goes on, the trader flattens (the order
/// is not visible yet, so the flatten waits for it). The second tick must not send the order
/// again, and the next minute's tick closes the account.
async fn flatten_while_an_order_is_in_flight<S: StateStore + Clone + 'static>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
    how: Unanswered,
) {
    tick_to(&mut h, flip - 1).await;
    assert_eq!(h.position(), LOT, "{mode:?}: long before the flip");
    h.advance(1);
    let executed = match how {
        Unanswered::FilledLate => {
            // Unknown to the client's one look-up and to the flatten's, then executed.
            h.fake.execute_late(1, 2);
            2000
        }
        Unanswered::Lost => {
            let hang = Fault::Hang(std::time::Duration::from_millis(600));
            h.fake.inject(FaultRule::new(hang).on("POST", "/order"));
            0
        }
    };
    let failed = h.tick().await;
    assert!(
        matches!(&failed, Err(e) if e.is_retryable()),
        "{mode:?} {how:?}: {failed:?}"
    );
    let intent = pending(&h).await;
    assert_eq!((intent.side, intent.qty), (Side::Sell, 2000), "{mode:?}");

    let later = h.now_ms() + 5_000;
    let hold = HoldAfterLoad::new(h.bot.store.clone());
    let second = spawn_tick(&h, hold.clone(), later);
    hold.loaded().await;
    let flatten = command(&h, "flatten", later).await;
    assert_eq!(flatten.status, 200, "{mode:?} {how:?}: {flatten:?}");
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        executed,
        "{mode:?} {how:?}: the flatten does not send the order"
    );
    assert_eq!(flatten.body["paused"], true, "{mode:?}");
    assert_eq!(
        flatten.body["flattening"], true,
        "{mode:?}: waits for the order"
    );
    hold.release().await;
    let second = second.await.expect("no panic");
    let second = second.unwrap_or_else(|e| panic!("{mode:?} {how:?}: the second tick: {e}"));
    // It lost the race to the flatten's save, or (nothing learnt) had nothing to save.
    assert!(
        matches!(second.outcome, Outcome::Conflict | Outcome::Waiting),
        "{mode:?} {how:?}: {second:?}"
    );
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        executed,
        "{mode:?} {how:?}: executed at most once"
    );
    assert_eq!(
        posts_of(&h, &intent.cl_ord_id),
        1,
        "{mode:?} {how:?}: the in-flight order is never sent again"
    );

    // One clean tick: the order's fate is settled and the account closed.
    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(
        report.outcome,
        Outcome::Ordered,
        "{mode:?} {how:?}: {report:?}"
    );
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        executed,
        "{mode:?} {how:?}: still at most once"
    );
    assert_eq!(
        bot_volume(&h),
        LOT + executed + (LOT - executed).abs(),
        "{mode:?} {how:?}: the first regime, the order if it executed, the close"
    );
    assert_flattened(&mut h, mode).await;
}

const UNANSWERED: [Unanswered; 2] = [Unanswered::FilledLate, Unanswered::Lost];

#[tokio::test]
async fn flatten_while_an_order_is_in_flight_dynamo() {
    let m = zigzag();
    for mode in MODES {
        for how in UNANSWERED {
            let h = dynamo("s1-in-flight", &m, mode).await;
            flatten_while_an_order_is_in_flight(h, mode, m.flips[0], how).await;
        }
    }
}

#[tokio::test]
async fn flatten_while_an_order_is_in_flight_file() {
    let m = zigzag();
    for mode in MODES {
        for how in UNANSWERED {
            let h = file(&m, mode).await;
            flatten_while_an_order_is_in_flight(h, mode, m.flips[0], how).await;
        }
    }
}

/// The tick dies at `point` on the flip minute, so the order's fate is unknown to the record;
/// the trader flattens moments later. An order that went out is counted and closed at once; one
/// that never went out is never sent, and the next minute's tick closes the account.
async fn flatten_after_a_crash<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
    point: Failpoint,
) {
    tick_to(&mut h, flip - 1).await;
    h.advance(1);
    let crashed = h.tick_with(&CrashOnce::at(point)).await;
    assert!(
        matches!(crashed, Err(TickError::Injected(p)) if p == point),
        "{mode:?} {point:?}: {crashed:?}"
    );
    let intent = pending(&h).await;
    let sent = point != Failpoint::AfterIntentSaved;
    let expected_qty = if sent { 2000 } else { 0 };
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        expected_qty,
        "{mode:?} {point:?}"
    );

    let flatten = command(&h, "flatten", h.now_ms() + 5_000).await;
    assert_eq!(flatten.status, 200, "{mode:?} {point:?}: {flatten:?}");
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        expected_qty,
        "{mode:?} {point:?}: the flatten does not send the intent"
    );
    if sent {
        assert_eq!(
            h.position(),
            0,
            "{mode:?} {point:?}: known order, closed at once"
        );
    } else {
        // The order may still show up for a while: the flatten waits for it, holding nothing new.
        assert_eq!(flatten.body["flattening"], true, "{mode:?}: {flatten:?}");
        assert_eq!(h.position(), LOT, "{mode:?} {point:?}");
        h.advance(1);
        h.tick_ok().await;
    }
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        expected_qty,
        "{mode:?} {point:?}: the intent executed at most once, and never after the flatten"
    );
    assert_eq!(
        posts_of(&h, &intent.cl_ord_id),
        usize::from(sent),
        "{mode:?} {point:?}: never re-sent"
    );
    assert_flattened(&mut h, mode).await;
}

const CRASH_POINTS: [Failpoint; 3] = [
    Failpoint::AfterIntentSaved,
    Failpoint::AfterOrderAccepted,
    Failpoint::AfterOrderRecorded,
];

#[tokio::test]
async fn flatten_after_a_crash_dynamo() {
    let m = zigzag();
    for mode in MODES {
        for point in CRASH_POINTS {
            let h = dynamo("s1-crash", &m, mode).await;
            flatten_after_a_crash(h, mode, m.flips[0], point).await;
        }
    }
}

#[tokio::test]
async fn flatten_after_a_crash_file() {
    let m = zigzag();
    for mode in MODES {
        for point in CRASH_POINTS {
            flatten_after_a_crash(file(&m, mode).await, mode, m.flips[0], point).await;
        }
    }
}

/// The close order itself fails (its fate unknown, or refused): the flatten stays, and the next
/// tick closes the account with a new order.
async fn a_failed_close_is_finished_by_the_next_tick<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    fault: Fault,
) {
    tick_to(&mut h, READY).await;
    assert_eq!(h.position(), LOT, "{mode:?}");
    h.fake
        .inject(FaultRule::new(fault.clone()).on("POST", "/order"));
    let flatten = command(&h, "flatten", h.now_ms()).await;
    assert_eq!(flatten.status, 502, "{mode:?} {fault:?}: {flatten:?}");
    assert_eq!(flatten.body["flattening"], true, "{mode:?}");
    assert_eq!(h.position(), LOT, "{mode:?} {fault:?}: nothing closed yet");
    let stored = record(&h).await;
    assert!(stored.flatten && stored.paused, "{mode:?}: {stored:?}");
    let failed = closes(&h);
    assert!(
        failed.iter().all(|o| o.cum_qty == 0),
        "{mode:?}: the failed close executed nothing: {failed:#?}"
    );

    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
    assert_eq!(bot_volume(&h), 1000 + 1000, "{mode:?}");
    assert_flattened(&mut h, mode).await;
}

#[tokio::test]
async fn a_failed_close_is_finished_by_the_next_tick_dynamo() {
    let m = zigzag();
    for mode in MODES {
        for fault in close_faults() {
            let h = dynamo("s1-close", &m, mode).await;
            a_failed_close_is_finished_by_the_next_tick(h, mode, fault).await;
        }
    }
}

#[tokio::test]
async fn a_failed_close_is_finished_by_the_next_tick_file() {
    let m = zigzag();
    for mode in MODES {
        for fault in close_faults() {
            a_failed_close_is_finished_by_the_next_tick(file(&m, mode).await, mode, fault).await;
        }
    }
}

/// A 503 (the order's fate unknown until looked up) and a refusal.
fn close_faults() -> [Fault; 2] {
    [
        Fault::Overloaded,
        Fault::Status(400, INSUFFICIENT_BALANCE.to_owned()),
    ]
}
