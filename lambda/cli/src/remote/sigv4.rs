//! SigV4 for a function URL with `AuthType: AWS_IAM` (feature `iam`).
//!
//! AWS checks the signature before the function runs, so the function never sees a request it
//! could not trust; a browser cannot sign, which is why the dashboard goes through
//! [`super::dashboard`]. Credentials come from the SDK's standard chain (environment, shared
//! config and credentials files with profiles, SSO, web identity, container and instance
//! metadata), are resolved on the first call and again when they are about to expire, and never
//! appear in errors, logs or `Debug`. The signature itself is the SDK's `aws-sigv4`, checked
//! against AWS's published test vectors below.

use super::RemoteError;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
pub use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// The service function URLs are signed for.
pub const SERVICE: &str = "lambda";

/// Temporary credentials this close to their expiry are fetched again rather than used.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// Signs calls for one region with the caller's AWS credentials.
pub struct IamSigner {
    chain: SharedCredentialsProvider,
    profile: Option<String>,
    region: String,
    cached: Mutex<Option<Credentials>>,
}

impl std::fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamSigner")
            .field("profile", &self.profile)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl IamSigner {
    /// A signer for `region` with the standard credential chain, reading `profile` instead of
    /// `AWS_PROFILE`/`default` when given. Nothing is read until the first call.
    pub async fn from_chain(profile: Option<&str>, region: String) -> IamSigner {
        let mut chain = DefaultCredentialsChain::builder();
        if let Some(profile) = profile {
            chain = chain.profile_name(profile);
        }
        IamSigner {
            chain: SharedCredentialsProvider::new(chain.build().await),
            profile: profile.map(str::to_owned),
            region,
            cached: Mutex::new(None),
        }
    }

    /// A signer for `region` with credentials from `provider` (fixed [`Credentials`] too), for a
    /// program that has them already.
    pub fn with_provider(provider: impl ProvideCredentials + 'static, region: String) -> IamSigner {
        IamSigner {
            chain: SharedCredentialsProvider::new(provider),
            profile: None,
            region,
            cached: Mutex::new(None),
        }
    }

    /// The region signatures are scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token` for temporary
    /// credentials) for `method url` with `body`, signed at `time`.
    pub async fn headers(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, RemoteError> {
        let credentials = self.credentials().await?;
        sign_headers(&credentials, &self.region, SERVICE, method, url, body, time)
    }

    async fn credentials(&self) -> Result<Credentials, RemoteError> {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            let fresh = credentials
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE);
            if fresh {
                return Ok(credentials.clone());
            }
        }
        let credentials = self.chain.provide_credentials().await.map_err(|e| {
            // The chain's errors name providers and profiles, never a key.
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                why.push_str(": ");
                why.push_str(&inner.to_string());
                source = inner.source();
            }
            RemoteError::Failed(format!(
                "no AWS credentials for --auth iam ({why}). Set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials or ~/.aws/config with \
                 AWS_PROFILE or --profile (aws sso login for SSO profiles)"
            ))
        })?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    /// What to check when AWS refuses a signed call (401/403).
    pub fn what_to_check(&self) -> String {
        let profile = match &self.profile {
            Some(profile) => format!("profile {profile}"),
            None => "AWS_PROFILE or the default profile".to_owned(),
        };
        format!(
            "AWS refused the signed request. Check: the AWS credentials ({profile}, or the \
             AWS_ACCESS_KEY_ID environment) are valid and of the function's account; the region \
             signed for, {}, is the function's (the URL's own, or --region); the function's \
             resource policy lets this identity call lambda:InvokeFunctionUrl; and the URL's \
             AuthType is AWS_IAM (a URL with AuthType NONE takes --auth hmac).",
            self.region
        )
    }
}

/// The SigV4 headers for `method url` with `body`, as `service` in `region` checks them at `time`.
pub fn sign_headers(
    credentials: &Credentials,
    region: &str,
    service: &str,
    method: &str,
    url: &str,
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>, RemoteError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        RemoteError::Failed(format!("cannot sign the request ({what}: {e})"))
    };
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed("parameters", &e))?
        .into();
    let request = SignableRequest::new(method, url, std::iter::empty(), SignableBody::Bytes(body))
        .map_err(|e| failed("request", &e))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| failed("signature", &e))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite (the `aws-signing-test-suite/v4` cases the SDK ships): credentials
    /// AKIDEXAMPLE, region us-east-1, service "service", 2015-08-30T12:36:00Z.
    #[test]
    fn published_test_vectors() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        // (case, method, URL, session token, signed headers, signature)
        type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, &'a str);
        #[rustfmt::skip]
        let cases: &[Case<'_>] = &[
            ("get-vanilla", "GET", "https://example.amazonaws.com/", None, "host;x-amz-date",
             "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            ("get-vanilla-query-order-key-case", "GET",
             "https://example.amazonaws.com/?Param2=value2&Param1=value1", None, "host;x-amz-date",
             "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
            ("post-vanilla", "POST", "https://example.amazonaws.com/", None, "host;x-amz-date",
             "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            ("get-vanilla-with-session-token", "GET", "https://example.amazonaws.com/", Some(token),
             "host;x-amz-date;x-amz-security-token",
             "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
        ];
        for (name, method, url, session, signed, signature) in cases {
            let credentials = Credentials::new(
                "AKIDEXAMPLE",
                secret,
                session.map(str::to_owned),
                None,
                "test",
            );
            let headers =
                sign_headers(&credentials, "us-east-1", "service", method, url, b"", time)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            let get = |wanted: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(get("x-amz-date"), Some("20150830T123600Z"), "{name}");
            assert_eq!(
                get("authorization"),
                Some(
                    format!(
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/\
                         aws4_request, SignedHeaders={signed}, Signature={signature}"
                    )
                    .as_str()
                ),
                "{name}"
            );
            assert_eq!(get("x-amz-security-token"), *session, "{name}");
            assert!(
                headers.iter().all(|(_, v)| !v.contains(secret)),
                "{name}: the secret key is never sent"
            );
        }
    }

    #[tokio::test]
    async fn debug_and_advice_hold_no_credentials() {
        let signer = IamSigner::from_chain(Some("trader"), "eu-west-1".to_owned()).await;
        let shown = format!("{signer:?}");
        assert!(
            shown.contains("eu-west-1") && shown.contains("trader"),
            "{shown}"
        );
        let advice = signer.what_to_check();
        for needed in ["eu-west-1", "lambda:InvokeFunctionUrl", "profile trader"] {
            assert!(advice.contains(needed), "{needed:?} in {advice}");
        }
    }
}
