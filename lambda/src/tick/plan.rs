//! Decide, then act: the pure half of a reconcile-first tick.
//!
//! [`plan`] takes what the bot remembers (its pending intent, its expected position, whether it is
//! paused, flattening or in dry run), what the strategy wants and what the exchange says (the
//! position, and the order carrying the intent's clOrdID if the exchange knows one) and returns
//! what to do: nothing, wait, send one order, or stop with a reason. It performs no I/O and reads
//! no clock, so every case is a row in a table test; an executor carries the plan out.
//!
//! The rules, in order:
//! 1. **The exchange is the truth about a pending intent.** Known: it was placed; it must match
//!    the intent's symbol, side and quantity, or the bot stops. Still working: wait. Unknown: it
//!    may still appear (an order can execute after its sender gave up), so within
//!    [`SETTLE_MS`] of being saved it is waited for; after that it is dropped and the order is
//!    planned again from the current position: never re-sent blindly, and correct whether or not
//!    the exchange would refuse a reused clOrdID.
//! 2. **A flatten is a durable intent:** target 0 whatever the strategy says, with a close order
//!    every tick until the account is flat; it closes whatever the account holds, so a position
//!    the bot did not make does not stop it.
//! 3. **A position the bot did not make stops it.** After its own fills are accounted, a position
//!    other than the expected one (a hand trade, a liquidation, auto-deleveraging) pauses the bot
//!    with the reason; a trader's `resume` accepts the new position.
//! 4. **Circuit breaker.** Too many consecutive rejected orders, too many orders in an hour or
//!    too much volume in a day stop the bot before it sends another order.
//! 5. **Paused bots send nothing; a re-warming strategy holds the position** until it has an
//!    established direction; **dry-run bots never send**, they record what they would do.

use crate::exchange::{PlacedOrder, Side};
use crate::store::OrderIntent;
use maestro_core::Order;

/// How long after an intent was saved an exchange that does not know its clOrdID may still
/// report it (an order POSTed just before the saving tick died, or answered with a 503 but
/// executed later). A concurrent tick inside this window waits instead of deciding again; the
/// next minute's tick is past it.
pub const SETTLE_MS: i64 = 30_000;

/// Limits that stop the bot before it sends another order (the circuit breaker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Consecutive rejected orders after which the bot pauses.
    pub max_rejections: u32,
    /// Orders in any rolling hour.
    pub max_orders_per_hour: u32,
    /// Contracts traded in any rolling day.
    pub max_volume_per_day: u64,
}

impl Limits {
    /// Safe defaults for a crossover bot of order size `qty` on bars of `bin_ms`: 3 consecutive
    /// rejections; at most one order every second bar in an hour, and never fewer than 6 (so 6 an
    /// hour on 5-minute bars and longer, 30 on 1-minute bars); a day's volume of four hours of
    /// full reversals (2 × `qty`) at that rate. A strategy that trades every bar, or a position
    /// misread every minute, meets them within the hour; a normal crossover does not.
    pub const fn for_bot(qty: u64, bin_ms: i64) -> Self {
        let per_hour = if bin_ms > 0 {
            3_600_000 / bin_ms / 2
        } else {
            0
        };
        let per_hour = if per_hour > 6 { per_hour as u32 } else { 6 };
        Limits {
            max_rejections: 3,
            max_orders_per_hour: per_hour,
            max_volume_per_day: qty.saturating_mul(2 * 4 * per_hour as u64),
        }
    }
}

/// What the bot has done lately, as the breaker counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Orders rejected in a row (a placed order resets it).
    pub rejections: u32,
    /// Orders sent in the last hour.
    pub orders_last_hour: u32,
    /// Contracts sent in the last day.
    pub volume_last_day: u64,
}

/// What the strategy says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// The strategy has an established direction (warmed up and, with guards, confirmed). Until
    /// then the position is held.
    pub established: bool,
    /// The order that moves the current position to the strategy's target (the core's
    /// `plan_order`: lot-rounded, capped, reduce-only when it only closes); `None` when there is
    /// nothing to do.
    pub order: Option<Order>,
}

/// Everything the planner looks at.
#[derive(Clone, Copy, Debug)]
pub struct Situation<'a> {
    /// The tick's time (UNIX ms).
    pub now_ms: i64,
    /// The bot is paused: it sends nothing but a flatten's close.
    pub paused: bool,
    /// A flatten is in progress: target 0 until the account is flat.
    pub flatten: bool,
    /// Dry run: nothing is ever sent.
    pub dry_run: bool,
    /// The position now (the exchange's; in dry run the simulated one).
    pub position: i64,
    /// The position the bot expects from its own orders; `None` when it has no baseline (first
    /// tick, or just resumed), and then the exchange's position is taken as it is.
    pub expected: Option<i64>,
    /// The bot's pending intent and, when the exchange knows its clOrdID, that order.
    pub pending: Option<(&'a OrderIntent, Option<&'a PlacedOrder>)>,
    /// When the pending intent was saved (UNIX ms).
    pub pending_saved_ms: i64,
    /// The symbol traded.
    pub symbol: &'a str,
    /// What the strategy wants.
    pub wanted: Wanted,
    /// The breaker's counters.
    pub activity: Activity,
    /// The breaker's limits.
    pub limits: Limits,
}

/// What became of a pending intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// No intent was pending.
    None,
    /// The exchange has not settled it: keep it and decide nothing.
    Keep,
    /// The exchange has the order: it counts with this many contracts filled (`rejected` when
    /// the exchange refused it).
    Placed {
        /// Contracts filled, signed by side.
        filled: i64,
        /// The exchange rejected the order.
        rejected: bool,
    },
    /// The exchange does not know it and it is settled: it was never placed. Drop it.
    Dropped,
}

/// Why the bot stops itself and waits for a trader's `resume`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The order found under the intent's clOrdID is not the intent.
    IntentMismatch {
        /// What the exchange holds, in a few words.
        found: String,
    },
    /// The position changed in a way the bot's own orders do not explain.
    PositionChanged {
        /// What the bot expected.
        expected: i64,
        /// What the exchange reports.
        actual: i64,
    },
    /// Too many consecutive rejected orders.
    Rejections(u32),
    /// Too many orders in the last hour.
    OrderRate(u32),
    /// Too much volume in the last day.
    Volume(u64),
}

impl core::fmt::Display for StopReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StopReason::IntentMismatch { found } => write!(
                f,
                "the exchange holds a different order under the intent's clOrdID: {found}"
            ),
            StopReason::PositionChanged { expected, actual } => write!(
                f,
                "the position is {actual}, the bot's own orders explain {expected}: a trade the \
                 bot did not make (by hand, a liquidation or auto-deleveraging)"
            ),
            StopReason::Rejections(n) => write!(f, "{n} orders rejected in a row"),
            StopReason::OrderRate(n) => write!(f, "{n} orders in the last hour"),
            StopReason::Volume(v) => write!(f, "{v} contracts traded in the last day"),
        }
    }
}

/// What to do this tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to send; the reason in a few words.
    Nothing(&'static str),
    /// An order of the bot's is not settled yet: decide nothing until it is.
    Wait(&'static str),
    /// Send this order (a new intent with a new clOrdID).
    Send(Order),
    /// Close the whole position (`execInst=Close`) on this side: a flatten.
    Close(Side),
    /// Dry run: record this order as if sent.
    Record(Order),
    /// Pause the bot and say why.
    Stop(StopReason),
}

/// The plan: what became of the pending intent, and what to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The pending intent's fate.
    pub fate: Fate,
    /// The next step.
    pub action: Action,
    /// The position the bot expects once the pending intent's fills are counted (the baseline
    /// for the next tick; the exchange's position when there was no baseline).
    pub expected: i64,
    /// Consecutive rejected orders once the pending intent's fate is counted.
    pub rejections: u32,
}

/// Decides what one tick does. Pure: see the module's rules.
pub fn plan(s: &Situation<'_>) -> Plan {
    let (fate, settled) = fate_of(s);
    let (filled, rejections) = match fate {
        Fate::Placed {
            filled,
            rejected: true,
        } => (filled, s.activity.rejections.saturating_add(1)),
        Fate::Placed { filled, .. } => (filled, 0),
        _ => (0, s.activity.rejections),
    };
    let expected = match s.expected {
        // A flatten closes whatever the account holds: it takes the position as it is.
        Some(expected) if !s.flatten => expected.saturating_add(filled),
        _ => s.position,
    };
    let action = match (&fate, settled) {
        (_, Err(reason)) => Action::Stop(reason),
        (Fate::Keep, _) => Action::Wait("the pending order is not settled on the exchange yet"),
        _ => next_action(s, expected, rejections),
    };
    Plan {
        fate,
        action,
        expected,
        rejections,
    }
}

/// The pending intent's fate, or a mismatch that stops the bot.
fn fate_of(s: &Situation<'_>) -> (Fate, Result<(), StopReason>) {
    let Some((intent, found)) = s.pending else {
        return (Fate::None, Ok(()));
    };
    match found {
        Some(order) => {
            if let Some(found) = mismatch(intent, order, s.symbol) {
                return (Fate::Keep, Err(StopReason::IntentMismatch { found }));
            }
            if !super::is_terminal(&order.status) {
                return (Fate::Keep, Ok(()));
            }
            let filled = i64::try_from(order.filled_qty).unwrap_or(i64::MAX);
            let filled = match order.side {
                Side::Buy => filled,
                Side::Sell => -filled,
            };
            let rejected = order.status == "Rejected";
            (Fate::Placed { filled, rejected }, Ok(()))
        }
        None if s.now_ms.saturating_sub(s.pending_saved_ms) < SETTLE_MS => (Fate::Keep, Ok(())),
        None => (Fate::Dropped, Ok(())),
    }
}

/// Describes how `order` differs from `intent`, if it does.
fn mismatch(intent: &OrderIntent, order: &PlacedOrder, symbol: &str) -> Option<String> {
    // A close order's quantity is the position the exchange closed, not the intent's.
    let qty_differs = !intent.close && order.qty != intent.qty;
    if order.symbol != symbol || order.side != intent.side || qty_differs {
        Some(format!(
            "{} {} {} ({})",
            order.symbol,
            order.side.as_str(),
            order.qty,
            order.status
        ))
    } else {
        None
    }
}

/// The next step once the pending intent is settled.
fn next_action(s: &Situation<'_>, expected: i64, rejections: u32) -> Action {
    if s.flatten {
        if s.position == 0 {
            return Action::Nothing("flat: the flatten is done");
        }
        let side = if s.position.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        };
        return if s.dry_run {
            Action::Record(Order {
                side,
                qty: s.position.unsigned_abs(),
                reduce_only: true,
            })
        } else {
            Action::Close(side)
        };
    }
    if s.paused {
        // A trader may trade by hand while the bot is paused: `resume` takes the position as it is.
        return Action::Nothing("paused: no orders");
    }
    if !s.dry_run && s.expected.is_some() && s.position != expected {
        return Action::Stop(StopReason::PositionChanged {
            expected,
            actual: s.position,
        });
    }
    if !s.wanted.established {
        return Action::Nothing("no established direction yet: holding the position");
    }
    let Some(order) = s.wanted.order else {
        return Action::Nothing("the position matches the target");
    };
    if s.dry_run {
        return Action::Record(order);
    }
    if let Some(stop) = breaker(s, rejections, order.qty) {
        return Action::Stop(stop);
    }
    Action::Send(order)
}

/// The circuit breaker: a reason to stop before sending `qty` more contracts, if any.
fn breaker(s: &Situation<'_>, rejections: u32, qty: u64) -> Option<StopReason> {
    let (a, l) = (s.activity, s.limits);
    if rejections >= l.max_rejections {
        Some(StopReason::Rejections(rejections))
    } else if a.orders_last_hour >= l.max_orders_per_hour {
        Some(StopReason::OrderRate(a.orders_last_hour))
    } else if a.volume_last_day.saturating_add(qty) > l.max_volume_per_day {
        Some(StopReason::Volume(a.volume_last_day))
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
