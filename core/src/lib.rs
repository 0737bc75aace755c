//! maestro-core: the allocation-free decision core of CryptoMaestro.
//!
//! Pipeline: candles (exact integer ticks) → rolling SMAs → crossover regime → target position →
//! the market order that moves the exchange position to the target.
//!
//! ```text
//! Candle ──► Strategy::on_candle ──► SmaPair (one ring buffer, two exact sums)
//!                                      └─► Crossover (i128 cross-multiplication, guards)
//!                                            └─► Step::Signal { regime, target }
//! target_position() ──► plan_order(current) ──► Order { side, qty, reduce_only }
//! ```
//!
//! Nothing here allocates, reads a clock or does I/O; time arrives inside the candle. The state
//! round-trips through a JSON snapshot ([`Strategy::encode`] / [`Strategy::decode`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Tests may unwrap: a panic there is a failed test, not a crash on outside data.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod batch;
pub mod candle;
pub mod crossover;
mod num;
pub mod order;
pub mod params;
pub mod price;
pub mod replay;
pub mod sma;
pub mod snapshot;
pub mod state;
mod steady;
pub mod strategy;

pub use batch::{BatchError, BatchStats, run_batch};
pub use candle::Candle;
pub use crossover::{Guards, Regime};
pub use order::{Order, Side};
pub use params::{Mode, Params, ParamsError};
pub use price::{Price, PriceError, TickSize};
pub use replay::{DemoMarket, Digest, demo_digest};
pub use sma::{Mean, RollingSma, WindowError};
pub use snapshot::{SNAPSHOT_VERSION, SnapshotError};
pub use state::STATE_VERSION;
pub use strategy::{CandleError, Signal, Step, Strategy};
