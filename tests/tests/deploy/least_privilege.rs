//! Least privilege, checked against the code: every AWS SDK call in `lambda/src` is found by
//! reading the source, mapped to its IAM action, and each function of `template.yaml` must be granted
//! exactly the actions its role reaches: no more (a grant nobody calls is an attack surface), no
//! less (a missing one fails only in AWS, at the worst moment).
//!
//! The reading is deliberately simple: an SDK call in this code base is always `client` followed by
//! `.operation()` (the fluent builder), so the scan finds `client` + whitespace + `.name()`. A call
//! written another way would be missed, which is why the scan also checks it finds the calls we know
//! of.

use super::template_sam::{root, template_json};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn lambda_src() -> PathBuf {
    root().join("lambda/src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .expect("readable source dir")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The source without `#[cfg(test)]` modules (a unit test's calls are not the function's).
fn production_text(path: &Path) -> String {
    let text = read(path);
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Every SDK operation called in `text`: `client` (a field, a variable) then `.op()`.
fn sdk_calls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find("client") {
        let start = from + at;
        from = start + "client".len();
        let before_ok = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'_')
        };
        if !before_ok {
            continue;
        }
        let rest = text[from..].trim_start();
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with("()") {
            found.push(name);
        }
    }
    found
}

/// `get_item` → `GetItem`.
fn pascal(op: &str) -> String {
    op.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The body of every `fn NAME` inside the block that starts at `header` (up to the block's end).
fn fns_in_block(text: &str, header: &str) -> BTreeMap<String, String> {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("{header:?} not found"));
    // The block ends at the first line that is exactly "}" after the header.
    let block = &text[start..];
    let end = block.find("\n}\n").map_or(block.len(), |e| e + 1);
    let block = &block[..end];
    let mut fns = BTreeMap::new();
    for piece in block.split("    async fn ").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        fns.insert(name, piece.to_owned());
    }
    fns
}

/// IAM actions each `StateStore` method of the DynamoDB store needs.
fn store_method_actions() -> BTreeMap<String, BTreeSet<String>> {
    let text = production_text(&lambda_src().join("store/dynamo.rs"));
    fns_in_block(&text, "impl StateStore for DynamoStore {")
        .into_iter()
        .map(|(name, body)| {
            let actions = sdk_calls(&body)
                .iter()
                .map(|op| format!("dynamodb:{}", pascal(op)))
                .collect();
            (name, actions)
        })
        .collect()
}

/// What a function of the template does, from its `FUNCTION_ROLE` (unset: both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Tick,
    Routes,
    Both,
}

/// The source directories a role runs: the tick runs `tick/`; the routes run `routes/` and, for a
/// flatten, the tick's executor (`tick/`).
fn role_sources(role: Role) -> Vec<PathBuf> {
    let src = lambda_src();
    let routes_use_tick = rust_files(&src.join("routes"))
        .iter()
        .any(|f| production_text(f).contains("crate::tick"));
    let mut dirs = vec![src.join("handler.rs")];
    match role {
        Role::Tick => dirs.push(src.join("tick")),
        Role::Routes => {
            dirs.push(src.join("routes"));
            if routes_use_tick {
                dirs.push(src.join("tick"));
            }
        }
        Role::Both => {
            dirs.push(src.join("routes"));
            dirs.push(src.join("tick"));
        }
    }
    dirs.iter()
        .flat_map(|d| {
            if d.is_dir() {
                rust_files(d)
            } else {
                vec![d.clone()]
            }
        })
        .collect()
}

/// The IAM actions a role needs, read from the code.
fn needed_actions(role: Role) -> BTreeSet<String> {
    let methods = store_method_actions();
    let mut needed = BTreeSet::new();
    for file in role_sources(role) {
        let text = production_text(&file);
        for (method, actions) in &methods {
            if text.contains(&format!(".{method}(")) {
                needed.extend(actions.iter().cloned());
            }
        }
    }
    // Every function reads its credentials once per cold start (bootstrap, whatever the role).
    let bootstrap = production_text(&lambda_src().join("bin/bootstrap.rs"));
    if bootstrap.contains("load_from_secrets_manager") {
        let secrets = production_text(&lambda_src().join("secrets.rs"));
        needed.extend(
            sdk_calls(&secrets)
                .iter()
                .map(|op| format!("secretsmanager:{}", pascal(op))),
        );
    }
    needed
}

/// The actions a function's inline policies grant (SAM policy templates are refused: their
/// actions are not visible here and grant more than the code calls).
fn granted_actions(function: &Value) -> BTreeSet<String> {
    let mut granted = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_array()
        .expect("a list of policies");
    for policy in policies {
        let statements = policy["Statement"]
            .as_array()
            .unwrap_or_else(|| panic!("an inline policy document, not {policy}"));
        for s in statements {
            assert_eq!(s["Effect"], "Allow", "{s}");
            match &s["Action"] {
                Value::Array(a) => {
                    granted.extend(a.iter().map(|x| x.as_str().expect("action").to_owned()));
                }
                Value::String(a) => {
                    granted.insert(a.clone());
                }
                other => panic!("unexpected Action {other}"),
            }
        }
    }
    granted
}

fn role_of(function: &Value) -> Role {
    match function["Properties"]["Environment"]["Variables"]["FUNCTION_ROLE"].as_str() {
        None => Role::Both,
        Some("tick") => Role::Tick,
        Some("routes") => Role::Routes,
        Some(other) => panic!("unknown FUNCTION_ROLE {other}"),
    }
}

/// The scan finds the calls this code base is known to make (so a silent miss of the scanner shows
/// here), and every SDK call anywhere in `lambda/src` is either a store method, the secret's read,
/// or table set-up that the function never runs.
#[test]
fn the_scan_sees_every_sdk_call_in_the_runner() {
    let methods = store_method_actions();
    let one = |m: &str| -> Vec<&str> {
        methods
            .get(m)
            .unwrap_or_else(|| panic!("no store method {m}: {methods:?}"))
            .iter()
            .map(String::as_str)
            .collect()
    };
    assert_eq!(one("load"), ["dynamodb:GetItem"]);
    assert_eq!(one("save"), ["dynamodb:PutItem"]);
    assert_eq!(one("recent_orders"), ["dynamodb:Query"]);
    assert_eq!(one("claim_nonce"), ["dynamodb:PutItem"]);

    // Set-up helpers for tests and local tables: the function must never reach them.
    const SET_UP_ONLY: &[&str] = &["create_table", "describe_table", "update_time_to_live"];
    for file in rust_files(&lambda_src()) {
        let text = production_text(&file);
        let rel = file.strip_prefix(lambda_src()).expect("under lambda/src");
        let adapter = rel.starts_with("store/dynamo.rs") || rel.starts_with("secrets.rs");
        for op in sdk_calls(&text) {
            assert!(
                adapter,
                "{}: SDK call .{op}() outside the store and secrets adapters: map it to its IAM \
                 action in this test",
                rel.display()
            );
            if SET_UP_ONLY.contains(&op.as_str()) {
                continue;
            }
            let in_store = methods
                .values()
                .any(|a| a.contains(&format!("dynamodb:{}", pascal(&op))));
            assert!(
                in_store || rel.starts_with("secrets.rs"),
                "{}: .{op}() is neither a store method's call nor set-up",
                rel.display()
            );
        }
    }
    // Nothing the function runs creates or describes a table.
    for file in role_sources(Role::Both)
        .into_iter()
        .chain([lambda_src().join("bin/bootstrap.rs")])
    {
        let text = production_text(&file);
        assert!(
            !text.contains("create_table("),
            "{} creates a table: its policy would need CreateTable",
            file.display()
        );
    }
}

#[test]
fn each_function_is_granted_exactly_what_its_code_calls() {
    let t = template_json();
    let functions: Vec<(&String, &Value)> = t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .collect();
    assert!(!functions.is_empty(), "no function in the template");
    for (name, function) in functions {
        let role = role_of(function);
        let needed = needed_actions(role);
        let granted = granted_actions(function);
        let extra: Vec<_> = granted.difference(&needed).collect();
        let missing: Vec<_> = needed.difference(&granted).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{name} ({role:?}): granted but never called {extra:?}; called but not granted \
             {missing:?} (the code calls {needed:?})"
        );
    }
}
