//! The routes of the function URL, served on the loopback interface for a local run, behind the
//! [`Guard`] that keeps web pages out.

use super::LocalError;
use super::guard::{Guard, RouteToken, Sent};
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::exchange::Exchange;
use maestro_lambda::routes::{MAX_BODY_BYTES, Request, RouteAuth, Routes};
use maestro_lambda::store::FileStore;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the local route server serves: an exchange, the file store and the bots.
pub trait Host: Send + Sync + 'static {
    /// The exchange the routes act on (`flatten`).
    type Exchange: Exchange;
    /// The exchange.
    fn exchange(&self) -> &Self::Exchange;
    /// The state store.
    fn store(&self) -> &FileStore;
    /// The bots.
    fn bots(&self) -> &[BotConfig];
    /// What the routes may not take the bots past.
    fn limits(&self) -> DeployLimits;
    /// The time the routes run at (UNIX ms): the host's clock, the same the tick runs on, so a
    /// simulated run's orders and flattens are dated in the simulation's time.
    fn now_ms(&self) -> i64;
}

/// What the server task holds: the ports and the guard of its bound address.
struct Served<H> {
    host: Arc<H>,
    guard: Guard,
}

/// Refuses an address off this machine: the local routes have no login (checked before anything
/// else of a run, so a bad `--listen` leaves no state behind).
pub fn check_listen(addr: SocketAddr) -> Result<(), LocalError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    Err(LocalError::Usage(format!(
        "--listen {addr}: the local routes are unauthenticated, so they only listen on a \
         loopback address such as 127.0.0.1"
    )))
}

/// Binds `addr` (which must be a loopback address: the local routes have no login) and serves the
/// routes in the background, behind the [`Guard`] (a POST needs `token` when one is given). Returns
/// the bound address (port 0 picks a free one).
pub async fn spawn<H: Host>(
    host: Arc<H>,
    addr: SocketAddr,
    token: Option<RouteToken>,
) -> Result<SocketAddr, LocalError> {
    check_listen(addr)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| LocalError::Failed(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| LocalError::Failed(format!("cannot listen on {addr}: {e}")))?;
    let served = Arc::new(Served {
        host,
        guard: Guard::new(bound, token),
    });
    let app = axum::Router::new().fallback(serve::<H>).with_state(served);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "local route server stopped");
        }
    });
    Ok(bound)
}

async fn serve<H: Host>(
    State(served): State<Arc<Served<H>>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Before the body is read: a refused request costs nothing and changes nothing.
    let authority = parts.uri.authority().map(|a| a.as_str());
    let checked = served
        .guard
        .check(parts.method.as_str(), parts.uri.path(), authority, |name| {
            Sent::header(&parts.headers, name)
        });
    if let Err(refused) = checked {
        return json_response(refused.status, refused.body_text());
    }
    let host = &served.host;
    let body = match to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            return json_response(
                413,
                format!(
                    "{{\"error\":\"body_too_large\",\"detail\":\"the body is limited to {MAX_BODY_BYTES} bytes\"}}"
                ),
            );
        }
    };
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
        iam_caller: None,
    };
    let auth = RouteAuth::Loopback;
    let routes = Routes::new(
        host.exchange(),
        host.store(),
        host.bots(),
        host.limits(),
        &auth,
    );
    let response = routes.handle(&request, host.now_ms()).await;
    let mut out = json_response(response.status, response.body_text());
    if response.page.is_some() {
        let headers = out.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(response.content_type()),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(maestro_lambda::routes::CSP),
        );
    }
    out
}

fn json_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
