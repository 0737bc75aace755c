//! Who may use the local routes: programs on this machine (curl, scripts), never a web page.
//!
//! The routes listen on loopback, yet a page open in the trader's browser can reach them: a
//! cross-site `fetch` or form with `text/plain` is a "simple request" the browser sends without a
//! CORS preflight, and a DNS-rebinding page talks to 127.0.0.1 under its own name, so the browser
//! even lets it read the answers. Hence, before any route runs:
//!
//! 1. `Host` must name this server: `127.0.0.1`, `localhost`, `[::1]` or the bound address, with the
//!    server's port (a rebinding page sends its own name);
//! 2. a request that carries an `Origin` must come from this server's own origin (curl sends none;
//!    a browser sends one on every cross-site request and on every POST);
//! 3. a POST must carry the run's [`RouteToken`] in `x-maestro-token`, when there is one (`--live`:
//!    real money);
//! 4. `POST /control` must be `application/json`, a type no page can send cross-site without a
//!    preflight, which this server never grants.
//!
//! A refusal is a 403 (415 for the content type) with the routes' JSON error body, and the request
//! goes no further: nothing is read, nothing changes.

use maestro_lambda::routes::Response;
use maestro_lambda::secrets::Secret;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::fmt::Write as _;
use std::net::SocketAddr;

/// The header that carries the run's token.
pub const TOKEN_HEADER: &str = "x-maestro-token";

/// A per-run secret a POST must present under `--live`: 32 random bytes from the OS, in hex. Prints
/// as `***` (Debug, Display); [`expose`](Self::expose) gives it for printing at start and the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteToken(Secret);

impl RouteToken {
    /// A fresh token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        StdRng::from_os_rng().fill_bytes(&mut bytes);
        let mut hex = String::with_capacity(64);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        RouteToken(Secret::new(hex))
    }

    /// The token's text.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Whether `presented` is this token, in time that does not depend on where they differ.
    fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.expose().as_bytes(), presented.as_bytes());
        // The length is public (always 64); only the content is compared in constant time.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The checks of the [module documentation](self) for one server.
#[derive(Debug)]
pub struct Guard {
    /// Every `Host` value that names this server, lower case.
    hosts: Vec<String>,
    token: Option<RouteToken>,
}

impl Guard {
    /// The guard of a server bound to `bound`, requiring `token` on POST when given.
    pub fn new(bound: SocketAddr, token: Option<RouteToken>) -> Self {
        let port = bound.port();
        let bound_ip = SocketAddr::new(bound.ip(), port).to_string();
        let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|name| format!("{name}:{port}"))
            .collect();
        if !hosts.contains(&bound_ip) {
            hosts.push(bound_ip);
        }
        // Port 80 is the default: clients leave it out of Host and Origin.
        if port == 80 {
            let bare: Vec<String> = hosts
                .iter()
                .filter_map(|h| h.strip_suffix(":80").map(str::to_owned))
                .collect();
            hosts.extend(bare);
        }
        Guard { hosts, token }
    }

    /// `Ok` when the request may go on to the routes, else the refusal to answer.
    pub fn check<'h>(
        &self,
        method: &str,
        path: &str,
        authority: Option<&str>,
        header: impl Fn(&str) -> Sent<'h>,
    ) -> Result<(), Response> {
        let ours = |host: &str| self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
        let host_ok = match header("host") {
            Sent::Once(host) => ours(host) && authority.is_none_or(ours),
            Sent::Absent | Sent::Unusable => false,
        };
        if !host_ok {
            return Err(Response::error(
                403,
                "bad_host",
                format!(
                    "the local routes answer only requests addressed to this machine (Host {}); \
                     a web page under another name is refused",
                    self.hosts.join(", ")
                ),
            ));
        }
        let origin_ok = match header("origin") {
            Sent::Absent => true,
            Sent::Once(origin) => origin
                .strip_prefix("http://")
                .is_some_and(|rest| !rest.contains('/') && ours(rest)),
            Sent::Unusable => false,
        };
        if !origin_ok {
            return Err(Response::error(
                403,
                "bad_origin",
                "requests from web pages are refused: only the server's own origin may send one \
                 (curl and scripts send no Origin)",
            ));
        }
        if method == "POST" {
            if let Some(token) = &self.token {
                let presented = match header(TOKEN_HEADER) {
                    Sent::Once(value) => token.matches(value.trim()),
                    Sent::Absent | Sent::Unusable => false,
                };
                if !presented {
                    return Err(Response::error(
                        403,
                        "bad_token",
                        format!(
                            "a live run takes a POST only with the token it printed at start (also \
                             in the file route-token of its state directory) in the {TOKEN_HEADER} \
                             header"
                        ),
                    ));
                }
            }
            if path == "/control" {
                let json = match header("content-type") {
                    Sent::Once(ct) => ct.split(';').next().is_some_and(|essence| {
                        essence.trim().eq_ignore_ascii_case("application/json")
                    }),
                    Sent::Absent | Sent::Unusable => false,
                };
                if !json {
                    return Err(Response::error(
                        415,
                        "unsupported_media_type",
                        "POST /control takes application/json only (curl: -H 'content-type: \
                         application/json')",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A request header as the guard sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent<'a> {
    /// Not sent.
    Absent,
    /// Sent once, as text.
    Once(&'a str),
    /// Sent more than once, or not text: never trusted.
    Unusable,
}

impl<'a> Sent<'a> {
    /// The header `name` of `headers`.
    pub fn header(headers: &'a axum::http::HeaderMap, name: &str) -> Self {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => Sent::Absent,
            (Some(value), None) => value.to_str().map_or(Sent::Unusable, Sent::Once),
            (Some(_), Some(_)) => Sent::Unusable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `METHOD PATH` with `headers` written `name: value | name: value` (`TOKEN` stands for
    /// the token's text) against a guard on `bound`; the refusal's status on failure.
    fn check(
        bound: &str,
        token: Option<&RouteToken>,
        request: &str,
        headers: &str,
    ) -> Result<(), u16> {
        let bound: SocketAddr = bound.parse().expect("address");
        let text = token.map_or_else(String::new, |t| t.expose().to_owned());
        let headers: Vec<(String, String)> = headers
            .split(" | ")
            .filter(|h| !h.is_empty())
            .filter_map(|h| h.split_once(": "))
            .map(|(k, v)| (k.to_owned(), v.replace("TOKEN", &text)))
            .collect();
        let header = |name: &str| {
            let mut found = headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
            match (found.next(), found.next()) {
                (None, _) => Sent::Absent,
                (Some((_, v)), None) => Sent::Once(v.as_str()),
                _ => Sent::Unusable,
            }
        };
        let (method, path) = request.split_once(' ').expect("METHOD PATH");
        Guard::new(bound, token.cloned())
            .check(method, path, None, header)
            .map_err(|refused| refused.status)
    }

    #[test]
    fn requests_table() {
        let token = RouteToken::generate();
        const H: &str = "host: 127.0.0.1:8080";
        const J: &str = "content-type: application/json";
        // (token required, request, headers, expected)
        #[rustfmt::skip]
        let cases: &[(bool, &str, String, Result<(), u16>)] = &[
            (false, "GET /status", H.into(), Ok(())),
            (false, "GET /status", "host: localhost:8080".into(), Ok(())),
            (false, "GET /status", "host: LocalHost:8080".into(), Ok(())),
            (false, "GET /status", "host: [::1]:8080".into(), Ok(())),
            (false, "GET /status", String::new(), Err(403)),
            (false, "GET /status", "host: localhost".into(), Err(403)),
            (false, "GET /status", "host: 127.0.0.1:8081".into(), Err(403)),
            (false, "GET /status", "host: evil.example:8080".into(), Err(403)),
            (false, "GET /status", "host: 127.0.0.1.nip.io:8080".into(), Err(403)),
            (false, "GET /status", format!("{H} | host: evil.example:8080"), Err(403)),
            (false, "GET /status", format!("{H} | origin: http://evil.example"), Err(403)),
            (false, "POST /control", format!("{H} | {J}"), Ok(())),
            (false, "POST /control", format!("{H} | content-type: Application/JSON; charset=utf-8"), Ok(())),
            (false, "POST /control", format!("{H} | {J} | origin: http://127.0.0.1:8080"), Ok(())),
            (false, "POST /control", format!("{H} | {J} | origin: http://localhost:8080"), Ok(())),
            (false, "POST /control", format!("{H} | {J} | origin: https://127.0.0.1:8080"), Err(403)),
            (false, "POST /control", format!("{H} | {J} | origin: http://127.0.0.1:8080/x"), Err(403)),
            (false, "POST /control", format!("{H} | {J} | origin: null"), Err(403)),
            (false, "POST /control", format!("{H} | {J} | origin: http://evil.example"), Err(403)),
            (false, "POST /control", format!("{H} | content-type: text/plain"), Err(415)),
            (false, "POST /control", format!("{H} | content-type: application/jsonp"), Err(415)),
            (false, "POST /control", format!("{H} | content-type: multipart/form-data"), Err(415)),
            (false, "POST /control", H.into(), Err(415)),
            // A cross-site simple request is refused for its origin before its type.
            (false, "POST /control", format!("{H} | content-type: text/plain | origin: http://evil.example"), Err(403)),
            (true, "GET /status", H.into(), Ok(())),
            (true, "POST /control", format!("{H} | {J}"), Err(403)),
            (true, "POST /control", format!("{H} | {J} | {TOKEN_HEADER}: x"), Err(403)),
            (true, "POST /control", format!("{H} | {J} | {TOKEN_HEADER}: xTOKEN"), Err(403)),
            (true, "POST /control", format!("{H} | {J} | {TOKEN_HEADER}: TOKEN"), Ok(())),
            (true, "POST /control", format!("{H} | {J} | {TOKEN_HEADER}: TOKEN | {TOKEN_HEADER}: TOKEN"), Err(403)),
            (true, "POST /control", format!("{H} | {J} | {TOKEN_HEADER}: TOKEN | origin: http://evil.example"), Err(403)),
            (true, "POST /control", format!("host: evil.example:8080 | {J} | {TOKEN_HEADER}: TOKEN"), Err(403)),
        ];
        for (i, (needs_token, request, headers, expected)) in cases.iter().enumerate() {
            let token = needs_token.then_some(&token);
            assert_eq!(
                check("127.0.0.1:8080", token, request, headers),
                *expected,
                "case {i}: {request} {headers}"
            );
        }
    }

    #[test]
    fn other_loopback_binds_and_port_80() {
        let ok = |bound, headers| check(bound, None, "GET /status", headers);
        assert_eq!(ok("127.0.0.2:9000", "host: 127.0.0.2:9000"), Ok(()));
        assert_eq!(ok("127.0.0.2:9000", "host: localhost:9000"), Ok(()));
        assert_eq!(ok("[::1]:80", "host: localhost"), Ok(()));
        assert_eq!(ok("[::1]:80", "host: [::1] | origin: http://[::1]"), Ok(()));
        assert_eq!(ok("[::1]:80", "host: [::1]:80"), Ok(()));
    }

    #[test]
    fn absolute_form_targets_must_name_this_server_too() {
        let g = Guard::new("127.0.0.1:8080".parse().expect("address"), None);
        let header = |name: &str| match name {
            "host" => Sent::Once("127.0.0.1:8080"),
            _ => Sent::Absent,
        };
        assert!(
            g.check("GET", "/status", Some("127.0.0.1:8080"), header)
                .is_ok()
        );
        assert!(
            g.check("GET", "/status", Some("evil.example:8080"), header)
                .is_err()
        );
    }

    #[test]
    fn tokens_are_fresh_long_and_never_printed() {
        let (a, b) = (RouteToken::generate(), RouteToken::generate());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{a:?}").contains(a.expose()));
        let refusal = Guard::new("127.0.0.1:8080".parse().expect("address"), Some(a.clone()))
            .check("POST", "/control", None, |name| match name {
                "host" => Sent::Once("127.0.0.1:8080"),
                _ => Sent::Absent,
            })
            .expect_err("no token");
        assert!(!refusal.body_text().contains(a.expose()));
    }
}
