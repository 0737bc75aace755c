//! AWS's check of a SigV4-signed request to a function URL with `AuthType: AWS_IAM`, written from
//! the SigV4 specification with `hmac`/`sha2` alone, so that it is not the signer under test
//! checking itself. It knows one identity and one region; a refusal is AWS's 403 message.
//!
//! Also compiled into `maestro-cli`'s SigV4 test (by path: that crate cannot depend on this one),
//! so it depends on nothing but `hmac`, `sha2`, `hex` and `time`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The one identity and region the check accepts.
pub struct Account<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// Its secret key.
    pub secret_key: &'a str,
    /// The function's region.
    pub region: &'a str,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Checks the SigV4 signature of `method path?query` with `body` (`header` gives a request header
/// by lower-case name) for the service `lambda` at `now`; AWS's refusal message when it fails.
pub fn verify<'h>(
    account: &Account<'_>,
    method: &str,
    path: &str,
    query: &str,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Result<(), &'static str> {
    let authorization = header("authorization").ok_or("Forbidden")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("Forbidden")?;
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .ok_or("Forbidden")
    };
    let credential = field("Credential")?;
    let signed_headers = field("SignedHeaders")?;
    let signature = field("Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = scope[..] else {
        return Err("Forbidden");
    };
    if key != account.access_key {
        return Err("The security token included in the request is invalid.");
    }
    if region != account.region {
        return Err("Credential should be scoped to a valid region.");
    }
    if service != "lambda" {
        return Err("Credential should be scoped to correct service: 'lambda'.");
    }
    let amz_date = header("x-amz-date").ok_or("Forbidden")?;
    if !amz_date.starts_with(date) {
        return Err(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
        );
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-amz-date") {
        return Err("'Host' or 'x-amz-date' must be a signed header.");
    }
    let sent = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| "Forbidden")?
    .assume_utc();
    if (now - sent).abs() > time::Duration::minutes(5) {
        return Err("Signature expired");
    }
    // The routes' queries are plain `key=value` pairs: sorting is all canonical form asks of them.
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    let canonical_query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(name).ok_or("Forbidden")?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        canonical_query.join("&"),
        sha256_hex(body)
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(format!("AWS4{}", account.secret_key).as_bytes(), date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    let k_signing = hmac(&k_service, "aws4_request");
    if hex::encode(hmac(&k_signing, &string_to_sign)) != signature {
        return Err(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method.",
        );
    }
    Ok(())
}
