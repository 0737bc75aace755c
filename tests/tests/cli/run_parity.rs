//! Backtest/live parity on real and synthetic data: replaying a candle file through `maestro run` (the real tick,
//! the file store, the simulated exchange) gives exactly the trades of `maestro backtest` on the same
//! file — also across an exchange outage in the data, and across a stop and a resume.

use maestro_cli::backtest::{BacktestReport, backtest};
use maestro_cli::candles_file::{LoadOptions, load};
use maestro_cli::local::{MarketSource, RunEnd, RunOptions, RunSummary, run_simulated};
use maestro_cli::sim::account::{FeeRate, Fill};
use maestro_core::Mode;
use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::params::BotParams;
use maestro_tests::data::data_file;
use maestro_tests::market::{rough_market, write_freqtrade};
use maestro_tests::scratch::{scratch_dir, scratch_dir_in_memory};

/// The synthetic market's seed.
const SEED: u64 = 0x7061_7269_7479;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes rows `range` of a freqtrade JSON file to a new file in `dir`.
fn slice_freqtrade(src: &Path, range: std::ops::Range<usize>, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(src).expect("read data file");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).expect("freqtrade JSON");
    let out = dir.join("slice.json");
    std::fs::write(&out, serde_json::to_string(&rows[range]).expect("encode")).expect("write");
    out
}

fn bot(short: u32, long: u32, mode: Mode) -> BotConfig {
    BotConfig {
        id: "parity".parse().expect("a valid bot id"),
        params: BotParams {
            short_window: short,
            long_window: long,
            mode,
            bin: BinSize::M1,
            ..BotParams::default()
        },
    }
}

fn options(state: &Path, file: &Path, bot: BotConfig, max_ticks: Option<u64>) -> RunOptions {
    RunOptions {
        state_dir: state.to_owned(),
        limits: DeployLimits::of_bots(std::slice::from_ref(&bot)),
        bot,
        market: MarketSource::File {
            path: file.to_owned(),
            load: LoadOptions::default(),
        },
        pace: Duration::ZERO,
        listen: None,
        max_ticks,
        print_ticks: false,
    }
}

async fn run(options: &RunOptions) -> RunSummary {
    let mut sink = std::io::sink();
    run_simulated(options, &mut sink, std::future::pending())
        .await
        .unwrap_or_else(|e| panic!("maestro run failed: {e}"))
}

fn backtest_of(file: &Path, bot: &BotConfig) -> BacktestReport {
    let series = load(file, &LoadOptions::default()).expect("load");
    let params = bot.params.core_params(1000);
    backtest(&series, params, FeeRate::LTCUSDT_TAKER).expect("backtest")
}

fn assert_same_trades(run: &RunSummary, report: &BacktestReport, what: &str) {
    let backtest_fills: Vec<Fill> = report.trades.iter().map(|t| t.fill).collect();
    assert!(
        !backtest_fills.is_empty(),
        "{what}: the slice must trade for the comparison to mean anything"
    );
    assert_eq!(
        run.fills.len(),
        backtest_fills.len(),
        "{what}: maestro run filled {} orders, the backtest {}",
        run.fills.len(),
        backtest_fills.len()
    );
    for (i, (a, b)) in run.fills.iter().zip(&backtest_fills).enumerate() {
        assert_eq!(a, b, "{what}: fill {i} differs (run vs backtest)");
    }
    assert_eq!(
        run.account, report.account,
        "{what}: final accounts differ (run vs backtest)"
    );
}

/// The run trades like the backtest on `file` for two window pairs and modes.
async fn replay_matches_backtest(test: &str, file: &Path) {
    for (short, long, mode) in [(10, 50, Mode::LongShort), (5, 30, Mode::LongOnly)] {
        let bot = bot(short, long, mode);
        let state = scratch_dir_in_memory(test);
        let summary = run(&options(state.path(), file, bot.clone(), None)).await;
        assert_eq!(summary.end, RunEnd::MarketEnd);
        assert_same_trades(
            &summary,
            &backtest_of(file, &bot),
            &format!("{short}/{long} {mode:?}"),
        );
    }
}

/// A run stopped after 777 ticks and resumed ends like the backtest of all of `file` (2,000 bars).
async fn stop_and_resume_matches_backtest(test: &str, file: &Path) {
    let bot = bot(10, 50, Mode::LongShort);
    let state = scratch_dir_in_memory(test);
    let first = run(&options(state.path(), file, bot.clone(), Some(777))).await;
    assert_eq!(first.end, RunEnd::MaxTicks);
    assert_eq!(first.ticks, 777);
    let second = run(&options(state.path(), file, bot.clone(), None)).await;
    assert_eq!(second.end, RunEnd::MarketEnd);
    assert_eq!(
        second.ticks,
        2_000 - 777,
        "the resumed run goes on after the stored candle"
    );
    assert_same_trades(
        &second,
        &backtest_of(file, &bot),
        "stopped at 777 and resumed",
    );
}

/// Across the one outage in `file`, the run trades like the backtest.
async fn outage_matches_backtest(test: &str, file: &Path) {
    let bot = bot(10, 50, Mode::LongShort);
    let report = backtest_of(file, &bot);
    assert_eq!(report.gaps.len(), 1, "the file must hold the outage");
    let state = scratch_dir_in_memory(test);
    let summary = run(&options(state.path(), file, bot.clone(), None)).await;
    assert_same_trades(&summary, &report, "across the outage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_real_candles_trades_exactly_like_the_backtest() {
    let test = "replaying_real_candles_trades_exactly_like_the_backtest";
    let Some(src) = data_file(test, "ltcusdt-binance-spot-1m-2021-05.json") else {
        return;
    };
    let dir = scratch_dir(test);
    // Includes the 19 May 2021 crash.
    let file = slice_freqtrade(&src, 5_000..8_000, dir.path());
    replay_matches_backtest(test, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_synthetic_candles_trades_exactly_like_the_backtest() {
    let test = "replaying_synthetic_candles_trades_exactly_like_the_backtest";
    let dir = scratch_dir(test);
    // Trends, chop and a crash.
    let file = write_freqtrade(dir.path(), &rough_market(SEED, 3_000), &[]);
    replay_matches_backtest(test, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_and_resumed_run_ends_like_an_uninterrupted_one() {
    let test = "a_stopped_and_resumed_run_ends_like_an_uninterrupted_one";
    let Some(src) = data_file(test, "ltcusdt-binance-spot-1m-2021-05.json") else {
        return;
    };
    let dir = scratch_dir(test);
    let file = slice_freqtrade(&src, 20_000..22_000, dir.path());
    stop_and_resume_matches_backtest(test, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_and_resumed_synthetic_run_ends_like_an_uninterrupted_one() {
    let test = "a_stopped_and_resumed_synthetic_run_ends_like_an_uninterrupted_one";
    let dir = scratch_dir(test);
    let file = write_freqtrade(dir.path(), &rough_market(SEED, 2_000), &[]);
    stop_and_resume_matches_backtest(test, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_outage_in_the_data_is_handled_like_the_backtest() {
    let test = "an_exchange_outage_in_the_data_is_handled_like_the_backtest";
    let Some(src) = data_file(test, "ltcusdt-binance-spot-1m-2021-04-gaps.json") else {
        return;
    };
    let full = load(&src, &LoadOptions::default()).expect("load");
    let gap = full.gaps.first().expect("the April file has outages");
    let dir = scratch_dir(test);
    let file = slice_freqtrade(&src, gap.index - 1_200..gap.index + 1_200, dir.path());
    outage_matches_backtest(test, &file).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_outage_in_synthetic_data_is_handled_like_the_backtest() {
    let test = "an_exchange_outage_in_synthetic_data_is_handled_like_the_backtest";
    let dir = scratch_dir(test);
    // 150 minutes missing, as in April 2021's first outage.
    let file = write_freqtrade(
        dir.path(),
        &rough_market(SEED, 2_550),
        std::slice::from_ref(&(1_200..1_350)),
    );
    outage_matches_backtest(test, &file).await;
}
