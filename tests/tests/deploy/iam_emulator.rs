//! The `bootstrap` binary in IAM mode (`ROUTE_AUTH=iam`, a function URL with `AuthType: AWS_IAM`)
//! under `cargo lambda watch`, called by `maestro remote`'s SigV4 signer. The emulator does not
//! check IAM, so a front in this test plays AWS's part: the workspace's independent SigV4 check
//! ([`maestro_tests::sigv4_check`]) refuses what does not verify with AWS's 403, and what does is
//! invoked through the runtime API as AWS invokes a function URL: the event carries the caller's
//! IAM identity, which the function requires in this mode.

use super::routes_emulator::BOTS;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maestro_cli::remote::sigv4::{Credentials, IamSigner};
use maestro_cli::remote::{Call, Remote};
use maestro_lambda::store::StateStore;
use maestro_tests::bot_id;
use maestro_tests::dynamo::{fresh_table, shared_server};
use maestro_tests::emulator::Emulator;
use maestro_tests::events::event;
use maestro_tests::fake_bitmex::{FakeBitmex, TEST_API_KEY, TEST_API_SECRET};
use maestro_tests::sigv4_check::{Account, verify};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ACCESS_KEY: &str = "AKIDMAESTROEMULATOR1";
const SECRET_KEY: &str = "maestro/emulator/secret+key0123456789abcd";
const REGION: &str = "eu-west-1";

/// AWS's part: check the signature, then invoke the function with the function URL event.
struct Front {
    invocations: String,
    client: reqwest::Client,
    invoked: AtomicUsize,
}

async fn front(State(front): State<Arc<Front>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let account = Account {
        access_key: ACCESS_KEY,
        secret_key: SECRET_KEY,
        region: REGION,
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let (path, query) = (parts.uri.path(), parts.uri.query().unwrap_or_default());
    let now = time::OffsetDateTime::now_utc();
    if let Err(message) = verify(
        &account,
        parts.method.as_str(),
        path,
        query,
        header,
        &body,
        now,
    ) {
        let body = json!({ "Message": message }).to_string();
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    // The function URL event of a real IAM-authenticated call, with this request in it.
    let mut event = event("url-post-control-iam.json");
    let function_path = path.strip_prefix("/lambda-url/bootstrap").unwrap_or(path);
    event["rawPath"] = json!(function_path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(parts.method.as_str());
    event["requestContext"]["http"]["path"] = json!(function_path);
    event["headers"] = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!(v.to_str().ok()?))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    event["body"] = json!(String::from_utf8_lossy(&body));
    event["isBase64Encoded"] = json!(false);
    front.invoked.fetch_add(1, Ordering::SeqCst);
    let answer = match front
        .client
        .post(&front.invocations)
        .json(&event)
        .send()
        .await
    {
        Ok(answer) => answer.json::<Value>().await.unwrap_or_default(),
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let text = answer["body"].as_str().unwrap_or_default().to_owned();
    (status, Body::from(text)).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_in_iam_mode_takes_maestro_remote_sigv4() {
    let table = fresh_table("emulator-iam").await;
    let fake = FakeBitmex::start().await.expect("fake BitMEX");
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [
        ("TABLE_NAME", table.table.clone()),
        ("BOTS", BOTS.to_owned()),
        ("BITMEX_BASE_URL", fake.base_url()),
        ("BITMEX_API_KEY", TEST_API_KEY.to_owned()),
        ("BITMEX_API_SECRET", TEST_API_SECRET.to_owned()),
        ("ROUTE_AUTH", "iam".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", shared_server().endpoint()),
        ("RUST_LOG", "info".to_owned()),
    ];
    let emu = Emulator::start(&env, &dir.path().join("watch.log"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let state = Arc::new(Front {
        invocations: format!(
            "http://127.0.0.1:{}/2015-03-31/functions/bootstrap/invocations",
            emu.port()
        ),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(900))
            .build()
            .expect("client"),
        invoked: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .fallback(front)
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}");
    let signer = |secret: &str| {
        let credentials = Credentials::new(ACCESS_KEY, secret, None, None, "test");
        Remote::iam(
            &url,
            IamSigner::with_provider(credentials, REGION.to_owned()),
        )
        .expect("a loopback URL")
    };
    let now_s = || maestro_lambda::clock::now_ms() / 1000;

    // The first call makes the emulator compile and start the function.
    let started = Instant::now();
    let status = loop {
        match signer(SECRET_KEY)
            .send(&Call::status(Some("ltc")), now_s())
            .await
        {
            Ok((200, body)) => break body,
            _ if started.elapsed() > Duration::from_secs(900) => {
                panic!("the function never answered:\n{}", emu.log_text())
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    assert_eq!(status["bots"][0]["id"], "ltc", "{status}");

    let (code, paused) = signer(SECRET_KEY)
        .send(&Call::control("pause", "ltc", None), now_s())
        .await
        .expect("signed pause");
    assert_eq!((code, &paused["paused"]), (200, &json!(true)), "{paused}");
    let record = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert!(record.value.paused, "the pause is in DynamoDB");

    // A wrong secret key: AWS's refusal with what to check; the function is never invoked.
    let invoked = state.invoked.load(Ordering::SeqCst);
    let refused = signer("not-the-secret-key-0123456789abcdefghij")
        .send(&Call::control("resume", "ltc", None), now_s())
        .await
        .expect_err("a wrong key is refused");
    let refused = refused.to_string();
    for needed in ["HTTP 403", "lambda:InvokeFunctionUrl", REGION] {
        assert!(refused.contains(needed), "{needed:?} in {refused}");
    }
    assert!(!refused.contains("not-the-secret-key"), "{refused}");
    assert_eq!(state.invoked.load(Ordering::SeqCst), invoked);
    let after = table
        .store
        .load(&bot_id("ltc"))
        .await
        .expect("load")
        .expect("record");
    assert_eq!(
        after.version, record.version,
        "a refused call changed the record"
    );
}
