use super::*;
use crate::candle::Candle;
use crate::crossover::Guards;
use crate::price::{MAX_TICKS, Price};
use crate::strategy::{Mode, Step};

/// The bar length of these tests (one minute).
const BIN: i64 = 60_000;

/// Windows 2/4 with confirmation and minimum hold on: every part of the state is exercised.
pub(crate) fn params() -> Params {
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

/// A flat bar at price `p` closing at minute `i`.
pub(crate) fn bar(i: i64, p: i64) -> Candle {
    Candle {
        close_time_ms: BIN * i,
        open: Price(p),
        high: Price(p),
        low: Price(p),
        close: Price(p),
    }
}

pub(crate) fn encode<const CAP: usize>(s: &Strategy<CAP>) -> std::string::String {
    let mut buf = [0u8; 4096];
    let n = s.encode(&mut buf).unwrap();
    std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// A strategy after `n` bars of a zig-zag series.
pub(crate) fn after(n: i64) -> Strategy<8> {
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

/// A snapshot whose `v` is `version` and whose body is not a schema-1 body.
fn with_version(version: &str) -> std::string::String {
    std::format!(r#"{{"v":{version},"state":[1,2,3]}}"#)
}

#[test]
fn versions_are_read_from_any_snapshot_that_starts_like_one() {
    use SnapshotError as E;
    let cases: &[(&str, SnapshotError)] = &[
        ("2", E::UnsupportedVersion(2)),
        ("0", E::UnsupportedVersion(0)),
        ("12", E::UnsupportedVersion(12)),
        ("1", E::Malformed),
        ("01", E::Malformed),
        ("907", E::UnsupportedVersion(907)),
        // Nine digits always fit a u32; ten may not, and are not read as a version at all.
        ("999999999", E::UnsupportedVersion(999_999_999)),
        ("123456789", E::UnsupportedVersion(123_456_789)),
        ("1000000000", E::Malformed),
        ("4294967295", E::Malformed),
        ("99999999999999999999", E::Malformed),
        ("", E::Malformed),
        ("-1", E::Malformed),
        ("\"2\"", E::Malformed),
    ];
    for (version, want) in cases {
        let text = with_version(version);
        assert_eq!(
            Strategy::<8>::decode(text.as_bytes()).err(),
            Some(*want),
            "{text}"
        );
    }
    assert_eq!(
        Strategy::<8>::decode(b"  \n{\"v\":3,").err(),
        Some(E::UnsupportedVersion(3)),
        "leading white space"
    );
    assert_eq!(
        Strategy::<8>::decode(b"{ \"v\":3,").err(),
        Some(E::Malformed),
        "not the schema's own spelling"
    );
}

#[test]
fn closes_at_max_ticks_round_trip_and_past_it_are_refused() {
    let mut s = Strategy::<8>::new(params()).unwrap();
    for i in 1..=6 {
        let p = if i % 2 == 0 { MAX_TICKS } else { MAX_TICKS - 1 };
        s.on_candle(&bar(i, p)).unwrap();
    }
    let text = encode(&s);
    let max = std::format!("{MAX_TICKS}");
    assert!(
        text.contains(&std::format!(r#""closes":[{},{max},"#, MAX_TICKS - 1)),
        "{text}"
    );
    let back = Strategy::<8>::decode(text.as_bytes()).unwrap();
    assert_eq!(encode(&back), text);
    assert_eq!(back.long_sma(), s.long_sma());
    // One close past the limit, the sums left as they were: refused for the close itself.
    let past = text.replacen(&max, &std::format!("{}", MAX_TICKS + 1), 1);
    assert_eq!(
        Strategy::<8>::decode(past.as_bytes()).err(),
        Some(SnapshotError::BadClose)
    );
    let zero = text.replacen(&max, "0", 1);
    assert_eq!(
        Strategy::<8>::decode(zero.as_bytes()).err(),
        Some(SnapshotError::BadClose)
    );
}

#[test]
fn stored_sums_are_the_sums_of_the_stored_closes() {
    // After 3 bars of a 2/4 pair: both sums are of real closes, the long one still partial.
    let s = after(3);
    let text = encode(&s);
    assert!(text.contains(r#""closes":[107,103,110]"#), "{text}");
    assert!(text.contains(r#""short_sum":213,"long_sum":320"#), "{text}");
}

/// A deserialiser error that keeps its message, which serde-json-core's errors do not.
#[derive(Debug)]
struct Message(std::string::String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl de::StdError for Message {}

impl de::Error for Message {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Message(std::string::ToString::to_string(&msg))
    }
}

#[test]
fn more_closes_than_the_buffer_holds_are_an_error_that_says_so() {
    use serde::de::value::SeqDeserializer;
    let read = |closes: &[i64]| {
        ClosesIn::<2>::deserialize(SeqDeserializer::<_, Message>::new(closes.iter().copied()))
            .map(|c| c.buf[..c.len].to_vec())
            .map_err(|e| e.0)
    };
    assert_eq!(read(&[]), Ok(std::vec![]));
    assert_eq!(read(&[5, 6]), Ok(std::vec![5, 6]));
    assert_eq!(
        read(&[5, 6, 7]),
        Err("invalid length 3, expected at most 2 closes".into())
    );
}

#[test]
fn every_snapshot_error_says_what_happened() {
    use SnapshotError as E;
    let cases: &[(SnapshotError, &str)] = &[
        (E::BufferTooSmall, "snapshot buffer is too small"),
        (E::Malformed, "snapshot is not valid snapshot JSON"),
        (
            E::UnsupportedVersion(7),
            "snapshot schema version 7 is not supported (expected 1)",
        ),
        (
            E::Params(ParamsError::BinNotPositive),
            "snapshot parameters are invalid: bin length must be positive",
        ),
        (E::BadClose, "snapshot holds a close that is not a price"),
        (
            E::SumMismatch,
            "snapshot running sums do not match its closes",
        ),
        (E::Inconsistent, "snapshot state is inconsistent"),
    ];
    for (e, text) in cases {
        assert_eq!(std::string::ToString::to_string(e), *text);
    }
}
