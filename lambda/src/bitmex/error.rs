//! Turning an HTTP answer or a transport failure into an [`ExchangeError`], and deciding how long
//! to wait before the next attempt.

use crate::exchange::ExchangeError;
use serde::Deserialize;
use std::time::Duration;

/// BitMEX's error body: `{"error": {"message": "...", "name": "..."}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// The longest piece of an unparseable error body kept in an error message.
const MAX_RAW_BODY: usize = 200;

/// `(name, message)` from a BitMEX error body, or a bounded excerpt of whatever came instead.
pub(crate) fn parse_error_body(status: u16, body: &str) -> (String, String) {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => (
            error.name.unwrap_or_else(|| format!("HTTP {status}")),
            error.message.unwrap_or_default(),
        ),
        Err(_) => {
            let excerpt: String = body.chars().take(MAX_RAW_BODY).collect();
            (format!("HTTP {status}"), excerpt)
        }
    }
}

/// What one failed attempt means for the retry loop.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The error the caller sees if no retry follows.
    pub error: ExchangeError,
    /// The least time to wait before trying again; `None` when a retry would not help.
    pub retry_after: Option<Duration>,
}

/// The least wait after a 503: BitMEX says the request never reached the engine and asks for 500 ms.
pub(crate) const OVERLOAD_MIN_WAIT: Duration = Duration::from_millis(500);

/// Classifies a non-success HTTP answer.
pub(crate) fn from_status(
    status: u16,
    body: &str,
    retry_after_header: Option<Duration>,
    route: &str,
) -> Failure {
    let (name, message) = parse_error_body(status, body);
    match status {
        401 => Failure {
            error: ExchangeError::Unauthorized(format!("{route}: {name}: {message}")),
            retry_after: None,
        },
        429 => Failure {
            error: ExchangeError::Retryable(format!("{route}: rate limited (429): {message}")),
            // Without a Retry-After the safest guess is one second: the bucket refills per second.
            retry_after: Some(retry_after_header.unwrap_or(Duration::from_secs(1))),
        },
        503 => Failure {
            error: ExchangeError::Retryable(format!("{route}: overloaded (503): {message}")),
            retry_after: Some(OVERLOAD_MIN_WAIT),
        },
        // The client follows no redirect (it would carry the credentials along); one means the
        // base URL is not BitMEX's API root, which no retry changes.
        300..=399 => Failure {
            error: ExchangeError::Rejected {
                status,
                name: "Redirect".to_owned(),
                message: "BitMEX answered with a redirect, which the client does not follow (the \
                          API key would go along): check BITMEX_BASE_URL"
                    .to_owned(),
            },
            retry_after: None,
        },
        500..=599 => Failure {
            error: ExchangeError::Retryable(format!("{route}: HTTP {status}: {name}: {message}")),
            retry_after: Some(Duration::ZERO),
        },
        _ => Failure {
            error: ExchangeError::Rejected {
                status,
                name,
                message,
            },
            retry_after: None,
        },
    }
}

/// Classifies a transport failure (no HTTP answer, or the body could not be read). The request may
/// have reached the exchange, so only idempotent requests (or a POST with its clOrdID) retry.
pub(crate) fn from_transport(err: &reqwest::Error, route: &str) -> Failure {
    // reqwest's Display names the URL but never headers, so no credential can leak here; still, we
    // describe the kind ourselves to keep messages short and stable.
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "response body interrupted"
    } else if err.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    Failure {
        error: ExchangeError::Retryable(format!("{route}: {kind}")),
        retry_after: Some(Duration::ZERO),
    }
}

/// Whether a 400 refusal says the clOrdID was used before (the order already exists).
pub(crate) fn is_duplicate_cl_ord_id(error: &ExchangeError) -> bool {
    matches!(error, ExchangeError::Rejected { status: 400, message, .. }
        if message.contains("Duplicate clOrdID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_split_into_retryable_and_permanent() {
        let body = r#"{"error":{"message":"boom","name":"HTTPError"}}"#;
        let cases: &[(u16, bool, bool)] = &[
            // status, retryable, has a wait
            (301, false, false),
            (307, false, false),
            (400, false, false),
            (401, false, false),
            (403, false, false),
            (404, false, false),
            (429, true, true),
            (500, true, true),
            (502, true, true),
            (503, true, true),
        ];
        for &(status, retryable, waits) in cases {
            let f = from_status(status, body, None, "GET /x");
            assert_eq!(f.error.is_retryable(), retryable, "HTTP {status}");
            assert_eq!(f.retry_after.is_some(), waits, "HTTP {status}");
        }
        let f = from_status(503, body, None, "GET /x");
        assert!(f.retry_after >= Some(OVERLOAD_MIN_WAIT));
        let f = from_status(429, body, Some(Duration::from_secs(7)), "GET /x");
        assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
        assert!(matches!(
            from_status(401, body, None, "GET /x").error,
            ExchangeError::Unauthorized(_)
        ));
    }

    #[test]
    fn error_body_is_parsed_or_excerpted() {
        let f = from_status(
            400,
            r#"{"error":{"message":"Duplicate clOrdID","name":"HTTPError"}}"#,
            None,
            "POST /order",
        );
        match &f.error {
            ExchangeError::Rejected {
                status,
                name,
                message,
            } => {
                assert_eq!((*status, name.as_str()), (400, "HTTPError"));
                assert_eq!(message, "Duplicate clOrdID");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        assert!(is_duplicate_cl_ord_id(&f.error));
        let long = "x".repeat(10_000);
        let (name, message) = parse_error_body(502, &long);
        assert_eq!(name, "HTTP 502");
        assert_eq!(message.len(), MAX_RAW_BODY);
    }
}
