//! BitMEX request signing: `api-signature = hex(HMAC-SHA256(secret, VERB + PATH + EXPIRES + BODY))`.

use core::fmt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An API secret. Its `Debug` never shows the value and it has no `Display`, so it cannot reach a
/// log line or an error message by accident.
#[derive(Clone)]
pub struct ApiSecret(String);

impl ApiSecret {
    /// Wraps the secret text as BitMEX issued it.
    pub fn new(secret: impl Into<String>) -> Self {
        ApiSecret(secret.into())
    }

    /// Whether the secret is empty (a configuration mistake worth refusing early).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecret(<redacted>)")
    }
}

/// An API key id with its secret.
#[derive(Clone)]
pub struct Credentials {
    key: String,
    secret: ApiSecret,
}

impl Credentials {
    /// The key id (`api-key` header) and its secret.
    pub fn new(key: impl Into<String>, secret: ApiSecret) -> Self {
        Credentials {
            key: key.into(),
            secret,
        }
    }

    /// The key id sent in the `api-key` header.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Signs one request: `verb` upper case, `path` from `/api/v1` with the query exactly as sent,
    /// `body` the exact bytes sent (empty when none).
    pub fn sign(&self, verb: &str, path: &str, expires: u64, body: &str) -> String {
        signature(&self.secret, verb, path, expires, body)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key id is not the secret, but it still identifies an account: show only a prefix.
        let prefix: String = self.key.chars().take(4).collect();
        f.debug_struct("Credentials")
            .field("key", &format_args!("{prefix}…"))
            .field("secret", &self.secret)
            .finish()
    }
}

/// The BitMEX signature of one request, lower-case hex.
pub fn signature(secret: &ApiSecret, verb: &str, path: &str, expires: u64, body: &str) -> String {
    // HMAC takes keys of any length (long ones are hashed first), so this never fails whatever
    // secret the configuration holds.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.0.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(verb.as_bytes());
    mac.update(path.as_bytes());
    mac.update(expires.to_string().as_bytes());
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cold]
fn unreachable_hmac() -> ! {
    unreachable!("HMAC-SHA256 takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";

    #[test]
    fn official_vectors() {
        let secret = ApiSecret::new(SECRET);
        let cases: &[(&str, &str, u64, &str, &str)] = &[
            (
                "GET",
                "/api/v1/instrument",
                1518064236,
                "",
                "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
            ),
            (
                "GET",
                "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
                1518064237,
                "",
                "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f",
            ),
            (
                "POST",
                "/api/v1/order",
                1518064238,
                r#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#,
                "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b",
            ),
        ];
        for (verb, path, expires, body, want) in cases {
            assert_eq!(
                signature(&secret, verb, path, *expires, body),
                *want,
                "signature of {verb} {path} at {expires}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let creds = Credentials::new("LAqUlngMIQkIUjXMUreyu3qn", ApiSecret::new(SECRET));
        let shown = format!("{creds:?} {:?}", ApiSecret::new(SECRET));
        assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        assert!(
            !shown.contains("LAqUlngMIQkIUjXMUreyu3qn"),
            "key leaked: {shown}"
        );
        assert!(shown.contains("redacted"), "{shown}");
    }
}
