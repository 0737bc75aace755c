//! `template.yaml`: cfn-lint 1.53.3 (which expands the SAM transform) accepts it and catches the
//! mistakes that matter in it; the deployment's shape is what the design says; and the environment the
//! template gives the function is a valid configuration whose defaults are the safe ones.
//!
//! The tools come from `<root>/.venv-tools/bin` (installed by `.ci/setup`); without them these tests
//! fail and say so.

use maestro_lambda::bitmex::TESTNET_URL;
use maestro_lambda::config::{Config, DeployLimits, FunctionRole, RouteAuthMode};
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
            "[CreateSecret, !Ref BotSecret,",
            "[CreateSecret, !Ref MissingSecret,",
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

/// One function's merged properties: `Globals.Function` overlaid by its own (environment variables
/// merged), as the SAM transform does.
pub(super) fn function_properties(t: &Value, name: &str) -> Value {
    let own = &t["Resources"][name]["Properties"];
    assert!(own.is_object(), "no function {name}");
    let mut merged = t["Globals"]["Function"].clone();
    if !merged.is_object() {
        merged = serde_json::json!({});
    }
    for (k, v) in own.as_object().expect("properties") {
        if k == "Environment" {
            let vars = merged["Environment"]["Variables"]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .chain(v["Variables"].as_object().cloned().unwrap_or_default())
                .collect::<serde_json::Map<_, _>>();
            merged["Environment"] = serde_json::json!({ "Variables": vars });
        } else {
            merged[k] = v.clone();
        }
    }
    merged
}

#[test]
fn deployment_shape_matches_the_design() {
    let t = template_json();
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    let res = &t["Resources"];
    let functions: Vec<&String> = res
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(functions, ["RoutesFunction", "TickFunction"]);

    // Both functions: the one `bootstrap` binary, arm64, provided.al2023, each with its role.
    for (name, role) in [("TickFunction", "tick"), ("RoutesFunction", "routes")] {
        let f = &res[name];
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            f["Metadata"]["BuildProperties"]["Binary"], "bootstrap",
            "{name}"
        );
        let p = function_properties(&t, name);
        assert_eq!(p["Runtime"], "provided.al2023", "{name}");
        assert_eq!(p["Handler"], "bootstrap", "{name}");
        assert_eq!(p["CodeUri"], ".", "{name}");
        assert_eq!(p["Architectures"], serde_json::json!(["arm64"]), "{name}");
        assert_eq!(
            p["Environment"]["Variables"]["FUNCTION_ROLE"], role,
            "{name}"
        );
        assert!(
            p["ReservedConcurrentExecutions"].is_object(),
            "{name}: reserved concurrency from a parameter"
        );
        assert!(p["Timeout"].as_u64().is_some_and(|t| t < 60), "{name}");
    }

    // The tick: the schedule only, its own reserved concurrency, a timeout below the period, no
    // retry of a failed tick (the next one picks up).
    let tick = function_properties(&t, "TickFunction");
    let events = tick["Events"].as_object().expect("the tick's events");
    assert_eq!(events.len(), 1, "the schedule only: {events:?}");
    assert_eq!(tick["Events"]["Tick"]["Type"], "Schedule");
    assert_eq!(
        tick["Events"]["Tick"]["Properties"]["Schedule"],
        "rate(1 minute)"
    );
    assert!(tick["FunctionUrlConfig"].is_null(), "the tick has no URL");
    assert_eq!(tick["EventInvokeConfig"]["MaximumRetryAttempts"], 0);
    assert_eq!(
        tick["ReservedConcurrentExecutions"],
        serde_json::json!({"Ref": "TickReservedConcurrency"})
    );
    let reserved = &t["Parameters"]["TickReservedConcurrency"];
    assert_eq!(reserved["Default"], 1);
    assert_eq!(reserved["MinValue"], 1, "zero would throttle every tick");

    // The routes: the URL only, capped.
    let routes = function_properties(&t, "RoutesFunction");
    assert!(routes["Events"].is_null(), "the routes have no schedule");
    assert_eq!(
        routes["FunctionUrlConfig"]["AuthType"],
        serde_json::json!({"Ref": "FunctionUrlAuthType"})
    );
    assert_eq!(t["Parameters"]["FunctionUrlAuthType"]["Default"], "AWS_IAM");
    assert_eq!(
        routes["ReservedConcurrentExecutions"],
        serde_json::json!({"Ref": "RoutesReservedConcurrency"})
    );
    for permission in [
        "RoutesFunctionPublicUrlPermission",
        "RoutesFunctionPublicInvokePermission",
    ] {
        assert_eq!(
            res[permission]["Properties"]["FunctionName"],
            serde_json::json!({"Ref": "RoutesFunction"}),
            "{permission}"
        );
        assert_eq!(res[permission]["Condition"], "PublicUrl");
    }

    // Least privilege: every statement names this table or this secret, never a wildcard (which
    // actions exactly is least_privilege.rs).
    for name in ["TickFunction", "RoutesFunction"] {
        let p = function_properties(&t, name);
        for s in p["Policies"][0]["Statement"]
            .as_array()
            .expect("statements")
        {
            let resource = &s["Resource"];
            let sid = s["Sid"].as_str().expect("a Sid");
            assert!(
                (sid == "BotTable" && *resource == table_arn())
                    || (sid == "BotSecret" && *resource == secret_arn()),
                "{name}: statement {s} reaches beyond the table and the secret"
            );
            let actions = match &s["Action"] {
                Value::Array(a) => a.clone(),
                one => vec![one.clone()],
            };
            for a in actions {
                assert!(!a.as_str().expect("action").contains('*'), "wildcard {a}");
            }
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
    assert_eq!(
        tick["LoggingConfig"]["LogGroup"],
        serde_json::json!({"Ref": "BotLogGroup"})
    );
    assert_eq!(routes["LoggingConfig"], tick["LoggingConfig"]);

    // Ticks stopped: the tick's own metric (embedded in its log), not invocations of any kind,
    // so route traffic cannot keep it green; no data at all is the failure it is for.
    let stopped = &res["TicksStoppedAlarm"]["Properties"];
    assert_eq!(
        stopped["Namespace"],
        serde_json::json!({"Fn::Sub": "CryptoMaestro/${AWS::StackName}"})
    );
    assert_eq!(stopped["MetricName"], "Ticks");
    assert_eq!(
        stopped["Dimensions"],
        serde_json::json!([{"Name": "Bot", "Value": {"Ref": "BotId"}}])
    );
    assert_eq!(stopped["Statistic"], "Sum");
    assert_eq!(stopped["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(stopped["Threshold"], 1);
    assert_eq!(stopped["TreatMissingData"], "breaching");
    assert_eq!(
        tick["Environment"]["Variables"]["METRICS_NAMESPACE"], stopped["Namespace"],
        "the alarm watches the namespace the tick writes to"
    );

    // Throttles of the tick: its reserved concurrency is full (a tick overran, or it is too low).
    let throttles = &res["TickThrottlesAlarm"]["Properties"];
    assert_eq!(throttles["Namespace"], "AWS/Lambda");
    assert_eq!(throttles["MetricName"], "Throttles");
    assert_eq!(
        throttles["Dimensions"],
        serde_json::json!([{"Name": "FunctionName", "Value": {"Ref": "TickFunction"}}])
    );
    assert_eq!(
        throttles["ComparisonOperator"],
        "GreaterThanOrEqualToThreshold"
    );
    assert_eq!(throttles["TreatMissingData"], "notBreaching");

    // Errors of either function.
    let errors = res["ErrorsAlarm"]["Properties"].to_string();
    for f in ["TickFunction", "RoutesFunction"] {
        assert!(errors.contains(&format!("{{\"Ref\":\"{f}\"}}")), "{errors}");
    }

    let outputs = &t["Outputs"];
    assert_eq!(
        outputs["FunctionUrl"]["Value"],
        serde_json::json!({"Fn::GetAtt": ["RoutesFunctionUrl", "FunctionUrl"]})
    );
    assert_eq!(outputs["TableName"]["Value"], table_name());
    assert_eq!(outputs["SecretArn"]["Value"], secret_arn());
}

/// What the template refers to the table by: its own, or the one `ExistingTableName` names.
fn table_name() -> Value {
    serde_json::json!({"Fn::If": ["CreateTable", {"Ref": "BotTable"}, {"Ref": "ExistingTableName"}]})
}

fn table_arn() -> Value {
    serde_json::json!({"Fn::If": [
        "CreateTable",
        {"Fn::GetAtt": ["BotTable", "Arn"]},
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}"}
    ]})
}

/// The secret: its own, or the one `ExistingSecretArn` names.
fn secret_arn() -> Value {
    serde_json::json!({"Fn::If": ["CreateSecret", {"Ref": "BotSecret"}, {"Ref": "ExistingSecretArn"}]})
}

/// A redeploy can reuse the table and the secret a deleted stack left behind: each is created only
/// when its parameter is empty, and is kept (not deleted with the stack, not replaced by an update).
#[test]
fn the_table_and_the_secret_can_be_reused_and_are_kept() {
    let t = template_json();
    let res = &t["Resources"];
    for (resource, parameter, cond) in [
        ("BotTable", "ExistingTableName", "CreateTable"),
        ("BotSecret", "ExistingSecretArn", "CreateSecret"),
    ] {
        assert_eq!(t["Parameters"][parameter]["Default"], "", "{parameter}");
        assert_eq!(
            t["Conditions"][cond],
            serde_json::json!({"Fn::Equals": [{"Ref": parameter}, ""]}),
            "{cond}"
        );
        assert_eq!(res[resource]["Condition"], cond, "{resource}");
        assert_eq!(res[resource]["DeletionPolicy"], "Retain", "{resource}");
        assert_eq!(res[resource]["UpdateReplacePolicy"], "Retain", "{resource}");
    }
    for function in ["TickFunction", "RoutesFunction"] {
        let vars = &function_properties(&t, function)["Environment"]["Variables"];
        assert_eq!(vars["TABLE_NAME"], table_name(), "{function}");
        assert_eq!(vars["SECRET_ARN"], secret_arn(), "{function}");
    }

    // What the functions are given, created or reused.
    let env = environment(&t, "TickFunction", &[]);
    assert_eq!(env["TABLE_NAME"], "stand-in-BotTable");
    assert_eq!(env["SECRET_ARN"], "stand-in-BotSecret");
    let old_secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cryptomaestro-AbCdEf";
    let env = environment(
        &t,
        "RoutesFunction",
        &[
            ("ExistingTableName", "cryptomaestro-BotTable-1A2B3C"),
            ("ExistingSecretArn", old_secret),
        ],
    );
    assert_eq!(env["TABLE_NAME"], "cryptomaestro-BotTable-1A2B3C");
    assert_eq!(env["SECRET_ARN"], old_secret);
    Config::from_lookup(|k| env.get(k).cloned()).expect("a valid configuration");
}

/// Evaluates a condition of the template for these parameter values.
fn condition(name: &str, params: &HashMap<String, String>) -> bool {
    match name {
        "PublicUrl" => params["FunctionUrlAuthType"] == "NONE",
        "CreateTable" => params["ExistingTableName"].is_empty(),
        "CreateSecret" => params["ExistingSecretArn"].is_empty(),
        other => panic!("condition {other} is not modelled here"),
    }
}

/// Resolves `{"Ref": P}`, `{"Fn::Sub": ...}` and `{"Fn::If": [...]}` in an environment value with the
/// parameters' values (conditions evaluated for them), and resource refs to a stand-in name.
fn resolve(value: &Value, params: &HashMap<String, String>) -> String {
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
            text = text.replace("${AWS::StackName}", "stack-name");
            assert!(!text.contains("${"), "unresolved Sub: {text}");
            text
        }
        Value::Object(m) if m.contains_key("Fn::If") => {
            let arms = m["Fn::If"].as_array().expect("Fn::If arms");
            let holds = condition(arms[0].as_str().expect("condition name"), params);
            resolve(&arms[if holds { 1 } else { 2 }], params)
        }
        other => panic!("unexpected environment value {other}"),
    }
}

fn environment(t: &Value, function: &str, overrides: &[(&str, &str)]) -> HashMap<String, String> {
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
    let props = function_properties(t, function);
    let vars = props["Environment"]["Variables"]
        .as_object()
        .expect("environment variables");
    vars.iter()
        .map(|(k, v)| (k.clone(), resolve(v, &params)))
        .collect()
}

#[test]
fn the_template_environment_is_a_valid_safe_configuration() {
    let t = template_json();
    // Both functions get the same bots and settings, each its own role.
    for (function, role) in [
        ("TickFunction", FunctionRole::Tick),
        ("RoutesFunction", FunctionRole::Routes),
    ] {
        let env = environment(&t, function, &[]);
        let cfg = Config::from_lookup(|k| env.get(k).cloned())
            .unwrap_or_else(|e| panic!("{function}'s environment is refused: {e}"));
        assert_eq!(cfg.role, role, "{function}");
        if role == FunctionRole::Tick {
            assert_eq!(cfg.metrics_namespace, "CryptoMaestro/stack-name");
        }
        assert_eq!(cfg.bots.len(), 1);
    }
    let env = environment(&t, "TickFunction", &[]);
    // The real deployment reads the credentials from the secret; the stand-in ARN is enough here.
    let cfg = Config::from_lookup(|k| env.get(k).cloned())
        .unwrap_or_else(|e| panic!("the template's environment is refused: {e}"));
    assert_eq!(cfg.bitmex_base_url, TESTNET_URL, "testnet by default");
    assert_eq!(cfg.route_auth, RouteAuthMode::Iam);
    assert_eq!(cfg.bots.len(), 1);
    assert_eq!(cfg.bots[0].id, "ltc");
    assert_eq!(
        cfg.bots[0].params,
        BotParams {
            dry_run: true,
            ..BotParams::default()
        },
        "template defaults = the runner's defaults (LTCUSDT 1d 10/50, one lot), in dry run"
    );
    assert_eq!(
        cfg.limits,
        DeployLimits {
            position_cap: 1000,
            live_allowed: false
        },
        "a deployment with the defaults cannot be taken live or past one lot by a route"
    );

    // The public-URL variant switches the function to HMAC auth.
    let env = environment(
        &t,
        "RoutesFunction",
        &[
            ("FunctionUrlAuthType", "NONE"),
            ("BinSize", "1h"),
            ("ShortWindow", "5"),
            ("LongWindow", "20"),
            ("TradeMode", "long_only"),
            ("OrderQty", "2000"),
            ("MaxPosition", "2000"),
            ("PositionCap", "4000"),
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
    assert_eq!(cfg.limits.position_cap, 4000);

    // Live trading needs both switches; a bot past the cap does not start.
    let env = environment(
        &t,
        "TickFunction",
        &[("DryRun", "false"), ("AllowLiveTrading", "true")],
    );
    let cfg = Config::from_lookup(|k| env.get(k).cloned()).expect("live with the switch");
    assert!(!cfg.bots[0].params.dry_run && cfg.limits.live_allowed);
    for overrides in [&[("DryRun", "false")][..], &[("MaxPosition", "2000")][..]] {
        let env = environment(&t, "TickFunction", overrides);
        let err = Config::from_lookup(|k| env.get(k).cloned())
            .expect_err(&format!("{overrides:?} must not start"));
        assert_eq!(err.variable, "BOTS", "{err}");
    }

    // Parameter values the template allows but the runner refuses still fail the start, naming BOTS.
    let env = environment(&t, "TickFunction", &[("ShortWindow", "60")]);
    let err = Config::from_lookup(|k| env.get(k).cloned()).expect_err("short >= long");
    assert_eq!(err.variable, "BOTS", "{err}");
}
