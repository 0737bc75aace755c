//! What the dashboard page must show for one bot of `/status`, for the browser tests of both
//! front ends (`maestro run` and the Lambda function URL). Uses only `serde_json` and the
//! WebDriver client beside it, so the CLI's tests can include this file too (`#[path]`).

use super::webdriver::Browser;
use serde_json::Value;
use std::time::Duration;

/// A JSON value as the page prints it (`–` for none).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "–".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `data-field`s the page shows for `bot` (one entry of `/status`'s `bots`), P&L included.
pub fn expected_fields(bot: &Value) -> Vec<(&'static str, String)> {
    let core = &bot["core"];
    let pnl = &bot["pnl"];
    let mark = if pnl["mark"].is_null() {
        String::new()
    } else {
        format!(" @ {}", text(&pnl["mark"]))
    };
    vec![
        ("state", text(&bot["state"])),
        ("regime", text(&core["regime"])),
        ("target", text(&core["target"])),
        ("position", text(&bot["last_position"])),
        ("paused", text(&bot["paused"])),
        ("dry_run", text(&bot["dry_run"])),
        ("pnl_realised", text(&pnl["realised"])),
        (
            "pnl_unrealised",
            format!("{}{mark}", text(&pnl["unrealised"])),
        ),
        ("pnl_fees", text(&pnl["fees"])),
        ("pnl_net", text(&pnl["net"])),
    ]
}

/// The text of the page's `data-field` `name`.
pub fn shown(browser: &Browser, name: &str) -> String {
    let el = browser.wait_for(&format!("[data-field='{name}']"), Duration::from_secs(5));
    browser.text(&el)
}

/// Asserts that the page shows exactly what `/status` says of `bot`.
pub fn assert_page_shows(browser: &Browser, bot: &Value) {
    for (field, want) in expected_fields(bot) {
        assert_eq!(
            shown(browser, field),
            want,
            "{field}: the page against /status {bot}"
        );
    }
}
