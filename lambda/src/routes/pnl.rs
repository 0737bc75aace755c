//! The P&L block of `/status`: each bot's realised and unrealised P&L and its fees, from the fills
//! in its order log (see [`crate::pnl`] for the arithmetic).
//!
//! **What "since start" means here.** The order log keeps each order for
//! [`ORDER_RETENTION_S`](crate::store::ORDER_RETENTION_S) (7 days) and this reads at most
//! [`PNL_ORDERS`] of them, so the totals cover the fills still in the log, counted from a flat
//! position: for a bot younger than a week that is since it started. `since_ms` says when the
//! oldest fill counted was decided, and `matches_position` whether the fills add up to the
//! position the bot last read from the exchange; when not (a position opened before the window,
//! or traded by hand), the page says the totals are partial. Dry-run orders are never filled, so a
//! dry-run bot shows no P&L.

use crate::exchange::Instrument;
use crate::pnl::{self, Fill, Ledger};
use crate::store::OrderLog;
use serde_json::{Value, json};

/// How many logged orders the totals read (newest first; the log keeps a week).
pub(crate) const PNL_ORDERS: usize = 500;

/// Decimals shown for amounts in the quote currency (a LTCUSDT contract is 0.0001 LTC).
const DECIMALS: usize = 6;

/// The fills in `orders` (newest first, as the store lists them), oldest first. An order counts
/// when the exchange reported an average price and filled contracts (an order logged before fills
/// were kept counts its whole quantity when `Filled`).
fn fills(orders: &[OrderLog], instrument: &Instrument, fee_ppm: i64) -> Vec<(i64, Fill)> {
    orders
        .iter()
        .rev()
        .filter_map(|o| {
            let qty = match o.filled_qty {
                Some(q) => q,
                None if o.status == "Filled" => o.qty,
                None => 0,
            };
            let price = pnl::price_units(o.avg_price?, instrument.tick_size)?;
            (qty > 0).then(|| {
                let fill = Fill {
                    side: o.side,
                    qty,
                    price,
                    fee: pnl::fee_units(qty, price, fee_ppm),
                };
                (o.decided_at_ms, fill)
            })
        })
        .collect()
}

/// The `pnl` object for one bot: `orders` newest first, `mark` the last completed candle's close
/// in ticks (`None`: unrealised unknown), `position` the position the bot last read.
pub(super) fn pnl_json(
    orders: &[OrderLog],
    instrument: Option<&Instrument>,
    mark: Option<i64>,
    position: Option<i64>,
) -> Value {
    let Some(instrument) = instrument else {
        return json!({ "error": "the instrument could not be read, so fills cannot be priced" });
    };
    let Some(fee_ppm) = pnl::rate_ppm(instrument.taker_fee) else {
        return json!({ "error": format!("the instrument's taker fee {} is not a rate", instrument.taker_fee) });
    };
    let fills = fills(orders, instrument, fee_ppm);
    let mut ledger = Ledger::default();
    for (_, fill) in &fills {
        ledger.update(fill);
    }
    let mark_units = mark.map(pnl::ticks_to_units);
    let unrealised = mark_units.and_then(|m| i64::try_from(m).ok().map(|m| ledger.unrealised(m)));
    let quote = |units: i128| {
        format!(
            "{:.DECIMALS$}",
            pnl::to_quote(
                units,
                instrument.tick_size,
                instrument.underlying_to_position_multiplier
            )
        )
    };
    let net = ledger
        .realised()
        .saturating_add(unrealised.unwrap_or(0))
        .saturating_sub(ledger.fees());
    json!({
        "fills": ledger.fills(),
        "since_ms": fills.first().map(|(t, _)| *t),
        "position": ledger.position().to_string(),
        "matches_position": position.is_some_and(|p| i128::from(p) == ledger.position()),
        "mark": mark.map(|t| maestro_core::Price(t).to_f64(instrument.tick_size)),
        "realised": quote(ledger.realised()),
        "unrealised": unrealised.map(quote),
        "fees": quote(ledger.fees()),
        "net": quote(net),
        "exact": {
            "unit": format!("1/{} tick × contract", pnl::PRICE_SCALE),
            "realised": ledger.realised().to_string(),
            "unrealised": unrealised.map(|u| u.to_string()),
            "fees": ledger.fees().to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Side;
    use maestro_core::TickSize;

    fn instrument() -> Instrument {
        Instrument {
            symbol: "LTCUSDT".to_owned(),
            tick_size: TickSize::CENT,
            lot_size: 1,
            multiplier: 100,
            underlying_to_position_multiplier: Some(10_000.0),
            taker_fee: 0.0005,
            state: "Open".to_owned(),
        }
    }

    fn order(t: i64, side: Side, qty: u64, status: &str, price: Option<f64>) -> OrderLog {
        OrderLog {
            decided_at_ms: t,
            recorded_at_ms: t,
            cl_ord_id: format!("c{t}"),
            side,
            qty,
            order_id: None,
            status: status.to_owned(),
            avg_price: price,
            filled_qty: None,
        }
    }

    #[test]
    fn fills_come_from_priced_filled_orders_oldest_first() {
        // Newest first, as the store lists them.
        let mut partial = order(4, Side::Sell, 10_000, "Canceled", Some(101.0));
        partial.filled_qty = Some(4_000);
        let orders = [
            order(5, Side::Buy, 1, "dry_run", None),
            partial,
            order(3, Side::Buy, 1, "Rejected", None),
            order(2, Side::Buy, 10_000, "Filled", Some(100.0)),
        ];
        // 10 000 contracts = 1 LTC bought at 100, 0.4 LTC sold at 101: +0.4 USDT; 0.6 LTC open,
        // marked at 102: +1.2 USDT. Fees at 5 bp: 0.05 + 0.0202 USDT.
        let v = pnl_json(&orders, Some(&instrument()), Some(10_200), Some(6_000));
        assert_eq!(v["fills"], 2, "{v}");
        assert_eq!(v["since_ms"], 2);
        assert_eq!(v["position"], "6000");
        assert_eq!(v["matches_position"], true);
        assert_eq!(v["realised"], "0.400000");
        assert_eq!(v["unrealised"], "1.200000");
        assert_eq!(v["fees"], "0.070200");
        assert_eq!(v["net"], "1.529800");
        assert_eq!(v["exact"]["realised"], "4000000000");
        assert_eq!(v["mark"], 102.0);
    }

    #[test]
    fn unknowns_are_said_not_guessed() {
        let orders = [order(2, Side::Buy, 10_000, "Filled", Some(100.0))];
        let v = pnl_json(&orders, Some(&instrument()), None, Some(0));
        assert_eq!(v["unrealised"], Value::Null, "no mark: {v}");
        assert_eq!(
            v["matches_position"], false,
            "the fills say 10000, the exchange 0"
        );
        assert_eq!(v["net"], "-0.050000", "only the fee is known");
        let v = pnl_json(&orders, None, Some(1), Some(0));
        assert!(v["error"].is_string(), "{v}");
        let mut odd = instrument();
        odd.taker_fee = f64::NAN;
        assert!(pnl_json(&orders, Some(&odd), None, None)["error"].is_string());
        let v = pnl_json(&[], Some(&instrument()), Some(1), None);
        assert_eq!(v["fills"], 0);
        assert_eq!(v["since_ms"], Value::Null);
        assert_eq!(v["realised"], "0.000000");
    }
}
