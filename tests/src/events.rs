//! Lambda event fixtures (`tests/fixtures/events/`): the JSON payloads AWS sends, as the handler
//! tests feed them to the real handler.

use serde_json::Value;
use std::path::PathBuf;

/// The event fixture `name`, parsed.
///
/// # Panics
/// When the fixture is missing or not JSON.
pub fn event(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/events")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"))
}
