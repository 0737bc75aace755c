//! `template.yaml`: cfn-lint 1.53.3 (which expands the SAM transform) accepts it and catches the
//! mistakes that matter in it; the deployment's shape is what the design says; and the environment the
//! template gives the function is a valid configuration whose defaults are the safe ones.
//!
//! The tools come from `<root>/.venv-tools/bin` (installed by `.ci/setup`); without them these tests
//! fail and say so.

use maestro_lambda::bitmex::TESTNET_URL;
use maestro_lambda::config::{Config, RouteAuthMode};
use maestro_lambda::params::BotParams;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

pub(super) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tool(name: &str) -> PathBuf {
    let bin = root().join(".venv-tools/bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run .ci/setup (it installs cfn-lint==1.53.3 into .venv-tools)",
        bin.display()
    );
    bin
}

fn template_text() -> String {
    std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml at the repo root")
}

/// Runs cfn-lint on a template file; returns (passed, output).
fn cfn_lint(path: &std::path::Path) -> (bool, String) {
    let out = Command::new(tool("cfn-lint"))
        .arg(path)
        .output()
        .expect("cfn-lint runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The template as JSON, short-form intrinsics decoded (`!Ref X` → `{"Ref": "X"}`), by cfn-lint's
/// own YAML loader.
pub(super) fn template_json() -> Value {
    let script = "import json,sys\nfrom cfnlint.decode import decode\nt,m=decode(sys.argv[1])\n\
                  assert not m, m\nprint(json.dumps(t))";
    let out = Command::new(tool("python"))
        .args(["-c", script])
        .arg(root().join("template.yaml"))
        .output()
        .expect("python from .venv-tools runs");
    assert!(
        out.status.success(),
        "decoding template.yaml failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("decoded template is JSON")
}

#[test]
fn cfn_lint_passes() {
    let (ok, text) = cfn_lint(&root().join("template.yaml"));
    assert!(ok, "cfn-lint template.yaml:\n{text}");
}

/// The pinned cfn-lint really looks inside the SAM function: each of these one-line mistakes must be
/// reported (newer cfn-lint releases miss most of them).
#[test]
fn cfn_lint_catches_broken_variants() {
    let original = template_text();
    let mutations: &[(&str, &str, &str)] = &[
        ("rate(1 minute)", "rate(1 minutes)", "schedule unit"),
        (
            "Architectures: [arm64]",
            "Architectures: [arm65]",
            "architecture",
        ),
        (
            "Runtime: provided.al2023",
            "Runtime: provided.al2099",
            "runtime",
        ),
        (
            "Resource: !Ref BotSecret",
            "Resource: !Ref MissingSecret",
            "dangling !Ref",
        ),
        (
            "BillingMode: PAY_PER_REQUEST",
            "BillingMode: PAY_AS_YOU_GO",
            "billing mode",
        ),
        (
            "AllowedValues: [AWS_IAM, NONE]",
            "AllowedValues: [AWS_IAM, NONE, OPEN]",
            "auth type",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    for (i, (from, to, _)) in mutations.iter().enumerate() {
        assert!(
            original.contains(from),
            "template no longer contains {from:?}"
        );
        let path = dir.path().join(format!("mutant{i}.yaml"));
        std::fs::write(&path, original.replacen(from, to, 1)).expect("write mutated template");
        paths.push(path);
    }
    // One cfn-lint run over all mutants (each differs from the passing template by one line, so any
    // finding in a file is that line's).
    let out = Command::new(tool("cfn-lint"))
        .args(&paths)
        .output()
        .expect("cfn-lint runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for ((_, to, what), path) in mutations.iter().zip(&paths) {
        let name = path.to_string_lossy();
        assert!(
            text.contains(name.as_ref()),
            "cfn-lint accepted a broken {what} ({to:?}):\n{text}"
        );
    }
}

#[test]
fn deployment_shape_matches_the_design() {
    let t = template_json();
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    let res = &t["Resources"];

    let f = &res["BotFunction"];
    assert_eq!(f["Type"], "AWS::Serverless::Function");
    assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "bootstrap");
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Handler"], "bootstrap");
    assert_eq!(p["Architectures"], serde_json::json!(["arm64"]));
    let timeout = p["Timeout"].as_u64().expect("a literal timeout");
    assert!(
        timeout < 60,
        "timeout {timeout} s must stay below the one-minute period"
    );
    assert_eq!(p["Events"]["Tick"]["Type"], "Schedule");
    assert_eq!(
        p["Events"]["Tick"]["Properties"]["Schedule"],
        "rate(1 minute)"
    );
    assert_eq!(
        p["FunctionUrlConfig"]["AuthType"],
        serde_json::json!({"Ref": "FunctionUrlAuthType"})
    );
    assert_eq!(t["Parameters"]["FunctionUrlAuthType"]["Default"], "AWS_IAM");
    assert_eq!(p["EventInvokeConfig"]["MaximumRetryAttempts"], 0);

    // Least privilege: every statement names this table or this secret, never a wildcard.
    let statements = p["Policies"][0]["Statement"]
        .as_array()
        .expect("statements");
    assert_eq!(statements.len(), 2);
    for s in statements {
        let resource = &s["Resource"];
        assert!(
            *resource == serde_json::json!({"Fn::GetAtt": ["BotTable", "Arn"]})
                || *resource == serde_json::json!({"Ref": "BotSecret"}),
            "statement {s} reaches beyond the table and the secret"
        );
        let actions = match &s["Action"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        for a in actions {
            let a = a.as_str().expect("action name");
            assert!(!a.contains('*'), "wildcard action {a}");
            assert!(
                !a.ends_with(":Scan") && !a.ends_with(":DeleteTable"),
                "{a} is not needed"
            );
        }
    }

    let table = &res["BotTable"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["KeySchema"][0]["AttributeName"], "pk");
    assert_eq!(table["KeySchema"][1]["AttributeName"], "sk");
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "ttl");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );

    let secret = &res["BotSecret"]["Properties"]["GenerateSecretString"];
    assert_eq!(secret["GenerateStringKey"], "route_secret");
    let placeholder: Value = serde_json::from_str(
        secret["SecretStringTemplate"]
            .as_str()
            .expect("template string"),
    )
    .expect("the secret template is JSON");
    assert!(placeholder.get("bitmex_key").is_some() && placeholder.get("bitmex_secret").is_some());

    assert!(res["BotLogGroup"]["Properties"]["RetentionInDays"].is_object());
    assert_eq!(res["ErrorsAlarm"]["Properties"]["MetricName"], "Errors");
    let stopped = &res["TicksStoppedAlarm"]["Properties"];
    assert_eq!(stopped["MetricName"], "Invocations");
    assert_eq!(stopped["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(stopped["TreatMissingData"], "breaching");

    let outputs = &t["Outputs"];
    assert_eq!(
        outputs["FunctionUrl"]["Value"],
        serde_json::json!({"Fn::GetAtt": ["BotFunctionUrl", "FunctionUrl"]})
    );
    assert_eq!(
        outputs["TableName"]["Value"],
        serde_json::json!({"Ref": "BotTable"})
    );
}

/// Resolves `{"Ref": P}`, `{"Fn::Sub": ...}` and `{"Fn::If": [...]}` in an environment value with the
/// parameters' defaults (conditions evaluated for the default deployment), and resource refs to a
/// stand-in name.
fn resolve(value: &Value, params: &HashMap<String, String>, public_url: bool) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.contains_key("Ref") => {
            let name = m["Ref"].as_str().unwrap_or_default();
            params
                .get(name)
                .cloned()
                .unwrap_or_else(|| format!("stand-in-{name}"))
        }
        Value::Object(m) if m.contains_key("Fn::Sub") => {
            let mut text = m["Fn::Sub"].as_str().unwrap_or_default().to_owned();
            for (k, v) in params {
                text = text.replace(&format!("${{{k}}}"), v);
            }
            assert!(!text.contains("${"), "unresolved Sub: {text}");
            text
        }
        Value::Object(m) if m.contains_key("Fn::If") => {
            let arms = m["Fn::If"].as_array().expect("Fn::If arms");
            assert_eq!(
                arms[0], "PublicUrl",
                "only the PublicUrl condition is expected here"
            );
            resolve(&arms[if public_url { 1 } else { 2 }], params, public_url)
        }
        other => panic!("unexpected environment value {other}"),
    }
}

fn environment(t: &Value, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = t["Parameters"]
        .as_object()
        .expect("parameters")
        .iter()
        .map(|(k, v)| {
            let default = match &v["Default"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), default)
        })
        .collect();
    for (k, v) in overrides {
        assert!(params.contains_key(*k), "no parameter {k}");
        params.insert((*k).to_owned(), (*v).to_owned());
    }
    let public_url = params["FunctionUrlAuthType"] == "NONE";
    let vars = t["Resources"]["BotFunction"]["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("environment variables");
    vars.iter()
        .map(|(k, v)| (k.clone(), resolve(v, &params, public_url)))
        .collect()
}

#[test]
fn the_template_environment_is_a_valid_safe_configuration() {
    let t = template_json();
    let env = environment(&t, &[]);
    // The real deployment reads the credentials from the secret; the stand-in ARN is enough here.
    let cfg = Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_or_else(|e| panic!("the template's environment is refused: {e}"));
    assert_eq!(cfg.bitmex_base_url, TESTNET_URL, "testnet by default");
    assert_eq!(cfg.route_auth, RouteAuthMode::Iam);
    assert_eq!(cfg.bots.len(), 1);
    assert_eq!(cfg.bots[0].id, "ltc");
    assert_eq!(
        cfg.bots[0].params,
        BotParams::default(),
        "template defaults = the runner's defaults (LTCUSDT 1d 10/50, one lot)"
    );

    // The public-URL variant switches the function to HMAC auth.
    let env = environment(
        &t,
        &[
            ("FunctionUrlAuthType", "NONE"),
            ("BinSize", "1h"),
            ("ShortWindow", "5"),
            ("LongWindow", "20"),
            ("TradeMode", "long_only"),
            ("OrderQty", "2000"),
            ("MaxPosition", "2000"),
            ("HysteresisBp", "25"),
            ("DryRun", "true"),
        ],
    );
    let cfg = Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_or_else(|e| panic!("the NONE variant is refused: {e}"));
    assert_eq!(cfg.route_auth, RouteAuthMode::Hmac);
    let p = &cfg.bots[0].params;
    assert_eq!((p.short_window, p.long_window, p.qty), (5, 20, 2000));
    assert_eq!(p.guards.hysteresis_bp, 25);
    assert!(p.dry_run);

    // Parameter values the template allows but the runner refuses still fail the start, naming BOTS.
    let env = environment(&t, &[("ShortWindow", "60")]);
    let err = Config::from_lookup(|k| env.get(k).cloned()).expect_err("short >= long");
    assert_eq!(err.variable, "BOTS", "{err}");
}
