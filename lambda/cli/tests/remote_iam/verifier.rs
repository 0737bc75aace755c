//! A stand-in for AWS's check of a function URL with `AuthType: AWS_IAM`, written from the SigV4
//! specification with `hmac`/`sha2` alone (not the signer under test): it recomputes the signature
//! of each request, refuses a mismatch, another region or service, an unknown key or a stale date
//! with AWS's 403 `{"Message"}`, and forwards what passes to a real `maestro run`'s routes.

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
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

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn refuse(message: &str) -> Response {
    let body = serde_json::json!({ "Message": message }).to_string();
    (StatusCode::FORBIDDEN, body).into_response()
}

/// Checks the request's SigV4 signature; AWS's refusal message when it does not hold.
fn verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").ok_or("Forbidden")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("Forbidden")?;
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .ok_or("Forbidden")
    };
    let credential = field("Credential")?;
    let signed_headers = field("SignedHeaders")?;
    let signature = field("Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = scope[..] else {
        return Err("Forbidden");
    };
    if key != ACCESS_KEY {
        return Err("The security token included in the request is invalid.");
    }
    if region != REGION {
        return Err("Credential should be scoped to a valid region.");
    }
    if service != "lambda" {
        return Err("Credential should be scoped to correct service: 'lambda'.");
    }
    let amz_date = header("x-amz-date").ok_or("Forbidden")?;
    if !amz_date.starts_with(date) {
        return Err(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
        );
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-amz-date") {
        return Err("'Host' or 'x-amz-date' must be a signed header.");
    }
    let now = time::OffsetDateTime::now_utc();
    let sent = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| "Forbidden")?
    .assume_utc();
    if (now - sent).abs() > time::Duration::minutes(5) {
        return Err("Signature expired");
    }
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    let canonical_query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(name).ok_or("Forbidden")?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        canonical_query.join("&"),
        sha256_hex(body)
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(format!("AWS4{SECRET_KEY}").as_bytes(), date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    let k_signing = hmac(&k_service, "aws4_request");
    if hex::encode(hmac(&k_signing, &string_to_sign)) != signature {
        return Err(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        );
    }
    Ok(())
}

async fn serve(State(verifier): State<Arc<Verifier>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or_default();
    if let Err(message) = verify(parts.method.as_str(), path, query, &parts.headers, &body) {
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
