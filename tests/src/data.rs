//! Where the real market data lives, and what a test does when it is missing.
//!
//! The data sits beside the project (`../shared/data`, overridable with `MAESTRO_DATA_DIR`) and is
//! never copied into it. Under CI (`CI=true`) a missing file fails the test; on a user's fresh clone
//! the test says by name that it skipped and which path it looked for.

use std::path::PathBuf;

/// The directory holding the shared market data files.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("MAESTRO_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// The path of a shared data file, or `None` (after saying so) when it is absent outside CI.
///
/// # Panics
/// Under CI (`CI=true`), when the file is missing: CI must never pass by skipping.
pub fn data_file(test: &str, name: &str) -> Option<PathBuf> {
    let path = data_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !in_ci,
        "{test}: market data file {} is missing (set MAESTRO_DATA_DIR to the shared data directory)",
        path.display()
    );
    eprintln!(
        "SKIPPED {test}: market data file {} not found",
        path.display()
    );
    None
}
