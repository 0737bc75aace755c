//! Progress reports of a download: a terminal progress bar for people, nothing for tests.

use super::FetchSummary;
use super::times::iso;
use indicatif::{ProgressBar, ProgressStyle};

/// Where a download stands, measured in buckets of time (a bucket without trades may be missing
/// from BitMEX's answer, so rows can be fewer than buckets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Buckets in the whole range asked for.
    pub total_buckets: u64,
    /// Buckets up to the last close time safely on disk (resumed ones included).
    pub done_buckets: u64,
    /// That close time (ms), if any row is on disk.
    pub last_close_ms: Option<i64>,
}

/// Receives a download's progress. Called from the download's task, between requests.
pub trait Progress: Send + Sync {
    /// Once, before the first request: where the download starts (after what the file holds).
    fn begin(&self, at: &Position);
    /// After each page is on disk, with the number of rows it added.
    fn page(&self, at: &Position, rows: usize);
    /// At the end of a download that did not fail.
    fn finish(&self, summary: &FetchSummary);
}

/// Reports nothing (tests, scripts).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _: &Position) {}
    fn page(&self, _: &Position, _: usize) {}
    fn finish(&self, _: &FetchSummary) {}
}

/// A progress bar on stderr (hidden when stderr is not a terminal), with the time reached and an
/// estimate of the time left.
#[derive(Debug)]
pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    /// A bar; it appears at [`Progress::begin`].
    pub fn new() -> Self {
        let bar = ProgressBar::hidden();
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {percent}% {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        BarProgress { bar }
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

fn message(at: &Position) -> String {
    match at.last_close_ms {
        Some(ms) => format!("up to {}", iso(ms)),
        None => "starting".to_owned(),
    }
}

impl Progress for BarProgress {
    fn begin(&self, at: &Position) {
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.bar.set_length(at.total_buckets);
        self.bar.reset();
        self.bar.set_position(at.done_buckets);
        // The ETA must count only this run's speed, not the jump over what the file held.
        self.bar.reset_eta();
        self.bar.set_message(message(at));
    }

    fn page(&self, at: &Position, _rows: usize) {
        self.bar.set_position(at.done_buckets);
        self.bar.set_message(message(at));
    }

    fn finish(&self, summary: &FetchSummary) {
        self.bar.finish_with_message(summary.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_bar_follows_the_buckets_on_disk() {
        let progress = BarProgress::new();
        let at = |done, last| Position {
            total_buckets: 1000,
            done_buckets: done,
            last_close_ms: last,
        };
        progress.begin(&at(400, Some(1_590_710_460_000)));
        assert_eq!(
            (progress.bar.length(), progress.bar.position()),
            (Some(1000), 400),
            "a resumed download starts where the file ended"
        );
        assert_eq!(progress.bar.message(), "up to 2020-05-29T00:01:00.000Z");
        progress.page(&at(900, Some(1_590_740_460_000)), 500);
        assert_eq!(progress.bar.position(), 900);
        progress.finish(&FetchSummary {
            path: PathBuf::from("x.csv"),
            rows_written: 500,
            pages: 1,
            resumed_after_ms: Some(1_590_710_460_000),
            repaired_bytes: 0,
            last_close_ms: Some(1_590_740_460_000),
            complete: true,
        });
        assert!(progress.bar.is_finished());
        assert!(
            progress
                .bar
                .message()
                .starts_with("500 rows in 1 page to x.csv")
        );
    }
}
