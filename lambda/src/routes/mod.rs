//! The bot's HTTP routes, framework-free: a [`Request`] (method, path, query, headers, body) in, a
//! [`Response`] (status, JSON body) out. The Lambda function URL and the local CLI's server both
//! translate their own request types into these, so both serve exactly the same routes.
//!
//! - `GET /health`: liveness and version; no auth, no secrets.
//! - `GET /status[?bot=ID]`: each bot's settings, core state, position, pending order, recent orders,
//!   P&L and fees (the `pnl` module says what "since start" means).
//! - `POST /control`: `{"action": "pause"|"resume"|"flatten"|"set_params", "bot": ID, "params": {..}}`.
//!
//! Routing runs first (unknown path 404, wrong method 405), then authentication (every route but
//! `/health`), then the route. Every failure is a 4xx/5xx with a JSON body
//! `{"error": code, "detail": text}`; nothing here panics on any request.

pub mod auth;
mod control;
mod history;
mod pnl;
mod status;
mod view;

use crate::config::{BotConfig, DeployLimits};
use crate::exchange::Exchange;
use crate::secrets::Secret;
use crate::store::{StateStore, StoreError};
use serde_json::{Value, json};

/// Largest request body accepted (a control command is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How many recent orders `/status` lists per bot.
pub(crate) const RECENT_ORDERS: usize = 10;

/// An HTTP request, as any front end hands it over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Method (`GET`, `POST`, ...), as sent.
    pub method: String,
    /// Path without the query (`/status`).
    pub path: String,
    /// Raw query string without the `?` (`bot=ltc`), empty when none.
    pub query: String,
    /// Headers; names are compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes (already base64-decoded by the front end).
    pub body: Vec<u8>,
    /// The IAM identity the function URL authenticated (`AuthType: AWS_IAM`), if any.
    pub iam_caller: Option<String>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path plus `?query` when there is a query: what HMAC signatures cover.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// An HTTP response: a status and a JSON body, or the dashboard page.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// JSON body (`null` for the page).
    pub body: Value,
    /// The dashboard's HTML instead of JSON (`GET /`).
    pub page: Option<&'static str>,
}

impl Response {
    /// A 200 with this body.
    pub fn ok(body: Value) -> Self {
        Response {
            status: 200,
            body,
            page: None,
        }
    }

    /// An error with a machine-readable code and a human-readable detail.
    pub fn error(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Response {
            status,
            body: json!({ "error": code, "detail": detail.into() }),
            page: None,
        }
    }

    /// The body as text: the page, or the JSON.
    pub fn body_text(&self) -> String {
        match self.page {
            Some(page) => page.to_owned(),
            None => self.body.to_string(),
        }
    }

    /// The body's media type.
    pub fn content_type(&self) -> &'static str {
        if self.page.is_some() {
            "text/html; charset=utf-8"
        } else {
            "application/json"
        }
    }
}

/// The dashboard: one self-contained page (no outside script, style or font) that holds no data
/// and reads everything through the authenticated JSON routes.
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// The dashboard's content security policy: its inline script and style, calls to its own origin,
/// nothing else (no outside script, font, image or frame; no framing by another site).
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                       connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; \
                       form-action 'none'";

/// How the routes authenticate callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteAuth {
    /// The function URL checked a SigV4 signature (`AuthType: AWS_IAM`); a request that reached the
    /// function without an IAM identity means the URL was opened up without switching to HMAC, and is
    /// refused.
    Iam,
    /// Every route but `/health` needs an HMAC signature with this secret (see [`auth`]).
    Hmac(Secret),
    /// No authentication: only for the local CLI's server, which listens on a loopback address.
    Loopback,
}

/// The routes over an exchange and a state store.
pub struct Routes<'a, E, S> {
    exchange: &'a E,
    store: &'a S,
    bots: &'a [BotConfig],
    limits: DeployLimits,
    auth: &'a RouteAuth,
}

enum Route {
    Health,
    Status,
    History,
    Control,
}

impl<'a, E: Exchange, S: StateStore> Routes<'a, E, S> {
    /// Routes over these ports, for these bots within these limits, with this authentication.
    pub fn new(
        exchange: &'a E,
        store: &'a S,
        bots: &'a [BotConfig],
        limits: DeployLimits,
        auth: &'a RouteAuth,
    ) -> Self {
        Routes {
            exchange,
            store,
            bots,
            limits,
            auth,
        }
    }

    /// Answers one request. `now_ms` is the current UNIX time in milliseconds (the caller's clock, so
    /// tests can pin it).
    pub async fn handle(&self, req: &Request, now_ms: i64) -> Response {
        let route = match (req.path.as_str(), req.method.as_str()) {
            ("/", "GET") => {
                return Response {
                    status: 200,
                    body: Value::Null,
                    page: Some(DASHBOARD),
                };
            }
            ("/health", "GET") => Route::Health,
            ("/status", "GET") => Route::Status,
            ("/history", "GET") => Route::History,
            ("/control", "POST") => Route::Control,
            ("/" | "/health" | "/status" | "/history", _) => {
                return method_not_allowed(req, "GET");
            }
            ("/control", _) => return method_not_allowed(req, "POST"),
            _ => {
                return Response::error(
                    404,
                    "not_found",
                    format!(
                        "no route {}; the routes are GET / (the dashboard), GET /health, GET /status, GET /history, POST /control",
                        clip(&req.path)
                    ),
                );
            }
        };
        if req.body.len() > MAX_BODY_BYTES {
            return Response::error(
                413,
                "body_too_large",
                format!("the body is limited to {MAX_BODY_BYTES} bytes"),
            );
        }
        if let Route::Health = route {
            return health();
        }
        if let Some(refused) = self.authenticate(req, now_ms).await {
            return refused;
        }
        match route {
            Route::Health => health(),
            Route::Status => self.status(req, now_ms).await,
            Route::History => self.history(req, now_ms).await,
            Route::Control => self.control(req, now_ms).await,
        }
    }

    async fn authenticate(&self, req: &Request, now_ms: i64) -> Option<Response> {
        match self.auth {
            RouteAuth::Iam => {
                if req.iam_caller.is_some() {
                    None
                } else {
                    Some(Response::error(
                        401,
                        "unauthorized",
                        "this deployment expects IAM-signed requests (function URL AuthType AWS_IAM)",
                    ))
                }
            }
            RouteAuth::Loopback => None,
            RouteAuth::Hmac(secret) => match auth::verify(self.store, secret, req, now_ms).await {
                Ok(()) => None,
                Err(auth::AuthError::Unauthorized(why)) => {
                    Some(Response::error(401, "unauthorized", why.to_string()))
                }
                Err(auth::AuthError::Store(e)) => Some(store_failure(&e)),
            },
        }
    }

    fn bot(&self, id: &str) -> Option<&'a BotConfig> {
        self.bots.iter().find(|b| b.id == id)
    }
}

fn health() -> Response {
    Response::ok(json!({
        "status": "ok",
        "service": "cryptomaestro",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

fn method_not_allowed(req: &Request, allowed: &str) -> Response {
    Response::error(
        405,
        "method_not_allowed",
        format!(
            "{} {} is not a route; use {allowed} {}",
            clip(&req.method),
            req.path,
            req.path
        ),
    )
}

/// A store failure as the caller sees it: 409 on a lost race, 503 when worth retrying, 500 otherwise.
fn store_failure(e: &StoreError) -> Response {
    match e {
        StoreError::Conflict { .. } => Response::error(
            409,
            "conflict",
            "the bot's state changed while the command ran (a tick?); send it again",
        ),
        StoreError::Unavailable(_) => Response::error(503, "store_unavailable", e.to_string()),
        StoreError::Corrupt(_) | StoreError::Failed(_) => {
            Response::error(500, "store_error", e.to_string())
        }
    }
}

/// At most 80 characters of a caller's text, for echoing it in an error.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}
