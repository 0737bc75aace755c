//! maestro-lambda: the runner around [`maestro_core`].
//!
//! The tick and the routes are written against two ports, [`exchange::Exchange`] and
//! [`store::StateStore`]; production plugs in the BitMEX client and DynamoDB, local runs the
//! simulated exchange and a file store, and the end-to-end tests the real adapters against real local
//! servers.

pub mod backtest;
pub mod bitmex;
pub mod candles_file;
pub mod chart;
pub mod cli;
pub mod config;
pub mod exchange;
pub mod fetch;
pub mod handler;
pub mod local;
pub mod params;
pub mod routes;
pub mod secrets;
pub mod sim;
pub mod store;
pub mod sweep;
pub mod tick;
