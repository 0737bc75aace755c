//! What `maestro backtest` prints for the small things a trader trips over: every signal listed,
//! a window longer than the data, a missing file.

use std::process::{Command, Output};

fn maestro(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(args)
        .output()
        .expect("maestro runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A CSV of `n` one-minute candles whose closes swing in a slow wave (so a 3/8 crossover flips
/// several times).
fn wave_csv(dir: &std::path::Path, n: usize) -> String {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let close = 100.0 + 5.0 * ((i as f64) / 6.0).sin();
        let minute = 1_700_000_040 + 60 * i as i64;
        let t = time_text(minute);
        csv.push_str(&format!(
            "{t},{close:.2},{:.2},{:.2},{close:.2},1\n",
            close + 0.1,
            close - 0.1
        ));
    }
    let path = dir.join("wave.csv");
    std::fs::write(&path, csv).expect("write");
    path.to_string_lossy().into_owned()
}

/// RFC 3339 of a whole minute in UNIX seconds (UTC), from the CLI's own date formatting.
fn time_text(s: i64) -> String {
    let text = maestro_cli::candles_file::stamp::format_utc(s * 1000);
    format!("{}:00Z", text.replace(' ', "T"))
}

#[test]
fn every_signal_is_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = wave_csv(dir.path(), 200);
    let out = maestro(&[
        "backtest",
        &file,
        "--short",
        "3",
        "--long",
        "8",
        "--list-signals",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("signals ("))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    let counted = stdout
        .lines()
        .find_map(|l| l.split("signals").next().filter(|_| l.contains(" signals")))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(listed.len() >= 4, "the wave flips several times:\n{stdout}");
    assert!(
        counted.contains(&listed.len().to_string()),
        "the summary's signal count ({counted:?}) equals the lines listed ({})\n{stdout}",
        listed.len()
    );
    assert!(!stdout.contains("warning"), "{stdout}");
}

#[test]
fn a_window_longer_than_the_data_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = wave_csv(dir.path(), 30);
    let out = maestro(&["backtest", &file, "--short", "10", "--long", "50"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("warning: --long 50 is longer than the 30 candles"),
        "{stdout}"
    );
}

#[test]
fn a_missing_file_says_so_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.json");
    let missing = missing.to_string_lossy();
    let out = maestro(&["backtest", &missing]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert_eq!(all.matches(&*missing).count(), 1, "{all}");
    assert!(all.contains("No such file"), "{all}");
    assert!(
        !all.contains("--format"),
        "no format hint for a missing file: {all}"
    );
}
