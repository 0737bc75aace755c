//! Scenario 7: a pause while the bot's order is in flight. A pause is not a flatten: nothing is
//! closed, and the position changes only by the bot's own order executing, once.

use super::*;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::{Failpoint, Outcome};
use maestro_tests::tick_harness::CrashOnce;

/// How the flip's order is in flight when the trader pauses.
#[derive(Clone, Copy, Debug)]
enum InFlight {
    /// Answered 503, executed moments later.
    Late,
    /// The tick died after saving the intent, before sending it.
    NeverSent,
    /// The tick died after the exchange took the order.
    Accepted,
}

async fn a_pause_in_flight_closes_nothing<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flips: &[usize],
    how: InFlight,
) {
    tick_to(&mut h, flips[0] - 1).await;
    h.advance(1);
    let crash = |point| CrashOnce::at(point);
    let failed = match how {
        InFlight::Late => {
            h.fake.execute_late(1, 2);
            h.tick().await
        }
        InFlight::NeverSent => h.tick_with(&crash(Failpoint::AfterIntentSaved)).await,
        InFlight::Accepted => h.tick_with(&crash(Failpoint::AfterOrderAccepted)).await,
    };
    assert!(failed.is_err(), "{mode:?} {how:?}: {failed:?}");
    let intent = pending(&h).await;
    command(&h, "pause", h.now_ms() + 2_000).await;
    let posts = h.fake.requests_to("POST", "/order").len();

    // The same minute again, then on through the second flip.
    h.tick_later(5_000).await;
    while h.completed() < flips[1] + 2 {
        h.advance(1);
        let report = h.tick_ok().await;
        assert_eq!(
            report.outcome,
            Outcome::Paused,
            "{mode:?} {how:?}: {report:?}"
        );
    }
    let executed = match how {
        InFlight::NeverSent => 0,
        InFlight::Late | InFlight::Accepted => 2000,
    };
    assert_eq!(
        executed_qty(&h, &intent.cl_ord_id),
        executed,
        "{mode:?} {how:?}: the bot's own order executed at most once"
    );
    assert_eq!(
        h.fake.requests_to("POST", "/order").len(),
        posts,
        "{mode:?} {how:?}: nothing sent while paused"
    );
    assert!(
        h.orders().iter().all(|o| o.exec_inst != "Close"),
        "{mode:?} {how:?}: no close order"
    );
    assert_eq!(h.position(), LOT - executed, "{mode:?} {how:?}");
    let stored = record(&h).await;
    assert!(
        stored.paused && !stored.flatten,
        "{mode:?} {how:?}: {stored:?}"
    );
    assert_eq!(
        stored.pending, None,
        "{mode:?} {how:?}: its fate is settled"
    );
    assert_eq!(
        stored.stopped, None,
        "{mode:?} {how:?}: its own order explains it"
    );
    assert_journal_sound(&h, mode);
}

const IN_FLIGHT: [InFlight; 3] = [InFlight::Late, InFlight::NeverSent, InFlight::Accepted];

#[tokio::test]
async fn a_pause_in_flight_closes_nothing_dynamo() {
    let m = zigzag();
    for mode in MODES {
        for how in IN_FLIGHT {
            let h = dynamo("s7-pause", &m, mode).await;
            a_pause_in_flight_closes_nothing(h, mode, &m.flips, how).await;
        }
    }
}

#[tokio::test]
async fn a_pause_in_flight_closes_nothing_file() {
    let m = zigzag();
    for mode in MODES {
        for how in IN_FLIGHT {
            a_pause_in_flight_closes_nothing(file(&m, mode).await, mode, &m.flips, how).await;
        }
    }
}
