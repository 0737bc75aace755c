//! A stand-in for AWS in front of a function URL with `AuthType: AWS_IAM`: the workspace's
//! independent SigV4 check ([`sigv4_check`], not the signer under test) passes or refuses each
//! request (AWS's 403 `{"Message"}`), and what passes goes on to a real `maestro run`'s routes.

#[path = "../../../../tests/src/sigv4_check.rs"]
mod sigv4_check;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The one identity this "AWS" knows.
pub const ACCESS_KEY: &str = "AKIDMAESTROTEST0001";
/// Its secret key.
pub const SECRET_KEY: &str = "maestro/test/secret+key0123456789abcdefgh";
/// The function's region.
pub const REGION: &str = "eu-west-1";

/// What the verifier saw.
#[derive(Default)]
pub struct Seen {
    /// Requests whose signature checked out and went on to the routes.
    pub forwarded: AtomicUsize,
    /// Requests refused.
    pub refused: AtomicUsize,
}

struct Verifier {
    backend: String,
    seen: Arc<Seen>,
    client: reqwest::Client,
}

/// Serves the verifier on a free loopback port in front of `backend`; its address and counters.
pub async fn start(backend: String) -> (SocketAddr, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = Arc::new(Seen::default());
    let verifier = Arc::new(Verifier {
        backend,
        seen: seen.clone(),
        client: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(serve).with_state(verifier);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

fn refuse(message: &str) -> Response {
    let body = serde_json::json!({ "Message": message }).to_string();
    (StatusCode::FORBIDDEN, body).into_response()
}

async fn serve(State(verifier): State<Arc<Verifier>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or_default();
    let account = sigv4_check::Account {
        access_key: ACCESS_KEY,
        secret_key: SECRET_KEY,
        region: REGION,
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc();
    let checked = sigv4_check::verify(
        &account,
        parts.method.as_str(),
        path,
        query,
        header,
        &body,
        now,
    );
    if let Err(message) = checked {
        verifier.seen.refused.fetch_add(1, Ordering::SeqCst);
        return refuse(message);
    }
    verifier.seen.forwarded.fetch_add(1, Ordering::SeqCst);
    let url = format!(
        "{}{}",
        verifier.backend,
        parts.uri.path_and_query().map_or(path, |pq| pq.as_str())
    );
    let mut forward = verifier
        .client
        .request(parts.method.clone(), url)
        .body(body.to_vec());
    if let Some(ct) = parts.headers.get("content-type") {
        forward = forward.header("content-type", ct.clone());
    }
    match forward.send().await {
        Ok(answer) => {
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            (status, Body::from(text)).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
