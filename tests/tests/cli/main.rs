//! The `maestro` command line end to end: backtests on candle files, sweeps, `fetch` from the
//! fake BitMEX, and the local run's parity with the backtest.

mod backtest_cli;
mod backtest_files;
mod backtest_gaps;
mod backtest_sim_parity;
mod fetch_download;
mod fetch_errors;
mod fetch_pacing;
mod fetch_real_data;
mod run_parity;
mod sweep_real_data;
