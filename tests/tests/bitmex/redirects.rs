//! The client follows no redirect: a 3xx would carry `api-key`, `api-expires` and `api-signature`
//! to whatever host it names (another host, or plain http). Behind the redirecting server sits the
//! fake BitMEX, which records every request: it must see none, and the caller gets a clear,
//! permanent error after one attempt.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maestro_lambda::bitmex::{ApiSecret, BitmexClient, Credentials};
use maestro_lambda::exchange::{Exchange, ExchangeError, Side};
use maestro_tests::fake_bitmex::{TEST_API_KEY, TEST_API_SECRET};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::orders_support::{SYMBOL, fake, order};

/// A server on 127.0.0.1 answering every request with `status` and a `Location` on `target` (same
/// path and query). Returns its address and the count of requests it answered.
async fn redirector(status: u16, target: String) -> (SocketAddr, Arc<AtomicU32>) {
    let seen = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&seen);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let target = target.clone();
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let location = format!(
                "{target}{}",
                request.uri().path_and_query().map_or("/", |p| p.as_str())
            );
            let mut response: Response = StatusCode::from_u16(status)
                .unwrap_or(StatusCode::FOUND)
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the redirector");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, seen)
}

#[tokio::test]
async fn a_redirect_is_an_error_and_the_credentials_stay_home() {
    let fake = fake().await;
    let elsewhere = format!("http://{}", fake.addr());
    for status in [301, 302, 303, 307, 308] {
        fake.clear_requests();
        let (addr, answered) = redirector(status, elsewhere.clone()).await;
        let mut config = fake.client_config();
        config.base_url = format!("http://{addr}/api/v1");
        let client = BitmexClient::new(
            config,
            Credentials::new(TEST_API_KEY, ApiSecret::new(TEST_API_SECRET)),
        )
        .expect("client");

        let position = client.position(SYMBOL).await;
        let placed = client
            .place_order(&order(Side::Buy, 1000, &format!("cm-redirect-{status}")))
            .await;
        for (what, result) in [
            ("GET /position", position.map(|_| ())),
            ("POST /order", placed.map(|_| ())),
        ] {
            let err = result.expect_err(&format!("{what} answered {status} must fail"));
            assert!(
                !err.is_retryable(),
                "{what} {status}: a redirect does not go away on a retry: {err:?}"
            );
            assert!(
                matches!(&err, ExchangeError::Rejected { status: s, .. } if *s == status),
                "{what} {status}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains("redirect") && text.contains("BITMEX_BASE_URL"),
                "{what} {status}: the error says what happened and what to check: {text}"
            );
            assert!(
                !text.contains(TEST_API_SECRET) && !text.contains(TEST_API_KEY),
                "{text}"
            );
        }
        assert_eq!(
            answered.load(Ordering::SeqCst),
            2,
            "HTTP {status}: one attempt per call, no retry"
        );
        assert!(
            fake.requests().is_empty(),
            "HTTP {status}: the redirect target received {:?}",
            fake.request_log()
        );
        assert!(
            fake.orders(SYMBOL).is_empty(),
            "HTTP {status}: no order placed"
        );
    }
}
