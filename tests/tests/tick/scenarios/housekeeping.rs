//! Scenario 6: housekeeping touches the bot's own orders only. The trader's resting orders
//! survive every tick and a flatten; nothing account-wide (cancel-all, the dead-man's switch) is
//! ever asked for; a stray working order of the bot's own is cancelled after its next order.

use super::*;
use maestro_lambda::store::StateStore;
use maestro_lambda::tick::cl_ord_id;
use maestro_tests::fake_bitmex::Remainder;

/// The clOrdIDs a `DELETE /order` request named.
fn cancelled_ids(request: &maestro_tests::fake_bitmex::RecordedRequest) -> Vec<String> {
    let ids = request.param("clOrdID").unwrap_or_default();
    serde_json::from_str(&ids).unwrap_or_else(|_| vec![ids])
}

/// The status of the order with this clOrdID or orderID.
fn status_of<S: StateStore>(h: &Harness<S>, id: &str) -> Option<String> {
    h.orders()
        .into_iter()
        .find(|o| o.cl_ord_id == id || o.order_id == id)
        .map(|o| o.ord_status)
}

async fn only_the_bots_own_orders_are_cancelled<S: StateStore>(
    mut h: Harness<S>,
    mode: IdReuse,
    flip: usize,
) {
    // The trader's stop-loss and take-profit, placed by hand.
    let stop = h.fake.add_resting_order(SYMBOL, "Buy", LOT, 150.0);
    let take = h.fake.add_resting_order(SYMBOL, "Buy", LOT, 50.0);
    // A market order of the bot's own, half filled and left working by a process that died.
    h.fake.fill_partially(LOT, Remainder::Resting, 1);
    let stray = cl_ord_id(BOT_ID);
    let placed = h
        .fake
        .place_direct(SYMBOL, "Sell", 2 * LOT, &stray)
        .expect("the stray order");
    assert_eq!(placed.ord_status, "PartiallyFilled");
    assert_eq!(h.position(), -LOT);

    // The first regime (long, from -1000 taken as it is), then the flip and a flatten.
    h.tick_ok().await;
    assert_eq!(h.position(), LOT, "{mode:?}");
    assert_eq!(
        status_of(&h, &stray).as_deref(),
        Some("Canceled"),
        "{mode:?}: the stray is cancelled after the bot's order"
    );
    assert_eq!(
        executed_qty(&h, &stray),
        LOT,
        "{mode:?}: its rest never filled"
    );
    tick_to(&mut h, flip).await;
    assert_eq!(h.position(), -LOT, "{mode:?}");
    let flatten = command(&h, "flatten", h.now_ms() + 1_000).await;
    assert_eq!(flatten.status, 200, "{mode:?}: {flatten:?}");
    assert_eq!(h.position(), 0, "{mode:?}");
    h.advance(1);
    h.tick_ok().await;

    for id in [&stop, &take] {
        assert_eq!(
            status_of(&h, id).as_deref(),
            Some("New"),
            "{mode:?}: the trader's order {id} is untouched"
        );
    }
    for route in [("DELETE", "/order/all"), ("POST", "/order/cancelAllAfter")] {
        assert!(
            h.fake.requests_to(route.0, route.1).is_empty(),
            "{mode:?}: {} {} was asked for",
            route.0,
            route.1
        );
    }
    let prefix = own_prefix(BOT_ID);
    let deletes = h.fake.requests_to("DELETE", "/order");
    assert!(
        !deletes.is_empty(),
        "{mode:?}: the stray was cancelled by id"
    );
    for request in &deletes {
        assert_eq!(request.param("orderID"), None, "{mode:?}: by clOrdID only");
        let ids = cancelled_ids(request);
        assert!(
            ids.iter().all(|id| id.starts_with(&prefix)),
            "{mode:?}: only the bot's own ids: {ids:?}"
        );
    }
    assert_journal_sound(&h, mode);
}

#[tokio::test]
async fn only_the_bots_own_orders_are_cancelled_dynamo() {
    let m = zigzag();
    for mode in MODES {
        let h = dynamo("s6-housekeeping", &m, mode).await;
        only_the_bots_own_orders_are_cancelled(h, mode, m.flips[0]).await;
    }
}

#[tokio::test]
async fn only_the_bots_own_orders_are_cancelled_file() {
    let m = zigzag();
    for mode in MODES {
        only_the_bots_own_orders_are_cancelled(file(&m, mode).await, mode, m.flips[0]).await;
    }
}
