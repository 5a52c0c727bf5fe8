//! Reading text as numbers, dates, versions and durations.
//!
//! The same functions read literals at check time and attribute values at evaluation time,
//! so the two can never disagree. None of them allocates.

use std::cmp::Ordering;

/// Reads a plain decimal number: optional sign, digits, optional fraction and exponent.
/// Words such as `inf` or `NaN`, hex and empty text are not numbers.
///
/// ```
/// use cohort_check::literal::parse_number;
/// assert_eq!(parse_number(" 10.5 "), Some(10.5));
/// assert_eq!(parse_number("-3e2"), Some(-300.0));
/// assert_eq!(parse_number("NaN"), None);
/// assert_eq!(parse_number("10.0.1"), None);
/// ```
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let starts_numeric = unsigned
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.');
    let plain = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if !starts_numeric || !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A version: dot-separated unsigned integers such as `10.0.19045.3803`, with an optional
/// leading `v`. At least two segments (a single integer is a number).
///
/// ```
/// use cohort_check::literal::Version;
/// let v = Version::parse("10.0.19045.3803").unwrap();
/// assert_eq!(v.segments(), [10, 0, 19045, 3803]);
/// assert!(Version::parse("10.0.9").unwrap() < Version::parse("10.0.10").unwrap());
/// assert!(Version::parse("Windows").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(Vec<u64>);

impl Version {
    /// Reads a version; `None` when `text` is not one.
    pub fn parse(text: &str) -> Option<Version> {
        let body = version_body(text)?;
        let segments: Option<Vec<u64>> = body.split('.').map(|s| s.parse().ok()).collect();
        segments.filter(|s| s.len() >= 2).map(Version)
    }

    /// The numeric segments.
    pub fn segments(&self) -> &[u64] {
        &self.0
    }

    /// Compares the version written in `text` with this one, segment by segment, missing
    /// segments counting as 0 (`10.0` = `10.0.0`). A single integer counts as a one-segment
    /// version here. `None` when `text` is not a version.
    ///
    /// ```
    /// use cohort_check::literal::Version;
    /// use std::cmp::Ordering;
    /// let bound = Version::parse("2024.1.0").unwrap();
    /// assert_eq!(bound.compare_text("2023.12.7"), Some(Ordering::Less));
    /// assert_eq!(bound.compare_text("2024.1"), Some(Ordering::Equal));
    /// assert_eq!(bound.compare_text("2024.1.0.1"), Some(Ordering::Greater));
    /// assert_eq!(bound.compare_text("new"), None);
    /// ```
    pub fn compare_text(&self, text: &str) -> Option<Ordering> {
        let body = version_body(text)?;
        let mut ordering = Ordering::Equal;
        let mut count = 0;
        for part in body.split('.') {
            let segment: u64 = part.parse().ok()?;
            let bound = self.0.get(count).copied().unwrap_or(0);
            if ordering == Ordering::Equal {
                ordering = segment.cmp(&bound);
            }
            count += 1;
        }
        if ordering == Ordering::Equal && self.0.iter().skip(count).any(|&s| s > 0) {
            ordering = Ordering::Less;
        }
        Some(ordering)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.0.len().max(other.0.len());
        (0..len)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

fn version_body(text: &str) -> Option<&str> {
    let text = text.trim();
    let body = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let well_formed = !body.is_empty()
        && body
            .split('.')
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    well_formed.then_some(body)
}

/// Reads an ISO 8601 date or date-time as milliseconds since 1970-01-01T00:00:00Z.
///
/// Accepted: `2024-05-01`, `2024-05-01T10:30`, `2024-05-01T10:30:15`, fractions of a second,
/// a space instead of `T`, and a zone `Z`, `+02:00`, `+0200` or `+02`. Without a zone the
/// time is taken as UTC.
///
/// ```
/// use cohort_check::literal::parse_date;
/// assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
/// assert_eq!(parse_date("2024-02-29T12:00:00+02:00"), parse_date("2024-02-29T10:00:00Z"));
/// assert_eq!(parse_date("2023-02-29"), None);
/// ```
pub fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.trim().as_bytes();
    let mut cursor = Cursor { bytes, at: 0 };
    let year = cursor.digits(4)?;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis_of_day = 0;
    let mut offset_minutes = 0;
    if matches!(cursor.peek(), Some(b'T' | b't' | b' ')) {
        cursor.at += 1;
        let hour = cursor.digits(2)?;
        cursor.expect(b':')?;
        let minute = cursor.digits(2)?;
        let mut second = 0;
        let mut millis = 0;
        if cursor.peek() == Some(b':') {
            cursor.at += 1;
            second = cursor.digits(2)?;
            if matches!(cursor.peek(), Some(b'.' | b',')) {
                cursor.at += 1;
                let start = cursor.at;
                let mut scale = 100;
                while let Some(d) = cursor.peek().filter(u8::is_ascii_digit) {
                    millis += i64::from(d - b'0') * scale;
                    scale /= 10;
                    cursor.at += 1;
                }
                if cursor.at == start {
                    return None;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        millis_of_day = ((hour * 60 + minute) * 60 + second) * 1000 + millis;
        offset_minutes = cursor.zone()?;
    }
    if cursor.at != bytes.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + millis_of_day - offset_minutes * 60_000)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn digits(&mut self, count: usize) -> Option<i64> {
        let digits = self.bytes.get(self.at..self.at + count)?;
        let mut value = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(d - b'0');
        }
        self.at += count;
        Some(value)
    }

    /// A zone designator, as minutes east of UTC; absent means UTC.
    fn zone(&mut self) -> Option<i64> {
        match self.peek() {
            None => Some(0),
            Some(b'Z' | b'z') => {
                self.at += 1;
                Some(0)
            }
            Some(sign @ (b'+' | b'-')) => {
                self.at += 1;
                let hours = self.digits(2)?;
                if self.peek() == Some(b':') {
                    self.at += 1;
                }
                let minutes = if self.at < self.bytes.len() {
                    self.digits(2)?
                } else {
                    0
                };
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let total = hours * 60 + minutes;
                Some(if sign == b'-' { -total } else { total })
            }
            Some(_) => None,
        }
    }
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Reads a duration such as `30 days`, `12 hours`, `2 weeks`, `90 minutes`, `30d`, `12h`
/// (a trailing `ago` is allowed), as milliseconds.
///
/// ```
/// use cohort_check::literal::parse_duration;
/// assert_eq!(parse_duration("30 days"), Some(30 * 86_400_000));
/// assert_eq!(parse_duration("12h"), Some(12 * 3_600_000));
/// assert_eq!(parse_duration("1 day ago"), Some(86_400_000));
/// assert_eq!(parse_duration("soon"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix("ago").unwrap_or(text).trim_end();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (amount, unit) = text.split_at(split);
    let amount: i64 = amount.parse().ok()?;
    let unit_millis = match unit.trim().to_ascii_lowercase().as_str() {
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        _ => return None,
    };
    amount.checked_mul(unit_millis)
}

/// Reads a flag as consoles write it: `true`/`false`, `yes`/`no`, `1`/`0`, `on`/`off`.
///
/// ```
/// assert_eq!(cohort_check::literal::parse_flag("True"), Some(true));
/// assert_eq!(cohort_check::literal::parse_flag("maybe"), None);
/// ```
pub fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (text, expected) in [
            ("0", Some(0.0)),
            ("+7", Some(7.0)),
            (".5", Some(0.5)),
            ("1e3", Some(1000.0)),
            ("", None),
            ("-", None),
            ("inf", None),
            ("infinity", None),
            ("0x10", None),
            ("12 GB", None),
            ("1e999", None),
        ] {
            assert_eq!(parse_number(text), expected, "{text:?}");
        }
    }

    #[test]
    fn versions_compare_segment_wise() {
        let v = |t| Version::parse(t).unwrap();
        assert!(v("10.0.9") < v("10.0.10"));
        assert_eq!(v("10.0").cmp(&v("10.0.0")), Ordering::Equal);
        assert!(v("v2.1") > v("2.0.99"));
        assert_eq!(Version::parse("10"), None);
        assert_eq!(Version::parse("10..1"), None);
        assert_eq!(Version::parse("1.2.3-beta"), None);
        assert_eq!(v("10.0.1").compare_text("10"), Some(Ordering::Less));
        assert_eq!(v("10.0").compare_text("10"), Some(Ordering::Equal));
        assert_eq!(v("1.2").compare_text("1.2.0.0.1"), Some(Ordering::Greater));
        assert_eq!(v("1.2").compare_text("1.a"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1969-12-31"), Some(-86_400_000));
        assert_eq!(parse_date("2000-03-01"), Some(951_868_800_000));
        assert_eq!(
            parse_date("2024-05-01 10:30"),
            parse_date("2024-05-01T10:30:00Z")
        );
        assert_eq!(
            parse_date("2024-05-01T10:30:00.250Z"),
            Some(parse_date("2024-05-01T10:30:00Z").unwrap() + 250)
        );
        assert_eq!(
            parse_date("2024-05-01T10:30:00-0130"),
            parse_date("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            parse_date("2024-05-01T10:30:00+02"),
            parse_date("2024-05-01T08:30:00Z")
        );
        for bad in [
            "2024-13-01",
            "2024-04-31",
            "2024-5-1",
            "2024-05-01T25:00",
            "2024-05-01T10:30:00Q",
            "2024-05-01x",
            "yesterday",
            "2024-05-01T10:30:00.",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_and_flags() {
        assert_eq!(parse_duration("2 weeks"), Some(14 * 86_400_000));
        assert_eq!(parse_duration("90 MINUTES"), Some(90 * 60_000));
        assert_eq!(parse_duration("days"), None);
        assert_eq!(parse_duration("-3 days"), None);
        assert_eq!(parse_duration("99999999999999999999 days"), None);
        assert_eq!(parse_flag(" off "), Some(false));
    }
}
