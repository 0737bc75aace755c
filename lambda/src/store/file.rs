//! [`FileStore`]: the embedded state store for local runs, plain JSON files in one directory.
//!
//! | file | holds |
//! |---|---|
//! | `<bot_id>.json` | `{"schema":2,"version":N,"record":{...}}` (schema 1 is still read) |
//! | `<bot_id>.orders.json` | the bot's recent orders with their expiry |
//! | `nonces.auth.json` | route-auth nonces with their expiry |
//! | `<bot_id>.lock`, `nonces.auth.lock` | empty; exclusive `flock`s serialise writers |
//!
//! Bot ids cannot hold a dot, so no bot's files can collide with the nonce files. Every write
//! takes the lock, reads and checks the current file, writes a temp file beside it, fsyncs it,
//! renames it over the old one and fsyncs the directory: a reader sees the old or the new file,
//! never half of one, and a crash leaves at most a stale temp file that the next write replaces.
//! The lock is an OS file lock, so it holds between threads and between processes alike, and the
//! OS drops it when a holder dies.

use super::{
    BotRecord, OrderLog, RECORD_SCHEMA, SCHEMA, StateStore, StoreError, StoreResult, Versioned,
    order_expiry_s, order_sort_key, validate_nonce, validate_order,
};
use crate::bot_id::BotId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Orders kept per bot at most, whatever their age: bounds the file a busy bot rewrites.
const MAX_ORDERS_PER_BOT: usize = 1000;
const NONCE_FILE: &str = "nonces.auth.json";
const NONCE_LOCK: &str = "nonces.auth.lock";

/// The file adapter of [`StateStore`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: Arc<Path>,
}

impl FileStore {
    /// A store in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> StoreResult<Self> {
        let dir: PathBuf = dir.into();
        fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, &e))?;
        Ok(FileStore { dir: dir.into() })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a bot's record lives.
    pub fn record_path(&self, bot_id: &BotId) -> PathBuf {
        self.dir.join(record_file(bot_id))
    }

    /// Runs blocking file work off the async executor.
    async fn blocking<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> StoreResult<T> + Send + 'static,
    {
        let dir = Arc::clone(&self.dir);
        tokio::task::spawn_blocking(move || job(&dir))
            .await
            .map_err(|e| StoreError::Failed(format!("file store worker: {e}")))?
    }
}

#[derive(Serialize)]
struct RecordFile {
    schema: u32,
    version: u64,
    record: BotRecord,
}

#[derive(Serialize, Deserialize)]
struct StoredOrder {
    expires_at_s: i64,
    order: OrderLog,
}

#[derive(Serialize, Deserialize, Default)]
struct OrdersFile {
    schema: u32,
    orders: Vec<StoredOrder>,
}

#[derive(Serialize, Deserialize, Default)]
struct NoncesFile {
    schema: u32,
    nonces: BTreeMap<String, i64>,
}

impl StateStore for FileStore {
    async fn load(&self, bot_id: &BotId) -> StoreResult<Option<Versioned<BotRecord>>> {
        let bot_id = bot_id.clone();
        self.blocking(move |dir| read_record(dir, &bot_id)).await
    }

    async fn save(&self, record: &BotRecord, expected: Option<u64>) -> StoreResult<u64> {
        let record = record.clone();
        self.blocking(move |dir| {
            let bot_id = record.bot_id.clone();
            let _lock = lock(dir, &format!("{bot_id}.lock"))?;
            let current = read_record(dir, &bot_id)?.map(|r| r.version);
            if current != expected {
                return Err(StoreError::Conflict { bot_id, expected });
            }
            let version = match expected {
                None => 1,
                Some(v) => v
                    .checked_add(1)
                    .ok_or_else(|| StoreError::Failed("record version overflow".to_owned()))?,
            };
            let file = RecordFile {
                schema: RECORD_SCHEMA,
                version,
                record,
            };
            write_json(dir, &record_file(&bot_id), &file)?;
            Ok(version)
        })
        .await
    }

    async fn record_order(&self, bot_id: &BotId, order: &OrderLog) -> StoreResult<()> {
        validate_order(order)?;
        let (bot_id, order) = (bot_id.clone(), order.clone());
        self.blocking(move |dir| {
            let _lock = lock(dir, &format!("{bot_id}.lock"))?;
            let name = orders_file(&bot_id);
            let mut file: OrdersFile = read_json(dir, &name)?.unwrap_or_default();
            // The order's own record time is "now" for this write: the store reads no clock.
            let now = order.recorded_at_ms.div_euclid(1000);
            let key = order_sort_key(&order);
            file.orders
                .retain(|o| o.expires_at_s >= now && order_sort_key(&o.order) != key);
            file.orders.push(StoredOrder {
                expires_at_s: order_expiry_s(&order),
                order,
            });
            file.orders.sort_by_cached_key(|o| order_sort_key(&o.order));
            let excess = file.orders.len().saturating_sub(MAX_ORDERS_PER_BOT);
            file.orders.drain(..excess);
            file.schema = SCHEMA;
            write_json(dir, &name, &file)
        })
        .await
    }

    async fn recent_orders(
        &self,
        bot_id: &BotId,
        limit: usize,
        now: i64,
    ) -> StoreResult<Vec<OrderLog>> {
        let bot_id = bot_id.clone();
        self.blocking(move |dir| {
            let file: OrdersFile = read_json(dir, &orders_file(&bot_id))?.unwrap_or_default();
            let mut orders: Vec<StoredOrder> = file
                .orders
                .into_iter()
                .filter(|o| o.expires_at_s >= now)
                .collect();
            // Sorted on write, but a hand-edited file must not reorder the answer.
            orders.sort_by_cached_key(|o| std::cmp::Reverse(order_sort_key(&o.order)));
            Ok(orders.into_iter().take(limit).map(|o| o.order).collect())
        })
        .await
    }

    async fn claim_nonce(&self, nonce: &str, now: i64, expires_at_s: i64) -> StoreResult<bool> {
        validate_nonce(nonce)?;
        let nonce = nonce.to_owned();
        self.blocking(move |dir| {
            let _lock = lock(dir, NONCE_LOCK)?;
            let mut file: NoncesFile = read_json(dir, NONCE_FILE)?.unwrap_or_default();
            // Same rule as DynamoDB: an expired nonce may be claimed again (its request's
            // timestamp is outside the auth window by then).
            file.nonces.retain(|_, expires| *expires >= now);
            if file.nonces.contains_key(&nonce) {
                return Ok(false);
            }
            file.nonces.insert(nonce, expires_at_s);
            file.schema = SCHEMA;
            write_json(dir, NONCE_FILE, &file)?;
            Ok(true)
        })
        .await
    }
}

fn record_file(bot_id: &str) -> String {
    format!("{bot_id}.json")
}

fn orders_file(bot_id: &str) -> String {
    format!("{bot_id}.orders.json")
}

fn read_record(dir: &Path, bot_id: &BotId) -> StoreResult<Option<Versioned<BotRecord>>> {
    let name = record_file(bot_id);
    let path = dir.join(&name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("reading", &path, &e)),
    };
    let corrupt = |what: String| StoreError::Corrupt(format!("{}: {what}", path.display()));
    let mut file: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let schema = file
        .get("schema")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no schema number".to_owned()))?;
    let version = file
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no version number".to_owned()))?;
    if version == 0 {
        return Err(StoreError::Corrupt(format!(
            "{name}: version 0 was never written"
        )));
    }
    let record = file
        .get_mut("record")
        .map(serde_json::Value::take)
        .ok_or_else(|| corrupt("no record".to_owned()))?;
    let record = super::record_from_json(schema, record).map_err(corrupt)?;
    if record.bot_id != *bot_id {
        return Err(StoreError::Corrupt(format!(
            "{name}: record belongs to bot {:?}",
            super::shorten(&record.bot_id)
        )));
    }
    Ok(Some(Versioned {
        value: record,
        version,
    }))
}

/// Reads and decodes `dir/name`; `None` if it does not exist. The schema is checked before the
/// rest so a file from another version of the program says so instead of naming a missing field.
fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> StoreResult<Option<T>> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("reading", &path, &e)),
    };
    let corrupt = |what: String| StoreError::Corrupt(format!("{}: {what}", path.display()));
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        Some(s) if s == u64::from(SCHEMA) => {}
        Some(s) => {
            return Err(corrupt(format!(
                "unknown schema {s} (this build reads {SCHEMA})"
            )));
        }
        None => return Err(corrupt("no schema number".to_owned())),
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

/// Replaces `dir/name` atomically. The temp name is fixed per target because only the holder of
/// the target's lock writes it; a temp file left by a crash is simply overwritten.
fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> StoreResult<()> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| StoreError::Failed(format!("encoding {name}: {e}")))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)?;
        // The rename is durable only once the directory entry is on disk. (Windows cannot open a
        // directory as a file; its rename is journalled by NTFS instead.)
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    };
    write().map_err(|e| io_error("writing", &target, &e))
}

/// Takes the exclusive lock `dir/name`, held until the returned file is dropped.
fn lock(dir: &Path, name: &str) -> StoreResult<File> {
    let path = dir.join(name);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error("opening lock", &path, &e))?;
    // Called through the trait: std's own `File::lock` is newer than the crate's MSRV.
    fs4::FileExt::lock(&file).map_err(|e| io_error("locking", &path, &e))?;
    Ok(file)
}

fn io_error(action: &str, path: &Path, err: &io::Error) -> StoreError {
    let message = format!("{action} {}: {err}", path.display());
    match err.kind() {
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            StoreError::Unavailable(message)
        }
        _ => StoreError::Failed(message),
    }
}
