//! The function's configuration: environment variables read and validated once per cold start into
//! types that cannot hold an invalid value. A bad variable stops the start with a message naming it.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BOTS` | JSON list of bots (see [`BotSpec`]) | one bot `ltc` with [`BotParams::default`] |
//! | `TABLE_NAME` | DynamoDB table | required |
//! | `BITMEX_BASE_URL` | BitMEX REST base | testnet ([`TESTNET_URL`]) |
//! | `SECRET_ARN` | Secrets Manager secret (JSON) with the credentials | — |
//! | `BITMEX_API_KEY`, `BITMEX_API_SECRET`, `ROUTE_SECRET` | local stand-ins when `SECRET_ARN` is unset | — |
//! | `ROUTE_AUTH` | `iam` (the function URL checks SigV4) or `hmac` (the function checks) | `iam` |
//! | `TICK_MARGIN_MS` | time kept back from the Lambda deadline | 3000 |
//! | `FUNCTION_ROLE` | `tick` (scheduled events only), `routes` (function URL only) or `both` | `both` |
//! | `METRICS_NAMESPACE` | CloudWatch namespace of the tick's embedded metrics | `CryptoMaestro` |
//! | `POSITION_CAP` | largest `max_position` (contracts) that `BOTS` or `set_params` may set | the largest in `BOTS` |
//! | `ALLOW_LIVE_TRADING` | `true`: bots may trade live; `false`: every bot stays in dry run | `true` if a bot in `BOTS` starts live |

mod bots;

pub use bots::{BotConfig, BotParamsError, DeployLimits, validate_params};
pub(crate) use bots::{BotSpec, ParamsPatch};

// Testnet is the default, so nothing trades real money unless the user says so.
use crate::bitmex::{TESTNET_URL, check_base_url};
use crate::bot_id::BotId;
use crate::params::BotParams;
use crate::secrets::{Secret, Secrets};
use std::time::Duration;

/// How the routes authenticate callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteAuthMode {
    /// The function URL (`AuthType: AWS_IAM`) verified a SigV4 signature before invoking us.
    Iam,
    /// The URL is public (`AuthType: NONE`); the function checks an HMAC signature itself.
    Hmac,
}

/// Which events a deployed function serves. The template deploys the tick and the routes as two
/// functions of one binary, so a flood of route calls cannot take the tick's concurrency; each
/// refuses the other's events. `Both` is one process serving everything (local emulators).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionRole {
    /// The minute schedule only.
    Tick,
    /// Function-URL requests only.
    Routes,
    /// Both kinds.
    Both,
}

impl FunctionRole {
    /// The value of `FUNCTION_ROLE` that selects it.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionRole::Tick => "tick",
            FunctionRole::Routes => "routes",
            FunctionRole::Both => "both",
        }
    }

    /// Whether it runs scheduled ticks.
    pub fn ticks(self) -> bool {
        matches!(self, FunctionRole::Tick | FunctionRole::Both)
    }

    /// Whether it answers function-URL requests.
    pub fn serves_routes(self) -> bool {
        matches!(self, FunctionRole::Routes | FunctionRole::Both)
    }
}

/// The CloudWatch namespace of the tick's metrics when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_METRICS_NAMESPACE: &str = "CryptoMaestro";

/// Where the credentials come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretsSource {
    /// One Secrets Manager secret (JSON) read once per cold start.
    SecretsManager {
        /// Its ARN or name.
        arn: String,
    },
    /// Environment variables (local runs).
    Env(Secrets),
}

/// A configuration that could not be used, naming the variable at fault. Never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The function's validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The bots, ids unique, settings valid.
    pub bots: Vec<BotConfig>,
    /// DynamoDB table.
    pub table_name: String,
    /// BitMEX REST base URL, without a trailing slash.
    pub bitmex_base_url: String,
    /// Where the credentials come from.
    pub secrets: SecretsSource,
    /// How routes authenticate.
    pub route_auth: RouteAuthMode,
    /// Time kept back from the Lambda deadline when budgeting a tick.
    pub tick_margin: Duration,
    /// Which events this function serves.
    pub role: FunctionRole,
    /// CloudWatch namespace of the tick's embedded metrics.
    pub metrics_namespace: String,
    /// What no bot's settings may go past (`BOTS` at start, `set_params` at run time).
    pub limits: DeployLimits,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map instead of mutating the process
    /// environment). An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let bots = match get("BOTS") {
            Some(text) => parse_bots(&text)?,
            None => vec![BotConfig {
                id: BotId::new("ltc").map_err(|e| bad("BOTS", e.to_string()))?,
                params: BotParams::default(),
            }],
        };

        let table_name = get("TABLE_NAME").ok_or_else(|| bad("TABLE_NAME", "is not set"))?;
        let table_ok = (3..=255).contains(&table_name.len())
            && table_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !table_ok {
            return Err(bad(
                "TABLE_NAME",
                "must be 3 to 255 of a-z A-Z 0-9 _ - . (a DynamoDB table name)",
            ));
        }

        let bitmex_base_url = match get("BITMEX_BASE_URL") {
            Some(text) => parse_base_url(&text)?,
            None => TESTNET_URL.to_owned(),
        };

        let route_auth = match get("ROUTE_AUTH").as_deref().map(str::trim) {
            None | Some("iam") => RouteAuthMode::Iam,
            Some("hmac") => RouteAuthMode::Hmac,
            Some(other) => {
                return Err(bad(
                    "ROUTE_AUTH",
                    format!("{:?} is neither \"iam\" nor \"hmac\"", short(other)),
                ));
            }
        };

        let secrets = match get("SECRET_ARN") {
            Some(arn) => SecretsSource::SecretsManager {
                arn: arn.trim().to_owned(),
            },
            None => {
                let key =
                    get("BITMEX_API_KEY").ok_or_else(|| bad("BITMEX_API_KEY", NO_SECRET_SOURCE))?;
                let secret = get("BITMEX_API_SECRET")
                    .ok_or_else(|| bad("BITMEX_API_SECRET", NO_SECRET_SOURCE))?;
                let route = get("ROUTE_SECRET");
                let secrets = Secrets::new(
                    Secret::new(key),
                    Secret::new(secret),
                    route.map(Secret::new),
                )
                .map_err(|e| bad(env_name_of(e.field), e.problem))?;
                SecretsSource::Env(secrets)
            }
        };
        if let (RouteAuthMode::Hmac, SecretsSource::Env(s)) = (route_auth, &secrets)
            && s.route_secret().is_none()
        {
            return Err(bad(
                "ROUTE_SECRET",
                "is required when ROUTE_AUTH=hmac and SECRET_ARN is unset",
            ));
        }

        let tick_margin = match get("TICK_MARGIN_MS") {
            Some(text) => match text.trim().parse::<u64>() {
                Ok(ms) if (100..=30_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(bad(
                        "TICK_MARGIN_MS",
                        format!(
                            "{:?} is not a number of milliseconds in 100..=30000",
                            short(&text)
                        ),
                    ));
                }
            },
            None => Duration::from_millis(3000),
        };

        let role = match get("FUNCTION_ROLE").as_deref().map(str::trim) {
            None | Some("both") => FunctionRole::Both,
            Some("tick") => FunctionRole::Tick,
            Some("routes") => FunctionRole::Routes,
            Some(other) => {
                return Err(bad(
                    "FUNCTION_ROLE",
                    format!("{:?} is not \"tick\", \"routes\" or \"both\"", short(other)),
                ));
            }
        };

        let metrics_namespace = match get("METRICS_NAMESPACE") {
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
            Some(text) => {
                let text = text.trim();
                // CloudWatch's own rule; "AWS/" is reserved for AWS's namespaces.
                let ok = (1..=255).contains(&text.len())
                    && !text.starts_with("AWS/")
                    && text.bytes().all(|b| {
                        b.is_ascii_alphanumeric()
                            || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#' | b':' | b' ')
                    });
                if !ok {
                    return Err(bad(
                        "METRICS_NAMESPACE",
                        "must be 1 to 255 of a-z A-Z 0-9 . - _ / # : and space, not starting with AWS/",
                    ));
                }
                text.to_owned()
            }
        };
        let limits = parse_limits(&get, &bots)?;

        Ok(Config {
            bots,
            table_name,
            bitmex_base_url,
            secrets,
            route_auth,
            tick_margin,
            role,
            metrics_namespace,
            limits,
        })
    }

    /// The configured bot with this id.
    pub fn bot(&self, id: &str) -> Option<&BotConfig> {
        self.bots.iter().find(|b| b.id == id)
    }
}

/// Reads `POSITION_CAP` and `ALLOW_LIVE_TRADING` (unset: what `bots` start with) and checks every
/// bot against them.
fn parse_limits(
    get: &impl Fn(&str) -> Option<String>,
    bots: &[BotConfig],
) -> Result<DeployLimits, ConfigError> {
    let mut limits = DeployLimits::of_bots(bots);
    if let Some(text) = get("POSITION_CAP") {
        limits.position_cap = match text.trim().parse::<i64>() {
            Ok(cap) if cap >= 1 => cap.unsigned_abs(),
            _ => {
                return Err(bad(
                    "POSITION_CAP",
                    format!(
                        "{:?} is not a whole number of contracts from 1 to {}",
                        short(&text),
                        i64::MAX
                    ),
                ));
            }
        };
    }
    if let Some(text) = get("ALLOW_LIVE_TRADING") {
        limits.live_allowed = match text.trim() {
            "true" => true,
            "false" => false,
            other => {
                return Err(bad(
                    "ALLOW_LIVE_TRADING",
                    format!("{:?} is neither \"true\" nor \"false\"", short(other)),
                ));
            }
        };
    }
    for bot in bots {
        limits
            .check(&bot.params)
            .map_err(|e| bad("BOTS", format!("bot {}: {e}", bot.id)))?;
    }
    Ok(limits)
}

const NO_SECRET_SOURCE: &str =
    "is not set, and neither is SECRET_ARN (one of them must supply the BitMEX credentials)";

fn env_name_of(field: &str) -> &'static str {
    match field {
        "bitmex_key" => "BITMEX_API_KEY",
        "bitmex_secret" => "BITMEX_API_SECRET",
        _ => "ROUTE_SECRET",
    }
}

/// At most 60 characters of an outside value, for error messages.
fn short(text: &str) -> String {
    text.chars().take(60).collect()
}

/// Parses and validates `BOTS`.
pub fn parse_bots(text: &str) -> Result<Vec<BotConfig>, ConfigError> {
    let specs: Vec<BotSpec> =
        serde_json::from_str(text).map_err(|e| bad("BOTS", format!("is not a valid list: {e}")))?;
    if specs.is_empty() {
        return Err(bad("BOTS", "lists no bot"));
    }
    let mut bots: Vec<BotConfig> = Vec::with_capacity(specs.len());
    for spec in specs {
        let id = BotId::new(spec.id.as_str()).map_err(|e| bad("BOTS", e.to_string()))?;
        if bots.iter().any(|b| b.id == id) {
            return Err(bad("BOTS", format!("bot id {:?} appears twice", spec.id)));
        }
        let params = spec.params.apply(&BotParams::default());
        validate_params(&params).map_err(|e| bad("BOTS", format!("bot {:?}: {e}", spec.id)))?;
        // Every bot of a deployment trades on one account, and each steers the account's whole
        // position on its symbol towards its own target: two live bots on one symbol would trade
        // against each other every minute. Dry-run bots hold a simulated position of their own.
        if let Some(other) = live_rival(&bots, &params) {
            return Err(bad(
                "BOTS",
                format!(
                    "bots {:?} and {:?} both trade {} live: one live bot per symbol (they share \
                     the account's position)",
                    other.id.as_str(),
                    spec.id,
                    short(&params.symbol)
                ),
            ));
        }
        bots.push(BotConfig { id, params });
    }
    Ok(bots)
}

/// A bot other than the one `params` belong to that trades the same symbol live, when both are
/// live: the account has one position per symbol, so only one bot may steer it.
pub(crate) fn live_rival<'a>(bots: &'a [BotConfig], params: &BotParams) -> Option<&'a BotConfig> {
    if params.dry_run {
        return None;
    }
    bots.iter()
        .find(|b| !b.params.dry_run && b.params.symbol == params.symbol)
}

/// Validates `BITMEX_BASE_URL` with the client's own check ([`check_base_url`]: https, or http to
/// this machine only); the error names the variable. `maestro run --live` checks it with this too.
pub fn parse_base_url(text: &str) -> Result<String, ConfigError> {
    check_base_url(text).map_err(|e| bad("BITMEX_BASE_URL", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::BinSize;
    use maestro_core::{Guards, Mode};
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("TABLE_NAME", "maestro-test"),
        ("BITMEX_API_KEY", "key-abc"),
        ("BITMEX_API_SECRET", "secret-abc"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = BASE
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        all.extend_from_slice(extra);
        all
    }

    #[test]
    fn defaults_are_testnet_one_lot_daily_10_50_iam() {
        let cfg = Config::from_lookup(env(BASE)).expect("valid");
        assert_eq!(cfg.bitmex_base_url, TESTNET_URL);
        assert_eq!(cfg.route_auth, RouteAuthMode::Iam);
        assert_eq!(cfg.bots.len(), 1);
        let p = &cfg.bots[0].params;
        assert_eq!((p.short_window, p.long_window, p.qty), (10, 50, 1000));
        assert_eq!(p.bin, BinSize::D1);
        assert_eq!(cfg.tick_margin, Duration::from_millis(3000));
        assert_eq!(cfg.role, FunctionRole::Both);
        assert_eq!(cfg.metrics_namespace, DEFAULT_METRICS_NAMESPACE);
    }

    #[test]
    fn function_role_and_metrics_namespace() {
        for (text, role) in [
            ("tick", FunctionRole::Tick),
            ("routes", FunctionRole::Routes),
            (" both ", FunctionRole::Both),
        ] {
            let cfg = Config::from_lookup(env(&with(&[("FUNCTION_ROLE", text)]))).expect(text);
            assert_eq!(cfg.role, role, "{text}");
            assert_eq!(role.as_str(), text.trim());
        }
        assert!(FunctionRole::Tick.ticks() && !FunctionRole::Tick.serves_routes());
        assert!(!FunctionRole::Routes.ticks() && FunctionRole::Routes.serves_routes());
        assert!(FunctionRole::Both.ticks() && FunctionRole::Both.serves_routes());
        let cfg = Config::from_lookup(env(&with(&[(
            "METRICS_NAMESPACE",
            "CryptoMaestro/my-stack",
        )])))
        .expect("valid namespace");
        assert_eq!(cfg.metrics_namespace, "CryptoMaestro/my-stack");
    }

    #[test]
    fn bots_json_maps_onto_params() {
        let bots = r#"[{"id":"a","symbol":"XBTUSDT","bin":"1h","short_window":5,"long_window":20,
            "mode":"long_only","qty":2000,"max_position":4000,
            "guards":{"hysteresis_bp":25,"confirm_bars":2,"min_hold_bars":3},"dry_run":true},
            {"id":"b"}]"#;
        let cfg = Config::from_lookup(env(&with(&[("BOTS", bots)]))).expect("valid");
        let a = &cfg.bots[0].params;
        assert_eq!(a.symbol, "XBTUSDT");
        assert_eq!(a.bin, BinSize::H1);
        assert_eq!((a.short_window, a.long_window), (5, 20));
        assert_eq!(a.mode, Mode::LongOnly);
        assert_eq!((a.qty, a.max_position), (2000, 4000));
        assert_eq!(
            a.guards,
            Guards {
                hysteresis_bp: 25,
                confirm_bars: 2,
                min_hold_bars: 3
            }
        );
        assert!(a.dry_run);
        assert_eq!(cfg.bots[1].params, BotParams::default());
    }

    /// Each bad variable fails the start with its own name in the message.
    #[test]
    fn every_bad_variable_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("TABLE_NAME", "")], "TABLE_NAME"),
            (&[("TABLE_NAME", "a b")], "TABLE_NAME"),
            (&[("BOTS", "{")], "BOTS"),
            (&[("BOTS", "[]")], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","short_window":0}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","short_window":50}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","long_window":5000}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","qty":0}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","qty":2000}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","bin":"2m"}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a","windows":3}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"A"}]"#)], "BOTS"),
            (&[("BOTS", r#"[{"id":"a"},{"id":"a"}]"#)], "BOTS"),
            (
                &[("BITMEX_BASE_URL", "http://www.bitmex.com/api/v1")],
                "BITMEX_BASE_URL",
            ),
            (&[("BITMEX_BASE_URL", "not a url")], "BITMEX_BASE_URL"),
            (&[("ROUTE_AUTH", "none")], "ROUTE_AUTH"),
            (&[("FUNCTION_ROLE", "all")], "FUNCTION_ROLE"),
            (&[("METRICS_NAMESPACE", "AWS/Lambda")], "METRICS_NAMESPACE"),
            (&[("METRICS_NAMESPACE", "a{b}")], "METRICS_NAMESPACE"),
            (&[("ROUTE_AUTH", "hmac")], "ROUTE_SECRET"),
            (
                &[("ROUTE_AUTH", "hmac"), ("ROUTE_SECRET", "short")],
                "ROUTE_SECRET",
            ),
            (&[("BITMEX_API_KEY", "")], "BITMEX_API_KEY"),
            (&[("BITMEX_API_SECRET", "")], "BITMEX_API_SECRET"),
            (&[("TICK_MARGIN_MS", "5")], "TICK_MARGIN_MS"),
            (&[("POSITION_CAP", "0")], "POSITION_CAP"),
            (&[("POSITION_CAP", "-5")], "POSITION_CAP"),
            (&[("POSITION_CAP", "9223372036854775808")], "POSITION_CAP"),
            (&[("POSITION_CAP", "1e3")], "POSITION_CAP"),
            (&[("ALLOW_LIVE_TRADING", "yes")], "ALLOW_LIVE_TRADING"),
            // The default bot trades 1000 contracts live.
            (&[("POSITION_CAP", "999")], "BOTS"),
            (&[("ALLOW_LIVE_TRADING", "false")], "BOTS"),
        ];
        for (extra, variable) in cases {
            let err = Config::from_lookup(env(&with(extra)))
                .expect_err(&format!("{extra:?} must be refused"));
            assert_eq!(err.variable, *variable, "{extra:?}: {err}");
            assert!(err.to_string().contains(variable), "{err}");
        }
    }

    #[test]
    fn deploy_limits_come_from_their_variables_or_the_bots() {
        let cfg = Config::from_lookup(env(BASE)).expect("valid");
        assert_eq!(
            cfg.limits,
            DeployLimits {
                position_cap: 1000,
                live_allowed: true
            }
        );
        let paper = r#"[{"id":"a","dry_run":true,"max_position":3000}]"#;
        let cfg = Config::from_lookup(env(&with(&[
            ("BOTS", paper),
            ("POSITION_CAP", " 5000 "),
            ("ALLOW_LIVE_TRADING", "false"),
        ])))
        .expect("valid");
        assert_eq!(
            cfg.limits,
            DeployLimits {
                position_cap: 5000,
                live_allowed: false
            }
        );
        let cfg = Config::from_lookup(env(&with(&[("BOTS", paper)]))).expect("valid");
        assert_eq!(
            cfg.limits,
            DeployLimits {
                position_cap: 3000,
                live_allowed: false
            }
        );
    }

    #[test]
    fn mainnet_only_when_set_and_local_http_allowed() {
        let cfg = Config::from_lookup(env(&with(&[(
            "BITMEX_BASE_URL",
            "https://www.bitmex.com/api/v1/",
        )])))
        .expect("valid");
        assert_eq!(cfg.bitmex_base_url, "https://www.bitmex.com/api/v1");
        let cfg = Config::from_lookup(env(&with(&[(
            "BITMEX_BASE_URL",
            "http://127.0.0.1:4567/api/v1",
        )])))
        .expect("valid");
        assert_eq!(cfg.bitmex_base_url, "http://127.0.0.1:4567/api/v1");
    }

    #[test]
    fn secret_arn_wins_and_errors_never_show_secrets() {
        let cfg = Config::from_lookup(env(&with(&[("SECRET_ARN", "arn:aws:secretsmanager:x")])))
            .expect("valid");
        assert!(matches!(cfg.secrets, SecretsSource::SecretsManager { .. }));
        let debug = format!(
            "{:?}",
            Config::from_lookup(env(BASE)).expect("valid").secrets
        );
        assert!(
            !debug.contains("secret-abc") && !debug.contains("key-abc"),
            "{debug}"
        );
        let err = Config::from_lookup(env(&with(&[
            ("ROUTE_AUTH", "hmac"),
            ("ROUTE_SECRET", "tooshort-XYZ"),
        ])))
        .expect_err("short route secret");
        assert!(!err.to_string().contains("tooshort-XYZ"), "{err}");
    }
}
