//! The function's configuration: environment variables read and validated once per cold start into
//! types that cannot hold an invalid value. A bad variable stops the start with a message naming it.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BOTS` | JSON list of bots (see [`BotSpec`]) | one bot `ltc` with [`BotParams::default`] |
//! | `TABLE_NAME` | DynamoDB table | required |
//! | `BITMEX_BASE_URL` | BitMEX REST base | testnet ([`TESTNET_BASE_URL`]) |
//! | `SECRET_ARN` | Secrets Manager secret (JSON) with the credentials | — |
//! | `BITMEX_API_KEY`, `BITMEX_API_SECRET`, `ROUTE_SECRET` | local stand-ins when `SECRET_ARN` is unset | — |
//! | `ROUTE_AUTH` | `iam` (the function URL checks SigV4) or `hmac` (the function checks) | `iam` |
//! | `TICK_MARGIN_MS` | time kept back from the Lambda deadline | 3000 |

use crate::exchange::BinSize;
use crate::params::{BotParams, TradeMode};
use crate::secrets::{Secret, Secrets};
use serde::Deserialize;
use std::time::Duration;

/// BitMEX testnet: the default, so nothing trades real money unless the user says so.
pub const TESTNET_BASE_URL: &str = "https://testnet.bitmex.com/api/v1";

/// The largest SMA window a bot may use: the capacity of the core's ring buffers in the runner.
/// The tick's `Strategy<CAP>` must use this value so a validated bot always fits.
pub const STRATEGY_CAPACITY: usize = 1024;

/// Largest whipsaw-guard value accepted for the bar counts (a year of daily bars is plenty; more is a
/// typo).
const MAX_GUARD_BARS: u32 = 10_000;

/// Largest hysteresis band: 100 %.
const MAX_HYSTERESIS_BP: u32 = 10_000;

/// A bot's settings that cannot be used, naming the setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The symbol is empty, too long or not made of capital letters and digits.
    #[error("symbol {0:?} must be 2 to 20 capital letters or digits (e.g. LTCUSDT)")]
    Symbol(String),
    /// The short window is zero.
    #[error("short_window must be at least 1")]
    ShortWindowZero,
    /// The short window is not below the long one.
    #[error("short_window ({short}) must be below long_window ({long})")]
    WindowsOrder {
        /// Short window.
        short: u32,
        /// Long window.
        long: u32,
    },
    /// The long window exceeds what the runner's core can hold.
    #[error("long_window ({long}) must be at most {max}")]
    LongWindowTooLarge {
        /// Long window.
        long: u32,
        /// The runner's capacity.
        max: usize,
    },
    /// The order size is zero.
    #[error("qty must be greater than 0")]
    QtyZero,
    /// The order size exceeds the position limit.
    #[error("max_position ({max_position}) must be at least qty ({qty})")]
    MaxPositionBelowQty {
        /// Order size.
        qty: u64,
        /// Position limit.
        max_position: u64,
    },
    /// A size too large to be a signed position.
    #[error("max_position ({0}) is too large")]
    MaxPositionTooLarge(u64),
    /// The hysteresis band is above 100 %.
    #[error("guards.hysteresis_bp ({0}) must be at most {MAX_HYSTERESIS_BP}")]
    Hysteresis(u32),
    /// A guard's bar count is absurd.
    #[error("guards.{name} ({value}) must be at most {MAX_GUARD_BARS}")]
    GuardBars {
        /// `confirm_bars` or `min_hold_bars`.
        name: &'static str,
        /// The value given.
        value: u32,
    },
}

/// Checks a bot's settings. The one check used both at start-up and by the `set_params` route, so a
/// setting refused at deployment is refused at run time too.
pub fn validate_params(params: &BotParams) -> Result<(), ParamError> {
    let symbol = params.symbol.as_str();
    let symbol_ok = (2..=20).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !symbol_ok {
        return Err(ParamError::Symbol(symbol.chars().take(40).collect()));
    }
    if params.short_window == 0 {
        return Err(ParamError::ShortWindowZero);
    }
    if params.short_window >= params.long_window {
        return Err(ParamError::WindowsOrder {
            short: params.short_window,
            long: params.long_window,
        });
    }
    if usize::try_from(params.long_window).map_or(true, |long| long > STRATEGY_CAPACITY) {
        return Err(ParamError::LongWindowTooLarge {
            long: params.long_window,
            max: STRATEGY_CAPACITY,
        });
    }
    if params.qty == 0 {
        return Err(ParamError::QtyZero);
    }
    if params.max_position < params.qty {
        return Err(ParamError::MaxPositionBelowQty {
            qty: params.qty,
            max_position: params.max_position,
        });
    }
    if i64::try_from(params.max_position).is_err() {
        return Err(ParamError::MaxPositionTooLarge(params.max_position));
    }
    if params.hysteresis_bp > MAX_HYSTERESIS_BP {
        return Err(ParamError::Hysteresis(params.hysteresis_bp));
    }
    for (name, value) in [
        ("confirm_bars", params.confirm_bars),
        ("min_hold_bars", params.min_hold_bars),
    ] {
        if value > MAX_GUARD_BARS {
            return Err(ParamError::GuardBars { name, value });
        }
    }
    Ok(())
}

/// The whipsaw guards as written in `BOTS` and in `set_params` (all off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuardsSpec {
    /// Hysteresis band in basis points.
    #[serde(default)]
    pub hysteresis_bp: u32,
    /// Closes a new regime must hold.
    #[serde(default)]
    pub confirm_bars: u32,
    /// Minimum candles between flips.
    #[serde(default)]
    pub min_hold_bars: u32,
}

/// A bot's settings as written in JSON (`BOTS`, `set_params`): every field optional; what is absent
/// keeps its current value (at start-up: [`BotParams::default`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsPatch {
    /// Instrument symbol.
    pub symbol: Option<String>,
    /// Candle length (`1m`, `5m`, `1h`, `1d`).
    pub bin: Option<BinSize>,
    /// Short SMA window.
    pub short_window: Option<u32>,
    /// Long SMA window.
    pub long_window: Option<u32>,
    /// `long_short`, `long_only` or `short_only`.
    pub mode: Option<TradeMode>,
    /// Position size in contracts.
    pub qty: Option<u64>,
    /// Position limit in contracts.
    pub max_position: Option<u64>,
    /// Whipsaw guards (given as a whole).
    pub guards: Option<GuardsSpec>,
    /// Record orders without sending them.
    pub dry_run: Option<bool>,
}

impl ParamsPatch {
    /// `base` with this patch's fields replacing its own (not validated).
    pub fn apply(&self, base: &BotParams) -> BotParams {
        let mut p = base.clone();
        if let Some(symbol) = &self.symbol {
            p.symbol.clone_from(symbol);
        }
        if let Some(bin) = self.bin {
            p.bin = bin;
        }
        if let Some(v) = self.short_window {
            p.short_window = v;
        }
        if let Some(v) = self.long_window {
            p.long_window = v;
        }
        if let Some(mode) = self.mode {
            p.mode = mode;
        }
        if let Some(v) = self.qty {
            p.qty = v;
        }
        if let Some(v) = self.max_position {
            p.max_position = v;
        }
        if let Some(g) = self.guards {
            p.hysteresis_bp = g.hysteresis_bp;
            p.confirm_bars = g.confirm_bars;
            p.min_hold_bars = g.min_hold_bars;
        }
        if let Some(v) = self.dry_run {
            p.dry_run = v;
        }
        p
    }
}

/// One entry of `BOTS`: an id and the settings that differ from the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSpec {
    /// Bot id: 1 to 32 of `a-z 0-9 _ -`, starting with a letter or digit.
    pub id: String,
    /// The settings.
    #[serde(flatten)]
    pub params: ParamsPatch,
}

/// A configured bot: a valid id and valid settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotConfig {
    /// Bot id (its record key, `?bot=` of `/status`, `bot` of `/control`).
    pub id: String,
    /// Settings at start-up (the stored record's settings win once `set_params` changed them).
    pub params: BotParams,
}

/// Whether a bot id has the allowed shape (it ends up in storage keys and client order ids).
pub fn valid_bot_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && id.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// How the routes authenticate callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteAuthMode {
    /// The function URL (`AuthType: AWS_IAM`) verified a SigV4 signature before invoking us.
    Iam,
    /// The URL is public (`AuthType: NONE`); the function checks an HMAC signature itself.
    Hmac,
}

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
                id: "ltc".to_owned(),
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
            None => TESTNET_BASE_URL.to_owned(),
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
        if let (RouteAuthMode::Hmac, SecretsSource::Env(s)) = (route_auth, &secrets) {
            if s.route_secret().is_none() {
                return Err(bad(
                    "ROUTE_SECRET",
                    "is required when ROUTE_AUTH=hmac and SECRET_ARN is unset",
                ));
            }
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

        Ok(Config {
            bots,
            table_name,
            bitmex_base_url,
            secrets,
            route_auth,
            tick_margin,
        })
    }

    /// The configured bot with this id.
    pub fn bot(&self, id: &str) -> Option<&BotConfig> {
        self.bots.iter().find(|b| b.id == id)
    }
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
        if !valid_bot_id(&spec.id) {
            return Err(bad(
                "BOTS",
                format!(
                    "bot id {:?} must be 1 to 32 of a-z 0-9 _ - starting with a letter or digit",
                    short(&spec.id)
                ),
            ));
        }
        if bots.iter().any(|b| b.id == spec.id) {
            return Err(bad("BOTS", format!("bot id {:?} appears twice", spec.id)));
        }
        let params = spec.params.apply(&BotParams::default());
        validate_params(&params).map_err(|e| bad("BOTS", format!("bot {:?}: {e}", spec.id)))?;
        bots.push(BotConfig {
            id: spec.id,
            params,
        });
    }
    Ok(bots)
}

/// Validates a BitMEX base URL: https, or http to this machine only (tests and local fakes).
fn parse_base_url(text: &str) -> Result<String, ConfigError> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| {
        bad(
            "BITMEX_BASE_URL",
            format!("{:?} is not a URL: {e}", short(text)),
        )
    })?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(bad(
                "BITMEX_BASE_URL",
                format!(
                    "{:?} must use https (plain http only to 127.0.0.1)",
                    short(text)
                ),
            ));
        }
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "BITMEX_BASE_URL",
            "must name a host and carry no credentials",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "BITMEX_BASE_URL",
            "must not carry a query or a fragment",
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(cfg.bitmex_base_url, TESTNET_BASE_URL);
        assert_eq!(cfg.route_auth, RouteAuthMode::Iam);
        assert_eq!(cfg.bots.len(), 1);
        let p = &cfg.bots[0].params;
        assert_eq!((p.short_window, p.long_window, p.qty), (10, 50, 1000));
        assert_eq!(p.bin, BinSize::D1);
        assert_eq!(cfg.tick_margin, Duration::from_millis(3000));
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
        assert_eq!(a.mode, TradeMode::LongOnly);
        assert_eq!((a.qty, a.max_position), (2000, 4000));
        assert_eq!(
            (a.hysteresis_bp, a.confirm_bars, a.min_hold_bars),
            (25, 2, 3)
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
            (&[("ROUTE_AUTH", "hmac")], "ROUTE_SECRET"),
            (
                &[("ROUTE_AUTH", "hmac"), ("ROUTE_SECRET", "short")],
                "ROUTE_SECRET",
            ),
            (&[("BITMEX_API_KEY", "")], "BITMEX_API_KEY"),
            (&[("BITMEX_API_SECRET", "")], "BITMEX_API_SECRET"),
            (&[("TICK_MARGIN_MS", "5")], "TICK_MARGIN_MS"),
        ];
        for (extra, variable) in cases {
            let err = Config::from_lookup(env(&with(extra)))
                .expect_err(&format!("{extra:?} must be refused"));
            assert_eq!(err.variable, *variable, "{extra:?}: {err}");
            assert!(err.to_string().contains(variable), "{err}");
        }
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

    /// The validation table: each row breaks one rule of an otherwise valid setting.
    #[test]
    fn validate_params_table() {
        type Edit = fn(&mut BotParams);
        let rows: &[(&str, Edit, bool)] = &[
            ("defaults", |_| {}, true),
            ("short 0", |p| p.short_window = 0, false),
            ("short = long", |p| p.short_window = 50, false),
            ("short > long", |p| p.short_window = 60, false),
            (
                "long at capacity",
                |p| p.long_window = STRATEGY_CAPACITY as u32,
                true,
            ),
            (
                "long over capacity",
                |p| p.long_window = STRATEGY_CAPACITY as u32 + 1,
                false,
            ),
            ("qty 0", |p| p.qty = 0, false),
            ("max below qty", |p| p.max_position = 999, false),
            ("max huge", |p| p.max_position = u64::MAX, false),
            ("hysteresis 100%", |p| p.hysteresis_bp = 10_000, true),
            ("hysteresis over 100%", |p| p.hysteresis_bp = 10_001, false),
            ("confirm absurd", |p| p.confirm_bars = 1_000_000, false),
            ("hold absurd", |p| p.min_hold_bars = 1_000_000, false),
            ("symbol empty", |p| p.symbol.clear(), false),
            ("symbol lower", |p| p.symbol = "ltcusdt".into(), false),
            ("symbol path", |p| p.symbol = "LTC/USDT".into(), false),
        ];
        for (name, edit, ok) in rows {
            let mut p = BotParams::default();
            edit(&mut p);
            assert_eq!(
                validate_params(&p).is_ok(),
                *ok,
                "{name}: {:?}",
                validate_params(&p)
            );
        }
    }
}
