//! Each switch of the fake BitMEX for what BitMEX leaves undocumented, driven through real HTTP
//! by the production client, with the execution journal as the judge of what happened.

use maestro_lambda::bitmex::{ApiSecret, BitmexClient, BitmexConfig, Credentials, signature};
use maestro_lambda::exchange::{Exchange, ExchangeError, Side};
use maestro_tests::fake_bitmex::{
    ExecKind, FakeBitmex, INSUFFICIENT_BALANCE, IdReuse, MarginRejection, Remainder, TEST_API_KEY,
    TEST_API_SECRET,
};

use crate::orders_support::{SYMBOL, fake, order};

/// Executions of one clOrdID as (side, qty).
fn executed(fake: &FakeBitmex, id: &str) -> Vec<(String, i64)> {
    fake.executions(SYMBOL)
        .into_iter()
        .filter(|e| e.cl_ord_id == id)
        .map(|e| (e.side, e.qty))
        .collect()
}

#[tokio::test]
async fn a_filled_order_s_id_is_refused_forever_by_default_and_executed_again_when_reusable() {
    for mode in [IdReuse::Forever, IdReuse::WhileOpen] {
        let fake = fake().await;
        if mode == IdReuse::WhileOpen {
            fake.set_id_reuse(mode);
        }
        let client = fake.client().expect("client");
        let first = client
            .place_order(&order(Side::Buy, 1000, "cm-reuse"))
            .await
            .expect("placed");
        let again = client
            .place_order(&order(Side::Buy, 1000, "cm-reuse"))
            .await
            .expect("answered");
        let statuses: Vec<u16> = fake
            .requests_to("POST", "/order")
            .iter()
            .map(|r| r.status)
            .collect();
        match mode {
            IdReuse::Forever => {
                assert_eq!(statuses, [200, 400], "the second is a duplicate");
                assert_eq!(again.order_id, first.order_id, "the client finds the first");
                assert_eq!(executed(&fake, "cm-reuse").len(), 1);
                assert_eq!(fake.position(SYMBOL), 1000);
            }
            IdReuse::WhileOpen => {
                assert_eq!(statuses, [200, 200], "a filled order's id is free again");
                assert_ne!(again.order_id, first.order_id, "a second order");
                assert_eq!(
                    executed(&fake, "cm-reuse"),
                    [("Buy".to_owned(), 1000), ("Buy".to_owned(), 1000)],
                    "executed twice: an id is no guard in this mode"
                );
                assert_eq!(fake.position(SYMBOL), 2000);
            }
        }
        assert_eq!(fake.executed_position(SYMBOL), fake.position(SYMBOL));
    }
}

#[tokio::test]
async fn an_open_order_s_id_stays_reserved_in_both_modes() {
    for mode in [IdReuse::Forever, IdReuse::WhileOpen] {
        let fake = fake().await;
        fake.set_id_reuse(mode);
        fake.fill_partially(1000, Remainder::Resting, 1);
        let client = fake.client().expect("client");
        client
            .place_order(&order(Side::Sell, 2000, "cm-open"))
            .await
            .expect("placed");
        let again = client
            .place_order(&order(Side::Sell, 2000, "cm-open"))
            .await
            .expect("duplicate resolves to the working order");
        assert_eq!(again.status, "PartiallyFilled", "{mode:?}");
        assert_eq!(fake.orders_with_cl_ord_id("cm-open"), 1, "{mode:?}");
    }
}

#[tokio::test]
async fn a_duplicate_resolves_to_the_newest_order_that_carried_the_id() {
    let fake = fake().await;
    fake.set_id_reuse(IdReuse::WhileOpen);
    let client = fake.client().expect("client");
    let old = client
        .place_order(&order(Side::Buy, 1000, "cm-twice"))
        .await
        .expect("filled");
    fake.fill_partially(1000, Remainder::Resting, 1);
    let working = client
        .place_order(&order(Side::Buy, 3000, "cm-twice"))
        .await
        .expect("the id is free again; this one stays working");
    assert_ne!(working.order_id, old.order_id);
    let resolved = client
        .place_order(&order(Side::Buy, 3000, "cm-twice"))
        .await
        .expect("duplicate resolves");
    assert_eq!(
        (resolved.order_id.as_str(), resolved.status.as_str()),
        (working.order_id.as_str(), "PartiallyFilled"),
        "the working order, not the old filled one"
    );
    assert_eq!(fake.executed_position(SYMBOL), 2000);
}

/// A client that gives up after one attempt, as a tick out of time would.
fn impatient(fake: &FakeBitmex) -> BitmexClient {
    BitmexClient::new(
        BitmexConfig {
            max_attempts: 1,
            ..fake.client_config()
        },
        Credentials::new(TEST_API_KEY, ApiSecret::new(TEST_API_SECRET)),
    )
    .expect("client")
}

#[tokio::test]
async fn an_order_answered_503_executes_after_the_first_look_up_said_unknown() {
    let fake = fake().await;
    let client = impatient(&fake);
    fake.execute_late(1, 1);
    let sent = client.place_order(&order(Side::Buy, 2000, "cm-late")).await;
    assert!(
        matches!(&sent, Err(e) if e.is_retryable()),
        "the client hears 503, and its own look-up finds nothing: {sent:?}"
    );
    assert_eq!(
        fake.requests_to("GET", "/order").len(),
        1,
        "the client looked the id up once"
    );
    assert_eq!(fake.late_pending(), 0, "released by that look-up");
    assert_eq!(fake.position(SYMBOL), 2000, "then it executes");
    let second = client
        .order_by_cl_ord_id(SYMBOL, "cm-late")
        .await
        .expect("looked up")
        .expect("now listed");
    assert_eq!(
        (second.status.as_str(), second.filled_qty),
        ("Filled", 2000)
    );
    assert_eq!(executed(&fake, "cm-late"), [("Buy".to_owned(), 2000)]);
}

#[tokio::test]
async fn a_late_order_is_never_resent_so_it_executes_once_in_both_id_modes() {
    for mode in [IdReuse::Forever, IdReuse::WhileOpen] {
        let fake = fake().await;
        fake.set_id_reuse(mode);
        let client = fake.client().expect("client");
        // The first copy is held and executes after the client's look-up said unknown: a resend
        // with the same clOrdID would fill a second time where ids are freed once filled.
        fake.execute_late(1, 1);
        let sent = client
            .place_order(&order(Side::Sell, 1000, "cm-resent"))
            .await;
        assert!(matches!(&sent, Err(e) if e.is_retryable()), "{sent:?}");
        assert_eq!(fake.requests_to("POST", "/order").len(), 1, "{mode:?}");
        assert_eq!(fake.late_pending(), 0, "released after one look-up");
        assert_eq!(fake.position(SYMBOL), -1000, "{mode:?}");
        assert_eq!(fake.executed_position(SYMBOL), -1000, "{mode:?}");
    }
}

#[tokio::test]
async fn a_margin_rejection_comes_as_a_400_or_as_a_rejected_order() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    fake.reject_margin(MarginRejection::Refused, 1);
    match client.place_order(&order(Side::Buy, 5000, "cm-m-1")).await {
        Err(ExchangeError::Rejected {
            status: 400,
            name,
            message,
        }) => {
            assert_eq!(name, "ValidationError");
            assert!(
                message.starts_with("Account has insufficient Available Balance"),
                "{message}"
            );
        }
        other => panic!("expected a 400 margin refusal, got {other:?}"),
    }
    assert_eq!(fake.orders_with_cl_ord_id("cm-m-1"), 0, "nothing booked");

    fake.reject_margin(MarginRejection::RejectedOrder, 1);
    let rejected = client
        .place_order(&order(Side::Buy, 5000, "cm-m-2"))
        .await
        .expect("a 200 with a rejected order");
    assert_eq!(
        (rejected.status.as_str(), rejected.filled_qty),
        ("Rejected", 0)
    );
    let row = &fake.orders(SYMBOL)[0];
    assert_eq!(row.rej_reason, INSUFFICIENT_BALANCE);
    assert!(fake.executions(SYMBOL).is_empty(), "nothing executed");
    assert_eq!(fake.position(SYMBOL), 0);

    // The switch is used up: the next order fills.
    client
        .place_order(&order(Side::Buy, 1000, "cm-m-3"))
        .await
        .expect("filled");
    assert_eq!(fake.position(SYMBOL), 1000);
}

#[tokio::test]
async fn a_partial_fill_reports_cum_qty_and_the_journal_holds_only_what_filled() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    fake.fill_partially(2000, Remainder::Canceled, 1);
    let cut = client
        .place_order(&order(Side::Buy, 5000, "cm-part-1"))
        .await
        .expect("placed");
    assert_eq!(
        (cut.qty, cut.filled_qty, cut.leaves_qty, cut.status.as_str()),
        (5000, 2000, 0, "Canceled")
    );
    assert_eq!(executed(&fake, "cm-part-1"), [("Buy".to_owned(), 2000)]);

    fake.fill_partially(1000, Remainder::Resting, 1);
    let resting = client
        .place_order(&order(Side::Sell, 3000, "cm-part-2"))
        .await
        .expect("placed");
    assert_eq!(
        (
            resting.filled_qty,
            resting.leaves_qty,
            resting.status.as_str()
        ),
        (1000, 2000, "PartiallyFilled")
    );
    assert!(resting.is_open());
    assert_eq!(fake.fill_resting(SYMBOL), 1);
    let done = client
        .order_by_cl_ord_id(SYMBOL, "cm-part-2")
        .await
        .expect("looked up")
        .expect("listed");
    assert_eq!((done.filled_qty, done.status.as_str()), (3000, "Filled"));
    assert_eq!(
        executed(&fake, "cm-part-2"),
        [("Sell".to_owned(), 1000), ("Sell".to_owned(), 2000)]
    );
    assert_eq!(fake.position(SYMBOL), -1000);
    assert_eq!(fake.executed_position(SYMBOL), -1000);
}

#[tokio::test]
async fn a_liquidation_forces_the_position_to_zero_and_is_journaled() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    client
        .place_order(&order(Side::Sell, 4000, "cm-liq"))
        .await
        .expect("placed");
    let liquidation = fake.liquidate(SYMBOL).expect("a position to liquidate");
    assert_eq!(
        (liquidation.kind, liquidation.side.as_str(), liquidation.qty),
        (ExecKind::Liquidation, "Buy", 4000)
    );
    assert_eq!(client.position(SYMBOL).await.expect("position"), 0);
    assert_eq!(fake.executed_position(SYMBOL), 0);
    assert!(
        fake.liquidate(SYMBOL).is_none(),
        "nothing left to liquidate"
    );
    let listed = client
        .orders_since(SYMBOL, "", 0, 10)
        .await
        .expect("listed");
    assert_eq!(
        listed.len(),
        1,
        "the liquidation is no order of the account"
    );
}

#[tokio::test]
async fn hand_trades_are_listed_without_the_bot_s_id_and_journaled() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    client
        .place_order(&order(Side::Buy, 1000, "cm-h-1"))
        .await
        .expect("placed");
    fake.hand_trade(SYMBOL, "Sell", 3000).expect("hand trade");
    fake.set_position(SYMBOL, -1000); // and a change without any order
    let kinds: Vec<(ExecKind, i64)> = fake
        .executions(SYMBOL)
        .iter()
        .map(|e| (e.kind, e.signed_qty()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ExecKind::Order, 1000),
            (ExecKind::HandTrade, -3000),
            (ExecKind::HandTrade, 1000)
        ]
    );
    assert_eq!(fake.executed_position(SYMBOL), -1000);
    let ours = client
        .orders_since(SYMBOL, "cm-h-", 0, 10)
        .await
        .expect("listed");
    assert_eq!(
        ours.len(),
        1,
        "the hand trade does not carry the bot's prefix"
    );
    let everyone = client
        .orders_since(SYMBOL, "", 0, 10)
        .await
        .expect("listed");
    assert_eq!(everyone.len(), 2);
}

/// A signed `GET /order?<query>` sent by hand: the rows as JSON.
async fn signed_get_orders(fake: &FakeBitmex, query: &str) -> Vec<serde_json::Value> {
    let path = format!("/api/v1/order?{query}");
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 10;
    let sig = signature(&ApiSecret::new(TEST_API_SECRET), "GET", &path, expires, "");
    let answer = reqwest::Client::new()
        .get(format!("http://{}{path}", fake.addr()))
        .header("api-key", TEST_API_KEY)
        .header("api-expires", expires.to_string())
        .header("api-signature", sig)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 200, "GET {path}");
    answer.json().await.expect("JSON rows")
}

#[tokio::test]
async fn get_order_filters_open_orders_and_by_time_as_the_spec_documents() {
    let fake = fake().await;
    fake.fill_partially(1000, Remainder::Resting, 1);
    let working = fake
        .place_direct(SYMBOL, "Buy", 2000, "cm-f-1")
        .expect("working");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let later = fake
        .place_direct(SYMBOL, "Buy", 1000, "cm-f-2")
        .expect("filled");
    let open = signed_get_orders(&fake, "filter=%7B%22open%22%3Atrue%7D").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["orderID"], working.order_id.as_str());
    assert_eq!(open[0]["leavesQty"], 1000);
    let closed = signed_get_orders(&fake, "filter=%7B%22open%22%3Afalse%7D").await;
    assert_eq!(closed.len(), 1);
    let by_id = signed_get_orders(&fake, "filter=%7B%22clOrdID%22%3A%22cm-f-2%22%7D").await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0]["orderID"], later.order_id.as_str());
    let start = maestro_tests::fake_bitmex::iso(later.timestamp_ms);
    let since = signed_get_orders(&fake, &format!("startTime={start}")).await;
    assert_eq!(since.len(), 1, "startTime bounds the timestamp, inclusive");
    let until = signed_get_orders(&fake, &format!("endTime={start}&reverse=true&count=1")).await;
    assert_eq!(until.len(), 1);
    assert_eq!(
        until[0]["clOrdID"], "cm-f-2",
        "newest first within the bound"
    );
}
