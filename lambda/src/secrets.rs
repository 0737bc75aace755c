//! The credentials: BitMEX key and secret, and the route secret for HMAC-signed routes.
//!
//! In AWS they live in one Secrets Manager secret (JSON: `bitmex_key`, `bitmex_secret`,
//! `route_secret`) read once per cold start; locally, environment variables may supply them. A
//! [`Secret`] prints as `***` everywhere (Debug, Display), and no error of this module carries a secret
//! value: parse errors of the secret's JSON give only its shape, never its text.

use core::fmt;

/// The placeholder the SAM template writes into the secret until the user puts real keys there.
pub(crate) const PLACEHOLDER: &str = "REPLACE_ME";

/// Shortest route secret accepted (the template generates 48 characters).
pub(crate) const MIN_ROUTE_SECRET_LEN: usize = 16;

/// A secret string. Its `Debug` and `Display` print `***`; read it only with [`Secret::expose`] where
/// it is used (signing), never to log or return it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A credential that cannot be used, naming the field of the secret JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("secret field {field}: {problem}")]
pub struct SecretFieldError {
    /// `bitmex_key`, `bitmex_secret` or `route_secret`.
    pub field: &'static str,
    /// What is wrong (never the value).
    pub problem: String,
}

/// The function's credentials, checked to be present and not the template's placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    bitmex_key: Secret,
    bitmex_secret: Secret,
    route_secret: Option<Secret>,
}

impl Secrets {
    /// Checks and bundles the credentials.
    pub fn new(
        bitmex_key: Secret,
        bitmex_secret: Secret,
        route_secret: Option<Secret>,
    ) -> Result<Self, SecretFieldError> {
        for (field, value) in [
            ("bitmex_key", &bitmex_key),
            ("bitmex_secret", &bitmex_secret),
        ] {
            check_credential(field, value.expose())?;
        }
        if let Some(route) = &route_secret
            && route.expose().chars().count() < MIN_ROUTE_SECRET_LEN
        {
            return Err(SecretFieldError {
                field: "route_secret",
                problem: format!("must be at least {MIN_ROUTE_SECRET_LEN} characters"),
            });
        }
        Ok(Secrets {
            bitmex_key,
            bitmex_secret,
            route_secret,
        })
    }

    /// The BitMEX API key id.
    pub fn bitmex_key(&self) -> &Secret {
        &self.bitmex_key
    }

    /// The BitMEX API secret.
    pub fn bitmex_secret(&self) -> &Secret {
        &self.bitmex_secret
    }

    /// The route secret, if one was given (required for HMAC route auth).
    pub fn route_secret(&self) -> Option<&Secret> {
        self.route_secret.as_ref()
    }

    /// Parses the secret's JSON text (`{"bitmex_key": ..., "bitmex_secret": ..., "route_secret": ...}`;
    /// other fields are ignored so users may keep notes beside the keys).
    #[cfg(any(feature = "aws", test))]
    pub(crate) fn from_json(text: &str) -> Result<Self, SecretsError> {
        // Parsed into a Value first: serde's messages for typed fields quote the offending value,
        // which here would be a credential.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| SecretsError::NotJson)?;
        let object = value.as_object().ok_or(SecretsError::NotJson)?;
        let field = |name: &'static str| -> Result<Option<Secret>, SecretsError> {
            match object.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(Secret::new(s.clone()))),
                Some(_) => Err(SecretsError::Field(SecretFieldError {
                    field: name,
                    problem: "must be a string".to_owned(),
                })),
            }
        };
        let missing = |name: &'static str| {
            SecretsError::Field(SecretFieldError {
                field: name,
                problem: "is missing".to_owned(),
            })
        };
        let key = field("bitmex_key")?.ok_or_else(|| missing("bitmex_key"))?;
        let secret = field("bitmex_secret")?.ok_or_else(|| missing("bitmex_secret"))?;
        let route = field("route_secret")?;
        Secrets::new(key, secret, route).map_err(SecretsError::Field)
    }
}

fn check_credential(field: &'static str, value: &str) -> Result<(), SecretFieldError> {
    let problem = match credential_problem(value) {
        None => return Ok(()),
        Some(CredentialProblem::Placeholder) if value.trim() == PLACEHOLDER => format!(
            "still holds the placeholder {PLACEHOLDER}: put your BitMEX API key into the secret \
             (aws secretsmanager put-secret-value)"
        ),
        Some(problem) => problem.to_string(),
    };
    Err(SecretFieldError { field, problem })
}

/// Why a value cannot be a BitMEX key id or secret. Its `Display` never holds the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialProblem {
    /// Empty, or only whitespace.
    #[error("is empty")]
    Empty,
    /// A stand-in from a template or an example (`REPLACE_ME`, `changeme`, `xxx`, `your-key`, ...).
    #[error("is a placeholder, not a real BitMEX credential")]
    Placeholder,
    /// Holds whitespace (a pasted line break or a quote gone wrong) or is far too long.
    #[error("must be a single token without spaces")]
    NotAToken,
}

/// Words that stand in for a key in templates and examples, compared after [`placeholder_form`].
const PLACEHOLDER_WORDS: &[&str] = &[
    "replaceme",
    "changeme",
    "yourkey",
    "yoursecret",
    "yourapikey",
    "yourapisecret",
    "yourkeyid",
    "apikey",
    "apisecret",
    "key",
    "secret",
    "placeholder",
    "todo",
    "fixme",
    "none",
    "null",
];

/// Lower case, without the punctuation examples dress placeholders in (`<your-key>`, `CHANGE_ME`).
fn placeholder_form(value: &str) -> String {
    value
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '<' | '>' | '{' | '}' | '[' | ']' | '-' | '_' | '.' | '"' | '\''
            )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The one check of a BitMEX key id or secret, for the function's secret and `maestro run --live`
/// alike: `None` when it may be a real credential.
///
/// ```
/// use maestro_lambda::secrets::{CredentialProblem, credential_problem};
/// assert_eq!(credential_problem("LAqUlngMIQkIUjXMUreyu3qn"), None);
/// assert_eq!(credential_problem(" "), Some(CredentialProblem::Empty));
/// assert_eq!(credential_problem("<your-key>"), Some(CredentialProblem::Placeholder));
/// assert_eq!(credential_problem("a key"), Some(CredentialProblem::NotAToken));
/// ```
pub fn credential_problem(value: &str) -> Option<CredentialProblem> {
    let trimmed = value.trim();
    let form = placeholder_form(trimmed);
    if trimmed.is_empty() {
        Some(CredentialProblem::Empty)
    } else if PLACEHOLDER_WORDS.contains(&form.as_str())
        || form.chars().all(|c| matches!(c, 'x' | '*'))
    {
        Some(CredentialProblem::Placeholder)
    } else if value.chars().any(char::is_whitespace) || value.len() > 200 {
        Some(CredentialProblem::NotAToken)
    } else {
        None
    }
}

/// Reading the secret failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// Secrets Manager could not be reached or refused (permissions, unknown secret, throttling).
    #[error("reading the secret from Secrets Manager failed: {0}")]
    Fetch(String),
    /// The secret holds no string, or its text is not a JSON object.
    #[error("the secret is not a JSON object with bitmex_key, bitmex_secret and route_secret")]
    NotJson,
    /// A field is missing or unusable.
    #[error(transparent)]
    Field(SecretFieldError),
}

/// Reads and checks the credentials from one Secrets Manager secret (once per cold start).
#[cfg(feature = "aws")]
pub async fn load_from_secrets_manager(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<Secrets, SecretsError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            SecretsError::Fetch(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())
        })?;
    let text = out.secret_string().ok_or(SecretsError::NotJson)?;
    Secrets::from_json(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        let all = Secrets::new(
            s.clone(),
            Secret::new("bitmex-secret-value"),
            Some(Secret::new("route-secret-0123456789")),
        )
        .expect("valid");
        let debug = format!("{all:?}");
        for value in ["hunter2", "bitmex-secret-value", "route-secret-0123456789"] {
            assert!(!debug.contains(value), "{debug}");
        }
    }

    #[test]
    fn json_errors_name_the_field_never_the_value() {
        let cases = [
            (r#"{"bitmex_secret":"s"}"#, "bitmex_key"),
            (r#"{"bitmex_key":"k"}"#, "bitmex_secret"),
            (
                r#"{"bitmex_key":"REPLACE_ME","bitmex_secret":"s"}"#,
                "bitmex_key",
            ),
            (
                r#"{"bitmex_key":"k","bitmex_secret":12345678}"#,
                "bitmex_secret",
            ),
            (
                r#"{"bitmex_key":"k","bitmex_secret":"s","route_secret":"abc"}"#,
                "route_secret",
            ),
        ];
        for (json, field) in cases {
            match Secrets::from_json(json) {
                Err(SecretsError::Field(e)) => {
                    assert_eq!(e.field, field, "{json}");
                    assert!(!e.to_string().contains("12345678"), "{e}");
                }
                other => panic!("{json}: expected a field error, got {other:?}"),
            }
        }
        let err = Secrets::from_json(r#"{"bitmex_key": "topsecretvalue" "#).expect_err("broken");
        assert!(!err.to_string().contains("topsecretvalue"), "{err}");
        assert!(matches!(
            Secrets::from_json("[1]"),
            Err(SecretsError::NotJson)
        ));
    }

    #[test]
    fn credentials_table() {
        let cases: &[(&str, Option<CredentialProblem>)] = &[
            ("LAqUlngMIQkIUjXMUreyu3qn", None),
            ("chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO", None),
            ("maestro-test-key", None),
            ("k", None),
            ("", Some(CredentialProblem::Empty)),
            (" \t\n", Some(CredentialProblem::Empty)),
            ("REPLACE_ME", Some(CredentialProblem::Placeholder)),
            ("changeme", Some(CredentialProblem::Placeholder)),
            ("Change-Me", Some(CredentialProblem::Placeholder)),
            ("xxx", Some(CredentialProblem::Placeholder)),
            ("XXXXXXXXXXXX", Some(CredentialProblem::Placeholder)),
            ("***", Some(CredentialProblem::Placeholder)),
            ("your-key", Some(CredentialProblem::Placeholder)),
            ("<YOUR_API_SECRET>", Some(CredentialProblem::Placeholder)),
            ("\"your-key\"", Some(CredentialProblem::Placeholder)),
            (" changeme ", Some(CredentialProblem::Placeholder)),
            ("two words", Some(CredentialProblem::NotAToken)),
            ("key\n", Some(CredentialProblem::Placeholder)),
            ("abc\n", Some(CredentialProblem::NotAToken)),
        ];
        for (value, expected) in cases {
            assert_eq!(credential_problem(value), *expected, "{value:?}");
            if let Some(problem) = expected {
                let text = problem.to_string();
                assert!(
                    value.trim().len() < 3 || !text.contains(value.trim()),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn route_secret_optional_and_extra_fields_ignored() {
        let s = Secrets::from_json(r#"{"bitmex_key":"k","bitmex_secret":"s","note":"testnet"}"#)
            .expect("valid");
        assert!(s.route_secret().is_none());
        assert_eq!(s.bitmex_key().expose(), "k");
    }
}
