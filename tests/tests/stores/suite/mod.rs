//! The behaviour every `StateStore` adapter must show, written once and run against each adapter
//! (`dynamo.rs`, `file.rs`) through [`store_behaviour_tests!`].

use maestro_lambda::exchange::Side;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{
    BotRecord, CoreState, OrderIntent, StateStore, StoreError, StoreResult,
};
use maestro_tests::bot_id;
use std::collections::BTreeSet;

mod side_items;
pub use side_items::*;

/// Generates one `#[tokio::test]` per behaviour below. `$fixture` is an async fn taking the test's
/// name and returning something with a `store` field (which also keeps the table or directory alive).
macro_rules! store_behaviour_tests {
    ($fixture:path) => {
        store_behaviour_tests!(@cases $fixture;
            missing_bot_loads_none,
            first_save_then_each_save_bumps_the_version,
            full_record_round_trips,
            stale_or_wrong_version_conflicts_and_changes_nothing,
            first_save_race_has_one_winner,
            eight_saves_from_one_read_have_one_winner,
            contended_writers_never_share_a_version,
            orders_are_idempotent_and_newest_first,
            nonce_is_claimed_once,
            concurrent_nonce_claims_have_one_winner,
            invalid_ids_are_refused,
        );
    };
    (@cases $fixture:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture(stringify!($case)).await;
                crate::suite::$case(fixture.store.clone()).await;
            }
        )*
    };
}

pub(crate) fn record(bot_id: &str, tag: &str) -> BotRecord {
    let mut r = BotRecord::new(maestro_tests::bot_id(bot_id), BotParams::default());
    r.last_outcome = Some(tag.to_owned());
    r
}

fn is_conflict<T: std::fmt::Debug>(result: &StoreResult<T>, expected: Option<u64>) -> bool {
    matches!(result, Err(StoreError::Conflict { expected: e, .. }) if *e == expected)
}

/// A bot that was never saved loads as `None`.
pub async fn missing_bot_loads_none<S: StateStore>(store: S) {
    let loaded = store.load(&bot_id("never-saved")).await;
    assert!(
        matches!(loaded, Ok(None)),
        "expected Ok(None), got {loaded:?}"
    );
}

/// Save with `None` creates version 1; each save on the version read returns and stores version+1.
pub async fn first_save_then_each_save_bumps_the_version<S: StateStore>(store: S) {
    let v1 = store.save(&record("bot1", "first"), None).await;
    assert!(
        matches!(v1, Ok(1)),
        "first save: expected Ok(1), got {v1:?}"
    );
    let mut version = 1;
    for i in 0..20 {
        let loaded = store
            .load(&bot_id("bot1"))
            .await
            .expect("load")
            .expect("record present");
        assert_eq!(loaded.version, version, "version read back after save {i}");
        let next = store
            .save(&record("bot1", &format!("save {i}")), Some(version))
            .await
            .expect("save on the version just read");
        assert_eq!(next, version + 1, "save {i} must bump the version by one");
        version = next;
    }
    let last = store
        .load(&bot_id("bot1"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(last.version, 21);
    assert_eq!(last.value, record("bot1", "save 19"));
}

/// Every field of a record survives a save and a load unchanged.
pub async fn full_record_round_trips<S: StateStore>(store: S) {
    let mut r = record("full", "ordered");
    r.core = Some(CoreState {
        lot_size: 1000,
        state: r#"{"v":1,"sums":[1,2,3]}"#.to_owned(),
        tick_size: None,
    });
    r.last_close_ms = Some(1_620_000_060_000);
    r.pending = Some(OrderIntent {
        cl_ord_id: "full-1620000060000-p1000".to_owned(),
        side: Side::Sell,
        qty: 2000,
        reduce_only: true,
        close: false,
        target: -1000,
        decided_at_ms: 1_620_000_060_000,
        saved_at_ms: 1_620_000_061_000,
    });
    r.paused = true;
    r.flatten = true;
    r.stopped = Some("2 orders rejected in a row".to_owned());
    r.expected_position = Some(-1000);
    r.rejections = 2;
    r.sent = vec![maestro_lambda::store::SentMark {
        at_ms: 1_620_000_061_000,
        qty: 2000,
    }];
    r.last_position = Some(1000);
    r.last_tick_ms = Some(1_620_000_061_234);
    r.params.short_window = 7;
    r.params.dry_run = true;
    store.save(&r, None).await.expect("save");
    let loaded = store
        .load(&bot_id("full"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(
        loaded.value, r,
        "record changed on the way through the store"
    );
}

/// A save on a version that is not the stored one (older, newer, or "must not exist" when it does)
/// is a conflict and leaves the stored record as it was.
pub async fn stale_or_wrong_version_conflicts_and_changes_nothing<S: StateStore>(store: S) {
    store.save(&record("bot", "v1"), None).await.expect("v1");
    store.save(&record("bot", "v2"), Some(1)).await.expect("v2");
    for expected in [Some(1), Some(3), Some(0), None] {
        let result = store.save(&record("bot", "intruder"), expected).await;
        assert!(
            is_conflict(&result, expected),
            "save expecting {expected:?} over version 2: expected Conflict, got {result:?}"
        );
        let loaded = store
            .load(&bot_id("bot"))
            .await
            .expect("load")
            .expect("present");
        assert_eq!(loaded.version, 2, "a conflict must not change the version");
        assert_eq!(
            loaded.value,
            record("bot", "v2"),
            "a conflict must not change the record"
        );
    }
}

async fn race<S: StateStore + Clone + 'static>(
    store: &S,
    bot: &str,
    expected: Option<u64>,
) -> (Vec<(usize, u64)>, usize) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let r = record(bot, &format!("racer {i}"));
        tasks.push(tokio::spawn(
            async move { (i, store.save(&r, expected).await) },
        ));
    }
    let (mut winners, mut conflicts) = (Vec::new(), 0);
    for task in tasks {
        let (i, result) = task.await.expect("racer task");
        match result {
            Ok(v) => winners.push((i, v)),
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("racer {i}: expected a version or a conflict, got {e}"),
        }
    }
    (winners, conflicts)
}

/// Eight first saves at once: one creates the record, seven conflict, and the winner's record is
/// the one stored.
pub async fn first_save_race_has_one_winner<S: StateStore + Clone + 'static>(store: S) {
    let (winners, conflicts) = race(&store, "fresh", None).await;
    assert_eq!(
        winners.len(),
        1,
        "exactly one first save may win: {winners:?}"
    );
    assert_eq!(conflicts, 7, "the other seven must conflict");
    let (winner, version) = winners[0];
    assert_eq!(version, 1);
    let loaded = store
        .load(&bot_id("fresh"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.value, record("fresh", &format!("racer {winner}")));
}

/// Eight saves from the same read version: exactly one wins, seven conflict.
pub async fn eight_saves_from_one_read_have_one_winner<S: StateStore + Clone + 'static>(store: S) {
    store.save(&record("busy", "v1"), None).await.expect("v1");
    store
        .save(&record("busy", "v2"), Some(1))
        .await
        .expect("v2");
    let (winners, conflicts) = race(&store, "busy", Some(2)).await;
    assert_eq!(winners.len(), 1, "exactly one save may win: {winners:?}");
    assert_eq!(conflicts, 7, "the other seven must conflict");
    let (winner, version) = winners[0];
    assert_eq!(version, 3);
    let loaded = store
        .load(&bot_id("busy"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.value, record("busy", &format!("racer {winner}")));
}

/// Four writers doing load-modify-save with retry: every version is granted to exactly one save,
/// each writer sees its versions strictly increase, and the final version counts every success.
pub async fn contended_writers_never_share_a_version<S: StateStore + Clone + 'static>(store: S) {
    const WRITERS: u64 = 4;
    const SAVES_EACH: u64 = 10;
    store
        .save(&record("shared", "start"), None)
        .await
        .expect("v1");
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut granted = Vec::new();
            let mut conflicts = 0u32;
            while (granted.len() as u64) < SAVES_EACH {
                let read = store
                    .load(&bot_id("shared"))
                    .await
                    .expect("load")
                    .expect("present");
                let r = record("shared", &format!("writer {w}"));
                match store.save(&r, Some(read.version)).await {
                    Ok(v) => {
                        assert_eq!(v, read.version + 1, "a save must grant read version + 1");
                        if let Some(&last) = granted.last() {
                            assert!(v > last, "writer {w}: version went from {last} to {v}");
                        }
                        granted.push(v);
                    }
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(e) => panic!("writer {w}: {e}"),
                }
                assert!(conflicts < 10_000, "writer {w} starved");
            }
            granted
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        for v in task.await.expect("writer task") {
            assert!(all.insert(v), "version {v} was granted to two saves");
        }
    }
    let expected: BTreeSet<u64> = (2..=WRITERS * SAVES_EACH + 1).collect();
    assert_eq!(all, expected, "the granted versions must be exactly 2..=41");
    let last = store
        .load(&bot_id("shared"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(last.version, WRITERS * SAVES_EACH + 1);
}
