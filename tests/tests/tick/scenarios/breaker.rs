//! Scenario 8: the circuit breaker. Three rejected orders in a row stop the bot before a fourth;
//! a liquidation stops it instead of opening the position again at once; `resume` hands it back.

use super::*;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::fake_bitmex::MarginRejection;

/// The bot stopped itself with a reason containing `why`, and a further minute stays paused
/// without sending anything.
async fn assert_stopped<S: StateStore>(h: &mut Harness<S>, mode: IdReuse, why: &str) {
    let stored = record(h).await;
    let reason = stored.stopped.clone().unwrap_or_default();
    assert!(stored.paused, "{mode:?}: {stored:?}");
    assert!(
        reason.contains(why),
        "{mode:?}: {reason:?} should say {why:?}"
    );
    let posts = h.fake.requests_to("POST", "/order").len();
    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Paused, "{mode:?}: {report:?}");
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        posts,
        "{mode:?}"
    );
}

/// Margin rejections, in either of BitMEX's shapes, on three orders in a row.
async fn three_rejections_stop_the_bot<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    how: MarginRejection,
) {
    h.fake.reject_margin(how, 3);
    for n in 1..=3 {
        let report = h.tick_ok().await;
        let order = report.order.expect("an order was sent");
        assert!(
            order.status.to_lowercase().starts_with("rejected"),
            "{mode:?} {how:?}: order {n}: {order:?}"
        );
        h.advance(1);
    }
    let report = h.tick_ok().await;
    assert_eq!(
        report.outcome,
        Outcome::Stopped,
        "{mode:?} {how:?}: {report:?}"
    );
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        3,
        "{mode:?}: no 4th order"
    );
    assert!(bot_executions(&h).is_empty(), "{mode:?}: nothing executed");
    assert_stopped(&mut h, mode, "rejected").await;

    command(&h, "resume", h.now_ms() + 1_000).await;
    let report = h.tick_later(2_000).await;
    assert_eq!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
    assert_eq!(h.position(), LOT, "{mode:?}: trading again");
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn three_rejections_stop_the_bot_dynamo() {
    let m = zigzag();
    for mode in MODES {
        for how in [MarginRejection::Refused, MarginRejection::RejectedOrder] {
            let h = dynamo("s8-rejections", &m, mode).await;
            three_rejections_stop_the_bot(h, mode, how).await;
        }
    }
}

#[tokio::test]
async fn three_rejections_stop_the_bot_file() {
    let m = zigzag();
    for mode in MODES {
        for how in [MarginRejection::Refused, MarginRejection::RejectedOrder] {
            three_rejections_stop_the_bot(file(&m, mode).await, mode, how).await;
        }
    }
}

/// The liquidation engine takes the position: the bot stops rather than open it again at once.
async fn a_liquidation_stops_the_bot<S: StateStore>(mut h: Harness<S>, mode: IdReuse) {
    h.tick_ok().await;
    assert_eq!(h.position(), LOT, "{mode:?}");
    h.fake.liquidate(SYMBOL).expect("a position to liquidate");
    let volume = bot_volume(&h);

    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(report.outcome, Outcome::Stopped, "{mode:?}: {report:?}");
    assert_stopped(&mut h, mode, "liquidation").await;
    assert_eq!(bot_volume(&h), volume, "{mode:?}: nothing re-opened");
    assert_eq!(h.position(), 0, "{mode:?}");

    command(&h, "resume", h.now_ms() + 1_000).await;
    let report = h.tick_later(2_000).await;
    assert_eq!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
    assert_eq!(
        h.position(),
        LOT,
        "{mode:?}: trading again after the resume"
    );
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn a_liquidation_stops_the_bot_dynamo() {
    let m = zigzag();
    for mode in MODES {
        a_liquidation_stops_the_bot(dynamo("s8-liquidation", &m, mode).await, mode).await;
    }
}

#[tokio::test]
async fn a_liquidation_stops_the_bot_file() {
    let m = zigzag();
    for mode in MODES {
        a_liquidation_stops_the_bot(file(&m, mode).await, mode).await;
    }
}
