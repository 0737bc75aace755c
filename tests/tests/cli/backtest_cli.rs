//! `maestro backtest` and `maestro sweep` as a user meets them: parsing, exit codes, error messages
//! that say what to do, and the chart files, on real data and on a broken file.

use maestro_cli::commands::{Cli, CliError, run};
use maestro_tests::data::data_file;
use maestro_tests::market::{rough_market, write_freqtrade};
use maestro_tests::scratch::scratch_dir;

fn cli(args: &[&str]) -> Result<(), CliError> {
    let mut argv = vec!["maestro"];
    argv.extend_from_slice(args);
    let parsed = Cli::parse_args(argv).unwrap_or_else(|e| panic!("{args:?} must parse: {e}"));
    run(parsed)
}

fn usage_exit_code(args: &[&str]) -> i32 {
    let mut argv = vec!["maestro"];
    argv.extend_from_slice(args);
    match Cli::parse_args(argv) {
        Ok(_) => panic!("{args:?} must be refused by the parser"),
        Err(e) => e.exit_code(),
    }
}

#[test]
fn backtest_writes_its_chart_and_sweep_its_heatmap() {
    let test = "backtest_writes_its_chart_and_sweep_its_heatmap";
    let Some(file) = data_file(test, "ltcusdt-binance-spot-1m-2024-12.csv") else {
        return;
    };
    let dir = scratch_dir(test);
    charts_are_written(&file.to_string_lossy(), &dir, "start");
}

#[test]
fn backtest_writes_its_chart_and_sweep_its_heatmap_on_synthetic_data() {
    let dir = scratch_dir("charts_synthetic");
    let file = write_freqtrade(dir.path(), &rough_market(0x0063_6c69, 3_000), &[]);
    // freqtrade JSON is start-of-bar by definition.
    charts_are_written(&file.to_string_lossy(), &dir, "start");
}

/// `maestro backtest --chart` and `maestro sweep --heatmap` on `file` write SVGs into `dir`.
fn charts_are_written(file: &str, dir: &tempfile::TempDir, stamp: &str) {
    let chart = dir.path().join("bt.svg");
    let chart_s = chart.to_string_lossy().into_owned();
    cli(&[
        "backtest", file, "--short", "20", "--long", "90", "--stamp", stamp, "--chart", &chart_s,
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let svg = std::fs::read_to_string(&chart).unwrap_or_default();
    assert!(
        svg.starts_with("<svg") && svg.contains("SMA 20/90"),
        "chart must be an SVG with the pair"
    );
    let heat = dir.path().join("heat.svg");
    let heat_s = heat.to_string_lossy().into_owned();
    cli(&[
        "sweep",
        file,
        "--short",
        "2..8",
        "--long",
        "5..20",
        "--top",
        "3",
        "--heatmap",
        &heat_s,
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let svg = std::fs::read_to_string(&heat).unwrap_or_default();
    assert!(
        svg.starts_with("<svg") && svg.contains("<rect"),
        "heatmap must be an SVG of cells"
    );
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1_with_a_way_out() {
    let dir = scratch_dir("usage_errors");
    // Parser-level: unknown values and malformed ranges.
    assert_eq!(
        usage_exit_code(&["backtest", "f.json", "--mode", "sideways"]),
        2
    );
    assert_eq!(usage_exit_code(&["sweep", "f.json", "--short", "9..3"]), 2);
    assert_eq!(
        usage_exit_code(&["backtest", "f.json", "--fee-bp", "0.001"]),
        2
    );
    assert_eq!(usage_exit_code(&["backtest"]), 2, "FILE is required");
    assert_eq!(usage_exit_code(&["backtest", "--help"]), 0);

    // A file that does not exist: failure, naming the path.
    let missing = dir.path().join("nope.json").to_string_lossy().into_owned();
    let e = cli(&["backtest", &missing]).err();
    assert!(
        matches!(&e, Some(CliError::Failed(m)) if m.contains("nope.json")),
        "{e:?}"
    );
    assert_eq!(
        e.map(|e| e.exit_code()),
        Some(std::process::ExitCode::from(1))
    );

    // A broken row: the record, line and what is wrong.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,open,high,low,close,volume\n\
         2024-12-26T17:45:00Z,102.4,102.65,102.4,102.62,1\n\
         2024-12-26T17:46:00Z,102.6,102.66,102.45,103.99,1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bad_s = bad.to_string_lossy().into_owned();
    let e = cli(&["backtest", &bad_s])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("record 2 (line 3, column 1): close 103.99 lies outside"),
        "{e}"
    );
    assert!(
        e.contains("--format"),
        "the message says what else to try: {e}"
    );

    // Options that parse but do not fit together: usage (2).
    let e = cli(&["backtest", &bad_s, "--short", "50", "--long", "10"]).err();
    assert!(matches!(e, Some(CliError::Usage(_))), "{e:?}");
    let e = cli(&["backtest", &bad_s, "--chart", "out.png"]).err();
    assert!(
        matches!(&e, Some(CliError::Usage(m)) if m.contains(".svg")),
        "{e:?}"
    );
    let e = cli(&["sweep", &bad_s, "--short", "40..50", "--long", "3..10"]).err();
    assert!(
        matches!(&e, Some(CliError::Usage(m)) if m.contains("widen")),
        "{e:?}"
    );
}
