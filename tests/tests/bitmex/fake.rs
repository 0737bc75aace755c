//! The fake BitMEX itself behaves like BitMEX where the bot depends on it: signature checks, the
//! candle query semantics, and the loaders for the real data files.

use maestro_core::{Price, TickSize};
use maestro_lambda::bitmex::{ApiSecret, signature};
use maestro_lambda::exchange::{BinSize, Exchange};
use maestro_tests::clock;
use maestro_tests::data::data_file;
use maestro_tests::fake_bitmex::{
    Bar, FakeBitmex, SeriesFormat, TEST_API_KEY, TEST_API_SECRET, iso, load_bars, synthetic,
};
use maestro_tests::market::{FIRST_CLOSE, FakeMarket, rough_market, write_freqtrade, xbtusd};
use maestro_tests::scratch::scratch_dir;
use serde_json::Value;

/// BitMEX's `api-expires` is unsigned whole seconds.
fn now_s() -> u64 {
    u64::try_from(clock::now_s()).unwrap_or(0)
}

/// A raw signed GET; `expires` and `secret` chosen by the test.
async fn raw_get(
    fake: &FakeBitmex,
    path_and_query: &str,
    expires: u64,
    secret: &str,
) -> (u16, Value) {
    let sig = signature(
        &ApiSecret::new(secret),
        "GET",
        &format!("/api/v1{path_and_query}"),
        expires,
        "",
    );
    let answer = reqwest::Client::new()
        .get(format!("{}{path_and_query}", fake.base_url()))
        .header("api-key", TEST_API_KEY)
        .header("api-expires", expires.to_string())
        .header("api-signature", sig)
        .send()
        .await
        .expect("answered");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn private_routes_check_the_signature_like_bitmex() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let path = "/position?filter=%7B%22symbol%22%3A%22LTCUSDT%22%7D";
    let fresh = now_s() + 10;
    assert_eq!(
        raw_get(&fake, path, fresh, TEST_API_SECRET).await.0,
        200,
        "a correct signature"
    );

    let cases: &[(u64, &str, &str)] = &[
        (fresh, "wrong-secret", "Signature not valid"),
        (now_s() - 5, TEST_API_SECRET, "expired"),
    ];
    for (expires, secret, want) in cases {
        let (status, body) = raw_get(&fake, path, *expires, secret).await;
        assert_eq!(status, 401, "{want}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(want), "expected {want:?} in {body}");
        assert_eq!(body["error"]["name"], "HTTPError");
    }

    // The signature covers the query exactly as sent: the same signature on another query fails.
    let sig = signature(
        &ApiSecret::new(TEST_API_SECRET),
        "GET",
        &format!("/api/v1{path}"),
        fresh,
        "",
    );
    let tampered = reqwest::Client::new()
        .get(format!(
            "{}/position?filter=%7B%22symbol%22%3A%22XBTUSD%22%7D",
            fake.base_url()
        ))
        .header("api-key", TEST_API_KEY)
        .header("api-expires", fresh.to_string())
        .header("api-signature", sig)
        .send()
        .await
        .expect("answered");
    assert_eq!(tampered.status().as_u16(), 401);

    let unsigned = reqwest::get(format!("{}/position", fake.base_url()))
        .await
        .expect("answered");
    assert_eq!(unsigned.status().as_u16(), 401, "private routes need a key");
    let public = reqwest::get(format!("{}/instrument?symbol=LTCUSDT", fake.base_url()))
        .await
        .expect("answered");
    assert_eq!(public.status().as_u16(), 200, "public routes do not");
}

async fn bucketed(fake: &FakeBitmex, query: &str) -> Vec<Value> {
    let answer = reqwest::get(format!(
        "{}/trade/bucketed?symbol=LTCUSDT&binSize=1m&{query}",
        fake.base_url()
    ))
    .await
    .expect("answered");
    assert_eq!(answer.status().as_u16(), 200, "{query}");
    answer.json().await.expect("JSON rows")
}

fn stamps(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["timestamp"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn bucketed_honours_partial_times_count_start_and_reverse() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let bars = synthetic(FIRST_CLOSE, BinSize::M1, 10, |i| 50.0 + i as f64);
    fake.set_series("LTCUSDT", BinSize::M1, bars.clone(), 6);
    let at = |i: usize| iso(bars[i].close_time_ms);

    let rows = bucketed(&fake, "partial=false").await;
    assert_eq!(
        stamps(&rows),
        (0..6).map(at).collect::<Vec<_>>(),
        "completed only, end-of-bucket stamps"
    );
    assert_eq!(
        rows[3]["open"], rows[2]["close"],
        "open is the previous close"
    );
    let rows = bucketed(&fake, "partial=true").await;
    assert_eq!(rows.len(), 7, "the bucket in progress is added");
    let rows = bucketed(&fake, "reverse=true&count=2").await;
    assert_eq!(stamps(&rows), vec![at(5), at(4)]);
    let rows = bucketed(&fake, &format!("startTime={}&endTime={}", at(2), at(4))).await;
    assert_eq!(
        stamps(&rows),
        vec![at(2), at(3), at(4)],
        "both bounds inclusive, on the end stamp"
    );
    let rows = bucketed(&fake, "start=4&count=5").await;
    assert_eq!(stamps(&rows), vec![at(4), at(5)]);
    fake.advance("LTCUSDT", 2);
    assert_eq!(
        bucketed(&fake, "").await.len(),
        8,
        "advancing completes buckets"
    );
}

#[test]
fn loaders_read_each_shared_file_format_as_close_times() {
    let cases: &[(&str, SeriesFormat, BinSize, usize, &str)] = &[
        // file, format, bin, rows, close time of the first row
        (
            "ltcusdt-binance-spot-1m-2021-05.json",
            SeriesFormat::FreqtradeJson,
            BinSize::M1,
            44_447,
            "2021-05-15T15:25:00.000Z",
        ),
        (
            "ltcusdt-binance-spot-1m-2024-12.csv",
            SeriesFormat::CsvStartOfBar,
            BinSize::M1,
            43_344,
            "2024-12-26T17:46:00.000Z",
        ),
        (
            "btcperp-ftx-1m-2022-01.csv",
            SeriesFormat::CsvStartOfBar,
            BinSize::M1,
            45_031,
            "2021-12-31T23:02:00.000Z",
        ),
        (
            "xbtusd-bitmex-testnet-1m-2020-05.csv",
            SeriesFormat::BitmexCsv,
            BinSize::M1,
            4_378,
            "2020-05-29T00:00:00.000Z",
        ),
    ];
    for (name, format, bin, rows, first_close) in cases {
        let Some(path) = data_file("loaders_read_each_shared_file_format_as_close_times", name)
        else {
            continue;
        };
        let bars = load_bars(&path, *format, *bin).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bars.len(), *rows, "{name}");
        assert_eq!(
            iso(bars[0].close_time_ms),
            *first_close,
            "{name}: start-of-bar files shift by one bar"
        );
    }
}

#[tokio::test]
async fn real_bitmex_candles_round_trip_through_the_client() {
    let name = "xbtusd-bitmex-testnet-1m-2020-05.csv";
    let Some(path) = data_file("real_bitmex_candles_round_trip_through_the_client", name) else {
        return;
    };
    let bars = load_bars(&path, SeriesFormat::BitmexCsv, BinSize::M1).expect("loads");
    let (fake, bars) = FakeMarket::minutes(0)
        .instrument(xbtusd())
        .bars(bars)
        .start()
        .await;
    xbtusd_round_trip(&fake, &bars).await;
}

#[tokio::test]
async fn synthetic_bitmex_candles_round_trip_through_the_client() {
    let closes = rough_market(0x00b1_7c01, 1_500);
    // XBTUSD-like prices on its 0.5 tick.
    let mut bars = synthetic(FIRST_CLOSE, BinSize::M1, closes.len(), |i| {
        (closes[i] * 60.0).round() / 2.0
    });
    // Every fifth bucket's range holds only its own close: the open BitMEX serves (the previous
    // close) then lies outside [low, high], as in real BitMEX data.
    for b in bars.iter_mut().skip(1).step_by(5) {
        b.high = b.close + 0.5;
        b.low = b.close - 0.5;
    }
    let (fake, bars) = FakeMarket::minutes(0)
        .instrument(xbtusd())
        .bars(bars)
        .start()
        .await;
    xbtusd_round_trip(&fake, &bars).await;
}

/// Every XBTUSD bar comes back through the client with its time and price on the 0.5 tick, opens
/// outside [low, high] included.
async fn xbtusd_round_trip(fake: &FakeBitmex, bars: &[Bar]) {
    let client = fake.client().expect("client");
    let ins = client.instrument("XBTUSD").await.expect("instrument");
    assert_eq!(ins.tick_size, TickSize::new(5, 1).expect("0.5"));
    let candles = client
        .last_candles("XBTUSD", BinSize::M1, ins.tick_size, bars.len())
        .await
        .expect("every candle");
    assert_eq!(candles.len(), bars.len());
    for (c, b) in candles.iter().zip(bars) {
        assert_eq!(c.close_time_ms, b.close_time_ms);
        assert_eq!(
            c.close,
            Price::from_f64(b.close, ins.tick_size).expect("valid"),
            "at {}",
            iso(b.close_time_ms)
        );
    }
    let outside = candles
        .iter()
        .filter(|c| c.open < c.low || c.open > c.high)
        .count();
    assert!(
        outside > 0,
        "BitMEX opens outside [low, high] are accepted ({outside} of them)"
    );
}

#[test]
fn loaders_read_each_file_format_as_close_times_on_synthetic_files() {
    let dir = scratch_dir("loaders_synthetic");
    let freqtrade = write_freqtrade(dir.path(), &[100.0, 100.5, 101.25], &[]);
    let start_of_bar = dir.path().join("start.csv");
    std::fs::write(
        &start_of_bar,
        "timestamp,open,high,low,close,volume\n\
         2024-12-26T17:45:00Z,102.4,102.65,102.4,102.62,543.077\n\
         2024-12-26T17:46:00Z,102.62,102.7,102.5,102.55,12.5\n",
    )
    .expect("write");
    let bitmex = dir.path().join("bitmex.csv");
    std::fs::write(
        &bitmex,
        "timestamp,symbol,open,high,low,close,trades,volume,vwap,lastSize,turnover,homeNotional,foreignNotional\n\
         2020-05-29 00:00:00+00:00,XBTUSD,9509.0,9509.5,9509.0,9509.0,13,1291,9509.5,509.0,13576156,0.13576156,1291.0\n\
         2020-05-29 00:01:00+00:00,XBTUSD,9509.0,9509.5,9505.0,9506.0,3,100,9507.5,9.0,1357615,0.01357615,100.0\n",
    )
    .expect("write");
    let cases = [
        (&freqtrade, SeriesFormat::FreqtradeJson, 3, iso(FIRST_CLOSE)),
        (
            &start_of_bar,
            SeriesFormat::CsvStartOfBar,
            2,
            "2024-12-26T17:46:00.000Z".to_owned(),
        ),
        (
            &bitmex,
            SeriesFormat::BitmexCsv,
            2,
            "2020-05-29T00:00:00.000Z".to_owned(),
        ),
    ];
    for (path, format, rows, first_close) in cases {
        let bars = load_bars(path, format, BinSize::M1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), rows, "{format:?}");
        assert_eq!(
            iso(bars[0].close_time_ms),
            first_close,
            "{format:?}: start-of-bar files shift by one bar"
        );
    }
}

#[tokio::test]
async fn cancel_by_order_id_answers_404_for_unknown_orders() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let id = fake.add_resting_order("LTCUSDT", "Buy", 1000, 60.0);
    let delete = |body: String| {
        let expires = now_s() + 10;
        let sig = signature(
            &ApiSecret::new(TEST_API_SECRET),
            "DELETE",
            "/api/v1/order",
            expires,
            &body,
        );
        reqwest::Client::new()
            .delete(format!("{}/order", fake.base_url()))
            .header("content-type", "application/json")
            .header("api-key", TEST_API_KEY)
            .header("api-expires", expires.to_string())
            .header("api-signature", sig)
            .body(body)
            .send()
    };
    let answer = delete(format!(r#"{{"orderID":"{id}"}}"#))
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 200);
    let rows: Vec<Value> = answer.json().await.expect("orders");
    assert_eq!(rows[0]["ordStatus"], "Canceled");
    assert!(fake.open_orders("LTCUSDT").is_empty());
    let answer = delete(r#"{"orderID":"no-such-order"}"#.into())
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 404);
}
