//! `maestro fetch` against the fake BitMEX: a whole download, an interrupted one continued, a
//! half-written last line repaired. The refusals are in `fetch_errors.rs`.

use maestro_cli::fetch::{
    FetchError, FetchOptions, FetchSummary, HEADER, NoProgress, Position, Progress, RequestRate,
    fetch_history, iso,
};
use maestro_lambda::exchange::{BinSize, ExchangeError};
use maestro_tests::fake_bitmex::parse_time;
use maestro_tests::fake_bitmex::{Bar, FakeBitmex, Fault, FaultRule};
use maestro_tests::market::FakeMarket;
use maestro_tests::scratch::scratch_dir;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

const SYMBOL: &str = "LTCUSDT";
const MIN: i64 = 60_000;
const PAGE: usize = 200;

/// Prices whose shortest decimal spelling is long (e.g. 100.07000000000001): a float round trip
/// with too few digits would change them.
fn price(i: usize) -> f64 {
    100.0 + ((i * 37) % 101) as f64 * 0.07 + 0.001 * (i % 3) as f64
}

/// Options for the buckets `bars[0..=last]` into `path`, at a pace that keeps tests fast.
fn options(fake: &FakeBitmex, bars: &[Bar], last: usize, path: &Path) -> FetchOptions {
    let mut opts = FetchOptions::new(
        SYMBOL,
        BinSize::M1,
        bars[0].close_time_ms - MIN,
        bars[last].close_time_ms,
        path,
    );
    opts.base_url = fake.base_url();
    opts.page_size = PAGE;
    opts.rate = RequestRate::new(1000, Duration::from_secs(1)).expect("rate");
    opts
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("output file readable")
}

/// Compares two CSV texts line by line, reporting the first difference (not 100 kB of text).
fn assert_same_lines(got: &str, want: &str, what: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{what}: line {} differs", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{what}: line counts differ"
    );
    assert!(got == want, "{what}: same lines but different line ends");
}

/// The CSV lines the served JSON stands for, read straight from the fake's API with plain HTTP:
/// every column, numbers spelled as in the JSON text (raw: serde_json's own float parsing may be
/// one unit in the last place off), `null` as an empty field.
async fn served_csv(fake: &FakeBitmex, from_ms: i64, to_ms: i64) -> String {
    let columns: Vec<&str> = HEADER.split(',').collect();
    let mut csv = format!("{HEADER}\n");
    let mut after = from_ms;
    loop {
        let url = format!(
            "{}/trade/bucketed?binSize=1m&partial=false&symbol={SYMBOL}&count=1000&startTime={}&endTime={}",
            fake.base_url(),
            iso(after + 1),
            iso(to_ms)
        );
        let body = reqwest::get(&url)
            .await
            .expect("fake answers")
            .text()
            .await
            .expect("body");
        let rows: Vec<BTreeMap<String, &RawValue>> =
            serde_json::from_str(&body).expect("JSON rows");
        let Some(last) = rows.last() else { break };
        let stamp: String = serde_json::from_str(last["timestamp"].get()).expect("timestamp");
        after = parse_time(&stamp).expect("time");
        for row in &rows {
            let fields: Vec<String> = columns
                .iter()
                .map(|c| match row.get(*c).map(|v| v.get()) {
                    None | Some("null") => String::new(),
                    Some(text) if text.starts_with('"') => {
                        serde_json::from_str::<String>(text).expect("string")
                    }
                    Some(number) => number.to_owned(),
                })
                .collect();
            csv.push_str(&fields.join(","));
            csv.push('\n');
        }
    }
    csv
}

#[tokio::test]
async fn a_full_download_equals_the_series_served() {
    let (fake, bars) = synthetic_fake(1200).await;
    let scratch = scratch_dir("full");
    let dir = scratch.path();
    let path = dir.join("ltc.csv");
    let opts = options(&fake, &bars, 1100, &path);

    let summary = fetch_history(&opts, &NoProgress).await.expect("download");
    let sent = fake.requests_to("GET", "/trade/bucketed");

    let text = read(&path);
    assert_same_lines(
        &text,
        &served_csv(&fake, opts.from_ms, opts.to_ms).await,
        "the file holds every served column of every bucket in the range, spelled as served",
    );
    // Independently of the JSON: the buckets are exactly bars 0..=1100, prices exact.
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        lines.len(),
        1101,
        "one line per completed bucket in (from, to]"
    );
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let num = |k: usize| f[k].parse::<f64>().expect("number");
        assert_eq!(
            f[0],
            iso(bars[i].close_time_ms),
            "line {i}: end-of-bucket stamp"
        );
        assert_eq!(f[1], SYMBOL);
        let open = if i == 0 {
            bars[0].open
        } else {
            bars[i - 1].close
        };
        assert_eq!(
            (num(2), num(3), num(4), num(5)),
            (open, bars[i].high, bars[i].low, bars[i].close),
            "line {i}: prices parse back to exactly the served values"
        );
    }
    assert_eq!(
        summary,
        FetchSummary {
            path: path.clone(),
            rows_written: 1101,
            pages: 6,
            resumed_after_ms: None,
            repaired_bytes: 0,
            last_close_ms: Some(bars[1100].close_time_ms),
            complete: true,
        }
    );
    assert_eq!(
        sent.len(),
        6,
        "5 full pages and a short one; no request after it"
    );
    for r in &sent {
        assert_eq!(r.param("partial").as_deref(), Some("false"));
        assert_eq!(r.param("count").as_deref(), Some("200"));
        assert_eq!(r.param("binSize").as_deref(), Some("1m"));
        assert_eq!(r.param("endTime"), Some(iso(opts.to_ms)));
        assert_eq!(r.api_key, None, "history is public: no credentials sent");
    }
    assert_eq!(sent[0].param("startTime"), Some(iso(opts.from_ms + 1)));
    assert_eq!(
        sent[1].param("startTime"),
        Some(iso(bars[199].close_time_ms + 1)),
        "each page starts just after the last close written"
    );

    // Running again finds the range done: no candle request, nothing appended.
    fake.clear_requests();
    let again = fetch_history(&opts, &NoProgress).await.expect("rerun");
    assert_eq!((again.rows_written, again.complete), (0, true));
    assert_eq!(read(&path), text);
    assert!(fake.requests_to("GET", "/trade/bucketed").is_empty());
}

/// Injects a refusal of every later candle request once `after_pages` pages are on disk: the
/// download stops there as a crash or a network loss would stop it.
struct FailAfter<'a> {
    fake: &'a FakeBitmex,
    after_pages: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl Progress for FailAfter<'_> {
    fn begin(&self, _: &Position) {}
    fn page(&self, _: &Position, _: usize) {
        let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n == self.after_pages {
            self.fake.inject(
                FaultRule::new(Fault::Status(400, "the test cut the line".into()))
                    .on("GET", "/trade/bucketed"),
            );
        }
    }
    fn finish(&self, _: &FetchSummary) {}
}

/// Remembers every report.
#[derive(Default)]
struct Recorder {
    begun: Mutex<Vec<Position>>,
    pages: Mutex<Vec<(Position, usize)>>,
    finished: Mutex<Vec<FetchSummary>>,
}

impl Progress for Recorder {
    fn begin(&self, at: &Position) {
        self.begun.lock().expect("lock").push(*at);
    }
    fn page(&self, at: &Position, rows: usize) {
        self.pages.lock().expect("lock").push((*at, rows));
    }
    fn finish(&self, summary: &FetchSummary) {
        self.finished.lock().expect("lock").push(summary.clone());
    }
}

#[tokio::test]
async fn an_interrupted_download_continues_to_the_same_file_as_one_shot() {
    let (fake, bars) = synthetic_fake(1200).await;
    let scratch = scratch_dir("resume");
    let dir = scratch.path();
    let one_shot = dir.join("one-shot.csv");
    fetch_history(&options(&fake, &bars, 1150, &one_shot), &NoProgress)
        .await
        .expect("one-shot download");
    let expected = read(&one_shot);

    // Stopped on purpose after two pages.
    let path = dir.join("stopped.csv");
    let mut opts = options(&fake, &bars, 1150, &path);
    opts.max_pages = Some(2);
    let first = fetch_history(&opts, &NoProgress).await.expect("two pages");
    assert_eq!((first.rows_written, first.complete), (400, false));
    assert_eq!(read(&path).lines().count(), 401);
    opts.max_pages = None;
    fake.clear_requests();
    let progress = Recorder::default();
    let rest = fetch_history(&opts, &progress).await.expect("the rest");
    let begun = progress.begun.lock().expect("lock").clone();
    assert_eq!(
        begun,
        vec![Position {
            total_buckets: 1151,
            done_buckets: 400,
            last_close_ms: Some(bars[399].close_time_ms),
        }],
        "progress starts where the file ended"
    );
    let pages = progress.pages.lock().expect("lock").clone();
    assert_eq!(
        pages.iter().map(|(_, rows)| rows).sum::<usize>(),
        751,
        "every page reported"
    );
    assert_eq!(pages.last().map(|(at, _)| at.done_buckets), Some(1151));
    assert_eq!(*progress.finished.lock().expect("lock"), vec![rest.clone()]);
    assert_eq!(rest.resumed_after_ms, Some(bars[399].close_time_ms));
    assert_eq!((rest.rows_written, rest.complete), (751, true));
    assert_eq!(
        fake.requests_to("GET", "/trade/bucketed")[0].param("startTime"),
        Some(iso(bars[399].close_time_ms + 1)),
        "the rerun asks for what follows the file's last line, nothing before"
    );
    assert_same_lines(&read(&path), &expected, "stopped + continued = one shot");

    // Cut off by a failure after three pages.
    let path = dir.join("failed.csv");
    let opts = options(&fake, &bars, 1150, &path);
    let cut = FailAfter {
        fake: &fake,
        after_pages: 3,
        seen: 0.into(),
    };
    let err = fetch_history(&opts, &cut)
        .await
        .expect_err("the injected refusal stops the download");
    assert!(
        matches!(
            &err,
            FetchError::Exchange(ExchangeError::Rejected { status: 400, .. })
        ),
        "got {err:?}"
    );
    assert!(
        err.to_string().contains("run the same command again"),
        "the message says what to do: {err}"
    );
    assert_eq!(read(&path).lines().count(), 601, "three pages were kept");
    let rest = fetch_history(&opts, &NoProgress).await.expect("continued");
    assert_eq!(rest.resumed_after_ms, Some(bars[599].close_time_ms));
    assert_same_lines(&read(&path), &expected, "failed + continued = one shot");
}

#[tokio::test]
async fn a_half_written_last_line_is_cut_off_and_the_download_continues() {
    let (fake, bars) = synthetic_fake(700).await;
    let scratch = scratch_dir("repair");
    let dir = scratch.path();
    let one_shot = dir.join("one-shot.csv");
    fetch_history(&options(&fake, &bars, 650, &one_shot), &NoProgress)
        .await
        .expect("one-shot download");
    let expected = read(&one_shot);
    let next_line = expected
        .lines()
        .nth(1 + 2 * PAGE)
        .expect("line after two pages");

    // Every way a write can be cut: mid-time, mid-number, just before the newline.
    for cut in [1, 17, 40, next_line.len() - 1, next_line.len()] {
        let path = dir.join(format!("cut-{cut}.csv"));
        let mut opts = options(&fake, &bars, 650, &path);
        opts.max_pages = Some(2);
        fetch_history(&opts, &NoProgress).await.expect("two pages");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        std::io::Write::write_all(&mut file, &next_line.as_bytes()[..cut]).expect("append");
        drop(file);

        opts.max_pages = None;
        let rest = fetch_history(&opts, &NoProgress).await.expect("continued");
        assert_eq!(
            rest.repaired_bytes, cut as u64,
            "the unterminated line ({cut} bytes) is cut, even when it looks complete"
        );
        assert_eq!(
            rest.resumed_after_ms,
            Some(bars[2 * PAGE - 1].close_time_ms)
        );
        assert_same_lines(
            &read(&path),
            &expected,
            &format!("cut at {cut}: repaired + continued = one shot"),
        );
    }

    // An interrupted first write: part of the header only.
    let path = dir.join("header.csv");
    std::fs::write(&path, &HEADER[..20]).expect("write");
    let rest = fetch_history(&options(&fake, &bars, 650, &path), &NoProgress)
        .await
        .expect("started over");
    assert_eq!(rest.repaired_bytes, 20);
    assert_same_lines(
        &read(&path),
        &expected,
        "header repaired + downloaded = one shot",
    );
}

/// A fake serving `completed` one-minute LTCUSDT buckets of [`price`] (and one more in progress).
async fn synthetic_fake(completed: usize) -> (FakeBitmex, Vec<Bar>) {
    FakeMarket::minutes(completed + 1)
        .prices(price)
        .completed(completed)
        .start()
        .await
}
