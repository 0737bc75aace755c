//! maestro-core: the allocation-free decision core of CryptoMaestro.
//!
//! Pipeline: candles (exact integer ticks) → rolling SMAs → crossover regime → target position →
//! the market order that moves the exchange position to the target.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod candle;
pub mod order;
pub mod price;

pub use candle::Candle;
pub use order::{Order, Side};
pub use price::{Price, PriceError, TickSize};
