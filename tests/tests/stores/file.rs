//! `FileStore` end to end on a real directory: the shared store behaviour, corrupt files, path
//! traversal, crash leftovers, and separate OS processes racing on one bot.

use maestro_lambda::bot_id::BotId;
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{BotRecord, FileStore, OrderLog, StateStore, StoreError};
use maestro_tests::bot_id;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use tempfile::TempDir;

struct Fixture {
    store: FileStore,
    _dir: TempDir,
}

async fn fixture(_test: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::open(dir.path().join("state")).expect("open store");
    Fixture { store, _dir: dir }
}

store_behaviour_tests!(fixture);

fn record(bot_id: &str, tag: &str) -> BotRecord {
    let mut r = BotRecord::new(maestro_tests::bot_id(bot_id), BotParams::default());
    r.last_outcome = Some(tag.to_owned());
    r
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn corrupt_record_file_is_reported_and_left_alone() {
    let f = fixture("corrupt").await;
    let path = f.store.record_path(&bot_id("bot"));
    let valid = r#"{"schema":2,"version":3,"record":"#;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"\x00\xffgarbage".to_vec()),
        ("empty", Vec::new()),
        (
            "truncated",
            format!("{valid}{{\"bot_id\":\"bot\",").into_bytes(),
        ),
        (
            "unknown schema",
            br#"{"schema":3,"version":3,"record":{}}"#.to_vec(),
        ),
        ("no schema", br#"{"version":3}"#.to_vec()),
        (
            "record missing fields",
            format!(r#"{valid}{{"bot_id":"bot"}}}}"#).into_bytes(),
        ),
        ("version 0", {
            let mut v = serde_json::json!({"schema": 2, "version": 0});
            v["record"] = serde_json::to_value(record("bot", "x")).expect("json");
            serde_json::to_vec(&v).expect("json")
        }),
        ("negative version", {
            let mut v = serde_json::json!({"schema": 2, "version": -1});
            v["record"] = serde_json::to_value(record("bot", "x")).expect("json");
            serde_json::to_vec(&v).expect("json")
        }),
        ("another bot's record", {
            let mut v = serde_json::json!({"schema": 2, "version": 3});
            v["record"] = serde_json::to_value(record("other", "x")).expect("json");
            serde_json::to_vec(&v).expect("json")
        }),
    ];
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).expect("plant file");
        let load = f.store.load(&bot_id("bot")).await;
        assert!(
            matches!(load, Err(StoreError::Corrupt(_))),
            "{what}: load gave {load:?}"
        );
        for expected in [None, Some(3), Some(0)] {
            let save = f.store.save(&record("bot", "new"), expected).await;
            assert!(
                matches!(save, Err(StoreError::Corrupt(_))),
                "{what}: save expecting {expected:?} gave {save:?}"
            );
        }
        assert_eq!(
            std::fs::read(&path).expect("read back"),
            bytes,
            "{what}: file changed"
        );
    }
}

#[tokio::test]
async fn corrupt_orders_and_nonce_files_are_reported_and_left_alone() {
    let f = fixture("corrupt-side").await;
    let orders = f.store.dir().join("bot.orders.json");
    std::fs::write(&orders, b"[1,2").expect("plant");
    let order = OrderLog {
        decided_at_ms: 1,
        recorded_at_ms: 2,
        cl_ord_id: "c".to_owned(),
        side: maestro_lambda::exchange::Side::Buy,
        qty: 1,
        order_id: None,
        status: "dry_run".to_owned(),
        avg_price: None,
        filled_qty: None,
    };
    let rec = f.store.record_order(&bot_id("bot"), &order).await;
    assert!(
        matches!(rec, Err(StoreError::Corrupt(_))),
        "record_order: {rec:?}"
    );
    let list = f
        .store
        .recent_orders(&bot_id("bot"), 5, maestro_lambda::clock::now_ms() / 1000)
        .await;
    assert!(
        matches!(list, Err(StoreError::Corrupt(_))),
        "recent_orders: {list:?}"
    );
    assert_eq!(std::fs::read(&orders).expect("read"), b"[1,2");

    let nonces = f.store.dir().join("nonces.auth.json");
    std::fs::write(&nonces, br#"{"schema":1,"nonces":{"n":"soon"}}"#).expect("plant");
    let claim = f
        .store
        .claim_nonce("n2", maestro_lambda::clock::now_ms() / 1000, i64::MAX)
        .await;
    assert!(
        matches!(claim, Err(StoreError::Corrupt(_))),
        "claim_nonce: {claim:?}"
    );
}

#[tokio::test]
async fn bot_ids_cannot_reach_outside_the_directory() {
    let outer = tempfile::tempdir().expect("temp dir");
    let store = FileStore::open(outer.path().join("state")).expect("open");
    // The store takes only `BotId`s: none of these can become one.
    for bad in ["../evil", "..", "/tmp/evil", "a/../../evil", "evil\0"] {
        assert!(BotId::new(bad).is_err(), "BotId::new({bad:?})");
    }
    // Nor can a record that names one be read back: planted under a valid name, it is corrupt.
    let planted = store.record_path(&bot_id("planted"));
    let mut record = serde_json::to_value(record("planted", "x")).expect("JSON");
    record["bot_id"] = "../evil".into();
    let file = serde_json::json!({ "schema": 2, "version": 1, "record": record });
    std::fs::write(&planted, file.to_string()).expect("plant");
    let load = store.load(&bot_id("planted")).await;
    assert!(
        matches!(load, Err(StoreError::Corrupt(_))),
        "load of a record naming ../evil: {load:?}"
    );
    std::fs::remove_file(&planted).expect("remove the planted record");
    assert_eq!(
        files_in(outer.path()),
        vec!["state".to_owned()],
        "nothing outside the store dir"
    );
    assert!(
        files_in(&outer.path().join("state")).is_empty(),
        "nothing inside either"
    );
}

/// A crash between writing the temp file and renaming it leaves the temp file behind (complete or
/// half-written). Readers must not see it, and the next save must replace it and leave no trace.
#[tokio::test]
async fn leftover_temp_file_from_a_crash_is_invisible_and_replaced() {
    let f = fixture("crash").await;
    f.store.save(&record("bot", "v1"), None).await.expect("v1");
    let dir = f.store.dir();
    let tmp = dir.join(".bot.json.tmp");
    std::fs::write(&tmp, br#"{"schema":1,"version":2,"record":{"bot_id":"bo"#).expect("half temp");
    let loaded = f
        .store
        .load(&bot_id("bot"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!(
        (loaded.version, loaded.value),
        (1, record("bot", "v1")),
        "temp file must be invisible"
    );

    let v2 = f
        .store
        .save(&record("bot", "v2"), Some(1))
        .await
        .expect("save after crash");
    assert_eq!(v2, 2);
    assert_eq!(
        files_in(dir),
        vec!["bot.json".to_owned(), "bot.lock".to_owned()],
        "no temp file left"
    );
    let loaded = f
        .store
        .load(&bot_id("bot"))
        .await
        .expect("load")
        .expect("present");
    assert_eq!((loaded.version, loaded.value), (2, record("bot", "v2")));
    let text = std::fs::read_to_string(f.store.record_path(&bot_id("bot"))).expect("read");
    assert!(
        text.contains("\"version\": 2"),
        "the file on disk is the new one: {text}"
    );
}

/// Separate OS processes (the `store_race` helper) load the same version, then save on the gun:
/// in every round exactly one wins, first creation included.
#[test]
fn processes_racing_on_one_bot_have_one_winner_per_round() {
    const RACERS: usize = 4;
    const ROUNDS: u64 = 6;
    let dir = tempfile::tempdir().expect("temp dir");
    for round in 0..ROUNDS {
        let mut racers = Vec::new();
        for _ in 0..RACERS {
            let mut child = Command::new(env!("CARGO_BIN_EXE_store_race"))
                .arg(dir.path())
                .arg("raced")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn store_race");
            let mut out = BufReader::new(child.stdout.take().expect("stdout"));
            let mut line = String::new();
            out.read_line(&mut line).expect("read ready");
            assert_eq!(
                line.trim(),
                "ready",
                "round {round}: racer did not get ready"
            );
            racers.push((child, out));
        }
        for (child, _) in &mut racers {
            child
                .stdin
                .as_mut()
                .expect("stdin")
                .write_all(b"go\n")
                .expect("fire");
        }
        let mut wins = Vec::new();
        let mut conflicts = 0;
        for (mut child, mut out) in racers {
            let mut line = String::new();
            out.read_line(&mut line).expect("read outcome");
            let status = child.wait().expect("wait racer");
            assert!(status.success(), "round {round}: racer failed: {line}");
            match line.split_whitespace().collect::<Vec<_>>()[..] {
                ["won", v] => wins.push(v.parse::<u64>().expect("version")),
                ["conflict"] => conflicts += 1,
                _ => panic!("round {round}: unexpected racer output {line:?}"),
            }
        }
        assert_eq!(
            wins,
            vec![round + 1],
            "round {round}: exactly one winner, at version {}",
            round + 1
        );
        assert_eq!(conflicts, RACERS - 1, "round {round}: the others conflict");
    }
}
