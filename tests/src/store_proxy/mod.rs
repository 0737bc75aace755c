//! A fault-injecting HTTP proxy between a `DynamoStore` and the DynamoDB emulator, so store faults
//! reach the real adapter through real HTTP: every request goes on to moto and moto's answer comes
//! back unchanged, unless a [`Fault`] fires. The faults are the ones a production store meets:
//! throttling, 500s, a request that hangs, and a write that lands but whose answer is lost.
//!
//! The proxy runs on its own thread and runtime, so sync and async tests can use it alike, and
//! dropping it ends every request it still holds: a hang cannot outlive its test.
//!
//! [`proxied_table`] gives a test a fresh table, a store that reaches it through a new proxy with
//! the production SDK configuration (retries and timeouts, every duration divided by
//! [`TIME_SCALE`]), and the same table straight on moto to see what really landed.

mod faults;
mod server;
mod table;

pub use table::{ProxiedTable, TIME_SCALE, proxied_table, scaled_retries, scaled_timeouts};

use faults::Faults;
use maestro_lambda::store::dynamo::timeouts;
use server::Shared;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One way the store misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 400 `ThrottlingException`, as DynamoDB answers over its throughput; not forwarded.
    Throttle,
    /// 500 `InternalServerError`; not forwarded.
    ServerError,
    /// Held for the proxy's hang time ([`StoreProxy::set_hang`]) and never forwarded; a client
    /// still waiting by then gets a 500.
    Hang,
    /// Forwarded, so a write lands, then answered 500 instead of moto's answer: the write whose
    /// answer was lost.
    LostAnswer,
}

impl Fault {
    /// Every fault, in the order the random mode numbers them.
    pub const ALL: [Fault; 4] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Hang,
        Fault::LostAnswer,
    ];

    /// Whether moto sees the request before the fault shows.
    pub fn forwards(self) -> bool {
        self == Fault::LostAnswer
    }
}

/// One request the proxy took, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The DynamoDB operation (`PutItem`), from the `X-Amz-Target` header; empty without one.
    pub operation: String,
    /// The fault it got, if any.
    pub fault: Option<Fault>,
}

/// The longest a [`Fault::Hang`] holds a request, whatever [`StoreProxy::set_hang`] asked.
pub const MAX_HANG: Duration = Duration::from_secs(60);

/// A running proxy. Dropping it stops it and ends the requests it holds.
#[derive(Debug)]
pub struct StoreProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StoreProxy {
    /// Starts a proxy to the DynamoDB server at `moto` on a free port of 127.0.0.1, with no
    /// faults and a hang time of twice the store's production attempt timeout.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1 or the proxy's thread cannot start.
    pub fn start(moto: SocketAddr) -> StoreProxy {
        let hang = timeouts()
            .operation_attempt_timeout()
            .unwrap_or(Duration::from_secs(3))
            * 2;
        let shared = Shared::new(moto, Faults::new(hang))
            .map(Arc::new)
            .unwrap_or_else(|e| panic!("store proxy: HTTP client: {e}"));
        let started = TcpListener::bind("127.0.0.1:0").and_then(|listener| {
            let addr = listener.local_addr()?;
            let (stop, thread) = server::spawn(listener, Arc::clone(&shared))?;
            Ok((addr, stop, thread))
        });
        let (addr, stop, thread) =
            started.unwrap_or_else(|e| panic!("store proxy: starting on 127.0.0.1: {e}"));
        StoreProxy {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, the endpoint for an SDK client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Gives `fault` to the next `times` requests for `operation` (`"PutItem"`, ...; any when
    /// `None`). Rules apply in the order they were injected, before the random mode.
    pub fn inject(&self, operation: Option<&str>, fault: Fault, times: u32) {
        self.shared.lock().inject(operation, fault, times);
    }

    /// Gives every request no rule caught one of [`Fault::ALL`] with probability `per_mille`/1000,
    /// drawn from `seed`: the same seed and the same order of requests fire the same faults.
    pub fn random(&self, seed: u64, per_mille: u32) {
        self.shared.lock().random(seed, per_mille);
    }

    /// No more faults: drops the rules and the random mode (the counters keep counting).
    pub fn clear(&self) {
        self.shared.lock().clear();
    }

    /// How long a [`Fault::Hang`] holds its request, at most [`MAX_HANG`].
    pub fn set_hang(&self, hang: Duration) {
        self.shared.lock().set_hang(hang);
    }

    /// Requests sent on to moto so far, [`Fault::LostAnswer`] included.
    pub fn forwarded(&self) -> u32 {
        self.shared.lock().forwarded
    }

    /// Faults fired so far.
    pub fn faults_fired(&self) -> u32 {
        self.shared.lock().fired()
    }

    /// Requests taken and not yet answered (a hang the client gave up on still counts until the
    /// hang time is over).
    pub fn in_flight(&self) -> u32 {
        self.shared.lock().in_flight
    }

    /// Every request so far, in arrival order, with the fault it got.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().seen().to_vec()
    }
}

impl Drop for StoreProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
