//! Client order ids: the bot's prefix and random digits, so an id never comes back, not after a
//! state reset, a point-in-time restore or a second deployment of the same bot. Nothing depends on
//! the exchange refusing a reused id: an intent is looked up by its id, never sent twice.

use crate::exchange::MAX_CL_ORD_ID_LEN;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// Hex digits of SHA-256(bot id) in the prefix.
const TAG_HEX: usize = 10;

/// Random bytes after the prefix (20 hex digits, 80 bits).
const RANDOM_BYTES: usize = 10;

/// The prefix every clOrdID of `bot_id` starts with: `cm-` and 10 hex digits of SHA-256 of the
/// id, then `-` (14 characters). The housekeeping finds the bot's own orders by it.
///
/// ```
/// use maestro_lambda::tick::{cl_ord_id, own_prefix};
/// let id = cl_ord_id("ltc-daily");
/// assert!(id.starts_with(&own_prefix("ltc-daily")));
/// assert_ne!(id, cl_ord_id("ltc-daily"));
/// assert!(id.len() <= 36);
/// ```
pub fn own_prefix(bot_id: &str) -> String {
    let digest = Sha256::digest(bot_id.as_bytes());
    let mut prefix = String::with_capacity(3 + TAG_HEX + 1);
    prefix.push_str("cm-");
    prefix.push_str(&hex::encode(&digest[..TAG_HEX / 2]));
    prefix.push('-');
    prefix
}

/// A fresh clOrdID for a new order of `bot_id`: [`own_prefix`] and 20 random hex digits from the
/// operating system (34 characters).
pub fn cl_ord_id(bot_id: &str) -> String {
    let mut random = [0u8; RANDOM_BYTES];
    if OsRng.try_fill_bytes(&mut random).is_err() {
        // No OS randomness (never seen on Linux): the time in nanoseconds still makes the id new.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        random.copy_from_slice(&nanos.to_be_bytes()[16 - RANDOM_BYTES..]);
    }
    let mut id = own_prefix(bot_id);
    id.push_str(&hex::encode(random));
    debug_assert!(id.len() <= MAX_CL_ORD_ID_LEN);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_bitmex_carry_the_prefix_and_never_repeat() {
        let prefix = own_prefix("bot");
        assert_eq!(prefix.len(), 14);
        assert_ne!(prefix, own_prefix("bot2"));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = cl_ord_id("bot");
            assert_eq!(id.len(), 34);
            assert!(id.len() <= MAX_CL_ORD_ID_LEN);
            assert!(id.starts_with(&prefix));
            assert!(id[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(seen.insert(id), "an id came back");
        }
        let long = "b".repeat(32);
        assert_eq!(cl_ord_id(&long).len(), 34);
    }
}
