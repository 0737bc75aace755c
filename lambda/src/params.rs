//! A bot's settings as the runner stores and validates them (the core's `Params` are built from these
//! plus the instrument's lot size), and their JSON shape: the core's own [`Mode`] and [`Guards`],
//! written as traders write them (`"mode": "long_only"`, a `guards` object whose missing fields
//! are off).

use crate::exchange::BinSize;
use maestro_core::{Guards, Mode};
use serde::{Deserialize, Serialize};

/// One bot's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotParams {
    /// Instrument symbol (`LTCUSDT`).
    pub symbol: String,
    /// Candle bucket length.
    pub bin: BinSize,
    /// Short SMA window in candles.
    pub short_window: u32,
    /// Long SMA window in candles.
    pub long_window: u32,
    /// Positions allowed.
    #[serde(with = "mode_json")]
    pub mode: Mode,
    /// Position size in contracts when in the market (a multiple of the lot size).
    pub qty: u64,
    /// Largest absolute position the bot may ever hold, in contracts.
    pub max_position: u64,
    /// Whipsaw guards (all off by default).
    #[serde(default, with = "guards_json")]
    pub guards: Guards,
    /// Compute and record orders without sending them.
    #[serde(default)]
    pub dry_run: bool,
}

impl Default for BotParams {
    /// The original script's settings: LTCUSDT daily candles, windows 10/50, one lot, long-short.
    fn default() -> Self {
        BotParams {
            symbol: "LTCUSDT".to_owned(),
            bin: BinSize::D1,
            short_window: 10,
            long_window: 50,
            mode: Mode::LongShort,
            qty: 1000,
            max_position: 1000,
            guards: Guards::default(),
            dry_run: false,
        }
    }
}

/// Ring-buffer capacity of the live strategy: the largest window a bot may use.
pub const LIVE_CAPACITY: usize = 1024;

/// The strategy the runner keeps per bot.
pub type LiveStrategy = maestro_core::Strategy<LIVE_CAPACITY>;

impl BotParams {
    /// The core's parameters for these settings on an instrument with `lot_size` (not yet validated:
    /// `Strategy::new` does that).
    pub fn core_params(&self, lot_size: u64) -> maestro_core::Params {
        maestro_core::Params {
            short_window: self.short_window,
            long_window: self.long_window,
            mode: self.mode,
            qty: self.qty,
            lot_size,
            max_position: self.max_position,
            bin_ms: self.bin.millis(),
            guards: self.guards,
        }
    }
}

/// The runner's name of a mode: the snake_case words of `BOTS`, `set_params` and `/status`.
pub const fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::LongShort => "long_short",
        Mode::LongOnly => "long_only",
        Mode::ShortOnly => "short_only",
    }
}

/// The core's [`Mode`] in the runner's JSON: `"long_short"`, `"long_only"`, `"short_only"`.
pub(crate) mod mode_json {
    use maestro_core::Mode;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The JSON words, one per mode.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Name {
        LongShort,
        LongOnly,
        ShortOnly,
    }

    impl From<Mode> for Name {
        fn from(mode: Mode) -> Self {
            match mode {
                Mode::LongShort => Name::LongShort,
                Mode::LongOnly => Name::LongOnly,
                Mode::ShortOnly => Name::ShortOnly,
            }
        }
    }

    impl From<Name> for Mode {
        fn from(name: Name) -> Self {
            match name {
                Name::LongShort => Mode::LongShort,
                Name::LongOnly => Mode::LongOnly,
                Name::ShortOnly => Mode::ShortOnly,
            }
        }
    }

    /// Writes a mode as its word.
    pub fn serialize<S: Serializer>(mode: &Mode, ser: S) -> Result<S::Ok, S::Error> {
        Name::from(*mode).serialize(ser)
    }

    /// Reads a mode from its word.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Mode, D::Error> {
        Name::deserialize(de).map(Mode::from)
    }

    /// The same for an optional mode (a `set_params` patch), read only.
    pub mod option {
        use super::Name;
        use maestro_core::Mode;
        use serde::{Deserialize, Deserializer};

        /// Reads an optional mode from its word or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Mode>, D::Error> {
            Option::<Name>::deserialize(de).map(|n| n.map(Mode::from))
        }
    }
}

/// The core's [`Guards`] in the runner's JSON: an object of `hysteresis_bp`, `confirm_bars` and
/// `min_hold_bars`, where a missing field is off (0) and an unknown one is refused. Traders write
/// partial objects; the core's own decoder (for snapshots) wants all three.
pub(crate) mod guards_json {
    use maestro_core::Guards;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The partial object as written.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        #[serde(default)]
        hysteresis_bp: u32,
        #[serde(default)]
        confirm_bars: u32,
        #[serde(default)]
        min_hold_bars: u32,
    }

    impl From<Partial> for Guards {
        fn from(p: Partial) -> Self {
            Guards {
                hysteresis_bp: p.hysteresis_bp,
                confirm_bars: p.confirm_bars,
                min_hold_bars: p.min_hold_bars,
            }
        }
    }

    /// Writes all three fields.
    pub fn serialize<S: Serializer>(guards: &Guards, ser: S) -> Result<S::Ok, S::Error> {
        guards.serialize(ser)
    }

    /// Reads a partial object; missing fields are 0.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Guards, D::Error> {
        Partial::deserialize(de).map(Guards::from)
    }

    /// The same for optional guards (a `set_params` patch), read only.
    pub mod option {
        use super::Partial;
        use maestro_core::Guards;
        use serde::{Deserialize, Deserializer};

        /// Reads a partial object or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Guards>, D::Error> {
            Option::<Partial>::deserialize(de).map(|p| p.map(Guards::from))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_guards_keep_the_traders_json() {
        let json = r#"{"symbol":"LTCUSDT","bin":"1m","short_window":5,"long_window":20,
            "mode":"short_only","qty":1000,"max_position":2000,"guards":{"confirm_bars":3}}"#;
        let p: BotParams = serde_json::from_str(json).expect("the traders' shape");
        assert_eq!(p.mode, Mode::ShortOnly);
        assert_eq!(
            p.guards,
            Guards {
                hysteresis_bp: 0,
                confirm_bars: 3,
                min_hold_bars: 0
            }
        );
        let out = serde_json::to_value(&p).expect("JSON");
        assert_eq!(out["mode"], "short_only");
        assert_eq!(
            out["guards"],
            serde_json::json!({"hysteresis_bp":0,"confirm_bars":3,"min_hold_bars":0})
        );
        for (mode, word) in [
            (Mode::LongShort, "long_short"),
            (Mode::LongOnly, "long_only"),
            (Mode::ShortOnly, "short_only"),
        ] {
            assert_eq!(mode_name(mode), word);
            let q = BotParams { mode, ..p.clone() };
            assert_eq!(serde_json::to_value(&q).expect("JSON")["mode"], word);
        }
        let bad = json.replace("confirm_bars", "confirm");
        assert!(
            serde_json::from_str::<BotParams>(&bad).is_err(),
            "unknown guard"
        );
        let bad = json.replace("short_only", "ShortOnly");
        assert!(
            serde_json::from_str::<BotParams>(&bad).is_err(),
            "core's own word"
        );
    }
}
