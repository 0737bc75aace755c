//! Which request parameters BitMEX defines per route: a hand-checked copy of the swagger spec for the
//! routes the fake serves. `tests/tests/bitmex/swagger.rs` compares it with the spec file itself, so
//! the table cannot drift from the authority unnoticed, while the fake still works on a clone that
//! has no `../shared/data`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `(method, route)` → the parameter names the swagger spec defines for it (any location).
pub const ALLOWED_PARAMS: &[(&str, &str, &[&str])] = &[
    (
        "GET",
        "/trade/bucketed",
        &[
            "binSize",
            "partial",
            "symbol",
            "filter",
            "columns",
            "count",
            "start",
            "reverse",
            "startTime",
            "endTime",
        ],
    ),
    (
        "GET",
        "/instrument",
        &[
            "symbol",
            "filter",
            "columns",
            "count",
            "start",
            "reverse",
            "startTime",
            "endTime",
        ],
    ),
    ("GET", "/position", &["filter", "columns", "count"]),
    (
        "GET",
        "/order",
        &[
            "symbol",
            "filter",
            "columns",
            "count",
            "start",
            "reverse",
            "startTime",
            "endTime",
        ],
    ),
    (
        "POST",
        "/order",
        &[
            "symbol",
            "side",
            "simpleOrderQty",
            "orderQty",
            "price",
            "displayQty",
            "stopPx",
            "clOrdID",
            "clOrdLinkID",
            "pegOffsetValue",
            "pegPriceType",
            "ordType",
            "timeInForce",
            "execInst",
            "contingencyType",
            "text",
        ],
    ),
    ("DELETE", "/order", &["orderID", "clOrdID", "text"]),
    (
        "DELETE",
        "/order/all",
        &["targetAccountIds", "symbol", "filter", "text"],
    ),
    ("POST", "/order/cancelAllAfter", &["timeout"]),
];

/// The names allowed for a route, or `None` when the fake does not serve it.
pub fn allowed(method: &str, route: &str) -> Option<&'static [&'static str]> {
    ALLOWED_PARAMS
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, names)| *names)
}

/// Reads the parameter names per `(METHOD, route)` from a swagger 2.0 file.
pub fn load_swagger_params(
    path: &Path,
) -> Result<BTreeMap<(String, String), BTreeSet<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let paths = spec
        .get("paths")
        .and_then(|p| p.as_object())
        .ok_or_else(|| format!("{}: no paths object", path.display()))?;
    let mut out = BTreeMap::new();
    for (route, ops) in paths {
        let Some(ops) = ops.as_object() else { continue };
        for (method, op) in ops {
            let names = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .map(|params| {
                    params
                        .iter()
                        .filter_map(|p| p.get("name")?.as_str().map(str::to_owned))
                        .collect::<BTreeSet<_>>()
                })
                .unwrap_or_default();
            out.insert((method.to_uppercase(), route.clone()), names);
        }
    }
    Ok(out)
}
