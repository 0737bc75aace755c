//! The core's snapshot and state decoders (what a stored record hands back): never a panic; what
//! decodes re-encodes to text that decodes to the same strategy, and that strategy takes a candle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_core::price::MAX_TICKS;
use maestro_core::{Candle, Guards, Mode, Params, Price, Strategy};

/// Small enough that the fuzzer can fill it, large enough for real windows.
const CAP: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(strategy) = Strategy::<CAP>::decode(data) else {
        // The state alone, against fixed parameters (the runner's stored form).
        let params = Params {
            short_window: 2,
            long_window: 4,
            mode: Mode::LongShort,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            bin_ms: 60_000,
            guards: Guards::default(),
        };
        if let Ok(s) = Strategy::<CAP>::restore_state(params, data) {
            step(s);
        }
        return;
    };
    let mut buf = vec![0u8; Strategy::<CAP>::MAX_SNAPSHOT_LEN];
    let len = strategy
        .encode(&mut buf)
        .expect("MAX_SNAPSHOT_LEN always suffices");
    let again = Strategy::<CAP>::decode(&buf[..len]).expect("a snapshot we wrote decodes");
    let mut buf2 = vec![0u8; Strategy::<CAP>::MAX_SNAPSHOT_LEN];
    let len2 = again.encode(&mut buf2).expect("encodes");
    assert_eq!(&buf[..len], &buf2[..len2], "snapshot round trip");

    // The state without the parameters restores against the same parameters.
    let mut state = vec![0u8; Strategy::<CAP>::MAX_STATE_LEN];
    let n = strategy.encode_state(&mut state).expect("encodes");
    let restored = Strategy::<CAP>::restore_state(*strategy.params(), &state[..n])
        .expect("a state we wrote restores");
    assert_eq!(restored.target_position(), strategy.target_position());
    step(strategy);
});

/// One more candle and an order plan: never a panic, and the target stays within the limit.
fn step(mut s: Strategy<CAP>) {
    let next = s
        .last_close_ms()
        .unwrap_or(0)
        .saturating_add(s.params().bin_ms);
    let close = s.long_sma().map_or(Price(100), |m| {
        Price((m.sum / i64::from(m.n.max(1))).clamp(1, MAX_TICKS))
    });
    let candle = Candle {
        close_time_ms: next,
        open: close,
        high: close,
        low: close,
        close,
    };
    let _ = s.on_candle(&candle);
    let max = i64::try_from(s.params().max_position).unwrap_or(i64::MAX);
    assert!(
        s.target_position().abs() <= max,
        "target beyond max_position"
    );
    let _ = s.plan_order(0);
    let _ = s.plan_order(i64::MIN);
}
