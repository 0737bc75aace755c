//! HMAC route authentication, for a function URL with `AuthType: NONE` (and the local server).
//!
//! A caller sends three headers:
//! - `x-maestro-timestamp`: UNIX time in seconds, within [`MAX_SKEW_S`] of the function's clock;
//! - `x-maestro-nonce`: 8 to 64 of `A-Z a-z 0-9 _ -`, never used before;
//! - `x-maestro-signature`: lowercase hex HMAC-SHA256 with the route secret over
//!   `METHOD \n PATH \n TIMESTAMP \n NONCE \n BODY`, where PATH is the path plus `?query` when there is
//!   a query, exactly as sent, and BODY the raw body bytes (empty for GET).
//!
//! The checks run cheapest first and the nonce is claimed only once the signature is valid, so an
//! unauthenticated caller cannot fill the nonce table.

use super::Request;
use crate::secrets::Secret;
use crate::store::{StateStore, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the UNIX timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "x-maestro-timestamp";
/// Header carrying the one-time nonce.
pub const HEADER_NONCE: &str = "x-maestro-nonce";
/// Header carrying the hex signature.
pub const HEADER_SIGNATURE: &str = "x-maestro-signature";
/// Largest accepted difference between the caller's timestamp and the function's clock.
pub const MAX_SKEW_S: i64 = 30;
/// How long a nonce is remembered after its timestamp: past the skew window, with room for clock
/// drift, so it cannot be replayed while the timestamp would still pass.
pub(crate) const NONCE_TTL_S: i64 = 2 * MAX_SKEW_S;

type HmacSha256 = Hmac<Sha256>;

/// Why a request was refused. Said to the caller: none of it helps forge a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthFailure {
    /// A required header is absent.
    #[error("missing header {0}")]
    Missing(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("header {HEADER_TIMESTAMP} must be UNIX seconds")]
    BadTimestamp,
    /// The timestamp is too far from now.
    #[error("timestamp is {skew_s} s away from the server clock (at most {MAX_SKEW_S} s allowed)")]
    Stale {
        /// Caller time minus server time, seconds.
        skew_s: i64,
    },
    /// The nonce has the wrong shape.
    #[error("header {HEADER_NONCE} must be 8 to 64 of A-Z a-z 0-9 _ -")]
    BadNonce,
    /// The signature is not hex, or does not match.
    #[error("signature does not match")]
    BadSignature,
    /// The nonce was used before.
    #[error("nonce already used")]
    Replayed,
}

/// Authentication could not complete.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// The caller is refused (401).
    #[error("unauthorized: {0}")]
    Unauthorized(AuthFailure),
    /// The nonce could not be claimed (the store failed): nothing was done.
    #[error(transparent)]
    Store(StoreError),
}

/// The bytes the signature covers.
pub(crate) fn string_to_sign(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        method.len() + path_and_query.len() + timestamp.len() + nonce.len() + body.len() + 4,
    );
    for part in [method, path_and_query, timestamp, nonce] {
        out.extend_from_slice(part.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(body);
    out
}

/// HMAC accepts keys of any length, so this is `None` only in theory; callers treat it as a
/// signature that cannot match.
fn mac(secret: &Secret) -> Option<HmacSha256> {
    HmacSha256::new_from_slice(secret.expose().as_bytes()).ok()
}

/// The hex signature a client sends (used by the tests, the README's example and any client).
pub fn sign(
    secret: &Secret,
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    let Some(mut m) = mac(secret) else {
        return String::new();
    };
    m.update(&string_to_sign(
        method,
        path_and_query,
        timestamp,
        nonce,
        body,
    ));
    hex::encode(m.finalize().into_bytes())
}

fn valid_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a request's signature, timestamp and nonce, then claims the nonce.
pub(crate) async fn verify<S: StateStore>(
    store: &S,
    secret: &Secret,
    req: &Request,
    now_ms: i64,
) -> Result<(), AuthError> {
    let fail = AuthError::Unauthorized;
    let timestamp = req
        .header(HEADER_TIMESTAMP)
        .ok_or(fail(AuthFailure::Missing(HEADER_TIMESTAMP)))?;
    let nonce = req
        .header(HEADER_NONCE)
        .ok_or(fail(AuthFailure::Missing(HEADER_NONCE)))?;
    let signature = req
        .header(HEADER_SIGNATURE)
        .ok_or(fail(AuthFailure::Missing(HEADER_SIGNATURE)))?;

    let ts_s: i64 = if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(fail(AuthFailure::BadTimestamp));
    } else {
        timestamp
            .parse()
            .map_err(|_| fail(AuthFailure::BadTimestamp))?
    };
    let skew_s = ts_s - now_ms.div_euclid(1000);
    if skew_s.abs() > MAX_SKEW_S {
        return Err(fail(AuthFailure::Stale { skew_s }));
    }
    if !valid_nonce(nonce) {
        return Err(fail(AuthFailure::BadNonce));
    }

    let expected = hex::decode(signature).map_err(|_| fail(AuthFailure::BadSignature))?;
    let mut m = mac(secret).ok_or(fail(AuthFailure::BadSignature))?;
    m.update(&string_to_sign(
        &req.method,
        &req.path_and_query(),
        timestamp,
        nonce,
        &req.body,
    ));
    // Constant-time comparison.
    m.verify_slice(&expected)
        .map_err(|_| fail(AuthFailure::BadSignature))?;

    match store
        .claim_nonce(nonce, now_ms.div_euclid(1000), ts_s + NONCE_TTL_S)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(fail(AuthFailure::Replayed)),
        Err(e) => Err(AuthError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_layout() {
        assert_eq!(
            string_to_sign("POST", "/control", "1700000000", "abcdefgh", b"{}"),
            b"POST\n/control\n1700000000\nabcdefgh\n{}".to_vec()
        );
    }

    /// A fixed vector, computed independently with
    /// `printf 'GET\n/status?bot=ltc\n1700000000\nnonce-0001\n' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef`.
    #[test]
    fn signature_vector() {
        let secret = Secret::new("0123456789abcdef0123456789abcdef");
        let sig = sign(
            &secret,
            "GET",
            "/status?bot=ltc",
            "1700000000",
            "nonce-0001",
            b"",
        );
        assert_eq!(sig.len(), 64);
        assert_eq!(sig, SIGNATURE_VECTOR);
    }

    const SIGNATURE_VECTOR: &str =
        "526cba0ab9d50788136566b71924264201113978765a598e9737dc8c8efff039";

    #[test]
    fn nonce_shape() {
        for (nonce, ok) in [
            ("abcdefgh", true),
            ("abc", false),
            ("with space", false),
            ("a-b_c-0123456789", true),
            ("ünïcödé-nonce", false),
        ] {
            assert_eq!(valid_nonce(nonce), ok, "{nonce}");
        }
        assert!(!valid_nonce(&"x".repeat(65)));
    }
}
