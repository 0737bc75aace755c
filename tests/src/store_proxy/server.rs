//! The HTTP side of the proxy: take a request, let the [`Faults`] decide, then forward it to moto,
//! answer in moto's place, or both.

use super::Fault;
use super::faults::Faults;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The longest moto may take to answer a forwarded request.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// DynamoDB items are at most 400 KB; a batch is a few MB.
const MAX_BODY: usize = 16 << 20;

/// What the proxy's thread and the test share.
#[derive(Debug)]
pub(super) struct Shared {
    moto: SocketAddr,
    http: reqwest::Client,
    state: Mutex<Faults>,
}

impl Shared {
    /// A proxy's state for the server at `moto`.
    pub(super) fn new(moto: SocketAddr, faults: Faults) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(FORWARD_TIMEOUT)
            .build()?;
        Ok(Shared {
            moto,
            http,
            state: Mutex::new(faults),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Faults> {
        // A test that panicked while holding the lock leaves consistent counters behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the request on to moto and returns moto's answer as it came.
    async fn forward(&self, request: &Request<Bytes>) -> Response {
        self.lock().forwarded += 1;
        let url = format!(
            "http://{}{}",
            self.moto,
            request.uri().path_and_query().map_or("/", |pq| pq.as_str())
        );
        let sent = self
            .http
            .request(request.method().clone(), url)
            .headers(end_to_end(request.headers()))
            .body(request.body().clone())
            .send()
            .await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("store proxy: {e}")),
        };
        let status = answer.status();
        let headers = end_to_end(answer.headers());
        match answer.bytes().await {
            Ok(body) => {
                let mut response = Response::new(Body::from(body));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                response
            }
            Err(e) => plain(StatusCode::BAD_GATEWAY, format!("store proxy: {e}")),
        }
    }
}

/// Serves `listener` on a thread of its own until `stop` fires or is dropped; then the thread's
/// runtime goes, and every request still held (hangs included) with it.
pub(super) fn spawn(
    listener: TcpListener,
    shared: Arc<Shared>,
) -> std::io::Result<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)> {
    listener.set_nonblocking(true)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = axum::Router::new().fallback(handle).with_state(shared);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let name = format!("store-proxy-{}", listener.local_addr()?.port());
    let thread = std::thread::Builder::new().name(name).spawn(move || {
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(e) => return eprintln!("store proxy: listener: {e}"),
            };
            tokio::select! {
                served = axum::serve(listener, app) => {
                    if let Err(e) = served {
                        eprintln!("store proxy stopped: {e}");
                    }
                }
                _ = stopped => {}
            }
        });
    })?;
    Ok((stop, thread))
}

/// Counts a request as in flight for as long as the proxy holds it.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.lock().in_flight += 1;
        InFlight(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

/// Every request lands here.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let _held = InFlight::new(&shared);
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("store proxy: body: {e}")),
    };
    let request = Request::from_parts(parts, body);
    let (fault, hang) = {
        let mut state = shared.lock();
        (state.decide(&operation(request.headers())), state.hang())
    };
    match fault {
        None => shared.forward(&request).await,
        Some(Fault::Throttle) => dynamo_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        Some(Fault::ServerError) => internal_server_error(),
        Some(Fault::Hang) => {
            tokio::time::sleep(hang).await;
            internal_server_error()
        }
        Some(Fault::LostAnswer) => {
            let _lost = shared.forward(&request).await;
            internal_server_error()
        }
    }
}

/// `PutItem` from `X-Amz-Target: DynamoDB_20120810.PutItem`.
fn operation(headers: &HeaderMap) -> String {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|target| target.rsplit('.').next().unwrap_or(target).to_owned())
        .unwrap_or_default()
}

/// The headers that describe the message, without those of the connection it came on (the
/// sender of the next hop sets its own).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for hop in [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ] {
        kept.remove(hop);
    }
    kept
}

fn internal_server_error() -> Response {
    dynamo_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "Internal server error",
    )
}

/// An error as DynamoDB writes it.
fn dynamo_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": message,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

/// A failure of the proxy itself (moto unreachable, unreadable body), in plain text.
fn plain(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response
}
