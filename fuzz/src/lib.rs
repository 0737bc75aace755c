//! What the fuzz targets share: an exact reference for decimal-to-tick rounding.

/// A non-negative integer of any size, little-endian 64-bit limbs: enough arithmetic to compare
/// `digits × 10^a` with `m × 10^b` exactly, whatever the sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Big(Vec<u64>);

impl Big {
    /// The value `n`.
    pub fn from_u128(n: u128) -> Self {
        let mut b = Big(vec![n as u64, (n >> 64) as u64]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self × k`.
    pub fn mul(mut self, k: u64) -> Self {
        let mut carry = 0u128;
        for limb in &mut self.0 {
            let v = u128::from(*limb) * u128::from(k) + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry > 0 {
            self.0.push(carry as u64);
        }
        self.trim();
        self
    }

    /// `self × 10^e`.
    pub fn mul_pow10(mut self, e: u32) -> Self {
        for _ in 0..e {
            self = self.mul(10);
        }
        self
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

/// `[+-]digits[.digits]` with at most 30 digits, read independently of the core:
/// (negative, all digits as one integer, fraction digits). `None` for anything else.
pub fn plain_decimal(text: &str) -> Option<(bool, u128, u32)> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let all = [whole, frac].concat();
    if all.is_empty() || all.len() > 30 || !all.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((negative, all.parse().ok()?, frac.len() as u32))
}

/// The exact answer for `digits × 10^-scale` at a tick of `mantissa × 10^-exp`, rounded half up:
/// `Ok(ticks)`, or `Err(true)` for "too large" (more than `max_ticks`), `Err(false)` for "rounds to
/// nothing or below".
pub fn exact_ticks(
    negative: bool,
    digits: u128,
    scale: u32,
    mantissa: u32,
    exp: u32,
    max_ticks: i64,
) -> Result<i64, bool> {
    if negative || digits == 0 {
        return Err(false);
    }
    // ticks = digits·10^exp / (mantissa·10^scale); compare 2·price with odd multiples of a tick.
    let twice_price = Big::from_u128(digits).mul(2).mul_pow10(exp);
    let tick = Big::from_u128(u128::from(mantissa)).mul_pow10(scale);
    let bound = |k: u64| tick.clone().mul(k); // k half-ticks
    if twice_price < bound(1) {
        return Err(false);
    }
    if twice_price >= bound(2 * max_ticks as u64 + 1) {
        return Err(true);
    }
    // Binary search for t with (2t-1)·tick <= 2·price < (2t+1)·tick.
    let (mut lo, mut hi) = (1i64, max_ticks);
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if bound(2 * mid as u64 - 1) <= twice_price {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo)
}
