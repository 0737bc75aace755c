//! The core's state as `/status` shows it, restored from the record's state and settings with the
//! core's own decoder (which re-validates everything, so a corrupt state is reported, not trusted).

use crate::params::{BotParams, LiveStrategy};
use crate::store::CoreState;
use maestro_core::{Mean, TickSize};
use serde_json::{Value, json};

/// What the stored core state says; `null` before the first warm-up. Prices are in quote
/// currency when the instrument's tick size is known (display only), and always as exact tick sums.
pub(super) fn core_view(
    core: Option<&CoreState>,
    params: &BotParams,
    tick: Option<TickSize>,
) -> Value {
    let Some(core) = core else {
        return Value::Null;
    };
    // The lot size the state was built on: the state as the bot last saw it.
    let params = params.core_params(core.lot_size);
    // Boxed: the ring buffer is several KiB, and this runs on an async task's stack.
    let strategy = match LiveStrategy::restore_state(params, core.state.as_bytes()).map(Box::new) {
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
