//! The checked IR: what a group means, with every literal interpreted.
//!
//! Unlike the syntax tree, the IR has no aliases, no `Is Blank False`, no uninterpreted text:
//! each criterion is a [`Predicate`] whose [`Test`] holds values ready to compare (folded to
//! lowercase unless case-sensitive, parsed numbers, dates, versions, compiled regexes). It
//! keeps no source locations; [`Predicate::label`] and [`Predicate::text`] say which
//! criterion it came from.

use crate::literal::Version;
pub use crate::regex::Regex;
use std::fmt;
use std::sync::Arc;

/// Every checked group, in definition order.
#[derive(Clone, Debug, Default)]
pub struct CheckedSet {
    /// The groups.
    pub groups: Vec<CheckedGroup>,
    /// The positions of the groups in an order where every group comes after the groups it
    /// references (`member of`): the order to evaluate them in.
    pub evaluation_order: Vec<usize>,
}

/// One checked group.
#[derive(Clone, Debug)]
pub struct CheckedGroup {
    /// The name.
    pub name: String,
    /// The description.
    pub description: Option<String>,
    /// The condition.
    pub condition: Condition,
    /// Whether the top of the condition is a list of blocks (as the console shows groups).
    pub block_shaped: bool,
}

/// A membership condition over predicates.
#[derive(Clone, Debug)]
pub enum Condition {
    /// Every item holds.
    All(Vec<Condition>),
    /// At least one item holds.
    Any(Vec<Condition>),
    /// The item does not hold.
    Not(Box<Condition>),
    /// One criterion.
    Predicate(Predicate),
    /// Membership of another group of the set (`member of`, or with `negated`, `not member
    /// of`).
    Member(MemberOf),
}

/// A `member of` criterion, resolved.
#[derive(Clone, Debug)]
pub struct MemberOf {
    /// The referenced group's name.
    pub name: String,
    /// The referenced group's position in [`CheckedSet::groups`].
    pub group: usize,
    /// Whether the criterion is `not member of`.
    pub negated: bool,
    /// Which criterion this is, such as `block 1, criterion 2`.
    pub label: Arc<str>,
    /// The criterion as text.
    pub text: Arc<str>,
}

/// One criterion, interpreted.
#[derive(Clone, Debug)]
pub struct Predicate {
    /// The attribute's name.
    pub field: String,
    /// What is tested.
    pub test: Test,
    /// Whether the criterion is the negation of `test` (`does not contain`, `not equal`...).
    pub negated: bool,
    /// Whether text is compared with case (values are folded to lowercase when not).
    pub case_sensitive: bool,
    /// Which criterion this is, such as `block 1, criterion 2`.
    pub label: Arc<str>,
    /// The criterion as text, such as `OS contains any of "Windows 10"`.
    pub text: Arc<str>,
}

/// What a predicate tests on one attribute value.
#[derive(Clone, Debug)]
pub enum Test {
    /// Equal to one of the values (`equal`, `is any of`).
    Equals(Vec<Scalar>),
    /// Contains one (or, with `all`, every one) of the substrings.
    Contains {
        /// The substrings.
        needles: Vec<String>,
        /// Whether every substring must be found.
        all: bool,
    },
    /// Starts with one of the values.
    StartsWith(Vec<String>),
    /// Ends with one of the values.
    EndsWith(Vec<String>),
    /// Matches one of the regular expressions.
    Matches(Vec<Regex>),
    /// Compared with a bound.
    Compare {
        /// The comparison.
        ordering: Comparison,
        /// The bound.
        bound: Bound,
    },
    /// Between two bounds, both included.
    Between {
        /// The lower bound.
        low: Bound,
        /// The upper bound.
        high: Bound,
    },
    /// Missing, null, empty or white-space text, or an empty list.
    IsBlank,
    /// A date no older than this many milliseconds before the evaluation time.
    WithinLast {
        /// The duration in milliseconds.
        millis: i64,
    },
    /// A date older than this many milliseconds before the evaluation time.
    OlderThan {
        /// The duration in milliseconds.
        millis: i64,
    },
}

/// A value to compare for equality: its text (folded unless case-sensitive) and, when it
/// reads as one, its number (so `5` equals a numeric attribute `5.0`).
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The text, folded to lowercase unless the predicate is case-sensitive.
    pub text: String,
    /// The number it reads as.
    pub number: Option<f64>,
}

/// An ordering comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
}

impl Comparison {
    /// Whether `ordering` (attribute compared with bound) satisfies the comparison.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Comparison::Greater => ordering == Greater,
            Comparison::GreaterOrEqual => matches!(ordering, Greater | Equal),
            Comparison::Less => ordering == Less,
            Comparison::LessOrEqual => matches!(ordering, Less | Equal),
        }
    }
}

/// A bound of an ordering comparison: the literal read every way it can be. At least one of
/// `number`, `date` and `version` is set.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// The text written.
    pub text: String,
    /// As a number.
    pub number: Option<f64>,
    /// As a date, in milliseconds since the Unix epoch.
    pub date: Option<i64>,
    /// As a version.
    pub version: Option<Version>,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
