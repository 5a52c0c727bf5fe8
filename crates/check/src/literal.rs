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

/// Compares two numbers written as plain decimals (what [`parse_number`] reads) exactly,
/// digit by digit, whatever their size: `9007199254740993` > `9007199254740992` although both
/// read as the same 64-bit float, and `0.10` = `0.1`. `None` when either text is not such a
/// number. Allocates nothing.
///
/// ```
/// use cohort_check::literal::compare_decimal;
/// use std::cmp::Ordering;
/// assert_eq!(compare_decimal("9007199254740993", "9007199254740992"), Some(Ordering::Greater));
/// assert_eq!(compare_decimal("0.10", "1e-1"), Some(Ordering::Equal));
/// assert_eq!(compare_decimal("-2", "1"), Some(Ordering::Less));
/// assert_eq!(compare_decimal("ten", "1"), None);
/// ```
pub fn compare_decimal(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (Decimal::parse(a)?, Decimal::parse(b)?);
    let sign = |d: &Decimal<'_>| match (d.is_zero(), d.negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    let by_sign = sign(&a).cmp(&sign(&b));
    if by_sign.is_ne() || sign(&a) == 0 {
        return Some(by_sign);
    }
    let magnitude = a
        .exponent
        .cmp(&b.exponent)
        .then_with(|| compare_digit_runs(a.significant(), b.significant()));
    Some(if a.negative {
        magnitude.reverse()
    } else {
        magnitude
    })
}

/// A plain decimal as `0.DIGITS × 10^exponent`, `DIGITS` starting with a non-zero digit.
struct Decimal<'a> {
    negative: bool,
    /// The mantissa as written (digits and at most one `.`).
    mantissa: &'a str,
    /// How many leading zeros of the mantissa's digits to skip.
    leading_zeros: usize,
    /// Whether a non-zero digit exists.
    nonzero: bool,
    exponent: i64,
}

impl<'a> Decimal<'a> {
    fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let text = text.trim();
        let negative = text.starts_with('-');
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (unsigned.get(..at)?, Some(unsigned.get(at + 1..)?)),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !digits_only(whole) || !digits_only(fraction) {
            return None;
        }
        // Exponents are clamped far beyond any number a text of a few MiB can write.
        const CLAMP: i64 = 1 << 40;
        let written_exponent = match exponent {
            None => 0,
            Some(e) => {
                let negative_e = e.starts_with('-');
                let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
                if digits.is_empty() || !digits_only(digits) {
                    return None;
                }
                let value = digits
                    .bytes()
                    .fold(0i64, |acc, d| (acc * 10 + i64::from(d - b'0')).min(CLAMP));
                if negative_e { -value } else { value }
            }
        };
        let all_digits = whole.bytes().chain(fraction.bytes());
        let leading_zeros = all_digits.clone().take_while(|&d| d == b'0').count();
        let nonzero = all_digits.clone().any(|d| d != b'0');
        let whole_len = i64::try_from(whole.len()).ok()?;
        let skipped = i64::try_from(leading_zeros).ok()?;
        Some(Decimal {
            negative,
            mantissa,
            leading_zeros,
            nonzero,
            exponent: whole_len - skipped + written_exponent,
        })
    }

    fn is_zero(&self) -> bool {
        !self.nonzero
    }

    /// The significant digits (trailing zeros included).
    fn significant(&self) -> impl Iterator<Item = u8> + Clone + 'a {
        self.mantissa
            .bytes()
            .filter(|b| *b != b'.')
            .skip(self.leading_zeros)
    }
}

/// Compares two runs of digits as the fractions `0.A` and `0.B`: digit by digit, a longer
/// run greater only when one of its extra digits is not zero.
fn compare_digit_runs(
    mut a: impl Iterator<Item = u8>,
    mut b: impl Iterator<Item = u8>,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x != y => return x.cmp(&y),
            (Some(_), Some(_)) => {}
            (Some(x), None) => {
                return if x != b'0' || a.any(|d| d != b'0') {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                };
            }
            (None, Some(y)) => {
                return if y != b'0' || b.any(|d| d != b'0') {
                    Ordering::Less
                } else {
                    Ordering::Equal
                };
            }
            (None, None) => return Ordering::Equal,
        }
    }
}

/// Writes a number as text operators see it: its shortest decimal form that reads back as
/// the same number (`5`, `10.5`, `0.000001`, `123456789`), with an exponent when it is
/// 10^21 or more in size or less than 10^-6 (`1e21`, `1.5e-7`, `-2e30`), as JavaScript
/// writes numbers but without a `+` in the exponent. Zero is `0`.
///
/// ```
/// use cohort_check::literal::write_number;
/// let text = |n: f64| { let mut s = String::new(); write_number(n, &mut s).unwrap(); s };
/// assert_eq!(text(10.5), "10.5");
/// assert_eq!(text(1e20), "100000000000000000000");
/// assert_eq!(text(1e21), "1e21");
/// assert_eq!(text(0.000001), "0.000001");
/// assert_eq!(text(1.5e-7), "1.5e-7");
/// assert_eq!(text(-0.0), "0");
/// ```
pub fn write_number(number: f64, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    let size = number.abs();
    if number == 0.0 {
        out.write_str("0")
    } else if (1e-6..1e21).contains(&size) || !size.is_finite() {
        write!(out, "{number}")
    } else {
        write!(out, "{number:e}")
    }
}

/// A version: dot-separated whole numbers such as `10.0.19045.3803`, with an optional
/// leading `v` or `V`. A single whole number (`10`, `v2`) is a one-segment version.
/// Segments may have any number of digits: they are compared as whole numbers by their
/// digits, never through a fixed-size integer.
///
/// ```
/// use cohort_check::literal::Version;
/// let v = Version::parse("10.0.19045.3803").unwrap();
/// assert_eq!(v.segments().collect::<Vec<_>>(), ["10", "0", "19045", "3803"]);
/// assert!(Version::parse("10.0.9").unwrap() < Version::parse("10.0.10").unwrap());
/// assert!(Version::parse("1.99999999999999999999").unwrap() > Version::parse("1.18446744073709551615").unwrap());
/// assert!(Version::parse("Windows").is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Version(Box<str>);

impl Version {
    /// Reads a version; `None` when `text` is not one.
    pub fn parse(text: &str) -> Option<Version> {
        let body = version_body(text)?;
        let mut normal = String::with_capacity(body.len());
        for (index, segment) in body.split('.').enumerate() {
            if index > 0 {
                normal.push('.');
            }
            normal.push_str(significant_digits(segment));
        }
        Some(Version(normal.into_boxed_str()))
    }

    /// The segments, each without leading zeros (`010` is `10`, `00` is `0`).
    pub fn segments(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split('.')
    }

    /// Compares the version written in `text` with this one, segment by segment, missing
    /// segments counting as 0 (`10.0` = `10.0.0` = `10`). `None` when `text` is not a
    /// version.
    ///
    /// ```
    /// use cohort_check::literal::Version;
    /// use std::cmp::Ordering;
    /// let bound = Version::parse("2024.1.0").unwrap();
    /// assert_eq!(bound.compare_text("2023.12.7"), Some(Ordering::Less));
    /// assert_eq!(bound.compare_text("2024.1"), Some(Ordering::Equal));
    /// assert_eq!(bound.compare_text("v2024.1.0.1"), Some(Ordering::Greater));
    /// assert_eq!(bound.compare_text("new"), None);
    /// ```
    pub fn compare_text(&self, text: &str) -> Option<Ordering> {
        let body = version_body(text)?;
        Some(compare_segments(body.split('.'), self.segments()))
    }
}

/// Compares two sequences of digit segments, a missing segment counting as 0.
fn compare_segments<'a>(
    mut a: impl Iterator<Item = &'a str>,
    mut b: impl Iterator<Item = &'a str>,
) -> Ordering {
    loop {
        let ordering = match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => compare_whole(x.unwrap_or("0"), y.unwrap_or("0")),
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
}

/// `digits` without its leading zeros (`0` for zero).
fn significant_digits(digits: &str) -> &str {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() { "0" } else { trimmed }
}

/// Compares two runs of ASCII digits as whole numbers of any size.
fn compare_whole(a: &str, b: &str) -> Ordering {
    let (a, b) = (significant_digits(a), significant_digits(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Trailing zero segments do not count (`10.0` equals `10`).
        self.0.trim_end_matches(".0").hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_segments(self.segments(), other.segments())
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
                let colon = self.peek() == Some(b':');
                if colon {
                    self.at += 1;
                }
                // `+02`, `+0200` and `+02:00`; not `+02:`.
                let minutes = if colon || self.at < self.bytes.len() {
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
    let unit = unit.trim().to_ascii_lowercase();
    let (_, unit_millis) = cohort_syntax::DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)?;
    amount.checked_mul(*unit_millis)
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
        assert_eq!(v("10"), v("10.0.0"));
        assert_eq!(v("V010.1"), v("10.1"));
        assert_eq!(Version::parse("v"), None);
        assert_eq!(Version::parse("10..1"), None);
        assert_eq!(Version::parse("10."), None);
        assert_eq!(Version::parse("-1.2"), None);
        assert_eq!(Version::parse("1.2.3-beta"), None);
        assert_eq!(v("10.0.1").compare_text("10"), Some(Ordering::Less));
        assert_eq!(v("10.0").compare_text("10"), Some(Ordering::Equal));
        assert_eq!(v("1.2").compare_text("1.2.0.0.1"), Some(Ordering::Greater));
        assert_eq!(v("1.2").compare_text("1.a"), None);
        // Segments above 2^64 - 1 compare by their digits, never wrapping.
        let big = v("1.18446744073709551616");
        assert!(big > v("1.18446744073709551615"));
        assert_eq!(
            big.compare_text("1.018446744073709551616"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            big.compare_text("1.99999999999999999999999"),
            Some(Ordering::Greater)
        );
        use std::hash::BuildHasher;
        let state = std::hash::RandomState::new();
        assert_eq!(state.hash_one(v("10.0")), state.hash_one(v("10")));
    }

    #[test]
    fn decimals_compare_exactly() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, expected) in [
            ("9007199254740993", "9007199254740992", Greater),
            ("-9007199254740993", "-9007199254740992", Less),
            ("100", "1e2", Equal),
            ("0.1", ".10", Equal),
            ("0", "-0.0", Equal),
            ("1e-400", "0", Greater),
            ("-1e-400", "0", Less),
            ("12.5", "12.49999999999999999999", Greater),
            ("+7", "7.000", Equal),
            ("99", "100", Less),
            ("0.001", "0.01", Less),
            (" 5 ", "5", Equal),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567891",
                Less,
            ),
        ] {
            assert_eq!(compare_decimal(a, b), Some(expected), "{a} vs {b}");
            assert_eq!(
                compare_decimal(b, a),
                Some(expected.reverse()),
                "{b} vs {a}"
            );
        }
        for bad in ["", "-", ".", "1e", "e5", "1.2.3", "0x10", "ten", "1e+-2"] {
            assert_eq!(compare_decimal(bad, "1"), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_written_in_their_shortest_form() {
        let text = |n: f64| {
            let mut out = String::new();
            write_number(n, &mut out).unwrap();
            out
        };
        for (number, expected) in [
            (5.0, "5"),
            (-10.5, "-10.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e21"),
            (1.5e300, "1.5e300"),
            (999_999_999_999_999_900_000.0, "999999999999999900000"),
            (1e-7, "1e-7"),
            (-2.5e-9, "-2.5e-9"),
            (0.000001, "0.000001"),
            (9_007_199_254_740_993.0, "9007199254740992"),
        ] {
            assert_eq!(text(number), expected, "{number:e}");
            assert_eq!(parse_number(&text(number)), Some(number));
        }
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
        for same in [
            "2024-05-01 08:30:00Z",
            "2024-05-01t08:30:00z",
            "2024-05-01T10:30:00+0200",
            "2024-05-01T10:30:00+02:00",
            "2024-05-01T08:30",
            "2024-05-01T07:00-01:30",
        ] {
            assert_eq!(
                parse_date(same),
                parse_date("2024-05-01T08:30:00Z"),
                "{same}"
            );
        }
        for bad in [
            "2024-13-01",
            "2024-04-31",
            "2024-5-1",
            "2024-05-01T25:00",
            "2024-05-01T10:30:00Q",
            "2024-05-01x",
            "yesterday",
            "2024-05-01T10:30:00.",
            "2024-05-01T10:30:00+02:",
            "2024-05-01T10:30:00+2",
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
