//! A tiny W3C WebDriver client over plain HTTP, for the dashboard's browser tests: it starts
//! Debian's `chromedriver` (package `chromium-driver`, installed by `.ci/setup`) and drives a
//! headless `chromium` through it: navigate, find, click, type, run a script, answer a dialog,
//! take a screenshot.
//!
//! Only `std` and `serde_json`, so the CLI's own tests can include this file as well
//! (`#[path]`), and the requests are blocking: a test calls it from a plain thread (or
//! `spawn_blocking`). A missing `chromedriver` or `chromium` panics with what to install: these
//! tests fail rather than skip.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key W3C WebDriver uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver` with one browser session; dropping it closes both.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

/// An element of the current page.
#[derive(Clone, Debug)]
pub struct Element(String);

/// Panics unless `name --version` runs, saying how to get it.
fn require(name: &str, package: &str) {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`{name}` is not installed: the dashboard's browser tests need Debian's {package} (.ci/setup installs it)"
    );
}

impl Browser {
    /// Starts `chromedriver` on a free loopback port and opens a headless session with a
    /// `width`×`height` window.
    pub fn start(width: u32, height: u32) -> Browser {
        require("chromium", "chromium");
        require("chromedriver", "chromium-driver");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        // Its own process group, so a browser it leaves behind goes with it.
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let started = Instant::now();
        while browser.call("GET", "/status", None).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
            ]},
        }}});
        let created = browser.ok("POST", "/session", Some(caps));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {created}"))
            .to_owned();
        browser
    }

    /// One WebDriver command: (HTTP status, the answer's `value`).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> std::io::Result<(u16, Value)> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        // The driver may keep the connection open: read the head, then Content-Length bytes.
        let mut raw = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        let (head, body_at) = loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&raw[..at]).into_owned(), at + 4);
            }
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while raw.len() < body_at + length {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let rest = String::from_utf8_lossy(&raw[body_at..]);
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json: Value = serde_json::from_str(&rest).unwrap_or(Value::Null);
        Ok((status, json["value"].clone()))
    }

    /// A command that must succeed; its `value`.
    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.call(method, path, body) {
            Ok((200, value)) => value,
            Ok((status, value)) => panic!("WebDriver {method} {path}: HTTP {status}: {value}"),
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.ok(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// The first element matching the CSS `selector`, if any.
    pub fn try_find(&self, selector: &str) -> Option<Element> {
        let body = json!({"using": "css selector", "value": selector});
        match self.call("POST", &self.session_path("/element"), Some(body)) {
            Ok((200, value)) => value[ELEMENT].as_str().map(|id| Element(id.to_owned())),
            _ => None,
        }
    }

    /// The first element matching `selector`, waiting up to `timeout` for it to appear.
    pub fn wait_for(&self, selector: &str, timeout: Duration) -> Element {
        let started = Instant::now();
        loop {
            if let Some(e) = self.try_find(selector) {
                return e;
            }
            assert!(
                started.elapsed() < timeout,
                "no {selector} on the page within {timeout:?}; the page:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks `element`.
    pub fn click(&self, element: &Element) {
        let path = self.session_path(&format!("/element/{}/click", element.0));
        self.ok("POST", &path, Some(json!({})));
    }

    /// Types `text` into `element`.
    pub fn type_into(&self, element: &Element, text: &str) {
        let path = self.session_path(&format!("/element/{}/value", element.0));
        self.ok("POST", &path, Some(json!({ "text": text })));
    }

    /// The rendered text of `element`.
    pub fn text(&self, element: &Element) -> String {
        let path = self.session_path(&format!("/element/{}/text", element.0));
        self.ok("GET", &path, None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether `element` is shown (not `display: none` and the like).
    pub fn displayed(&self, element: &Element) -> bool {
        let path = self.session_path(&format!("/element/{}/displayed", element.0));
        self.ok("GET", &path, None).as_bool().unwrap_or(false)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        self.ok("POST", &self.session_path("/execute/sync"), Some(body))
    }

    /// The page's current HTML (for failure messages).
    pub fn source(&self) -> String {
        match self.call("GET", &self.session_path("/source"), None) {
            Ok((_, Value::String(s))) => s,
            Ok((_, other)) => other.to_string(),
            Err(e) => e.to_string(),
        }
    }

    /// The open dialog's text (`alert`, `confirm`), waiting up to `timeout` for one.
    pub fn dialog_text(&self, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Ok((200, Value::String(text))) =
                self.call("GET", &self.session_path("/alert/text"), None)
            {
                return text;
            }
            assert!(
                started.elapsed() < timeout,
                "no dialog opened within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Answers the open dialog: OK when `accept`, Cancel otherwise.
    pub fn answer_dialog(&self, accept: bool) {
        let verb = if accept { "accept" } else { "dismiss" };
        self.ok(
            "POST",
            &self.session_path(&format!("/alert/{verb}")),
            Some(json!({})),
        );
    }

    /// Saves a PNG of the window to `path`.
    pub fn screenshot(&self, path: &std::path::Path) {
        let shot = self.ok("GET", &self.session_path("/screenshot"), None);
        let png = decode_base64(shot.as_str().unwrap_or_default()).expect("a base64 screenshot");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &self.session_path(""), None);
        }
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (what WebDriver's screenshot is in); `None` on anything else.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("a!").as_deref(), None);
    }
}
