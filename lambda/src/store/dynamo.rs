//! [`DynamoStore`]: the production state store, one DynamoDB table for every bot.
//!
//! Layout (String keys `pk`/`sk`, TTL attribute `ttl` in UNIX seconds):
//!
//! | item | pk | sk | other attributes |
//! |---|---|---|---|
//! | bot record | `bot#<id>` | `state` | `version` (N), `schema` (N: 2, or 1 upgraded on load), `record` (S, JSON) |
//! | order | `bot#<id>` | `order#<decided_at_ms, 13 digits>#<clOrdID>` | `ttl`, `schema`, `order` (S, JSON) |
//! | route nonce | `nonce#<nonce>` | `nonce` | `ttl` |
//!
//! Every write of the record is a conditional `PutItem` on the version that was read, so two ticks
//! racing on the same bot cannot both win. DynamoDB deletes expired items lazily (up to days late),
//! so readers treat an item whose `ttl` has passed as gone.

mod item;

use super::{
    BotRecord, OrderLog, RECORD_SCHEMA, SCHEMA, StateStore, StoreError, StoreResult, Versioned,
    order_expiry_s, order_sort_key, validate_nonce, validate_order,
};
use crate::bot_id::BotId;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::BehaviorVersion;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use item::{bot_pk, decode_order, decode_record, n, s, ttl_of};
use std::collections::HashMap;
use std::time::Duration;

/// The store's timeouts: the SDK sets none on a call by default, and a hung connection must not eat
/// the tick's one-minute budget. Three attempts (the SDK's standard retries) fit in the 10 s total.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(10))
        .build()
}

/// The sort key of a bot's record.
const STATE_SK: &str = "state";

/// The DynamoDB adapter of [`StateStore`].
///
/// Cheap to clone: the SDK client is shared.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through an already configured client.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// A store on `table` with the usual AWS configuration from the environment (region,
    /// credentials, `AWS_ENDPOINT_URL_DYNAMODB`, ...). Build it once per process: loading the
    /// configuration is the slow part of a cold start.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        DynamoStore::from_sdk_config(&sdk, table)
    }

    /// A store on `table` from an AWS configuration the caller already loaded (and shares with its
    /// other clients), with the store's [`timeouts`].
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .timeout_config(timeouts())
            .build();
        DynamoStore::new(Client::from_conf(config), table)
    }

    /// The SDK client (for tests and tools that need raw access).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand billing, `pk`/`sk` String keys) and turns on TTL on `ttl`.
    /// For tests and local set-ups; production creates it from the SAM template.
    pub async fn create_table(&self) -> StoreResult<()> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Failed(format!("key schema: {e}")))
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Failed(format!("attribute definition: {e}")))
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .send()
            .await
            .map_err(|e| classify("CreateTable", e))?;
        self.wait_active().await?;
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name("ttl")
            .build()
            .map_err(|e| StoreError::Failed(format!("TTL specification: {e}")))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| classify("UpdateTimeToLive", e))?;
        Ok(())
    }

    /// Real DynamoDB takes a few seconds to make a new table usable; emulators are instant.
    async fn wait_active(&self) -> StoreResult<()> {
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| classify("DescribeTable", e))?;
            let status = out.table().and_then(|t| t.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::Unavailable(format!(
            "table {} not ACTIVE after 60 s",
            self.table
        )))
    }
}

impl StateStore for DynamoStore {
    async fn load(&self, bot_id: &BotId) -> StoreResult<Option<Versioned<BotRecord>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(bot_pk(bot_id)))
            .key("sk", s(STATE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        match out.item {
            None => Ok(None),
            Some(item) => decode_record(bot_id, &item).map(Some),
        }
    }

    async fn save(&self, record: &BotRecord, expected: Option<u64>) -> StoreResult<u64> {
        let new_version = match expected {
            None => 1,
            Some(v) => v
                .checked_add(1)
                .ok_or_else(|| StoreError::Failed("record version overflow".to_owned()))?,
        };
        let json = serde_json::to_string(record)
            .map_err(|e| StoreError::Failed(format!("encoding bot record: {e}")))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(bot_pk(&record.bot_id)))
            .item("sk", s(STATE_SK))
            .item("version", n(new_version))
            .item("schema", n(RECORD_SCHEMA))
            .item("record", s(json));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(v)),
        };
        match put.send().await {
            Ok(_) => Ok(new_version),
            // Also what the SDK's retry of a timed-out attempt that did land sees: the caller's
            // reload then finds its own write, which the conflict path handles like anyone else's.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict {
                    bot_id: record.bot_id.clone(),
                    expected,
                })
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    async fn record_order(&self, bot_id: &BotId, order: &OrderLog) -> StoreResult<()> {
        validate_order(order)?;
        let json = serde_json::to_string(order)
            .map_err(|e| StoreError::Failed(format!("encoding order: {e}")))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(bot_pk(bot_id)))
            .item("sk", s(order_sort_key(order)))
            .item("ttl", n(order_expiry_s(order)))
            .item("schema", n(SCHEMA))
            .item("order", s(json))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn recent_orders(
        &self,
        bot_id: &BotId,
        limit: usize,
        now: i64,
    ) -> StoreResult<Vec<OrderLog>> {
        let mut orders = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        while orders.len() < limit {
            let page = i32::try_from(limit - orders.len())
                .unwrap_or(i32::MAX)
                .min(100);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(bot_pk(bot_id)))
                .expression_attribute_values(":prefix", s("order#"))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in out.items() {
                // Expired but not yet swept by DynamoDB's lazy TTL: already gone as far as we care.
                if ttl_of(item).is_some_and(|ttl| ttl < now) {
                    continue;
                }
                if orders.len() < limit {
                    orders.push(decode_order(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(orders)
    }

    async fn claim_nonce(&self, nonce: &str, now: i64, expires_at_s: i64) -> StoreResult<bool> {
        validate_nonce(nonce)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("nonce#{nonce}")))
            .item("sk", s("nonce"))
            .item("ttl", n(expires_at_s))
            // An expired nonce that TTL has not swept yet may be claimed again: its request's
            // timestamp is outside the auth window by then, so a replay fails on the timestamp.
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }
}

/// Sorts an SDK failure into what the caller should do: retry (throttling, 5xx, timeouts, broken
/// connections) or give up (permissions, validation, missing table).
fn classify<E>(operation: &str, err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    const RETRYABLE_CODES: &[&str] = &[
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "ReplicatedWriteConflictException",
    ];
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(d) => !d.is_user(),
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() >= 500
                || s.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c))
        }
        _ => false,
    };
    let message = format!("DynamoDB {operation}: {}", DisplayErrorContext(&err));
    if retryable {
        StoreError::Unavailable(message)
    } else {
        StoreError::Failed(message)
    }
}
