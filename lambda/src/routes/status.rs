//! `GET /status[?bot=ID]`: what each bot knows, read from the store. The only exchange calls are
//! public reads, once per symbol: the instrument (the tick size that turns the core's exact tick
//! sums into prices, and the fee rate) and the last completed candle (the mark for unrealised
//! P&L); when they fail the sums are still shown and the P&L says what it lacks.

use super::pnl::{PNL_ORDERS, pnl_json};
use super::{RECENT_ORDERS, Request, Response, Routes, clip};
use crate::config::BotConfig;
use crate::exchange::{BinSize, Exchange, Instrument};
use crate::params::BotParams;
use crate::store::{BotRecord, OrderLog, StateStore};
use crate::tick::HEARTBEAT_MS;
use serde_json::{Value, json};

/// What `/status` read from the exchange for one symbol and bar.
struct Market {
    symbol: String,
    bin: BinSize,
    instrument: Option<Instrument>,
    /// The last completed candle's close, in ticks.
    mark: Option<i64>,
}

impl<E: Exchange, S: StateStore> Routes<'_, E, S> {
    pub(super) async fn status(&self, req: &Request, now_ms: i64) -> Response {
        let mut wanted: Option<String> = None;
        for (key, value) in url::form_urlencoded::parse(req.query.as_bytes()) {
            match key.as_ref() {
                "bot" if wanted.is_none() => wanted = Some(value.into_owned()),
                "bot" => {
                    return Response::error(400, "bad_query", "give at most one bot= parameter");
                }
                other => {
                    return Response::error(
                        400,
                        "bad_query",
                        format!(
                            "unknown query parameter {:?}; only bot= is known",
                            clip(other)
                        ),
                    );
                }
            }
        }
        let bots: Vec<&BotConfig> = match &wanted {
            Some(id) => match self.bot(id) {
                Some(bot) => vec![bot],
                None => return unknown_bot(id),
            },
            None => self.bots.iter().collect(),
        };
        let mut markets: Vec<Market> = Vec::new();
        let mut out = Vec::with_capacity(bots.len());
        for bot in bots {
            let (symbol, bin) = (&bot.params.symbol, bot.params.bin);
            let at = match markets
                .iter()
                .position(|m| &m.symbol == symbol && m.bin == bin)
            {
                Some(at) => at,
                None => {
                    markets.push(self.market(symbol, bin, now_ms).await);
                    markets.len() - 1
                }
            };
            out.push(self.bot_status(bot, &markets[at], now_ms).await);
        }
        Response::ok(json!({
            "time_ms": now_ms,
            "limits": {
                "position_cap": self.limits.position_cap,
                "live_allowed": self.limits.live_allowed,
            },
            "bots": out,
        }))
    }

    /// The instrument and the last completed candle's close (public reads; `None` on failure).
    async fn market(&self, symbol: &str, bin: BinSize, now_ms: i64) -> Market {
        let instrument = self.exchange.instrument(symbol).await.ok();
        let mut mark = None;
        if let Some(i) = &instrument {
            // The last few bars' closes are enough to find the newest completed one.
            let after = now_ms.saturating_sub(bin.millis().saturating_mul(5));
            if let Ok(candles) = self
                .exchange
                .candles_after(symbol, bin, i.tick_size, after, 10)
                .await
            {
                mark = candles.last().map(|c| c.close.ticks());
            }
        }
        Market {
            symbol: symbol.to_owned(),
            bin,
            instrument,
            mark,
        }
    }

    async fn bot_status(&self, bot: &BotConfig, market: &Market, now_ms: i64) -> Value {
        let orders: Result<Vec<OrderLog>, String> = self
            .store
            .recent_orders(&bot.id, PNL_ORDERS, now_ms.div_euclid(1000))
            .await
            .map_err(|e| e.to_string());
        let recent = match &orders {
            Ok(orders) => json!(orders.iter().take(RECENT_ORDERS).collect::<Vec<_>>()),
            Err(e) => json!({ "error": e }),
        };
        let record = match self.store.load(&bot.id).await {
            Err(e) => {
                return json!({
                    "id": bot.id,
                    "params": params_json(&bot.params),
                    "error": e.to_string(),
                    "recent_orders": recent,
                });
            }
            Ok(None) => (BotRecord::new(bot.id.clone(), bot.params.clone()), None),
            Ok(Some(versioned)) => (versioned.value, Some(versioned.version)),
        };
        let tick = market.instrument.as_ref().map(|i| i.tick_size);
        let mut out = record_json(&record.0, record.1, recent, tick, now_ms);
        out["pnl"] = match &orders {
            Ok(orders) => pnl_json(
                orders,
                market.instrument.as_ref(),
                market.mark,
                record.0.last_position,
            ),
            Err(e) => json!({ "error": e }),
        };
        out
    }
}

fn record_json(
    record: &BotRecord,
    version: Option<u64>,
    orders: Value,
    tick: Option<maestro_core::TickSize>,
    now_ms: i64,
) -> Value {
    let state = match (version, record.paused) {
        (None, _) => "not_started",
        (Some(_), _) if record.flatten => "flattening",
        (Some(_), _) if record.stopped.is_some() => "stopped",
        (Some(_), true) => "paused",
        (Some(_), false) => "running",
    };
    json!({
        "id": record.bot_id,
        "state": state,
        "version": version,
        "params": params_json(&record.params),
        "paused": record.paused,
        "flattening": record.flatten,
        "stopped": record.stopped,
        "dry_run": record.params.dry_run,
        "core": super::view::core_view(record.core.as_ref(), &record.params, tick),
        "last_close_ms": record.last_close_ms,
        "last_position": record.last_position,
        "expected_position": record.expected_position,
        "rejections": record.rejections,
        "pending": record.pending,
        "last_tick_ms": record.last_tick_ms,
        "overdue": overdue(record.last_tick_ms, now_ms),
        "last_outcome": record.last_outcome,
        "recent_orders": orders,
    })
}

/// Whether the bot's ticks look stopped: a running bot's record is written at least every
/// [`HEARTBEAT_MS`] (a minute's tick that records nothing still saves its time then), so a last
/// tick older than that plus two schedule periods means ticks are being lost. A bot that never
/// ran is not overdue (it may be minutes old).
pub(super) fn overdue(last_tick_ms: Option<i64>, now_ms: i64) -> bool {
    last_tick_ms.is_some_and(|seen| now_ms.saturating_sub(seen) > HEARTBEAT_MS + 2 * 60_000)
}

/// Settings in the same shape `BOTS` and `set_params` take them.
pub(super) fn params_json(p: &BotParams) -> Value {
    json!({
        "symbol": p.symbol,
        "bin": p.bin,
        "short_window": p.short_window,
        "long_window": p.long_window,
        "mode": crate::params::mode_name(p.mode),
        "qty": p.qty,
        "max_position": p.max_position,
        "guards": {
            "hysteresis_bp": p.guards.hysteresis_bp,
            "confirm_bars": p.guards.confirm_bars,
            "min_hold_bars": p.guards.min_hold_bars,
        },
        "dry_run": p.dry_run,
    })
}

pub(super) fn unknown_bot(id: &str) -> Response {
    Response::error(
        404,
        "unknown_bot",
        format!("no bot {:?} in this deployment", clip(id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_once_a_heartbeat_and_two_schedule_periods_passed() {
        let now = 1_700_000_000_000;
        let limit = HEARTBEAT_MS + 2 * 60_000;
        assert!(!overdue(None, now), "a bot that never ran");
        assert!(!overdue(Some(now), now));
        assert!(!overdue(Some(now - limit), now), "at the limit");
        assert!(overdue(Some(now - limit - 1), now), "past it");
        assert!(
            !overdue(Some(now + 60_000), now),
            "a clock ahead is not overdue"
        );
        assert!(overdue(Some(i64::MIN), now), "no overflow");
    }
}
