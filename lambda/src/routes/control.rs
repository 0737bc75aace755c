//! `POST /control`: pause, resume, flatten, set_params.
//!
//! Every change of the bot's record is a conditional save on the version just read (a tick running
//! at the same moment makes the save fail, and the command is re-applied to the fresh record, at most
//! [`ATTEMPTS`] times). A refused command changes nothing.

use super::status::{params_json, unknown_bot};
use super::{Request, Response, Routes, clip, store_failure};
use crate::config::{BotConfig, BotParamsError, ParamsPatch, validate_params};
use crate::exchange::Exchange;
use crate::store::{BotRecord, StateStore, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

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
            Action::Pause => match self
                .update(bot, |r| {
                    let changed = !r.paused;
                    r.paused = true;
                    Ok(changed)
                })
                .await
            {
                Ok(saved) => done(bot, "pause", &saved, json!({})),
                Err(refused) => refused,
            },
            // Resuming hands the bot back its trading: a flatten in progress ends, the circuit
            // breaker's counters start again (the trader has looked), and the position the
            // exchange holds now is taken as it is (the trader may have traded by hand).
            Action::Resume => match self
                .update(bot, |r| {
                    if !(r.paused || r.flatten || r.stopped.is_some() || r.rejections > 0) {
                        return Ok(false);
                    }
                    r.paused = false;
                    r.flatten = false;
                    r.stopped = None;
                    r.rejections = 0;
                    r.sent.clear();
                    r.expected_position = None;
                    Ok(true)
                })
                .await
            {
                Ok(saved) => done(bot, "resume", &saved, json!({})),
                Err(refused) => refused,
            },
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
            bot_id: bot.id.clone(),
            expected: None,
        }))
    }

    async fn set_params(&self, bot: &BotConfig, patch: &ParamsPatch) -> Response {
        if patch.dry_run == Some(false) && !self.limits.live_allowed {
            return refusal(BotParamsError::LiveNotAllowed);
        }
        if patch.dry_run == Some(false)
            && let Some(refused) = self.live_rival(bot).await
        {
            return refused;
        }
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
                self.limits.check(&new).map_err(refusal)?;
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
                // Into or out of dry run, the position the bot answers for changes (simulated or
                // the exchange's): the next position read is the new baseline.
                if new.dry_run != r.params.dry_run {
                    r.expected_position = None;
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

    /// Refuses to take `bot` live while another bot of the deployment trades its symbol live (as
    /// its stored settings say): they would steer the account's one position against each other.
    async fn live_rival(&self, bot: &BotConfig) -> Option<Response> {
        for other in self.bots.iter().filter(|b| b.id != bot.id) {
            let params = match self.store.load(&other.id).await {
                Ok(Some(v)) => v.value.params,
                Ok(None) => other.params.clone(),
                Err(e) => return Some(store_failure(&e)),
            };
            if !params.dry_run && params.symbol == bot.params.symbol {
                return Some(Response::error(
                    409,
                    "live_conflict",
                    format!(
                        "bot {:?} already trades {} live; one live bot per symbol (they share \
                         the account's position): put it in dry run first",
                        other.id.as_str(),
                        clip(&params.symbol)
                    ),
                ));
            }
        }
        None
    }

    /// Saves the flatten as a durable intent (paused, target 0), then runs the tick's planner and
    /// executor on it at once: the bot's pending order, if any, is looked up (never dropped or sent
    /// again) and the position closed with an `execInst=Close` order under a fresh clOrdID. Whatever
    /// fails now, every following tick finishes the flatten until the account is flat.
    async fn flatten(&self, bot: &BotConfig, now_ms: i64) -> Response {
        let saved = match self
            .update(bot, |r| {
                r.paused = true;
                r.flatten = true;
                r.last_outcome = Some(format!("flatten requested at {now_ms}"));
                Ok(true)
            })
            .await
        {
            Ok(saved) => saved,
            Err(refused) => return refused,
        };
        match crate::tick::flatten_now(self.exchange, self.store, &bot.id, &bot.params, now_ms)
            .await
        {
            Ok(report) => {
                let rejected = report
                    .order
                    .as_ref()
                    .filter(|o| o.status.starts_with("rejected"));
                if let Some(order) = rejected {
                    let e = format!("the close order was {}", order.status);
                    return flatten_failed(&e, saved.version);
                }
                let record = match self.store.load(&bot.id).await {
                    Ok(Some(v)) => Saved {
                        record: v.value,
                        version: Some(v.version),
                        changed: true,
                    },
                    _ => saved,
                };
                done(
                    bot,
                    "flatten",
                    &record,
                    json!({
                        "position_before": report.position,
                        "order": report.order,
                        "flattening": record.record.flatten,
                        "detail": report.note,
                    }),
                )
            }
            Err(e) => flatten_failed(&e.to_string(), saved.version),
        }
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

fn flatten_failed(why: &str, version: Option<u64>) -> Response {
    let mut r = Response::error(
        502,
        "exchange_error",
        format!(
            "the flatten is saved and the bot paused; every tick closes the position until the \
             account is flat, but closing now failed: {why}"
        ),
    );
    r.body["paused"] = json!(true);
    r.body["flattening"] = json!(true);
    r.body["version"] = json!(version);
    r
}

/// The answer to settings past the deployment's limits.
fn refusal(e: BotParamsError) -> Response {
    match e {
        BotParamsError::LiveNotAllowed => Response::error(
            403,
            "live_not_allowed",
            "this deployment keeps every bot in dry run: live trading needs the deployment's \
             AllowLiveTrading switch (ALLOW_LIVE_TRADING=true), not a route",
        ),
        e => Response::error(400, "bad_params", e.to_string()),
    }
}
