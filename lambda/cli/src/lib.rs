//! maestro-cli: the trader's local tools around the runner ([`maestro_lambda`]) and the core
//! ([`maestro_core`]), behind the `maestro` binary.
//!
//! - [`local`]: `maestro run`, the Lambda's tick on a [`sim::SimExchange`] and a file store (or, with
//!   `--live`, on BitMEX), with the routes served on loopback;
//! - [`backtest`] and [`sweep`]: a candle file ([`candles_file`]) through the core, one window pair or
//!   every pair, with [`chart`]s;
//! - [`walk_forward`]: `maestro sweep --walk-forward`, choose on a training window, trade the next
//!   test window, the out-of-sample figure next to the in-sample best;
//! - [`fetch`]: BitMEX's public history to a resumable CSV file;
//! - [`remote`]: a deployed bot's routes, signed, from the command line;
//! - [`commands`]: the command line that ties them together.
//!
//! None of it needs the AWS SDK: `maestro-lambda` is used without its `aws` feature.

pub mod backtest;
pub mod candles_file;
mod chart;
pub mod commands;
pub mod fetch;
pub mod local;
pub mod remote;
pub mod sim;
pub mod sweep;
pub mod walk_forward;
