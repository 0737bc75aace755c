//! Test hooks around the real tick: a failpoint that kills it once, and a gate that makes
//! "started concurrently" mean "all read the same version" so a race test is deterministic.

use maestro_lambda::store::{BotRecord, OrderLog, StateStore, StoreResult, Versioned};
use maestro_lambda::tick::{Failpoint, Failpoints};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Barrier;

/// Kills the tick once, at one failpoint, as if the process died there.
#[derive(Debug)]
pub struct CrashOnce {
    point: Failpoint,
    fired: AtomicBool,
}

impl CrashOnce {
    /// Fires the first time the tick reaches `point`.
    pub fn at(point: Failpoint) -> Self {
        CrashOnce {
            point,
            fired: AtomicBool::new(false),
        }
    }

    /// Whether it fired.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Failpoints for CrashOnce {
    fn fire(&self, point: Failpoint) -> bool {
        point == self.point && !self.fired.swap(true, Ordering::SeqCst)
    }
}

/// The real store, except that each `load` returns only once `n` loads have completed: every tick
/// of a concurrent group has then read the same version before any of them can save. Everything
/// else goes straight to the store. Meant for exactly `n` loads (one per tick); use the inner
/// store directly for inspection.
#[derive(Clone, Debug)]
pub struct LoadGate<S> {
    inner: S,
    barrier: Arc<Barrier>,
}

impl<S> LoadGate<S> {
    /// A gate for `n` concurrent loads on `inner`.
    pub fn new(inner: S, n: usize) -> Self {
        LoadGate {
            inner,
            barrier: Arc::new(Barrier::new(n)),
        }
    }
}

impl<S: StateStore> StateStore for LoadGate<S> {
    async fn load(&self, bot_id: &str) -> StoreResult<Option<Versioned<BotRecord>>> {
        let loaded = self.inner.load(bot_id).await;
        self.barrier.wait().await;
        loaded
    }

    async fn save(&self, record: &BotRecord, expected: Option<u64>) -> StoreResult<u64> {
        self.inner.save(record, expected).await
    }

    async fn record_order(&self, bot_id: &str, order: &OrderLog) -> StoreResult<()> {
        self.inner.record_order(bot_id, order).await
    }

    async fn recent_orders(
        &self,
        bot_id: &str,
        limit: usize,
        now_s: i64,
    ) -> StoreResult<Vec<OrderLog>> {
        self.inner.recent_orders(bot_id, limit, now_s).await
    }

    async fn claim_nonce(&self, nonce: &str, now_s: i64, expires_at_s: i64) -> StoreResult<bool> {
        self.inner.claim_nonce(nonce, now_s, expires_at_s).await
    }
}
