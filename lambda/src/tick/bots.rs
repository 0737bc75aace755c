//! Every configured bot in one tick: each has its own record and runs on its own, so one bot's
//! failure is reported and does not stop the others.

use super::{Failpoints, Tick, TickError, TickReport};
use crate::config::BotConfig;
use crate::exchange::{Exchange, ExchangeError, Instrument};
use crate::store::StateStore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Instruments read once per process (tick size and lot size do not change between ticks).
#[derive(Debug, Default)]
pub struct InstrumentCache {
    known: Mutex<HashMap<String, Instrument>>,
}

impl InstrumentCache {
    /// The instrument for `symbol`, read from the exchange on first use.
    pub async fn get<E: Exchange>(
        &self,
        exchange: &E,
        symbol: &str,
    ) -> Result<Instrument, ExchangeError> {
        if let Some(found) = self.lock().get(symbol) {
            return Ok(found.clone());
        }
        let fetched = exchange.instrument(symbol).await?;
        self.lock().insert(symbol.to_owned(), fetched.clone());
        Ok(fetched)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instrument>> {
        // A panic elsewhere cannot leave the map half-written: inserts are single calls.
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs one tick for every bot, in order, and returns each bot's result.
pub async fn run_all<E: Exchange, S: StateStore>(
    exchange: &E,
    store: &S,
    bots: &[BotConfig],
    instruments: &InstrumentCache,
    now_ms: i64,
    deadline: Instant,
    failpoints: &dyn Failpoints,
) -> Vec<(String, Result<TickReport, TickError>)> {
    let mut results = Vec::with_capacity(bots.len());
    for bot in bots {
        let result = match instruments.get(exchange, &bot.params.symbol).await {
            Ok(instrument) => {
                let tick = Tick {
                    exchange,
                    store,
                    instrument: &instrument,
                    now_ms,
                    deadline,
                    failpoints,
                };
                tick.run(&bot.id, &bot.params).await
            }
            Err(error) => {
                tracing::warn!(bot = %bot.id, error = %error, outcome = "error", "tick");
                Err(TickError::Exchange(error))
            }
        };
        results.push((bot.id.clone(), result));
    }
    results
}
