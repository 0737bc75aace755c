//! Client order ids derived from the decision, so every retry of one decision carries the same id and
//! the exchange refuses a second copy.

#[cfg(test)]
use crate::exchange::MAX_CL_ORD_ID_LEN;
use sha2::{Digest, Sha256};

/// The clOrdID of a decision: the bot, the close time of the candle it was decided on, the target
/// position, and the bot's decision counter. `cm-` + 32 hex digits of SHA-256 (35 characters).
///
/// ```
/// use maestro_lambda::tick::cl_ord_id;
/// let id = cl_ord_id("ltc-daily", 1_700_000_000_000, 1000, 7);
/// assert_eq!(id, cl_ord_id("ltc-daily", 1_700_000_000_000, 1000, 7));
/// assert_ne!(id, cl_ord_id("ltc-daily", 1_700_000_000_000, 1000, 8));
/// assert!(id.len() <= 36);
/// ```
pub fn cl_ord_id(bot_id: &str, decided_at_ms: i64, target: i64, seq: u64) -> String {
    let mut hash = Sha256::new();
    // Length-prefix the id so ("a", ...) and ("a|1", ...) can never collide.
    hash.update((bot_id.len() as u64).to_be_bytes());
    hash.update(bot_id.as_bytes());
    hash.update(decided_at_ms.to_be_bytes());
    hash.update(target.to_be_bytes());
    hash.update(seq.to_be_bytes());
    let digest = hash.finalize();
    let mut id = String::with_capacity(35);
    id.push_str("cm-");
    for byte in &digest[..16] {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_bitmex_and_change_with_every_input() {
        let base = cl_ord_id("bot", 60_000, 1000, 0);
        assert_eq!(base.len(), 35);
        assert!(base.len() <= MAX_CL_ORD_ID_LEN);
        for other in [
            cl_ord_id("bot2", 60_000, 1000, 0),
            cl_ord_id("bot", 120_000, 1000, 0),
            cl_ord_id("bot", 60_000, -1000, 0),
            cl_ord_id("bot", 60_000, 1000, 1),
        ] {
            assert_ne!(base, other, "every part of the decision must change the id");
        }
        assert_eq!(base, cl_ord_id("bot", 60_000, 1000, 0));
    }
}
