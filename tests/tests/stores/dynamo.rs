//! `DynamoStore` end to end against moto's DynamoDB server on 127.0.0.1: the shared store
//! behaviour, the item layout, corrupt items planted with the raw SDK, error classification, and
//! the emulator harness itself.

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{
    BotRecord, DynamoStore, ORDER_RETENTION_S, OrderLog, StateStore, StoreError,
};
use maestro_tests::bot_id;
use maestro_tests::clock::now_s;
use maestro_tests::dynamo::{self, DynamoTable, MotoServer, fresh_table};
use std::collections::HashMap;
use std::net::TcpStream;
use std::time::Duration;

store_behaviour_tests!(fresh_table);

type Item = HashMap<String, AttributeValue>;

fn record(bot_id: &str, tag: &str) -> BotRecord {
    let mut r = BotRecord::new(maestro_tests::bot_id(bot_id), BotParams::default());
    r.last_outcome = Some(tag.to_owned());
    r
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

async fn raw_get(t: &DynamoTable, pk: &str, sk: &str) -> Option<Item> {
    t.client
        .get_item()
        .table_name(&t.table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .consistent_read(true)
        .send()
        .await
        .expect("raw get")
        .item
}

async fn raw_put(t: &DynamoTable, item: Item) {
    t.client
        .put_item()
        .table_name(&t.table)
        .set_item(Some(item))
        .send()
        .await
        .expect("raw put");
}

#[tokio::test]
async fn table_has_keys_and_ttl_and_the_record_item_has_the_documented_layout() {
    let t = fresh_table("layout").await;
    let ttl = t
        .client
        .describe_time_to_live()
        .table_name(&t.table)
        .send()
        .await
        .expect("describe TTL");
    let desc = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(desc.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(desc.attribute_name(), Some("ttl"));

    t.store
        .save(&record("bot1", "v1"), None)
        .await
        .expect("save");
    let item = raw_get(&t, "bot#bot1", "state").await.expect("record item");
    assert_eq!(item.get("version"), Some(&n(1)));
    assert_eq!(item.get("schema"), Some(&n(2)));
    let json = item
        .get("record")
        .and_then(|v| v.as_s().ok())
        .expect("record string");
    let decoded: BotRecord = serde_json::from_str(json).expect("record JSON");
    assert_eq!(decoded, record("bot1", "v1"));
    assert!(
        !item.contains_key("ttl"),
        "the bot record must never expire"
    );
}

#[tokio::test]
async fn order_and_nonce_items_carry_their_keys_and_ttl() {
    let t = fresh_table("items").await;
    let order = OrderLog {
        decided_at_ms: 1_620_000_060_000,
        recorded_at_ms: 1_620_000_061_000,
        cl_ord_id: "mx-abc".to_owned(),
        side: maestro_lambda::exchange::Side::Sell,
        qty: 1000,
        order_id: None,
        status: "dry_run".to_owned(),
        avg_price: None,
        filled_qty: None,
    };
    t.store
        .record_order(&bot_id("bot1"), &order)
        .await
        .expect("record");
    let item = raw_get(&t, "bot#bot1", "order#1620000060000#mx-abc")
        .await
        .expect("order item under its documented key");
    let ttl: i64 = item["ttl"]
        .as_n()
        .expect("ttl number")
        .parse()
        .expect("ttl");
    assert_eq!(
        ttl,
        1_620_000_061 + ORDER_RETENTION_S,
        "an order is kept 7 days from when it was recorded"
    );

    let expires = now_s() + 120;
    assert!(
        t.store
            .claim_nonce("abc123", maestro_lambda::clock::now_ms() / 1000, expires)
            .await
            .expect("claim")
    );
    let item = raw_get(&t, "nonce#abc123", "nonce")
        .await
        .expect("nonce item");
    assert_eq!(item.get("ttl"), Some(&n(expires)));
}

/// Every way a record item can be unreadable: the load says Corrupt and the item is untouched.
#[tokio::test]
async fn corrupt_record_items_load_as_corrupt_and_stay_untouched() {
    let t = fresh_table("corrupt").await;
    let good_json = serde_json::to_string(&record("bot", "x")).expect("json");
    let other_json = serde_json::to_string(&record("other", "x")).expect("json");
    let base = |version: AttributeValue, record: AttributeValue| -> Item {
        HashMap::from([
            ("pk".to_owned(), s("bot#bot")),
            ("sk".to_owned(), s("state")),
            ("schema".to_owned(), n(2)),
            ("version".to_owned(), version),
            ("record".to_owned(), record),
        ])
    };
    let mut cases: Vec<(&str, Item)> = vec![
        ("record not JSON", base(n(3), s("{not json"))),
        (
            "record missing fields",
            base(n(3), s(r#"{"bot_id":"bot"}"#)),
        ),
        ("record not a string", base(n(3), n(7))),
        ("record of another bot", base(n(3), s(&other_json))),
        ("version a string", base(s("3"), s(&good_json))),
        (
            "version fractional",
            base(AttributeValue::N("1.5".to_owned()), s(&good_json)),
        ),
        ("version negative", base(n(-1), s(&good_json))),
        ("version zero", base(n(0), s(&good_json))),
    ];
    let mut no_version = base(n(3), s(&good_json));
    no_version.remove("version");
    cases.push(("version missing", no_version));
    let mut no_record = base(n(3), s(&good_json));
    no_record.remove("record");
    cases.push(("record missing", no_record));
    let mut schema3 = base(n(3), s(&good_json));
    schema3.insert("schema".to_owned(), n(3));
    cases.push(("unknown schema", schema3));

    for (what, item) in cases {
        raw_put(&t, item.clone()).await;
        let load = t.store.load(&bot_id("bot")).await;
        assert!(
            matches!(load, Err(StoreError::Corrupt(_))),
            "{what}: load gave {load:?}"
        );
        // A tick cannot save over it: it has no version to expect, and guessing "none" conflicts.
        let save = t.store.save(&record("bot", "new"), None).await;
        assert!(
            matches!(save, Err(StoreError::Conflict { .. })),
            "{what}: save gave {save:?}"
        );
        assert_eq!(
            raw_get(&t, "bot#bot", "state").await,
            Some(item),
            "{what}: item changed"
        );
    }
}

#[tokio::test]
async fn corrupt_order_item_lists_as_corrupt() {
    let t = fresh_table("corrupt-order").await;
    raw_put(
        &t,
        HashMap::from([
            ("pk".to_owned(), s("bot#bot")),
            ("sk".to_owned(), s("order#1620000060000#c1")),
            ("schema".to_owned(), n(1)),
            ("ttl".to_owned(), n(now_s() + 3600)),
            ("order".to_owned(), s(r#"{"cl_ord_id":"c1"}"#)),
        ]),
    )
    .await;
    let list = t
        .store
        .recent_orders(&bot_id("bot"), 10, maestro_lambda::clock::now_ms() / 1000)
        .await;
    assert!(matches!(list, Err(StoreError::Corrupt(_))), "got {list:?}");
}

/// DynamoDB sweeps expired items lazily; an order past its TTL must already be gone for readers.
#[tokio::test]
async fn expired_order_items_are_not_listed() {
    let t = fresh_table("expired-order").await;
    let json = r#"{"decided_at_ms":1,"recorded_at_ms":2,"cl_ord_id":"old","side":"Buy","qty":1,"order_id":null,"status":"Filled","avg_price":null}"#;
    raw_put(
        &t,
        HashMap::from([
            ("pk".to_owned(), s("bot#bot")),
            ("sk".to_owned(), s("order#0000000000001#old")),
            ("schema".to_owned(), n(1)),
            ("ttl".to_owned(), n(now_s() - 1)),
            ("order".to_owned(), s(json)),
        ]),
    )
    .await;
    let list = t
        .store
        .recent_orders(&bot_id("bot"), 10, maestro_lambda::clock::now_ms() / 1000)
        .await
        .expect("list");
    assert!(list.is_empty(), "expired order listed: {list:?}");
}

#[tokio::test]
async fn a_missing_table_is_a_permanent_failure() {
    let server = dynamo::shared_server();
    let store = DynamoStore::new(dynamo::client(&server.endpoint()), "no-such-table");
    let load = store.load(&bot_id("bot")).await;
    assert!(matches!(load, Err(StoreError::Failed(_))), "got {load:?}");
    let save = store.save(&record("bot", "x"), None).await;
    assert!(matches!(save, Err(StoreError::Failed(_))), "got {save:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    // A port that was free a moment ago: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let store = DynamoStore::new(dynamo::client(&format!("http://127.0.0.1:{port}")), "t");
    let load = store.load(&bot_id("bot")).await;
    assert!(
        matches!(&load, Err(e @ StoreError::Unavailable(_)) if e.is_retryable()),
        "got {load:?}"
    );
}

#[test]
fn harness_stops_the_server_on_drop() {
    let server = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let addr = server.addr();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok(),
        "server answers"
    );
    drop(server);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "server still answers on {addr} after drop"
    );
}

#[test]
fn harness_without_moto_fails_and_says_to_run_setup() {
    let err = MotoServer::start_at(std::path::Path::new("/nonexistent/moto_server"))
        .expect_err("a missing server must be an error");
    assert!(
        err.contains(".ci/setup"),
        "message should say to run .ci/setup: {err}"
    );
}

/// The production constructor path: an AWS configuration loaded the usual way (here with the
/// emulator's endpoint, region and dummy credentials given explicitly instead of from the
/// environment) works against the server.
#[tokio::test]
async fn store_from_a_loaded_aws_config_works() {
    let t = fresh_table("from-config").await;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(dynamo::shared_server().endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "maestro-tests",
        ))
        .load()
        .await;
    let store = DynamoStore::from_sdk_config(&sdk, t.table.clone());
    assert_eq!(store.table(), t.table);
    store.save(&record("cfg", "v1"), None).await.expect("save");
    let loaded = t
        .store
        .load(&bot_id("cfg"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.version, 1, "the other store sees the same table");
}
