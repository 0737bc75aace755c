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
            format!(
                "[[{T0},1,1,1,1,0],[{},1,1,1,1,0],[{},1,1,1,1,0]]",
                T0 + MIN,
                T0 + 150_000
            ),
            "record 3 (line 1, column 54): timestamp 2021-05-15 15:26:30 is 90000 ms after",
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
