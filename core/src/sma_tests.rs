use super::*;

fn naive(series: &[i64], window: usize) -> Option<Mean> {
    (series.len() >= window).then(|| Mean {
        sum: series[series.len() - window..].iter().sum(),
        n: window as u32,
    })
}

#[test]
fn window_must_fit_the_capacity() {
    let cases: &[(usize, bool)] = &[(0, false), (1, true), (4, true), (5, false)];
    for &(window, ok) in cases {
        assert_eq!(
            RollingSma::<4>::new(window).is_ok(),
            ok,
            "window {window} with capacity 4"
        );
    }
    assert_eq!(
        RollingSma::<4>::new(7).err(),
        Some(WindowError {
            window: 7,
            capacity: 4
        })
    );
}

#[test]
fn rolling_sma_matches_the_naive_mean_through_wraps() {
    let series: std::vec::Vec<i64> = (0..40).map(|i| 100 + (i * 37 % 23) as i64).collect();
    for window in 1..=5usize {
        let mut sma = RollingSma::<5>::new(window).unwrap();
        assert!(sma.is_empty() && !sma.is_ready() && sma.mean().is_none());
        for (i, &x) in series.iter().enumerate() {
            let got = sma.push(Price(x));
            assert_eq!(
                got,
                naive(&series[..=i], window),
                "window {window} after {} prices",
                i + 1
            );
            assert_eq!(sma.mean(), got);
            assert_eq!(sma.len(), (i + 1).min(window));
            assert_eq!(sma.window(), window);
            assert!(!sma.is_empty(), "window {window} after a price");
            assert_eq!(
                sma.is_ready(),
                i + 1 >= window,
                "window {window}, {} prices",
                i + 1
            );
        }
        sma.clear();
        assert!(sma.is_empty() && !sma.is_ready());
        assert_eq!(sma.push(Price(7)), naive(&[7], window));
    }
}

#[test]
fn pair_tracks_both_windows_in_one_buffer() {
    let series: std::vec::Vec<i64> = (0..60).map(|i| 1 + (i * 53 % 31) as i64).collect();
    for (short, long) in [(1, 2), (2, 5), (4, 5), (1, 5), (3, 4)] {
        let mut pair = SmaPair::<5>::new(short, long);
        for (i, &x) in series.iter().enumerate() {
            pair.push(x);
            let seen = &series[..=i];
            assert_eq!(
                pair.short_mean(),
                naive(seen, short),
                "short {short}/{long}"
            );
            assert_eq!(pair.long_mean(), naive(seen, long), "long {short}/{long}");
            assert_eq!(pair.last(), Some(x));
            // The short sum is partial while its window fills, as a snapshot stores it.
            let sum = |n: usize| seen[seen.len() - n.min(seen.len())..].iter().sum::<i64>();
            assert_eq!(pair.sums(), (sum(short), sum(long)), "sums {short}/{long}");
            assert_eq!(pair.len(), seen.len().min(long));
            let held: std::vec::Vec<i64> = pair.closes().collect();
            assert_eq!(held, seen[seen.len().saturating_sub(long)..]);
            let rebuilt = SmaPair::<5>::from_closes(short, long, &held).unwrap();
            assert_eq!(rebuilt.means(), pair.means());
        }
    }
}

/// Fills a pair with the first `long` closes of a series, then takes the next `n` for every
/// `n`: once by plain pushes, once through `looped` (given the filled pair, the whole series and
/// `n`; it returns the sums its last push gave, if it pushed). Both pairs must then hold the same
/// head, sums and closes, and go on alike for a whole window more, until every close they held
/// has been evicted.
fn same_as_plain_pushes<const CAP: usize>(
    short: usize,
    long: usize,
    looped: impl Fn(&mut SmaPair<CAP>, &[i64], usize) -> Option<(i64, i64)>,
) {
    let series: std::vec::Vec<i64> = (0..3 * CAP as i64 + 7).map(|i| 1 + i * 37 % 23).collect();
    let (fill, rest) = series.split_at(long);
    for n in 0..=rest.len() {
        let mut plain = SmaPair::<CAP>::from_closes(short, long, fill).unwrap();
        let mut pair = plain.clone();
        let last = looped(&mut pair, &series, n);
        for &x in &rest[..n] {
            plain.push(x);
        }
        let what = format!("CAP {CAP}, {short}/{long}, {n} closes");
        assert_eq!(pair.head, plain.head, "head, {what}");
        assert!(CAP.is_power_of_two() || pair.head < CAP, "{what}");
        assert_eq!(pair.sums(), plain.sums(), "sums, {what}");
        if let Some(sums) = last {
            assert_eq!(sums, plain.sums(), "last push, {what}");
        }
        assert!(pair.closes().eq(plain.closes()), "closes, {what}");
        for x in 0..=long as i64 {
            pair.push(x * 7 % 5 + 1);
            plain.push(x * 7 % 5 + 1);
            let both = [&pair, &plain].map(|p| (p.head, p.sums(), p.last()));
            assert_eq!(both[0], both[1], "{what}, then {x} more");
        }
    }
}

/// The loop's ring (`full_ring`, many pushes, `finish`) leaves the pair exactly as the
/// ordinary push does, head included (for a power-of-two capacity both run it free, and must
/// advance it alike). Stopped at every length, the head comes back from every slot.
#[test]
fn a_full_ring_leaves_the_pair_as_plain_pushes_do() {
    fn check<const CAP: usize>(short: usize, long: usize) {
        same_as_plain_pushes::<CAP>(short, long, |pair, series, n| {
            let mut ring = pair.full_ring();
            let mut last = None;
            for &x in &series[long..long + n] {
                last = Some(ring.push(x));
            }
            ring.finish();
            last
        });
    }
    check::<8>(3, 8);
    check::<8>(2, 5);
    check::<6>(2, 5);
}

/// The batch's loop over a slice keeps the sums itself, from the closes it holds, and writes
/// the closes into the ring at the end.
#[test]
fn closes_recorded_at_the_end_leave_the_pair_as_plain_pushes_do() {
    fn check<const CAP: usize>(short: usize, long: usize) {
        same_as_plain_pushes::<CAP>(short, long, |pair, series, n| {
            let mut ring = pair.full_ring();
            let mut sums = ring.sums();
            // Each close evicts the ones `short` and `long` places before it in the series.
            for j in long..long + n {
                sums.0 += series[j] - series[j - short];
                sums.1 += series[j] - series[j - long];
            }
            ring.set_sums(sums);
            ring.record(series[long..long + n].iter().copied());
            ring.finish();
            None
        });
    }
    check::<8>(3, 8);
    check::<8>(2, 5);
    check::<6>(2, 5);
    check::<6>(1, 6);
}

#[test]
fn empty_pair_has_nothing() {
    let pair = SmaPair::<3>::new(1, 3);
    assert_eq!(pair.last(), None);
    assert_eq!(pair.closes().count(), 0);
    assert_eq!(pair.means(), None);
    assert!(SmaPair::<3>::from_closes(1, 3, &[1, 2, 3, 4]).is_none());
    assert!(SmaPair::<3>::from_closes(2, 2, &[]).is_none());
}

#[test]
fn window_errors_say_what_fits() {
    let e = RollingSma::<4>::new(0).err().unwrap();
    assert_eq!(
        std::string::ToString::to_string(&e),
        "window 0 is outside 1..=4 (the buffer's capacity)"
    );
}

#[test]
fn means_display_in_quote_currency() {
    let cases: &[(Mean, crate::TickSize, f64)] = &[
        (Mean { sum: 301, n: 2 }, crate::TickSize::CENT, 1.505),
        (Mean { sum: 7, n: 7 }, crate::TickSize::CENT, 0.01),
        (
            Mean { sum: 10, n: 4 },
            crate::TickSize::new(5, 1).unwrap(),
            1.25,
        ),
    ];
    for &(m, tick, want) in cases {
        assert!((m.to_f64(tick) - want).abs() < 1e-12, "{m:?} at {tick}");
    }
}
