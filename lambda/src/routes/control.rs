//! `POST /control`: pause, resume, flatten, set_params.
//!
//! Every change of the bot's record is a conditional save on the version just read (a tick running
//! at the same moment makes the save fail, and the command is re-applied to the fresh record, at most
//! [`ATTEMPTS`] times). A refused command changes nothing.

use super::status::{params_json, unknown_bot};
use super::{Request, Response, Routes, clip, store_failure};
use crate::config::{BotConfig, ParamsPatch, validate_params};
use crate::exchange::{Exchange, OrderRequest, Side};
use crate::store::{BotRecord, OrderLog, StateStore, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Conditional-save attempts before a command gives up with 409.
const ATTEMPTS: usize = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    action: String,
    bot: String,
    #[serde(default)]
    params: Option<Value>,
}

enum Action {
    Pause,
    Resume,
    Flatten,
    SetParams(ParamsPatch),
}

/// A record after a command: its version, and whether the command changed it.
struct Saved {
    record: BotRecord,
    version: Option<u64>,
    changed: bool,
}

impl<E: Exchange, S: StateStore> Routes<'_, E, S> {
    pub(super) async fn control(&self, req: &Request, now_ms: i64) -> Response {
        let (action, bot) = match self.parse(req) {
            Ok(parsed) => parsed,
            Err(refused) => return refused,
        };
        match action {
            Action::Pause | Action::Resume => {
                let pause = matches!(action, Action::Pause);
                let name = if pause { "pause" } else { "resume" };
                match self
                    .update(bot, |r| {
                        let changed = r.paused != pause;
                        r.paused = pause;
                        Ok(changed)
                    })
                    .await
                {
                    Ok(saved) => done(bot, name, &saved, json!({})),
                    Err(refused) => refused,
                }
            }
            Action::SetParams(patch) => self.set_params(bot, &patch).await,
            Action::Flatten => self.flatten(bot, now_ms).await,
        }
    }

    fn parse(&self, req: &Request) -> Result<(Action, &BotConfig), Response> {
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Response::error(
                400,
                "bad_json",
                r#"the body is empty; send {"action": ..., "bot": ...}"#,
            ));
        }
        let cmd: Command = serde_json::from_slice(&req.body).map_err(|e| {
            Response::error(400, "bad_json", format!("the body is not a command: {e}"))
        })?;
        let action = match (cmd.action.as_str(), cmd.params) {
            ("pause", None) => Action::Pause,
            ("resume", None) => Action::Resume,
            ("flatten", None) => Action::Flatten,
            ("set_params", Some(params)) => Action::SetParams(
                parse_patch(params).map_err(|e| Response::error(400, "bad_params", e))?,
            ),
            ("set_params", None) => {
                return Err(Response::error(
                    400,
                    "bad_params",
                    "set_params needs a \"params\" object",
                ));
            }
            ("pause" | "resume" | "flatten", Some(_)) => {
                return Err(Response::error(
                    400,
                    "bad_params",
                    format!("{} takes no \"params\"", cmd.action),
                ));
            }
            (other, _) => {
                return Err(Response::error(
                    400,
                    "unknown_action",
                    format!(
                        "unknown action {:?}; the actions are pause, resume, flatten, set_params",
                        clip(other)
                    ),
                ));
            }
        };
        let bot = self.bot(&cmd.bot).ok_or_else(|| unknown_bot(&cmd.bot))?;
        Ok((action, bot))
    }

    /// Loads the record (a fresh one if the bot never ran), applies `edit`, saves it conditionally if
    /// `edit` says it changed; re-applies on a lost race. `edit` refuses with a response.
    async fn update(
        &self,
        bot: &BotConfig,
        mut edit: impl FnMut(&mut BotRecord) -> Result<bool, Response>,
    ) -> Result<Saved, Response> {
        for _ in 0..ATTEMPTS {
            let (mut record, expected) = match self.store.load(&bot.id).await {
                Ok(Some(v)) => (v.value, Some(v.version)),
                Ok(None) => (BotRecord::new(bot.id.clone(), bot.params.clone()), None),
                Err(e) => return Err(store_failure(&e)),
            };
            if !edit(&mut record)? {
                return Ok(Saved {
                    record,
                    version: expected,
                    changed: false,
                });
            }
            match self.store.save(&record, expected).await {
                Ok(version) => {
                    return Ok(Saved {
                        record,
                        version: Some(version),
                        changed: true,
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_failure(&e)),
            }
        }
        Err(store_failure(&StoreError::Conflict {
            bot_id: bot.id.to_string(),
            expected: None,
        }))
    }

    async fn set_params(&self, bot: &BotConfig, patch: &ParamsPatch) -> Response {
        let mut rewarm = false;
        let result = self
            .update(bot, |r| {
                let new = patch.apply(&r.params);
                if new.symbol != r.params.symbol {
                    return Err(Response::error(
                        400,
                        "bad_params",
                        "symbol cannot change at run time (the open position is in the old one); \
                         flatten, then redeploy with the new symbol",
                    ));
                }
                validate_params(&new)
                    .map_err(|e| Response::error(400, "bad_params", e.to_string()))?;
                if new == r.params {
                    return Ok(false);
                }
                // Everything but dry_run shapes the core's decisions, and the core's state was built
                // under the old settings: drop it so the next tick re-warms from recent candles
                // under the new settings instead of mixing old state with new windows.
                let mut old_core = r.params.clone();
                old_core.dry_run = new.dry_run;
                rewarm = old_core != new;
                if rewarm {
                    r.core = None;
                    r.last_close_ms = None;
                }
                r.params = new;
                Ok(true)
            })
            .await;
        match result {
            Ok(saved) => {
                let rewarm = rewarm && saved.changed;
                done(
                    bot,
                    "set_params",
                    &saved,
                    json!({ "params": params_json(&saved.record.params), "rewarm": rewarm }),
                )
            }
            Err(refused) => refused,
        }
    }

    /// Pauses the bot and drops its pending intent (so no tick re-sends it), cancels the symbol's open
    /// orders, and closes the position with an `execInst=Close` market order. The clOrdID comes from
    /// the record version this command saved, so a retry of the same command inside the exchange
    /// client carries the same id and cannot close twice.
    async fn flatten(&self, bot: &BotConfig, now_ms: i64) -> Response {
        let saved = match self
            .update(bot, |r| {
                r.paused = true;
                r.pending = None;
                r.last_outcome = Some(format!("flatten requested at {now_ms}"));
                Ok(true)
            })
            .await
        {
            Ok(saved) => saved,
            Err(refused) => return refused,
        };
        let version = saved.version.unwrap_or_default();
        let symbol = saved.record.params.symbol.clone();
        if saved.record.params.dry_run {
            return done(
                bot,
                "flatten",
                &saved,
                json!({ "order": null, "detail": "dry-run bot: paused, nothing sent to the exchange" }),
            );
        }
        let cancelled = match self.exchange.cancel_all(&symbol).await {
            Ok(n) => n,
            Err(e) => return exchange_failure("cancelling orders", &e, version),
        };
        let position = match self.exchange.position(&symbol).await {
            Ok(p) => p,
            Err(e) => return exchange_failure("reading the position", &e, version),
        };
        if position == 0 {
            return done(
                bot,
                "flatten",
                &saved,
                json!({ "cancelled": cancelled, "position_before": 0, "order": null }),
            );
        }
        let order = OrderRequest {
            symbol,
            side: if position > 0 { Side::Sell } else { Side::Buy },
            qty: position.unsigned_abs(),
            cl_ord_id: flatten_cl_ord_id(&bot.id, version),
            reduce_only: false,
            close: true,
        };
        let placed = match self.exchange.place_order(&order).await {
            Ok(placed) => placed,
            Err(e) => return exchange_failure("placing the close order", &e, version),
        };
        let log = OrderLog {
            decided_at_ms: now_ms,
            recorded_at_ms: now_ms,
            cl_ord_id: placed.cl_ord_id.clone(),
            side: placed.side,
            qty: placed.qty,
            order_id: Some(placed.order_id.clone()),
            status: placed.status.clone(),
            avg_price: placed.avg_price,
        };
        let recorded = self.store.record_order(&bot.id, &log).await.err();
        let mut extra = json!({
            "cancelled": cancelled,
            "position_before": position,
            "order": placed,
        });
        if let Some(e) = recorded {
            extra["warning"] = json!(format!("the order was placed but not recorded: {e}"));
        }
        done(bot, "flatten", &saved, extra)
    }
}

/// Reads `params`, naming the field at fault: serde's own message for a bad value does not say
/// which field held it, so each field is tried on its own first.
fn parse_patch(params: Value) -> Result<ParamsPatch, String> {
    let Value::Object(fields) = params else {
        return Err("params must be a JSON object".to_owned());
    };
    for (name, value) in &fields {
        let single = Value::Object([(name.clone(), value.clone())].into_iter().collect());
        if let Err(e) = serde_json::from_value::<ParamsPatch>(single) {
            return Err(format!("params.{}: {e}", clip(name)));
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| format!("params: {e}"))
}

/// Client order id of the close order: `flat-<10 hex of SHA-256(bot)>-<version>`, at most 36
/// characters whatever the bot id.
pub(super) fn flatten_cl_ord_id(bot_id: &str, version: u64) -> String {
    let digest = Sha256::digest(bot_id.as_bytes());
    let tag = hex::encode(&digest[..5]);
    format!("flat-{tag}-{version}")
}

fn done(bot: &BotConfig, action: &str, saved: &Saved, extra: Value) -> Response {
    let mut body = json!({
        "ok": true,
        "bot": bot.id,
        "action": action,
        "changed": saved.changed,
        "paused": saved.record.paused,
        "version": saved.version,
    });
    if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), extra) {
        target.extend(extra);
    }
    Response::ok(body)
}

fn exchange_failure(doing: &str, e: &crate::exchange::ExchangeError, version: u64) -> Response {
    let mut r = Response::error(
        502,
        "exchange_error",
        format!("the bot is paused, but {doing} failed: {e}; send flatten again"),
    );
    r.body["paused"] = json!(true);
    r.body["version"] = json!(version);
    r
}

#[cfg(test)]
mod tests {
    use super::flatten_cl_ord_id;

    #[test]
    fn flatten_id_is_short_and_deterministic() {
        let long_id = "b".repeat(32);
        let id = flatten_cl_ord_id(&long_id, u64::MAX);
        assert!(id.len() <= 36, "{id} is {} chars", id.len());
        assert_eq!(id, flatten_cl_ord_id(&long_id, u64::MAX));
        assert_ne!(flatten_cl_ord_id("a", 7), flatten_cl_ord_id("b", 7));
        assert_ne!(flatten_cl_ord_id("a", 7), flatten_cl_ord_id("a", 8));
    }
}
