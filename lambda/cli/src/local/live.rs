//! `maestro run --live`: the original script's behaviour, on BitMEX (testnet unless told otherwise)
//! with the real one-minute clock, state in the local file store.

use super::LocalError;
use super::server::{self, Host};
use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::clock::now_ms;
use maestro_lambda::config::BotConfig;
use maestro_lambda::store::FileStore;
use maestro_lambda::tick::{InstrumentCache, NoFailpoints, run_all};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The polling period: a tick acts only when a new bucket has completed.
const PERIOD_MS: i64 = 60_000;

/// A tick starts this long after the minute, so the bucket that just closed is published.
const AFTER_MINUTE_MS: i64 = 3_000;

/// The live run's ports, shared with the route server.
pub struct LiveHost {
    /// BitMEX.
    pub client: BitmexClient,
    /// Local state.
    pub store: FileStore,
    /// The bot.
    pub bots: Vec<BotConfig>,
}

impl Host for LiveHost {
    type Exchange = BitmexClient;

    fn exchange(&self) -> &BitmexClient {
        &self.client
    }

    fn store(&self) -> &FileStore {
        &self.store
    }

    fn bots(&self) -> &[BotConfig] {
        &self.bots
    }

    fn now_ms(&self) -> i64 {
        now_ms()
    }
}

/// Ticks every minute until `shutdown`; returns the number of ticks run.
pub async fn run_live(
    host: Arc<LiveHost>,
    listen: Option<SocketAddr>,
    out: &mut (dyn Write + Send),
    shutdown: impl Future<Output = ()>,
) -> Result<u64, LocalError> {
    if let Some(addr) = listen {
        let bound = server::spawn(Arc::clone(&host), addr).await?;
        let _ = writeln!(
            out,
            "routes on http://{bound}: GET /health, GET /status, POST /control"
        );
    }
    let instruments = InstrumentCache::default();
    tokio::pin!(shutdown);
    let mut ticks = 0u64;
    loop {
        let now = now_ms();
        // Leave a margin before the next tick so two never overlap.
        let deadline = Instant::now() + Duration::from_secs(50);
        let client = host.client.with_deadline(deadline);
        let results = run_all(
            &client,
            &host.store,
            &host.bots,
            &instruments,
            now,
            deadline,
            &NoFailpoints,
        )
        .await;
        ticks += 1;
        for (bot, result) in results {
            let line = match result {
                Ok(r) => format!(
                    "{bot}: {:?} candles {} target {:+} position {} {}",
                    r.outcome,
                    r.candles,
                    r.target,
                    r.position
                        .map_or_else(|| "-".to_owned(), |p| format!("{p:+}")),
                    r.order
                        .map(|o| format!(
                            "{} {} {} ({})",
                            o.side.as_str(),
                            o.qty,
                            o.status,
                            o.cl_ord_id
                        ))
                        .unwrap_or(r.note)
                ),
                Err(e) => format!("{bot}: error: {e}"),
            };
            let _ = writeln!(out, "{line}");
        }
        let wait = next_tick_in(now_ms());
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return Ok(ticks),
        }
    }
}

/// Time until the next minute boundary plus the publication margin.
fn next_tick_in(now_ms: i64) -> Duration {
    let next = (now_ms.div_euclid(PERIOD_MS) + 1) * PERIOD_MS + AFTER_MINUTE_MS;
    Duration::from_millis(u64::try_from(next - now_ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_land_just_after_each_minute() {
        assert_eq!(next_tick_in(0), Duration::from_millis(63_000));
        assert_eq!(next_tick_in(59_000), Duration::from_millis(4_000));
        assert_eq!(next_tick_in(61_000), Duration::from_millis(62_000));
    }
}
