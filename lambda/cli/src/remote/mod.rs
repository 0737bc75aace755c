//! `maestro remote`: drives a deployed bot through its routes (a function URL, or a local
//! `maestro run`): builds the request, signs it the way the routes check it, sends it, and turns
//! the answer into a table or passes the JSON through.
//!
//! Secrets never come from the command line (other users can read a process's arguments): the
//! HMAC route secret comes from `MAESTRO_ROUTE_SECRET` or a file, the local run's token from its
//! token file, AWS credentials (feature `iam`, for a function URL with `AuthType: AWS_IAM`) from the
//! standard chain: environment, shared config and credentials files, profiles.
//!
//! [`dashboard`] serves the dashboard page on 127.0.0.1 and forwards its calls, signed.

use maestro_lambda::routes::auth::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign};
use maestro_lambda::secrets::Secret;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::time::Duration;

pub mod dashboard;
pub mod region;
#[cfg(feature = "iam")]
pub mod sigv4;
mod tables;

pub use tables::{control_line, status_table};

/// The local run's token header (`maestro run --live`).
pub const HEADER_TOKEN: &str = "x-maestro-token";

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    /// Nothing: a simulated `maestro run` on this machine.
    None,
    /// `maestro run --live`'s per-run token.
    Token(Secret),
    /// The function URL with `AuthType: NONE`: HMAC with the route secret.
    Hmac(Secret),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Token(_) => "Auth::Token(<redacted>)",
            Auth::Hmac(_) => "Auth::Hmac(<redacted>)",
        })
    }
}

/// What went wrong, in the words a trader can act on.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The options or values do not make sense.
    #[error("{0}")]
    Usage(String),
    /// The bot could not be reached or refused.
    #[error("{0}")]
    Failed(String),
}

/// One route call: method, path with query, body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query, e.g. `/status?bot=ltc`.
    pub path: String,
    /// JSON body (empty for GET).
    pub body: String,
}

impl Call {
    /// `GET /status`, of one bot or all.
    pub fn status(bot: Option<&str>) -> Call {
        Call {
            method: "GET",
            path: match bot {
                Some(bot) => format!("/status?bot={bot}"),
                None => "/status".to_owned(),
            },
            body: String::new(),
        }
    }

    /// `POST /control` with `action` on `bot`, and `params` for `set_params`.
    pub fn control(action: &str, bot: &str, params: Option<Value>) -> Call {
        let mut body = json!({ "action": action, "bot": bot });
        if let Some(params) = params {
            body["params"] = params;
        }
        Call {
            method: "POST",
            path: "/control".to_owned(),
            body: body.to_string(),
        }
    }
}

/// `KEY=VALUE` pairs as `set_params` takes them: a value that reads as JSON (a number, `true`,
/// `false`) is that value, anything else a string; `guards.NAME=N` sets one guard.
pub fn params_of(pairs: &[String]) -> Result<Value, RemoteError> {
    if pairs.is_empty() {
        return Err(RemoteError::Usage(
            "set needs at least one KEY=VALUE, e.g. short_window=5".to_owned(),
        ));
    }
    let mut params = Map::new();
    for pair in pairs {
        let Some((key, text)) = pair.split_once('=') else {
            return Err(RemoteError::Usage(format!(
                "{pair:?} is not KEY=VALUE (e.g. long_window=20, dry_run=true, guards.confirm_bars=2)"
            )));
        };
        let key = key.trim();
        let value = serde_json::from_str::<Value>(text.trim())
            .ok()
            .filter(|v| v.is_number() || v.is_boolean())
            .unwrap_or_else(|| Value::String(text.trim().to_owned()));
        match key.split_once('.') {
            Some(("guards", guard)) if !guard.is_empty() => {
                let guards = params
                    .entry("guards")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(guards) = guards {
                    guards.insert(guard.to_owned(), value);
                }
            }
            None if !key.is_empty() => {
                params.insert(key.to_owned(), value);
            }
            _ => {
                return Err(RemoteError::Usage(format!(
                    "{key:?} is not a setting (e.g. short_window, qty, dry_run, guards.hysteresis_bp)"
                )));
            }
        }
    }
    Ok(Value::Object(params))
}

/// The headers that authenticate `call` at `now_s` with `nonce`.
pub fn auth_headers(auth: &Auth, call: &Call, now_s: i64, nonce: &str) -> Vec<(String, String)> {
    match auth {
        Auth::None => Vec::new(),
        Auth::Token(token) => vec![(HEADER_TOKEN.to_owned(), token.expose().to_owned())],
        Auth::Hmac(secret) => {
            let timestamp = now_s.to_string();
            let signature = sign(
                secret,
                call.method,
                &call.path,
                &timestamp,
                nonce,
                call.body.as_bytes(),
            );
            vec![
                (HEADER_TIMESTAMP.to_owned(), timestamp),
                (HEADER_NONCE.to_owned(), nonce.to_owned()),
                (HEADER_SIGNATURE.to_owned(), signature),
            ]
        }
    }
}

/// How [`Remote`] signs: the kinds that need nothing but the call, or SigV4, which also needs the
/// URL's host and the caller's AWS credentials.
enum Signing {
    Plain(Auth),
    #[cfg(feature = "iam")]
    Iam(sigv4::IamSigner),
}

/// A deployed bot's routes at `base` (no trailing slash).
pub struct Remote {
    base: String,
    signing: Signing,
    client: reqwest::Client,
}

impl Remote {
    /// The routes at `url`: https, or http to this machine only (a signed request must not
    /// travel in clear text).
    pub fn new(url: &str, auth: Auth) -> Result<Remote, RemoteError> {
        Remote::with(url, Signing::Plain(auth))
    }

    /// The routes at `url` (a function URL with `AuthType: AWS_IAM`), every call signed with
    /// SigV4 by `signer`.
    #[cfg(feature = "iam")]
    pub fn iam(url: &str, signer: sigv4::IamSigner) -> Result<Remote, RemoteError> {
        Remote::with(url, Signing::Iam(signer))
    }

    fn with(url: &str, signing: Signing) -> Result<Remote, RemoteError> {
        let base = maestro_lambda::bitmex::check_base_url(url)
            .map_err(|e| RemoteError::Usage(format!("--url: {e}")))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| RemoteError::Failed(format!("cannot build an HTTP client: {e}")))?;
        Ok(Remote {
            base,
            signing,
            client,
        })
    }

    /// The routes' base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// What this remote signs with, for the lines a trader reads (never a secret).
    pub fn auth_name(&self) -> &'static str {
        match &self.signing {
            Signing::Plain(Auth::None) => "no authentication",
            Signing::Plain(Auth::Token(_)) => "the run's token",
            Signing::Plain(Auth::Hmac(_)) => "HMAC with the route secret",
            #[cfg(feature = "iam")]
            Signing::Iam(_) => "SigV4 with your AWS credentials",
        }
    }

    /// Signs and sends `call` as it is; the answer's status and body text, whatever they are (the
    /// dashboard proxy passes them on). An error only when no answer came.
    pub async fn forward(&self, call: &Call, now_s: i64) -> Result<(u16, String), RemoteError> {
        let url = format!("{}{}", self.base, call.path);
        let headers = match &self.signing {
            Signing::Plain(auth) => auth_headers(auth, call, now_s, &random_nonce()),
            #[cfg(feature = "iam")]
            Signing::Iam(signer) => {
                signer
                    .headers(
                        call.method,
                        &url,
                        call.body.as_bytes(),
                        std::time::SystemTime::now(),
                    )
                    .await?
            }
        };
        let mut request = match call.method {
            "POST" => self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .body(call.body.clone()),
            _ => self.client.get(&url),
        };
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                "no answer within 30 s".to_owned()
            } else if e.is_connect() {
                "cannot connect (is the URL right, is the bot running?)".to_owned()
            } else {
                "the request failed".to_owned()
            };
            RemoteError::Failed(format!("{}: {why}", self.base))
        })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|_| RemoteError::Failed(format!("{}: the answer broke off", self.base)))?;
        Ok((status, text))
    }

    /// Sends `call`; the answer's status and JSON body. 401/403 and a body that is not JSON are
    /// errors that say what to check.
    pub async fn send(&self, call: &Call, now_s: i64) -> Result<(u16, Value), RemoteError> {
        let (status, text) = self.forward(call, now_s).await?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if status == 401 || status == 403 {
            let body = body.unwrap_or(Value::Null);
            return Err(RemoteError::Failed(self.refusal(status, &body)));
        }
        let body = body.ok_or_else(|| {
            RemoteError::Failed(format!(
                "{}: HTTP {status} with an answer that is not the bot's JSON (is this a \
                 CryptoMaestro function URL?)",
                self.base
            ))
        })?;
        Ok((status, body))
    }

    /// What a 401/403 means, and what to check, for how this remote signs.
    fn refusal(&self, status: u16, body: &Value) -> String {
        // The routes answer {"error", "detail"}; AWS's own check of a function URL {"Message"}.
        let said = match (body["error"].as_str(), body["Message"].as_str()) {
            (Some(error), _) => {
                format!("{error} ({})", body["detail"].as_str().unwrap_or_default())
            }
            (None, Some(message)) => format!("AWS: {}", message.trim_end_matches('.')),
            (None, None) => "refused".to_owned(),
        };
        let check = match &self.signing {
            Signing::Plain(Auth::Hmac(_)) => {
                "Check MAESTRO_ROUTE_SECRET (the secret's route_secret) and this machine's clock. \
                 A function URL with AuthType AWS_IAM needs --auth iam."
                    .to_owned()
            }
            Signing::Plain(Auth::Token(_)) => {
                "Check the token file of the running `maestro run --live`.".to_owned()
            }
            Signing::Plain(Auth::None) => {
                "This bot needs authentication: --auth hmac, iam or token.".to_owned()
            }
            #[cfg(feature = "iam")]
            Signing::Iam(signer) => signer.what_to_check(),
        };
        format!("HTTP {status}: {said}. {check}")
    }
}

fn random_nonce() -> String {
    use rand::{RngCore, SeedableRng};
    let mut bytes = [0u8; 16];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_become_set_params() {
        let pairs: Vec<String> = [
            "short_window=5",
            "dry_run=true",
            "mode=long_only",
            "guards.confirm_bars=2",
            "guards.hysteresis_bp = 25",
            "bin=1h",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            params_of(&pairs).expect("valid"),
            json!({"short_window": 5, "dry_run": true, "mode": "long_only", "bin": "1h",
                   "guards": {"confirm_bars": 2, "hysteresis_bp": 25}})
        );
        for bad in ["qty", "=5", "guards.=1", "a.b=1"] {
            assert!(
                params_of(&[bad.to_owned()]).is_err(),
                "{bad:?} must be refused"
            );
        }
        assert!(params_of(&[]).is_err());
    }

    /// The signature is the routes' own: the same function the routes check with, over exactly
    /// the method, path with query, timestamp, nonce and body sent.
    #[test]
    fn hmac_headers_sign_what_is_sent() {
        let secret = Secret::new("route-secret-for-tests-0123456789");
        let call = Call::control("pause", "ltc", None);
        let headers = auth_headers(
            &Auth::Hmac(secret.clone()),
            &call,
            1_700_000_000,
            "n0nce-123",
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get(HEADER_TIMESTAMP), "1700000000");
        assert_eq!(get(HEADER_NONCE), "n0nce-123");
        assert_eq!(
            get(HEADER_SIGNATURE),
            sign(
                &secret,
                "POST",
                "/control",
                "1700000000",
                "n0nce-123",
                br#"{"action":"pause","bot":"ltc"}"#
            )
        );
        assert!(auth_headers(&Auth::None, &call, 0, "x").is_empty());
        assert_eq!(
            format!("{:?}", Auth::Hmac(secret)),
            "Auth::Hmac(<redacted>)"
        );
    }

    #[test]
    fn only_https_or_this_machine() {
        assert!(Remote::new("http://example.com", Auth::None).is_err());
        assert!(Remote::new("https://abc.lambda-url.eu-west-1.on.aws/", Auth::None).is_ok());
        assert!(Remote::new("http://127.0.0.1:8080", Auth::None).is_ok());
    }
}
