//! Real exchange files as they are: rows stamped off the bar grid (skipped and located by
//! default, snapped or refused on request) and bars longer than the file's, built from whole bins
//! (`--bin 1h`, `--bin 1d`) and checked against a plain grouping written here.

use maestro_cli::candles_file::{
    CandleSeries, LoadOptions, OffGrid, aggregate, describe_off_grid, load,
};
use maestro_cli::commands::{Cli, CliError, run};
use maestro_tests::data::data_file;
use maestro_tests::scratch::scratch_dir;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

fn cli(args: &[&str]) -> Result<(), CliError> {
    let mut argv = vec!["maestro"];
    argv.extend_from_slice(args);
    let parsed = Cli::parse_args(argv).unwrap_or_else(|e| panic!("{args:?} must parse: {e}"));
    run(parsed)
}

/// One row as a plain reader takes it: start ms and OHLC in cents, from the JSON numbers.
type Row = (i64, i64, i64, i64, i64);

/// The rows of a freqtrade file, read with serde_json alone (no loader code).
fn plain_rows(path: &std::path::Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<Vec<f64>> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let cents = |v: f64| (v * 100.0).round() as i64;
    rows.iter()
        .map(|r| {
            (
                r[0] as i64,
                cents(r[1]),
                cents(r[2]),
                cents(r[3]),
                cents(r[4]),
            )
        })
        .collect()
}

/// Bins of `bin` by the rule, the plain way: group start stamps by UTC bin, keep the groups with
/// every bar of `bar`, first open, max high, min low, last close, stamped with the bin's end.
fn plain_bins(rows: &[Row], bar: i64, bin: i64) -> Vec<Row> {
    let mut groups: std::collections::BTreeMap<i64, Vec<Row>> = Default::default();
    for &r in rows {
        groups.entry(r.0 - r.0.rem_euclid(bin)).or_default().push(r);
    }
    groups
        .into_iter()
        .filter(|(_, g)| g.len() as i64 == bin / bar)
        .map(|(start, g)| {
            let high = g.iter().map(|r| r.2).max().unwrap_or(0);
            let low = g.iter().map(|r| r.3).min().unwrap_or(0);
            (start + bin, g[0].1, high, low, g[g.len() - 1].4)
        })
        .collect()
}

fn as_rows(series: &CandleSeries) -> Vec<Row> {
    series
        .candles
        .iter()
        .map(|c| (c.close_time_ms, c.open.0, c.high.0, c.low.0, c.close.0))
        .collect()
}

/// A freqtrade file of `n` hourly rows from 2021-05-01 00:00 UTC, rows in `stray` stamped
/// 28:16.812 past their hour as the real Binance file does.
fn write_hourly(dir: &std::path::Path, n: usize, stray: &[usize]) -> String {
    let h0 = 1_619_827_200_000i64;
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let t = h0 + HOUR * i as i64 + if stray.contains(&i) { 1_696_812 } else { 0 };
            let c = 100.0 + ((i * 37) % 23) as f64;
            format!("[{t},{c},{},{},{c},1]", c + 1.0, c - 1.0)
        })
        .collect();
    let path = dir.join("hourly.json");
    std::fs::write(&path, format!("[{}]", rows.join(",\n"))).unwrap_or_else(|e| panic!("{e}"));
    path.to_string_lossy().into_owned()
}

#[test]
fn a_file_with_off_grid_rows_backtests_and_the_refusal_names_the_row() {
    let dir = scratch_dir("off_grid_cli");
    let file = write_hourly(dir.path(), 200, &[60, 61, 62]);
    cli(&["backtest", &file, "--short", "3", "--long", "8"]).unwrap_or_else(|e| panic!("{e}"));
    cli(&["sweep", &file, "--short", "2..4", "--long", "5..9"]).unwrap_or_else(|e| panic!("{e}"));
    cli(&[
        "backtest",
        &file,
        "--short",
        "3",
        "--long",
        "8",
        "--off-grid",
        "snap",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let e = cli(&["backtest", &file, "--off-grid", "error"])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("record 61 (line 61, column 1): timestamp 2021-05-03 12:28:16.812 is off the grid of 1h bars"),
        "{e}"
    );
}

#[test]
fn daily_bars_from_hourly_rows_backtest_the_deployment_defaults() {
    let dir = scratch_dir("bin_cli");
    let file = write_hourly(dir.path(), 24 * 70, &[]);
    // The deployment's defaults: daily bars, 10/50.
    cli(&[
        "backtest", &file, "--bin", "1d", "--short", "10", "--long", "50",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    cli(&[
        "sweep", &file, "--bin", "4h", "--short", "2..5", "--long", "6..20",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let e = cli(&["backtest", &file, "--bin", "1m"])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("cannot make 1m bars from a file of 1h bars"),
        "{e}"
    );
}

#[test]
fn the_real_hourly_file_loads_with_its_43_stray_rows_skipped_and_located() {
    let test = "the_real_hourly_file_loads_with_its_43_stray_rows_skipped_and_located";
    let Some(path) = data_file(test, "ltcusdt-binance-spot-1h-2017-2021.json") else {
        return;
    };
    let series = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(series.bin_ms, HOUR, "the most common step");
    assert_eq!(series.candles.len(), 30_304 - 43);
    let records: Vec<usize> = series.off_grid.iter().map(|r| r.at.record).collect();
    assert_eq!(
        records,
        (1366..=1408).collect::<Vec<_>>(),
        "1-based records"
    );
    assert!(
        series
            .off_grid
            .iter()
            .all(|r| r.stamp_ms % HOUR == 1_696_812)
    );
    let warning = describe_off_grid(&series.off_grid, series.bin_ms).unwrap_or_default();
    assert!(
        warning.starts_with(
            "43 row(s) off the 1h bar grid skipped (what they leave is a gap): records 1366–1408 \
             (from line 1, column 72994; 2018-02-09 09:28:16.812 → 2018-02-11 03:28:16.812) UTC"
        ),
        "{warning}"
    );
    // Refusing names the first of them.
    let refuse = LoadOptions {
        off_grid: OffGrid::Error,
        ..LoadOptions::default()
    };
    let e = load(&path, &refuse)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with(
            "record 1366 (line 1, column 72994): timestamp 2018-02-09 09:28:16.812 is off the grid"
        ),
        "{e}"
    );
    // The command runs, on hourly bars and on the deployment's daily 10/50.
    let file = path.to_string_lossy();
    cli(&["backtest", &file]).unwrap_or_else(|e| panic!("{e}"));
    cli(&[
        "backtest", &file, "--bin", "1d", "--short", "10", "--long", "50",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    // Daily bars equal the plain grouping of the on-grid rows.
    let rows: Vec<Row> = plain_rows(&path)
        .into_iter()
        .filter(|r| r.0 % HOUR == 0)
        .collect();
    let (days, _) = aggregate(&series, DAY).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(as_rows(&days), plain_bins(&rows, HOUR, DAY));
}

#[test]
fn real_minutes_of_may_2021_aggregate_like_a_plain_grouping() {
    let test = "real_minutes_of_may_2021_aggregate_like_a_plain_grouping";
    let Some(path) = data_file(test, "ltcusdt-binance-spot-1m-2021-05.json") else {
        return;
    };
    let series = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let rows = plain_rows(&path);
    for bin in [HOUR, 4 * HOUR, DAY] {
        let (bars, how) = aggregate(&series, bin).unwrap_or_else(|e| panic!("{e}"));
        let want = plain_bins(&rows, MIN, bin);
        assert!(want.len() > 25, "{bin}: {} bins", want.len());
        assert_eq!(as_rows(&bars), want, "bins of {bin} ms");
        assert_eq!(how.incomplete, 0, "the month has no outage");
    }
    let file = path.to_string_lossy();
    cli(&[
        "backtest", &file, "--bin", "1h", "--short", "10", "--long", "50",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn an_outage_in_real_minutes_is_a_gap_in_hourly_bars() {
    let test = "an_outage_in_real_minutes_is_a_gap_in_hourly_bars";
    let Some(path) = data_file(test, "ltcusdt-binance-spot-1m-2021-04-gaps.json") else {
        return;
    };
    let series = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let (hours, how) = aggregate(&series, HOUR).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(as_rows(&hours), plain_bins(&plain_rows(&path), MIN, HOUR));
    assert!(
        how.incomplete >= 2,
        "each outage cuts into at least one hour: {how:?}"
    );
    assert_eq!(hours.gaps.len(), 2, "{:?}", hours.gaps);
}

#[test]
fn costs_show_separately_in_the_sweep_csv() {
    let dir = scratch_dir("costs_cli");
    let file = write_hourly(dir.path(), 24 * 20, &[]);
    let csv = dir.path().join("pairs.csv");
    let csv_s = csv.to_string_lossy().into_owned();
    let args = [
        "sweep",
        &file,
        "--short",
        "2..3",
        "--long",
        "5..6",
        "--slippage-bp",
        "2",
        "--funding-rate",
        "0.0001",
        "--csv",
        &csv_s,
    ];
    cli(&args).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "short,long,pnl,max_drawdown,fees,slippage,funding,realised,fills,flips,round_trips,\
             wins,exposure_pct,signals"
        )
    );
    for line in lines {
        let cells: Vec<f64> = line.split(',').filter_map(|c| c.parse().ok()).collect();
        assert!(
            cells[5] > 0.0 && cells[6] != 0.0,
            "slippage and funding charged: {line}"
        );
    }
    cli(&[
        "backtest",
        &file,
        "--short",
        "3",
        "--long",
        "6",
        "--slippage-range",
        "0.25",
        "--fills",
        "maker",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
}
