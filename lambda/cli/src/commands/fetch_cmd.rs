//! `maestro fetch`: BitMEX public candle history into a CSV file.

use super::CliError;
use crate::fetch::{BarProgress, FetchOptions, RequestRate, fetch_history, parse_time};
use clap::Args;
use maestro_lambda::bitmex::MAINNET_URL;
use maestro_lambda::exchange::BinSize;
use std::path::PathBuf;
use std::time::Duration;

/// `maestro fetch` options.
#[derive(Args, Debug)]
#[command(after_long_help = "\
Writes BitMEX's trade/bucketed rows (completed buckets only, end-of-bucket timestamps) as CSV \
with BitMEX's columns, the layout `maestro backtest` reads. The download is resumable: run the \
same command again after an interruption and it continues after the file's last row. Without an \
API key BitMEX allows 30 requests a minute; the download paces itself (a month of 1-minute \
candles is about 90 requests, 3 minutes).

Exit codes: 0 done, 1 failure (2 bad options).")]
pub struct FetchArgs {
    /// Output CSV file (created, or continued when it already holds the same series).
    pub output: PathBuf,
    /// Symbol.
    #[arg(long, default_value = "LTCUSDT")]
    pub symbol: String,
    /// Candle length: 1m, 5m, 1h or 1d.
    #[arg(long, default_value = "1m", value_parser = parse_bin)]
    pub bin: BinSize,
    /// Start (UTC unless a zone is given): 2024-12-01, 2024-12-01T12:00, 2024-12-01T12:00:00Z.
    #[arg(long)]
    pub from: String,
    /// End (same forms) [default: now].
    #[arg(long)]
    pub to: Option<String>,
    /// Download from BitMEX's production site instead of testnet.
    #[arg(long)]
    pub mainnet: bool,
    /// Another API root (e.g. a proxy): overrides --mainnet.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Requests per minute at most (BitMEX allows 30 without a key).
    #[arg(long, default_value_t = 30)]
    pub rate: u32,
}

fn parse_bin(text: &str) -> Result<BinSize, String> {
    BinSize::parse(text)
        .ok_or_else(|| format!("{text:?} is not a candle length: use 1m, 5m, 1h or 1d"))
}

pub(super) fn run(args: &FetchArgs) -> Result<(), CliError> {
    let from = parse_time(&args.from).map_err(|e| CliError::Usage(format!("--from: {e}")))?;
    let to = match &args.to {
        Some(text) => parse_time(text).map_err(|e| CliError::Usage(format!("--to: {e}")))?,
        None => maestro_lambda::clock::now_ms(),
    };
    let mut options = FetchOptions::new(args.symbol.clone(), args.bin, from, to, &args.output);
    if args.mainnet {
        options.base_url = MAINNET_URL.to_owned();
    }
    if let Some(url) = &args.base_url {
        options.base_url.clone_from(url);
    }
    options.rate = RequestRate::new(args.rate, Duration::from_secs(60))
        .map_err(|e| CliError::Usage(format!("--rate: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let summary = runtime
        .block_on(fetch_history(&options, &BarProgress::new()))
        .map_err(|e| CliError::Failed(e.to_string()))?;
    println!("{summary}");
    Ok(())
}
