//! `maestro remote dashboard`: the dashboard page on 127.0.0.1, its calls forwarded to a deployed
//! bot, signed.
//!
//! A browser cannot sign SigV4, and with HMAC it would have to hold the route secret: the page is
//! served here instead, and its same-origin calls (`GET /status`, `GET /history`, `POST /control`)
//! are sent on by [`Remote`], which signs them; status codes and JSON bodies come back unchanged.
//! Nothing the browser sends but the method, path, query and body travels on (no cookie, no
//! header of its own), so the proxy signs only what the page asked for.
//!
//! The proxy holds signing power over a real bot, so it keeps web pages out exactly as `maestro
//! run`'s routes do, with the same [`Guard`] (loopback `Host` only, a POST's `Origin` its own,
//! `POST /control` JSON only); a refused request is answered here and never forwarded.

use super::{Call, Remote, RemoteError};
use crate::local::guard::{Guard, Sent};
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maestro_lambda::routes::{CSP, DASHBOARD, MAX_BODY_BYTES};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the proxy task holds.
struct Proxy {
    remote: Remote,
    guard: Guard,
}

/// Binds `addr` (a loopback address: whoever reaches the proxy acts with the trader's
/// credentials) and serves the dashboard there in the background, forwarding to `remote`. Returns
/// the bound address (port 0 picks a free one).
pub async fn spawn(remote: Remote, addr: SocketAddr) -> Result<SocketAddr, RemoteError> {
    if !addr.ip().is_loopback() {
        return Err(RemoteError::Usage(format!(
            "{addr}: the dashboard proxy signs with your credentials, so it only listens on a \
             loopback address such as 127.0.0.1"
        )));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| RemoteError::Failed(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| RemoteError::Failed(format!("cannot listen on {addr}: {e}")))?;
    let proxy = Arc::new(Proxy {
        remote,
        guard: Guard::new(bound, None),
    });
    let app = axum::Router::new().fallback(serve).with_state(proxy);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "dashboard proxy stopped");
        }
    });
    Ok(bound)
}

/// Where a request goes: the page itself, or a route of the bot.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Page,
    Forward(&'static str),
    NotFound,
}

/// The routes the page uses, and nothing else: the proxy is not an open relay to the function.
fn target(method: &str, path: &str) -> Target {
    match (method, path) {
        ("GET", "/") => Target::Page,
        ("GET", "/status" | "/history" | "/health") => Target::Forward("GET"),
        ("POST", "/control") => Target::Forward("POST"),
        _ => Target::NotFound,
    }
}

async fn serve(State(proxy): State<Arc<Proxy>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    // Before the body is read and before anything is forwarded: a refused request goes nowhere.
    let authority = parts.uri.authority().map(|a| a.as_str());
    let checked = proxy
        .guard
        .check(parts.method.as_str(), parts.uri.path(), authority, |name| {
            Sent::header(&parts.headers, name)
        });
    if let Err(refused) = checked {
        return json(refused.status, refused.body_text());
    }
    let method = match target(parts.method.as_str(), parts.uri.path()) {
        Target::Page => return page(),
        Target::Forward(method) => method,
        Target::NotFound => {
            return json(
                404,
                r#"{"error":"not_found","detail":"the dashboard proxy forwards GET /status, GET /history, GET /health and POST /control"}"#.to_owned(),
            );
        }
    };
    let body = match to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(bytes) if bytes.len() <= MAX_BODY_BYTES => bytes,
        _ => {
            return json(
                413,
                format!(
                    r#"{{"error":"body_too_large","detail":"the body is limited to {MAX_BODY_BYTES} bytes"}}"#
                ),
            );
        }
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return json(
            400,
            r#"{"error":"bad_body","detail":"the body is not UTF-8 JSON"}"#.to_owned(),
        );
    };
    let call = Call {
        method,
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        body,
    };
    let now_s = maestro_lambda::clock::now_ms() / 1000;
    match proxy.remote.forward(&call, now_s).await {
        Ok((status, text)) => {
            let (status, text) = answer(&proxy.remote, status, text);
            json(status, text)
        }
        Err(e) => json(
            502,
            serde_json::json!({"error": "unreachable", "detail": e.to_string()}).to_string(),
        ),
    }
}

/// What the page gets for the bot's answer. The page sends no credentials: the proxy signs. So
/// when the bot refuses the signature (401; 403 for a `--live` token or from AWS's own IAM check),
/// the page must not ask its user for a secret it does not use: it gets a 502 saying what to fix
/// where the proxy runs, and the terminal shows the same. Every other answer, a 403 of the bot's
/// own rules included (`live_not_allowed`), passes through unchanged.
fn answer(remote: &Remote, status: u16, text: String) -> (u16, String) {
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let signature_refused = match status {
        401 => true,
        403 => {
            body["error"] == "bad_token" || (body["error"].is_null() && body["Message"].is_string())
        }
        _ => false,
    };
    if !signature_refused {
        return (status, text);
    }
    let advice = remote.refusal(status, &body);
    tracing::warn!("the bot refused the dashboard proxy's signature: {advice}");
    eprintln!("maestro remote dashboard: the bot refused this proxy's signature: {advice}");
    let body = serde_json::json!({
        "error": "proxy_refused",
        "detail": format!("the bot refused the dashboard proxy's signature: {advice}"),
    });
    (502, body.to_string())
}

fn page() -> Response {
    let mut response = (StatusCode::OK, DASHBOARD).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

fn json(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pages_routes_are_forwarded() {
        #[rustfmt::skip]
        let cases = [
            ("GET", "/", Target::Page),
            ("GET", "/status", Target::Forward("GET")),
            ("GET", "/history", Target::Forward("GET")),
            ("GET", "/health", Target::Forward("GET")),
            ("POST", "/control", Target::Forward("POST")),
            ("GET", "/control", Target::NotFound),
            ("POST", "/status", Target::NotFound),
            ("DELETE", "/control", Target::NotFound),
            ("GET", "/status/../control", Target::NotFound),
            ("GET", "/2015-03-31/functions/x/invocations", Target::NotFound),
            ("POST", "/", Target::NotFound),
        ];
        for (method, path, expected) in cases {
            assert_eq!(target(method, path), expected, "{method} {path}");
        }
    }

    /// A refused signature is the proxy's to fix, not the page's: a 502 with the advice (and no
    /// secret), never a 401/403 that would make the page ask for a secret it does not send. The
    /// bot's own refusals pass through.
    #[test]
    fn a_refused_signature_is_the_proxys_error_not_the_pages() {
        let secret = "route-secret-not-to-be-shown-0123456789";
        let remote = Remote::new(
            "http://127.0.0.1:9",
            super::super::Auth::Hmac(maestro_lambda::secrets::Secret::new(secret)),
        )
        .expect("remote");
        #[rustfmt::skip]
        let refused = [
            (401, r#"{"error":"unauthorized","detail":"bad signature"}"#),
            (403, r#"{"error":"bad_token","detail":"x-maestro-token does not match"}"#),
            (403, r#"{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: ..."}"#),
        ];
        for (status, text) in refused {
            let (got, body) = answer(&remote, status, text.to_owned());
            assert_eq!(got, 502, "{status} {text} -> {body}");
            let body: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(body["error"], "proxy_refused", "{body}");
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("MAESTRO_ROUTE_SECRET"), "{detail}");
            assert!(!detail.contains(secret), "the secret leaked: {detail}");
        }
        #[rustfmt::skip]
        let passed = [
            (200, r#"{"bots":[]}"#),
            (403, r#"{"error":"live_not_allowed","detail":"this deployment trades in dry run only"}"#),
            (400, r#"{"error":"bad_query","detail":"history needs bot=ID"}"#),
            (403, "not json"),
        ];
        for (status, text) in passed {
            assert_eq!(
                answer(&remote, status, text.to_owned()),
                (status, text.to_owned()),
                "{status} {text}"
            );
        }
    }

    #[tokio::test]
    async fn listens_on_loopback_only() {
        let remote = Remote::new("http://127.0.0.1:9", super::super::Auth::None).expect("remote");
        let refused = spawn(remote, "0.0.0.0:0".parse().expect("address"))
            .await
            .expect_err("not loopback");
        assert!(refused.to_string().contains("loopback"), "{refused}");
    }
}
