//! Integer helpers that keep soft-division routines out of Cortex-M builds.

/// Shift-and-subtract division, for the few places that divide 64-bit numbers (validation, order
/// sizing, the gap count): none is hot, and the compiler's 64-bit division would link a large soft
/// routine into Cortex-M builds.
/// The loop counter goes through `black_box` so that the optimiser keeps one small loop instead of
/// unrolling it (unrolled, it tripled the error path's flash size on Cortex-M).
#[inline(never)]
pub(crate) fn div_rem(n: u64, d: u64) -> (u64, u64) {
    if d == 0 {
        return (0, n);
    }
    let (mut q, mut r) = (0u64, 0u64);
    let mut i = u64::BITS - n.leading_zeros();
    while i > 0 {
        i = core::hint::black_box(i) - 1;
        r = (r << 1) | ((n >> i) & 1);
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
    }
    (q, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_helper_matches_the_hardware() {
        let cases: &[(u64, u64)] = &[
            (0, 1),
            (7, 7),
            (1_000_000, 60_000),
            (u64::MAX, 60_000),
            (u64::MAX, 1),
            (5, (1 << 63) - 1),
            (u64::MAX, (1 << 63) - 1),
        ];
        for &(n, d) in cases {
            assert_eq!(div_rem(n, d), (n / d, n % d), "{n} / {d}");
        }
        assert_eq!(div_rem(5, 0), (0, 5));
    }
}
