//! The ledger against hand-computed tables: long, short, flip, partial close, fees.

use super::*;

fn fill(side: Side, qty: u64, price: i64, fee: i128) -> Fill {
    Fill {
        side,
        qty,
        price,
        fee,
    }
}

use Side::{Buy, Sell};

struct Case {
    name: &'static str,
    fills: &'static [(Side, u64, i64, i128)],
    mark: i64,
    position: i128,
    realised: i128,
    unrealised: i128,
    fees: i128,
}

const CASES: &[Case] = &[
    Case {
        name: "long, closed higher",
        fills: &[(Buy, 10, 1000, 0), (Sell, 10, 1200, 0)],
        mark: 5000,
        position: 0,
        realised: 10 * 200,
        unrealised: 0,
        fees: 0,
    },
    Case {
        name: "long, closed lower",
        fills: &[(Buy, 5, 1000, 0), (Sell, 5, 900, 0)],
        mark: 5000,
        position: 0,
        realised: -500,
        unrealised: 0,
        fees: 0,
    },
    Case {
        name: "short, bought back lower",
        fills: &[(Sell, 10, 1000, 0), (Buy, 10, 900, 0)],
        mark: 1,
        position: 0,
        realised: 1000,
        unrealised: 0,
        fees: 0,
    },
    Case {
        name: "open long, marked",
        fills: &[(Buy, 3, 1000, 0)],
        mark: 1100,
        position: 3,
        realised: 0,
        unrealised: 300,
        fees: 0,
    },
    Case {
        name: "open short, marked",
        fills: &[(Sell, 4, 1000, 0)],
        mark: 1100,
        position: -4,
        realised: 0,
        unrealised: -400,
        fees: 0,
    },
    Case {
        // Closes the 10 long (+100 each), opens 20 short at 1100: marked at 1000 that is +100 each.
        name: "flip long to short",
        fills: &[(Buy, 10, 1000, 0), (Sell, 30, 1100, 0)],
        mark: 1000,
        position: -20,
        realised: 1000,
        unrealised: 2000,
        fees: 0,
    },
    Case {
        name: "flip short to long",
        fills: &[(Sell, 2, 1000, 0), (Buy, 5, 1050, 0)],
        mark: 1000,
        position: 3,
        realised: -100,
        unrealised: -150,
        fees: 0,
    },
    Case {
        // First in, first out: the 10 at 1000 close first (+300 each), then 5 of the 10 at 1200
        // (+100 each); 5 stay open at 1200.
        name: "partial close of two lots",
        fills: &[(Buy, 10, 1000, 0), (Buy, 10, 1200, 0), (Sell, 15, 1300, 0)],
        mark: 1100,
        position: 5,
        realised: 3000 + 500,
        unrealised: -500,
        fees: 0,
    },
    Case {
        name: "fees add up, rebates count against them",
        fills: &[(Buy, 10, 1000, 7), (Sell, 4, 1000, 3), (Sell, 6, 1000, -2)],
        mark: 1000,
        position: 0,
        realised: 0,
        unrealised: 0,
        fees: 8,
    },
];

#[test]
fn the_ledger_matches_hand_computed_cases() {
    for case in CASES {
        let mut ledger = Ledger::default();
        for (side, qty, price, fee) in case.fills {
            ledger.update(&fill(*side, *qty, *price, *fee));
        }
        let name = case.name;
        assert_eq!(ledger.position(), case.position, "{name}: position");
        assert_eq!(ledger.realised(), case.realised, "{name}: realised");
        assert_eq!(
            ledger.unrealised(case.mark),
            case.unrealised,
            "{name}: unrealised at {}",
            case.mark
        );
        assert_eq!(ledger.fees(), case.fees, "{name}: fees");
        assert_eq!(ledger.fills() as usize, case.fills.len(), "{name}: fills");
    }
}

#[test]
fn fees_are_notional_times_rate_rounded_against_the_bot() {
    // 10 contracts at 100.00 (1 000 000 sub-ticks of 0.01) at 5 bp.
    assert_eq!(fee_units(10, 1_000_000, 500), 5000);
    assert_eq!(fee_units(1, 3, 500), 1, "0.0015 of a unit rounds up");
    assert_eq!(
        fee_units(1, 3, -500),
        0,
        "a rebate of 0.0015 rounds to none"
    );
    assert_eq!(fee_units(1, 3_000, -500), -1, "a whole unit of rebate");
    assert_eq!(fee_units(0, 1_000_000, 500), 0);
    assert_eq!(
        fee_units(u64::MAX, i64::MAX, 999_999),
        i128::MAX / 1_000_000 + 1,
        "saturates at the extremes rather than overflow"
    );
}

#[test]
fn prices_become_sub_ticks_at_the_edge() {
    let cent = TickSize::CENT;
    assert_eq!(price_units(100.0, cent), Some(100_000_000));
    assert_eq!(price_units(100.005, cent), Some(100_005_000), "half a tick");
    assert_eq!(price_units(0.01, cent), Some(PRICE_SCALE));
    assert_eq!(price_units(0.0, cent), None);
    assert_eq!(price_units(-1.0, cent), None);
    assert_eq!(price_units(f64::NAN, cent), None);
    assert_eq!(price_units(f64::INFINITY, cent), None);
    assert_eq!(price_units(1e300, cent), None);
    let half = TickSize::new(5, 1).expect("0.5");
    assert_eq!(price_units(2.0, half), Some(4 * PRICE_SCALE));
    // A tick of PRICE_SCALE makes a price its own sub-ticks, exactly: 2^63 does not fit an i64.
    let whole = TickSize::new(PRICE_SCALE as u32, 0).expect("10000");
    assert_eq!(price_units(2f64.powi(62), whole), Some(1 << 62));
    assert_eq!(price_units(2f64.powi(63), whole), None, "2^63 sub-ticks");
    assert_eq!(ticks_to_units(123), 123 * i128::from(PRICE_SCALE));
}

#[test]
fn rates_and_display() {
    assert_eq!(rate_ppm(0.0005), Some(500));
    assert_eq!(rate_ppm(-0.0001), Some(-100));
    assert_eq!(rate_ppm(1.0), None);
    assert_eq!(rate_ppm(f64::NAN), None);
    // One LTCUSDT contract (0.0001 LTC) bought at 100 and sold at 101: 0.0001 USDT.
    let mut ledger = Ledger::default();
    let cent = TickSize::CENT;
    let at = |p: f64| price_units(p, cent).expect("price");
    ledger.update(&fill(Buy, 1, at(100.0), 0));
    ledger.update(&fill(Sell, 1, at(101.0), 0));
    let usdt = to_quote(ledger.realised(), cent, Some(10_000.0));
    assert!((usdt - 0.0001).abs() < 1e-12, "{usdt}");
    assert!((to_quote(100 * PRICE_SCALE as i128, cent, None) - 1.0).abs() < 1e-12);
    // A multiplier the exchange sends that makes no sense counts as 1, never a division by it.
    for bad in [0.0, -10_000.0, f64::INFINITY, f64::NAN] {
        let q = to_quote(100 * PRICE_SCALE as i128, cent, Some(bad));
        assert!((q - 1.0).abs() < 1e-12, "multiplier {bad}: {q}");
    }
}

/// Whatever the order of matching, realised plus unrealised is the cash flow: what the position
/// is worth at the mark minus what the fills paid for it. Checked on many pseudo-random sequences
/// (a fixed-seed generator, so a failure repeats).
#[test]
fn realised_plus_unrealised_is_the_cash_flow() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for case in 0..2_000 {
        let mut ledger = Ledger::default();
        let (mut position, mut paid) = (0i128, 0i128);
        for _ in 0..=next(12) {
            let side = if next(2) == 0 { Buy } else { Sell };
            let qty = next(5_000);
            let price = 1 + next(2_000_000) as i64;
            ledger.update(&fill(side, qty, price, 0));
            let signed = match side {
                Buy => i128::from(qty),
                Sell => -i128::from(qty),
            };
            position += signed;
            paid += signed * i128::from(price);
        }
        let mark = 1 + next(2_000_000) as i64;
        assert_eq!(ledger.position(), position, "case {case}: position");
        assert_eq!(
            ledger.realised() + ledger.unrealised(mark),
            position * i128::from(mark) - paid,
            "case {case}: realised + unrealised against the cash flow"
        );
    }
}
