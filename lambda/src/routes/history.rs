//! `GET /history?bot=ID`: what the dashboard's chart draws: the bot's recent completed candles
//! from the exchange, both SMAs over them (for display; the bot decides on exact sums), and its
//! recent fills.

use super::status::unknown_bot;
use super::{RECENT_ORDERS, Request, Response, Routes, clip};
use crate::exchange::Exchange;
use crate::store::StateStore;
use serde_json::{Value, json};

/// Candles shown: at least this many, and at least the long window (the exchange serves at most
/// [`crate::tick::PAGE`] a request, which bounds it).
pub(super) const SHOWN: usize = 200;

impl<E: Exchange, S: StateStore> Routes<'_, E, S> {
    pub(super) async fn history(&self, req: &Request, now_ms: i64) -> Response {
        let mut wanted = None;
        for (key, value) in url::form_urlencoded::parse(req.query.as_bytes()) {
            match key.as_ref() {
                "bot" if wanted.is_none() => wanted = Some(value.into_owned()),
                other => {
                    return Response::error(
                        400,
                        "bad_query",
                        format!(
                            "history takes exactly one bot= parameter, not {:?}",
                            clip(other)
                        ),
                    );
                }
            }
        }
        let Some(id) = wanted else {
            return Response::error(400, "bad_query", "history needs bot=ID");
        };
        let Some(bot) = self.bot(&id) else {
            return unknown_bot(&id);
        };
        // The stored settings rule once set_params changed them.
        let params = match self.store.load(&bot.id).await {
            Ok(Some(v)) => v.value.params,
            Ok(None) => bot.params.clone(),
            Err(e) => return super::store_failure(&e),
        };
        let instrument = match self.exchange.instrument(&params.symbol).await {
            Ok(i) => i,
            Err(e) => return Response::error(502, "exchange_error", e.to_string()),
        };
        let long = usize::try_from(params.long_window).unwrap_or(usize::MAX);
        let shown = SHOWN.max(long);
        let wanted = (shown + long).min(crate::tick::PAGE);
        let bin = params.bin.millis();
        let after = now_ms
            .div_euclid(bin)
            .saturating_sub(i64::try_from(wanted).unwrap_or(i64::MAX))
            .saturating_mul(bin)
            .saturating_sub(1);
        let candles = match self
            .exchange
            .candles_after(
                &params.symbol,
                params.bin,
                instrument.tick_size,
                after,
                wanted,
            )
            .await
        {
            Ok(c) => c,
            Err(e) => return Response::error(502, "exchange_error", e.to_string()),
        };
        let closes: Vec<f64> = candles
            .iter()
            .map(|c| c.close.to_f64(instrument.tick_size))
            .collect();
        let short = usize::try_from(params.short_window).unwrap_or(usize::MAX);
        let skip = closes.len().saturating_sub(shown);
        let points: Vec<Value> = candles
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, c)| {
                json!({
                    "t": c.close_time_ms,
                    "close": closes[i],
                    "short_sma": mean_ending_at(&closes, i, short),
                    "long_sma": mean_ending_at(&closes, i, long),
                })
            })
            .collect();
        let fills: Vec<Value> = match self
            .store
            .recent_orders(&bot.id, RECENT_ORDERS, now_ms.div_euclid(1000))
            .await
        {
            Ok(orders) => orders
                .iter()
                .filter(|o| o.avg_price.is_some())
                .map(|o| {
                    // What filled, when the log knows it (a cancelled order may have filled part).
                    let qty = o.filled_qty.unwrap_or(o.qty);
                    json!({ "t": o.decided_at_ms, "side": o.side, "qty": qty, "price": o.avg_price })
                })
                .collect(),
            Err(e) => return super::store_failure(&e),
        };
        Response::ok(json!({
            "bot": bot.id,
            "symbol": params.symbol,
            "bin": params.bin,
            "short_window": params.short_window,
            "long_window": params.long_window,
            "candles": points,
            "fills": fills,
        }))
    }
}

/// The mean of the `n` values ending at index `end`, if there are that many.
fn mean_ending_at(values: &[f64], end: usize, n: usize) -> Option<f64> {
    let start = (end + 1).checked_sub(n)?;
    let window = values.get(start..=end)?;
    (n > 0).then(|| window.iter().sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::mean_ending_at;

    #[test]
    fn means_need_a_whole_window() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean_ending_at(&v, 3, 2), Some(3.5));
        assert_eq!(mean_ending_at(&v, 3, 4), Some(2.5));
        assert_eq!(mean_ending_at(&v, 2, 4), None);
        assert_eq!(mean_ending_at(&v, 0, 1), Some(1.0));
        assert_eq!(mean_ending_at(&v, 3, 0), None);
        assert_eq!(mean_ending_at(&v, 9, 1), None);
    }
}
