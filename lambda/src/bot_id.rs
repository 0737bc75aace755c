//! [`BotId`]: the one rule for a bot's id, checked wherever an id comes in (configuration, stored
//! records, routes, the local tools) so every part accepts exactly the same ids.

use core::fmt;
use core::ops::Deref;
use serde::{Deserialize, Serialize};

/// The longest id: the id is part of every client order id, which BitMEX caps.
pub const MAX_BOT_ID_LEN: usize = 32;

/// A bot's id: 1 to [`MAX_BOT_ID_LEN`] of `a-z 0-9 _ -`, starting with a letter or digit. It
/// becomes a file name, a storage key and part of every client order id, so nothing that could
/// leave a directory, split a key or break an order id gets through.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BotId(String);

/// Why a text is not a bot id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bot id {0:?} must be 1 to 32 of a-z 0-9 _ - starting with a letter or digit")]
pub struct BotIdError(String);

impl BotId {
    /// Checks `id` against the rule.
    pub fn check(id: &str) -> Result<(), BotIdError> {
        let mut bytes = id.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ok = first_ok
            && id.len() <= MAX_BOT_ID_LEN
            && bytes
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(())
        } else {
            // At most 40 characters of the rejected text echo back in the message.
            Err(BotIdError(id.chars().take(40).collect()))
        }
    }

    /// The id `id`, if it follows the rule.
    pub fn new(id: impl Into<String>) -> Result<Self, BotIdError> {
        let id = id.into();
        Self::check(&id)?;
        Ok(BotId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BotId {
    type Error = BotIdError;
    fn try_from(id: String) -> Result<Self, BotIdError> {
        BotId::new(id)
    }
}

impl From<BotId> for String {
    fn from(id: BotId) -> String {
        id.0
    }
}

impl core::str::FromStr for BotId {
    type Err = BotIdError;
    fn from_str(id: &str) -> Result<Self, BotIdError> {
        BotId::new(id)
    }
}

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BotId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Deref for BotId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for BotId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for BotId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_way_in() {
        let max = "a".repeat(MAX_BOT_ID_LEN);
        let too_long = "a".repeat(MAX_BOT_ID_LEN + 1);
        let cases: &[(&str, bool)] = &[
            ("ltc", true),
            ("ltc-main", true),
            ("0_bot", true),
            (&max, true),
            ("", false),
            (&too_long, false),
            ("-ltc", false),
            ("_ltc", false),
            ("Ltc", false),
            ("..", false),
            ("../x", false),
            ("a/b", false),
            ("a\\b", false),
            ("a.json", false),
            ("bot#1", false),
            ("a b", false),
            ("ä", false),
            ("a\0", false),
        ];
        for (id, ok) in cases {
            assert_eq!(BotId::check(id).is_ok(), *ok, "check {id:?}");
            assert_eq!(BotId::new(*id).is_ok(), *ok, "new {id:?}");
            let json = serde_json::to_string(id).expect("JSON");
            assert_eq!(
                serde_json::from_str::<BotId>(&json).is_ok(),
                *ok,
                "deserialize {id:?}"
            );
        }
        let id = BotId::new("ltc").expect("valid");
        assert_eq!(id.to_string(), "ltc");
        assert_eq!(serde_json::to_string(&id).expect("JSON"), "\"ltc\"");
        assert_eq!(id.as_ref(), "ltc");
    }
}
