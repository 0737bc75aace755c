//! A test's table behind a proxy of its own, and the store configuration that reaches it:
//! production's, with every duration divided by [`TIME_SCALE`].

use super::StoreProxy;
use crate::dynamo::{self, DynamoTable, fresh_table, shared_server};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use maestro_lambda::store::DynamoStore;
use maestro_lambda::store::dynamo::timeouts;
use std::time::Duration;

/// In [`proxied_table`]'s store every production duration (the SDK's retry backoff, the store's
/// timeouts) is divided by this: the same attempts in the same order, ten times sooner.
pub const TIME_SCALE: u32 = 10;

/// The retries production's store gets from `aws_config::load_defaults` (the SDK's standard mode:
/// 3 attempts, jittered exponential backoff from 1 s, at most 20 s), backoff divided by
/// [`TIME_SCALE`].
pub fn scaled_retries() -> RetryConfig {
    let production = RetryConfig::standard();
    let initial = production.initial_backoff() / TIME_SCALE;
    let max = production.max_backoff() / TIME_SCALE;
    production
        .with_initial_backoff(initial)
        .with_max_backoff(max)
}

/// The store's production [`timeouts`] divided by [`TIME_SCALE`].
pub fn scaled_timeouts() -> TimeoutConfig {
    let production = timeouts();
    let scale = |d: Option<Duration>| d.map(|d| d / TIME_SCALE);
    let mut scaled = TimeoutConfig::builder();
    scaled
        .set_connect_timeout(scale(production.connect_timeout()))
        .set_read_timeout(scale(production.read_timeout()))
        .set_operation_attempt_timeout(scale(production.operation_attempt_timeout()))
        .set_operation_timeout(scale(production.operation_timeout()));
    scaled.build()
}

/// A table of its own for one test, reached through a proxy of its own.
#[derive(Debug)]
pub struct ProxiedTable {
    /// The proxy between [`store`](Self::store) and moto.
    pub proxy: StoreProxy,
    /// The store under test, through the proxy: production retries and timeouts, time scaled.
    pub store: DynamoStore,
    /// The same table straight on moto (one attempt per call, no faults): what really landed.
    pub direct: DynamoTable,
}

/// Creates a uniquely named table for `test` on the shared server, a proxy to the server, and a
/// store on the table through the proxy with [`scaled_retries`] and [`scaled_timeouts`]. The
/// proxy's hang time is twice the scaled attempt timeout.
///
/// # Panics
/// When the server is unavailable or the table cannot be created.
pub async fn proxied_table(test: &str) -> ProxiedTable {
    let direct = fresh_table(test).await;
    let proxy = StoreProxy::start(shared_server().addr());
    let timeouts = scaled_timeouts();
    if let Some(attempt) = timeouts.operation_attempt_timeout() {
        proxy.set_hang(attempt * 2);
    }
    let config = dynamo::config_builder(&proxy.endpoint())
        .retry_config(scaled_retries())
        .timeout_config(timeouts)
        // The SDK keeps one retry quota per partition for the whole process. A Lambda process has
        // one store, so one quota; tests running side by side must not drain each other's.
        .retry_partition(RetryPartition::new(direct.table.clone()))
        .build();
    let store = DynamoStore::new(Client::from_conf(config), direct.table.clone());
    ProxiedTable {
        proxy,
        store,
        direct,
    }
}
