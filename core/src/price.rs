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
        if digits <= 0 {
            return Err(PriceError::NotPositive);
        }
        // price / tick = digits * 10^-scale / (mantissa * 10^-exp); only the difference of the
        // exponents matters, and cancelling it first keeps both sides as small as they can be.
        let mantissa = i128::from(tick.mantissa);
        if scale <= tick.exp {
            // digits * 10^(exp - scale) / mantissa. Too big for i128 means more than
            // 2^127 / 2^32 ticks: far above MAX_TICKS.
            let num = digits
                .checked_mul(pow10(tick.exp - scale))
                .ok_or(PriceError::TooLarge)?;
            Self::from_ratio(num, mantissa)
        } else {
            // digits / (mantissa * 10^(scale - exp)). Too big for i128 means a price below
            // 10^30 / 2^127 ticks (digits has at most 30 digits): it rounds to zero.
            let den = mantissa
                .checked_mul(pow10(scale - tick.exp))
                .ok_or(PriceError::NotPositive)?;
            Self::from_ratio(digits, den)
        }
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
        // Adding 0.5 and truncating rounds a positive value half up without libm. `as` saturates,
        // so a value beyond i64 (even an infinite quotient) becomes i64::MAX, refused as too large.
        Self::checked((ticks + 0.5) as i64)
    }

    /// `num / den` for positive `num` and `den`, rounded to the nearest integer (halves up),
    /// then range-checked. `num + den / 2` could overflow; the remainder cannot.
    fn from_ratio(num: i128, den: i128) -> Result<Self, PriceError> {
        let (q, r) = (num / den, num % den);
        // r < den, so `den - r` is positive and `r >= den - r` is `2r >= den` without overflow.
        let rounded = if r >= den - r { q + 1 } else { q };
        i64::try_from(rounded).map_or(Err(PriceError::TooLarge), Self::checked)
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
///
/// Deserialising checks the same rules as [`TickSize::new`]: the conversions rely on a positive
/// mantissa and an exponent of at most 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTickSize")]
pub struct TickSize {
    mantissa: u32,
    exp: u8,
}

/// A tick size as stored, before [`TickSize::new`] has checked it.
#[derive(Deserialize)]
struct RawTickSize {
    mantissa: u32,
    exp: u8,
}

impl TryFrom<RawTickSize> for TickSize {
    type Error = PriceError;

    fn try_from(raw: RawTickSize) -> Result<Self, PriceError> {
        Self::new(raw.mantissa, raw.exp)
    }
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
        // Only a value that would round to a mantissa of u32::MAX needs refusing up front. NaN,
        // zero and negative values never pass the loop's test (or reach a mantissa of 0, which
        // `new` refuses), and an infinity only matches as a mantissa too large for u32.
        if value > f64::from(u32::MAX) {
            return Err(PriceError::BadTickSize);
        }
        for exp in 0..=MAX_TICK_EXP {
            let scaled = value * pow10_f64(exp);
            let nearest = (scaled + 0.5) as u64;
            if (scaled - nearest as f64).abs() <= scaled * 1e-9 {
                let mantissa = u32::try_from(nearest).map_err(|_| PriceError::BadTickSize)?;
                return Self::new(mantissa, exp);
            }
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

/// `10^exp`; `exp` is at most 30 (a parsed decimal's scale or a tick's exponent), far below
/// i128's 38 digits, so the power itself never overflows.
fn pow10(exp: u8) -> i128 {
    10i128.pow(u32::from(exp))
}

fn pow10_f64(exp: u8) -> f64 {
    let mut p = 1.0;
    for _ in 0..exp {
        p *= 10.0;
    }
    p
}

#[cfg(test)]
#[path = "price_tests.rs"]
mod tests;
