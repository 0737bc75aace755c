//! What the client may talk to: the one check of a BitMEX base URL, used by the client itself, the
//! Lambda's configuration and `maestro run --live`.
//!
//! Every request carries `api-key`, `api-expires` and `api-signature`, so the URL must be https,
//! or plain http to this machine only (the tests' fake BitMEX); it carries no user or password (the
//! HTTP stack would send them), no query and no fragment (the signed path must be the sent path).

use super::TESTNET_URL;

/// A base URL that cannot be used, and why. Its text never holds a user or password of the URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BaseUrlError(String);

/// The loopback host names plain http is allowed to (as the URL parser spells them).
fn is_loopback_host(host: Option<&str>) -> bool {
    matches!(host, Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// Checks a base URL; returns it trimmed, without a trailing slash.
///
/// ```
/// use maestro_lambda::bitmex::check_base_url;
/// assert_eq!(check_base_url(" https://testnet.bitmex.com/api/v1/ ").as_deref(),
///            Ok("https://testnet.bitmex.com/api/v1"));
/// assert!(check_base_url("http://127.0.0.1:4567/api/v1").is_ok());
/// assert!(check_base_url("http://www.bitmex.com/api/v1").is_err());
/// ```
pub fn check_base_url(text: &str) -> Result<String, BaseUrlError> {
    let text = text.trim();
    let url =
        url::Url::parse(text).map_err(|e| BaseUrlError(format!("is not an absolute URL ({e})")))?;
    // Checked before any message quotes the URL: a password must not end up in a log.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BaseUrlError("must carry no user name or password".into()));
    }
    let shown: String = text.chars().take(60).collect();
    if url.host_str().is_none() {
        return Err(BaseUrlError(format!("{shown:?} names no host")));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(url.host_str()) => {}
        _ => {
            return Err(BaseUrlError(format!(
                "{shown:?} must use https (plain http only to 127.0.0.1, localhost or [::1]): \
                 the API key goes with every request"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BaseUrlError(format!(
            "{shown:?} must not carry a query or a fragment"
        )));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Whether trading through `base_url` may move real money: anything but BitMEX testnet and this
/// machine (a proxy elsewhere may lead to mainnet). Expects a URL [`check_base_url`] accepted.
///
/// ```
/// use maestro_lambda::bitmex::{MAINNET_URL, TESTNET_URL, may_be_mainnet};
/// assert!(may_be_mainnet(MAINNET_URL));
/// assert!(!may_be_mainnet(TESTNET_URL));
/// assert!(!may_be_mainnet("http://127.0.0.1:4567/api/v1"));
/// ```
pub fn may_be_mainnet(base_url: &str) -> bool {
    let host = |u: &str| url::Url::parse(u).ok()?.host_str().map(str::to_owned);
    let this = host(base_url);
    !(is_loopback_host(this.as_deref()) || this.is_some() && this == host(TESTNET_URL))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitmex::MAINNET_URL;

    #[test]
    fn checks_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (TESTNET_URL, Some(TESTNET_URL)),
            ("https://www.bitmex.com/api/v1/", Some(MAINNET_URL)),
            (
                "  http://localhost:1/api/v1  ",
                Some("http://localhost:1/api/v1"),
            ),
            ("http://[::1]:1/api/v1", Some("http://[::1]:1/api/v1")),
            ("http://www.bitmex.com/api/v1", None),
            ("http://127.0.0.2/api/v1", None),
            ("http://localhost.evil.example/api/v1", None),
            ("ftp://127.0.0.1/api/v1", None),
            ("https://x.test/api/v1?a=b", None),
            ("https://x.test/api/v1#a", None),
            ("https://user:hunter2@x.test/api/v1", None),
            ("/api/v1", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(check_base_url(text).ok().as_deref(), *expected, "{text:?}");
        }
        let err = check_base_url("http://user:hunter2@www.bitmex.com/api/v1").expect_err("bad");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn only_testnet_and_this_machine_are_surely_not_mainnet() {
        for (url, mainnet) in [
            (TESTNET_URL, false),
            ("https://TESTNET.bitmex.com/api/v1", false),
            ("http://127.0.0.1:4567/api/v1", false),
            ("http://[::1]:4567/api/v1", false),
            (MAINNET_URL, true),
            ("https://bitmex.com/api/v1", true),
            ("https://testnet.bitmex.com.evil.example/api/v1", true),
            ("https://proxy.example/api/v1", true),
        ] {
            assert_eq!(may_be_mainnet(url), mainnet, "{url}");
        }
    }
}
