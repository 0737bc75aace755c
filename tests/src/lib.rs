//! Test infrastructure for CryptoMaestro's end-to-end tests: real local servers the real adapters
//! talk to (a fake BitMEX over HTTP, a DynamoDB-compatible emulator and a fault-injecting proxy in
//! front of it), and loaders for the real market data in `../shared/data`, and what every test
//! shares: the clock ([`clock`]), a fake with candles ([`market`]), scratch directories
//! ([`scratch`]).

pub mod clock;
pub mod data;
pub mod dynamo;
pub mod fake_bitmex;
pub mod market;
pub mod scratch;
pub mod store_proxy;
pub mod tick_harness;
