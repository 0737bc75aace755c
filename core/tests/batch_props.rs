//! `run_batch` against `on_candle`: on any stream (repeats, conflicts, gaps, bad prices, guards,
//! bands, batches cut anywhere) a batch gives the same signals, counts, errors and state as the
//! same candles fed one at a time. The batch has a loop of its own for the common case, so this
//! is what keeps its decisions identical to the step's.
#![allow(clippy::unwrap_used)]

use maestro_core::{
    BatchError, BatchStats, Candle, Guards, Mode, Params, Price, Signal, Step, Strategy, run_batch,
};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

const CAP: usize = 16;
const BIN: i64 = 60_000;
type S = Strategy<CAP>;

/// What the next candle of a stream is, relative to the last one.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// One bin later, with this close.
    Bar(i64),
    /// The last candle again.
    Repeat,
    /// The same time with another close.
    Conflict,
    /// Bars missing before this close.
    Gap(i64),
    /// Not a whole number of bins later.
    Misaligned,
    /// Earlier than the last one.
    Older,
    /// One bin later, with a close outside its range.
    Outside(i64),
    /// One bin later, with a close of zero.
    Zero,
    /// One bin later on a clock that wraps: far in the past once the clock passes `i64::MAX`.
    Wrapped,
}

fn next() -> impl proptest::strategy::Strategy<Value = Next> {
    prop_oneof![
        40 => (1i64..=4).prop_map(Next::Bar),
        40 => (95i64..=105).prop_map(Next::Bar),
        3 => Just(Next::Repeat),
        1 => Just(Next::Conflict),
        1 => (1i64..=4).prop_map(Next::Gap),
        1 => Just(Next::Misaligned),
        1 => Just(Next::Older),
        1 => (1i64..=4).prop_map(Next::Outside),
        1 => Just(Next::Zero),
        1 => Just(Next::Wrapped),
    ]
}

fn bar(t: i64, c: i64) -> Candle {
    Candle {
        close_time_ms: t,
        open: Price(c),
        high: Price(c),
        low: Price(c),
        close: Price(c),
    }
}

/// The candles a script describes; the clock starts at `t0`.
fn stream(t0: i64, script: &[Next]) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    let mut last = bar(t0, 100);
    for &n in script {
        let t = last.close_time_ms;
        // Late clocks saturate: candles past `i64::MAX` are still candles to refuse.
        let c = match n {
            Next::Bar(c) => bar(t.saturating_add(BIN), c),
            Next::Repeat => last,
            Next::Conflict => bar(t, last.close.0 + 1),
            Next::Gap(c) => bar(t.saturating_add(3 * BIN), c),
            Next::Misaligned => bar(t.saturating_add(BIN / 2), 100),
            Next::Older => bar(t.saturating_sub(BIN), 100),
            Next::Outside(c) => Candle {
                high: Price(c),
                ..bar(t.saturating_add(BIN), c + 1)
            },
            Next::Zero => bar(t.saturating_add(BIN), 0),
            Next::Wrapped => bar(t.wrapping_add(BIN), 100),
        };
        // A refused candle does not move the clock; the stream goes on from the last good one.
        if matches!(n, Next::Bar(_) | Next::Repeat | Next::Gap(_)) {
            last = c;
        }
        out.push(c);
    }
    out
}

fn params(short: u32, long: u32, mode: Mode, guards: Guards) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: BIN,
        guards,
    }
}

fn state(s: &S) -> Vec<u8> {
    let mut buf = vec![0u8; S::MAX_STATE_LEN];
    let n = s.encode_state(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// `run_batch`'s contract spelled out with `on_candle`.
fn one_at_a_time(
    s: &mut S,
    candles: &[Candle],
    signals: &mut Vec<(usize, Signal)>,
) -> Result<BatchStats, BatchError> {
    let mut stats = BatchStats::default();
    for (index, c) in candles.iter().enumerate() {
        match s.on_candle(c) {
            Ok(Step::Signal(sig)) => {
                stats.signals += 1;
                signals.push((index, sig));
            }
            Ok(Step::NoChange) => {}
            Ok(Step::NotReady) => stats.not_ready += 1,
            Ok(Step::Duplicate) => stats.duplicates += 1,
            Err(error) => return Err(BatchError { index, error }),
        }
    }
    stats.candles = candles.len();
    Ok(stats)
}

fn guards() -> impl proptest::strategy::Strategy<Value = Guards> {
    prop_oneof![
        3 => Just(Guards::default()),
        1 => (0u32..2, 0u32..2).prop_map(|(c, m)| Guards {
            hysteresis_bp: 0,
            confirm_bars: c,
            min_hold_bars: m,
        }),
        2 => (0u32..300, 0u32..4, 0u32..5).prop_map(|(h, c, m)| Guards {
            hysteresis_bp: h,
            confirm_bars: c,
            min_hold_bars: m,
        }),
    ]
}

fn mode() -> impl proptest::strategy::Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::LongShort),
        Just(Mode::LongOnly),
        Just(Mode::ShortOnly)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_batch_decides_as_the_step_does(
        (short, long) in (2u32..=CAP as u32).prop_flat_map(|l| (1..l, Just(l))),
        mode in mode(),
        guards in guards(),
        script in prop::collection::vec(next(), 0..250),
        cuts in prop::collection::vec(0usize..250, 0..4),
        late in any::<bool>(),
    ) {
        // Late clocks end exactly at `i64::MAX` or just past it, where the schedule overflows.
        let t0 = if late { i64::MAX - BIN * script.len() as i64 } else { 0 };
        let candles = stream(t0, &script);
        let p = params(short, long, mode, guards);
        let (mut batch, mut step) = (S::new(p).unwrap(), S::new(p).unwrap());
        let mut cuts = cuts;
        cuts.push(candles.len());
        cuts.sort_unstable();
        let mut from = 0;
        for to in cuts {
            let to = to.min(candles.len());
            while from < to {
                let chunk = &candles[from..to];
                let mut got = Vec::new();
                let b = run_batch(&mut batch, chunk, |i, sig| got.push((i, *sig)));
                let mut want = Vec::new();
                let o = one_at_a_time(&mut step, chunk, &mut want);
                prop_assert_eq!(&got, &want, "signals of candles {}..{}", from, to);
                prop_assert_eq!(b, o, "result of candles {}..{}", from, to);
                prop_assert_eq!(state(&batch), state(&step), "state after {}..{}", from, to);
                // After a refused candle the caller goes on with the next one.
                from += b.map_or_else(|e| e.index + 1, |st| st.candles);
            }
        }
        prop_assert_eq!(batch.target_position(), step.target_position());
        prop_assert_eq!(batch.regime(), step.regime());
    }
}
