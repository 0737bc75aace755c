//! Snapshot properties: a snapshot taken anywhere continues bit-identically, and no byte string,
//! random or a mutated real snapshot, makes `decode` panic or yield an unusable state.
#![allow(clippy::unwrap_used)]

use maestro_core::{Candle, DemoMarket, Guards, Mode, Params, Strategy};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

const CAP: usize = 32;
type S = Strategy<CAP>;

fn params(short: u32, long: u32, g: Guards) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 2000,
        bin_ms: 60_000,
        guards: g,
    }
}

fn encode(s: &S) -> Vec<u8> {
    let mut buf = vec![0u8; S::MAX_SNAPSHOT_LEN];
    let n = s.encode(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn market(seed: u64, n: usize) -> Vec<Candle> {
    DemoMarket::new(seed, 60_000, 60_000).take(n).collect()
}

/// A real snapshot somewhere in a demo run.
fn snapshot_at(seed: u64, cut: usize, short: u32, long: u32, g: Guards) -> Vec<u8> {
    let mut s = S::new(params(short, long, g)).unwrap();
    for c in market(seed, cut) {
        s.on_candle(&c).unwrap();
    }
    encode(&s)
}

fn guards() -> impl proptest::strategy::Strategy<Value = Guards> {
    (0u32..200, 0u32..4, 0u32..6).prop_map(|(h, c, m)| Guards {
        hysteresis_bp: h,
        confirm_bars: c,
        min_hold_bars: m,
    })
}

/// Whatever `decode` accepted must be a state that encodes to itself and keeps running.
fn check_accepted(s: &S) {
    let bytes = encode(s);
    let again = S::decode(&bytes).unwrap();
    assert_eq!(encode(&again), bytes);
    let mut s = s.clone();
    let start = s.last_close_ms().unwrap_or(0);
    for c in DemoMarket::new(3, start + 60_000, 60_000).take(40) {
        let _ = s.on_candle(&c);
        let _ = s.plan_order(0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mid_window_round_trip_continues_bit_identically(
        seed in any::<u64>(), cut in 0usize..120, long in 2u32..=CAP as u32, g in guards(),
        short_frac in 0.0f64..1.0,
    ) {
        let short = 1 + ((long - 1) as f64 * short_frac) as u32 % (long - 1);
        let candles = market(seed, cut + 150);
        let mut orig = S::new(params(short, long, g)).unwrap();
        for c in &candles[..cut] {
            orig.on_candle(c).unwrap();
        }
        let bytes = encode(&orig);
        let mut back = S::decode(&bytes).unwrap();
        prop_assert_eq!(encode(&back), bytes.clone());
        for c in &candles[cut..] {
            prop_assert_eq!(back.on_candle(c), orig.on_candle(c));
            prop_assert_eq!(back.target_position(), orig.target_position());
            prop_assert_eq!(back.plan_order(0), orig.plan_order(0));
        }
        prop_assert_eq!(encode(&back), encode(&orig));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(s) = S::decode(&bytes) {
            check_accepted(&s);
        }
    }

    #[test]
    fn json_looking_bytes_never_panic(
        parts in prop::collection::vec(prop_oneof![
            Just("{".to_string()), Just("}".to_string()), Just("[".to_string()), Just("]".to_string()),
            Just(",".to_string()), Just(":".to_string()), Just("null".to_string()),
            Just(r#""v""#.to_string()), Just(r#""closes""#.to_string()), Just(r#""params""#.to_string()),
            Just(r#""Bullish""#.to_string()), any::<i64>().prop_map(|n| n.to_string()),
            "[a-z_\"]{0,12}",
        ], 0..80),
    ) {
        let text: String = parts.concat();
        if let Ok(s) = S::decode(text.as_bytes()) {
            check_accepted(&s);
        }
    }

    #[test]
    fn mutated_snapshots_never_panic(
        seed in any::<u64>(), cut in 0usize..80, g in guards(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut bytes = snapshot_at(seed, cut, 3, 9, g);
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(s) = S::decode(&bytes) {
            check_accepted(&s);
        }
        // Truncations of a real snapshot are always refused.
        let good = snapshot_at(seed, cut, 3, 9, g);
        for end in [0, 1, good.len() / 2, good.len() - 1] {
            prop_assert!(S::decode(&good[..end]).is_err(), "truncated at {}", end);
        }
    }
}

#[test]
fn hostile_nesting_does_not_overflow_the_stack() {
    let deep = "[".repeat(100_000);
    assert!(S::decode(deep.as_bytes()).is_err());
    let deep = format!(r#"{{"v":1,"x":{}"#, "{\"a\":".repeat(50_000));
    assert!(S::decode(deep.as_bytes()).is_err());
}

#[test]
fn hostile_nesting_anywhere_does_not_overflow_the_stack() {
    // Cut a real snapshot after each field name and nest deeply there.
    let good = String::from_utf8(snapshot_at(1, 60, 3, 9, Guards::default())).unwrap();
    let mut cuts: Vec<usize> = good.match_indices("\":").map(|(i, _)| i + 2).collect();
    let params_at = good.find(r#""params":{"#).unwrap() + r#""params":{"#.len();
    let guards_at = good.find(r#""guards":{"#).unwrap() + r#""guards":{"#.len();
    cuts.push(params_at);
    cuts.push(guards_at);
    for cut in cuts {
        for (prefix, nest) in [("", "["), ("", "{\"a\":"), (r#"{"Bullish":"#, "[")] {
            let mut text = good[..cut].to_string();
            if cut == params_at || cut == guards_at {
                text.push_str(r#""x":"#);
            }
            text.push_str(prefix);
            text.push_str(&nest.repeat(100_000));
            assert!(
                S::decode(text.as_bytes()).is_err(),
                "nesting after {}",
                &good[..cut]
            );
        }
    }
}
