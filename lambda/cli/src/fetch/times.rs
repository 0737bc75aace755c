//! Times as a user types them and as BitMEX writes them, in milliseconds since the UNIX epoch.

use super::FetchError;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses a time as a user gives it: `2020-05-29`, `2020-05-29T00:00`, `2020-05-29 00:00:00`,
/// `2020-05-29T00:00:00.000Z`, `2020-05-29T02:00:00+02:00`. A time without a zone is UTC.
///
/// ```
/// use maestro_cli::fetch::parse_time;
/// assert_eq!(parse_time("2020-05-29").ok(), Some(1_590_710_400_000));
/// assert_eq!(parse_time("2020-05-29 00:01").ok(), Some(1_590_710_460_000));
/// assert!(parse_time("May 29").is_err());
/// ```
pub fn parse_time(text: &str) -> Result<i64, FetchError> {
    parse_ms(text).ok_or_else(|| {
        FetchError::BadRange(format!(
            "{text:?} is not a time; write e.g. 2020-05-29, 2020-05-29T12:00 or 2020-05-29T12:00:00Z (UTC unless a zone is given)"
        ))
    })
}

/// The same parse without an error message; `None` when the text is not a time.
pub(crate) fn parse_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let mut s = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.replacen(' ', "T", 1)
    };
    let (_, clock) = s.split_once('T')?;
    let has_zone = clock.ends_with('Z') || clock.ends_with('z') || clock.contains(['+', '-']);
    // `HH:MM` without seconds is how people write times; RFC 3339 wants the seconds.
    let hh_mm = clock
        .split(['Z', 'z', '+', '-'])
        .next()
        .is_some_and(|c| c.len() == 5);
    if hh_mm {
        let at = s.find('T')? + 6;
        s.insert_str(at, ":00");
    }
    if !has_zone {
        s.push('Z');
    }
    let t = OffsetDateTime::parse(&s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// BitMEX's spelling of a time: `2020-05-29T00:01:00.000Z`.
pub fn iso(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => {
            let (h, m, s) = t.to_hms();
            format!(
                "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.millisecond()
            )
        }
        Err(_) => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_times_parse_to_utc_milliseconds() {
        let may29 = 1_590_710_400_000;
        let cases: &[(&str, Option<i64>)] = &[
            ("2020-05-29", Some(may29)),
            ("2020-05-29T00:01", Some(may29 + 60_000)),
            ("2020-05-29 00:01", Some(may29 + 60_000)),
            ("2020-05-29T00:01:00Z", Some(may29 + 60_000)),
            ("2020-05-29T00:01:00.000Z", Some(may29 + 60_000)),
            ("2020-05-29 00:00:00+00:00", Some(may29)),
            ("2020-05-29T02:00+02:00", Some(may29)),
            ("2020-05-29T02:00:00+02:00", Some(may29)),
            ("", None),
            ("2020-13-01", None),
            ("2020-05-29T25:00", None),
            ("yesterday", None),
            ("1590710400000", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ms(text), *want, "{text:?}");
        }
        assert_eq!(iso(may29 + 60_000), "2020-05-29T00:01:00.000Z");
    }
}
