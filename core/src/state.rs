//! The strategy's state without its parameters: for a caller that keeps the parameters itself
//! (a runner's stored configuration) and must not store them twice. Same rules as the snapshot:
//! JSON (serde-json-core) in a caller's buffer, a schema version, and restoring re-checks every
//! invariant against the parameters the caller supplies.
//!
//! Layout (state schema 1), one object:
//! `{"v":1,"closes":[oldest..newest],"short_sum":..,"long_sum":..,"last_close_ms":..|null,
//! "regime":"Bullish"|"Bearish"|null,"pending":..,"streak":..,"since_flip":..,"target":..}`.

use crate::crossover::{Crossover, CrossoverState, Regime};
use crate::price::MAX_TICKS;
use crate::sma::SmaPair;
use crate::snapshot::{ClosesIn, ClosesOut, SnapshotError, leading_version};
use crate::steady::Clock;
use crate::strategy::{Params, Strategy};
use serde::{Deserialize, Serialize};

/// The state schema this build writes and the only one it reads.
pub const STATE_VERSION: u32 = 1;

#[derive(Serialize)]
struct StateOut<'a, const CAP: usize> {
    v: u32,
    closes: ClosesOut<'a, CAP>,
    short_sum: i64,
    long_sum: i64,
    last_close_ms: Option<i64>,
    regime: Option<Regime>,
    pending: Option<Regime>,
    streak: u32,
    since_flip: u32,
    target: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateIn<const CAP: usize> {
    v: u32,
    closes: ClosesIn<CAP>,
    short_sum: i64,
    long_sum: i64,
    last_close_ms: Option<i64>,
    regime: Option<Regime>,
    pending: Option<Regime>,
    streak: u32,
    since_flip: u32,
    target: i64,
}

impl<const CAP: usize> Strategy<CAP> {
    /// The largest state this capacity can produce, in bytes: never more than the snapshot's
    /// [`Self::MAX_SNAPSHOT_LEN`], which holds the same fields plus the parameters.
    pub const MAX_STATE_LEN: usize = Self::MAX_SNAPSHOT_LEN;

    /// Writes the state without the parameters into `buf` and returns its length.
    /// [`Self::MAX_STATE_LEN`] bytes always suffice.
    pub fn encode_state(&self, buf: &mut [u8]) -> Result<usize, SnapshotError> {
        let st = self.cross_state();
        let (short_sum, long_sum) = self.smas.sums();
        let out = StateOut {
            v: STATE_VERSION,
            closes: ClosesOut(&self.smas),
            short_sum,
            long_sum,
            last_close_ms: self.last_close_ms(),
            regime: st.regime,
            pending: st.pending,
            streak: st.streak,
            since_flip: st.since_flip,
            target: self.target,
        };
        serde_json_core::to_slice(&out, buf).map_err(|_| SnapshotError::BufferTooSmall)
    }

    /// Rebuilds a strategy from `params` and a state written by [`Self::encode_state`],
    /// validating the parameters, every close, both running sums (against the windows of
    /// `params`), and the consistency of regime, guards state, time and target. A state that does
    /// not fit `params` is refused, never trusted. Never panics.
    pub fn restore_state(params: Params, bytes: &[u8]) -> Result<Self, SnapshotError> {
        let state = match serde_json_core::from_slice::<StateIn<CAP>>(bytes) {
            Ok((state, _)) => state,
            Err(_) => {
                return Err(match leading_version(bytes) {
                    Some(v) if v != STATE_VERSION => SnapshotError::UnsupportedVersion(v),
                    _ => SnapshotError::Malformed,
                });
            }
        };
        if state.v != STATE_VERSION {
            return Err(SnapshotError::UnsupportedVersion(state.v));
        }
        Self::from_parts(
            params,
            Parts {
                closes: &state.closes.buf[..state.closes.len],
                short_sum: state.short_sum,
                long_sum: state.long_sum,
                last_close_ms: state.last_close_ms,
                regime: state.regime,
                pending: state.pending,
                streak: state.streak,
                since_flip: state.since_flip,
                target: state.target,
            },
        )
    }

    /// Rebuilds a strategy from `params` and stored parts, re-checking every invariant: the
    /// parameters, every close, both running sums against the windows, and the consistency of
    /// regime, guards state, time and target. The one check behind [`Self::restore_state`] and
    /// [`Self::decode`].
    pub(crate) fn from_parts(params: Params, parts: Parts<'_>) -> Result<Self, SnapshotError> {
        let mut s = Strategy::<CAP>::new(params).map_err(SnapshotError::Params)?;
        let closes = parts.closes;
        if closes.iter().any(|&c| c <= 0 || c > MAX_TICKS) {
            return Err(SnapshotError::BadClose);
        }
        let smas = SmaPair::<CAP>::from_closes(
            params.short_window as usize,
            params.long_window as usize,
            closes,
        )
        .ok_or(SnapshotError::SumMismatch)?;
        if smas.sums() != (parts.short_sum, parts.long_sum) {
            return Err(SnapshotError::SumMismatch);
        }
        let ready = closes.len() == params.long_window as usize;
        let st = CrossoverState {
            regime: parts.regime,
            pending: parts.pending,
            streak: parts.streak,
            since_flip: parts.since_flip,
        };
        let idle = CrossoverState {
            regime: None,
            pending: None,
            streak: 0,
            since_flip: 0,
        };
        let cross = Crossover::from_state(params.guards, st).ok_or(SnapshotError::Inconsistent)?;
        let consistent = (ready || st == idle)
            && parts.last_close_ms.is_some() != closes.is_empty()
            && s.target_for_regime(parts.regime) == parts.target;
        if !consistent {
            return Err(SnapshotError::Inconsistent);
        }
        s.smas = smas;
        s.cross = cross;
        s.clock = parts.last_close_ms.map_or(Clock::START, Clock::general);
        s.target = parts.target;
        s.refresh_steady();
        Ok(s)
    }
}

/// A stored strategy's fields, borrowed from whichever format carried them.
pub(crate) struct Parts<'a> {
    pub(crate) closes: &'a [i64],
    pub(crate) short_sum: i64,
    pub(crate) long_sum: i64,
    pub(crate) last_close_ms: Option<i64>,
    pub(crate) regime: Option<Regime>,
    pub(crate) pending: Option<Regime>,
    pub(crate) streak: u32,
    pub(crate) since_flip: u32,
    pub(crate) target: i64,
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
