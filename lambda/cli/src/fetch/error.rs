//! What can stop a download, each with what the user should do about it.

use maestro_lambda::exchange::ExchangeError;
use std::path::PathBuf;

/// Why a download stopped. Every message ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// An option is out of range (page size, rate, symbol spelling, base URL).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The time range is empty, reversed or unreadable.
    #[error("bad time range: {0}")]
    BadRange(String),
    /// BitMEX lists no such instrument.
    #[error(
        "BitMEX lists no instrument {0:?}: check the symbol's spelling and that it exists on this exchange (testnet and mainnet list different ones)"
    )]
    UnknownSymbol(String),
    /// The output file cannot be opened, read or written.
    #[error(
        "cannot {action} {path}: {source}; choose a path in an existing directory you can write to"
    )]
    Output {
        /// The output path.
        path: PathBuf,
        /// What failed (`open for writing`, `read`, `write`, `repair`).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The output file exists but is not a download of this symbol and bucket size that can be
    /// continued; it is left untouched.
    #[error("{path}: {reason}; it is left untouched: move it away or choose another output path")]
    CorruptFile {
        /// The output path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// BitMEX failed or answered something unreadable; the rows already written are kept.
    #[error(
        "BitMEX: {0}; the rows written so far are kept, run the same command again to continue"
    )]
    Exchange(#[from] ExchangeError),
}

impl FetchError {
    /// Whether running the same download again later may succeed without changing anything
    /// (timeouts, 5xx, rate limiting).
    pub fn is_retryable(&self) -> bool {
        matches!(self, FetchError::Exchange(e) if e.is_retryable())
    }
}
