//! The core's state as `/status` shows it, decoded from the record's snapshot with the core's own
//! decoder (which re-validates everything, so a corrupt snapshot is reported, not trusted).

use maestro_core::{Mean, TickSize};
use serde_json::{Value, json};

/// What the stored core snapshot says; `null` before the first warm-up. Prices are in quote
/// currency when the instrument's tick size is known (display only), and always as exact tick sums.
pub(super) fn core_view(snapshot: Option<&str>, tick: Option<TickSize>) -> Value {
    let Some(text) = snapshot else {
        return Value::Null;
    };
    // Boxed: the ring buffer is several KiB, and this runs on an async task's stack.
    let strategy = match crate::params::LiveStrategy::decode(text.as_bytes()).map(Box::new) {
        Ok(s) => s,
        Err(e) => return json!({ "error": format!("stored core state is unreadable: {e}") }),
    };
    let mean = |m: Option<Mean>| match m {
        None => Value::Null,
        Some(m) => json!({
            "price": tick.map(|t| m.to_f64(t)),
            "sum_ticks": m.sum,
            "n": m.n,
        }),
    };
    json!({
        "ready": strategy.is_ready(),
        "short_sma": mean(strategy.short_sma()),
        "long_sma": mean(strategy.long_sma()),
        "regime": strategy.regime(),
        "target": strategy.target_position(),
        "last_close_ms": strategy.last_close_ms(),
    })
}
