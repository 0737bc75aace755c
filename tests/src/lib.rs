//! Test infrastructure for CryptoMaestro's end-to-end tests: real local servers the real adapters
//! talk to (a fake BitMEX over HTTP, a DynamoDB-compatible emulator and a fault-injecting proxy in
//! front of it), and loaders for the real market data in `../shared/data`, and what every test
//! shares: the clock ([`clock`]), a fake with candles ([`market`]), scratch directories
//! ([`scratch`]).

pub mod clock;
pub mod dashboard_page;
pub mod data;
pub mod dynamo;
pub mod emulator;
pub mod events;
pub mod fake_bitmex;
pub mod market;
pub mod scratch;
pub mod sigv4_check;
pub mod store_proxy;
pub mod tick_harness;
pub mod webdriver;

use maestro_lambda::bot_id::BotId;

/// The bot id `id`, which a test wrote and knows to follow the rule.
///
/// # Panics
/// When `id` does not follow the rule.
pub fn bot_id(id: &str) -> BotId {
    BotId::new(id).unwrap_or_else(|e| panic!("test bot id: {e}"))
}
