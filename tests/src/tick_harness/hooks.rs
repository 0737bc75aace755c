//! Test hooks around the real tick: a failpoint that kills it once, a gate that makes "started
//! concurrently" mean "all read the same version" so a race test is deterministic, and a hold that
//! stops a tick right after its load while the test acts.

use core::future::Future;
use maestro_lambda::bot_id::BotId;
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

/// What a store wrapper does once a load has read the record, before the load returns.
pub trait LoadHook: Send + Sync {
    /// Runs after every load has read the record.
    fn after_load(&self) -> impl Future<Output = ()> + Send;
}

/// The real store with a [`LoadHook`] between a load reading the record and returning it;
/// everything else goes straight to the store.
#[derive(Clone, Debug)]
pub struct Hooked<S, H> {
    inner: S,
    hook: H,
}

impl<S: StateStore, H: LoadHook> StateStore for Hooked<S, H> {
    async fn load(&self, bot_id: &BotId) -> StoreResult<Option<Versioned<BotRecord>>> {
        let loaded = self.inner.load(bot_id).await;
        self.hook.after_load().await;
        loaded
    }

    async fn save(&self, record: &BotRecord, expected: Option<u64>) -> StoreResult<u64> {
        self.inner.save(record, expected).await
    }

    async fn record_order(&self, bot_id: &BotId, order: &OrderLog) -> StoreResult<()> {
        self.inner.record_order(bot_id, order).await
    }

    async fn recent_orders(
        &self,
        bot_id: &BotId,
        limit: usize,
        now_s: i64,
    ) -> StoreResult<Vec<OrderLog>> {
        self.inner.recent_orders(bot_id, limit, now_s).await
    }

    async fn claim_nonce(&self, nonce: &str, now_s: i64, expires_at_s: i64) -> StoreResult<bool> {
        self.inner.claim_nonce(nonce, now_s, expires_at_s).await
    }
}

/// Each load returns only once `n` loads have read the record.
#[derive(Clone, Debug)]
pub struct Gate(Arc<Barrier>);

impl LoadHook for Gate {
    async fn after_load(&self) {
        self.0.wait().await;
    }
}

/// The real store, except that each `load` returns only once `n` loads have completed: every tick
/// of a concurrent group has then read the same version before any of them can save. Meant for
/// exactly `n` loads (one per tick); use the inner store directly for inspection.
pub type LoadGate<S> = Hooked<S, Gate>;

impl<S> Hooked<S, Gate> {
    /// A gate for `n` concurrent loads on `inner`.
    pub fn new(inner: S, n: usize) -> Self {
        Hooked {
            inner,
            hook: Gate(Arc::new(Barrier::new(n))),
        }
    }
}

/// The first load holds on to the record it read until the test lets it go.
#[derive(Clone, Debug)]
pub struct Hold {
    armed: Arc<AtomicBool>,
    loaded: Arc<Barrier>,
    go: Arc<Barrier>,
}

impl LoadHook for Hold {
    async fn after_load(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.loaded.wait().await;
            self.go.wait().await;
        }
    }
}

/// The real store, except that its first `load` holds on to the record it read until the test
/// lets it go: a tick that has loaded the record, and then meets whatever happens meanwhile.
pub type HoldAfterLoad<S> = Hooked<S, Hold>;

impl<S> Hooked<S, Hold> {
    /// Holds the first load on `inner`.
    pub fn new(inner: S) -> Self {
        Hooked {
            inner,
            hook: Hold {
                armed: Arc::new(AtomicBool::new(true)),
                loaded: Arc::new(Barrier::new(2)),
                go: Arc::new(Barrier::new(2)),
            },
        }
    }

    /// Returns once the held load has read the record.
    pub async fn loaded(&self) {
        self.hook.loaded.wait().await;
    }

    /// Lets the held load return.
    pub async fn release(&self) {
        self.hook.go.wait().await;
    }
}
