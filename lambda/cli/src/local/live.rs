//! `maestro run --live`: the original script's behaviour, on BitMEX (testnet unless told otherwise)
//! with the real one-minute clock, state in the local file store. Real money is at stake, so its
//! route server takes a POST only with a token made for the run (see [`TOKEN_FILE`]).

use super::LocalError;
use super::guard::{RouteToken, TOKEN_HEADER};
use super::server::{self, Host};
use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::clock::now_ms;
use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::store::FileStore;
use maestro_lambda::tick::{InstrumentCache, NoFailpoints, run_all};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The polling period: a tick acts only when a new bucket has completed.
const PERIOD_MS: i64 = 60_000;

/// A tick starts this long after the minute, so the bucket that just closed is published.
const AFTER_MINUTE_MS: i64 = 3_000;

/// The file in the state directory that holds the run's route token (mode 0600: the user's only),
/// replaced at every start, removed at a clean stop.
pub const TOKEN_FILE: &str = "route-token";

/// The live run's ports, shared with the route server.
pub struct LiveHost {
    /// BitMEX.
    pub client: BitmexClient,
    /// Local state.
    pub store: FileStore,
    /// The bot.
    pub bots: Vec<BotConfig>,
    /// What the routes may not take the bot past.
    pub limits: DeployLimits,
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

    fn limits(&self) -> DeployLimits {
        self.limits
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
    let mut token_file = None;
    if let Some(addr) = listen {
        let token = RouteToken::generate();
        let file = write_token(host.store.dir(), &token)?;
        let bound = server::spawn(Arc::clone(&host), addr, Some(token.clone())).await?;
        let _ = writeln!(
            out,
            "routes on http://{bound}: GET /health, GET /status, POST /control\n\
             a POST needs the header {TOKEN_HEADER}: {} (also in {}, readable by you only)",
            token.expose(),
            file.display()
        );
        token_file = Some(file);
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
            () = &mut shutdown => break,
        }
    }
    if let Some(file) = token_file {
        // The token dies with the run; a new run writes a new one anyway.
        let _ = std::fs::remove_file(file);
    }
    Ok(ticks)
}

/// Writes `token` to [`TOKEN_FILE`] in `dir`, readable and writable by the user only. An old file
/// is removed first, so the new one is created with that mode rather than inheriting another.
fn write_token(dir: &Path, token: &RouteToken) -> Result<PathBuf, LocalError> {
    let path = dir.join(TOKEN_FILE);
    let failed = |e: std::io::Error| {
        LocalError::Failed(format!(
            "cannot write the route token to {}: {e}",
            path.display()
        ))
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(failed)?;
    writeln!(file, "{}", token.expose())
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    Ok(path)
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
    #[cfg(unix)]
    fn the_token_file_is_the_users_only_and_replaced_at_each_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let old = dir.path().join(TOKEN_FILE);
        std::fs::write(&old, "an old token\n").expect("write");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let token = RouteToken::generate();
        let path = write_token(dir.path(), &token).expect("written");
        assert_eq!(path, old);
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.trim(), token.expose());
    }

    #[test]
    fn ticks_land_just_after_each_minute() {
        assert_eq!(next_tick_in(0), Duration::from_millis(63_000));
        assert_eq!(next_tick_in(59_000), Duration::from_millis(4_000));
        assert_eq!(next_tick_in(61_000), Duration::from_millis(62_000));
    }
}
