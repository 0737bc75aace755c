use super::*;
use crate::candles_file::{Format, Gap, Stamp};
use maestro_core::{DemoMarket, TickSize};

const MIN: i64 = 60_000;

/// The core's demo market (trends, chop, whipsaws, jumps) with bars cut out to make gaps.
fn demo(seed: u64, n: usize, cut: &[std::ops::Range<usize>]) -> CandleSeries {
    let mut candles = Vec::new();
    let mut gaps = Vec::new();
    let mut last_kept: Option<i64> = None;
    for (i, c) in DemoMarket::new(seed, MIN, MIN).take(n).enumerate() {
        // The demo market repeats a candle now and then (as a poller re-reads one); files do not.
        if cut.iter().any(|r| r.contains(&i))
            || Some(c.close_time_ms)
                == candles
                    .last()
                    .map(|k: &maestro_core::Candle| k.close_time_ms)
        {
            continue;
        }
        if let Some(last) = last_kept
            && c.close_time_ms - last > MIN
        {
            gaps.push(Gap {
                index: candles.len(),
                last_close_ms: last,
                next_close_ms: c.close_time_ms,
                missing: ((c.close_time_ms - last) / MIN - 1) as u64,
            });
        }
        last_kept = Some(c.close_time_ms);
        candles.push(c);
    }
    CandleSeries {
        candles,
        bin_ms: MIN,
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        gaps,
        off_grid: Vec::new(),
        tick: TickSize::CENT,
    }
}

fn spec(mode: Mode, guards: Guards) -> SweepSpec {
    SweepSpec {
        shorts: 1..=9,
        longs: 2..=24,
        mode,
        qty: 2000,
        lot_size: 1000,
        max_position: 3000,
        guards,
        fee: FeeRate::LTCUSDT_TAKER,
    }
}

#[test]
fn every_pair_equals_its_single_backtest_in_every_mode_with_gaps() {
    // The first stretch (5 bars) is shorter than most long windows.
    let series = demo(7, 3000, &[5..8, 500..503, 1200..1350, 2990..2992]);
    assert_eq!(series.gaps.len(), 4);
    for mode in [Mode::LongShort, Mode::LongOnly, Mode::ShortOnly] {
        let spec = spec(mode, Guards::default());
        let results = sweep(&series, &spec, &|| {}).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(results.len(), spec.pairs().len());
        let mut traded = 0;
        for r in &results {
            let params = spec.params(r.short, r.long, MIN);
            let single =
                backtest::backtest(&series, params, spec.fee).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                *r,
                from_backtest(&single),
                "{mode:?} pair {}/{}",
                r.short,
                r.long
            );
            traded += usize::from(r.fills > 0);
        }
        assert!(
            traded > results.len() / 2,
            "{mode:?}: the demo market must make most pairs trade"
        );
    }
}

#[test]
fn guarded_sweeps_equal_the_core_strategy_for_every_pair() {
    let series = demo(11, 1500, &[20..22, 700..740]);
    let plain = sweep(&series, &spec_plain(), &|| {}).unwrap_or_else(|e| panic!("{e}"));
    let fills = |rs: &[PairResult]| rs.iter().map(|r| r.fills).sum::<u64>();
    let cases = [
        Guards {
            hysteresis_bp: 5,
            confirm_bars: 0,
            min_hold_bars: 0,
        },
        Guards {
            hysteresis_bp: 0,
            confirm_bars: 3,
            min_hold_bars: 0,
        },
        Guards {
            hysteresis_bp: 0,
            confirm_bars: 0,
            min_hold_bars: 7,
        },
        Guards {
            hysteresis_bp: 20,
            confirm_bars: 2,
            min_hold_bars: 3,
        },
    ];
    for guards in cases {
        for mode in [Mode::LongShort, Mode::ShortOnly] {
            let spec = spec(mode, guards);
            let results = sweep(&series, &spec, &|| {}).unwrap_or_else(|e| panic!("{e}"));
            for r in &results {
                let single =
                    backtest::backtest(&series, spec.params(r.short, r.long, MIN), spec.fee)
                        .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    *r,
                    from_backtest(&single),
                    "{guards:?} {mode:?} {}/{}",
                    r.short,
                    r.long
                );
            }
            if mode == Mode::LongShort {
                assert!(
                    fills(&results) < fills(&plain),
                    "{guards:?} must cut trading"
                );
            }
        }
    }
}

fn spec_plain() -> SweepSpec {
    spec(Mode::LongShort, Guards::default())
}

#[test]
fn bad_ranges_and_params_are_refused() {
    let series = demo(1, 100, &[]);
    let mut s = spec_plain();
    s.shorts = 5..=9;
    s.longs = 2..=5;
    assert!(matches!(
        sweep(&series, &s, &|| {}),
        Err(SweepError::NoPairs)
    ));
    let mut s = spec_plain();
    s.qty = 1500;
    assert!(matches!(
        sweep(&series, &s, &|| {}),
        Err(SweepError::Pair { .. })
    ));
}

#[test]
fn best_sorts_by_pnl_then_drawdown() {
    let series = demo(3, 1500, &[]);
    let results = sweep(&series, &spec_plain(), &|| {}).unwrap_or_else(|e| panic!("{e}"));
    let top = best(&results, 5);
    assert_eq!(top.len(), 5);
    assert!(top.windows(2).all(|w| w[0].pnl >= w[1].pnl));
    let max = results.iter().map(|r| r.pnl).max();
    assert_eq!(Some(top[0].pnl), max);
}

#[test]
fn the_i64_and_i128_kernels_agree() {
    let series = demo(5, 2000, &[300..310, 900..901]);
    let closes: Vec<i64> = series.candles.iter().map(|c| c.close.0).collect();
    let pairs = spec_plain().pairs();
    assert!(
        fits_i64(&closes, &pairs, 2000, 500),
        "demo data must take the fast path"
    );
    let mut prefix = vec![0i64];
    for &c in &closes {
        prefix.push(prefix[prefix.len() - 1] + c);
    }
    let stretches = stretches(&series).unwrap_or_else(|e| panic!("{e}"));
    let shared = Shared {
        prefix: &prefix,
        stretches: &stretches,
        bull_target: 2000,
        bear_target: -2000,
        lot: 1000,
        fee_ppm: 500,
        aligned: true,
    };
    for &(s, l) in pairs.iter().step_by(7) {
        let narrow = finish(s, l, kernel::run::<i64>(&shared, s as usize, l as usize));
        let wide = finish(s, l, kernel::run::<i128>(&shared, s as usize, l as usize));
        assert_eq!(narrow, wide, "pair {s}/{l}");
    }
    // Absurd sizes take the wide path.
    assert!(!fits_i64(&closes, &pairs, i64::MAX / 4, 500));
}

/// The one-pass loop against the pair-by-pair loop on many windows at once: gaps, a flat
/// stretch across a gap (equal means, so pairs that wait for a first regime and crossings held
/// by equality),
/// every mode, a cap that is not whole lots and repeated pairs.
#[test]
fn the_one_pass_loop_equals_the_pair_by_pair_loop() {
    let mut series = demo(11, 3000, &[400..405, 1500..1501, 2200..2230]);
    for c in &mut series.candles[1300..1700] {
        let flat = maestro_core::Price(6_000);
        (c.open, c.high, c.low, c.close) = (flat, flat, flat, flat);
    }
    let closes: Vec<i64> = series.candles.iter().map(|c| c.close.0).collect();
    let mut prefix = vec![0i64];
    for &c in &closes {
        prefix.push(prefix[prefix.len() - 1] + c);
    }
    let stretches = stretches(&series).unwrap_or_else(|e| panic!("{e}"));
    let mut pairs: Vec<(u32, u32)> = (1..=30)
        .flat_map(|s| (s + 1..=90).step_by(3).map(move |l| (s, l)))
        .collect();
    pairs.extend([(2, 3), (1, 90), (2, 3)]);
    for (bull_target, bear_target) in [(3000, -3000), (2000, 0), (0, -1000)] {
        let shared = Shared {
            prefix: &prefix,
            stretches: &stretches,
            bull_target,
            bear_target,
            lot: 1000,
            fee_ppm: 500,
            aligned: true,
        };
        let one_pass = kinetic::sweep(&shared, &closes, &pairs, &|| {})
            .unwrap_or_else(|| panic!("a small table"));
        assert_eq!(one_pass.len(), pairs.len());
        for (&(s, l), got) in pairs.iter().zip(one_pass) {
            let want = kernel::run::<i64>(&shared, s as usize, l as usize);
            assert_eq!(
                got, want,
                "pair {s}/{l}, targets {bull_target}/{bear_target}"
            );
        }
    }
}

#[test]
fn the_benchmarks_baseline_gives_the_sweeps_results() {
    let series = demo(4, 1500, &[700..720, 1100..1101]);
    let spec = spec_plain();
    let mut pairs = spec.pairs();
    pairs.push(pairs[3]);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let count = || {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let fast = sweep_pairs(&series, &spec, &pairs, &count).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        calls.swap(0, std::sync::atomic::Ordering::Relaxed),
        pairs.len()
    );
    let lanes =
        sweep_pairs_by_lanes(&series, &spec, &pairs, &count).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::Relaxed),
        pairs.len()
    );
    assert_eq!(fast.len(), pairs.len());
    assert_eq!(fast, lanes);
}

#[test]
fn too_many_windows_for_the_pair_table_take_the_pair_by_pair_loop() {
    let series = demo(3, 50, &[]);
    let closes: Vec<i64> = series.candles.iter().map(|c| c.close.0).collect();
    let prefix: Vec<i64> = std::iter::once(0)
        .chain(closes.iter().scan(0, |s, &c| {
            *s += c;
            Some(*s)
        }))
        .collect();
    let stretches = [(0, closes.len())];
    let shared = Shared {
        prefix: &prefix,
        stretches: &stretches,
        bull_target: 1000,
        bear_target: -1000,
        lot: 1000,
        fee_ppm: 500,
        aligned: true,
    };
    let wide: Vec<(u32, u32)> = (1..=2048).map(|w| (w, w + 1)).collect();
    assert!(kinetic::sweep(&shared, &closes, &wide, &|| {}).is_none());
    assert!(kinetic::sweep(&shared, &closes, &wide[..2047], &|| {}).is_some());
}

#[test]
fn orders_skip_lot_rounding_only_for_whole_lots_well_inside_i64() {
    let half = i64::MAX / 2;
    let cases: &[([i64; 2], u64, bool)] = &[
        ([1000, -1000], 1000, true),
        ([3000, 0], 1000, true),
        ([0, -2000], 1000, true),
        ([1500, -1000], 1000, false),
        ([1000, -1500], 1000, false),
        ([1000, -1000], 0, false),
        ([half, -half], 1, true),
        ([half + 1, 0], 1, false),
        ([0, -half - 1], 1, false),
    ];
    for &(targets, lot, want) in cases {
        assert_eq!(
            kernel::whole_lots(targets, lot),
            want,
            "{targets:?} lot {lot}"
        );
    }
}

#[test]
fn short_windows_are_dealt_to_workers_back_and_forth() {
    let dealt = |parts: usize| -> Vec<usize> {
        (0..8)
            .map(|short| kinetic::worker_of(short, parts))
            .collect()
    };
    assert_eq!(dealt(1), [0; 8]);
    assert_eq!(dealt(2), [0, 1, 1, 0, 0, 1, 1, 0]);
    assert_eq!(dealt(3), [0, 1, 2, 2, 1, 0, 0, 1]);
}

#[test]
fn progress_is_due_in_step_with_the_candles_done() {
    let cases = [
        (100, 0, 1000, 0),
        (100, 512, 1024, 50),
        (100, 1000, 1000, 100),
        (3, 2, 3, 2),
        (7, 0, 0, 0),
    ];
    for (pairs, done, n, want) in cases {
        assert_eq!(
            kinetic::due(pairs, done, n),
            want,
            "{pairs} pairs, {done}/{n}"
        );
    }
}
