//! The evaluation time.

use std::fmt;

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
///
/// Relative-date criteria (`within last 30 days`) are evaluated against a `Timestamp` the
/// caller passes in; the engine never reads the clock.
///
/// ```
/// use cohort::Timestamp;
/// let now = Timestamp::parse("2026-11-25T12:00:00Z").unwrap();
/// assert_eq!(now.unix_millis(), 1_795_608_000_000);
/// assert_eq!(Timestamp::parse("tomorrow"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Reads an RFC 3339 / ISO 8601 date or date-time (`2026-11-25`, `2026-11-25T12:00:00Z`,
    /// `2026-11-25T13:00:00+01:00`).
    pub fn parse(text: &str) -> Option<Self> {
        cohort_check::literal::parse_date(text).map(Timestamp)
    }

    /// The current time of the system clock (for applications; the engine never calls it).
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms since the Unix epoch", self.0)
    }
}

/// Writes the instant `millis` (since the Unix epoch) in UTC, RFC 3339:
/// `2026-11-25T00:00:00Z`, with milliseconds when there are any (`…00:00.250Z`).
pub(crate) fn write_rfc3339(millis: i64, out: &mut String) {
    use fmt::Write as _;
    const MILLIS_PER_DAY: i64 = 86_400_000;
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let of_day = millis.rem_euclid(MILLIS_PER_DAY);
    // Howard Hinnant's civil_from_days, for any i64 day count.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = (yoe.saturating_add(era.saturating_mul(400))).saturating_add(i64::from(month <= 2));
    let (hour, minute, second, milli) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}")
    } else {
        write!(out, "{year:+05}")
    };
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    );
    if milli != 0 {
        let _ = write!(out, ".{milli:03}");
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::write_rfc3339;

    fn iso(millis: i64) -> String {
        let mut out = String::new();
        write_rfc3339(millis, &mut out);
        out
    }

    #[test]
    fn instants_are_written_in_utc() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_795_608_000_250), "2026-11-25T12:00:00.250Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
        assert!(iso(i64::MIN).ends_with('Z'));
        assert!(iso(i64::MAX).ends_with('Z'));
    }
}
