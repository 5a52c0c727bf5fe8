//! The operator vocabulary: what each operator is called, and how many values it takes.
//!
//! Every operator is a positive [`Operator`] plus a `negated` flag ([`Op`]). A negative
//! operator such as `does not contain` is by definition exactly the negation of its positive
//! twin, so it needs no semantics of its own.

use std::fmt;

/// A positive operator. Its negative twin is `Op { operator, negated: true }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// The attribute equals the value (numerically when both are numbers).
    Equal,
    /// The attribute equals one of the values.
    IsAnyOf,
    /// The attribute contains one of the values as a substring.
    ContainsAnyOf,
    /// The attribute contains every one of the values as a substring.
    ContainsAllOf,
    /// The attribute starts with one of the values.
    StartsWith,
    /// The attribute ends with one of the values.
    EndsWith,
    /// The attribute matches one of the regular expressions.
    Matches,
    /// The attribute is greater than the value (number, date or version).
    GreaterThan,
    /// The attribute is greater than or equal to the value.
    GreaterOrEqual,
    /// The attribute is less than the value.
    LessThan,
    /// The attribute is less than or equal to the value.
    LessOrEqual,
    /// The attribute lies between the two values, both included.
    Between,
    /// The attribute is missing, null, an empty or whitespace-only string, or an empty list.
    IsBlank,
    /// The attribute is a date no older than the duration before the evaluation time.
    WithinLast,
    /// The attribute is a date older than the duration before the evaluation time.
    OlderThan,
    /// The machine is a member of the group named by the value (a criterion with no field:
    /// `member of "BitLocker Key Audit Enabled"`).
    MemberOf,
}

/// How many values an operator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly one value.
    One,
    /// One value or more; the criterion holds when it holds for any of them (or, for
    /// `contains all of`, for all of them).
    AtLeastOne,
    /// Exactly two values (a lower and an upper bound).
    Two,
    /// No value, or one boolean (`Is Blank` `True` / `False`, as consoles write it).
    OptionalFlag,
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arity::One => "exactly one value",
            Arity::AtLeastOne => "one or more values",
            Arity::Two => "exactly two values (lower and upper bound)",
            Arity::OptionalFlag => "no value, or one of `true` / `false`",
        })
    }
}

impl Operator {
    /// Every operator, in documentation order.
    pub const ALL: [Operator; 16] = [
        Operator::Equal,
        Operator::IsAnyOf,
        Operator::ContainsAnyOf,
        Operator::ContainsAllOf,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Matches,
        Operator::GreaterThan,
        Operator::GreaterOrEqual,
        Operator::LessThan,
        Operator::LessOrEqual,
        Operator::Between,
        Operator::IsBlank,
        Operator::WithinLast,
        Operator::OlderThan,
        Operator::MemberOf,
    ];

    /// How many values the operator takes.
    ///
    /// ```
    /// use cohort_syntax::{Arity, Operator};
    /// assert_eq!(Operator::Between.arity(), Arity::Two);
    /// ```
    pub fn arity(self) -> Arity {
        match self {
            Operator::Equal
            | Operator::GreaterThan
            | Operator::GreaterOrEqual
            | Operator::LessThan
            | Operator::LessOrEqual
            | Operator::WithinLast
            | Operator::OlderThan
            | Operator::MemberOf => Arity::One,
            Operator::IsAnyOf
            | Operator::ContainsAnyOf
            | Operator::ContainsAllOf
            | Operator::StartsWith
            | Operator::EndsWith
            | Operator::Matches => Arity::AtLeastOne,
            Operator::Between => Arity::Two,
            Operator::IsBlank => Arity::OptionalFlag,
        }
    }

    /// The canonical phrases of the operator and of its negation.
    fn phrases(self) -> (&'static str, &'static str) {
        match self {
            Operator::Equal => ("equal", "not equal"),
            Operator::IsAnyOf => ("is any of", "is none of"),
            Operator::ContainsAnyOf => ("contains any of", "does not contain"),
            Operator::ContainsAllOf => ("contains all of", "does not contain all of"),
            Operator::StartsWith => ("starts with", "does not start with"),
            Operator::EndsWith => ("ends with", "does not end with"),
            Operator::Matches => ("matches", "does not match"),
            Operator::GreaterThan => ("greater than", "not greater than"),
            Operator::GreaterOrEqual => ("greater than or equal", "not greater than or equal"),
            Operator::LessThan => ("less than", "not less than"),
            Operator::LessOrEqual => ("less than or equal", "not less than or equal"),
            Operator::Between => ("between", "not between"),
            Operator::IsBlank => ("is blank", "is not blank"),
            Operator::WithinLast => ("within last", "not within last"),
            Operator::OlderThan => ("older than", "not older than"),
            Operator::MemberOf => ("member of", "not member of"),
        }
    }
}

/// An operator as a criterion uses it: a positive [`Operator`] or its negation.
///
/// ```
/// use cohort_syntax::{Op, Operator};
///
/// assert_eq!(Op::from_phrase("!="), Some(Op::negative(Operator::Equal)));
/// assert_eq!(Op::from_phrase("  Contains   ANY of "), Some(Op::positive(Operator::ContainsAnyOf)));
/// assert_eq!(Op::from_phrase("contans any of"), None);
/// assert_eq!(Op::suggest("contans any of"), Some("contains any of"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Op {
    /// The positive operator.
    pub operator: Operator,
    /// Whether the criterion is the negation of `operator`.
    pub negated: bool,
}

/// Accepted spellings, already normalised (lowercase, single spaces), with what they mean.
/// Canonical phrases come first; [`Op::phrase`] returns those.
const ALIASES: &[(&str, Operator, bool)] = &[
    ("equals", Operator::Equal, false),
    ("equal to", Operator::Equal, false),
    ("is equal to", Operator::Equal, false),
    ("is", Operator::Equal, false),
    ("=", Operator::Equal, false),
    ("==", Operator::Equal, false),
    ("eq", Operator::Equal, false),
    ("not equals", Operator::Equal, true),
    ("not equal to", Operator::Equal, true),
    ("is not equal to", Operator::Equal, true),
    ("does not equal", Operator::Equal, true),
    ("is not", Operator::Equal, true),
    ("!=", Operator::Equal, true),
    ("<>", Operator::Equal, true),
    ("ne", Operator::Equal, true),
    ("in", Operator::IsAnyOf, false),
    ("is one of", Operator::IsAnyOf, false),
    ("is in", Operator::IsAnyOf, false),
    ("equals any of", Operator::IsAnyOf, false),
    ("not in", Operator::IsAnyOf, true),
    ("is not in", Operator::IsAnyOf, true),
    ("is not one of", Operator::IsAnyOf, true),
    ("is not any of", Operator::IsAnyOf, true),
    ("contains", Operator::ContainsAnyOf, false),
    ("contains any", Operator::ContainsAnyOf, false),
    ("contains one of", Operator::ContainsAnyOf, false),
    ("does not contain any of", Operator::ContainsAnyOf, true),
    ("does not contain any", Operator::ContainsAnyOf, true),
    ("contains none of", Operator::ContainsAnyOf, true),
    ("not contains", Operator::ContainsAnyOf, true),
    ("doesn't contain", Operator::ContainsAnyOf, true),
    ("contains all", Operator::ContainsAllOf, false),
    ("does not contain all", Operator::ContainsAllOf, true),
    ("starts with any of", Operator::StartsWith, false),
    ("start with", Operator::StartsWith, false),
    ("begins with", Operator::StartsWith, false),
    ("does not start with any of", Operator::StartsWith, true),
    ("does not begin with", Operator::StartsWith, true),
    ("not starts with", Operator::StartsWith, true),
    ("ends with any of", Operator::EndsWith, false),
    ("end with", Operator::EndsWith, false),
    ("does not end with any of", Operator::EndsWith, true),
    ("not ends with", Operator::EndsWith, true),
    ("matches regex", Operator::Matches, false),
    ("matches any of", Operator::Matches, false),
    ("regex", Operator::Matches, false),
    ("=~", Operator::Matches, false),
    ("does not match regex", Operator::Matches, true),
    ("does not match any of", Operator::Matches, true),
    ("not matches", Operator::Matches, true),
    ("!~", Operator::Matches, true),
    (">", Operator::GreaterThan, false),
    ("gt", Operator::GreaterThan, false),
    ("is greater than", Operator::GreaterThan, false),
    ("more than", Operator::GreaterThan, false),
    ("after", Operator::GreaterThan, false),
    ("newer than", Operator::GreaterThan, false),
    (">=", Operator::GreaterOrEqual, false),
    ("ge", Operator::GreaterOrEqual, false),
    ("greater than or equal to", Operator::GreaterOrEqual, false),
    ("greater than or equals", Operator::GreaterOrEqual, false),
    ("greater or equal", Operator::GreaterOrEqual, false),
    ("at least", Operator::GreaterOrEqual, false),
    ("<", Operator::LessThan, false),
    ("lt", Operator::LessThan, false),
    ("is less than", Operator::LessThan, false),
    ("before", Operator::LessThan, false),
    ("<=", Operator::LessOrEqual, false),
    ("le", Operator::LessOrEqual, false),
    ("less than or equal to", Operator::LessOrEqual, false),
    ("less than or equals", Operator::LessOrEqual, false),
    ("less or equal", Operator::LessOrEqual, false),
    ("at most", Operator::LessOrEqual, false),
    ("is between", Operator::Between, false),
    ("is not between", Operator::Between, true),
    ("isblank", Operator::IsBlank, false),
    ("is empty", Operator::IsBlank, false),
    ("blank", Operator::IsBlank, false),
    ("empty", Operator::IsBlank, false),
    ("isnotblank", Operator::IsBlank, true),
    ("is not empty", Operator::IsBlank, true),
    ("not blank", Operator::IsBlank, true),
    ("not empty", Operator::IsBlank, true),
    ("within the last", Operator::WithinLast, false),
    ("in the last", Operator::WithinLast, false),
    ("in last", Operator::WithinLast, false),
    ("not within the last", Operator::WithinLast, true),
    ("more than ago", Operator::OlderThan, false),
    ("more than ... ago", Operator::OlderThan, false),
    ("is older than", Operator::OlderThan, false),
    ("is member of", Operator::MemberOf, false),
    ("is a member of", Operator::MemberOf, false),
    ("is not member of", Operator::MemberOf, true),
    ("is not a member of", Operator::MemberOf, true),
];

impl Op {
    /// The positive operator `operator`.
    pub const fn positive(operator: Operator) -> Self {
        Op {
            operator,
            negated: false,
        }
    }

    /// The negation of `operator`.
    pub const fn negative(operator: Operator) -> Self {
        Op {
            operator,
            negated: true,
        }
    }

    /// Resolves an operator phrase as consoles and documents write it: case-insensitive,
    /// extra spaces ignored, with the usual aliases (`Equals`, `is`, `=`, `!=`, `in`,
    /// `Does Not Contain any of`, `IsBlank`...). `None` when the phrase is unknown.
    pub fn from_phrase(phrase: &str) -> Option<Op> {
        let normalised = normalise(phrase);
        for operator in Operator::ALL {
            let (positive, negative) = operator.phrases();
            if normalised == positive {
                return Some(Op::positive(operator));
            }
            if normalised == negative {
                return Some(Op::negative(operator));
            }
        }
        ALIASES
            .iter()
            .find(|(alias, _, _)| *alias == normalised)
            .map(|&(_, operator, negated)| Op { operator, negated })
    }

    /// The canonical phrase nearest to an unknown `phrase`, if one is close enough to be a
    /// likely typo.
    pub fn suggest(phrase: &str) -> Option<&'static str> {
        let normalised = normalise(phrase);
        if normalised.chars().count() < 3 {
            return None;
        }
        let canonical = Operator::ALL.iter().flat_map(|op| {
            let (positive, negative) = op.phrases();
            [positive, negative]
        });
        let nearest_canonical = crate::nearest(&normalised, canonical);
        nearest_canonical.or_else(|| {
            crate::nearest(&normalised, ALIASES.iter().map(|(alias, _, _)| *alias))
                .and_then(Op::from_phrase)
                .map(Op::phrase)
        })
    }

    /// The canonical phrase, lowercase (`contains any of`, `does not contain`...).
    pub fn phrase(self) -> &'static str {
        let (positive, negative) = self.operator.phrases();
        if self.negated { negative } else { positive }
    }

    /// The operator with `negated` flipped.
    #[must_use]
    pub fn negate(self) -> Op {
        Op {
            operator: self.operator,
            negated: !self.negated,
        }
    }

    /// Every canonical phrase, positive then negative, for each operator.
    pub fn canonical_phrases() -> impl Iterator<Item = (&'static str, Op)> {
        Operator::ALL.into_iter().flat_map(|operator| {
            let (positive, negative) = operator.phrases();
            [
                (positive, Op::positive(operator)),
                (negative, Op::negative(operator)),
            ]
        })
    }

    /// Every accepted alias that is not a canonical phrase, with what it means.
    pub fn aliases() -> impl Iterator<Item = (&'static str, Op)> {
        ALIASES
            .iter()
            .map(|&(alias, operator, negated)| (alias, Op { operator, negated }))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

/// Lowercase, with runs of white space, `_` and `-` folded to one space.
fn normalise(phrase: &str) -> String {
    let lowered = phrase.to_lowercase();
    lowered
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_phrase_resolves_to_itself() {
        for (phrase, op) in Op::canonical_phrases() {
            assert_eq!(Op::from_phrase(phrase), Some(op), "{phrase}");
            assert_eq!(op.phrase(), phrase);
        }
    }

    #[test]
    fn aliases_are_normalised_and_never_shadow_canonical_phrases() {
        let canonical: Vec<&str> = Op::canonical_phrases().map(|(p, _)| p).collect();
        for (alias, op) in Op::aliases() {
            assert_eq!(normalise(alias), alias, "alias {alias:?} is not normalised");
            assert!(!canonical.contains(&alias), "alias {alias:?} is canonical");
            assert_eq!(Op::from_phrase(alias), Some(op), "{alias}");
        }
    }

    #[test]
    fn console_spellings_resolve() {
        let cases = [
            ("Equal", Op::positive(Operator::Equal)),
            ("Equals", Op::positive(Operator::Equal)),
            ("is", Op::positive(Operator::Equal)),
            ("=", Op::positive(Operator::Equal)),
            ("Not Equal", Op::negative(Operator::Equal)),
            ("!=", Op::negative(Operator::Equal)),
            ("in", Op::positive(Operator::IsAnyOf)),
            ("Contains any of", Op::positive(Operator::ContainsAnyOf)),
            ("Contains all of", Op::positive(Operator::ContainsAllOf)),
            ("Does not contain", Op::negative(Operator::ContainsAnyOf)),
            (
                "Does Not Contain any of",
                Op::negative(Operator::ContainsAnyOf),
            ),
            ("Starts with", Op::positive(Operator::StartsWith)),
            ("Greater than", Op::positive(Operator::GreaterThan)),
            ("IsBlank", Op::positive(Operator::IsBlank)),
            ("Is Blank", Op::positive(Operator::IsBlank)),
            ("is_not_blank", Op::negative(Operator::IsBlank)),
            ("Within  the\tlast", Op::positive(Operator::WithinLast)),
            ("more than ago", Op::positive(Operator::OlderThan)),
        ];
        for (phrase, op) in cases {
            assert_eq!(Op::from_phrase(phrase), Some(op), "{phrase}");
        }
    }

    #[test]
    fn unknown_phrases_get_suggestions_when_close() {
        assert_eq!(Op::from_phrase("contans any of"), None);
        assert_eq!(Op::suggest("contans any of"), Some("contains any of"));
        assert_eq!(Op::suggest("Stars with"), Some("starts with"));
        assert_eq!(Op::suggest("equls"), Some("equal"));
        assert_eq!(Op::suggest("frobnicates wildly"), None);
        // A 100,000-character phrase gets no suggestion (at once).
        assert_eq!(Op::suggest(&"contains ".repeat(11_112)), None);
    }

    #[test]
    fn negate_is_an_involution() {
        for (_, op) in Op::canonical_phrases() {
            assert_eq!(op.negate().negate(), op);
            assert_ne!(op.negate(), op);
        }
    }
}
