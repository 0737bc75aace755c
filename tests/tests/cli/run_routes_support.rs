//! What the route-server tests share: raw HTTP requests with exactly the headers a browser or curl
//! sends, the bot they drive, and the shape of a refusal.

use maestro_lambda::config::BotConfig;
use maestro_lambda::exchange::BinSize;
use maestro_lambda::params::BotParams;
use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const BOT: &str = "local";

/// One request as a browser or curl would put it on the wire; `None` leaves a header out.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) host: Option<String>,
    pub(crate) origin: Option<String>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) token: Option<&'a str>,
    pub(crate) body: &'a str,
}

impl<'a> Call<'a> {
    /// What curl sends: the server's own Host, no Origin.
    pub(crate) fn curl(addr: SocketAddr, method: &'a str, path: &'a str, body: &'a str) -> Self {
        Call {
            method,
            path,
            host: Some(addr.to_string()),
            origin: None,
            content_type: (method == "POST").then_some("application/json"),
            token: None,
            body,
        }
    }
}

/// Sends `call` over a fresh connection (raw HTTP/1.1, so Host and Origin are exactly as given);
/// returns the status and the JSON body.
pub(crate) async fn send(addr: SocketAddr, call: &Call<'_>) -> (u16, Value) {
    let mut head = format!("{} {} HTTP/1.1\r\n", call.method, call.path);
    if let Some(host) = &call.host {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    if let Some(origin) = &call.origin {
        head.push_str(&format!("Origin: {origin}\r\n"));
    }
    if let Some(ct) = call.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(token) = call.token {
        head.push_str(&format!("x-maestro-token: {token}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        call.body.len(),
        call.body
    ));
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the local routes");
    stream
        .write_all(head.as_bytes())
        .await
        .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the answer");
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: body {body:?}"));
    (status, json)
}

pub(crate) fn bot() -> BotConfig {
    BotConfig {
        id: BOT.parse().expect("a valid bot id"),
        params: BotParams {
            bin: BinSize::M1,
            ..BotParams::default()
        },
    }
}

pub(crate) const SET_PARAMS: &str =
    r#"{"action":"set_params","bot":"local","params":{"short_window":3,"long_window":7}}"#;
pub(crate) const FLATTEN: &str = r#"{"action":"flatten","bot":"local"}"#;
pub(crate) const PAUSE: &str = r#"{"action":"pause","bot":"local"}"#;

pub(crate) fn assert_refused(what: &str, got: &(u16, Value), status: u16) {
    assert_eq!(got.0, status, "{what}: expected {status}, got {}", got.1);
    assert!(
        got.1.get("error").and_then(Value::as_str).is_some() && got.1.get("detail").is_some(),
        "{what}: a refusal is a JSON error with a detail, got {}",
        got.1
    );
}
