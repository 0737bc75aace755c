//! Timestamps as candle files write them: integer milliseconds or ISO-8601 text, read exactly.

/// Parses a timestamp cell: all digits = milliseconds since the UNIX epoch; otherwise ISO-8601
/// (`2021-05-15T15:24:00Z`, `2021-12-31 23:01:00.000000`, `2020-05-29 00:00:00+00:00`). Text without a
/// zone is UTC. Fractions below a millisecond are dropped.
pub(crate) fn parse_timestamp(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .map_err(|_| format!("timestamp {text:?} is too large for milliseconds"));
    }
    parse_iso8601(text).ok_or_else(|| {
        format!(
            "timestamp {text:?} is neither milliseconds since the epoch nor ISO-8601 \
             (YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM])"
        )
    })
}

/// Parses the ISO-8601 subset candle files use. `None` when malformed or out of range.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            part.iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
        )
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let mut pos = 16;
    let mut second = 0;
    let mut millis = 0;
    if b.get(pos) == Some(&b':') {
        second = num(pos + 1, 2)?;
        pos += 3;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                if pos - start < 3 {
                    millis = millis * 10 + i64::from(b[pos] - b'0');
                }
                pos += 1;
            }
            if pos == start {
                return None;
            }
            for _ in (pos - start)..3 {
                millis *= 10;
            }
        }
    }
    let offset_min = match b.get(pos) {
        None => 0,
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(pos + 1, 2)?;
            let om = match (b.get(pos + 3), b.len() - pos) {
                (Some(b':'), 6) => num(pos + 4, 2)?,
                (Some(_), 5) => num(pos + 3, 2)?,
                (None, 3) => 0,
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if sign == b'+' { total } else { -total }
        }
        Some(_) => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-day algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats milliseconds since the epoch as `YYYY-MM-DD HH:MM[:SS]` UTC, for reports and errors.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let hm = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    );
    if rem % 60 == 0 {
        hm
    } else {
        format!("{hm}:{:02}", rem % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_shape_the_data_uses() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1621092240000", Some(1_621_092_240_000)),
            ("2021-05-15T15:24:00Z", Some(1_621_092_240_000)),
            ("2021-05-15T15:24:00.000Z", Some(1_621_092_240_000)),
            ("2021-05-15 15:24:00.000000", Some(1_621_092_240_000)),
            ("2021-05-15 15:24:00+00:00", Some(1_621_092_240_000)),
            ("2021-05-15T17:24:00+02:00", Some(1_621_092_240_000)),
            ("2021-05-15T13:24:00-0200", Some(1_621_092_240_000)),
            ("2021-05-15T15:24", Some(1_621_092_240_000)),
            ("2021-05-15T15:24:00.5Z", Some(1_621_092_240_500)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800_000)),
            ("2023-02-29T00:00:00Z", None),
            ("2021-13-01T00:00:00Z", None),
            ("2021-05-15T24:00:00Z", None),
            ("2021-05-15", None),
            ("2021-05-15T15:24:00Q", None),
            ("2021-05-15T15:24:00Zjunk", None),
            ("yesterday", None),
        ];
        for (text, want) in cases {
            let got = parse_timestamp(text).ok();
            assert_eq!(got, *want, "parsing {text:?}");
        }
    }

    #[test]
    fn formatting_inverts_parsing() {
        for text in [
            "2021-05-15 15:24",
            "1970-01-01 00:00",
            "2024-02-29 23:59",
            "2000-03-01 12:00",
        ] {
            let iso = format!("{}:00Z", text.replace(' ', "T"));
            let ms = parse_iso8601(&iso).unwrap_or(i64::MIN);
            assert_eq!(format_utc(ms), text, "round trip of {text}");
        }
    }
}
