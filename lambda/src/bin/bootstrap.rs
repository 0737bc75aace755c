//! `bootstrap`: the AWS Lambda function (`provided.al2023`). One cold start reads and validates the
//! configuration, reads the credentials, builds the clients, and then serves every invocation with
//! them: the minute schedule runs the tick, function-URL requests go to the routes.

use aws_config::BehaviorVersion;
use lambda_runtime::{LambdaEvent, service_fn};
use maestro_lambda::bitmex::{ApiSecret, BitmexClient, BitmexConfig, Credentials};
use maestro_lambda::config::{Config, RouteAuthMode, SecretsSource};
use maestro_lambda::handler::{Function, TickMetrics};
use maestro_lambda::routes::RouteAuth;
use maestro_lambda::secrets::load_from_secrets_manager;
use maestro_lambda::store::DynamoStore;
use maestro_lambda::tick::AllBots;
use serde_json::Value;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let started = Instant::now();
    let function = match build().await {
        Ok(function) => function,
        Err(e) => {
            // The message names the variable or secret field at fault and never holds a secret.
            tracing::error!(error = %e, "start-up failed");
            return Err(e.into());
        }
    };
    tracing::info!(
        ready_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        bots = function.bots.len(),
        "ready"
    );
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        function.handle(event).await
    }))
    .await
}

/// JSON lines on stdout (CloudWatch keeps one event per line); `RUST_LOG` or the function's
/// `AWS_LAMBDA_LOG_LEVEL` sets the level.
fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(level.to_ascii_lowercase())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_current_span(false)
        .init();
}

/// Everything a start-up can fail on; its text names what to fix and holds no secret.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Config(#[from] maestro_lambda::config::ConfigError),
    #[error(transparent)]
    Secrets(#[from] maestro_lambda::secrets::SecretsError),
    #[error("the secret has no route_secret, but ROUTE_AUTH=hmac needs one")]
    NoRouteSecret,
    #[error("BitMEX client: {0}")]
    Exchange(#[from] maestro_lambda::exchange::ExchangeError),
}

type Live = Function<BitmexClient, DynamoStore, AllBots<BitmexClient, DynamoStore>>;

async fn build() -> Result<Live, StartError> {
    let config = Config::from_env()?;
    // One SDK configuration (region, credentials, endpoints) for both clients: loading it is the
    // slow part of a cold start.
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;

    let secrets = match &config.secrets {
        SecretsSource::SecretsManager { arn } => {
            let client = aws_sdk_secretsmanager::Client::new(&sdk);
            load_from_secrets_manager(&client, arn).await?
        }
        SecretsSource::Env(secrets) => secrets.clone(),
    };
    let auth = match config.route_auth {
        RouteAuthMode::Iam => RouteAuth::Iam,
        RouteAuthMode::Hmac => RouteAuth::Hmac(
            secrets
                .route_secret()
                .cloned()
                .ok_or(StartError::NoRouteSecret)?,
        ),
    };

    let store = DynamoStore::from_sdk_config(&sdk, config.table_name.clone());

    let exchange = BitmexClient::new(
        BitmexConfig {
            base_url: config.bitmex_base_url.clone(),
            ..BitmexConfig::default()
        },
        Credentials::new(
            secrets.bitmex_key().expose(),
            ApiSecret::new(secrets.bitmex_secret().expose()),
        ),
    )?;

    // The tick and the routes share the connection pools: both copies are cheap handles.
    let tick = AllBots::new(exchange.clone(), store.clone(), config.bots.clone());
    Ok(Function {
        exchange,
        store,
        tick,
        bots: config.bots,
        limits: config.limits,
        auth,
        tick_margin: config.tick_margin,
        role: config.role,
        metrics: TickMetrics::stdout(config.metrics_namespace),
    })
}
