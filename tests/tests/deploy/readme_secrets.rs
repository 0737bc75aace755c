//! The README's shell examples keep secrets off command lines: a process's arguments are readable by
//! every user of the machine (`ps`, `/proc/PID/cmdline`), its environment and stdin are not. The
//! examples read keys at a prompt, pass them to jq and python3 through the environment and to curl
//! through a config on stdin.

use super::template_sam::root;

/// A way of putting a secret on a command line, and why it is one.
const LEAKS: &[(&str, &str)] = &[
    ("--arg ", "jq --arg puts the value in jq's arguments"),
    (
        "--user ",
        "curl --user puts the credentials in curl's arguments",
    ),
    ("-u \"$", "curl -u puts the credentials in curl's arguments"),
    ("-hmac", "openssl -hmac puts the key in openssl's arguments"),
    (
        "hexkey:",
        "openssl -macopt hexkey: puts the key in openssl's arguments",
    ),
    (
        "-macopt key:",
        "openssl -macopt key: puts the key in openssl's arguments",
    ),
    (
        "-H \"x-amz-security-token",
        "a session token in a -H argument",
    ),
    (
        "-H \"x-maestro-token",
        "the local route token in a -H argument",
    ),
    ("-H \"api-key", "a BitMEX key in a -H argument"),
    ("--secret-string \"", "a secret's value as an argument"),
    ("--secret-string '", "a secret's value as an argument"),
];

/// The lines of every fenced `sh` block.
fn shell_lines(markdown: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    for (n, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_sh = !in_sh && matches!(fence.trim_start_matches('`'), "sh" | "bash" | "shell");
            continue;
        }
        if in_sh {
            lines.push((n + 1, line));
        }
    }
    lines
}

#[test]
fn readme_examples_keep_secrets_off_command_lines() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = shell_lines(&readme);
    assert!(lines.len() > 40, "the README's shell blocks were not found");
    let mut found = Vec::new();
    for (n, line) in lines {
        for (pattern, why) in LEAKS {
            if line.contains(pattern) {
                found.push(format!("README.md:{n}: {why}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The scan sees what it must refuse (the patterns match the commands they stand for).
#[test]
fn the_scan_catches_the_usual_leaks() {
    let examples = "```sh\njq --arg k \"$KEY\" '.k=$k'\n\
        curl --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" x\n\
        openssl dgst -sha256 -hmac \"$ROUTE_SECRET\"\n\
        curl -H \"x-maestro-token: $(cat f)\" x\n```\n";
    let lines = shell_lines(examples);
    assert_eq!(lines.len(), 4);
    for (_, line) in lines {
        assert!(
            LEAKS.iter().any(|(p, _)| line.contains(p)),
            "not caught: {line}"
        );
    }
}

/// The README's `sigv4` function (curl reading the credentials from a config on stdin) really signs:
/// run against a server on 127.0.0.1, the request carries a SigV4 `Authorization` for the access key
/// and the session token header, and the secret key itself is sent nowhere.
#[test]
fn the_readme_sigv4_recipe_signs_with_credentials_from_stdin() {
    use std::io::{BufRead, BufReader, Write};
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("sigv4() {")
        .expect("the README's sigv4 function");
    let end = start + readme[start..].find("\n}\n").expect("its end") + 2;
    let function = &readme[start..end];

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a request");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .expect("answer");
        head
    });

    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!("{function}\nsigv4 \"$1\""),
            "sigv4",
            &format!("http://127.0.0.1:{port}/status"),
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDREADMETEST")
        .env("AWS_SECRET_ACCESS_KEY", "readme-secret-key-never-sent")
        .env("AWS_SESSION_TOKEN", "readme-session-token")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{}");
    let head = server.join().expect("server").to_ascii_lowercase();
    assert!(
        head.contains("authorization: aws4-hmac-sha256 credential=akidreadmetest/")
            && head.contains("/eu-west-1/lambda/aws4_request"),
        "{head}"
    );
    assert!(
        head.contains("x-amz-security-token: readme-session-token"),
        "{head}"
    );
    assert!(!head.contains("readme-secret-key"), "{head}");
}
