//! The AWS region a SigV4 signature is scoped to.
//!
//! A function URL names its region (`https://<id>.lambda-url.<region>.on.aws`), and AWS refuses a
//! signature scoped to any other, with a 403 that does not say which region it wanted. So the
//! region comes from the URL; `--region` is for URLs that do not name one (a custom domain, a test
//! server), and a `--region` that contradicts the URL is refused before anything is sent.

use super::RemoteError;

/// The region named by a function URL's host, if it is one (`<id>.lambda-url.<region>.on.aws`).
pub fn region_of_url(url: &str) -> Option<String> {
    let host = reqwest::Url::parse(url)
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    let rest = host.strip_suffix(".on.aws")?;
    let (_, region) = rest.split_once(".lambda-url.")?;
    let plausible = !region.is_empty()
        && !region.contains('.')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plausible.then(|| region.to_owned())
}

/// The region to sign for: the URL's, or `--region` when the URL names none; an error when the two
/// disagree or neither gives one.
pub fn signing_region(url: &str, flag: Option<&str>) -> Result<String, RemoteError> {
    let flag = flag.map(str::trim).filter(|r| !r.is_empty());
    match (region_of_url(url), flag) {
        (Some(from_url), Some(given)) if !from_url.eq_ignore_ascii_case(given) => {
            Err(RemoteError::Usage(format!(
                "--region {given} contradicts the function URL, which is in {from_url}: AWS \
                 refuses a signature for another region (drop --region, or check the URL)"
            )))
        }
        (Some(from_url), _) => Ok(from_url),
        (None, Some(given)) => Ok(given.to_owned()),
        (None, None) => Err(RemoteError::Usage(format!(
            "{url} does not name an AWS region (a function URL reads \
             https://<id>.lambda-url.<region>.on.aws): give --region"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_urls_and_flags() {
        let url = "https://abcdefgh123.lambda-url.eu-west-1.on.aws/";
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>, Result<&str, ()>)] = &[
            (url, None, Ok("eu-west-1")),
            (url, Some("eu-west-1"), Ok("eu-west-1")),
            (url, Some(" "), Ok("eu-west-1")),
            (url, Some("us-east-1"), Err(())),
            ("https://ABC.LAMBDA-URL.US-EAST-2.ON.AWS", None, Ok("us-east-2")),
            ("https://abc.lambda-url.ap-southeast-2.on.aws/status?bot=x", None, Ok("ap-southeast-2")),
            ("http://127.0.0.1:9000", Some("us-east-1"), Ok("us-east-1")),
            ("http://127.0.0.1:9000", None, Err(())),
            ("https://bot.example.com", None, Err(())),
            ("https://abc.lambda-url..on.aws", None, Err(())),
            ("https://abc.lambda-url.a.b.on.aws", Some("us-east-1"), Ok("us-east-1")),
            ("https://lambda-url.eu-west-1.on.aws.evil.example", None, Err(())),
        ];
        for (i, (url, flag, expected)) in cases.iter().enumerate() {
            let got = signing_region(url, *flag);
            match expected {
                Ok(region) => assert_eq!(
                    got.as_deref().ok(),
                    Some(*region),
                    "case {i}: {url} {flag:?}"
                ),
                Err(()) => assert!(got.is_err(), "case {i}: {url} {flag:?} gave {got:?}"),
            }
        }
        let contradiction = signing_region(url, Some("us-east-1")).expect_err("contradiction");
        assert!(
            contradiction.to_string().contains("eu-west-1"),
            "the error names the URL's region: {contradiction}"
        );
    }
}
