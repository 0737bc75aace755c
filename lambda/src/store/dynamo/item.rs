//! The shape of [`DynamoStore`](super::DynamoStore)'s items: key parts, attribute values, and
//! decoders that refuse anything the store did not write itself.

use crate::bot_id::BotId;
use crate::store::{
    BotRecord, OrderLog, SCHEMA, StoreError, StoreResult, Versioned, record_from_json, shorten,
};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(super) fn bot_pk(bot_id: &str) -> String {
    format!("bot#{bot_id}")
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) type Item = HashMap<String, AttributeValue>;

/// Reads a bot record item, refusing anything that is not exactly what [`DynamoStore::save`] wrote.
pub(super) fn decode_record(bot_id: &BotId, item: &Item) -> StoreResult<Versioned<BotRecord>> {
    let schema: u64 = number(item, "schema")?;
    let version: u64 = number(item, "version")?;
    if version == 0 {
        return Err(StoreError::Corrupt(format!(
            "bot {bot_id}: version 0 was never written"
        )));
    }
    let json = string(item, "record")?;
    let corrupt = |e: String| StoreError::Corrupt(format!("bot {bot_id}: record: {e}"));
    let json: serde_json::Value = serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
    let value = record_from_json(schema, json).map_err(corrupt)?;
    if value.bot_id != *bot_id {
        return Err(StoreError::Corrupt(format!(
            "bot {bot_id}: record belongs to bot {:?}",
            shorten(&value.bot_id)
        )));
    }
    Ok(Versioned { value, version })
}

pub(super) fn decode_order(item: &Item) -> StoreResult<OrderLog> {
    check_schema(item)?;
    serde_json::from_str(string(item, "order")?)
        .map_err(|e| StoreError::Corrupt(format!("order item: {e}")))
}

pub(super) fn check_schema(item: &Item) -> StoreResult<()> {
    let schema: u32 = number(item, "schema")?;
    if schema == SCHEMA {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "unknown schema {schema} (this build reads {SCHEMA})"
        )))
    }
}

pub(super) fn ttl_of(item: &Item) -> Option<i64> {
    match item.get("ttl") {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

pub(super) fn string<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a string"
        ))),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
    }
}

pub(super) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| {
            StoreError::Corrupt(format!(
                "attribute {name} = {:?} is out of range",
                shorten(v)
            ))
        }),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
    }
}
