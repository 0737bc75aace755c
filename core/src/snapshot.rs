//! The strategy's whole state as JSON in a caller's buffer (serde-json-core), with a schema
//! version; decoding re-checks every invariant and refuses a snapshot rather than trusting it.
//!
//! Layout (schema 1), one object:
//! `{"v":1,"params":{..},"closes":[oldest..newest],"short_sum":..,"long_sum":..,
//! "last_close_ms":..|null,"regime":"Bullish"|"Bearish"|null,"pending":..,"streak":..,
//! "since_flip":..,"target":..}`. `closes` holds only the newest `long_window` closes, so the real
//! size depends on the window, not on `CAP`.

use crate::crossover::Regime;
use crate::sma::SmaPair;
use crate::state::Parts;
use crate::strategy::{Params, ParamsError, Strategy};
use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The snapshot schema this build writes and the only one it reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Bytes of everything but the closes in the largest possible snapshot (every number at its
/// widest, both optional regimes present). Checked against a real worst case by a unit test.
pub const SNAPSHOT_OVERHEAD: usize = 540;

/// Bytes per close in the largest snapshot: 13 digits (a price is at most 10^12 ticks) and a comma.
pub const SNAPSHOT_BYTES_PER_CLOSE: usize = 14;

/// Why a snapshot could not be written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The output buffer is too small (see [`Strategy::MAX_SNAPSHOT_LEN`]).
    BufferTooSmall,
    /// Not JSON of the snapshot's shape (corrupt, truncated, unknown or missing fields).
    Malformed,
    /// Written by another schema version.
    UnsupportedVersion(u32),
    /// The stored parameters are invalid for this capacity.
    Params(ParamsError),
    /// A stored close is not a valid price.
    BadClose,
    /// More closes than the long window, or a running sum that differs from the closes' sum.
    SumMismatch,
    /// A combination of fields the strategy can never reach (regime before the window is full,
    /// a target that does not match the regime, a time without closes, ...).
    Inconsistent,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::BufferTooSmall => f.write_str("snapshot buffer is too small"),
            SnapshotError::Malformed => f.write_str("snapshot is not valid snapshot JSON"),
            SnapshotError::UnsupportedVersion(v) => write!(
                f,
                "snapshot schema version {v} is not supported (expected {SNAPSHOT_VERSION})"
            ),
            SnapshotError::Params(e) => write!(f, "snapshot parameters are invalid: {e}"),
            SnapshotError::BadClose => f.write_str("snapshot holds a close that is not a price"),
            SnapshotError::SumMismatch => {
                f.write_str("snapshot running sums do not match its closes")
            }
            SnapshotError::Inconsistent => f.write_str("snapshot state is inconsistent"),
        }
    }
}

impl core::error::Error for SnapshotError {}

/// The closes of a pair, serialised oldest first.
pub(crate) struct ClosesOut<'a, const CAP: usize>(pub(crate) &'a SmaPair<CAP>);

impl<const CAP: usize> Serialize for ClosesOut<'_, CAP> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let closes = self.0.closes();
        let mut seq = ser.serialize_seq(Some(closes.len()))?;
        for c in closes {
            seq.serialize_element(&c)?;
        }
        seq.end()
    }
}

/// Closes read back into a fixed array; more than `CAP` is an error, not a panic.
pub(crate) struct ClosesIn<const CAP: usize> {
    pub(crate) buf: [i64; CAP],
    pub(crate) len: usize,
}

impl<'de, const CAP: usize> Deserialize<'de> for ClosesIn<CAP> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<const CAP: usize>(PhantomData<[i64; CAP]>);
        impl<'de, const CAP: usize> Visitor<'de> for V<CAP> {
            type Value = ClosesIn<CAP>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "at most {CAP} closes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = ClosesIn {
                    buf: [0; CAP],
                    len: 0,
                };
                while let Some(x) = seq.next_element::<i64>()? {
                    let slot = out
                        .buf
                        .get_mut(out.len)
                        .ok_or_else(|| de::Error::invalid_length(out.len + 1, &self))?;
                    *slot = x;
                    out.len += 1;
                }
                Ok(out)
            }
        }
        de.deserialize_seq(V::<CAP>(PhantomData))
    }
}

#[derive(Serialize)]
struct SnapOut<'a, const CAP: usize> {
    v: u32,
    params: &'a Params,
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
struct SnapIn<const CAP: usize> {
    v: u32,
    params: Params,
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

/// The version of a snapshot that starts the way every schema starts (`{"v":N`), so that a
/// snapshot of another schema says so instead of failing as malformed. Hand-parsed: a generic
/// JSON skip over the rest would recurse on hostile nesting.
pub(crate) fn leading_version(bytes: &[u8]) -> Option<u32> {
    let rest = bytes.trim_ascii_start().strip_prefix(b"{\"v\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    Some(
        rest[..digits]
            .iter()
            .fold(0u32, |n, &b| n * 10 + u32::from(b - b'0')),
    )
}

impl<const CAP: usize> Strategy<CAP> {
    /// The largest snapshot this capacity can produce, in bytes:
    /// [`SNAPSHOT_OVERHEAD`] + [`SNAPSHOT_BYTES_PER_CLOSE`] × `CAP` (1,240 bytes for `CAP` = 50,
    /// 3,340 for 200). A real one is smaller: 652 bytes for windows 10/50 on LTC/USDT at a cent
    /// tick (five-digit closes).
    pub const MAX_SNAPSHOT_LEN: usize = SNAPSHOT_OVERHEAD + SNAPSHOT_BYTES_PER_CLOSE * CAP;

    /// Writes the snapshot into `buf` and returns its length. [`Self::MAX_SNAPSHOT_LEN`] bytes
    /// always suffice.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, SnapshotError> {
        let st = self.cross_state();
        let (short_sum, long_sum) = self.smas.sums();
        let out = SnapOut {
            v: SNAPSHOT_VERSION,
            params: &self.params,
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

    /// Reads a snapshot, re-validating the parameters, every close, both running sums, and the
    /// consistency of regime, guards state, time and target. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let snap = match serde_json_core::from_slice::<SnapIn<CAP>>(bytes) {
            Ok((snap, _)) => snap,
            Err(_) => {
                return Err(match leading_version(bytes) {
                    Some(v) if v != SNAPSHOT_VERSION => SnapshotError::UnsupportedVersion(v),
                    _ => SnapshotError::Malformed,
                });
            }
        };
        if snap.v != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion(snap.v));
        }
        Self::from_parts(
            snap.params,
            Parts {
                closes: &snap.closes.buf[..snap.closes.len],
                short_sum: snap.short_sum,
                long_sum: snap.long_sum,
                last_close_ms: snap.last_close_ms,
                regime: snap.regime,
                pending: snap.pending,
                streak: snap.streak,
                since_flip: snap.since_flip,
                target: snap.target,
            },
        )
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
pub(crate) mod tests;
