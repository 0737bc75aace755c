//! How `DynamoStore` sorts DynamoDB's failures: retryable (throttling, 5xx, timeouts, broken
//! connections) or permanent. moto cannot be made to throttle or hang, so these talk to a tiny HTTP
//! server on 127.0.0.1 that answers every request with one canned DynamoDB error.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use maestro_lambda::params::BotParams;
use maestro_lambda::store::{BotRecord, DynamoStore, StateStore, StoreError};
use maestro_tests::bot_id;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// What the canned server does with each request.
#[derive(Clone, Copy)]
enum Reply {
    /// Status and DynamoDB error type (`None`: empty body).
    Error(u16, Option<&'static str>),
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection without a word.
    Hangup,
}

/// Starts the canned server; it lives until the test process ends.
fn canned_server(reply: Reply) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut hung = Vec::new();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            match reply {
                Reply::Hangup => drop(stream),
                Reply::Hang => {
                    let _ = read_request(&stream);
                    hung.push(stream);
                }
                Reply::Error(status, kind) => {
                    let _ = answer(stream, status, kind);
                }
            }
        }
    });
    format!("http://{addr}")
}

fn read_request(stream: &TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)
}

fn answer(mut stream: TcpStream, status: u16, kind: Option<&str>) -> std::io::Result<()> {
    read_request(&stream)?;
    let body = kind.map_or(String::new(), |k| {
        format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{k}","message":"canned {k}"}}"#)
    });
    write!(
        stream,
        "HTTP/1.1 {status} Canned\r\nContent-Type: application/x-amz-json-1.0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A store on `endpoint` that makes one attempt with a short timeout, so each case is one request.
fn store(endpoint: &str) -> DynamoStore {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "maestro-tests",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(500))
                .build(),
        )
        .build();
    DynamoStore::new(Client::from_conf(config), "table")
}

fn kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::Conflict { .. } => "Conflict",
        StoreError::Unavailable(_) => "Unavailable",
        StoreError::Corrupt(_) => "Corrupt",
        StoreError::Failed(_) => "Failed",
    }
}

#[tokio::test]
async fn failures_are_sorted_into_retryable_and_permanent() {
    let cases: &[(Reply, &str)] = &[
        (
            Reply::Error(500, Some("InternalServerError")),
            "Unavailable",
        ),
        (Reply::Error(503, None), "Unavailable"),
        (
            Reply::Error(400, Some("ThrottlingException")),
            "Unavailable",
        ),
        (
            Reply::Error(400, Some("ProvisionedThroughputExceededException")),
            "Unavailable",
        ),
        (
            Reply::Error(400, Some("RequestLimitExceeded")),
            "Unavailable",
        ),
        (Reply::Hang, "Unavailable"),
        (Reply::Hangup, "Unavailable"),
        (Reply::Error(400, Some("AccessDeniedException")), "Failed"),
        (Reply::Error(400, Some("ValidationException")), "Failed"),
        (
            Reply::Error(400, Some("ResourceNotFoundException")),
            "Failed",
        ),
        (
            Reply::Error(403, Some("UnrecognizedClientException")),
            "Failed",
        ),
    ];
    let record = BotRecord::new(bot_id("bot"), BotParams::default());
    for (reply, want) in cases {
        let label = match reply {
            Reply::Error(status, kind) => format!("{status} {kind:?}"),
            Reply::Hang => "no answer".to_owned(),
            Reply::Hangup => "hang-up".to_owned(),
        };
        let store = store(&canned_server(*reply));
        let load = store
            .load(&bot_id("bot"))
            .await
            .expect_err("load must fail");
        assert_eq!(kind(&load), *want, "{label}: load gave {load}");
        assert_eq!(
            load.is_retryable(),
            *want == "Unavailable",
            "{label}: retryable?"
        );
        let save = store
            .save(&record, Some(4))
            .await
            .expect_err("save must fail");
        assert_eq!(kind(&save), *want, "{label}: save gave {save}");
    }
}

#[tokio::test]
async fn a_failed_condition_is_a_conflict_and_a_claimed_nonce_is_false() {
    let store = store(&canned_server(Reply::Error(
        400,
        Some("ConditionalCheckFailedException"),
    )));
    let save = store
        .save(
            &BotRecord::new(bot_id("bot"), BotParams::default()),
            Some(4),
        )
        .await;
    assert!(
        matches!(
            save,
            Err(StoreError::Conflict {
                expected: Some(4),
                ..
            })
        ),
        "got {save:?}"
    );
    let claim = store
        .claim_nonce("n", maestro_lambda::clock::now_ms() / 1000, 1)
        .await;
    assert!(matches!(claim, Ok(false)), "got {claim:?}");
}
