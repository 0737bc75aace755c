//! Records written under schema 1, read and upgraded on load: the full core snapshot (parameters
//! included) becomes the parameter-free [`CoreState`], and the flattened guards one object. The
//! next save writes schema 2.

use super::{BotRecord, CoreState, OrderIntent};
use crate::bot_id::BotId;
use crate::exchange::BinSize;
use crate::params::{BotParams, LiveStrategy, mode_json};
use maestro_core::{Guards, Mode};
use serde::Deserialize;

/// A schema-1 record as it was written.
#[derive(Deserialize)]
struct RecordV1 {
    bot_id: BotId,
    params: ParamsV1,
    snapshot: Option<String>,
    last_close_ms: Option<i64>,
    pending: Option<OrderIntent>,
    paused: bool,
    last_position: Option<i64>,
    last_tick_ms: Option<i64>,
    last_outcome: Option<String>,
    #[serde(default)]
    dry_position: i64,
}

/// Schema-1 settings: the guards were three top-level fields.
#[derive(Deserialize)]
struct ParamsV1 {
    symbol: String,
    bin: BinSize,
    short_window: u32,
    long_window: u32,
    #[serde(with = "mode_json")]
    mode: Mode,
    qty: u64,
    max_position: u64,
    #[serde(default)]
    hysteresis_bp: u32,
    #[serde(default)]
    confirm_bars: u32,
    #[serde(default)]
    min_hold_bars: u32,
    #[serde(default)]
    dry_run: bool,
}

/// The schema-2 record for a schema-1 one. A snapshot built with other settings than the record's
/// (which schema-1 ticks discarded and warmed up again) becomes no state, so the next tick warms up
/// as it would have; a snapshot the core refuses is corrupt data, reported, never dropped silently.
pub(super) fn upgrade(value: serde_json::Value) -> Result<BotRecord, String> {
    let v1: RecordV1 = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let p = v1.params;
    let params = BotParams {
        symbol: p.symbol,
        bin: p.bin,
        short_window: p.short_window,
        long_window: p.long_window,
        mode: p.mode,
        qty: p.qty,
        max_position: p.max_position,
        guards: Guards {
            hysteresis_bp: p.hysteresis_bp,
            confirm_bars: p.confirm_bars,
            min_hold_bars: p.min_hold_bars,
        },
        dry_run: p.dry_run,
    };
    let core = match &v1.snapshot {
        None => None,
        Some(text) => {
            // Boxed: the live ring buffer is several KiB.
            let strategy = LiveStrategy::decode(text.as_bytes())
                .map(Box::new)
                .map_err(|e| format!("schema-1 snapshot: {e}"))?;
            let lot_size = strategy.params().lot_size;
            if *strategy.params() == params.core_params(lot_size) {
                Some(CoreState::of(&strategy).map_err(|e| format!("schema-1 snapshot: {e}"))?)
            } else {
                None
            }
        }
    };
    // An open order a schema-1 record tracked is not carried over: the tick's housekeeping finds
    // the bot's own open orders on the exchange by their clOrdID prefix.
    let mut record = BotRecord::new(v1.bot_id, params);
    record.core = core;
    record.last_close_ms = v1.last_close_ms;
    record.pending = v1.pending;
    record.paused = v1.paused;
    record.last_position = v1.last_position;
    record.last_tick_ms = v1.last_tick_ms;
    record.last_outcome = v1.last_outcome;
    record.dry_position = v1.dry_position;
    Ok(record)
}
