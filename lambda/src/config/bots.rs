//! A bot's settings: their JSON shape (`BOTS`, `set_params`) and the one validation both go through.

use crate::bot_id::BotId;
use crate::exchange::BinSize;
use crate::params::{BotParams, guards_json, mode_json};
use maestro_core::crossover::MAX_HYSTERESIS_BP;
use maestro_core::{Guards, Mode};
use serde::Deserialize;

/// The largest window a bot may use: the live strategy's ring-buffer capacity.
use crate::params::LIVE_CAPACITY;

/// Largest whipsaw-guard value accepted for the bar counts (a year of daily bars is plenty; more is a
/// typo).
const MAX_GUARD_BARS: u32 = 10_000;

/// A bot's settings that cannot be used, naming the setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BotParamsError {
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
    /// A size above the deployment's position cap.
    #[error("{name} ({value}) is above the deployment's position cap ({cap})")]
    OverCap {
        /// `qty` or `max_position`.
        name: &'static str,
        /// The value given.
        value: u64,
        /// The cap.
        cap: u64,
    },
    /// Trading live while the deployment does not allow it.
    #[error("live trading (dry_run false) is not allowed by this deployment")]
    LiveNotAllowed,
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
pub fn validate_params(params: &BotParams) -> Result<(), BotParamsError> {
    let symbol = params.symbol.as_str();
    let symbol_ok = (2..=20).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !symbol_ok {
        return Err(BotParamsError::Symbol(symbol.chars().take(40).collect()));
    }
    if params.short_window == 0 {
        return Err(BotParamsError::ShortWindowZero);
    }
    if params.short_window >= params.long_window {
        return Err(BotParamsError::WindowsOrder {
            short: params.short_window,
            long: params.long_window,
        });
    }
    if usize::try_from(params.long_window).map_or(true, |long| long > LIVE_CAPACITY) {
        return Err(BotParamsError::LongWindowTooLarge {
            long: params.long_window,
            max: LIVE_CAPACITY,
        });
    }
    if params.qty == 0 {
        return Err(BotParamsError::QtyZero);
    }
    if params.max_position < params.qty {
        return Err(BotParamsError::MaxPositionBelowQty {
            qty: params.qty,
            max_position: params.max_position,
        });
    }
    if i64::try_from(params.max_position).is_err() {
        return Err(BotParamsError::MaxPositionTooLarge(params.max_position));
    }
    if params.guards.hysteresis_bp > MAX_HYSTERESIS_BP {
        return Err(BotParamsError::Hysteresis(params.guards.hysteresis_bp));
    }
    for (name, value) in [
        ("confirm_bars", params.guards.confirm_bars),
        ("min_hold_bars", params.guards.min_hold_bars),
    ] {
        if value > MAX_GUARD_BARS {
            return Err(BotParamsError::GuardBars { name, value });
        }
    }
    Ok(())
}

/// What a deployment allows whatever its bots' settings say: fixed when it is deployed (template
/// parameters, or `maestro run --live`'s options), so neither `BOTS` nor an authenticated
/// `set_params` can go past them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeployLimits {
    /// Largest `max_position` (and so `qty`) any bot may have, in contracts.
    pub position_cap: u64,
    /// Whether a bot may trade live (`dry_run` false); without it every bot stays in dry run.
    pub live_allowed: bool,
}

impl DeployLimits {
    /// The limits that allow exactly what `bots` start with: the largest `max_position` among
    /// them, and live trading if one of them starts live.
    pub fn of_bots(bots: &[BotConfig]) -> Self {
        DeployLimits {
            position_cap: bots
                .iter()
                .map(|b| b.params.max_position)
                .max()
                .unwrap_or(0),
            live_allowed: bots.iter().any(|b| !b.params.dry_run),
        }
    }

    /// Checks `params` against the limits (after [`validate_params`]).
    pub fn check(&self, params: &BotParams) -> Result<(), BotParamsError> {
        for (name, value) in [("qty", params.qty), ("max_position", params.max_position)] {
            if value > self.position_cap {
                return Err(BotParamsError::OverCap {
                    name,
                    value,
                    cap: self.position_cap,
                });
            }
        }
        if !params.dry_run && !self.live_allowed {
            return Err(BotParamsError::LiveNotAllowed);
        }
        Ok(())
    }
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
    #[serde(default, deserialize_with = "mode_json::option::deserialize")]
    pub mode: Option<Mode>,
    /// Position size in contracts.
    pub qty: Option<u64>,
    /// Position limit in contracts.
    pub max_position: Option<u64>,
    /// Whipsaw guards (given as a whole).
    #[serde(default, deserialize_with = "guards_json::option::deserialize")]
    pub guards: Option<Guards>,
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
            p.guards = g;
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
    pub id: BotId,
    /// Settings at start-up (the stored record's settings win once `set_params` changed them).
    pub params: BotParams,
}

#[cfg(test)]
mod tests {
    use super::*;

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
                |p| p.long_window = LIVE_CAPACITY as u32,
                true,
            ),
            (
                "long over capacity",
                |p| p.long_window = LIVE_CAPACITY as u32 + 1,
                false,
            ),
            ("qty 0", |p| p.qty = 0, false),
            ("max below qty", |p| p.max_position = 999, false),
            ("max huge", |p| p.max_position = u64::MAX, false),
            ("hysteresis 100%", |p| p.guards.hysteresis_bp = 10_000, true),
            (
                "hysteresis over 100%",
                |p| p.guards.hysteresis_bp = 10_001,
                false,
            ),
            (
                "confirm absurd",
                |p| p.guards.confirm_bars = 1_000_000,
                false,
            ),
            ("hold absurd", |p| p.guards.min_hold_bars = 1_000_000, false),
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

    /// Each row: limits, an edit of the default settings (1000 of 1000, live), and the answer.
    #[test]
    fn deploy_limits_table() {
        type Edit = fn(&mut BotParams);
        let open = DeployLimits {
            position_cap: 1000,
            live_allowed: true,
        };
        let paper_only = DeployLimits {
            live_allowed: false,
            ..open
        };
        let rows: &[(&str, DeployLimits, Edit, Option<BotParamsError>)] = &[
            ("at the cap", open, |_| {}, None),
            (
                "max over the cap",
                open,
                |p| p.max_position = 1001,
                Some(BotParamsError::OverCap {
                    name: "max_position",
                    value: 1001,
                    cap: 1000,
                }),
            ),
            (
                "qty over the cap",
                open,
                |p| {
                    p.qty = 2000;
                    p.max_position = 2000;
                },
                Some(BotParamsError::OverCap {
                    name: "qty",
                    value: 2000,
                    cap: 1000,
                }),
            ),
            (
                "largest size",
                open,
                |p| p.max_position = i64::MAX as u64,
                Some(BotParamsError::OverCap {
                    name: "max_position",
                    value: i64::MAX as u64,
                    cap: 1000,
                }),
            ),
            ("live allowed", open, |_| {}, None),
            (
                "live refused",
                paper_only,
                |_| {},
                Some(BotParamsError::LiveNotAllowed),
            ),
            ("dry run always", paper_only, |p| p.dry_run = true, None),
        ];
        for (name, limits, edit, want) in rows {
            let mut p = BotParams::default();
            edit(&mut p);
            assert_eq!(limits.check(&p).err(), *want, "{name}");
        }
    }

    #[test]
    fn unset_limits_allow_what_the_bots_start_with() {
        let bot = |id: &str, max_position: u64, dry_run: bool| BotConfig {
            id: BotId::new(id).expect("id"),
            params: BotParams {
                max_position,
                dry_run,
                ..BotParams::default()
            },
        };
        assert_eq!(
            DeployLimits::of_bots(&[bot("a", 1000, true), bot("b", 3000, true)]),
            DeployLimits {
                position_cap: 3000,
                live_allowed: false
            }
        );
        assert_eq!(
            DeployLimits::of_bots(&[bot("a", 1000, true), bot("b", 1000, false)]),
            DeployLimits {
                position_cap: 1000,
                live_allowed: true
            }
        );
    }
}
