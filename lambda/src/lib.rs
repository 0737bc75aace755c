//! maestro-lambda: the runner around [`maestro_core`].
//!
//! The tick and the routes are written against two ports, [`exchange::Exchange`] and
//! [`store::StateStore`]; production plugs in the BitMEX client and DynamoDB, local runs (the
//! `maestro` CLI in `maestro-cli`) the simulated exchange and a file store, and the end-to-end tests
//! the real adapters against real local servers.
//!
//! Dependencies run one way: `bootstrap` → [`handler`] → [`tick`] / [`routes`] → the ports ←
//! adapters ([`bitmex`], [`store`]). What only AWS needs (the DynamoDB store, Secrets Manager, the
//! Lambda runtime and its events) is behind the default feature `aws`.

pub mod bitmex;
pub mod bot_id;
pub mod clock;
pub mod config;
pub mod exchange;
#[cfg(feature = "aws")]
pub mod handler;
pub mod params;
pub mod pnl;
pub mod routes;
pub mod secrets;
pub mod store;
pub mod tick;
