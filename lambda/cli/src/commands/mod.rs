//! The `maestro` command line: clap definitions and the commands behind them.
//!
//! Exit codes scripts can rely on: 0 success, 2 a usage error (bad option or combination; clap's
//! own parse errors use 2 as well), 1 a failure while running (unreadable or bad file, ...).

/// Writes a line to stdout; a failed write (a closed pipe, a full disk) ends the command with
/// [`CliError::Output`] instead of a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::commands::CliError::output)?
    }};
}

mod args;
mod backtest_cmd;
mod fetch_cmd;
mod remote_cmd;
mod run_cmd;
mod sweep_cmd;
mod walk_forward_cmd;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) use backtest_cmd::BacktestArgs;
pub(crate) use fetch_cmd::FetchArgs;
pub(crate) use remote_cmd::RemoteArgs;
pub(crate) use run_cmd::RunArgs;
pub(crate) use sweep_cmd::SweepArgs;

/// `maestro`: CryptoMaestro's local tools.
#[derive(Parser, Debug)]
#[command(
    name = "maestro",
    version,
    about = "CryptoMaestro: an SMA-crossover futures bot (BitMEX LTCUSDT) and its local tools",
    long_about = None,
    after_help = "Exit codes: 0 success; 1 failure while running (unreadable or bad candle file, \
                  output that cannot be written); 2 usage error (bad option or combination).",
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses arguments (the first is the program name) without exiting; clap's error knows its
    /// exit code (2 for usage errors, 0 for `--help`).
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Cli as Parser>::try_parse_from(args)
    }
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the bot: the Lambda's tick pipeline on a simulated exchange (or BitMEX with --live),
    /// state in a local directory, routes on 127.0.0.1.
    Run(RunArgs),
    /// Backtest one SMA pair over a candle file: trades, PnL after fees, drawdown, chart.
    ///
    /// Decisions come from the bot's own core. A market order fills at the close of the candle
    /// that triggered it and pays the taker fee (--fee-bp) on its notional, exactly as the
    /// simulated exchange of `maestro run` fills it; --slippage-bp/--slippage-range,
    /// --funding-rate/--funding-file and --fills maker add the other costs, each reported apart.
    /// --bin builds longer bars from the file's (whole bins only); rows off the file's bar grid
    /// are skipped and reported (--off-grid). Money is reported in the quote currency
    /// (contracts × price / --contracts-per-unit). Where the file has missing bars (an exchange
    /// outage) the position is held through the gap, the strategy restarts and warms up again,
    /// and the report lists each gap.
    Backtest(BacktestArgs),
    /// Backtest every window pair of two ranges over a candle file: best pairs and a heatmap.
    ///
    /// Every pair's figures equal a `maestro backtest` of that pair with the same options (same
    /// signals, fills, fees and gap policy). Without guards all pairs share one pass over the
    /// candles on all cores (the full 2..200 grid of a 44,447-candle month in about 0.3 s); with --hysteresis-bp/--confirm-bars/--min-hold-bars each pair
    /// runs the core strategy itself (slower, still in parallel); with slippage, funding or maker
    /// fills each pair is a full backtest. The CSV has fees, slippage and funding apart.
    ///
    /// --walk-forward TRAIN:TEST chooses the best pair (and with --wf-guards the guards) on each
    /// rolling training window, trades it on the test window that follows, and reports the folds
    /// end to end next to the in-sample best: the honest figure for a parameter choice.
    Sweep(SweepArgs),
    /// Download BitMEX public candle history into a CSV file (resumable, rate-limited).
    Fetch(FetchArgs),
    /// Status and control of a deployed bot through its function URL (or of a local `maestro
    /// run`): status, pause, resume, flatten, set KEY=VALUE.
    Remote(RemoteArgs),
}

/// A command's failure, split by exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The options do not make sense together (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The work failed (exit code 1).
    #[error("{0}")]
    Failed(String),
    /// Standard output could not be written (exit code 1; silent when the reader went away).
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

impl CliError {
    /// Wraps a failed write to stdout.
    pub fn output(e: std::io::Error) -> Self {
        CliError::Output(e)
    }

    /// Whether to stay silent: the reader of our output went away (`maestro ... | head`).
    pub fn is_closed_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) | CliError::Output(_) => ExitCode::from(1),
        }
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Backtest(args) => backtest_cmd::run(&args),
        Command::Sweep(args) => sweep_cmd::run(&args),
        Command::Run(args) => run_cmd::run(&args),
        Command::Fetch(args) => fetch_cmd::run(&args),
        Command::Remote(args) => remote_cmd::run(&args),
    }
}

/// A spinner on stderr for work of unknown length (hidden when stderr is not a terminal).
pub(crate) fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Loads the file named by the arguments, behind a spinner, and builds the bars of `--bin` from
/// it. Returns the series and the lines to print about what was done to the file's rows (rows
/// off the grid, bins built and left out).
pub(crate) fn load(
    file: &args::FileArgs,
) -> Result<(crate::candles_file::CandleSeries, Vec<String>), CliError> {
    use crate::candles_file::{LoadError, LoadOptions, aggregate, bin_name, describe_off_grid};
    let failed = |e: &dyn std::fmt::Display| {
        CliError::Failed(format!(
            "{}: {e}\n(fix the file, or name its layout with --format/--stamp/--off-grid)",
            file.file.display()
        ))
    };
    let bar = spinner(format!("loading {}", file.file.display()));
    // The file's own bar is detected; --bin names the bars wanted, and only a file too short to
    // tell its bar takes it as its own.
    let detect = LoadOptions {
        bin_ms: None,
        ..file.load_options()
    };
    let loaded = match crate::candles_file::load(&file.file, &detect) {
        Err(LoadError::Bin(_)) if file.bin.0.is_some() => {
            crate::candles_file::load(&file.file, &file.load_options())
        }
        other => other,
    };
    bar.finish_and_clear();
    let series = loaded.map_err(|e| match e {
        // Nothing to fix in the file's layout: say once what could not be read, and why.
        LoadError::Io { path, source } => CliError::Failed(format!("cannot read {path}: {source}")),
        e => failed(&e),
    })?;
    let mut notes = Vec::new();
    if let Some(line) = describe_off_grid(&series.off_grid, series.bin_ms) {
        notes.push(format!("warning: {line}"));
    }
    let Some(bin_ms) = file.bin.0.filter(|&b| b != series.bin_ms) else {
        return Ok((series, notes));
    };
    let (bars, how) = aggregate(&series, bin_ms)
        .map_err(|e| CliError::Failed(format!("{}: {e}", file.file.display())))?;
    notes.push(format!(
        "bars: {} whole {} bins built from {} candles of {}; left out: {} bin(s) with bars \
         missing (gaps), {} partial bin(s) at the ends",
        how.bins,
        bin_name(bin_ms),
        how.from_candles,
        bin_name(how.from_bin_ms),
        how.incomplete,
        how.partial_ends
    ));
    Ok((bars, notes))
}

/// One line describing a loaded series.
pub(crate) fn describe(series: &crate::candles_file::CandleSeries) -> String {
    use crate::candles_file::stamp::format_utc;
    let n = series.candles.len();
    let first = series.candles.first().map_or(0, |c| c.close_time_ms);
    let last = series.candles.last().map_or(0, |c| c.close_time_ms);
    format!(
        "{n} candles of {} ({} format, {}-of-bar stamps), closing {} → {} UTC, {} gap(s)",
        crate::candles_file::bin_name(series.bin_ms),
        series.format.name(),
        series.stamp.name(),
        format_utc(first),
        format_utc(last),
        series.gaps.len()
    )
}
