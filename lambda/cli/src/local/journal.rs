//! The simulated exchange's order journal: one JSON line per accepted order, appended and synced
//! before the order counts, replayed when a local run resumes.

use super::LocalError;
use maestro_lambda::bot_id::BotId;
use maestro_lambda::exchange::OrderRequest;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// One accepted order and the simulated time it was placed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Simulated clock when the order was placed (ms).
    pub now_ms: i64,
    /// The order.
    pub order: OrderRequest,
}

/// The journal file of one bot.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) `<dir>/<bot>.sim-orders.jsonl`.
    pub fn open(dir: &std::path::Path, bot_id: &str) -> Result<Self, LocalError> {
        BotId::check(bot_id).map_err(|e| LocalError::Usage(e.to_string()))?;
        let path = dir.join(format!("{bot_id}.sim-orders.jsonl"));
        drop_torn_tail(&path)
            .map_err(|e| LocalError::Failed(format!("cannot repair {}: {e}", path.display())))?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| LocalError::Failed(format!("cannot open {}: {e}", path.display())))?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    /// Every complete entry, oldest first. A torn last line (the process died while writing it)
    /// is ignored: its order was never acknowledged to the tick.
    pub fn entries(&self) -> Result<Vec<Entry>, LocalError> {
        let file = File::open(&self.path)
            .map_err(|e| LocalError::Failed(format!("cannot read {}: {e}", self.path.display())))?;
        let lines: Vec<String> = BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .map_err(|e| LocalError::Failed(format!("cannot read {}: {e}", self.path.display())))?;
        let mut entries = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => entries.push(entry),
                Err(_) if i + 1 == lines.len() => break,
                Err(e) => {
                    return Err(LocalError::Failed(format!(
                        "{} line {}: {e}; remove the state directory to start over",
                        self.path.display(),
                        i + 1
                    )));
                }
            }
        }
        Ok(entries)
    }

    /// Appends an entry and syncs it to disk.
    pub fn append(&self, now_ms: i64, order: &OrderRequest) -> std::io::Result<()> {
        let mut line = serde_json::to_string(&Entry {
            now_ms,
            order: order.clone(),
        })
        .map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

/// Cuts a last line that has no newline (the process died while appending it), so the next
/// append starts on a line of its own.
fn drop_torn_tail(path: &std::path::Path) -> std::io::Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(keep as u64)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_lambda::exchange::Side;

    fn order(id: &str) -> OrderRequest {
        OrderRequest {
            symbol: "LTCUSDT".into(),
            side: Side::Buy,
            qty: 1000,
            cl_ord_id: id.into(),
            reduce_only: false,
            close: false,
        }
    }

    #[test]
    fn entries_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::open(dir.path(), "bot").expect("open");
        journal.append(60_000, &order("a")).expect("append");
        journal.append(120_000, &order("b")).expect("append");
        drop(journal);
        let path = dir.path().join("bot.sim-orders.jsonl");
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"now_ms\":18").expect("torn write");
        drop(file);

        let journal = Journal::open(dir.path(), "bot").expect("reopen");
        journal.append(180_000, &order("c")).expect("append");
        let ids: Vec<_> = journal
            .entries()
            .expect("entries")
            .into_iter()
            .map(|e| (e.now_ms, e.order.cl_ord_id))
            .collect();
        assert_eq!(
            ids,
            [
                (60_000, "a".into()),
                (120_000, "b".into()),
                (180_000, "c".into())
            ]
        );
    }

    #[test]
    fn a_bad_bot_id_never_names_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(Journal::open(dir.path(), "../escape").is_err());
    }
}
