use super::*;

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn err(text: &str, options: &LoadOptions) -> String {
    match parse(text, options) {
        Ok(series) => panic!("expected an error, loaded {} candles", series.candles.len()),
        Err(e) => e.to_string(),
    }
}

const MIN: i64 = 60_000;
const T0: i64 = 1_621_092_240_000; // 2021-05-15 15:24 UTC

#[test]
fn freqtrade_start_of_bar_becomes_end_of_bucket() {
    let text = format!(
        "[[{T0},316.14,316.32,315.59,315.7,1110.5],\n [{},315.7,316.17,315.37,316.08,920.1]]",
        T0 + MIN
    );
    let s = parse(&text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.format, Format::Freqtrade);
    assert_eq!(s.stamp, Stamp::Start);
    assert_eq!(s.bin_ms, MIN);
    assert_eq!(s.candles.len(), 2);
    assert_eq!(s.candles[0].close_time_ms, T0 + MIN, "start + one bar");
    assert_eq!(s.candles[0].open, Price(31614));
    assert_eq!(s.candles[0].high, Price(31632));
    assert_eq!(s.candles[0].low, Price(31559));
    assert_eq!(s.candles[0].close, Price(31570));
    assert_eq!(s.candles[1].close, Price(31608));
    assert!(s.gaps.is_empty());
}

#[test]
fn bitmex_json_keeps_end_stamps_and_open_outside_range() {
    let text = r#"[
      {"timestamp":"2021-05-15T15:25:00.000Z","symbol":"LTCUSDT","open":316.5,"high":316.32,"low":315.59,"close":315.7,"vwap":null},
      {"timestamp":"2021-05-15T15:26:00.000Z","symbol":"LTCUSDT","open":315.7,"high":316.17,"low":315.37,"close":316.08,"vwap":316}
    ]"#;
    let s = parse(text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.format, Format::BitmexJson);
    assert_eq!(s.stamp, Stamp::End);
    assert_eq!(s.candles[0].close_time_ms, T0 + MIN);
    assert_eq!(
        s.candles[0].open,
        Price(31650),
        "open above high is BitMEX-normal"
    );
}

#[test]
fn csv_iso_and_ms_with_stamp_flag() {
    let text = "timestamp,open,high,low,close,volume\r\n\
                2021-05-15T15:24:00Z,1,2,0.5,1.5,10\r\n\
                1621092300000,1.5,2,1,2,10\r\n";
    let s = parse(text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.format, Format::Csv);
    assert_eq!(s.stamp, Stamp::Start);
    assert_eq!(s.candles[0].close_time_ms, T0 + MIN);
    assert_eq!(s.candles[1].close_time_ms, T0 + 2 * MIN);
    let end = LoadOptions {
        stamp: Some(Stamp::End),
        ..opts()
    };
    let s = parse(text, &end).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.candles[0].close_time_ms, T0,
        "--stamp end keeps the stamp"
    );
}

#[test]
fn csv_with_bitmex_columns_is_end_of_bucket() {
    let text = "timestamp,symbol,open,high,low,close,trades,volume,vwap,lastSize,turnover,homeNotional,foreignNotional\n\
                2020-05-29 00:00:00+00:00,XBTUSD,9509.0,9509.5,9509.0,9509.0,13,1291,9509.5,509.0,1,0.1,1291.0\n\
                2020-05-29 00:01:00+00:00,XBTUSD,9509.0,9525.5,9509.0,9509.5,94,18245,9515.6,92.0,1,1.9,18245.0\n";
    let s = parse(text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.stamp, Stamp::End);
    assert_eq!(s.candles[1].close_time_ms, 1_590_710_460_000);
    assert_eq!(s.candles[1].close, Price(950_950));
}

#[test]
fn gaps_are_listed_not_refused() {
    let text = format!(
        "[[{T0},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0]]",
        T0 + MIN,
        T0 + 5 * MIN,
        T0 + 6 * MIN
    );
    let s = parse(&text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.gaps,
        vec![Gap {
            index: 2,
            last_close_ms: T0 + 2 * MIN,
            next_close_ms: T0 + 6 * MIN,
            missing: 3
        }]
    );
}

#[test]
fn errors_name_the_record_and_what_is_wrong() {
    let cases: &[(String, &str)] = &[
        (
            format!("[[{T0},1,1,1,1,0],\n[{},1,1,2,1,0]]", T0 + MIN),
            "record 2 (line 2, column 1): high 1 is below low 2",
        ),
        (
            format!("[[{T0},1,2,1,3,0]]"),
            "record 1 (line 1, column 2): close 3 lies outside [low 1, high 2]",
        ),
        (
            format!("[[{T0},1,1,1,-1,0]]"),
            "record 1 (line 1, column 2): close \"-1\": price is not positive",
        ),
        (
            format!("[[{T0},1,1,1,1,0],[{T0},1,1,1,1,0]]"),
            "record 2 (line 1, column 28): timestamp 2021-05-15 15:24 is not after",
        ),
        (
            format!("[[{T0},1,1,1],[{T0},1,1,1,1,0]]"),
            "record 1 (line 1, column 2): 4 values",
        ),
        (
            "timestamp,open,high,low,close\n2021-05-15T15:24:00Z,1,1,1,x\n".into(),
            "record 1 (line 2, column 1): close \"x\": price is not a decimal number",
        ),
        (
            "timestamp,open,high,low,close\nnot-a-time,1,1,1,1\n".into(),
            "record 1 (line 2, column 1): timestamp \"not-a-time\" is neither",
        ),
        ("time,o,h,l,c\n".into(), "the CSV header has no open column"),
        (
            "[[1,2,3".into(),
            "malformed freqtrade file: EOF while parsing",
        ),
        ("[]".into(), "the file holds no candles"),
        ("[1,2]".into(), "cannot tell the file's format"),
        (
            r#"[{"timestamp":"2021-05-15T15:24:00Z","open":1,"high":1,"low":1}]"#.into(),
            "record 1 (line 1, column 2): expected an object with timestamp, open, high, low, close (missing field `close`",
        ),
        (
            format!("[[{T0},1,1,1,1,0]]"),
            "a single row does not tell the bar length",
        ),
    ];
    for (text, want) in cases {
        let got = err(text, &opts());
        assert!(
            got.contains(want),
            "for {text:?}\n  got:  {got}\n  want: {want}"
        );
    }
}

#[test]
fn a_named_format_and_bar_length_override_detection() {
    let text = format!("[[{T0},1,1,1,1,0]]");
    let options = LoadOptions {
        format: Some(Format::Freqtrade),
        bin_ms: Some(3_600_000),
        ..opts()
    };
    let s = parse(&text, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.candles[0].close_time_ms, T0 + 3_600_000);
    let wrong = LoadOptions {
        format: Some(Format::Csv),
        ..opts()
    };
    assert!(err(&text, &wrong).contains("CSV header has no timestamp column"));
}

const HOUR: i64 = 3_600_000;
/// 2021-05-15 15:00 UTC, on the hour.
const H0: i64 = 1_621_090_800_000;
/// How far past the hour the real Binance 1h file stamps its stray rows: 28:16.812.
const STRAY: i64 = 28 * MIN + 16_812;

/// Hourly freqtrade rows at `stamps`, close = 100 + i.
fn hourly(stamps: &[i64]) -> String {
    let rows: Vec<String> = stamps
        .iter()
        .enumerate()
        .map(|(i, t)| format!("[{t},{c},{c},{c},{c},1]", c = 100 + i))
        .collect();
    format!("[{}]", rows.join(",\n"))
}

#[test]
fn off_grid_rows_are_skipped_by_default_and_the_bar_is_the_most_common_step() {
    // Rows 3 and 4 sit 28:16.812 past the hour, as 43 rows of the real Binance 1h file do; the
    // smallest step (row 4 to 5, 1,903,188 ms) is no bar length at all.
    let text = hourly(&[
        H0,
        H0 + HOUR,
        H0 + 2 * HOUR + STRAY,
        H0 + 3 * HOUR + STRAY,
        H0 + 4 * HOUR,
        H0 + 5 * HOUR,
        H0 + 6 * HOUR,
    ]);
    let s = parse(&text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.bin_ms, HOUR, "the most common step, not the smallest");
    let closes: Vec<i64> = s.candles.iter().map(|c| c.close.0).collect();
    assert_eq!(
        closes,
        [10000, 10100, 10400, 10500, 10600],
        "rows 3 and 4 left out"
    );
    assert_eq!(
        s.gaps,
        vec![Gap {
            index: 2,
            last_close_ms: H0 + 2 * HOUR,
            next_close_ms: H0 + 5 * HOUR,
            missing: 2
        }],
        "what the skipped rows leave is an ordinary gap"
    );
}

#[test]
fn off_grid_rows_are_located_snapped_or_refused_as_asked() {
    let text = hourly(&[
        H0,
        H0 + HOUR,
        H0 + 2 * HOUR + STRAY,
        H0 + 3 * HOUR + STRAY,
        H0 + 4 * HOUR,
        H0 + 5 * HOUR,
        H0 + 6 * HOUR,
        H0 + 7 * HOUR - 1, // one ms before the bar: snaps forward
        H0 + 8 * HOUR + 2 * HOUR,
    ]);
    // Skip (the default): every stray row is listed with its record, line and stamp.
    let s = parse(&text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<(usize, usize, i64, Option<i64>)> = s
        .off_grid
        .iter()
        .map(|r| (r.at.record, r.at.line, r.stamp_ms, r.snapped_ms))
        .collect();
    assert_eq!(
        listed,
        [
            (3, 3, H0 + 2 * HOUR + STRAY, None),
            (4, 4, H0 + 3 * HOUR + STRAY, None),
            (8, 8, H0 + 7 * HOUR - 1, None)
        ]
    );
    let warning = describe_off_grid(&s.off_grid, s.bin_ms).unwrap_or_default();
    assert!(
        warning.starts_with(
            "3 row(s) off the 1h bar grid skipped (what they leave is a gap): records 3–4 \
             (from line 3, column 1; 2021-05-15 17:28:16.812 → 2021-05-15 18:28:16.812), record 8 \
             (line 8, column 1; 2021-05-15 21:59:59.999) UTC"
        ),
        "{warning}"
    );
    assert_eq!(s.candles.len(), 6);

    // Snap: each moves to the nearest bar; the file then has only its real gap.
    let snap = LoadOptions {
        off_grid: OffGrid::Snap,
        ..opts()
    };
    let s = parse(&text, &snap).unwrap_or_else(|e| panic!("{e}"));
    let snapped: Vec<Option<i64>> = s.off_grid.iter().map(|r| r.snapped_ms).collect();
    assert_eq!(
        snapped,
        [
            Some(H0 + 2 * HOUR),
            Some(H0 + 3 * HOUR),
            Some(H0 + 7 * HOUR)
        ]
    );
    assert_eq!(s.candles.len(), 9);
    assert_eq!(s.candles[2].close_time_ms, H0 + 3 * HOUR, "start + one bar");
    assert_eq!(
        s.candles[2].close,
        Price(10200),
        "the row's prices are kept"
    );
    assert_eq!(s.gaps.len(), 1, "only the real gap: {:?}", s.gaps);
    assert!(
        describe_off_grid(&s.off_grid, s.bin_ms)
            .unwrap_or_default()
            .contains("snapped to the nearest bar")
    );

    // Error: the first stray row is named; nothing loads.
    let refuse = LoadOptions {
        off_grid: OffGrid::Error,
        ..opts()
    };
    let e = err(&text, &refuse);
    assert!(
        e.starts_with(
            "record 3 (line 3, column 1): timestamp 2021-05-15 17:28:16.812 is off the grid of \
             1h bars the other rows keep (1696812 ms past a bar)"
        ),
        "{e}"
    );
    assert!(e.contains("--off-grid skip"), "{e}");
}

#[test]
fn a_snap_onto_a_neighbour_s_bar_is_refused_naming_the_row() {
    // Row 2 is 10 minutes past the bar of row 1; snapping would stack two candles on one bar.
    let text = hourly(&[H0, H0 + 10 * MIN, H0 + HOUR, H0 + 2 * HOUR, H0 + 3 * HOUR]);
    let snap = LoadOptions {
        off_grid: OffGrid::Snap,
        ..opts()
    };
    let e = err(&text, &snap);
    assert!(
        e.starts_with("record 2 (line 2, column 1): timestamp 2021-05-15 15:10 snaps to"),
        "{e}"
    );
    // Row 4 is 50 minutes past: it snaps forward onto row 5's bar.
    let text = hourly(&[
        H0,
        H0 + HOUR,
        H0 + 2 * HOUR,
        H0 + 2 * HOUR + 50 * MIN,
        H0 + 3 * HOUR,
    ]);
    let e = err(&text, &snap);
    assert!(e.starts_with("record 5 (line 5, column 1)"), "{e}");
    // Skipping either file works.
    assert_eq!(parse(&text, &opts()).map(|s| s.candles.len()).ok(), Some(4));
}

#[test]
fn the_bar_is_the_most_common_step_whatever_the_smallest() {
    // Steps 30 s once, 1 min three times: the bar is 1 min; the two rows after the half-minute
    // step are off its grid (most rows fall on whole minutes).
    let text = format!(
        "[[{T0},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0]]",
        T0 + MIN,
        T0 + 2 * MIN,
        T0 + 2 * MIN + 30_000,
        T0 + 3 * MIN + 30_000
    );
    let s = parse(&text, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.bin_ms, MIN);
    let records: Vec<usize> = s.off_grid.iter().map(|r| r.at.record).collect();
    assert_eq!(records, [4, 5]);
}

/// (start or close ms, open, high, low, close) in ticks.
type Bar = (i64, i64, i64, i64, i64);

/// A seeded 1m series as (start ms, open, high, low, close) in ticks, from `start`, with the
/// minutes in `holes` missing.
fn minutes(start: i64, n: usize, holes: &[usize]) -> Vec<Bar> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut price = 30_000i64;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let open = price;
            price = (price + (x % 41) as i64 - 20).max(100);
            let high = open.max(price) + (x >> 8) as i64 % 7;
            let low = open.min(price) - (x >> 16) as i64 % 7;
            (start + MIN * i as i64, open, high, low, price)
        })
        .enumerate()
        .filter(|(i, _)| !holes.contains(i))
        .map(|(_, r)| r)
        .collect()
}

/// The bins of `bin` a plain reading of the rule gives: group the rows by the UTC bin their
/// start falls in, keep the groups with every minute, take first open, max high, min low,
/// last close; stamp the bin's end.
fn by_hand(rows: &[Bar], bin: i64) -> Vec<Bar> {
    let mut groups: std::collections::BTreeMap<i64, Vec<Bar>> = Default::default();
    for &r in rows {
        groups.entry(r.0 - r.0.rem_euclid(bin)).or_default().push(r);
    }
    groups
        .into_iter()
        .filter(|(_, g)| g.len() as i64 == bin / MIN)
        .map(|(start, g)| {
            (
                start + bin,
                g[0].1,
                g.iter().map(|r| r.2).max().unwrap_or(0),
                g.iter().map(|r| r.3).min().unwrap_or(0),
                g[g.len() - 1].4,
            )
        })
        .collect()
}

fn freqtrade_text(rows: &[Bar]) -> String {
    let cells: Vec<String> = rows
        .iter()
        .map(|&(t, o, h, l, c)| format!("[{t},{o}e-2,{h}e-2,{l}e-2,{c}e-2,1]"))
        .collect();
    format!("[{}]", cells.join(","))
}

#[test]
fn minutes_aggregate_to_hours_and_days_as_a_plain_grouping_does() {
    const DAY: i64 = 86_400_000;
    // Starts at 21:17 (partial first hour and day), three days and a bit, minutes missing in one
    // hour of the third day (that hour and that day become gaps).
    let start = 1_621_026_000_000 + 21 * HOUR + 17 * MIN; // 2021-05-14 21:17 UTC
    let rows = minutes(start, 4 * 1440 + 100, &[2940, 2941, 2942]);
    let series = parse(&freqtrade_text(&rows), &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(series.bin_ms, MIN);
    for bin in [HOUR, 4 * HOUR, DAY, 5 * MIN] {
        let (bars, how) = aggregate(&series, bin).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<Bar> = bars
            .candles
            .iter()
            .map(|c| (c.close_time_ms, c.open.0, c.high.0, c.low.0, c.close.0))
            .collect();
        let want = by_hand(&rows, bin);
        assert_eq!(got, want, "bins of {bin} ms");
        assert_eq!(bars.bin_ms, bin);
        assert_eq!(how.bins, want.len());
        assert_eq!(how.incomplete, 1, "the bin with minutes missing, {bin} ms");
        assert_eq!(how.partial_ends, 2, "both ends are partial, {bin} ms");
        // The bin with missing minutes is a gap of exactly one bar.
        assert_eq!(bars.gaps.len(), 1, "{bin} ms: {:?}", bars.gaps);
        assert_eq!(bars.gaps[0].missing, 1);
        assert_eq!(
            bars.gaps[0].next_close_ms - bars.gaps[0].last_close_ms,
            2 * bin
        );
    }
    // The same bar returns the series; finer, or not a multiple, is refused.
    let (same, _) = aggregate(&series, MIN).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(same, series);
    let (hours, _) = aggregate(&series, HOUR).unwrap_or_else(|e| panic!("{e}"));
    let refused = |s: &CandleSeries, bin| aggregate(s, bin).err().map(|e| e.to_string());
    assert_eq!(
        refused(&hours, MIN).as_deref(),
        Some(
            "cannot make 1m bars from a file of 1h bars: --bin must be the file's bar or a \
             multiple of it"
        )
    );
    assert_eq!(
        refused(&hours, 90 * MIN).as_deref(),
        Some("90m is not a whole number of the file's 1h bars")
    );
    // Too little data for one whole day.
    let short = parse(&freqtrade_text(&rows[..600]), &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        refused(&short, DAY).is_some_and(|e| e.contains("no whole 1d bin")),
        "{:?}",
        refused(&short, DAY)
    );
}
