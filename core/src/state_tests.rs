use super::*;
// The snapshot tests' fixtures: the state is the snapshot without its parameters.
use crate::crossover::Guards;
use crate::snapshot::tests::{after, bar, encode as snapshot, params};
use crate::strategy::Mode;
use proptest::prelude::{prop_assert_eq, proptest};

fn state<const CAP: usize>(s: &Strategy<CAP>) -> std::string::String {
    let mut buf = [0u8; 4096];
    let n = s.encode_state(&mut buf).unwrap();
    std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn state_text_is_what_the_docs_say_and_holds_no_params() {
    let text = state(&after(5));
    assert_eq!(
        text,
        r#"{"v":1,"closes":[103,110,106,102],"short_sum":208,"long_sum":421,"last_close_ms":300000,"regime":null,"pending":"Bearish","streak":1,"since_flip":2,"target":0}"#
    );
    assert!(text.len() <= Strategy::<8>::MAX_STATE_LEN);
}

#[test]
fn restore_gives_the_same_strategy_as_the_snapshot() {
    for n in 0..=12 {
        let s = after(n);
        let back = Strategy::<8>::restore_state(params(), state(&s).as_bytes()).unwrap();
        // The full snapshot covers every field, so equal snapshots mean equal strategies.
        assert_eq!(snapshot(&back), snapshot(&s), "after {n} bars");
        // A larger capacity restores the same state.
        let wide = Strategy::<64>::restore_state(params(), state(&s).as_bytes()).unwrap();
        assert_eq!(state(&wide), state(&s), "capacity 64 after {n} bars");
    }
}

#[test]
fn a_state_that_does_not_fit_the_params_is_refused() {
    use SnapshotError as E;
    let good = state(&after(9));
    let with = |change: fn(&mut Params)| {
        let mut p = params();
        change(&mut p);
        Strategy::<8>::restore_state(p, good.as_bytes()).err()
    };
    assert_eq!(with(|_| {}), None);
    assert_eq!(
        with(|p| p.long_window = 5),
        Some(E::Inconsistent),
        "a regime before a longer window is full"
    );
    assert_eq!(
        with(|p| p.short_window = 3),
        Some(E::SumMismatch),
        "other short window"
    );
    assert_eq!(
        with(|p| p.qty = 1500),
        Some(E::Params(crate::ParamsError::QtyNotPositiveLotMultiple)),
        "qty"
    );
    assert_eq!(
        with(|p| p.short_window = 0),
        Some(E::Params(crate::ParamsError::ShortWindowZero))
    );
    assert_eq!(
        with(|p| p.mode = Mode::LongOnly),
        Some(E::Inconsistent),
        "target of another mode"
    );
    assert_eq!(
        Strategy::<3>::restore_state(params(), state(&after(2)).as_bytes()).err(),
        Some(E::Params(crate::ParamsError::LongAboveCapacity {
            long: 4,
            capacity: 3
        }))
    );
}

#[test]
fn corrupt_states_are_refused() {
    use SnapshotError as E;
    let good = state(&after(9));
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from} not in {good}");
        good.replacen(from, to, 1)
    };
    let cases: std::vec::Vec<(&str, std::string::String, SnapshotError)> = std::vec![
        (
            "other version",
            edit(r#"{"v":1"#, r#"{"v":2"#),
            E::UnsupportedVersion(2)
        ),
        (
            "other version in another layout",
            r#"{"v":2,"closes":"elsewhere"}"#.into(),
            E::UnsupportedVersion(2)
        ),
        ("a full snapshot", snapshot(&after(9)), E::Malformed),
        (
            "close above the largest price",
            edit("[", &std::format!("[{},", crate::price::MAX_TICKS + 1)),
            E::BadClose
        ),
        (
            "unknown field",
            edit(r#""target""#, r#""tarjet""#),
            E::Malformed
        ),
        ("truncated", good[..good.len() - 1].into(), E::Malformed),
        ("zero close", edit("[", "[0,"), E::BadClose),
        (
            "sum off by one",
            edit(r#""long_sum":"#, r#""long_sum":1"#),
            E::SumMismatch
        ),
        (
            "target of the other side",
            edit(r#""target":-1000"#, r#""target":1000"#),
            E::Inconsistent
        ),
        (
            "no time with closes",
            edit(r#""last_close_ms":"#, r#""last_close_ms":null,"x":"#),
            E::Malformed
        ),
        ("hostile nesting", "[".repeat(10_000), E::Malformed),
    ];
    for (what, text, want) in cases {
        assert_eq!(
            Strategy::<8>::restore_state(params(), text.as_bytes()).err(),
            Some(want),
            "{what}: {text}"
        );
    }
}

#[test]
fn small_buffers_are_an_error() {
    let s = after(9);
    let n = state(&s).len();
    let mut buf = [0u8; 4096];
    assert_eq!(
        s.encode_state(&mut buf[..n - 1]),
        Err(SnapshotError::BufferTooSmall)
    );
    assert_eq!(s.encode_state(&mut buf[..n]), Ok(n));
}

proptest! {
    /// Restoring the state at any point continues exactly as the original strategy would.
    #[test]
    fn restored_strategies_continue_identically(
        closes in proptest::collection::vec(1i64..200, 0..40),
        cut in 0usize..40,
        confirm in 0u32..4,
        hold in 0u32..4,
        band in 0u32..300,
    ) {
        let mut p = params();
        p.guards = Guards { hysteresis_bp: band, confirm_bars: confirm, min_hold_bars: hold };
        let mut orig = Strategy::<8>::new(p).unwrap();
        let cut = cut.min(closes.len());
        for (i, &c) in closes[..cut].iter().enumerate() {
            orig.on_candle(&bar(i as i64 + 1, c)).unwrap();
        }
        let mut back = Strategy::<8>::restore_state(p, state(&orig).as_bytes()).unwrap();
        prop_assert_eq!(snapshot(&back), snapshot(&orig));
        for (i, &c) in closes.iter().enumerate().skip(cut) {
            let candle = bar(i as i64 + 1, c);
            prop_assert_eq!(back.on_candle(&candle), orig.on_candle(&candle));
            prop_assert_eq!(back.target_position(), orig.target_position());
        }
    }
}
