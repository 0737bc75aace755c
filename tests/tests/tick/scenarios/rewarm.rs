//! Scenario 4: a strategy that warms up again (new windows or guards, or its state lost) has no
//! direction yet, and its target of 0 must not close the position the bot holds; once its regime
//! is established it is followed.

use super::*;
use maestro_lambda::exchange::Side;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;

/// The minute the bot loses its strategy: well inside the plateau, with enough flat bars
/// behind it for any re-warm below.
const RESET_AT: usize = 50;

/// How the strategy is lost.
#[derive(Clone, Copy, Debug)]
enum Rewarm {
    /// `set_params` with other windows and a 2-bar confirmation.
    NewWindows,
    /// The core's state is gone (the parameters as they were).
    LostState,
}

async fn a_rewarming_strategy_holds_the_position<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    how: Rewarm,
) {
    tick_to(&mut h, RESET_AT).await;
    assert_eq!(h.position(), LOT, "{mode:?}: long on the plateau");
    // The minute the strategy would follow again: the first falling bar, plus the confirmation.
    let follows_at = match how {
        Rewarm::NewWindows => {
            let body = json!({"action": "set_params", "bot": BOT_ID, "params": {
                "short_window": 4, "long_window": 15,
                "guards": {"hysteresis_bp": 0, "confirm_bars": 2, "min_hold_bars": 0}}});
            let changed = control(&h, &this_bot(&h), body, h.now_ms() + 1_000).await;
            assert_eq!(changed.status, 200, "{mode:?}: {changed:?}");
            assert_eq!(changed.body["rewarm"], true, "{mode:?}");
            PLATEAU_END + 2
        }
        Rewarm::LostState => {
            h.bot
                .edit(|r| {
                    r.core = None;
                    r.last_close_ms = None;
                })
                .await;
            PLATEAU_END + 1
        }
    };
    let volume = bot_volume(&h);
    while h.completed() < follows_at - 1 {
        h.advance(1);
        let report = h.tick_ok().await;
        assert_eq!(report.order, None, "{mode:?} {how:?}: {report:?}");
        assert_eq!(h.position(), LOT, "{mode:?} {how:?}: held while re-warming");
    }
    assert_eq!(bot_volume(&h), volume, "{mode:?} {how:?}: nothing executed");

    h.advance(1);
    let report = h.tick_ok().await;
    assert_eq!(
        report.outcome,
        Outcome::Ordered,
        "{mode:?} {how:?}: {report:?}"
    );
    let order = report.order.expect("the order");
    assert_eq!(
        (order.side, order.qty),
        (Side::Sell, 2000),
        "{mode:?} {how:?}"
    );
    assert_eq!(
        h.position(),
        -LOT,
        "{mode:?} {how:?}: follows the new regime"
    );
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn a_rewarming_strategy_holds_the_position_dynamo() {
    let m = plateau();
    for mode in MODES {
        for how in [Rewarm::NewWindows, Rewarm::LostState] {
            let h = dynamo("s4-rewarm", &m, mode).await;
            a_rewarming_strategy_holds_the_position(h, mode, how).await;
        }
    }
}

#[tokio::test]
async fn a_rewarming_strategy_holds_the_position_file() {
    let m = plateau();
    for mode in MODES {
        for how in [Rewarm::NewWindows, Rewarm::LostState] {
            a_rewarming_strategy_holds_the_position(file(&m, mode).await, mode, how).await;
        }
    }
}
