//! `maestro run`: the bot locally, with the Lambda's tick pipeline.

use super::CliError;
use super::args::{FileArgs, FormatArg, ModeArg, OffGridArg, StampArg};
use crate::local::live::{LiveHost, run_live};
use crate::local::{MarketSource, RunEnd, RunOptions, RunSummary, run_simulated};
use clap::Args;
use maestro_core::replay::DEMO_START_MS;
use maestro_lambda::bitmex::{
    ApiSecret, BitmexClient, BitmexConfig, Credentials, MAINNET_URL, TESTNET_URL, may_be_mainnet,
};
use maestro_lambda::config::{BotConfig, DeployLimits, parse_base_url, validate_params};
use maestro_lambda::exchange::BinSize;
use maestro_lambda::params::BotParams;
use maestro_lambda::secrets::credential_problem;
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
BITMEX_API_SECRET in the environment) it trades BitMEX testnet on the real one-minute clock; \
BITMEX_BASE_URL must be https (plain http only to 127.0.0.1, localhost or [::1]), and one that is \
not testnet, like mainnet, needs --mainnet. Empty or placeholder keys are refused before any \
request.

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
    /// With --live: trade BitMEX mainnet, real money (https://www.bitmex.com/api/v1 unless
    /// BITMEX_BASE_URL names another URL). Without it, a BITMEX_BASE_URL other than testnet is
    /// refused.
    #[arg(long, requires = "live")]
    pub mainnet: bool,
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
    /// Compute and record orders without sending them. A run started in dry run stays in dry
    /// run: the routes cannot take it live.
    #[arg(long)]
    pub dry_run: bool,
    /// Largest max_position (contracts) the routes' set_params may set [default: --max-position].
    #[arg(long)]
    pub position_cap: Option<u64>,
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

    /// What the routes may not go past: the position cap (at least the bot's own settings), and
    /// live trading only for a run started live.
    pub fn limits(&self, bot: &BotConfig) -> Result<DeployLimits, CliError> {
        let mut limits = DeployLimits::of_bots(std::slice::from_ref(bot));
        if let Some(cap) = self.position_cap {
            if i64::try_from(cap).is_err() || cap == 0 {
                return Err(CliError::Usage(format!(
                    "--position-cap {cap} must be from 1 to {}",
                    i64::MAX
                )));
            }
            limits.position_cap = cap;
        }
        limits
            .check(&bot.params)
            .map_err(|e| CliError::Usage(format!("--position-cap: {e}")))?;
        Ok(limits)
    }

    /// The simulated run's options.
    pub fn run_options(&self) -> Result<RunOptions, CliError> {
        let market = match &self.candles {
            Some(path) => {
                let file = FileArgs {
                    file: path.clone(),
                    format: self.format,
                    stamp: self.stamp,
                    bin: self.bin.into(),
                    off_grid: OffGridArg::Skip,
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
        let bot = self.bot_config()?;
        Ok(RunOptions {
            state_dir: self.state_dir.clone(),
            limits: self.limits(&bot)?,
            bot,
            market,
            pace: Duration::from_millis(self.pace_ms),
            listen: (!self.no_listen).then_some(self.listen),
            max_ticks: self.ticks,
            print_ticks: !self.quiet,
        })
    }
}

pub(super) fn run(args: &RunArgs) -> Result<(), CliError> {
    if !args.no_listen {
        crate::local::server::check_listen(args.listen).map_err(local_error)?;
    }
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
        let base_url = &host.client.config().base_url;
        if may_be_mainnet(base_url) {
            println!("live on {base_url}: MAINNET, real money");
        } else {
            println!("live on {base_url}");
        }
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
/// a map instead of mutating the process environment). Everything is checked before any request.
fn live_host(
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<LiveHost>, CliError> {
    let bot = args.bot_config()?;
    let base_url = live_base_url(env("BITMEX_BASE_URL"), args.mainnet)?;
    let credentials = live_credentials(&env)?;
    let config = BitmexConfig {
        base_url,
        ..BitmexConfig::default()
    };
    let client = BitmexClient::new(config, credentials)
        .map_err(|e| CliError::Usage(format!("BITMEX_BASE_URL: {e}")))?;
    let store = FileStore::open(&args.state_dir)
        .map_err(|e| CliError::Failed(format!("cannot use {}: {e}", args.state_dir.display())))?;
    Ok(Arc::new(LiveHost {
        client,
        store,
        limits: args.limits(&bot)?,
        bots: vec![bot],
    }))
}

/// The BitMEX API root of a live run: `BITMEX_BASE_URL` checked as the Lambda checks it, testnet
/// when it is unset or empty, mainnet with `--mainnet` alone. A URL that may be mainnet needs
/// `--mainnet`: a variable left over in the shell must not trade real money.
fn live_base_url(variable: Option<String>, mainnet: bool) -> Result<String, CliError> {
    let url = match variable.filter(|v| !v.trim().is_empty()) {
        Some(text) => parse_base_url(&text).map_err(|e| CliError::Usage(e.to_string()))?,
        None if mainnet => MAINNET_URL.to_owned(),
        None => TESTNET_URL.to_owned(),
    };
    match (may_be_mainnet(&url), mainnet) {
        (true, false) => Err(CliError::Usage(format!(
            "BITMEX_BASE_URL is {url}, which is not BitMEX testnet: trading there may move real \
             money. Add --mainnet if you mean it, or unset BITMEX_BASE_URL to trade testnet"
        ))),
        (false, true) => Err(CliError::Usage(format!(
            "--mainnet, but BITMEX_BASE_URL is {url}, which is testnet or this machine: unset \
             BITMEX_BASE_URL to trade mainnet, or leave out --mainnet"
        ))),
        _ => Ok(url),
    }
}

/// The API key and secret from `BITMEX_API_KEY` and `BITMEX_API_SECRET`, checked as the Lambda
/// checks its secret. An error names the variable, never its value.
fn live_credentials(env: &impl Fn(&str) -> Option<String>) -> Result<Credentials, CliError> {
    let read = |variable: &str| {
        let value = env(variable).unwrap_or_default();
        match credential_problem(&value) {
            None => Ok(value),
            Some(problem) => Err(CliError::Usage(format!(
                "{variable} {problem}: --live needs your BitMEX API key id and secret in \
                 BITMEX_API_KEY and BITMEX_API_SECRET (testnet keys from testnet.bitmex.com, \
                 unless --mainnet)"
            ))),
        }
    };
    let key = read("BITMEX_API_KEY")?;
    let secret = read("BITMEX_API_SECRET")?;
    Ok(Credentials::new(key, ApiSecret::new(secret)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Cli, Command};
    use std::collections::HashMap;

    const KEY: &str = "k3yIdOfTheTrader0123";
    const SECRET: &str = "s3cretOfTheTrader-0123456789";

    fn args(state: &std::path::Path, extra: &[&str]) -> RunArgs {
        let mut argv = vec!["maestro", "run", "--live", "--state-dir"];
        let state = state.to_str().unwrap_or_default().to_owned();
        argv.push(&state);
        argv.extend_from_slice(extra);
        match Cli::parse_args(argv).map(|c| c.command) {
            Ok(Command::Run(args)) => args,
            other => panic!("maestro run {extra:?}: {other:?}"),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut map: HashMap<String, String> = HashMap::from([
            ("BITMEX_API_KEY".to_owned(), KEY.to_owned()),
            ("BITMEX_API_SECRET".to_owned(), SECRET.to_owned()),
        ]);
        for (k, v) in pairs {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        move |name| map.get(name).cloned()
    }

    fn refused(state: &std::path::Path, extra: &[&str], pairs: &[(&str, &str)]) -> String {
        match live_host(&args(state, extra), env(pairs)) {
            Err(CliError::Usage(m)) => m,
            Err(other) => panic!("{pairs:?}: a usage error expected, got {other}"),
            Ok(host) => panic!(
                "{pairs:?} {extra:?} must be refused; got a client for {}",
                host.client.config().base_url
            ),
        }
    }

    /// `--live`'s limits for the routes: the cap defaults to the bot's own `--max-position`, can
    /// be raised with `--position-cap` but not below the bot's settings, and a run started in dry
    /// run cannot be taken live by a route.
    #[test]
    fn live_limits_come_from_the_options() {
        let dir = tempfile::tempdir().expect("temp dir");
        let limits =
            |extra: &[&str]| live_host(&args(dir.path(), extra), env(&[])).map(|h| h.limits);
        let got = limits(&["--qty", "2000", "--max-position", "3000"]).expect("valid");
        assert_eq!(
            got,
            DeployLimits {
                position_cap: 3000,
                live_allowed: true
            }
        );
        let got = limits(&["--position-cap", "5000", "--dry-run"]).expect("valid");
        assert_eq!(
            got,
            DeployLimits {
                position_cap: 5000,
                live_allowed: false
            }
        );
        for (extra, says) in [
            (
                &["--max-position", "3000", "--position-cap", "2000"][..],
                "position cap",
            ),
            (&["--position-cap", "0"][..], "--position-cap 0"),
            (
                &["--position-cap", "9223372036854775808"][..],
                "--position-cap",
            ),
        ] {
            match limits(extra) {
                Err(CliError::Usage(m)) => assert!(m.contains(says), "{extra:?}: {m}"),
                Err(other) => panic!("{extra:?}: a usage error expected, got {other}"),
                Ok(l) => panic!("{extra:?} must be refused, got {l:?}"),
            }
        }
    }

    #[test]
    fn live_trades_testnet_unless_told_otherwise() {
        let dir = tempfile::tempdir().expect("temp dir");
        let host = live_host(&args(dir.path(), &[]), env(&[])).expect("testnet by default");
        assert_eq!(
            host.client.config().base_url,
            maestro_lambda::bitmex::TESTNET_URL
        );
        let host = live_host(&args(dir.path(), &[]), env(&[("BITMEX_BASE_URL", " ")]))
            .expect("an empty variable is unset");
        assert_eq!(
            host.client.config().base_url,
            maestro_lambda::bitmex::TESTNET_URL
        );
    }

    /// `BITMEX_BASE_URL` is checked like the Lambda's configuration checks it, and a URL that is not
    /// testnet (or this machine) needs `--mainnet`: a leftover variable must not trade real money.
    #[test]
    fn live_refuses_bad_base_urls_and_mainnet_without_the_flag() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (url, says) in [
            ("http://www.bitmex.com/api/v1", "https"),
            ("http://10.0.0.7:8080/api/v1", "https"),
            ("not a url", "BITMEX_BASE_URL"),
            ("https://testnet.bitmex.com/api/v1?x=1", "query"),
            ("https://www.bitmex.com/api/v1", "--mainnet"),
            ("https://bitmex.example/api/v1", "--mainnet"),
        ] {
            let message = refused(dir.path(), &[], &[("BITMEX_BASE_URL", url)]);
            assert!(message.contains("BITMEX_BASE_URL"), "{url}: {message}");
            assert!(message.contains(says), "{url}: {message}");
        }
    }

    #[test]
    fn mainnet_only_with_the_flag_and_the_flag_only_for_mainnet() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = |extra: &[&str], pairs: &[(&str, &str)]| {
            live_host(&args(dir.path(), extra), env(pairs))
                .map(|host| host.client.config().base_url.clone())
        };
        let mainnet = maestro_lambda::bitmex::MAINNET_URL;
        assert_eq!(url(&["--mainnet"], &[]).ok().as_deref(), Some(mainnet));
        assert_eq!(
            url(
                &["--mainnet"],
                &[("BITMEX_BASE_URL", "https://www.bitmex.com/api/v1/")]
            )
            .ok()
            .as_deref(),
            Some(mainnet)
        );
        assert_eq!(
            url(&[], &[("BITMEX_BASE_URL", "http://127.0.0.1:4567/api/v1")])
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:4567/api/v1"),
            "this machine (the tests' fake) needs no flag"
        );
        let message = refused(
            dir.path(),
            &["--mainnet"],
            &[("BITMEX_BASE_URL", maestro_lambda::bitmex::TESTNET_URL)],
        );
        assert!(message.contains("--mainnet"), "{message}");
        assert!(
            Cli::parse_args(["maestro", "run", "--mainnet"]).is_err(),
            "--mainnet means nothing without --live"
        );
    }

    /// Empty or placeholder credentials stop the run before any request, and the message names the
    /// variable, never its value.
    #[test]
    fn live_refuses_empty_and_placeholder_keys_without_echoing_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        for value in [
            "",
            "   ",
            "changeme",
            "CHANGEME",
            "change-me",
            "xxx",
            "XXXXXXXX",
            "your-key",
            "YOUR_API_KEY",
            "<your-secret>",
            "REPLACE_ME",
            "abc def",
            " k3y-with-a-space-around ",
        ] {
            for variable in ["BITMEX_API_KEY", "BITMEX_API_SECRET"] {
                let message = refused(dir.path(), &[], &[(variable, value)]);
                assert!(
                    message.contains(variable),
                    "{variable}={value:?}: {message}"
                );
                let trimmed = value.trim();
                if trimmed.len() >= 3 {
                    assert!(
                        !message.to_lowercase().contains(&trimmed.to_lowercase()),
                        "{variable}={value:?}: the message echoes the value: {message}"
                    );
                }
                for other in [KEY, SECRET] {
                    assert!(!message.contains(other), "{message}");
                }
            }
        }
    }
}
