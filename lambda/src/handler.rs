//! The Lambda function's one handler: an EventBridge scheduled event runs the tick for every bot; a
//! function-URL request goes to the [`Routes`]. The two are told apart by the event's shape and then
//! read with the typed events of `aws_lambda_events`; anything else is a clear error, never a panic.
//! The template deploys the binary twice, as the tick function and the routes function
//! ([`FunctionRole`]); each refuses the other's events.
//!
//! The handler is generic over the ports and over the tick, so `bootstrap` plugs in BitMEX, DynamoDB
//! and the real tick, and the tests the real adapters against local servers.

use crate::clock::now_ms;
use crate::config::{BotConfig, DeployLimits, FunctionRole};
use crate::exchange::Exchange;
use crate::routes::{Request, Response, RouteAuth, Routes};
use crate::store::StateStore;
use crate::tick::{ScheduledTick, TickSummary};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;

/// An invocation that could not be handled. Its text never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is neither an EventBridge scheduled event nor a function-URL request.
    #[error(
        "unsupported event: expected an EventBridge scheduled event or a function URL request, got {0}"
    )]
    UnknownEvent(String),
    /// The event has the shape of a known kind but does not parse as it.
    #[error("malformed {kind}: {detail}")]
    Malformed {
        /// Which kind it looked like.
        kind: &'static str,
        /// The parser's complaint.
        detail: String,
    },
    /// The event is of a kind this function does not serve (the tick function got a URL request,
    /// or the routes function a scheduled event): nothing ran.
    #[error("this is the {role} function: it does not serve {event}")]
    WrongFunction {
        /// `FUNCTION_ROLE` of this function.
        role: &'static str,
        /// The kind of event it refused.
        event: &'static str,
    },
    /// Too little time is left before the Lambda deadline to start a tick.
    #[error("no time budget for the tick: {remaining_ms} ms left, {margin_ms} ms kept back")]
    NoBudget {
        /// Time left before the deadline.
        remaining_ms: i64,
        /// The safety margin.
        margin_ms: u64,
    },
    /// Some bots' ticks failed (the others ran): the invocation is reported as an error so the
    /// errors alarm sees it.
    #[error("tick failed for {failed} of {total} bots: {summary}")]
    TickFailed {
        /// Failed bots.
        failed: usize,
        /// Configured bots.
        total: usize,
        /// `bot: error` for each failure.
        summary: String,
    },
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let kind = match e {
            HandlerError::UnknownEvent(_) => "UnknownEvent",
            HandlerError::Malformed { .. } => "MalformedEvent",
            HandlerError::WrongFunction { .. } => "WrongFunction",
            HandlerError::NoBudget { .. } => "NoBudget",
            HandlerError::TickFailed { .. } => "TickFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: kind.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// An invocation, by kind.
#[derive(Debug)]
pub(crate) enum Event {
    /// The minute schedule (its payload is checked to be an EventBridge event, and not used).
    Schedule,
    /// A function-URL request.
    Url(Box<LambdaFunctionUrlRequest>),
}

/// Tells the event kinds apart by shape: a function-URL request has `requestContext.http`; a
/// scheduled event has `source: "aws.events"` and `detail-type: "Scheduled Event"`.
pub(crate) fn classify(payload: Value) -> Result<Event, HandlerError> {
    let is_url = payload
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .is_some_and(Value::is_object);
    if is_url {
        return serde_json::from_value(payload)
            .map(|r| Event::Url(Box::new(r)))
            .map_err(|e| HandlerError::Malformed {
                kind: "function URL request",
                detail: e.to_string(),
            });
    }
    let is_schedule = payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event");
    if is_schedule {
        return serde_json::from_value::<EventBridgeEvent>(payload)
            .map(|_| Event::Schedule)
            .map_err(|e| HandlerError::Malformed {
                kind: "scheduled event",
                detail: e.to_string(),
            });
    }
    Err(HandlerError::UnknownEvent(describe(&payload)))
}

/// A short description of an unknown event: its type and top-level keys, never its values.
fn describe(payload: &Value) -> String {
    match payload {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(12).map(String::as_str).collect();
            format!("an object with keys [{}]", keys.join(", "))
        }
        Value::Null => "null".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
    }
}

/// Converts a function-URL request into a route request; `Err` is the response for a body that
/// claims base64 but is not.
pub(crate) fn url_request(req: &LambdaFunctionUrlRequest) -> Result<Request, Response> {
    let http = &req.request_context.http;
    let method = http.method.clone().unwrap_or_default();
    let path = req
        .raw_path
        .clone()
        .or_else(|| http.path.clone())
        .unwrap_or_default();
    let headers = req
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match (&req.body, req.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), false) => text.clone().into_bytes(),
        (Some(text), true) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| Response::error(400, "bad_body", "the body is not valid base64"))?,
    };
    let iam_caller = req
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.iam.as_ref())
        .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()));
    Ok(Request {
        method,
        path,
        query: req.raw_query_string.clone().unwrap_or_default(),
        headers,
        body,
        iam_caller,
    })
}

/// Converts a route response into a function-URL response.
pub fn url_response(resp: &Response) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(resp.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if resp.page.is_some() {
        // The page runs only its own inline code and talks only to its own origin.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::routes::CSP),
        );
    }
    let mut out = LambdaFunctionUrlResponse::default();
    out.status_code = i64::from(resp.status);
    out.headers = headers;
    out.body = Some(resp.body_text());
    out.is_base64_encoded = false;
    out
}

/// Where the tick's metrics go: one CloudWatch embedded-metric-format line per bot per tick
/// ([`crate::tick::emf_line`]). In the Lambda that is stdout, which CloudWatch Logs reads.
pub struct TickMetrics {
    namespace: String,
    sink: Box<dyn Fn(&str) + Send + Sync>,
}

impl TickMetrics {
    /// Lines to stdout under `namespace` (what `bootstrap` uses).
    pub fn stdout(namespace: impl Into<String>) -> Self {
        TickMetrics::to(namespace, |line| {
            use std::io::Write as _;
            // One write of the whole line under the lock, so it never interleaves with a log line.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        })
    }

    /// Lines to `sink` under `namespace` (tests read them).
    pub fn to(namespace: impl Into<String>, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        TickMetrics {
            namespace: namespace.into(),
            sink: Box::new(sink),
        }
    }

    /// No metrics.
    pub fn off() -> Self {
        TickMetrics::to(String::new(), |_| {})
    }

    fn emit(&self, now_ms: i64, summary: &TickSummary) {
        for bot in &summary.bots {
            (self.sink)(&crate::tick::emf_line(&self.namespace, now_ms, bot));
        }
    }
}

/// The function's timeout in `template.yaml`, assumed when an invocation carries no deadline.
pub const ASSUMED_TIMEOUT_MS: i64 = 50_000;

/// Everything an invocation needs, built once per cold start and borrowed by every invocation.
pub struct Function<E, S, T> {
    /// The exchange port.
    pub exchange: E,
    /// The state store port.
    pub store: S,
    /// The tick.
    pub tick: T,
    /// The configured bots.
    pub bots: Vec<BotConfig>,
    /// What no bot's settings may go past.
    pub limits: DeployLimits,
    /// How routes authenticate.
    pub auth: RouteAuth,
    /// Time kept back from the Lambda deadline.
    pub tick_margin: Duration,
    /// Which events this function serves; it refuses the others.
    pub role: FunctionRole,
    /// Where the tick's metrics go.
    pub metrics: TickMetrics,
}

impl<E: Exchange, S: StateStore, T: ScheduledTick> Function<E, S, T> {
    /// Handles one invocation; what `service_fn` calls.
    pub async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<Value>,
    ) -> Result<Value, HandlerError> {
        let now = now_ms();
        let deadline_ms = match i64::try_from(event.context.deadline) {
            // Lambda always sends the deadline; local emulators may send none or a meaningless
            // one (`cargo lambda watch` sends a time near the epoch). Anything older than a day is
            // not a deadline: assume the template's timeout rather than refusing to tick.
            Ok(deadline) if deadline > now.saturating_sub(86_400_000) => deadline,
            _ => {
                tracing::warn!(
                    assumed_timeout_ms = ASSUMED_TIMEOUT_MS,
                    "invocation without a deadline"
                );
                now.saturating_add(ASSUMED_TIMEOUT_MS)
            }
        };
        self.dispatch(event.payload, deadline_ms, now).await
    }

    /// Handles one event given the invocation deadline and the current time (UNIX ms).
    pub async fn dispatch(
        &self,
        payload: Value,
        deadline_ms: i64,
        now_ms: i64,
    ) -> Result<Value, HandlerError> {
        let event = classify(payload)?;
        let (serves, refused) = match &event {
            Event::Url(_) => (self.role.serves_routes(), "function URL requests"),
            Event::Schedule => (self.role.ticks(), "scheduled events"),
        };
        if !serves {
            return Err(HandlerError::WrongFunction {
                role: self.role.as_str(),
                event: refused,
            });
        }
        match event {
            Event::Url(req) => {
                let resp = match url_request(&req) {
                    Ok(request) => {
                        let routes = Routes::new(
                            &self.exchange,
                            &self.store,
                            &self.bots,
                            self.limits,
                            &self.auth,
                        );
                        let resp = routes.handle(&request, now_ms).await;
                        tracing::info!(
                            method = %clip_field(&request.method),
                            path = %clip_field(&request.path),
                            status = resp.status,
                            "route"
                        );
                        resp
                    }
                    Err(resp) => resp,
                };
                // Serialising a response of strings and a header map cannot fail; the fallback
                // keeps the path total.
                Ok(serde_json::to_value(url_response(&resp)).unwrap_or(Value::Null))
            }
            Event::Schedule => {
                let remaining_ms = deadline_ms.saturating_sub(now_ms);
                let margin_ms = u64::try_from(self.tick_margin.as_millis()).unwrap_or(u64::MAX);
                let budget_ms = u64::try_from(remaining_ms)
                    .ok()
                    .and_then(|r| r.checked_sub(margin_ms))
                    .filter(|b| *b > 0)
                    .ok_or(HandlerError::NoBudget {
                        remaining_ms,
                        margin_ms,
                    })?;
                let deadline = std::time::Instant::now() + Duration::from_millis(budget_ms);
                let report = self.tick.run_all(now_ms, deadline).await;
                self.metrics.emit(now_ms, &report);
                let failures: Vec<String> = report
                    .failures()
                    .map(|b| format!("{}: {}", b.bot, b.outcome))
                    .collect();
                tracing::info!(
                    bots = report.bots.len(),
                    failed = failures.len(),
                    budget_ms,
                    "tick"
                );
                if failures.is_empty() {
                    Ok(serde_json::to_value(&report).unwrap_or(Value::Null))
                } else {
                    Err(HandlerError::TickFailed {
                        failed: failures.len(),
                        total: report.bots.len(),
                        summary: failures.join("; "),
                    })
                }
            }
        }
    }
}

/// At most 100 characters of a caller's text, for a log field.
fn clip_field(text: &str) -> String {
    text.chars().take(100).collect()
}
