//! Dates and timestamps as the RFC 3339 text cohort reads dates from.
//!
//! A `Date32` (or a whole-day `Date64`) is written `2026-11-25`; an instant (`Timestamp` of
//! any unit, or a `Date64` that is not a whole day) is written in UTC,
//! `2026-11-25T12:00:00Z`, with as many fraction digits as it needs (`.5`, `.123456`), none
//! when it falls on a second. Years outside 0000..=9999 are written with a sign
//! (`+10000-01-01`, `-0001-12-31`), which cohort does not read as a date: such a value is
//! text and no date test holds on it.

/// The texts of one column, end to end, written once per batch.
pub(crate) struct Texts {
    text: String,
    /// Where each value's text ends (it starts where the previous one ends).
    ends: Vec<usize>,
}

const MILLIS_PER_DAY: i64 = 86_400_000;

impl Texts {
    fn with_capacity(values: usize, bytes_each: usize) -> Texts {
        Texts {
            text: String::with_capacity(values.saturating_mul(bytes_each)),
            ends: Vec::with_capacity(values),
        }
    }

    /// Days since 1970-01-01, as dates.
    pub(crate) fn of_days(days: &[i32]) -> Texts {
        let mut texts = Texts::with_capacity(days.len(), 10);
        for &day in days {
            push_date(&mut texts.text, i64::from(day));
            texts.ends.push(texts.text.len());
        }
        texts
    }

    /// Milliseconds since the epoch (`Date64`): a date when it is a whole day, else an
    /// instant.
    pub(crate) fn of_date_millis(millis: &[i64]) -> Texts {
        let mut texts = Texts::with_capacity(millis.len(), 10);
        for &value in millis {
            push_date_millis(&mut texts.text, value);
            texts.ends.push(texts.text.len());
        }
        texts
    }

    /// Instants counted in units of which there are `per_second` in a second.
    pub(crate) fn of_instants(values: &[i64], per_second: i64) -> Texts {
        let mut texts = Texts::with_capacity(values.len(), 20);
        for &value in values {
            push_instant(&mut texts.text, value, per_second);
            texts.ends.push(texts.text.len());
        }
        texts
    }

    /// The text of value `index`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..end)
    }
}

/// Writes the date of `days` since 1970-01-01: `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut String, days: i64) {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        push_digits(out, year, 4);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{year:+05}");
    }
    out.push('-');
    push_digits(out, month, 2);
    out.push('-');
    push_digits(out, day, 2);
}

/// Writes a `Date64` value (milliseconds since the epoch): a date when it is a whole day,
/// else an instant.
pub(crate) fn push_date_millis(out: &mut String, millis: i64) {
    if millis.rem_euclid(MILLIS_PER_DAY) == 0 {
        push_date(out, millis.div_euclid(MILLIS_PER_DAY));
    } else {
        push_instant(out, millis, 1_000);
    }
}

/// Writes the instant `value` (in units of which there are `per_second` in a second, a power
/// of ten from 1 to 10^9) in UTC: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
pub(crate) fn push_instant(out: &mut String, value: i64, per_second: i64) {
    let per_second = per_second.max(1);
    let seconds = value.div_euclid(per_second);
    let fraction = value.rem_euclid(per_second);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    push_date(out, days);
    out.push('T');
    push_digits(out, of_day / 3600, 2);
    out.push(':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(':');
    push_digits(out, of_day % 60, 2);
    if fraction != 0 {
        out.push('.');
        // The fraction's digits, as many as the unit has, without trailing zeros.
        let mut width = 0;
        let mut unit = per_second;
        while unit > 1 {
            unit /= 10;
            width += 1;
        }
        let mut fraction = fraction;
        while fraction % 10 == 0 && width > 0 {
            fraction /= 10;
            width -= 1;
        }
        push_digits(out, fraction, width);
    }
    out.push('Z');
}

/// Writes `value` (non-negative) in `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: i64, width: usize) {
    let mut digits = [b'0'; 20];
    let width = width.min(digits.len());
    let mut rest = value.unsigned_abs();
    for slot in digits.iter_mut().take(width).rev() {
        // `rest % 10` is a digit.
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    for &digit in digits.iter().take(width) {
        out.push(char::from(digit));
    }
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm), for any
/// `i64` day count an Arrow value can give.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = (yoe + era.saturating_mul(400)).saturating_add(i64::from(month <= 2));
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(value: i64, per_second: i64) -> String {
        let mut out = String::new();
        push_instant(&mut out, value, per_second);
        out
    }

    fn date(days: i64) -> String {
        let mut out = String::new();
        push_date(&mut out, days);
        out
    }

    #[test]
    fn instants_are_rfc_3339_in_utc() {
        assert_eq!(instant(1_795_608_000, 1), "2026-11-25T12:00:00Z");
        assert_eq!(instant(1_795_608_000_500, 1_000), "2026-11-25T12:00:00.5Z");
        assert_eq!(
            instant(1_795_608_000_123_456, 1_000_000),
            "2026-11-25T12:00:00.123456Z"
        );
        assert_eq!(instant(1, 1_000_000_000), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(instant(-1, 1_000), "1969-12-31T23:59:59.999Z");
        assert_eq!(instant(0, 1), "1970-01-01T00:00:00Z");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(-719_529), "-0001-12-31");
        assert_eq!(date(2_932_897), "+10000-01-01");
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_instant() {
        for (value, per_second) in [
            (1_795_608_000_123_i64, 1_000),
            (-86_400_001, 1_000),
            (253_402_300_799, 1),
            (951_782_400_999_999, 1_000_000),
        ] {
            let text = instant(value, per_second);
            let millis = (i128::from(value) * 1000).div_euclid(i128::from(per_second));
            assert_eq!(
                cohort_engine::Timestamp::parse(&text).map(|t| i128::from(t.unix_millis())),
                Some(millis),
                "{text}"
            );
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        for value in [i64::MIN, i64::MAX] {
            assert!(!instant(value, 1).is_empty());
            assert!(!instant(value, 1_000_000_000).is_empty());
            assert!(!date(value).is_empty());
        }
    }
}
