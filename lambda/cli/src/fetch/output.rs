//! The CSV file: opened for appending, checked and repaired before a download resumes, and written
//! page by page, each page flushed to disk before the next request.
//!
//! Only a line without its final `\n` is repaired (cut off): that is what an interrupted write
//! leaves, because every page is written as whole lines. Anything else that does not read back is
//! refused, never overwritten: the file may be someone else's.

use super::FetchError;
use super::rows::{HEADER, close_time_of_line};
use maestro_lambda::exchange::BinSize;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// How far from the end the last lines are looked for; a line longer than this is not ours.
const TAIL_WINDOW: u64 = 64 * 1024;

/// The output file, positioned to append after its last complete row.
pub(crate) struct Output {
    file: File,
    path: PathBuf,
    /// The close time of the file's last row when it was opened (`None`: no rows yet).
    pub last_close_ms: Option<i64>,
    /// Bytes of a half-written last line that were cut off.
    pub repaired_bytes: u64,
    /// Whether this run created the file.
    pub created: bool,
}

impl Output {
    /// Opens (or creates) the file for `symbol` at `bin`, repairs an interrupted last line, and
    /// reads where the download stopped.
    pub async fn open(path: &Path, symbol: &str, bin: BinSize) -> Result<Self, FetchError> {
        let io = |action: &'static str| {
            move |source: std::io::Error| FetchError::Output {
                path: path.to_owned(),
                action,
                source,
            }
        };
        let existed = tokio::fs::try_exists(path).await.unwrap_or(true);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .await
            .map_err(io("open for writing"))?;
        let len = file.metadata().await.map_err(io("read"))?.len();
        let mut out = Output {
            file,
            path: path.to_owned(),
            last_close_ms: None,
            repaired_bytes: 0,
            created: !existed,
        };
        let keep = out.inspect(len, symbol, bin).await?;
        if keep < len {
            out.file.set_len(keep).await.map_err(io("repair"))?;
            out.repaired_bytes = len - keep;
            tracing::warn!(
                path = %path.display(),
                bytes = out.repaired_bytes,
                "cut off a half-written last line left by an interrupted download"
            );
        }
        if keep == 0 {
            out.append(&format!("{HEADER}\n")).await?;
        }
        Ok(out)
    }

    fn corrupt(&self, reason: String) -> FetchError {
        FetchError::CorruptFile {
            path: self.path.clone(),
            reason,
        }
    }

    /// Checks the header and the last complete line; returns how many bytes to keep (the file
    /// up to and including its last `\n`; 0 for an empty file or a half-written header).
    async fn inspect(&mut self, len: u64, symbol: &str, bin: BinSize) -> Result<u64, FetchError> {
        if len == 0 {
            return Ok(0);
        }
        let head = self.read_at(0, len.min(TAIL_WINDOW)).await?;
        let Some(header_end) = head.iter().position(|&b| b == b'\n') else {
            if HEADER.as_bytes().starts_with(&head) {
                return Ok(0); // the first write of a download was interrupted
            }
            return Err(
                self.corrupt("line 1 is not the header of a BitMEX trade/bucketed CSV".into())
            );
        };
        if head[..header_end]
            .strip_suffix(b"\r")
            .unwrap_or(&head[..header_end])
            != HEADER.as_bytes()
        {
            return Err(self.corrupt(format!("line 1 is not the header {HEADER:?}")));
        }
        let start = len.saturating_sub(TAIL_WINDOW);
        let tail = self.read_at(start, len - start).await?;
        let Some(last_nl) = tail.iter().rposition(|&b| b == b'\n') else {
            return Err(line_too_long(&self.path));
        };
        let keep = start + last_nl as u64 + 1;
        // Newest first: the last complete line, the one before it, and whatever precedes them.
        let lines: Vec<&[u8]> = tail[..last_nl].rsplitn(3, |&b| b == b'\n').collect();
        let (last, previous) = match (lines.len(), start) {
            (1, 0) => return Ok(keep), // only the header
            (1, _) => return Err(line_too_long(&self.path)),
            // The line before the last is the header (start 0) or cut by the window: not a row.
            (2, _) => (lines[0], None),
            _ => (lines[0], Some(lines[1])),
        };
        let close = self.read_line(last, "last", symbol, bin)?;
        if let Some(previous) = previous {
            let before = self.read_line(previous, "second-last", symbol, bin)?;
            // Both are on the bucket grid, so anything but increasing times is disorder.
            if close <= before {
                return Err(
                    self.corrupt("its last two rows are not in increasing time order".into())
                );
            }
        }
        self.last_close_ms = Some(close);
        Ok(keep)
    }

    fn read_line(
        &self,
        line: &[u8],
        which: &str,
        symbol: &str,
        bin: BinSize,
    ) -> Result<i64, FetchError> {
        let line = std::str::from_utf8(line)
            .map_err(|_| self.corrupt(format!("the {which} complete line is not text")))?;
        close_time_of_line(line, symbol, bin).map_err(|why| {
            let excerpt: String = line.chars().take(80).collect();
            self.corrupt(format!("the {which} complete line {excerpt:?} {why}"))
        })
    }

    async fn read_at(&mut self, at: u64, n: u64) -> Result<Vec<u8>, FetchError> {
        let io = |source| FetchError::Output {
            path: self.path.clone(),
            action: "read",
            source,
        };
        self.file.seek(SeekFrom::Start(at)).await.map_err(io)?;
        let mut buf = Vec::new();
        (&mut self.file)
            .take(n)
            .read_to_end(&mut buf)
            .await
            .map_err(io)?;
        Ok(buf)
    }

    /// Appends whole lines and waits until they are on disk, so that an interruption after this
    /// returns loses nothing and one during it leaves at most a half line (repaired on resume).
    pub async fn append(&mut self, text: &str) -> Result<(), FetchError> {
        let io = |source| FetchError::Output {
            path: self.path.clone(),
            action: "write",
            source,
        };
        self.file.write_all(text.as_bytes()).await.map_err(io)?;
        self.file.flush().await.map_err(io)?;
        self.file.sync_data().await.map_err(io)?;
        Ok(())
    }
}

fn line_too_long(path: &Path) -> FetchError {
    FetchError::CorruptFile {
        path: path.to_owned(),
        reason: format!("its last line is longer than {TAIL_WINDOW} bytes"),
    }
}
