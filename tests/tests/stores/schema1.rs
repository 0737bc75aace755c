//! Records written by the schema-1 store (the full core snapshot beside the record's own
//! parameters) still load, upgraded to schema 2 without losing any state, and the bot ticks on from
//! where it was. The fixture is a record exactly as the schema-1 file store wrote it, mid-trade with
//! every guard on, on the real May 2021 LTC candles.

use aws_sdk_dynamodb::types::AttributeValue;
use maestro_core::{Guards, Mode};
use maestro_lambda::exchange::{BinSize, Exchange};
use maestro_lambda::params::LiveStrategy;
use maestro_lambda::store::{BotRecord, StateStore, Versioned};
use maestro_lambda::tick::Outcome;
use maestro_tests::bot_id;
use maestro_tests::dynamo::fresh_table;
use maestro_tests::fake_bitmex::Bar;
use maestro_tests::tick_harness::{BOT_ID, Harness, SYMBOL, real_bars, stored_strategy};
use std::collections::HashMap;

const FIXTURE: &str = include_str!("../../fixtures/store/record_schema1.json");

/// The fixture's version number and its record's JSON text.
fn fixture() -> (u64, serde_json::Value) {
    let file: serde_json::Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    assert_eq!(file["schema"], 1, "the fixture is a schema-1 file");
    let version = file["version"].as_u64().expect("version");
    (version, file["record"].clone())
}

/// The strategy inside the fixture's schema-1 snapshot, as the schema-1 tick decoded it.
fn fixture_strategy() -> LiveStrategy {
    let (_, record) = fixture();
    let text = record["snapshot"].as_str().expect("a snapshot");
    LiveStrategy::decode(text.as_bytes()).expect("the fixture's snapshot decodes")
}

/// The full snapshot of a strategy: every parameter and every bit of state.
fn snapshot(s: &LiveStrategy) -> String {
    let mut buf = vec![0u8; LiveStrategy::MAX_SNAPSHOT_LEN];
    let n = s.encode(&mut buf).expect("encode");
    String::from_utf8(buf[..n].to_vec()).expect("JSON text")
}

/// What the upgraded record must hold: the same settings (guards now one object), the same core
/// state bit for bit, and every other field as it was.
fn assert_upgraded(loaded: &Versioned<BotRecord>) {
    let (version, v1) = fixture();
    assert_eq!(loaded.version, version, "the version is kept");
    let r = &loaded.value;
    assert_eq!(r.bot_id, BOT_ID);
    let p = &r.params;
    assert_eq!(
        (p.symbol.as_str(), p.short_window, p.long_window),
        ("LTCUSDT", 5, 20)
    );
    assert_eq!(
        (p.mode, p.qty, p.max_position, p.dry_run),
        (Mode::LongShort, 1000, 1000, false)
    );
    assert_eq!(
        p.guards,
        Guards {
            hysteresis_bp: 3,
            confirm_bars: 2,
            min_hold_bars: 4
        }
    );
    let core = r.core.as_ref().expect("the core state is kept");
    assert_eq!(core.lot_size, 1000);
    assert!(
        !core.state.contains("params"),
        "the state holds no parameters: {}",
        core.state
    );
    let restored = stored_strategy(r).expect("a strategy");
    assert_eq!(
        snapshot(&restored),
        snapshot(&fixture_strategy()),
        "no state is lost"
    );
    assert_eq!(r.last_close_ms, v1["last_close_ms"].as_i64());
    assert_eq!(r.last_position, Some(1000));
    assert_eq!(r.last_tick_ms, v1["last_tick_ms"].as_i64());
    assert_eq!(r.last_outcome.as_deref(), v1["last_outcome"].as_str());
    assert_eq!(r.dry_position, 0);
    assert!(!r.flatten && r.stopped.is_none() && r.expected_position.is_none());
    assert!(r.pending.is_none() && !r.paused);
}

/// The real bars around the fixture's last candle: 30 before it (all completed) and 12 after.
fn bars_around_fixture(test: &str) -> Option<(Vec<Bar>, usize)> {
    let bars = real_bars(test)?;
    let (_, v1) = fixture();
    let last = v1["last_close_ms"].as_i64().expect("last close");
    let at = bars
        .iter()
        .position(|b| b.close_time_ms == last)
        .expect("the fixture's last candle is in the real data");
    let start = at + 1 - 30;
    Some((bars[start..at + 13].to_vec(), 30))
}

#[tokio::test]
async fn file_store_loads_a_schema_1_record_and_the_bot_ticks_on() {
    let Some((bars, completed)) = bars_around_fixture("schema1_file") else {
        return;
    };
    let mut params = maestro_tests::tick_harness::params(5, 20);
    // Parameters for a bot without a record: the stored ones must win, so make them differ.
    params.long_window = 30;
    let mut h = Harness::file(params, bars, completed).await;
    let path = h.bot.store.record_path(&bot_id(BOT_ID));
    std::fs::write(&path, FIXTURE).expect("plant the schema-1 file");

    let loaded = h.record().await.expect("the schema-1 record loads");
    assert_upgraded(&loaded);

    // The same candles fed to the schema-1 strategy are the reference for the tick.
    let mut reference = fixture_strategy();
    let report = h.tick_ok().await;
    assert_eq!(report.candles, 0, "nothing new yet: {report:?}");
    for round in 0..12 {
        h.advance(1);
        // The candles as the exchange serves them to the tick.
        let after = reference.last_close_ms().expect("a last close");
        let candles = h
            .bot
            .client
            .candles_after(SYMBOL, BinSize::M1, h.bot.instrument.tick_size, after, 10)
            .await
            .expect("candles from the fake");
        assert_eq!(candles.len(), 1, "round {round}: one new bar");
        reference
            .on_candle(&candles[0])
            .expect("the reference takes the bar");
        let report = h.tick_ok().await;
        assert_eq!(report.candles, 1, "round {round}: {report:?}");
        assert!(
            !matches!(report.outcome, Outcome::WarmingUp),
            "round {round}: the bot must not warm up again: {report:?}"
        );
        let stored = h.record().await.expect("record");
        let strategy = stored_strategy(&stored.value).expect("strategy");
        assert_eq!(snapshot(&strategy), snapshot(&reference), "round {round}");
        assert_eq!(h.position(), reference.target_position(), "round {round}");
    }

    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    assert_eq!(file["schema"], 2, "the next save writes schema 2");
    assert!(file["record"].get("snapshot").is_none(), "{file}");
    assert_eq!(
        file["record"]["params"]["guards"]["min_hold_bars"], 4,
        "{file}"
    );
    assert!(file["record"].get("hysteresis_bp").is_none(), "{file}");
}

#[tokio::test]
async fn dynamo_store_loads_a_schema_1_item_and_saves_it_as_schema_2() {
    let t = fresh_table("schema1").await;
    let (version, record) = fixture();
    let item = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("bot#{BOT_ID}"))),
        ("sk".to_owned(), AttributeValue::S("state".to_owned())),
        ("version".to_owned(), AttributeValue::N(version.to_string())),
        ("schema".to_owned(), AttributeValue::N("1".to_owned())),
        ("record".to_owned(), AttributeValue::S(record.to_string())),
    ]);
    t.client
        .put_item()
        .table_name(&t.table)
        .set_item(Some(item))
        .send()
        .await
        .expect("plant the schema-1 item");

    let loaded = t
        .store
        .load(&bot_id(BOT_ID))
        .await
        .expect("load")
        .expect("present");
    assert_upgraded(&loaded);

    let next = t
        .store
        .save(&loaded.value, Some(loaded.version))
        .await
        .expect("save over the schema-1 item");
    let again = t
        .store
        .load(&bot_id(BOT_ID))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(again.version, next);
    assert_eq!(
        again.value, loaded.value,
        "schema 2 holds what the upgrade read"
    );
    let raw = t
        .client
        .get_item()
        .table_name(&t.table)
        .key("pk", AttributeValue::S(format!("bot#{BOT_ID}")))
        .key("sk", AttributeValue::S("state".to_owned()))
        .send()
        .await
        .expect("raw get")
        .item
        .expect("item");
    assert_eq!(raw.get("schema"), Some(&AttributeValue::N("2".to_owned())));
}
