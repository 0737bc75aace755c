//! Test infrastructure for CryptoMaestro's end-to-end tests: real local servers the real adapters
//! talk to (a fake BitMEX over HTTP, a DynamoDB-compatible emulator), and loaders for the real market
//! data in `../shared/data`.

pub mod data;
pub mod dynamo;
pub mod fake_bitmex;
pub mod tick_harness;
