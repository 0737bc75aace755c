//! Faults a test asks the fake to inject, and the record of every request it saw.

use std::time::{Duration, Instant};

/// One kind of misbehaviour.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 503 "The system is currently overloaded" before the engine sees the request.
    Overloaded,
    /// 429 with `Retry-After: retry_after_s`, before the engine sees the request.
    RateLimited {
        /// Seconds in the `Retry-After` header.
        retry_after_s: u64,
    },
    /// Holds the request for this long without executing it, then answers 504 (the client should
    /// have given up by then).
    Hang(Duration),
    /// Executes the request, then answers 200 with a truncated, unparseable body.
    MalformedBody,
    /// Executes the request, then holds the answer for this long and answers 504: the classic
    /// "order placed but the response was lost".
    ExecuteThenDrop(Duration),
    /// Executes the request, then answers 503 anyway (publicly reported of BitMEX under load).
    ExecuteThenOverloaded,
    /// 401 "Invalid API Key." whatever the credentials.
    Unauthorized,
    /// Any status with a BitMEX error body carrying this message, without executing.
    Status(u16, String),
}

impl Fault {
    /// Whether the engine executes the request before the fault shows.
    pub fn executes(&self) -> bool {
        matches!(
            self,
            Fault::MalformedBody | Fault::ExecuteThenDrop(_) | Fault::ExecuteThenOverloaded
        )
    }
}

/// A fault for the next `times` requests that match `method` and `route` (any when `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// How many matching requests still get it.
    pub times: u32,
    /// Only requests with this verb (`"GET"`, `"POST"`, ...).
    pub method: Option<String>,
    /// Only requests to this route below `/api/v1` (`"/order"`).
    pub route: Option<String>,
}

impl FaultRule {
    /// The fault for the next request of any kind.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            fault,
            times: 1,
            method: None,
            route: None,
        }
    }

    /// For the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Only for `method route` (e.g. `on("POST", "/order")`).
    pub fn on(mut self, method: &str, route: &str) -> Self {
        self.method = Some(method.to_owned());
        self.route = Some(route.to_owned());
        self
    }

    pub(crate) fn matches(&self, method: &str, route: &str) -> bool {
        self.times > 0
            && self.method.as_deref().is_none_or(|m| m == method)
            && self.route.as_deref().is_none_or(|r| r == route)
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP verb.
    pub method: String,
    /// Route below `/api/v1` (`/trade/bucketed`).
    pub route: String,
    /// Path and query exactly as received (what the signature covers).
    pub path_and_query: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    /// Body parameters (JSON object or form), values as JSON.
    pub body: Vec<(String, serde_json::Value)>,
    /// Raw body text.
    pub raw_body: String,
    /// `api-key` header, if any.
    pub api_key: Option<String>,
    /// Status answered (0 while still being handled).
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<Fault>,
    /// When it arrived.
    pub at: Instant,
}

impl RecordedRequest {
    /// Every parameter name sent, query and body.
    pub fn param_names(&self) -> Vec<String> {
        self.query
            .iter()
            .map(|(k, _)| k.clone())
            .chain(self.body.iter().map(|(k, _)| k.clone()))
            .collect()
    }

    /// A parameter's value as text (query first, then body).
    pub fn param(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.query.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        self.body
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }

    /// `"METHOD /route"`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.route)
    }
}
