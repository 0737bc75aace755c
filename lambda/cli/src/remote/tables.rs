//! The answers of the routes as a trader reads them: `/status` as a table, `/control` as a line.

use serde_json::Value;
use std::fmt::Write as _;

/// `/status` as a table: one line per bot.
pub fn status_table(body: &Value, now_ms: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<11} {:>9} {:>9} {:<6} {:<8} {:<22} LAST OUTCOME",
        "BOT", "STATE", "POSITION", "TARGET", "REGIME", "DRY RUN", "LAST TICK"
    );
    for bot in body["bots"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let text = |v: &Value| match v {
            Value::Null => "-".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let last_tick = match bot["last_tick_ms"].as_i64() {
            Some(ms) => {
                let age = now_ms.saturating_sub(ms).max(0) / 1000;
                let overdue = if bot["overdue"] == Value::Bool(true) {
                    " OVERDUE"
                } else {
                    ""
                };
                format!("{}s ago{overdue}", age)
            }
            None => "never".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<12} {:<11} {:>9} {:>9} {:<6} {:<8} {:<22} {}",
            text(&bot["id"]),
            text(&bot["state"]),
            text(&bot["last_position"]),
            text(&bot["core"]["target"]),
            text(&bot["core"]["regime"]),
            text(&bot["dry_run"]),
            last_tick,
            text(&bot["last_outcome"]),
        );
        if let Some(pending) = bot["pending"].as_object() {
            let _ = writeln!(
                out,
                "{:<12} pending {} {} ({})",
                "",
                text(&pending.get("side").cloned().unwrap_or_default()),
                text(&pending.get("qty").cloned().unwrap_or_default()),
                text(&pending.get("cl_ord_id").cloned().unwrap_or_default()),
            );
        }
        if let Some(stopped) = bot["stopped"].as_str() {
            let _ = writeln!(out, "{:<12} stopped: {stopped}", "");
        }
    }
    out
}

/// A `/control` answer as one line.
pub fn control_line(body: &Value) -> String {
    if let Some(error) = body["error"].as_str() {
        return format!(
            "refused: {error}: {}",
            body["detail"].as_str().unwrap_or_default()
        );
    }
    let mut line = format!(
        "{} {}: done (version {}",
        body["action"].as_str().unwrap_or("?"),
        body["bot"].as_str().unwrap_or("?"),
        body["version"]
    );
    if body["changed"] == Value::Bool(false) {
        line.push_str(", nothing changed");
    }
    if body["rewarm"] == Value::Bool(true) {
        line.push_str(", the strategy re-warms");
    }
    if body["flattening"] == Value::Bool(true) {
        line.push_str(", flattening");
    }
    line.push(')');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_read_like_status() {
        let body = json!({"bots": [{"id": "ltc", "state": "running", "last_position": 1000,
            "core": {"target": 1000, "regime": "long"}, "dry_run": false,
            "last_tick_ms": 1_700_000_000_000_i64 - 42_000, "overdue": false,
            "last_outcome": "no new candle", "pending": null, "stopped": null}]});
        let table = status_table(&body, 1_700_000_000_000);
        let line = table.lines().nth(1).expect("one bot");
        for part in [
            "ltc",
            "running",
            "1000",
            "long",
            "false",
            "42s ago",
            "no new candle",
        ] {
            assert!(line.contains(part), "{part:?} in {line:?}");
        }
        assert!(!line.contains("OVERDUE"));
        assert_eq!(
            control_line(&json!({"action": "pause", "bot": "ltc", "version": 4, "changed": true})),
            "pause ltc: done (version 4)"
        );
        assert!(
            control_line(&json!({"error": "live_not_allowed", "detail": "no"}))
                .starts_with("refused")
        );
    }
}
