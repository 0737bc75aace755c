//! `maestro remote --auth iam` (feature `iam`) end to end: the `maestro` binary signs with
//! credentials from the standard chain (environment; a shared credentials file with a profile),
//! an independent SigV4 check ([`verifier`], AWS's part of a function URL with `AuthType:
//! AWS_IAM`) passes or refuses each request, and what passes reaches a real `maestro run`'s routes.
//! Refusals (a wrong secret key, a wrong region, no credentials) are clear errors that change
//! nothing; the dashboard proxy signs the page's calls and keeps other web pages out.

#[path = "../common/mod.rs"]
mod common;
mod verifier;

use common::{maestro, start_run, text};
use std::io::{BufRead, BufReader};
use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::Duration;
use verifier::{ACCESS_KEY, REGION, SECRET_KEY};

/// `maestro remote --url URL ARGS` with `env` added.
fn remote(url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut all = vec!["remote", "--url", url];
    all.extend_from_slice(args);
    let mut cmd = maestro(&all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("maestro remote runs")
}

#[test]
fn iam_signed_calls_reach_the_routes_and_bad_signatures_do_not() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let state = tempfile::tempdir().expect("temp dir");
    let (mut run, backend, _lines) = start_run(state.path().to_str().expect("utf-8 path"));
    let (addr, seen) = runtime.block_on(verifier::start(backend));
    let url = format!("http://{addr}");
    let keys = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let mut region = vec!["--region", REGION];

    // Credentials from the environment.
    let out = remote(
        &url,
        &keys,
        &[&region[..], &["--auth", "iam", "status"]].concat(),
    );
    assert!(out.status.success(), "status: {}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.lines().any(|l| l.starts_with("local ")), "{table}");
    assert_eq!(seen.forwarded.load(Ordering::SeqCst), 1);

    // Credentials from a shared credentials file and a profile; with no route secret, iam is the
    // default. The default profile holds other keys: the profile is what chose these.
    let files = tempfile::tempdir().expect("temp dir");
    let credentials = files.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = AKIDNOTTHISONE\naws_secret_access_key = nope\n\n\
             [trader]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .expect("write credentials");
    let file = credentials.to_str().expect("utf-8 path");
    let profile = [
        ("AWS_SHARED_CREDENTIALS_FILE", file),
        ("AWS_PROFILE", "trader"),
    ];
    let out = remote(&url, &profile, &[&region[..], &["pause", "local"]].concat());
    assert!(out.status.success(), "pause: {}", text(&out));
    assert!(
        text(&out).starts_with("pause local: done"),
        "{}",
        text(&out)
    );
    let out = remote(
        &url,
        &[("AWS_SHARED_CREDENTIALS_FILE", file)],
        &[
            &region[..],
            &["--profile", "trader", "--json", "status", "--bot", "local"],
        ]
        .concat(),
    );
    assert!(out.status.success(), "status --profile: {}", text(&out));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        body["bots"][0]["paused"], true,
        "the signed pause landed: {body}"
    );
    let forwarded = seen.forwarded.load(Ordering::SeqCst);
    assert_eq!(forwarded, 3);

    // Refusals: a clear error (exit 1) that says what to check, never the key; nothing forwarded.
    let wrong_key = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        (
            "AWS_SECRET_ACCESS_KEY",
            "not-the-secret-key-0123456789abcdefghij",
        ),
    ];
    let out = remote(
        &url,
        &wrong_key,
        &[&region[..], &["resume", "local"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "wrong key: {}", text(&out));
    for needed in [
        "HTTP 403",
        "signature we calculated",
        "lambda:InvokeFunctionUrl",
        REGION,
    ] {
        assert!(text(&out).contains(needed), "{needed:?} in {}", text(&out));
    }
    assert!(!text(&out).contains("not-the-secret-key"), "{}", text(&out));
    let out = remote(&url, &keys, &["--region", "us-east-1", "resume", "local"]);
    assert_eq!(out.status.code(), Some(1), "wrong region: {}", text(&out));
    for needed in ["valid region", "us-east-1"] {
        assert!(text(&out).contains(needed), "{needed:?} in {}", text(&out));
    }
    let out = remote(&url, &[], &[&region[..], &["resume", "local"]].concat());
    assert_eq!(out.status.code(), Some(1), "no credentials: {}", text(&out));
    assert!(text(&out).contains("no AWS credentials"), "{}", text(&out));
    // A function URL names its region; a --region that contradicts it is refused before sending.
    let out = remote(
        "https://abcdefgh.lambda-url.eu-west-1.on.aws",
        &keys,
        &["--region", "us-east-1", "status"],
    );
    assert_eq!(out.status.code(), Some(2), "contradiction: {}", text(&out));
    assert!(text(&out).contains("eu-west-1"), "{}", text(&out));
    assert_eq!(
        seen.forwarded.load(Ordering::SeqCst),
        forwarded,
        "a refusal went through"
    );
    assert_eq!(seen.refused.load(Ordering::SeqCst), 2);

    // The dashboard proxy, signing with the profile's credentials.
    region.extend(["dashboard", "--port", "0"]);
    let mut cmd = maestro(&[&["remote", "--url", &url], &region[..]].concat());
    for (k, v) in profile {
        cmd.env(k, v);
    }
    let mut proxy = cmd.spawn().expect("maestro remote dashboard starts");
    let mut first = String::new();
    BufReader::new(proxy.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    let local = first
        .strip_prefix("dashboard on ")
        .and_then(|rest| rest.split('/').nth(2))
        .unwrap_or_else(|| panic!("the proxy prints its URL: {first:?}"))
        .to_owned();
    assert!(first.contains("SigV4"), "{first}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let call = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        let mut request = http
            .request(
                method.parse().expect("method"),
                format!("http://{local}{path}"),
            )
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        runtime.block_on(async {
            let answer = request.send().await.expect("the proxy answers");
            let status = answer.status().as_u16();
            (status, answer.text().await.expect("body"))
        })
    };
    let (status, page) = call("GET", "/", &[], "");
    assert_eq!(status, 200);
    assert_eq!(page, maestro_lambda::routes::DASHBOARD);
    let (status, body) = call("GET", "/status?bot=local", &[], "");
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["bots"][0]["paused"], true, "{body}");
    let forwarded = seen.forwarded.load(Ordering::SeqCst);
    let json = ("content-type", "application/json");
    let resume = r#"{"action":"resume","bot":"local"}"#;
    let foreign = call(
        "POST",
        "/control",
        &[json, ("origin", "http://evil.example")],
        resume,
    );
    assert_eq!(foreign.0, 403, "a foreign page's POST: {foreign:?}");
    let rebound = call("GET", "/status", &[("host", "evil.example:80")], "");
    assert_eq!(rebound.0, 403, "a rebinding Host: {rebound:?}");
    let plain = call(
        "POST",
        "/control",
        &[("content-type", "text/plain")],
        resume,
    );
    assert_eq!(plain.0, 415, "a simple cross-site type: {plain:?}");
    assert_eq!(
        seen.forwarded.load(Ordering::SeqCst),
        forwarded,
        "a refused request went on"
    );
    let own = format!("http://{local}");
    let (status, body) = call("POST", "/control", &[json, ("origin", &own)], resume);
    assert_eq!(status, 200, "the page's own resume: {body}");
    let (_, body) = call("GET", "/status?bot=local", &[], "");
    assert!(body.contains(r#""paused":false"#), "{body}");

    let _ = proxy.kill();
    let _ = proxy.wait();
    let _ = run.kill();
    let _ = run.wait();
}
