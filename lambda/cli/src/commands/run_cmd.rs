//! `maestro run`: the bot locally, with the Lambda's tick pipeline.

use super::CliError;
use super::args::{BinArg, FileArgs, FormatArg, ModeArg, StampArg};
use crate::local::live::{LiveHost, run_live};
use crate::local::{MarketSource, RunEnd, RunOptions, RunSummary, run_simulated};
use clap::Args;
use maestro_core::replay::DEMO_START_MS;
use maestro_lambda::bitmex::{ApiSecret, BitmexClient, BitmexConfig, Credentials};
use maestro_lambda::config::{BotConfig, validate_params};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::FileStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `maestro run` options.
#[derive(Args, Debug)]
#[command(after_long_help = "\
Without --candles and --live, the bot trades a built-in market (a deterministic generator with \
trends, sideways chop, whipsaws and jumps) on the simulated exchange, one tick per candle, at \
--pace-ms per tick. With --candles FILE it replays that file instead; the trades equal \
`maestro backtest FILE` with the same settings. With --live (and BITMEX_API_KEY, \
BITMEX_API_SECRET in the environment) it trades BitMEX (testnet unless BITMEX_BASE_URL says \
otherwise) on the real one-minute clock.

State lives in --state-dir: stop with Ctrl-C at any time and run again to resume.
While it runs, the routes of the Lambda's function URL answer on --listen:
  curl http://127.0.0.1:8080/status
  curl http://127.0.0.1:8080/control -H 'content-type: application/json' \\
       -d '{\"action\":\"pause\",\"bot\":\"local\"}'
They answer programs on this machine, not web pages: a request must name the server in Host \
(127.0.0.1, localhost or [::1] with its port), may carry no Origin but the server's own, and \
POST /control takes application/json only (403 or 415 otherwise, and nothing changes). With \
--live a POST also needs the token printed at start (and written to route-token in --state-dir, \
mode 0600) in the header x-maestro-token: -H \"x-maestro-token: $(cat .maestro/route-token)\".

Exit codes: 0 done or stopped cleanly, 1 failure, 2 bad options.")]
pub struct RunArgs {
    /// Directory for the bot's state (records, order log, the simulated exchange's journal).
    #[arg(long, default_value = ".maestro")]
    pub state_dir: PathBuf,
    /// Bot id (its record's key): 1 to 64 of A-Z a-z 0-9 _ -.
    #[arg(long, default_value = "local")]
    pub bot: String,
    /// Replay this candle file instead of the built-in market.
    #[arg(long, conflicts_with_all = ["seed", "demo_candles", "live"])]
    pub candles: Option<PathBuf>,
    /// File format of --candles.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Which end of its bar a --candles timestamp names.
    #[arg(long, value_enum, default_value = "auto")]
    pub stamp: StampArg,
    /// Seed of the built-in market (the same seed gives the same market).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Candles in the built-in market.
    #[arg(long, default_value_t = 2_000)]
    pub demo_candles: usize,
    /// Candle length: 1m, 5m, 1h, 1d [default: 1m simulated, 1d live; a file's own].
    #[arg(long, value_parser = parse_bin)]
    pub bin: Option<BinSize>,
    /// Milliseconds between two simulated ticks (0 = as fast as possible).
    #[arg(long, default_value_t = 25)]
    pub pace_ms: u64,
    /// Stop after this many ticks.
    #[arg(long)]
    pub ticks: Option<u64>,
    /// Serve the routes here (a loopback address; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not serve the routes.
    #[arg(long)]
    pub no_listen: bool,
    /// Print only the summary, not one line per tick.
    #[arg(long)]
    pub quiet: bool,
    /// Trade BitMEX (testnet by default) on the real clock; needs BITMEX_API_KEY and
    /// BITMEX_API_SECRET.
    #[arg(long)]
    pub live: bool,
    /// Symbol traded.
    #[arg(long, default_value = "LTCUSDT")]
    pub symbol: String,
    /// Short SMA window in candles.
    #[arg(long, default_value_t = 10)]
    pub short: u32,
    /// Long SMA window in candles.
    #[arg(long, default_value_t = 50)]
    pub long: u32,
    /// Which positions the bot may hold.
    #[arg(long, value_enum, default_value = "long-short")]
    pub mode: ModeArg,
    /// Contracts held when in the market (a multiple of the lot size; LTCUSDT: 1000 = 0.1 LTC).
    #[arg(long, default_value_t = 1000)]
    pub qty: u64,
    /// Largest absolute position in contracts [default: --qty].
    #[arg(long)]
    pub max_position: Option<u64>,
    /// Hysteresis band in basis points (0 = off).
    #[arg(long, default_value_t = 0)]
    pub hysteresis_bp: u32,
    /// Consecutive closes a new regime must hold (0 or 1 = off).
    #[arg(long, default_value_t = 0)]
    pub confirm_bars: u32,
    /// Minimum candles between two flips (0 = off).
    #[arg(long, default_value_t = 0)]
    pub min_hold_bars: u32,
    /// Compute and record orders without sending them.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_bin(text: &str) -> Result<BinSize, String> {
    BinSize::parse(text)
        .ok_or_else(|| format!("{text:?} is not a candle length: use 1m, 5m, 1h or 1d"))
}

impl RunArgs {
    /// The bot these options describe, validated like the Lambda's configuration.
    pub fn bot_config(&self) -> Result<BotConfig, CliError> {
        let bin = self
            .bin
            .unwrap_or(if self.live { BinSize::D1 } else { BinSize::M1 });
        let params = BotParams {
            symbol: self.symbol.clone(),
            bin,
            short_window: self.short,
            long_window: self.long,
            mode: self.mode.into(),
            qty: self.qty,
            max_position: self.max_position.unwrap_or(self.qty),
            guards: maestro_core::Guards {
                hysteresis_bp: self.hysteresis_bp,
                confirm_bars: self.confirm_bars,
                min_hold_bars: self.min_hold_bars,
            },
            dry_run: self.dry_run,
        };
        validate_params(&params).map_err(|e| CliError::Usage(e.to_string()))?;
        let id = maestro_lambda::bot_id::BotId::new(self.bot.as_str())
            .map_err(|e| CliError::Usage(e.to_string()))?;
        Ok(BotConfig { id, params })
    }

    /// The simulated run's options.
    pub fn run_options(&self) -> Result<RunOptions, CliError> {
        let market = match &self.candles {
            Some(path) => {
                let file = FileArgs {
                    file: path.clone(),
                    format: self.format,
                    stamp: self.stamp,
                    bin: BinArg(self.bin),
                    tick: maestro_core::TickSize::CENT,
                };
                MarketSource::File {
                    path: path.clone(),
                    load: file.load_options(),
                }
            }
            None => MarketSource::Demo {
                seed: self.seed,
                candles: self.demo_candles,
                start_close_ms: DEMO_START_MS,
            },
        };
        Ok(RunOptions {
            state_dir: self.state_dir.clone(),
            bot: self.bot_config()?,
            market,
            pace: Duration::from_millis(self.pace_ms),
            listen: (!self.no_listen).then_some(self.listen),
            max_ticks: self.ticks,
            print_ticks: !self.quiet,
        })
    }
}

pub(super) fn run(args: &RunArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let shutdown = async {
        // If the signal handler cannot be installed, run until the market ends.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let mut out = std::io::stdout();
    if args.live {
        let host = live_host(args, |name| std::env::var(name).ok())?;
        let listen = (!args.no_listen).then_some(args.listen);
        let ticks = runtime
            .block_on(run_live(host, listen, &mut out, shutdown))
            .map_err(local_error)?;
        println!(
            "stopped after {ticks} ticks; state saved in {}",
            args.state_dir.display()
        );
        return Ok(());
    }
    let options = args.run_options()?;
    let summary = runtime
        .block_on(run_simulated(&options, &mut out, shutdown))
        .map_err(local_error)?;
    println!("{}", describe(&summary, &options));
    Ok(())
}

/// The live run's ports, from the options and the environment variables `env` looks up (tests pass
/// a map instead of mutating the process environment).
fn live_host(
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<LiveHost>, CliError> {
    let bot = args.bot_config()?;
    let key = env("BITMEX_API_KEY").unwrap_or_default();
    let secret = env("BITMEX_API_SECRET").unwrap_or_default();
    if key.is_empty() || secret.is_empty() {
        return Err(CliError::Usage(
            "--live needs BITMEX_API_KEY and BITMEX_API_SECRET in the environment (a testnet key \
             from testnet.bitmex.com unless BITMEX_BASE_URL points elsewhere)"
                .into(),
        ));
    }
    let mut config = BitmexConfig::default();
    if let Some(url) = env("BITMEX_BASE_URL") {
        config.base_url = url;
    }
    let client = BitmexClient::new(config, Credentials::new(key, ApiSecret::new(secret)))
        .map_err(|e| CliError::Usage(format!("BITMEX_BASE_URL: {e}")))?;
    let store = FileStore::open(&args.state_dir)
        .map_err(|e| CliError::Failed(format!("cannot use {}: {e}", args.state_dir.display())))?;
    Ok(Arc::new(LiveHost {
        client,
        store,
        bots: vec![bot],
    }))
}

fn local_error(e: crate::local::LocalError) -> CliError {
    match e {
        crate::local::LocalError::Usage(m) => CliError::Usage(m),
        crate::local::LocalError::Failed(m) => CliError::Failed(m),
    }
}

/// The closing summary of a simulated run.
pub fn describe(summary: &RunSummary, options: &RunOptions) -> String {
    let end = match summary.end {
        RunEnd::MarketEnd => "market replayed to the end",
        RunEnd::MaxTicks => "tick limit reached",
        RunEnd::Interrupted => "interrupted",
    };
    let account = &summary.account;
    let equity = summary.mark.map_or(0.0, |mark| {
        account.equity(mark).to_quote(summary.tick_value)
    });
    format!(
        "{end}: {} ticks this run; {} fills, {} round trips ({} won), {} flips, position {:+}, \
         fees {:.4}, PnL after fees {:+.4} (quote currency). State in {} (run again to resume; \
         delete it to start over).",
        summary.ticks,
        summary.fills.len(),
        account.round_trips,
        account.wins,
        account.flips,
        account.position,
        account.fees.to_quote(summary.tick_value),
        equity,
        options.state_dir.display()
    )
}
