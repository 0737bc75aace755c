//! The HTTP side of the fake: record, inject faults, rate-limit, check parameters and signatures the
//! way BitMEX does, then hand the request to the routes.

use super::Shared;
use super::faults::{Fault, RecordedRequest};
use super::params::allowed;
use super::routes::dispatch;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The API root every route hangs from, as on bitmex.com.
pub const API_ROOT: &str = "/api/v1";

/// A BitMEX error answer.
pub(crate) fn error_response(status: u16, message: &str) -> (u16, Value) {
    let name = if status == 400 {
        "ValidationError"
    } else {
        "HTTPError"
    };
    (
        status,
        json!({ "error": { "message": message, "name": name } }),
    )
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Every request lands here: one handler keeps the whole BitMEX behaviour in one readable place.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let route = parts
        .uri
        .path()
        .strip_prefix(API_ROOT)
        .unwrap_or(parts.uri.path())
        .to_owned();
    let raw = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let raw_body = String::from_utf8_lossy(&raw).into_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body_params = parse_body(&parts.headers, &raw_body);

    // Record first, so that even a request that hangs or fails is visible to the test.
    let now = Instant::now();
    let (index, fault) = {
        let mut st = shared.lock();
        st.market.expire(now);
        let fault = st
            .faults
            .iter_mut()
            .find(|r| r.matches(&method, &route))
            .map(|r| {
                r.times -= 1;
                r.fault.clone()
            });
        st.faults.retain(|r| r.times > 0);
        st.requests.push(RecordedRequest {
            method: method.clone(),
            route: route.clone(),
            path_and_query: path_and_query.clone(),
            query: query.clone(),
            body: body_params.clone().unwrap_or_default(),
            raw_body: raw_body.clone(),
            api_key: header(&parts.headers, "api-key"),
            status: 0,
            fault: fault.clone(),
            at: now,
        });
        (st.requests.len() - 1, fault)
    };

    let mut retry_after = None;
    let (status, value, malformed) = match &fault {
        Some(Fault::Overloaded) => (
            503,
            error_response(
                503,
                "The system is currently overloaded. Please try again later.",
            )
            .1,
            false,
        ),
        Some(Fault::RateLimited { retry_after_s }) => {
            retry_after = Some(*retry_after_s);
            (
                429,
                error_response(429, "Rate limit exceeded, retry in 1 seconds.").1,
                false,
            )
        }
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(*d).await;
            (504, error_response(504, "Gateway timeout").1, false)
        }
        Some(Fault::Unauthorized) => (401, error_response(401, "Invalid API Key.").1, false),
        Some(Fault::Status(s, m)) => (*s, error_response(*s, m).1, false),
        None
        | Some(Fault::MalformedBody | Fault::ExecuteThenDrop(_) | Fault::ExecuteThenOverloaded) => {
            let (status, value) = match shared.take_token() {
                Err(wait_s) => {
                    retry_after = Some(wait_s);
                    error_response(429, "Rate limit exceeded, retry in 1 seconds.")
                }
                Ok(()) => serve(
                    &shared,
                    &method,
                    &route,
                    &path_and_query,
                    &query,
                    body_params,
                    &raw_body,
                    &parts.headers,
                ),
            };
            match &fault {
                Some(Fault::ExecuteThenDrop(d)) => {
                    tokio::time::sleep(*d).await;
                    (504, error_response(504, "Gateway timeout").1, false)
                }
                Some(Fault::ExecuteThenOverloaded) => (
                    503,
                    error_response(
                        503,
                        "The system is currently overloaded. Please try again later.",
                    )
                    .1,
                    false,
                ),
                Some(Fault::MalformedBody) => (200, Value::Null, true),
                _ => (status, value, false),
            }
        }
    };

    let rate_headers = {
        let mut st = shared.lock();
        if let Some(r) = st.requests.get_mut(index) {
            r.status = status;
        }
        st.rate_headers()
    };
    let body = if malformed {
        Body::from("[{\"timestamp\":\"2020-05-29T00:01:00.000Z\",\"symbol\":")
    } else {
        Body::from(value.to_string())
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in rate_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        headers.insert("retry-after", v);
    }
    response
}

/// Parameter check, authentication, then the route itself.
#[allow(clippy::too_many_arguments)]
fn serve(
    shared: &Shared,
    method: &str,
    route: &str,
    path_and_query: &str,
    query: &[(String, String)],
    body_params: Option<Vec<(String, Value)>>,
    raw_body: &str,
    headers: &HeaderMap,
) -> (u16, Value) {
    let Some(names) = allowed(method, route) else {
        return error_response(404, &format!("Not Found: {method} {API_ROOT}{route}"));
    };
    let Some(body_params) = body_params else {
        return error_response(400, "Body must be a JSON object or a form");
    };
    let mut params = Map::new();
    for (name, value) in query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .chain(body_params)
    {
        if !names.contains(&name.as_str()) {
            return error_response(
                400,
                &format!(
                    "Unknown parameter {name:?}: the BitMEX spec defines no such parameter for {method} {route}"
                ),
            );
        }
        params.insert(name, value);
    }
    let private = !matches!(route, "/trade/bucketed" | "/instrument");
    let has_key = headers.contains_key("api-key");
    if (private || has_key)
        && let Err(message) = shared.verify(method, path_and_query, raw_body, headers)
    {
        return error_response(401, &message);
    }
    let mut st = shared.lock();
    dispatch(&mut st.market, method, route, &params)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// Body parameters from a JSON object or a form; `None` when the body is neither.
fn parse_body(headers: &HeaderMap, raw: &str) -> Option<Vec<(String, Value)>> {
    if raw.trim().is_empty() {
        return Some(Vec::new());
    }
    let is_form = header(headers, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return Some(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::Object(map) => Some(map.into_iter().collect()),
        _ => None,
    }
}

impl Shared {
    /// BitMEX's check: known key, `api-expires` in the future, and
    /// `hex(HMAC-SHA256(secret, VERB + path?query + expires + body))` matching `api-signature`.
    fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        headers: &HeaderMap,
    ) -> Result<(), String> {
        let key = header(headers, "api-key").ok_or("Missing API key.")?;
        let expires_text = header(headers, "api-expires").ok_or("Missing api-expires header.")?;
        let signature = header(headers, "api-signature").ok_or("Missing api-signature header.")?;
        let expires: u64 = expires_text
            .parse()
            .map_err(|_| "api-expires must be an integer UNIX timestamp in seconds.".to_owned())?;
        let now = now_unix();
        if expires < now {
            return Err(format!(
                "This request has expired - `expires` is in the past. Current time: {now}"
            ));
        }
        let secret = self
            .lock()
            .keys
            .get(&key)
            .cloned()
            .ok_or("Invalid API Key.")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| "bad secret".to_owned())?;
        mac.update(format!("{method}{path_and_query}{expires}{body}").as_bytes());
        let want = hex::encode(mac.finalize().into_bytes());
        if want != signature {
            return Err("Signature not valid.".into());
        }
        Ok(())
    }
}
