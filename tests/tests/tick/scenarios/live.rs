//! Scenario 5: one live bot per symbol. Two live bots would steer the account's one position
//! against each other, so the configuration refuses them, and so does `set_params`.

use super::*;
use maestro_lambda::config::parse_bots;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::Outcome;
use maestro_tests::bot_id;

#[test]
fn two_live_bots_on_one_symbol_are_refused_at_start_up() {
    let both_live = r#"[
        {"id":"ltc-fast","symbol":"LTCUSDT","bin":"1m","short_window":5,"long_window":20},
        {"id":"ltc-slow","symbol":"LTCUSDT","bin":"1m","short_window":10,"long_window":50}
    ]"#;
    let error = parse_bots(both_live)
        .expect_err("two live bots on LTCUSDT")
        .to_string();
    assert!(
        error.contains("ltc-fast") && error.contains("ltc-slow"),
        "the error names both bots: {error}"
    );
    let one_dry = both_live.replace(r#""long_window":50"#, r#""long_window":50,"dry_run":true"#);
    assert_eq!(
        parse_bots(&one_dry).expect("one of them in dry run").len(),
        2
    );
}

const PAPER: &str = "paper";

/// The harness's live bot and a dry-run bot on the same symbol, as the routes know them.
fn live_and_paper<S>(h: &Harness<S>) -> Vec<BotConfig> {
    let mut bots = this_bot(h);
    let mut paper = h.bot.params.clone();
    paper.dry_run = true;
    bots.push(BotConfig {
        id: PAPER.parse().expect("a valid bot id"),
        params: paper,
    });
    bots
}

async fn set_dry_run<S: StateStore>(h: &Harness<S>, bot: &str, dry_run: bool) -> Response {
    let body = json!({"action": "set_params", "bot": bot, "params": {"dry_run": dry_run}});
    control(h, &live_and_paper(h), body, h.now_ms()).await
}

/// `set_params dry_run=false` is refused (409) while another bot trades the symbol live, and
/// changes nothing; both bots then tick through a flip, and only the live one's orders execute.
async fn a_second_live_bot_is_refused<S: StateStore + Clone>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
) {
    let refused = set_dry_run(&h, PAPER, false).await;
    assert_eq!(refused.status, 409, "{mode:?}: {refused:?}");
    assert_eq!(refused.body["error"], "live_conflict", "{mode:?}");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(BOT_ID),
        "{mode:?}: names the live bot: {detail}"
    );
    let paper_record = h.bot.store.load(&bot_id(PAPER)).await.expect("load");
    assert!(paper_record.is_none(), "{mode:?}: nothing written");

    let paper = Bot {
        id: bot_id(PAPER),
        params: live_and_paper(&h)[1].params.clone(),
        ..h.bot.clone()
    };
    loop {
        h.tick_ok().await;
        let report = paper
            .tick_at(h.now_ms(), &NoFailpoints)
            .await
            .expect("the paper bot ticks");
        assert_ne!(report.outcome, Outcome::Ordered, "{mode:?}: {report:?}");
        if h.completed() > flip {
            break;
        }
        h.advance(1);
    }
    let paper_prefix = own_prefix(PAPER);
    assert!(
        h.orders()
            .iter()
            .all(|o| !o.cl_ord_id.starts_with(&paper_prefix)),
        "{mode:?}: the paper bot sent nothing"
    );
    assert_eq!(
        bot_volume(&h),
        LOT + 2 * LOT,
        "{mode:?}: the live bot's orders"
    );
    assert_eq!(h.position(), -LOT, "{mode:?}");

    // The live bot into dry run first: then the other may go live, and the first may not return.
    assert_eq!(set_dry_run(&h, BOT_ID, true).await.status, 200, "{mode:?}");
    assert_eq!(set_dry_run(&h, PAPER, false).await.status, 200, "{mode:?}");
    let refused = set_dry_run(&h, BOT_ID, false).await;
    assert_eq!(refused.status, 409, "{mode:?}: {refused:?}");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(PAPER),
        "{mode:?}: names the live bot: {detail}"
    );
    assert!(
        record(&h).await.params.dry_run,
        "{mode:?}: still in dry run"
    );
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn a_second_live_bot_is_refused_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s5-live", &m, mode).await;
        a_second_live_bot_is_refused(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn a_second_live_bot_is_refused_file() {
    let m = zigzag();
    for mode in MODES {
        a_second_live_bot_is_refused(file(&m, mode).await, mode, m.flips[0]).await;
    }
}
