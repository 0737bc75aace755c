//! Every request the BitMEX client makes uses only parameters BitMEX's swagger spec defines for that
//! route, in the place the spec puts them; and the fake's own table of allowed parameters matches
//! the spec file.

use maestro_core::TickSize;
use maestro_lambda::exchange::{BinSize, Exchange, OrderRequest, Side};
use maestro_tests::data::data_file;
use maestro_tests::fake_bitmex::params::{ALLOWED_PARAMS, allowed, load_swagger_params};
use maestro_tests::fake_bitmex::{FakeBitmex, RecordedRequest, synthetic};
use std::collections::{BTreeMap, BTreeSet};

const SYMBOL: &str = "LTCUSDT";
const SWAGGER: &str = "bitmex-swagger.json";

/// Drives every client call once (candles both ways, history, instrument, position, every order
/// kind, a duplicate, look-ups, recent orders, cancel by clOrdID, cancel-all, dead-man's switch)
/// and returns what the fake received.
async fn everything_the_client_sends() -> Vec<RecordedRequest> {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let bars = synthetic(1_704_067_260_000, BinSize::M1, 800, |i| {
        80.0 + (i % 13) as f64 * 0.1
    });
    fake.set_series(SYMBOL, BinSize::M1, bars.clone(), 700);
    let client = fake.client().expect("client");
    let tick = TickSize::CENT;
    client.instrument(SYMBOL).await.expect("instrument");
    client
        .candles_after(SYMBOL, BinSize::M1, tick, bars[5].close_time_ms, 600)
        .await
        .expect("candles");
    client
        .last_candles(SYMBOL, BinSize::M1, tick, 650)
        .await
        .expect("warm-up");
    fake.public_client()
        .expect("public")
        .history(
            SYMBOL,
            BinSize::M1,
            tick,
            0,
            bars[699].close_time_ms,
            |_| {},
        )
        .await
        .expect("history");
    client.position(SYMBOL).await.expect("position");
    let mut order = OrderRequest {
        symbol: SYMBOL.into(),
        side: Side::Buy,
        qty: 2000,
        cl_ord_id: "cm-swagger-1".into(),
        reduce_only: false,
        close: false,
    };
    client.place_order(&order).await.expect("open");
    client
        .place_order(&order)
        .await
        .expect("duplicate resolves");
    order.side = Side::Sell;
    order.qty = 1000;
    order.reduce_only = true;
    order.cl_ord_id = "cm-swagger-2".into();
    client.place_order(&order).await.expect("reduce");
    order.close = true;
    order.cl_ord_id = "cm-swagger-3".into();
    client.place_order(&order).await.expect("close");
    client
        .order_by_cl_ord_id(SYMBOL, "cm-swagger-1")
        .await
        .expect("look-up");
    client
        .orders_since(SYMBOL, "cm-swagger-", 0, 10)
        .await
        .expect("recent orders");
    client
        .cancel_orders(SYMBOL, &["cm-swagger-1".into(), "cm-swagger-2".into()])
        .await
        .expect("cancel by clOrdID");
    client.cancel_all(SYMBOL).await.expect("cancel all");
    client.cancel_all_after(60_000).await.expect("arm");
    let sent = fake.requests();
    let routes: BTreeSet<String> = sent.iter().map(RecordedRequest::label).collect();
    assert_eq!(
        routes.len(),
        8,
        "every route the client uses was exercised: {routes:?}"
    );
    sent
}

#[tokio::test]
async fn every_request_uses_only_parameters_the_spec_defines() {
    let sent = everything_the_client_sends().await;
    for r in &sent {
        let names = allowed(&r.method, &r.route)
            .unwrap_or_else(|| panic!("{} is not a route the fake knows", r.label()));
        for name in r.param_names() {
            assert!(
                names.contains(&name.as_str()),
                "{} sent undefined parameter {name:?}",
                r.label()
            );
        }
        assert!(
            r.status == 200 || (r.status == 400 && r.route == "/order"),
            "{} was answered {} (only the deliberate duplicate may be a 400)",
            r.label(),
            r.status
        );
    }

    // Against the spec file itself, including where each parameter goes.
    let Some(path) = data_file(
        "every_request_uses_only_parameters_the_spec_defines",
        SWAGGER,
    ) else {
        return;
    };
    let spec = std::fs::read_to_string(&path).expect("readable spec");
    let spec: serde_json::Value = serde_json::from_str(&spec).expect("spec is JSON");
    for r in &sent {
        let op = &spec["paths"][&r.route][r.method.to_lowercase()];
        let places: BTreeMap<&str, &str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("spec has no parameters for {}", r.label()))
            .iter()
            .filter_map(|p| Some((p["name"].as_str()?, p["in"].as_str()?)))
            .collect();
        for (name, _) in &r.query {
            assert_eq!(
                places.get(name.as_str()),
                Some(&"query"),
                "{} query parameter {name}",
                r.label()
            );
        }
        for (name, _) in &r.body {
            assert_eq!(
                places.get(name.as_str()),
                Some(&"formData"),
                "{} body parameter {name}",
                r.label()
            );
        }
        for (name, place) in &places {
            let required = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == *name && p["required"] == true);
            if required {
                assert!(
                    r.param_names().iter().any(|n| n == name),
                    "{} lacks required {place} parameter {name}",
                    r.label()
                );
            }
        }
    }
}

#[test]
fn the_fake_s_parameter_table_matches_the_spec_file() {
    let Some(path) = data_file("the_fake_s_parameter_table_matches_the_spec_file", SWAGGER) else {
        return;
    };
    let spec = load_swagger_params(&path).expect("spec loads");
    for (method, route, names) in ALLOWED_PARAMS {
        let from_spec = spec
            .get(&(method.to_string(), route.to_string()))
            .unwrap_or_else(|| panic!("the spec has no {method} {route}"));
        let ours: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(&ours, from_spec, "parameters of {method} {route}");
    }
}

#[tokio::test]
async fn the_fake_refuses_parameters_the_spec_does_not_define() {
    let fake = FakeBitmex::start().await.expect("fake BitMEX starts");
    let http = reqwest::Client::new();
    let url = format!(
        "{}/trade/bucketed?symbol=LTCUSDT&binSize=1m&limit=5",
        fake.base_url()
    );
    let answer = http.get(url).send().await.expect("answered");
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().await.expect("JSON error body");
    assert_eq!(body["error"]["name"], "ValidationError");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("limit")),
        "{body}"
    );
    let url = format!(
        "{}/trade/bucketed?symbol=LTCUSDT&binSize=1m&count=5",
        fake.base_url()
    );
    assert_eq!(
        http.get(url)
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16(),
        200
    );
}
