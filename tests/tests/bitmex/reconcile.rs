//! The calls a reconcile-first tick makes, against the fake BitMEX over real HTTP: the bot's
//! recent orders (`GET /order` over a window, paged, filtered by clOrdID prefix) and cancelling only
//! the bot's own orders (`DELETE /order` by clOrdID, 404 = already gone).

use maestro_lambda::bitmex::ORDERS_PAGE;
use maestro_lambda::exchange::{Exchange, PlacedOrder, Side};
use maestro_tests::fake_bitmex::{Fault, FaultRule, Remainder, parse_time};
use std::collections::BTreeSet;
use std::time::Duration;

use crate::orders_support::{SYMBOL, fake, order};

fn ids(orders: &[PlacedOrder]) -> Vec<&str> {
    orders.iter().map(|o| o.cl_ord_id.as_str()).collect()
}

#[tokio::test]
async fn orders_since_lists_only_the_bot_s_orders_in_the_window_oldest_first() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    let early = client
        .place_order(&order(Side::Buy, 1000, "cm-a-1"))
        .await
        .expect("placed");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let since = early.timestamp_ms + 1;
    tokio::time::sleep(Duration::from_millis(5)).await;
    fake.hand_trade(SYMBOL, "Buy", 1000).expect("hand trade");
    fake.place_direct(SYMBOL, "Sell", 1000, "cm-b-1")
        .expect("another bot");
    fake.place_direct(SYMBOL, "Buy", 2000, "cm-a-2")
        .expect("bot");
    fake.place_direct(SYMBOL, "Sell", 1000, "cm-a-3")
        .expect("bot");

    let all_ours = client
        .orders_since(SYMBOL, "cm-a-", 0, 100)
        .await
        .expect("listed");
    assert_eq!(ids(&all_ours), ["cm-a-1", "cm-a-2", "cm-a-3"]);
    let recent = client
        .orders_since(SYMBOL, "cm-a-", since, 100)
        .await
        .expect("listed");
    assert_eq!(
        ids(&recent),
        ["cm-a-2", "cm-a-3"],
        "the window starts at `since`"
    );
    let second = &recent[0];
    assert_eq!(
        (
            second.side,
            second.qty,
            second.filled_qty,
            second.leaves_qty
        ),
        (Side::Buy, 2000, 2000, 0)
    );
    assert_eq!(second.status, "Filled");
    assert!(!second.is_open());
    assert!(second.timestamp_ms >= since, "the order's time is read");
    assert!(!second.order_id.is_empty());
    let newest = client
        .orders_since(SYMBOL, "cm-a-", 0, 2)
        .await
        .expect("listed");
    assert_eq!(
        ids(&newest),
        ["cm-a-2", "cm-a-3"],
        "at most `max`, the newest"
    );

    let r = fake.requests_to("GET", "/order");
    let q = &r[1];
    assert_eq!(q.param("symbol").as_deref(), Some(SYMBOL));
    assert_eq!(q.param("reverse").as_deref(), Some("true"));
    assert_eq!(q.param("count"), Some(ORDERS_PAGE.to_string()));
    assert_eq!(
        q.param("startTime").and_then(|t| parse_time(&t)),
        Some(since),
        "startTime is the window's start"
    );
    assert_eq!(
        q.param("filter"),
        None,
        "the prefix is matched by the client"
    );
}

#[tokio::test]
async fn orders_since_pages_through_more_than_one_page() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    let total = ORDERS_PAGE + 40;
    for i in 0..total {
        let side = if i % 2 == 0 { "Buy" } else { "Sell" };
        fake.place_direct(SYMBOL, side, 1000, &format!("cm-p-{i}"))
            .expect("placed");
        if i % 3 == 0 {
            fake.hand_trade(SYMBOL, side, 1000).expect("hand trade");
        }
    }
    let listed = client
        .orders_since(SYMBOL, "cm-p-", 0, 10_000)
        .await
        .expect("listed");
    assert_eq!(listed.len(), total, "every bot order, across pages");
    let unique: BTreeSet<&str> = listed.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(unique.len(), total, "no order twice");
    assert_eq!(listed[0].cl_ord_id, "cm-p-0", "oldest first");
    assert_eq!(listed[total - 1].cl_ord_id, format!("cm-p-{}", total - 1));
    let pages = fake.requests_to("GET", "/order");
    let starts: Vec<Option<String>> = pages.iter().map(|r| r.param("start")).collect();
    assert_eq!(
        starts,
        [None, Some(ORDERS_PAGE.to_string())],
        "the second page starts where the first ended (more rows than bot orders)"
    );
}

#[tokio::test]
async fn a_503_on_the_listing_is_retried() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    fake.place_direct(SYMBOL, "Buy", 1000, "cm-r-1")
        .expect("placed");
    fake.inject(
        FaultRule::new(Fault::Overloaded)
            .times(2)
            .on("GET", "/order"),
    );
    let listed = client
        .orders_since(SYMBOL, "cm-r-", 0, 10)
        .await
        .expect("listed after retries");
    assert_eq!(ids(&listed), ["cm-r-1"]);
    let statuses: Vec<u16> = fake
        .requests_to("GET", "/order")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn cancel_orders_cancels_only_the_named_orders_and_404_is_not_an_error() {
    let fake = fake().await;
    let client = fake.client().expect("client");
    // A bot order left working after a partial fill, a filled one, and the trader's own order.
    fake.fill_partially(1000, Remainder::Resting, 1);
    let working = client
        .place_order(&order(Side::Buy, 3000, "cm-c-1"))
        .await
        .expect("placed");
    assert_eq!(
        (working.status.as_str(), working.leaves_qty),
        ("PartiallyFilled", 2000)
    );
    client
        .place_order(&order(Side::Buy, 1000, "cm-c-2"))
        .await
        .expect("placed");
    let trader_s = fake.add_resting_order(SYMBOL, "Sell", 1000, 200.0);

    let gone = client
        .cancel_orders(SYMBOL, &["cm-never-sent".into()])
        .await
        .expect("404 is not an error");
    assert!(gone.is_empty());
    assert_eq!(fake.requests_to("DELETE", "/order")[0].status, 404);

    let reported = client
        .cancel_orders(SYMBOL, &["cm-c-1".into(), "cm-c-2".into()])
        .await
        .expect("cancelled");
    let by_id: Vec<(&str, &str, u64)> = reported
        .iter()
        .map(|o| (o.cl_ord_id.as_str(), o.status.as_str(), o.filled_qty))
        .collect();
    assert_eq!(
        by_id,
        [("cm-c-1", "Canceled", 1000), ("cm-c-2", "Filled", 1000)],
        "the working one is cancelled, the filled one reported as it stands"
    );
    let sent = &fake.requests_to("DELETE", "/order")[1];
    assert_eq!(
        sent.param("clOrdID").as_deref(),
        Some(r#"["cm-c-1","cm-c-2"]"#)
    );
    assert_eq!(sent.param("orderID"), None);
    let open: Vec<String> = fake
        .open_orders(SYMBOL)
        .into_iter()
        .map(|o| o.order_id)
        .collect();
    assert_eq!(open, [trader_s], "the trader's own order is untouched");
    assert_eq!(fake.position(SYMBOL), 2000, "a cancel executes nothing");
    assert!(fake.requests_to("DELETE", "/order/all").is_empty());
}

#[tokio::test]
async fn a_batch_with_an_unknown_id_still_cancels_the_known_ones_whichever_way_bitmex_answers() {
    for all_or_nothing in [false, true] {
        let fake = fake().await;
        fake.set_cancel_all_or_nothing(all_or_nothing);
        let client = fake.client().expect("client");
        fake.fill_partially(1000, Remainder::Resting, 2);
        for id in ["cm-d-1", "cm-d-2"] {
            client
                .place_order(&order(Side::Sell, 2000, id))
                .await
                .expect("placed");
        }
        let reported = client
            .cancel_orders(
                SYMBOL,
                &["cm-d-1".into(), "cm-gone".into(), "cm-d-2".into()],
            )
            .await
            .expect("cancelled");
        assert_eq!(
            ids(&reported),
            ["cm-d-1", "cm-d-2"],
            "all_or_nothing={all_or_nothing}"
        );
        assert!(
            fake.open_orders(SYMBOL).is_empty(),
            "nothing left working (all_or_nothing={all_or_nothing})"
        );
        let statuses: Vec<u16> = fake
            .requests_to("DELETE", "/order")
            .iter()
            .map(|r| r.status)
            .collect();
        let want: &[u16] = if all_or_nothing {
            &[404, 200, 404, 200]
        } else {
            &[200]
        };
        assert_eq!(statuses, want, "all_or_nothing={all_or_nothing}");
    }
}
