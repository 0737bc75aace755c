//! The routes: typed reading of BitMEX parameters, then calls on the [`Market`].

use super::book::NewOrder;
use super::market::Market;
use super::series::parse_time;
use super::server::error_response;
use maestro_lambda::exchange::BinSize;
use serde_json::{Map, Value, json};
use std::time::Instant;

type Params = Map<String, Value>;
type Answer = (u16, Value);

fn text(p: &Params, name: &str) -> Option<String> {
    match p.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn int(p: &Params, name: &str) -> Result<Option<i64>, Answer> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    let parsed = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| error_response(400, &format!("{name} must be an integer")))
}

fn boolean(p: &Params, name: &str, default: bool) -> Result<bool, Answer> {
    match p.get(name) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(_) => Err(error_response(
            400,
            &format!("{name} must be true or false"),
        )),
    }
}

fn time(p: &Params, name: &str) -> Result<Option<i64>, Answer> {
    match text(p, name) {
        None => Ok(None),
        Some(t) => parse_time(&t)
            .map(Some)
            .ok_or_else(|| error_response(400, &format!("{name} is not an ISO-8601 time: {t}"))),
    }
}

/// `filter` as a JSON object (sent as JSON text in a query, or as an object in a body).
fn filter(p: &Params) -> Result<Map<String, Value>, Answer> {
    let bad = || error_response(400, "filter must be a JSON object");
    match p.get("filter") {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

fn count(p: &Params) -> Result<usize, Answer> {
    match int(p, "count")?.unwrap_or(100) {
        c @ 1..=1000 => Ok(c as usize),
        c => Err(error_response(
            400,
            &format!("count must be between 1 and 1000, got {c}"),
        )),
    }
}

fn start(p: &Params) -> Result<usize, Answer> {
    Ok(int(p, "start")?.unwrap_or(0).max(0) as usize)
}

/// Routes one checked, authenticated request.
pub(crate) fn dispatch(m: &mut Market, method: &str, route: &str, p: &Params) -> Answer {
    let result = match (method, route) {
        ("GET", "/trade/bucketed") => bucketed(m, p),
        ("GET", "/instrument") => Ok(instrument(m, p)),
        ("GET", "/position") => position(m, p),
        ("GET", "/order") => {
            let answer = list_orders(m, p);
            m.after_lookup();
            answer
        }
        ("POST", "/order") => place(m, p),
        ("DELETE", "/order") => cancel(m, p),
        ("DELETE", "/order/all") => {
            let symbol = text(p, "symbol");
            Ok((
                200,
                Value::Array(m.cancel_open(symbol.as_deref(), "Canceled via API.")),
            ))
        }
        ("POST", "/order/cancelAllAfter") => match int(p, "timeout") {
            Ok(Some(t)) if t >= 0 => Ok((200, m.arm(t as u64, Instant::now()))),
            Ok(_) => Err(error_response(400, "timeout is required (ms, 0 disarms)")),
            Err(e) => Err(e),
        },
        _ => Err(error_response(404, "Not Found")),
    };
    result.unwrap_or_else(|e| e)
}

fn bucketed(m: &Market, p: &Params) -> Result<Answer, Answer> {
    let bin_text = text(p, "binSize").unwrap_or_else(|| "1m".into());
    let bin = BinSize::parse(&bin_text)
        .ok_or_else(|| error_response(400, &format!("Invalid binSize {bin_text}")))?;
    let symbol =
        text(p, "symbol").ok_or_else(|| error_response(400, "symbol is required by the fake"))?;
    let rows = m
        .bucketed(
            &symbol,
            bin,
            boolean(p, "partial", false)?,
            time(p, "startTime")?,
            time(p, "endTime")?,
            start(p)?,
            count(p)?,
            boolean(p, "reverse", false)?,
        )
        .map_err(|(s, msg)| error_response(s, &msg))?;
    Ok((200, Value::Array(rows)))
}

fn instrument(m: &Market, p: &Params) -> Answer {
    let symbol = text(p, "symbol");
    let rows: Vec<Value> = m
        .instruments
        .values()
        .filter(|i| symbol.as_deref().is_none_or(|s| s == i.symbol))
        .map(|i| {
            json!({
                "symbol": i.symbol, "rootSymbol": "LTC", "state": i.state, "typ": "FFWCSX",
                "underlying": "LTC", "quoteCurrency": "USDT", "settlCurrency": "USDt",
                "lotSize": i.lot_size, "tickSize": i.tick_size, "multiplier": i.multiplier,
                "underlyingToPositionMultiplier": i.underlying_to_position_multiplier,
                "takerFee": i.taker_fee, "makerFee": i.maker_fee,
                "lastPrice": m.last_close(&i.symbol),
            })
        })
        .collect();
    (200, Value::Array(rows))
}

fn position(m: &Market, p: &Params) -> Result<Answer, Answer> {
    let f = filter(p)?;
    let want = f.get("symbol").and_then(Value::as_str);
    let rows: Vec<Value> = m
        .positions
        .iter()
        .filter(|(s, _)| want.is_none_or(|w| w == s.as_str()))
        .map(|(symbol, qty)| {
            json!({
                "account": 1, "symbol": symbol, "currency": "USDt", "underlying": "LTC",
                "quoteCurrency": "USDT", "currentQty": qty, "isOpen": *qty != 0,
                "avgEntryPrice": if *qty != 0 { m.last_close(symbol) } else { None },
            })
        })
        .collect();
    Ok((200, Value::Array(rows)))
}

/// `filter` matches exact field values, plus BitMEX's `{"open": true}` for working orders;
/// `startTime`/`endTime` bound the `timestamp`, inclusive.
fn list_orders(m: &Market, p: &Params) -> Result<Answer, Answer> {
    let mut f = filter(p)?;
    let open = match f.remove("open") {
        None => None,
        Some(Value::Bool(b)) => Some(b),
        Some(_) => return Err(error_response(400, "filter.open must be true or false")),
    };
    let symbol = text(p, "symbol");
    let (from, to) = (time(p, "startTime")?, time(p, "endTime")?);
    let mut rows: Vec<Value> = m
        .orders
        .iter()
        .filter(|o| symbol.as_deref().is_none_or(|s| s == o.symbol))
        .filter(|o| open.is_none_or(|want| o.is_open() == want))
        .filter(|o| {
            from.is_none_or(|t| o.timestamp_ms >= t) && to.is_none_or(|t| o.timestamp_ms <= t)
        })
        .map(|o| o.to_json())
        .filter(|row| f.iter().all(|(k, v)| row.get(k) == Some(v)))
        .collect();
    if boolean(p, "reverse", false)? {
        rows.reverse();
    }
    let rows = rows.into_iter().skip(start(p)?).take(count(p)?).collect();
    Ok((200, Value::Array(rows)))
}

fn place(m: &mut Market, p: &Params) -> Result<Answer, Answer> {
    let new = NewOrder {
        symbol: text(p, "symbol").ok_or_else(|| error_response(400, "symbol is required"))?,
        side: text(p, "side").unwrap_or_default(),
        order_qty: int(p, "orderQty")?,
        ord_type: text(p, "ordType").unwrap_or_else(|| "Limit".into()),
        cl_ord_id: text(p, "clOrdID"),
        exec_inst: text(p, "execInst"),
    };
    let order = m.place(new).map_err(|(s, msg)| error_response(s, &msg))?;
    Ok((200, order.to_json()))
}

fn cancel(m: &mut Market, p: &Params) -> Result<Answer, Answer> {
    let ids: Vec<String> = ["orderID", "clOrdID"]
        .iter()
        .filter_map(|k| p.get(*k))
        .flat_map(|v| match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => {
                serde_json::from_str::<Vec<String>>(s).unwrap_or_else(|_| vec![s.clone()])
            }
            _ => Vec::new(),
        })
        .collect();
    m.cancel_ids(&ids)
        .map(|rows| (200, Value::Array(rows)))
        .ok_or_else(|| error_response(404, "Not Found: no such order"))
}
