use super::*;
use crate::candles_file::{Format, Stamp};
use maestro_core::{Candle, Guards, Mode, Price, TickSize};

const MIN: i64 = 60_000;

/// A series of closes at one-minute bars; `None` marks a missing bar (a gap).
pub(crate) fn series(closes: &[Option<i64>]) -> CandleSeries {
    let mut candles = Vec::new();
    let mut gaps = Vec::new();
    let mut missing = 0u64;
    for (i, c) in closes.iter().enumerate() {
        let Some(c) = *c else {
            missing += 1;
            continue;
        };
        let t = MIN * (i as i64 + 1);
        if missing > 0 {
            gaps.push(Gap {
                index: candles.len(),
                last_close_ms: t - MIN * (missing as i64 + 1),
                next_close_ms: t,
                missing,
            });
            missing = 0;
        }
        candles.push(Candle {
            close_time_ms: t,
            open: Price(c),
            high: Price(c),
            low: Price(c),
            close: Price(c),
        });
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

fn params(short: u32, long: u32, mode: Mode) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: MIN,
        guards: Guards::default(),
    }
}

fn run(closes: &[Option<i64>], p: Params, fee_ppm: i64) -> BacktestReport {
    backtest(&series(closes), p, FeeRate::from_ppm(fee_ppm)).unwrap_or_else(|e| panic!("{e}"))
}

const S: i128 = Money::SCALE;

#[test]
fn a_rise_then_a_fall_trades_long_then_short() {
    let closes: Vec<Option<i64>> = [100, 100, 110, 120, 130, 120, 100, 90, 80, 90]
        .iter()
        .map(|&c| Some(c))
        .collect();
    let r = run(&closes, params(1, 2, Mode::LongShort), 0);
    // Ready at index 1 (100 vs 100: equal, no regime); index 2: 110 > 105 → long at 110.
    // Index 5: 120 < 125 → short at 120 (flip). Index 9: 90 > 85 → long at 90 (flip).
    let fills: Vec<(usize, i64, i64)> = r
        .trades
        .iter()
        .map(|t| (t.index, t.fill.delta, t.fill.price.0))
        .collect();
    assert_eq!(fills, [(2, 1000, 110), (5, -2000, 120), (9, 2000, 90)]);
    // Long 110→120: +10; short 120→90: +30; then long marked at 90: 0.
    assert_eq!(r.final_pnl(), Money(40 * 1000 * S));
    assert_eq!(
        (r.account.flips, r.account.round_trips, r.account.wins),
        (2, 2, 2)
    );
    assert_eq!(r.exposed_bars, 8, "in the market from index 2 to the end");
    assert_eq!(r.signals, 3);
    // Worst fall: long from 110 marked at 130 (+20) back down to 120 at the flip (+10).
    assert_eq!(r.max_drawdown, Money(10 * 1000 * S));
}

#[test]
fn fees_turn_a_flat_market_whipsaw_into_a_loss() {
    let closes: Vec<Option<i64>> = [100, 101, 100, 101, 100, 101, 100]
        .iter()
        .map(|&c| Some(c))
        .collect();
    let r = run(&closes, params(1, 2, Mode::LongOnly), 500);
    let n = r.account.fills as i128;
    assert!(n >= 4, "whipsaw must trade, got {n} fills");
    assert!(
        r.final_pnl().0 < 0,
        "fees on every fill must show as a loss"
    );
    assert_eq!(r.account.flips, 0, "long-only never flips");
    let fees: i128 = r
        .trades
        .iter()
        .map(|t| 1000 * i128::from(t.fill.price.0) * 500)
        .sum();
    assert_eq!(r.account.fees, Money(fees));
}

#[test]
fn a_gap_keeps_the_position_and_restarts_the_warm_up() {
    // Long from the rise; then two bars missing; after the gap the long window (3) must fill again
    // before any new decision, and the fall afterwards flips to short.
    let mut closes: Vec<Option<i64>> = [100, 100, 100, 110, 120].iter().map(|&c| Some(c)).collect();
    closes.extend([None, None]);
    closes.extend([200, 190, 180, 170].iter().map(|&c| Some(c)));
    let r = run(&closes, params(1, 3, Mode::LongShort), 0);
    assert_eq!(r.gaps.len(), 1);
    let g = r.gaps[0];
    assert_eq!(
        (g.gap.index, g.gap.missing, g.position_held, g.warmup_bars),
        (5, 2, 1000, 2)
    );
    let fills: Vec<(usize, i64)> = r.trades.iter().map(|t| (t.index, t.fill.delta)).collect();
    // Index 3 (110 > 103.3): long. After the gap, indices 5 and 6 warm up; index 7 (180 < 190):
    // short at 180.
    assert_eq!(fills, [(3, 1000), (7, -2000)]);
    // Long 110→180 held through the gap, then short 180→170.
    assert_eq!(r.final_pnl(), Money((70 + 10) * 1000 * S));
}

#[test]
fn order_delta_rounds_to_lots_like_the_core() {
    let cases = [
        (1000, 0, 1000, 1000),
        (-1000, 1000, 1000, -2000),
        (0, -1000, 1000, 1000),
        (1000, 1000, 1000, 0),
        (1500, 0, 1000, 1000),
        (0, 0, 1000, 0),
    ];
    for (target, position, lot, want) in cases {
        assert_eq!(
            order_delta(target, position, lot),
            want,
            "target {target} from {position}"
        );
    }
}

#[test]
fn a_window_longer_than_supported_is_refused() {
    let closes = [Some(1)];
    let e = backtest(
        &series(&closes),
        params(1, 10_000, Mode::LongShort),
        FeeRate::from_ppm(0),
    );
    assert!(matches!(e, Err(BacktestError::WindowTooLong(10_000))));
}

#[test]
fn funding_and_slippage_are_charged_as_computed_by_hand() {
    use super::costs::{Costs, Funding, FundingRate, Slippage, read_funding};
    // 1m bars from 00:01 UTC 1970-01-01; SMA 1/2 goes long at bar 1 (close 1.01), then flat at
    // 1.01 through the 04:00 funding instant (the close of bar 239) and the 12:00 one (bar 719).
    let mut closes = vec![Some(100)];
    closes.extend(std::iter::repeat_n(Some(101), 799));
    let mut s = series(&closes);
    s.candles[1].high = Price(103);
    s.candles[1].low = Price(99);
    let p = params(1, 2, Mode::LongOnly);
    let rate = FundingRate::from_text("0.0001").unwrap_or_else(|e| panic!("{e}"));
    let mut costs = Costs::taker_only(FeeRate::LTCUSDT_TAKER);
    costs.slippage = Slippage::PriceBp(FeeRate::from_ppm(200)); // 2 bp
    costs.funding = Funding::Flat(rate);
    let r = backtest_with(&s, p, &costs).unwrap_or_else(|e| panic!("{e}"));
    let fee = 1000 * 101 * 500; // 5 bp of 1000 contracts at 101 ticks
    let slip = 1000 * 101 * 200; // 2 bp
    let funding = 2 * (1000 * 101 * 10_000 / 100); // two instants, long pays 0.0001
    assert_eq!(r.account.fees, Money(fee));
    assert_eq!(r.account.slippage, Money(slip));
    assert_eq!(r.account.funding, Money(funding));
    assert_eq!(r.final_pnl(), Money(-fee - slip - funding));
    // The funding instant charges the bar it closes, not the one before.
    assert_eq!(r.equity[238] - r.equity[239], Money(funding / 2));

    // A quarter of the bar's range (4 ticks) per contract instead.
    costs.slippage = Slippage::RangePpm(250_000);
    costs.funding = Funding::None;
    let r = backtest_with(&s, p, &costs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.account.slippage, Money(1000 * 4 * 250_000));

    // A short receives a positive rate; a schedule from BitMEX's funding records.
    let mut down = vec![Some(101)];
    down.extend(std::iter::repeat_n(Some(100), 799));
    let records = r#"[
      {"timestamp":"1970-01-01T04:00:00.000Z","symbol":"LTCUSDT","fundingInterval":"2000-01-01T08:00:00.000Z","fundingRate":0.0001,"fundingRateDaily":0.0003},
      {"timestamp":"1970-01-01T04:00:00.000Z","symbol":"XBTUSD","fundingInterval":"2000-01-01T08:00:00.000Z","fundingRate":0.01,"fundingRateDaily":0.03},
      {"timestamp":"1970-01-01T12:00:00.000Z","symbol":"LTCUSDT","fundingInterval":"2000-01-01T08:00:00.000Z","fundingRate":-0.00003,"fundingRateDaily":-0.00009}
    ]"#;
    let schedule = read_funding(records, "LTCUSDT").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(schedule.len(), 2);
    let costs = Costs {
        funding: Funding::Schedule(schedule),
        ..Costs::taker_only(FeeRate::from_ppm(0))
    };
    let r = backtest_with(&series(&down), params(1, 2, Mode::ShortOnly), &costs)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.account.position, -1000);
    // -1000 × 100 × 0.0001 = -10 contract·ticks received; then pays 1000 × 100 × 0.00003 = 3.
    assert_eq!(r.account.funding, Money(-10_000_000 + 3_000_000));
    assert_eq!(r.final_pnl(), Money(10_000_000 - 3_000_000));
    // The defaults change nothing: a taker-only backtest is the plain one, bit for bit.
    let plain = backtest(&s, p, FeeRate::LTCUSDT_TAKER).unwrap_or_else(|e| panic!("{e}"));
    let same = backtest_with(&s, p, &Costs::taker_only(FeeRate::LTCUSDT_TAKER))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain, same);
    assert!(
        read_funding("[{\"symbol\":\"LTCUSDT\"}]", "LTCUSDT")
            .is_err_and(|e| e.starts_with("funding record 1: no timestamp"))
    );
}
