//! The Secrets Manager adapter against moto_server on 127.0.0.1: the function's credentials are read
//! from one JSON secret, checked, and never shown.
//!
//! moto_server comes from `<root>/.venv-tools/bin` (installed by `.ci/setup`); without it these tests
//! fail and say so.

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use maestro_lambda::secrets::{SecretsError, load_from_secrets_manager};
use maestro_tests::dynamo::shared_server;

/// A Secrets Manager client on the test binary's shared moto server (`maestro_tests::dynamo`, which
/// also serves Secrets Manager on the same port).
fn client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(shared_server().endpoint())
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

async fn put(client: &aws_sdk_secretsmanager::Client, name: &str, text: &str) -> String {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(text)
        .send()
        .await
        .expect("create_secret on moto");
    out.arn().expect("moto returns an ARN").to_owned()
}

#[tokio::test]
async fn reads_checks_and_hides_the_credentials() {
    let client = client();
    let arn = put(
        &client,
        "maestro/good",
        r#"{"bitmex_key":"kid-1234","bitmex_secret":"bitmex-secret-5678","route_secret":"route-secret-abcdefghijkl"}"#,
    )
    .await;

    let secrets = load_from_secrets_manager(&client, &arn)
        .await
        .expect("a valid secret loads");
    assert_eq!(secrets.bitmex_key().expose(), "kid-1234");
    assert_eq!(secrets.bitmex_secret().expose(), "bitmex-secret-5678");
    assert_eq!(
        secrets.route_secret().map(|s| s.expose()),
        Some("route-secret-abcdefghijkl")
    );
    let shown = format!("{secrets:?}");
    for value in [
        "kid-1234",
        "bitmex-secret-5678",
        "route-secret-abcdefghijkl",
    ] {
        assert!(!shown.contains(value), "Debug shows {value}: {shown}");
    }

    // By name works as well as by ARN (the template passes the ARN).
    assert!(
        load_from_secrets_manager(&client, "maestro/good")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_template_placeholder_is_refused_by_field() {
    let client = client();
    // What the template's GenerateSecretString produces before the user fills in the keys.
    let arn = put(
        &client,
        "maestro/fresh",
        r#"{"bitmex_key":"REPLACE_ME","bitmex_secret":"REPLACE_ME","route_secret":"Zx81xq0nE4yJrWq2mB6s3VdK9tLh7PcAa5uGf1oN2eHj4iRk"}"#,
    )
    .await;
    match load_from_secrets_manager(&client, &arn).await {
        Err(SecretsError::Field(e)) => {
            assert_eq!(e.field, "bitmex_key");
            let text = e.to_string();
            assert!(
                text.contains("REPLACE_ME") && text.contains("put-secret-value"),
                "{text}"
            );
            assert!(!text.contains("Zx81xq0nE4"), "{text}");
        }
        other => panic!("expected the placeholder to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn broken_or_absent_secrets_fail_without_showing_their_text() {
    let client = client();
    let arn = put(
        &client,
        "maestro/broken",
        r#"{"bitmex_key":"leaky-key-9999","bitmex_secret": "#,
    )
    .await;
    let err = load_from_secrets_manager(&client, &arn)
        .await
        .expect_err("not JSON");
    assert!(matches!(err, SecretsError::NotJson), "{err:?}");
    assert!(!err.to_string().contains("leaky-key-9999"), "{err}");

    let err = load_from_secrets_manager(&client, "maestro/never-created")
        .await
        .expect_err("absent");
    assert!(matches!(err, SecretsError::Fetch(_)), "{err:?}");
    assert!(err.to_string().contains("ResourceNotFound"), "{err}");
}
