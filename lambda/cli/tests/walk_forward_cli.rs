//! `maestro sweep --walk-forward` end to end: the fold table, the out-of-sample total next to
//! the in-sample best, the CSV and chart files, and the refusals.

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

/// A CSV of `n` one-minute candles: a slow wave with a faster ripple, so pairs differ.
fn wave_csv(dir: &std::path::Path, n: usize) -> String {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for i in 0..n {
        let x = i as f64;
        let close = 100.0 + 5.0 * (x / 17.0).sin() + 1.5 * (x / 4.0).sin();
        let t =
            maestro_cli::candles_file::stamp::format_utc((1_700_000_040 + 60 * i as i64) * 1000);
        csv.push_str(&format!(
            "{}:00Z,{close:.2},{:.2},{:.2},{close:.2},1\n",
            t.replace(' ', "T"),
            close + 0.1,
            close - 0.1
        ));
    }
    let path = dir.join("wave.csv");
    std::fs::write(&path, csv).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn walk_forward_prints_folds_and_writes_its_csv_and_chart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = wave_csv(dir.path(), 1000);
    let csv = dir.path().join("folds.csv");
    let svg = dir.path().join("wf.svg");
    let (csv_s, svg_s) = (csv.to_string_lossy(), svg.to_string_lossy());
    // 4h of training, 2h of test on 1m bars: (1000 - 240) / 120 = 6 folds.
    let out = maestro(&[
        "sweep",
        &file,
        "--short",
        "2..6",
        "--long",
        "8..30",
        "--walk-forward",
        "4h:2h",
        "--wf-guards",
        "--wf-top",
        "2",
        "--wf-csv",
        &csv_s,
        "--wf-chart",
        &svg_s,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("walk-forward: 6 folds of 240 training + 120 test bars (step 120)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("12 combinations × best 2 pairs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("out-of-sample (folds end to end, 720 candles)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("in-sample best of the whole series"),
        "{stdout}"
    );
    let rows = std::fs::read_to_string(&csv).expect("csv written");
    assert_eq!(
        rows.lines().count(),
        7,
        "header and one row per fold:\n{rows}"
    );
    assert!(rows.starts_with("fold,train_first,train_last,test_first,test_last,short,long"));
    let chart = std::fs::read_to_string(&svg).expect("chart written");
    assert!(
        chart.starts_with("<svg") && chart.contains("out-of-sample"),
        "an SVG chart"
    );
}

#[test]
fn walk_forward_refusals_are_usage_errors_that_say_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = wave_csv(dir.path(), 300);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--walk-forward", "250:100"],
            "one fold needs 250 training + 100 test = 350 bars, but the series has 300",
        ),
        (
            &["--walk-forward", "20:10"],
            "must be longer than the longest long window (30)",
        ),
        (&["--walk-forward", "90s:10"], "is not a window length"),
        (&["--walk-forward", "200"], "write TRAIN:TEST"),
        (&["--walk-forward", "1d:2h"], "one fold needs 1440 training"),
        (
            &[
                "--walk-forward",
                "200:50",
                "--wf-guards",
                "--hysteresis-bp",
                "5",
            ],
            "--wf-guards chooses the guards",
        ),
        (
            &["--walk-forward", "200:50", "--wf-chart", "x.png"],
            "give a path ending in .svg",
        ),
        (&["--folds", "2"], "--walk-forward"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["sweep", file.as_str(), "--short", "2..6", "--long", "8..30"];
        args.extend_from_slice(extra);
        let out = maestro(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
        assert!(
            text(&out).contains(want),
            "{extra:?}: expected {want:?} in\n{}",
            text(&out)
        );
    }
}
