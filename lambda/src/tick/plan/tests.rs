//! The planner as tables: one row per case, the real-money scenarios among them.

use super::*;

const NOW: i64 = 1_700_000_000_000;
const LOT: u64 = 1000;

fn intent(side: Side, qty: u64) -> OrderIntent {
    OrderIntent {
        cl_ord_id: "cm-intent".to_owned(),
        side,
        qty,
        reduce_only: false,
        close: false,
        target: 0,
        decided_at_ms: NOW - 60_000,
        saved_at_ms: NOW - 60_000,
    }
}

fn found(side: Side, qty: u64, filled: u64, status: &str) -> PlacedOrder {
    PlacedOrder {
        order_id: "o-1".to_owned(),
        cl_ord_id: "cm-intent".to_owned(),
        symbol: "LTCUSDT".to_owned(),
        side,
        qty,
        filled_qty: filled,
        avg_price: None,
        status: status.to_owned(),
        leaves_qty: if matches!(status, "New" | "PartiallyFilled") {
            qty - filled
        } else {
            0
        },
        timestamp_ms: NOW - 30_000,
    }
}

fn buy(qty: u64) -> Option<Order> {
    Some(Order {
        side: Side::Buy,
        qty,
        reduce_only: false,
    })
}

fn sell(qty: u64) -> Option<Order> {
    Some(Order {
        side: Side::Sell,
        qty,
        reduce_only: false,
    })
}

/// A running bot, flat, expecting flat, strategy established with nothing to do.
fn base() -> Situation<'static> {
    Situation {
        now_ms: NOW,
        paused: false,
        flatten: false,
        dry_run: false,
        position: 0,
        expected: Some(0),
        pending: None,
        pending_saved_ms: NOW - 60_000,
        symbol: "LTCUSDT",
        wanted: Wanted {
            established: true,
            order: None,
        },
        activity: Activity::default(),
        limits: Limits::for_bot(LOT, 60_000),
    }
}

fn action(s: &Situation<'_>) -> Action {
    plan(s).action
}

#[test]
fn without_a_pending_intent_the_strategy_decides() {
    let nothing = Action::Nothing("the position matches the target");
    let cases: &[(&str, Situation<'static>, Action)] = &[
        ("flat and content", base(), nothing.clone()),
        (
            "golden cross",
            Situation {
                wanted: Wanted {
                    established: true,
                    order: buy(LOT),
                },
                ..base()
            },
            Action::Send(buy(LOT).expect("order")),
        ),
        (
            "re-warming holds whatever the order would be",
            Situation {
                position: 1000,
                expected: Some(1000),
                wanted: Wanted {
                    established: false,
                    order: sell(1000),
                },
                ..base()
            },
            Action::Nothing("no established direction yet: holding the position"),
        ),
        (
            "paused sends nothing",
            Situation {
                paused: true,
                wanted: Wanted {
                    established: true,
                    order: buy(LOT),
                },
                ..base()
            },
            Action::Nothing("paused: no orders"),
        ),
        (
            "dry run records",
            Situation {
                dry_run: true,
                wanted: Wanted {
                    established: true,
                    order: sell(LOT),
                },
                ..base()
            },
            Action::Record(sell(LOT).expect("order")),
        ),
    ];
    for (name, s, want) in cases {
        assert_eq!(&action(s), want, "{name}");
        assert_eq!(plan(s).fate, Fate::None, "{name}");
    }
}

#[test]
fn a_known_intent_is_placed_and_counted() {
    let buy_intent = intent(Side::Buy, 2000);
    let sell_intent = intent(Side::Sell, 2000);
    let filled_buy = found(Side::Buy, 2000, 2000, "Filled");
    let part_sell = found(Side::Sell, 2000, 1000, "Canceled");
    let rejected = found(Side::Buy, 2000, 0, "Rejected");
    let open = found(Side::Buy, 2000, 1000, "PartiallyFilled");
    let cases: &[(&str, &OrderIntent, &PlacedOrder, i64, Fate, i64)] = &[
        (
            "filled buy: +2000",
            &buy_intent,
            &filled_buy,
            2000,
            Fate::Placed {
                filled: 2000,
                rejected: false,
            },
            2000,
        ),
        (
            "partly filled sell, rest cancelled: -1000",
            &sell_intent,
            &part_sell,
            -1000,
            Fate::Placed {
                filled: -1000,
                rejected: false,
            },
            -1000,
        ),
        (
            "rejected: nothing moved",
            &buy_intent,
            &rejected,
            0,
            Fate::Placed {
                filled: 0,
                rejected: true,
            },
            0,
        ),
        (
            "still working: kept",
            &buy_intent,
            &open,
            1000,
            Fate::Keep,
            0,
        ),
    ];
    for &(name, intent, order, position, ref fate, expected) in cases {
        let s = Situation {
            position,
            pending: Some((intent, Some(order))),
            ..base()
        };
        let p = plan(&s);
        assert_eq!(&p.fate, fate, "{name}");
        assert_eq!(p.expected, expected, "{name}: expected position");
        if *fate == Fate::Keep {
            assert_eq!(
                p.action,
                Action::Wait("the pending order is not settled on the exchange yet"),
                "{name}"
            );
        } else {
            assert_eq!(
                p.action,
                Action::Nothing("the position matches the target"),
                "{name}: the position is what the fills explain"
            );
        }
    }
}

#[test]
fn an_order_under_the_intents_id_that_is_not_the_intent_stops_the_bot() {
    let i = intent(Side::Buy, 2000);
    let mut other_symbol = found(Side::Buy, 2000, 2000, "Filled");
    other_symbol.symbol = "XBTUSD".to_owned();
    let cases = [
        ("other side", found(Side::Sell, 2000, 2000, "Filled")),
        ("other quantity", found(Side::Buy, 1000, 1000, "Filled")),
        ("other symbol", other_symbol),
    ];
    for (name, order) in &cases {
        let s = Situation {
            pending: Some((&i, Some(order))),
            ..base()
        };
        let p = plan(&s);
        assert!(
            matches!(p.action, Action::Stop(StopReason::IntentMismatch { .. })),
            "{name}: {p:?}"
        );
        assert_eq!(
            p.fate,
            Fate::Keep,
            "{name}: the intent is kept for a trader to see"
        );
    }
    // A close order's quantity is whatever the position was: only its side must match.
    let mut close = intent(Side::Sell, 0);
    close.close = true;
    let closed = found(Side::Sell, 1000, 1000, "Filled");
    let s = Situation {
        position: 0,
        expected: Some(1000),
        pending: Some((&close, Some(&closed))),
        ..base()
    };
    assert_eq!(
        plan(&s).fate,
        Fate::Placed {
            filled: -1000,
            rejected: false
        }
    );
    let text = StopReason::IntentMismatch {
        found: "XBTUSD Buy 2000 (Filled)".to_owned(),
    }
    .to_string();
    assert!(text.contains("XBTUSD Buy 2000 (Filled)"), "{text}");
}

#[test]
fn an_unknown_intent_is_waited_for_until_settled_then_planned_again() {
    let i = intent(Side::Buy, 1000);
    let cases = [
        (SETTLE_MS - 1, Fate::Keep),
        (SETTLE_MS, Fate::Dropped),
        (10 * SETTLE_MS, Fate::Dropped),
    ];
    for (age, fate) in cases {
        let s = Situation {
            pending: Some((&i, None)),
            pending_saved_ms: NOW - age,
            wanted: Wanted {
                established: true,
                order: buy(1000),
            },
            ..base()
        };
        let p = plan(&s);
        assert_eq!(p.fate, fate, "age {age}");
        let want = if fate == Fate::Keep {
            Action::Wait("the pending order is not settled on the exchange yet")
        } else {
            // Planned again from the current position: a new order, not the old intent re-sent.
            Action::Send(buy(1000).expect("order"))
        };
        assert_eq!(p.action, want, "age {age}");
    }
}

#[test]
fn a_stale_intent_after_a_hand_close_is_not_sent() {
    // At +1000 with "Sell 2000" pending (it never reached the exchange), the trader closed the
    // position by hand: the bot must neither sell 2000 nor reverse on its own.
    let stale = intent(Side::Sell, 2000);
    let s = Situation {
        position: 0,
        expected: Some(1000),
        pending: Some((&stale, None)),
        wanted: Wanted {
            established: true,
            order: sell(1000),
        },
        ..base()
    };
    let p = plan(&s);
    assert_eq!(p.fate, Fate::Dropped);
    assert_eq!(
        p.action,
        Action::Stop(StopReason::PositionChanged {
            expected: 1000,
            actual: 0
        })
    );
}

#[test]
fn a_position_the_bot_did_not_make_stops_it_unless_it_has_no_baseline() {
    let changed = Situation {
        position: 0,
        expected: Some(-1000),
        wanted: Wanted {
            established: true,
            order: sell(1000),
        },
        ..base()
    };
    let p = plan(&changed);
    assert_eq!(
        p.action,
        Action::Stop(StopReason::PositionChanged {
            expected: -1000,
            actual: 0
        })
    );
    let text = StopReason::PositionChanged {
        expected: -1000,
        actual: 0,
    }
    .to_string();
    assert!(
        text.contains("is 0") && text.contains("explain -1000"),
        "{text}"
    );
    // No baseline (first tick, or just resumed): the exchange's position is taken as it is.
    let fresh = Situation {
        expected: None,
        position: 3000,
        ..changed
    };
    let p = plan(&fresh);
    assert_eq!(p.expected, 3000);
    assert_eq!(p.action, Action::Send(sell(1000).expect("order")));
    // Dry run keeps its own simulated position: nothing external can move it.
    let dry = Situation {
        dry_run: true,
        ..changed
    };
    assert_eq!(action(&dry), Action::Record(sell(1000).expect("order")));
}

#[test]
fn a_flatten_closes_every_tick_until_flat_whatever_the_strategy_wants() {
    let flat = Situation {
        flatten: true,
        paused: true,
        wanted: Wanted {
            established: true,
            order: buy(1000),
        },
        ..base()
    };
    let cases: &[(i64, bool, Action)] = &[
        (0, false, Action::Nothing("flat: the flatten is done")),
        (2000, false, Action::Close(Side::Sell)),
        (-3000, false, Action::Close(Side::Buy)),
        (
            2000,
            true,
            Action::Record(Order {
                side: Side::Sell,
                qty: 2000,
                reduce_only: true,
            }),
        ),
        (
            -3000,
            true,
            Action::Record(Order {
                side: Side::Buy,
                qty: 3000,
                reduce_only: true,
            }),
        ),
    ];
    for &(position, dry_run, ref want) in cases {
        let s = Situation {
            position,
            expected: Some(position),
            dry_run,
            ..flat
        };
        assert_eq!(&action(&s), want, "position {position}, dry run {dry_run}");
    }
    // A flatten closes what the account holds, even a position the bot did not make, and takes
    // it as the new baseline.
    let foreign = Situation {
        position: 2000,
        expected: Some(1000),
        ..flat
    };
    let p = plan(&foreign);
    assert_eq!(p.action, Action::Close(Side::Sell));
    assert_eq!(p.expected, 2000);
    // A paused bot (no flatten) is not stopped by a trade made by hand while it is paused.
    let paused = Situation {
        flatten: false,
        ..foreign
    };
    assert_eq!(action(&paused), Action::Nothing("paused: no orders"));
    // A flatten still waits for an unsettled order of the bot's, so it cannot race it.
    let i = intent(Side::Buy, 1000);
    let racing = Situation {
        position: 1000,
        expected: Some(1000),
        pending: Some((&i, None)),
        pending_saved_ms: NOW,
        ..flat
    };
    assert_eq!(
        action(&racing),
        Action::Wait("the pending order is not settled on the exchange yet")
    );
}

#[test]
fn the_breaker_stops_at_each_limit_exactly() {
    let limits = Limits {
        max_rejections: 3,
        max_orders_per_hour: 6,
        max_volume_per_day: 10_000,
    };
    let go = Action::Send(buy(1000).expect("order"));
    let cases: &[(Activity, Action)] = &[
        (Activity::default(), go.clone()),
        (
            Activity {
                rejections: 2,
                orders_last_hour: 5,
                volume_last_day: 9_000,
            },
            go.clone(),
        ),
        (
            Activity {
                rejections: 3,
                ..Activity::default()
            },
            Action::Stop(StopReason::Rejections(3)),
        ),
        (
            Activity {
                orders_last_hour: 6,
                ..Activity::default()
            },
            Action::Stop(StopReason::OrderRate(6)),
        ),
        (
            Activity {
                volume_last_day: 9_001,
                ..Activity::default()
            },
            Action::Stop(StopReason::Volume(9_001)),
        ),
    ];
    for (activity, want) in cases {
        let s = Situation {
            activity: *activity,
            limits,
            wanted: Wanted {
                established: true,
                order: buy(1000),
            },
            ..base()
        };
        assert_eq!(&action(&s), want, "{activity:?}");
    }
    for (reason, text) in [
        (StopReason::Rejections(3), "3 orders rejected in a row"),
        (StopReason::OrderRate(6), "6 orders in the last hour"),
        (StopReason::Volume(9), "9 contracts traded in the last day"),
    ] {
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn a_rejection_counts_toward_the_breaker_in_the_same_tick_and_a_placed_order_resets_it() {
    let i = intent(Side::Buy, 1000);
    let rejected = found(Side::Buy, 1000, 0, "Rejected");
    let filled = found(Side::Buy, 1000, 1000, "Filled");
    let s = Situation {
        pending: Some((&i, Some(&rejected))),
        activity: Activity {
            rejections: 2,
            ..Activity::default()
        },
        wanted: Wanted {
            established: true,
            order: buy(1000),
        },
        ..base()
    };
    let p = plan(&s);
    assert_eq!(p.rejections, 3);
    assert_eq!(p.action, Action::Stop(StopReason::Rejections(3)));
    let s = Situation {
        pending: Some((&i, Some(&filled))),
        position: 1000,
        ..s
    };
    let p = plan(&s);
    assert_eq!(p.rejections, 0);
    assert_eq!(p.action, Action::Send(buy(1000).expect("order")));
    // Nothing pending: the count stands.
    let s = Situation {
        activity: Activity {
            rejections: 1,
            ..Activity::default()
        },
        ..base()
    };
    assert_eq!(plan(&s).rejections, 1);
}

#[test]
fn limits_scale_with_the_bar_and_never_drop_below_six_orders_an_hour() {
    let cases = [
        (60_000, 30, 240_000),
        (300_000, 6, 48_000),
        (3_600_000, 6, 48_000),
        (86_400_000, 6, 48_000),
        (0, 6, 48_000),
        (-60_000, 6, 48_000),
    ];
    for (bin_ms, per_hour, per_day) in cases {
        assert_eq!(
            Limits::for_bot(1000, bin_ms),
            Limits {
                max_rejections: 3,
                max_orders_per_hour: per_hour,
                max_volume_per_day: per_day,
            },
            "bin {bin_ms} ms"
        );
    }
    assert_eq!(
        Limits::for_bot(u64::MAX, 60_000).max_volume_per_day,
        u64::MAX
    );
}

#[test]
fn fills_too_large_for_a_position_saturate_instead_of_wrapping() {
    let i = intent(Side::Buy, u64::MAX);
    let huge = found(Side::Buy, u64::MAX, u64::MAX, "Filled");
    let s = Situation {
        pending: Some((&i, Some(&huge))),
        expected: Some(1),
        position: i64::MAX,
        ..base()
    };
    let p = plan(&s);
    assert_eq!(
        p.fate,
        Fate::Placed {
            filled: i64::MAX,
            rejected: false
        }
    );
    assert_eq!(p.expected, i64::MAX);
}
