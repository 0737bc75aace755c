//! Exactly once under races and crashes, end to end: eight ticks of one minute at once, a tick
//! killed at each failpoint, and an accepted order whose response never arrives. The exchange must
//! see one order per decision, and the state must never go backwards.

use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{Failpoint, NoFailpoints, Outcome, TickError};
use maestro_tests::fake_bitmex::{Bar, Fault, FaultRule};
use maestro_tests::tick_harness::{
    Bot, CrashOnce, Harness, LoadGate, find_segment, params, stored_strategy, synthetic_bars,
};
use std::time::Duration;

const SYMBOL: &str = "LTCUSDT";
const SHORT: u32 = 5;
const LONG: u32 = 20;
const READY: usize = LONG as usize;
const TICKS: usize = 8;

/// Bars of the synthetic market where a fresh 5/20 model takes its first regime on the 20th bar and flips 2 to 10 bars
/// later; returns them and the minute (completed count) of the flip.
fn segment() -> (Vec<Bar>, usize) {
    let bars = synthetic_bars();
    let start = find_segment(SHORT, LONG, &bars, 3000, 40, |s| {
        s.first() == Some(&(READY - 1)) && s.get(1).is_some_and(|&f| f > READY && f < READY + 10)
    })
    .expect("the synthetic market holds such a crossover");
    let flip = maestro_tests::tick_harness::signals(SHORT, LONG, &bars, start, 40)[1] + 1;
    (bars[start..start + 40].to_vec(), flip)
}

/// Ticks (one order for the first regime) up to the minute before the flip.
async fn to_eve_of_flip<S: StateStore>(h: &mut Harness<S>, flip: usize) {
    h.tick_ok().await;
    while h.completed() < flip - 1 {
        h.advance(1);
        h.tick_ok().await;
    }
    assert_eq!(h.orders().len(), 1, "the first regime's order only");
}

/// Eight ticks of the flip minute, each with its own load, all having read the same version
/// before any saves: one order, seven clean conflicts, the version up by exactly the winner's two
/// saves.
async fn eight_at_once<S: StateStore + Clone + 'static>(mut h: Harness<S>, flip: usize) {
    to_eve_of_flip(&mut h, flip).await;
    h.advance(1);
    let before = h.record().await.expect("record").version;
    let gate = LoadGate::new(h.bot.store.clone(), TICKS);
    let now = h.now_ms();
    let tasks: Vec<_> = (0..TICKS)
        .map(|_| {
            let bot = Bot {
                store: gate.clone(),
                client: h.bot.client.clone(),
                instrument: h.bot.instrument.clone(),
                id: h.bot.id.clone(),
                params: h.bot.params.clone(),
                per_call_budget: false,
            };
            tokio::spawn(async move { bot.tick_at(now, &NoFailpoints).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        let joined = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("every tick ends");
        let report = joined.expect("no panic").expect("no tick fails");
        outcomes.push(report);
    }
    let ordered: Vec<_> = outcomes
        .iter()
        .filter(|r| r.outcome == Outcome::Ordered)
        .collect();
    let conflicts = outcomes
        .iter()
        .filter(|r| r.outcome == Outcome::Conflict)
        .count();
    assert_eq!(ordered.len(), 1, "one winner: {outcomes:#?}");
    assert_eq!(conflicts, TICKS - 1, "seven clean conflicts: {outcomes:#?}");
    for r in outcomes.iter().filter(|r| r.outcome == Outcome::Conflict) {
        assert_eq!(r.order, None, "a loser sends nothing");
        assert_eq!(r.version, Some(before), "a loser wrote nothing");
    }
    assert_eq!(
        ordered[0].version,
        Some(before + 2),
        "intent saved, then cleared"
    );
    let after = h.record().await.expect("record");
    assert_eq!(after.version, before + 2);
    assert_eq!(after.value.pending, None);
    assert_eq!(h.orders().len(), 2, "exactly one order for the flip");
    assert_eq!(h.position(), ordered[0].target);
    h.assert_no_duplicate_orders();

    // And racing freely (no gate) on the next minutes: late starters may find the winner's
    // intent and finish it with the same clOrdID, but the exchange still sees one order at most
    // per minute and the version only grows.
    let mut version = after.version;
    for _ in 0..3 {
        h.advance(1);
        let now = h.now_ms();
        let tasks: Vec<_> = (0..TICKS)
            .map(|_| {
                let bot = h.bot.clone();
                tokio::spawn(async move { bot.tick_at(now, &NoFailpoints).await })
            })
            .collect();
        for task in tasks {
            let report = task.await.expect("no panic").expect("no tick fails");
            assert!(report.version >= Some(version), "{report:?}");
        }
        let stored = h.record().await.expect("record");
        assert!(
            stored.version > version,
            "the new candle was saved once or more"
        );
        version = stored.version;
        assert_eq!(stored.value.pending, None);
        let target = stored_strategy(&stored.value)
            .expect("strategy")
            .target_position();
        assert_eq!(h.position(), target, "on target after the race");
        h.assert_no_duplicate_orders();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_ticks_dynamo() {
    let (bars, flip) = segment();
    eight_at_once(
        Harness::dynamo("eight", params(SHORT, LONG), bars, READY).await,
        flip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_ticks_file() {
    let (bars, flip) = segment();
    eight_at_once(Harness::file(params(SHORT, LONG), bars, READY).await, flip).await;
}

/// The tick dies at `point` on the flip minute. The next tick never sends the saved intent
/// again: it looks its clOrdID up. Placed before the crash, the order counts; never placed, the
/// intent is waited for while it may still appear, then dropped and the flip decided afresh under
/// a new clOrdID. Either way the exchange executes exactly one order for the flip.
async fn crash_then_recover<S: StateStore>(mut h: Harness<S>, flip: usize, point: Failpoint) {
    to_eve_of_flip(&mut h, flip).await;
    h.advance(1);
    let crash = CrashOnce::at(point);
    match h.tick_with(&crash).await {
        Err(TickError::Injected(p)) => assert_eq!(p, point),
        other => panic!("expected a crash at {point:?}, got {other:?}"),
    }
    let stored = h.record().await.expect("record");
    let intent = stored
        .value
        .pending
        .clone()
        .expect("the intent survived the crash");
    let was_sent = point != Failpoint::AfterIntentSaved;
    assert_eq!(
        h.fake.orders_with_cl_ord_id(&intent.cl_ord_id),
        usize::from(was_sent),
        "was the order out before the crash at {point:?}?"
    );
    let posts_before = h.fake.requests_to("POST", "/order").len();

    let report = h.tick_ok().await;
    if was_sent {
        assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
        let counted = report.order.expect("the placed intent is reported");
        assert_eq!(counted.cl_ord_id, intent.cl_ord_id);
        assert_eq!(counted.status, "Filled");
    } else {
        assert_eq!(report.outcome, Outcome::Waiting, "{report:?}");
        let later = h.tick_later(40_000).await;
        assert_eq!(later.outcome, Outcome::Ordered, "{later:?}");
        let sent = later.order.expect("decided afresh");
        assert_ne!(sent.cl_ord_id, intent.cl_ord_id, "a new decision, a new id");
    }
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        posts_before + usize::from(!was_sent),
        "the saved intent is never sent again"
    );
    assert_eq!(
        h.fake.orders_with_cl_ord_id(&intent.cl_ord_id),
        usize::from(was_sent),
        "no second copy"
    );
    assert_eq!(
        h.orders().len(),
        2,
        "one order for the first regime, one for the flip"
    );
    assert_eq!(h.fake.executed_position(SYMBOL), intent.target);
    assert_eq!(h.position(), intent.target);
    let stored = h.record().await.expect("record");
    assert_eq!(stored.value.pending, None);
    assert_eq!(stored.value.expected_position, Some(intent.target));
    let (status, want) = logged_status(&h, &intent.cl_ord_id, was_sent).await;
    assert_eq!(status, want, "recorded once, as it ended");
    let again = h.tick_later(50_000).await;
    assert_eq!(again.order, None, "{again:?}");
    assert_eq!(h.orders().len(), 2);
    h.assert_no_duplicate_orders();
}

/// How the order log recorded `cl_ord_id`, and how it should have: `Filled` when the order was
/// sent before the crash, as never placed when it was not.
async fn logged_status<S: StateStore>(
    h: &Harness<S>,
    cl_ord_id: &str,
    was_sent: bool,
) -> (Vec<String>, [&'static str; 1]) {
    let logged = h
        .bot
        .store
        .recent_orders(&h.bot.id, 5, h.now_ms() / 1000)
        .await
        .expect("orders");
    let status = logged
        .into_iter()
        .filter(|o| o.cl_ord_id == cl_ord_id)
        .map(|o| o.status)
        .collect();
    let want = if was_sent {
        "Filled"
    } else {
        "not placed: unknown to the exchange"
    };
    (status, [want])
}

const CRASH_POINTS: [Failpoint; 3] = [
    Failpoint::AfterIntentSaved,
    Failpoint::AfterOrderAccepted,
    Failpoint::AfterOrderRecorded,
];

#[tokio::test]
async fn crash_at_each_failpoint_dynamo() {
    let (bars, flip) = segment();
    for point in CRASH_POINTS {
        let h = Harness::dynamo("crash", params(SHORT, LONG), bars.clone(), READY).await;
        crash_then_recover(h, flip, point).await;
    }
}

#[tokio::test]
async fn crash_at_each_failpoint_file() {
    let (bars, flip) = segment();
    for point in CRASH_POINTS {
        let h = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
        crash_then_recover(h, flip, point).await;
    }
}

/// BitMEX takes the order, but its answer never arrives (or arrives as a 503): the client does not
/// resend it, it looks the clOrdID up and finds it. One order.
async fn lost_response<S: StateStore>(mut h: Harness<S>, flip: usize, fault: Fault) {
    to_eve_of_flip(&mut h, flip).await;
    h.advance(1);
    h.fake
        .inject(FaultRule::new(fault.clone()).on("POST", "/order"));
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Ordered, "{report:?}");
    let sent = report.order.expect("order");
    let posts = h.fake.requests_to("POST", "/order");
    let for_flip: Vec<_> = posts
        .iter()
        .filter(|r| r.param("clOrdID").as_deref() == Some(sent.cl_ord_id.as_str()))
        .collect();
    assert_eq!(
        for_flip.len(),
        1,
        "never resent after {fault:?}: {for_flip:#?}"
    );
    assert!(
        !h.fake.requests_to("GET", "/order").is_empty(),
        "the unknown fate was resolved by a look-up"
    );
    assert_eq!(h.fake.orders_with_cl_ord_id(&sent.cl_ord_id), 1);
    assert_eq!(h.orders().len(), 2);
    assert_eq!(h.position(), report.target);
    assert_eq!(h.record().await.expect("record").value.pending, None);
    h.assert_no_duplicate_orders();
}

#[tokio::test]
async fn dropped_order_response_dynamo() {
    let (bars, flip) = segment();
    let drop = Fault::ExecuteThenDrop(Duration::from_millis(600));
    lost_response(
        Harness::dynamo("dropped", params(SHORT, LONG), bars, READY).await,
        flip,
        drop,
    )
    .await;
}

#[tokio::test]
async fn dropped_order_response_file() {
    let (bars, flip) = segment();
    for fault in [
        Fault::ExecuteThenDrop(Duration::from_millis(600)),
        Fault::ExecuteThenOverloaded,
    ] {
        let h = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
        lost_response(h, flip, fault).await;
    }
}

/// Paused between deciding and sending: no later tick sends anything, but the next settled one
/// learns whether the order went out before the crash (it counts and is recorded if so, and is
/// recorded as never placed if not); once resumed, the position follows the target.
async fn crash_then_pause<S: StateStore>(mut h: Harness<S>, flip: usize, point: Failpoint) {
    to_eve_of_flip(&mut h, flip).await;
    h.advance(1);
    assert!(h.tick_with(&CrashOnce::at(point)).await.is_err());
    let intent = h
        .record()
        .await
        .and_then(|r| r.value.pending)
        .expect("intent");
    let was_sent = point != Failpoint::AfterIntentSaved;
    h.bot.edit(|r| r.paused = true).await;
    h.fake.clear_requests();
    let report = h.tick_later(40_000).await;
    assert_eq!(report.outcome, Outcome::Paused, "{report:?}");
    assert!(
        h.fake.requests_to("POST", "/order").is_empty(),
        "paused: nothing sent"
    );
    assert_eq!(h.record().await.expect("record").value.pending, None);
    let (status, want) = logged_status(&h, &intent.cl_ord_id, was_sent).await;
    assert_eq!(status, want);
    assert_eq!(h.position() == intent.target, was_sent);
    assert_eq!(h.fake.executed_position(SYMBOL), h.position());

    // What the `resume` route does.
    h.bot
        .edit(|r| {
            r.paused = false;
            r.expected_position = None;
        })
        .await;
    let resumed = h.tick_later(50_000).await;
    assert_eq!(
        h.position(),
        intent.target,
        "resumed: on target ({resumed:?})"
    );
    assert_eq!(h.orders().len(), 2, "one order for the flip either way");
    h.assert_no_duplicate_orders();
}

#[tokio::test]
async fn crash_then_pause_dynamo() {
    let (bars, flip) = segment();
    for point in [Failpoint::AfterIntentSaved, Failpoint::AfterOrderAccepted] {
        let h = Harness::dynamo("pause", params(SHORT, LONG), bars.clone(), READY).await;
        crash_then_pause(h, flip, point).await;
    }
}

#[tokio::test]
async fn crash_then_pause_file() {
    let (bars, flip) = segment();
    for point in [Failpoint::AfterIntentSaved, Failpoint::AfterOrderAccepted] {
        let h = Harness::file(params(SHORT, LONG), bars.clone(), READY).await;
        crash_then_pause(h, flip, point).await;
    }
}
