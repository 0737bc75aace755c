use super::*;
use crate::candle::Candle;
use crate::crossover::Guards;
use crate::price::Price;
use crate::strategy::{Mode, Step};

const BIN: i64 = 60_000;

fn params() -> Params {
    Params {
        short_window: 2,
        long_window: 4,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: BIN,
        guards: Guards {
            hysteresis_bp: 0,
            confirm_bars: 2,
            min_hold_bars: 3,
        },
    }
}

fn bar(i: i64, p: i64) -> Candle {
    Candle {
        close_time_ms: BIN * i,
        open: Price(p),
        high: Price(p),
        low: Price(p),
        close: Price(p),
    }
}

fn encode<const CAP: usize>(s: &Strategy<CAP>) -> std::string::String {
    let mut buf = [0u8; 4096];
    let n = s.encode(&mut buf).unwrap();
    std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// A strategy after `n` bars of a zig-zag series.
fn after(n: i64) -> Strategy<8> {
    let mut s = Strategy::<8>::new(params()).unwrap();
    for i in 1..=n {
        s.on_candle(&bar(i, 100 + (i * 7) % 11)).unwrap();
    }
    s
}

#[test]
fn worst_case_size_is_documented_exactly() {
    const CAP: usize = 16;
    let mut smas = SmaPair::<CAP>::new(1, CAP);
    for _ in 0..CAP {
        smas.push(MAX_TICKS);
    }
    let widest = Params {
        short_window: u32::MAX,
        long_window: u32::MAX,
        mode: Mode::LongShort,
        qty: u64::MAX,
        lot_size: u64::MAX,
        max_position: u64::MAX,
        bin_ms: i64::MIN,
        guards: Guards {
            hysteresis_bp: u32::MAX,
            confirm_bars: u32::MAX,
            min_hold_bars: u32::MAX,
        },
    };
    let out = SnapOut {
        v: u32::MAX,
        params: &widest,
        closes: ClosesOut(&smas),
        short_sum: i64::MIN,
        long_sum: i64::MIN,
        last_close_ms: Some(i64::MIN),
        regime: Some(Regime::Bullish),
        pending: Some(Regime::Bearish),
        streak: u32::MAX,
        since_flip: u32::MAX,
        target: i64::MIN,
    };
    let mut buf = [0u8; 2 * Strategy::<CAP>::MAX_SNAPSHOT_LEN];
    let n = serde_json_core::to_slice(&out, &mut buf).unwrap();
    let max = Strategy::<CAP>::MAX_SNAPSHOT_LEN;
    assert!(
        n <= max,
        "worst case {n} bytes exceeds MAX_SNAPSHOT_LEN {max}"
    );
    assert_eq!(
        max - n,
        1,
        "MAX_SNAPSHOT_LEN should be tight (worst case {n}, bound {max})"
    );
    assert_eq!(Strategy::<50>::MAX_SNAPSHOT_LEN, 1240);
    assert_eq!(Strategy::<200>::MAX_SNAPSHOT_LEN, 3340);
}

#[test]
fn round_trip_at_every_stage_continues_identically() {
    for n in 0..=12 {
        let s = after(n);
        let text = encode(&s);
        assert!(text.len() <= Strategy::<8>::MAX_SNAPSHOT_LEN);
        let mut back = Strategy::<8>::decode(text.as_bytes()).unwrap();
        assert_eq!(encode(&back), text, "re-encoding after {n} bars");
        let mut orig = s.clone();
        for i in n + 1..n + 30 {
            let c = bar(i, 90 + (i * 13) % 29);
            assert_eq!(
                back.on_candle(&c),
                orig.on_candle(&c),
                "bar {i} after a snapshot at {n}"
            );
            assert_eq!(back.target_position(), orig.target_position());
        }
        // A decoder with a larger capacity takes the same snapshot.
        let wide = Strategy::<64>::decode(text.as_bytes()).unwrap();
        assert_eq!(wide.long_sma(), s.long_sma());
    }
}

#[test]
fn snapshot_text_is_what_the_docs_say() {
    let s = after(5);
    let text = encode(&s);
    assert!(
        text.starts_with(r#"{"v":1,"params":{"short_window":2,"long_window":4,"mode":"LongShort""#),
        "{text}"
    );
    assert!(text.contains(r#""closes":[103,110,106,102]"#), "{text}");
}

#[test]
fn corrupt_snapshots_are_refused() {
    let good = encode(&after(9));
    assert!(Strategy::<8>::decode(good.as_bytes()).is_ok());
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from} not in {good}");
        good.replacen(from, to, 1)
    };
    use SnapshotError as E;
    let sums = Strategy::<8>::decode(good.as_bytes()).unwrap().smas.sums();
    let cases: std::vec::Vec<(&str, std::string::String, SnapshotError)> = std::vec![
        (
            "other version",
            edit(r#"{"v":1"#, r#"{"v":2"#),
            E::UnsupportedVersion(2)
        ),
        (
            "version of another shape",
            edit(r#""params""#, r#""parameters""#).replacen(r#"{"v":1"#, r#"{"v":7"#, 1),
            E::UnsupportedVersion(7)
        ),
        (
            "unknown field",
            edit(r#""target""#, r#""tarjet""#),
            E::Malformed
        ),
        ("truncated", good[..good.len() - 1].into(), E::Malformed),
        ("trailing garbage", std::format!("{good}x"), E::Malformed),
        ("empty", "".into(), E::Malformed),
        (
            "long window above capacity",
            edit(r#""long_window":4"#, r#""long_window":9"#),
            E::Params(ParamsError::LongAboveCapacity {
                long: 9,
                capacity: 8
            })
        ),
        (
            "short not below long",
            edit(r#""short_window":2"#, r#""short_window":4"#),
            E::Params(ParamsError::ShortNotBelowLong { short: 4, long: 4 })
        ),
        (
            "a close changed",
            edit(r#""closes":[1"#, r#""closes":[2"#),
            E::SumMismatch
        ),
        (
            "long sum off by one",
            edit(
                &std::format!(r#""long_sum":{}"#, sums.1),
                &std::format!(r#""long_sum":{}"#, sums.1 + 1)
            ),
            E::SumMismatch
        ),
        (
            "short sum off by one",
            edit(
                &std::format!(r#""short_sum":{}"#, sums.0),
                &std::format!(r#""short_sum":{}"#, sums.0 - 1)
            ),
            E::SumMismatch
        ),
        (
            "a negative close",
            edit(r#""closes":["#, r#""closes":[-5,"#),
            E::BadClose
        ),
        (
            "too many closes for the window",
            edit(r#""closes":["#, r#""closes":[100,"#),
            E::SumMismatch
        ),
        (
            "more closes than the capacity",
            edit(r#""closes":["#, r#""closes":[1,1,1,1,1,"#),
            E::Malformed
        ),
        (
            "target does not match the regime",
            edit(r#""target":-1000"#, r#""target":1000"#),
            E::Inconsistent
        ),
        (
            "no time with closes",
            edit(r#""last_close_ms":540000"#, r#""last_close_ms":null"#),
            E::Inconsistent
        ),
        (
            "a float",
            edit(r#""streak":0"#, r#""streak":0.5"#),
            E::Malformed
        ),
        (
            "huge integer",
            edit(r#""streak":0"#, r#""streak":99999999999999999999999"#),
            E::Malformed
        ),
        (
            "pending equals regime",
            edit(r#""pending":null"#, r#""pending":"Bearish""#).replacen(
                r#""streak":0"#,
                r#""streak":1"#,
                1
            ),
            E::Inconsistent
        ),
        (
            "streak without pending",
            edit(r#""streak":0"#, r#""streak":1"#),
            E::Inconsistent
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(
            Strategy::<8>::decode(text.as_bytes()).err(),
            Some(want),
            "{name}: {text}"
        );
    }
}

#[test]
fn regime_before_the_window_is_full_is_refused() {
    let text = encode(&after(2));
    assert!(text.contains(r#""regime":null"#), "{text}");
    let bad = text
        .replacen(r#""regime":null"#, r#""regime":"Bullish""#, 1)
        .replacen(r#""target":0"#, r#""target":1000"#, 1);
    assert_eq!(
        Strategy::<8>::decode(bad.as_bytes()).err(),
        Some(SnapshotError::Inconsistent)
    );
}

#[test]
fn small_buffers_are_an_error() {
    let s = after(9);
    let n = encode(&s).len();
    let mut buf = std::vec![0u8; n - 1];
    assert_eq!(s.encode(&mut buf), Err(SnapshotError::BufferTooSmall));
    let mut buf = std::vec![0u8; n];
    assert_eq!(s.encode(&mut buf), Ok(n));
}

#[test]
fn a_duplicate_after_decode_is_still_a_duplicate() {
    let s = after(9);
    let mut back = Strategy::<8>::decode(encode(&s).as_bytes()).unwrap();
    assert_eq!(
        back.on_candle(&bar(9, 100 + (9 * 7) % 11)),
        Ok(Step::Duplicate)
    );
}
