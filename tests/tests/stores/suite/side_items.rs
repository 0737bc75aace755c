//! The shared behaviour of the store's side items: recorded orders, route nonces, and the input
//! checks that keep ids out of paths and keys.

use super::record;
use maestro_lambda::bot_id::BotId;
use maestro_lambda::exchange::Side;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{BotRecord, OrderLog, StateStore, StoreError};
use maestro_tests::bot_id;

/// The suite's clock (UNIX seconds): the stores read none, so every time is pinned here.
const NOW_S: i64 = 1_620_000_300;

fn order(decided_at_ms: i64, cl_ord_id: &str, status: &str) -> OrderLog {
    OrderLog {
        decided_at_ms,
        // Recorded just now, whenever it was decided: what keeps it is the time it was recorded.
        recorded_at_ms: NOW_S * 1000 - 1500,
        cl_ord_id: cl_ord_id.to_owned(),
        side: Side::Buy,
        qty: 1000,
        order_id: Some(format!("oid-{cl_ord_id}")),
        status: status.to_owned(),
        avg_price: Some(182.37),
        filled_qty: Some(1000),
    }
}

/// Recording the same decision twice keeps one item (the later write); listing is newest first,
/// honours the limit, and never mixes bots.
pub async fn orders_are_idempotent_and_newest_first<S: StateStore>(store: S) {
    let empty = store
        .recent_orders(&bot_id("trader"), 10, NOW_S)
        .await
        .expect("list empty");
    assert!(empty.is_empty(), "no orders yet: {empty:?}");
    // Out of time order on purpose; 999_999_999 checks the zero padding sorts as a number.
    let times = [
        1_620_000_120_000,
        999_999_999,
        1_620_000_060_000,
        1_620_000_180_000,
    ];
    for (i, t) in times.iter().enumerate() {
        store
            .record_order(&bot_id("trader"), &order(*t, &format!("c{i}"), "New"))
            .await
            .expect("record");
    }
    // Two decisions in the same millisecond are two orders; a retry of one is not a third.
    store
        .record_order(&bot_id("trader"), &order(1_620_000_180_000, "c9", "New"))
        .await
        .expect("record same ms");
    store
        .record_order(&bot_id("trader"), &order(1_620_000_120_000, "c0", "Filled"))
        .await
        .expect("re-record");
    store
        .record_order(
            &bot_id("trader-b"),
            &order(1_700_000_000_000, "other", "New"),
        )
        .await
        .expect("other bot");

    let all = store
        .recent_orders(&bot_id("trader"), 100, NOW_S)
        .await
        .expect("list all");
    let keys: Vec<(i64, &str, &str)> = all
        .iter()
        .map(|o| (o.decided_at_ms, o.cl_ord_id.as_str(), o.status.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (1_620_000_180_000, "c9", "New"),
            (1_620_000_180_000, "c3", "New"),
            (1_620_000_120_000, "c0", "Filled"),
            (1_620_000_060_000, "c2", "New"),
            (999_999_999, "c1", "New"),
        ],
        "newest first, re-recorded order overwritten in place, other bot absent"
    );
    assert_eq!(
        all[2],
        order(1_620_000_120_000, "c0", "Filled"),
        "fields round-trip"
    );
    let two = store
        .recent_orders(&bot_id("trader"), 2, NOW_S)
        .await
        .expect("list 2");
    assert_eq!(two, all[..2].to_vec(), "the limit keeps the newest");
    let none = store
        .recent_orders(&bot_id("trader"), 0, NOW_S)
        .await
        .expect("list 0");
    assert!(none.is_empty(), "limit 0 lists nothing");
}

/// A nonce is claimed once while it lives; an expired one may be claimed again.
pub async fn nonce_is_claimed_once<S: StateStore>(store: S) {
    let later = NOW_S + 300;
    assert!(
        store.claim_nonce("n-1", NOW_S, later).await.expect("claim"),
        "first claim wins"
    );
    assert!(
        !store.claim_nonce("n-1", NOW_S, later).await.expect("claim"),
        "replay loses"
    );
    assert!(
        !store
            .claim_nonce("n-1", NOW_S, later + 600)
            .await
            .expect("claim"),
        "a new expiry does not help"
    );
    assert!(
        store.claim_nonce("n-2", NOW_S, later).await.expect("claim"),
        "another nonce is free"
    );
    // Expired (TTL not yet swept): claimable again, by design; the auth window rejects its timestamp.
    let past = NOW_S - 10;
    assert!(
        store.claim_nonce("old", NOW_S, past).await.expect("claim"),
        "expired nonce claim"
    );
    assert!(
        store.claim_nonce("old", NOW_S, later).await.expect("claim"),
        "expired nonce is reclaimable"
    );
    assert!(
        !store.claim_nonce("old", NOW_S, later).await.expect("claim"),
        "but not twice while alive"
    );
}

/// Eight concurrent claims of one nonce: exactly one wins.
pub async fn concurrent_nonce_claims_have_one_winner<S: StateStore + Clone + 'static>(store: S) {
    let later = NOW_S + 300;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_nonce("contested", NOW_S, later).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        if task.await.expect("task").expect("claim") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one claim of a nonce may win");
}

/// Ids that could escape a directory or a key never reach the store; malformed nonces and orders
/// are refused with a permanent error and store nothing.
pub async fn invalid_ids_are_refused<S: StateStore>(store: S) {
    let long = "x".repeat(33);
    for bad in [
        "",
        "../escape",
        "a/b",
        "a.b",
        "bot#1",
        "spa ce",
        "é",
        "Upper",
        "-dash-first",
        long.as_str(),
    ] {
        // The store's methods take a `BotId`: such an id cannot reach them, not even inside a
        // record read back from JSON.
        assert!(BotId::new(bad).is_err(), "BotId::new({bad:?})");
        let json = serde_json::json!({ "bot_id": bad, "params": BotParams::default() });
        let decoded = serde_json::from_value::<BotRecord>(json);
        assert!(decoded.is_err(), "a record of bot {bad:?} decoded");
    }
    // The same rule as the configuration's: 32 characters at most.
    let ok_id = "x".repeat(32);
    assert!(
        store.save(&record(&ok_id, "x"), None).await.is_ok(),
        "32 characters are allowed"
    );
    for bad in [
        order(-1, "c", "New"),
        order(10_000_000_000_000, "c", "New"),
        order(1, "", "New"),
    ] {
        let rec = store.record_order(&bot_id("bot"), &bad).await;
        assert!(
            matches!(rec, Err(StoreError::Failed(_))),
            "record_order({bad:?}): {rec:?}"
        );
    }
    let long_nonce = "n".repeat(129);
    for bad in ["", "with space", "tab\t", long_nonce.as_str()] {
        let claim = store.claim_nonce(bad, NOW_S, NOW_S + 60).await;
        assert!(
            matches!(claim, Err(StoreError::Failed(_))),
            "claim_nonce({bad:?}): {claim:?}"
        );
    }
    let listed = store
        .recent_orders(&bot_id("bot"), 10, NOW_S)
        .await
        .expect("list");
    assert!(
        listed.is_empty(),
        "refused orders must not be stored: {listed:?}"
    );
}
