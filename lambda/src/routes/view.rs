//! The core's state as `/status` shows it, decoded from the record's snapshot.

use serde_json::{Value, json};

/// What the stored core snapshot says; `null` before the first warm-up.
pub(super) fn core_view(snapshot: Option<&str>) -> Value {
    match snapshot {
        None => Value::Null,
        Some(text) => json!({ "snapshot_bytes": text.len() }),
    }
}
