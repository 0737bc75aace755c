//! Exact prices: integer ticks of the instrument, converted from decimal text or `f64` once, at the edge.

use core::fmt;
use serde::{Deserialize, Serialize};

/// The largest price the core accepts, in ticks (10^12: 10 billion at a 0.01 tick).
///
/// Bounding prices keeps every running sum inside `i64` for windows up to [`MAX_WINDOW`]
/// (`MAX_TICKS * MAX_WINDOW < i64::MAX`) and every cross product inside `i128`.
pub const MAX_TICKS: i64 = 1_000_000_000_000;

/// The largest window (and ring-buffer capacity) the core supports.
pub const MAX_WINDOW: usize = 1 << 20;

/// A price in integer ticks of the instrument (LTCUSDT: 1 tick = 0.01 USDT).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Price(pub i64);

impl Price {
    /// The number of ticks.
    pub const fn ticks(self) -> i64 {
        self.0
    }

    /// Parses decimal text (`"123.456"`, optionally with a leading `+`) and rounds it to the nearest
    /// tick (halves away from zero). Exact: no floating point is involved.
    ///
    /// ```
    /// use maestro_core::{Price, TickSize};
    /// let tick = TickSize::new(1, 2).unwrap(); // 0.01
    /// assert_eq!(Price::from_decimal("71.235", tick), Ok(Price(7124)));
    /// assert!(Price::from_decimal("-1", tick).is_err());
    /// ```
    pub fn from_decimal(text: &str, tick: TickSize) -> Result<Self, PriceError> {
        let (digits, scale) = parse_decimal(text)?;
        // price / tick = digits * 10^-scale / (mantissa * 10^-exp)
        //              = digits * 10^exp / (mantissa * 10^scale)
        let num = digits
            .checked_mul(pow10(tick.exp)?)
            .ok_or(PriceError::TooLarge)?;
        let den = i128::from(tick.mantissa)
            .checked_mul(pow10(scale)?)
            .ok_or(PriceError::TooLarge)?;
        Self::from_ratio(num, den)
    }

    /// Converts a floating-point price (as JSON numbers arrive) to the nearest tick.
    ///
    /// ```
    /// use maestro_core::{Price, TickSize};
    /// let tick = TickSize::new(1, 2).unwrap();
    /// assert_eq!(Price::from_f64(123.45, tick), Ok(Price(12345)));
    /// assert!(Price::from_f64(f64::NAN, tick).is_err());
    /// ```
    pub fn from_f64(value: f64, tick: TickSize) -> Result<Self, PriceError> {
        if !value.is_finite() {
            return Err(PriceError::NotFinite);
        }
        if value <= 0.0 {
            return Err(PriceError::NotPositive);
        }
        let ticks = value * pow10_f64(tick.exp) / f64::from(tick.mantissa);
        if ticks > MAX_TICKS as f64 + 0.5 {
            return Err(PriceError::TooLarge);
        }
        // `ticks` is within (0, 1e12]: adding 0.5 and truncating rounds half up without libm.
        let rounded = (ticks + 0.5) as i64;
        Self::checked(rounded)
    }

    /// `num / den` rounded to the nearest integer (halves away from zero), then range-checked.
    fn from_ratio(num: i128, den: i128) -> Result<Self, PriceError> {
        if num <= 0 || den <= 0 {
            return Err(PriceError::NotPositive);
        }
        let rounded = (num + den / 2) / den;
        if rounded > i128::from(MAX_TICKS) {
            return Err(PriceError::TooLarge);
        }
        Self::checked(rounded as i64)
    }

    fn checked(ticks: i64) -> Result<Self, PriceError> {
        if ticks <= 0 {
            // A positive price smaller than half a tick rounds to zero: not a tradable price.
            Err(PriceError::NotPositive)
        } else if ticks > MAX_TICKS {
            Err(PriceError::TooLarge)
        } else {
            Ok(Price(ticks))
        }
    }

    /// The price as `f64` in quote currency, for display and charts only (never for decisions).
    pub fn to_f64(self, tick: TickSize) -> f64 {
        self.0 as f64 * f64::from(tick.mantissa) / pow10_f64(tick.exp)
    }
}

/// The instrument's tick size as an exact decimal: `mantissa × 10^-exp` (0.01 = `(1, 2)`,
/// 0.5 = `(5, 1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TickSize {
    mantissa: u32,
    exp: u8,
}

/// The largest decimal exponent a tick size may have (1e-12).
const MAX_TICK_EXP: u8 = 12;

impl TickSize {
    /// LTCUSDT's tick: 0.01.
    pub const CENT: TickSize = TickSize {
        mantissa: 1,
        exp: 2,
    };

    /// A tick of `mantissa × 10^-exp`; `mantissa` must be positive and `exp` at most 12.
    pub const fn new(mantissa: u32, exp: u8) -> Result<Self, PriceError> {
        if mantissa == 0 || exp > MAX_TICK_EXP {
            Err(PriceError::BadTickSize)
        } else {
            Ok(TickSize { mantissa, exp })
        }
    }

    /// The mantissa (`5` for 0.5).
    pub const fn mantissa(self) -> u32 {
        self.mantissa
    }

    /// The decimal exponent (`1` for 0.5).
    pub const fn exp(self) -> u8 {
        self.exp
    }

    /// Parses a tick size written as decimal text (`"0.01"`).
    ///
    /// ```
    /// use maestro_core::TickSize;
    /// assert_eq!(TickSize::from_decimal("0.5"), TickSize::new(5, 1));
    /// ```
    pub fn from_decimal(text: &str) -> Result<Self, PriceError> {
        let (mut digits, mut scale) = parse_decimal(text).map_err(|_| PriceError::BadTickSize)?;
        if digits <= 0 {
            return Err(PriceError::BadTickSize);
        }
        // Normalise "0.010" to (1, 2).
        while scale > 0 && digits % 10 == 0 {
            digits /= 10;
            scale -= 1;
        }
        let mantissa = u32::try_from(digits).map_err(|_| PriceError::BadTickSize)?;
        Self::new(mantissa, scale)
    }

    /// Recovers the decimal tick size a floating-point number stands for (`0.01` from JSON).
    ///
    /// ```
    /// use maestro_core::TickSize;
    /// assert_eq!(TickSize::from_f64(0.01), Ok(TickSize::CENT));
    /// ```
    pub fn from_f64(value: f64) -> Result<Self, PriceError> {
        if !value.is_finite() || value <= 0.0 || value > f64::from(u32::MAX) {
            return Err(PriceError::BadTickSize);
        }
        let mut exp = 0u8;
        while exp <= MAX_TICK_EXP {
            let scaled = value * pow10_f64(exp);
            let nearest = (scaled + 0.5) as u64;
            if nearest > 0 && (scaled - nearest as f64).abs() <= scaled * 1e-9 {
                let mantissa = u32::try_from(nearest).map_err(|_| PriceError::BadTickSize)?;
                return Self::new(mantissa, exp);
            }
            exp += 1;
        }
        Err(PriceError::BadTickSize)
    }
}

impl fmt::Display for TickSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(u32::from(self.exp));
        let whole = u64::from(self.mantissa) / scale;
        let frac = u64::from(self.mantissa) % scale;
        if self.exp == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{frac:0width$}", width = usize::from(self.exp))
        }
    }
}

/// Why a price or tick size was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceError {
    /// NaN or infinite.
    NotFinite,
    /// Zero, negative, or smaller than half a tick.
    NotPositive,
    /// Above [`MAX_TICKS`] or too many digits to hold.
    TooLarge,
    /// Not a decimal number.
    Malformed,
    /// A tick size that is zero, negative or finer than 1e-12.
    BadTickSize,
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PriceError::NotFinite => "price is not a finite number",
            PriceError::NotPositive => "price is not positive",
            PriceError::TooLarge => "price is too large",
            PriceError::Malformed => "price is not a decimal number",
            PriceError::BadTickSize => "tick size must be a positive decimal no finer than 1e-12",
        })
    }
}

impl core::error::Error for PriceError {}

/// Parses `[+-]digits[.digits]` into (signed integer of all digits, number of fraction digits).
fn parse_decimal(text: &str) -> Result<(i128, u8), PriceError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut value: i128 = 0;
    let mut scale: u8 = 0;
    let mut seen_dot = false;
    let mut digits = 0u32;
    for &b in rest {
        match b {
            b'.' if !seen_dot => seen_dot = true,
            b'0'..=b'9' => {
                digits += 1;
                if digits > 30 {
                    return Err(PriceError::TooLarge);
                }
                value = value * 10 + i128::from(b - b'0');
                if seen_dot {
                    scale += 1;
                }
            }
            _ => return Err(PriceError::Malformed),
        }
    }
    if digits == 0 {
        return Err(PriceError::Malformed);
    }
    Ok((if negative { -value } else { value }, scale))
}

fn pow10(exp: u8) -> Result<i128, PriceError> {
    10i128
        .checked_pow(u32::from(exp))
        .ok_or(PriceError::TooLarge)
}

fn pow10_f64(exp: u8) -> f64 {
    let mut p = 1.0;
    for _ in 0..exp {
        p *= 10.0;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENT: TickSize = TickSize::CENT;
    const HALF: TickSize = TickSize {
        mantissa: 5,
        exp: 1,
    };

    #[test]
    fn decimal_text_rounds_to_nearest_tick() {
        let cases: &[(&str, TickSize, Result<Price, PriceError>)] = &[
            ("71.23", CENT, Ok(Price(7123))),
            ("71.234", CENT, Ok(Price(7123))),
            ("71.235", CENT, Ok(Price(7124))),
            ("+71", CENT, Ok(Price(7100))),
            ("0.004", CENT, Err(PriceError::NotPositive)),
            ("0.005", CENT, Ok(Price(1))),
            ("9750.25", HALF, Ok(Price(19501))),
            ("9750.24", HALF, Ok(Price(19500))),
            ("0", CENT, Err(PriceError::NotPositive)),
            ("-3", CENT, Err(PriceError::NotPositive)),
            ("", CENT, Err(PriceError::Malformed)),
            (".", CENT, Err(PriceError::Malformed)),
            ("1.2.3", CENT, Err(PriceError::Malformed)),
            ("1e5", CENT, Err(PriceError::Malformed)),
            ("10000000000.01", CENT, Err(PriceError::TooLarge)),
            ("10000000000.00", CENT, Ok(Price(MAX_TICKS))),
            (
                "1234567890123456789012345678901",
                CENT,
                Err(PriceError::TooLarge),
            ),
        ];
        for (text, tick, want) in cases {
            assert_eq!(
                Price::from_decimal(text, *tick),
                *want,
                "parsing {text:?} at {tick}"
            );
        }
    }

    #[test]
    fn floats_round_to_nearest_tick_and_reject_junk() {
        let cases: &[(f64, Result<Price, PriceError>)] = &[
            (123.45, Ok(Price(12345))),
            (0.1 + 0.2, Ok(Price(30))),
            (f64::NAN, Err(PriceError::NotFinite)),
            (f64::INFINITY, Err(PriceError::NotFinite)),
            (-1.0, Err(PriceError::NotPositive)),
            (0.0, Err(PriceError::NotPositive)),
            (1e300, Err(PriceError::TooLarge)),
        ];
        for (value, want) in cases {
            assert_eq!(Price::from_f64(*value, CENT), *want, "converting {value}");
        }
    }

    #[test]
    fn tick_sizes_parse_from_text_and_float() {
        assert_eq!(TickSize::from_decimal("0.01"), Ok(CENT));
        assert_eq!(TickSize::from_decimal("0.010"), Ok(CENT));
        assert_eq!(TickSize::from_decimal("0"), Err(PriceError::BadTickSize));
        assert_eq!(TickSize::from_f64(0.5), Ok(HALF));
        assert_eq!(TickSize::from_f64(0.01), Ok(CENT));
        assert_eq!(TickSize::from_f64(1.0), TickSize::new(1, 0));
        assert_eq!(TickSize::from_f64(-0.01), Err(PriceError::BadTickSize));
        assert_eq!(std::format!("{}", TickSize::CENT), "0.01");
        assert_eq!(std::format!("{HALF}"), "0.5");
    }

    #[test]
    fn display_price_as_float_is_for_humans_only() {
        assert!((Price(12345).to_f64(CENT) - 123.45).abs() < 1e-9);
    }
}
