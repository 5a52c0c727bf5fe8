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
