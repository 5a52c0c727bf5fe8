//! What criteria say about each other: which implies which, which exclude each other, and
//! which can never hold on their own.
//!
//! Every rule here is exact for the engine's semantics (`crates/engine/src/matcher.rs`) or it
//! is not a rule: a relation that depends on what the data holds is left out.
//!
//! *Lists.* A criterion holds on a list when it holds for one element (`contains all of`:
//! every value in some element). An implication between two criteria on one value therefore
//! also holds on lists, and so does a criterion against its own negation; but two positive
//! criteria that no single value meets both (`OS equal A` and `OS equal B`) can both hold on
//! a list (`["A", "B"]`). Such exclusions are only certain for fields a schema declares as
//! something other than a list.

use cohort_check::ir::{Bound, Comparison, Predicate, Scalar, Test};
use cohort_check::literal::{Version, compare_decimal};
use std::cmp::Ordering;

/// A criterion as it stands in a list: its predicate and whether it is negated there (by
/// its operator, or by a `not` around it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lit<'a> {
    pub(crate) pred: &'a Predicate,
    pub(crate) negated: bool,
}

/// Whether the two predicates read the same field with the same case rule.
fn comparable(a: &Predicate, b: &Predicate) -> bool {
    a.field == b.field && a.case_sensitive == b.case_sensitive
}

/// Whether two equality values stand for the same attribute values: the same number (text
/// attributes compare with numbers exactly, digit by digit, so the numbers must be equal as
/// decimals, not only as floats), or the same text when neither is a number.
fn same_scalar(a: &Scalar, b: &Scalar) -> bool {
    match (a.number, b.number) {
        (Some(_), Some(_)) => compare_decimal(&a.text, &b.text) == Some(Ordering::Equal),
        (None, None) => a.text == b.text,
        _ => false,
    }
}

/// Whether no attribute value equals both: different numbers (as floats too, since a JSON
/// number attribute compares as a float: `0.1` and `0.10000000000000001` both equal the
/// float 0.1), or different texts when neither is a number.
fn distinct_scalars(a: &Scalar, b: &Scalar) -> bool {
    match (a.number, b.number) {
        (Some(x), Some(y)) => x != y,
        (None, None) => a.text != b.text,
        _ => true,
    }
}

/// Whether every value that meets `a`'s test (positively) also meets `b`'s, on one field.
/// `false` when unsure.
pub(crate) fn implies(a: &Predicate, b: &Predicate) -> bool {
    if !comparable(a, b) {
        return false;
    }
    match (&a.test, &b.test) {
        (Test::Equals(xs), Test::Equals(ys)) => {
            xs.iter().all(|x| ys.iter().any(|y| same_scalar(x, y)))
        }
        (
            Test::Contains {
                needles: xs,
                all: xall,
            },
            Test::Contains {
                needles: ys,
                all: yall,
            },
        ) => {
            let within = |x: &String, y: &String| x.contains(y.as_str());
            match (xall, yall) {
                // Any x found: some y is inside it.
                (false, false) => xs.iter().all(|x| ys.iter().any(|y| within(x, y))),
                // Every x found: some y is inside one of them.
                (true, false) => ys.iter().any(|y| xs.iter().any(|x| within(x, y))),
                // Every y must be inside each x that may be the one found.
                (false, true) => xs.iter().all(|x| ys.iter().all(|y| within(x, y))),
                // Every y is inside some x, all of which are found.
                (true, true) => ys.iter().all(|y| xs.iter().any(|x| within(x, y))),
            }
        }
        (Test::StartsWith(xs), Test::StartsWith(ys)) => xs
            .iter()
            .all(|x| ys.iter().any(|y| x.starts_with(y.as_str()))),
        (Test::EndsWith(xs), Test::EndsWith(ys)) => xs
            .iter()
            .all(|x| ys.iter().any(|y| x.ends_with(y.as_str()))),
        (Test::Matches(xs), Test::Matches(ys)) => xs
            .iter()
            .all(|x| ys.iter().any(|y| x.as_str() == y.as_str())),
        (Test::IsBlank, Test::IsBlank) => true,
        (Test::WithinLast { millis: x }, Test::WithinLast { millis: y }) => x <= y,
        (Test::OlderThan { millis: x }, Test::OlderThan { millis: y }) => x >= y,
        _ => match (Interval::of(&a.test), Interval::of(&b.test)) {
            (Some(x), Some(y)) => x.within(&y),
            _ => false,
        },
    }
}

/// Whether no single value meets both positive tests. `false` when unsure. Not true of
/// lists (see the module documentation).
pub(crate) fn exclusive(a: &Predicate, b: &Predicate) -> bool {
    if !comparable(a, b) {
        return false;
    }
    match (&a.test, &b.test) {
        (Test::Equals(xs), Test::Equals(ys)) => {
            xs.iter().all(|x| ys.iter().all(|y| distinct_scalars(x, y)))
        }
        _ => match (Interval::of(&a.test), Interval::of(&b.test)) {
            (Some(x), Some(y)) => x.disjoint(&y),
            _ => false,
        },
    }
}

/// Whether a positive test can hold on a blank value (empty or white-space text; a missing
/// value, null and an empty list meet no positive test). `true` when unsure.
pub(crate) fn may_hold_on_blank(test: &Test) -> bool {
    let blank = |text: &str| text.chars().all(char::is_whitespace);
    match test {
        Test::Equals(values) => values.iter().any(|v| blank(&v.text)),
        Test::Contains { needles, all: true } => needles.iter().all(|n| blank(n)),
        Test::Contains {
            needles,
            all: false,
        } => needles.iter().any(|n| blank(n)),
        Test::StartsWith(values) | Test::EndsWith(values) => values.iter().any(|v| blank(v)),
        Test::Compare { .. }
        | Test::Between { .. }
        | Test::WithinLast { .. }
        | Test::OlderThan { .. } => false,
        Test::Matches(_) | Test::IsBlank => true,
    }
}

/// A value of one kind, as a bound reads it.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    /// A number, with the text it was written as (text attributes compare with it exactly).
    Number(f64, String),
    Date(i64),
    Version(Version),
}

impl Value {
    /// The bound's value when it reads as exactly one kind: a bound that reads two ways
    /// (`10.5`, a number and a version) compares as whichever the attribute reads as first.
    /// A whole number also reads as a one-segment version, and whole numbers are in the same
    /// order as numbers and as versions, so it counts as a number: two such bounds exclude
    /// each other in both kinds or in neither (and a bound that is only a number shares no
    /// kind with an attribute that reads only as a version).
    fn of(bound: &Bound) -> Option<Value> {
        match (bound.number, bound.date, &bound.version) {
            (Some(n), None, None) => Some(Value::Number(n, bound.text.clone())),
            (Some(n), None, Some(v)) if n.fract() == 0.0 && v.segments().count() == 1 => {
                Some(Value::Number(n, bound.text.clone()))
            }
            (None, Some(d), None) => Some(Value::Date(d)),
            (None, None, Some(v)) => Some(Value::Version(v.clone())),
            _ => None,
        }
    }

    /// How two values compare, when every attribute compares with them alike: numbers are
    /// compared exactly with text attributes and as floats with number attributes, so two
    /// numbers whose order differs between the two ways (`0.1` and `0.10000000000000001`
    /// are equal as floats only) give no answer.
    fn cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Number(a, x), Value::Number(b, y)) => {
                let exact = compare_decimal(x, y)?;
                (a.partial_cmp(b)? == exact).then_some(exact)
            }
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Version(a), Value::Version(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// An end of an interval: the value and whether it is included.
type End = Option<(Value, bool)>;

/// The values an ordering test holds on: an interval of one kind (an attribute that does not
/// read as that kind meets none of it).
#[derive(Debug)]
struct Interval {
    low: End,
    high: End,
}

impl Interval {
    fn of(test: &Test) -> Option<Interval> {
        match test {
            Test::Compare { ordering, bound } => {
                let value = Value::of(bound)?;
                Some(match ordering {
                    Comparison::Greater => Interval {
                        low: Some((value, false)),
                        high: None,
                    },
                    Comparison::GreaterOrEqual => Interval {
                        low: Some((value, true)),
                        high: None,
                    },
                    Comparison::Less => Interval {
                        low: None,
                        high: Some((value, false)),
                    },
                    Comparison::LessOrEqual => Interval {
                        low: None,
                        high: Some((value, true)),
                    },
                })
            }
            Test::Between { low, high } => Some(Interval {
                low: Some((Value::of(low)?, true)),
                high: Some((Value::of(high)?, true)),
            }),
            _ => None,
        }
    }

    /// The kind of the interval's values, to compare only intervals of one kind.
    fn kind(&self) -> Option<std::mem::Discriminant<Value>> {
        self.low
            .as_ref()
            .or(self.high.as_ref())
            .map(|(v, _)| std::mem::discriminant(v))
    }

    /// Whether every value in `self` is in `other` (both of one kind).
    fn within(&self, other: &Interval) -> bool {
        if self.kind().is_none() || self.kind() != other.kind() {
            return false;
        }
        // `self`'s low end is at or above `other`'s.
        let low_ok = match (&self.low, &other.low) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some((a, ai)), Some((b, bi))) => match a.cmp(b) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => *bi || !*ai,
                _ => false,
            },
        };
        let high_ok = match (&self.high, &other.high) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some((a, ai)), Some((b, bi))) => match a.cmp(b) {
                Some(Ordering::Less) => true,
                Some(Ordering::Equal) => *bi || !*ai,
                _ => false,
            },
        };
        low_ok && high_ok
    }

    /// Whether no value is in both (both of one kind).
    fn disjoint(&self, other: &Interval) -> bool {
        if self.kind().is_none() || self.kind() != other.kind() {
            return false;
        }
        let apart = |low: &End, high: &End| match (low, high) {
            (Some((l, li)), Some((h, hi))) => match l.cmp(h) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => !(*li && *hi),
                _ => false,
            },
            _ => false,
        };
        apart(&self.low, &other.high) || apart(&other.low, &self.high)
    }
}
