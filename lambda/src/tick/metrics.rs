//! The tick's own metrics, as CloudWatch embedded metric format (EMF): one JSON line per bot per
//! tick that CloudWatch Logs turns into the metrics `Ticks`, `Orders`, `Errors` and `DurationMs`
//! with the dimension `Bot`. The "ticks stopped" alarm watches `Ticks`: it counts ticks that ran,
//! not invocations of any kind, so route traffic cannot hide a starved or stopped schedule.
//!
//! The line holds the namespace, the bot id (a checked [`crate::bot_id::BotId`]), the time and four
//! numbers; nothing else can reach it, so no secret can.

use super::BotOutcome;
use serde::Serialize;

/// The metric names and units, in the order the line lists them.
const METRICS: [MetricDef; 4] = [
    MetricDef {
        name: "Ticks",
        unit: "Count",
    },
    MetricDef {
        name: "Orders",
        unit: "Count",
    },
    MetricDef {
        name: "Errors",
        unit: "Count",
    },
    MetricDef {
        name: "DurationMs",
        unit: "Milliseconds",
    },
];

#[derive(Serialize)]
struct MetricDef {
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Unit")]
    unit: &'static str,
}

#[derive(Serialize)]
struct Directive<'a> {
    #[serde(rename = "Namespace")]
    namespace: &'a str,
    #[serde(rename = "Dimensions")]
    dimensions: [[&'static str; 1]; 1],
    #[serde(rename = "Metrics")]
    metrics: &'static [MetricDef; 4],
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "Timestamp")]
    timestamp: i64,
    #[serde(rename = "CloudWatchMetrics")]
    cloudwatch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Bot")]
    bot: &'a str,
    #[serde(rename = "Ticks")]
    ticks: u32,
    #[serde(rename = "Orders")]
    orders: u32,
    #[serde(rename = "Errors")]
    errors: u32,
    #[serde(rename = "DurationMs")]
    duration_ms: u64,
}

/// The EMF line for one bot's tick at `timestamp_ms` (UNIX ms) under `namespace`.
///
/// ```
/// use maestro_lambda::tick::{BotOutcome, emf_line};
/// let bot = BotOutcome { bot: "ltc".into(), ok: true, outcome: "Quiet: ".into(), orders: 0, duration_ms: 41 };
/// let line = emf_line("CryptoMaestro", 1_700_000_000_000, &bot);
/// assert!(line.starts_with(r#"{"_aws":{"Timestamp":1700000000000,"#));
/// assert!(line.ends_with(r#""Bot":"ltc","Ticks":1,"Orders":0,"Errors":0,"DurationMs":41}"#));
/// ```
pub fn emf_line(namespace: &str, timestamp_ms: i64, bot: &BotOutcome) -> String {
    let line = Line {
        aws: Metadata {
            timestamp: timestamp_ms,
            cloudwatch_metrics: [Directive {
                namespace,
                dimensions: [["Bot"]],
                metrics: &METRICS,
            }],
        },
        bot: &bot.bot,
        ticks: 1,
        orders: bot.orders,
        errors: u32::from(!bot.ok),
        duration_ms: bot.duration_ms,
    };
    // A struct of strings and integers always serialises; the fallback keeps the function total.
    serde_json::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn outcome(ok: bool, orders: u32, duration_ms: u64) -> BotOutcome {
        BotOutcome {
            bot: "ltc".to_owned(),
            ok,
            outcome: if ok {
                "Ordered: Buy 1000 Filled (cm-0123)".to_owned()
            } else {
                "exchange temporarily unavailable".to_owned()
            },
            orders,
            duration_ms,
        }
    }

    const HEAD: &str = r#"{"_aws":{"Timestamp":1700000040000,"CloudWatchMetrics":[{"Namespace":"CryptoMaestro/prod","Dimensions":[["Bot"]],"Metrics":[{"Name":"Ticks","Unit":"Count"},{"Name":"Orders","Unit":"Count"},{"Name":"Errors","Unit":"Count"},{"Name":"DurationMs","Unit":"Milliseconds"}]}]},"#;

    #[test]
    fn a_tick_that_ordered_is_one_tick_one_order_no_error() {
        let line = emf_line(
            "CryptoMaestro/prod",
            1_700_000_040_000,
            &outcome(true, 1, 812),
        );
        assert_eq!(
            line,
            format!(
                "{HEAD}\"Bot\":\"ltc\",\"Ticks\":1,\"Orders\":1,\"Errors\":0,\"DurationMs\":812}}"
            )
        );
    }

    #[test]
    fn a_failed_tick_is_one_tick_one_error() {
        let line = emf_line(
            "CryptoMaestro/prod",
            1_700_000_040_000,
            &outcome(false, 0, 10_000),
        );
        assert_eq!(
            line,
            format!(
                "{HEAD}\"Bot\":\"ltc\",\"Ticks\":1,\"Orders\":0,\"Errors\":1,\"DurationMs\":10000}}"
            )
        );
        assert!(
            !line.contains("unavailable"),
            "the outcome's text stays out of the metrics: {line}"
        );
    }

    /// What CloudWatch requires of an EMF line: the dimension and every declared metric are
    /// top-level members, the dimension a string and the metrics numbers.
    #[test]
    fn every_declared_metric_and_dimension_is_present() {
        let line: Value =
            serde_json::from_str(&emf_line("N", 0, &outcome(true, 0, 3))).expect("one JSON object");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        for dim in directive["Dimensions"][0]
            .as_array()
            .expect("dimension set")
        {
            let key = dim.as_str().expect("dimension name");
            assert!(line[key].is_string(), "dimension {key} missing: {line}");
        }
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("metric name");
            assert!(line[name].is_u64(), "metric {name} missing: {line}");
        }
        assert!(line["_aws"]["Timestamp"].is_i64());
    }
}
