//! `plan_order` invariants for any target, position, lot size and cap: the order is a positive
//! multiple of the lot, never overshoots the target, ends within one lot of it, and is
//! reduce-only exactly when it shrinks the position without crossing zero.
#![allow(clippy::unwrap_used)]

use maestro_core::{Candle, Guards, Mode, Params, Price, Regime, Side, Step, Strategy};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

const BIN: i64 = 60_000;

fn flat(i: i64, p: i64) -> Candle {
    Candle {
        close_time_ms: BIN * i,
        open: Price(p),
        high: Price(p),
        low: Price(p),
        close: Price(p),
    }
}

/// A strategy whose regime is `regime` after three candles.
fn in_regime(params: Params, regime: Regime) -> Strategy<4> {
    let mut s = Strategy::<4>::new(params).unwrap();
    let last = if regime == Regime::Bullish { 200 } else { 50 };
    for (i, p) in [(1, 100), (2, 100), (3, last)] {
        let step = s.on_candle(&flat(i, p)).unwrap();
        if i == 3 {
            assert!(matches!(step, Step::Signal(sig) if sig.regime == regime));
        }
    }
    s
}

fn params() -> impl proptest::strategy::Strategy<Value = Params> {
    (1u64..5_000, 1u64..20, 1u64..40, 0usize..3).prop_map(|(lot, k, m, mode)| Params {
        short_window: 1,
        long_window: 2,
        mode: [Mode::LongShort, Mode::LongOnly, Mode::ShortOnly][mode],
        qty: lot * k,
        lot_size: lot,
        max_position: lot * m + lot / 2,
        bin_ms: BIN,
        guards: Guards::default(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn orders_move_towards_the_target_in_whole_lots(
        p in params(),
        bullish in any::<bool>(),
        current in prop_oneof![-200_000i64..200_000, any::<i64>()],
    ) {
        let regime = if bullish { Regime::Bullish } else { Regime::Bearish };
        let s = in_regime(p, regime);
        let target = s.target_position();
        let cap = (p.max_position / p.lot_size) * p.lot_size;
        prop_assert!(target.unsigned_abs() <= cap && target.unsigned_abs() <= p.qty);
        prop_assert_eq!(target.unsigned_abs(), match (p.mode, regime) {
            (Mode::LongOnly, Regime::Bearish) | (Mode::ShortOnly, Regime::Bullish) => 0,
            _ => p.qty.min(cap),
        });
        let gap = i128::from(target) - i128::from(current);
        match s.plan_order(current) {
            None => prop_assert!(gap.unsigned_abs() < u128::from(p.lot_size), "gap {} left", gap),
            Some(o) => {
                prop_assert!(o.qty > 0 && o.qty % p.lot_size == 0, "{:?}", o);
                let signed = match o.side { Side::Buy => i128::from(o.qty), Side::Sell => -i128::from(o.qty) };
                let after = i128::from(current) + signed;
                // Between current and target (inclusive), less than one lot short of the target.
                prop_assert!(
                    (i128::from(current).min(i128::from(target))..=i128::from(current).max(i128::from(target))).contains(&after),
                    "from {} by {:?} to {} past target {}", current, o, after, target
                );
                prop_assert!((i128::from(target) - after).unsigned_abs() < u128::from(p.lot_size));
                let shrinks = (current > 0 && after >= 0 && after < i128::from(current))
                    || (current < 0 && after <= 0 && after > i128::from(current));
                prop_assert_eq!(o.reduce_only, shrinks, "from {} by {:?}", current, o);
            }
        }
    }
}
