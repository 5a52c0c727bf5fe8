//! Errors found while checking definitions.

use cohort_syntax::{Arity, Loc, Op};

/// A definition that is well-formed YAML but does not make sense.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct CheckError {
    /// What is wrong.
    pub kind: CheckErrorKind,
    /// Where.
    pub loc: Loc,
    /// The group.
    pub group: String,
    /// The criterion, such as `block 1, criterion 2 (`OS`)`, when the error is in one.
    pub criterion: Option<String>,
}

/// What is wrong with a definition.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckErrorKind {
    /// The operator got the wrong number of values.
    #[error("`{op}` takes {expected}, found {found}")]
    WrongArity {
        /// The operator.
        op: Op,
        /// What it takes.
        expected: Arity,
        /// How many it got.
        found: usize,
    },
    /// An ordering operator got a value that is no number, date or version.
    #[error("`{op}` compares numbers, dates and versions, but `{text}` is none of these")]
    NotComparable {
        /// The operator.
        op: Op,
        /// The value.
        text: String,
    },
    /// `between` got bounds that cannot be compared with each other.
    #[error(
        "the bounds `{low}` and `{high}` of `between` are not of one kind (number, date or version)"
    )]
    MixedBounds {
        /// The lower bound.
        low: String,
        /// The upper bound.
        high: String,
    },
    /// `between` got its bounds the wrong way round, so no value could lie between them.
    #[error(
        "the lower bound `{low}` of `{op}` is greater than its upper bound `{high}`, so no value lies between them"
    )]
    ReversedBounds {
        /// The operator (`between` or `not between`).
        op: Op,
        /// The lower bound, as written first.
        low: String,
        /// The upper bound, as written second.
        high: String,
    },
    /// An invalid or oversized regular expression.
    #[error("invalid regular expression `{pattern}`: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// What the regex compiler said.
        reason: String,
    },
    /// A regex that would take the group set's regexes past their memory budget.
    #[error(
        "regular expression `{pattern}` would take the regexes of the group set past their limit of {limit} bytes ({} MiB), compiled and matching",
        .limit >> 20
    )]
    RegexBudget {
        /// The pattern.
        pattern: String,
        /// The set's budget, in bytes ([`crate::REGEX_SET_BUDGET`]).
        limit: usize,
    },
    /// A relative-date operator got a value that is no duration.
    #[error("`{op}` takes a duration such as `30 days` or `12 hours`, found `{text}`")]
    BadDuration {
        /// The operator.
        op: Op,
        /// The value.
        text: String,
    },
    /// `is blank` got a value that is not a flag.
    #[error("`{op}` takes no value or `true`/`false`, found `{text}`")]
    BadFlag {
        /// The operator.
        op: Op,
        /// The value.
        text: String,
    },
    /// A text operator got an empty value, which would match every text.
    #[error("`{op}` with an empty value would match every text")]
    EmptyValue {
        /// The operator.
        op: Op,
    },
    /// A field name that is empty.
    #[error("criterion has no field name")]
    EmptyField,
    /// A field the schema does not declare.
    #[error("unknown field `{field}`: the schema declares no such field")]
    UnknownField {
        /// The field as written.
        field: String,
        /// The nearest declared field.
        suggestion: Option<String>,
    },
    /// A name declared at several levels, written without one.
    #[error("field `{field}` is ambiguous: it is declared as a {} field", level_list(.levels))]
    AmbiguousField {
        /// The field as written.
        field: String,
        /// The levels it exists at.
        levels: Vec<cohort_syntax::Level>,
    },
    /// An operator that makes no sense for the field's type.
    #[error("`{op}` does not apply to `{field}`, a {kind} field")]
    OperatorNotForType {
        /// The operator.
        op: Op,
        /// The field (record key).
        field: String,
        /// The field's type.
        kind: &'static str,
        /// The operators that do apply, for the hint.
        suitable: String,
    },
    /// A value of the wrong type for the field.
    #[error("`{value}` is not {expected}, and `{field}` is a {kind} field")]
    WrongValueType {
        /// The field (record key).
        field: String,
        /// The field's type.
        kind: &'static str,
        /// What a value must look like.
        expected: &'static str,
        /// The value written.
        value: String,
    },
    /// A dropdown value that is not one of its options.
    #[error("`{value}` is not an option of the dropdown `{field}`")]
    NotAnOption {
        /// The field (record key).
        field: String,
        /// The value written.
        value: String,
        /// The nearest option.
        suggestion: Option<String>,
        /// The first options, in declaration order.
        options: Vec<String>,
        /// How many options there are besides those.
        more_options: usize,
    },
    /// `member of` names no group of the set.
    #[error("`member of` names `{name}`, but no group is called that")]
    UnknownGroup {
        /// The name written.
        name: String,
        /// The nearest group name, if one is close.
        suggestion: Option<String>,
    },
    /// Groups that reference each other in a circle.
    #[error("groups reference each other in a cycle: {}", cycle_text(.cycle))]
    GroupCycle {
        /// The groups of the cycle, each referencing the next; the last references the first.
        cycle: Vec<String>,
    },
    /// `member of` written with a field.
    #[error("`member of` takes a group name, not a field: found field `{field}`")]
    MemberOfWithField {
        /// The field written.
        field: String,
    },
    /// A criterion with more values than any criterion may have.
    #[error("criterion lists {found} values, more than the limit of {limit} values per criterion")]
    TooManyValues {
        /// How many values it lists.
        found: usize,
        /// The limit ([`crate::max_values`]).
        limit: usize,
    },
    /// A group name holding a control character (a line break, a tab, an escape): it would
    /// break every line that names the group (tables, test and lint output, CI logs).
    #[error("group name {shown} holds a control character")]
    GroupNameControl {
        /// The name with its control characters escaped.
        shown: String,
    },
    /// Two groups whose names differ only in case (`Servers`, `servers`).
    #[error("group `{name}` differs only in case from group `{other}`")]
    GroupNameCase {
        /// The later name.
        name: String,
        /// The name defined first.
        other: String,
        /// Where the first definition is.
        first: Box<Loc>,
    },
    /// Two groups with one name.
    #[error("group `{name}` is defined twice")]
    DuplicateGroup {
        /// The name.
        name: String,
        /// Where the first definition is.
        first: Loc,
    },
}

fn level_list(levels: &[cohort_syntax::Level]) -> String {
    let names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

fn cycle_text(cycle: &[String]) -> String {
    let mut names: Vec<String> = cycle.iter().map(|name| format!("`{name}`")).collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    names.join(" -> ")
}

impl CheckError {
    /// Another place the error involves (the first definition of a duplicate group).
    pub fn related_loc(&self) -> Option<&Loc> {
        match &self.kind {
            CheckErrorKind::DuplicateGroup { first, .. } => Some(first),
            CheckErrorKind::GroupNameCase { first, .. } => Some(first),
            _ => None,
        }
    }

    /// A hint on how to fix it.
    pub fn help(&self) -> Option<String> {
        match &self.kind {
            CheckErrorKind::GroupNameControl { .. } => {
                Some("write the name on one line, without tabs or other control characters".to_owned())
            }
            CheckErrorKind::WrongArity { op, found, .. }
                if op.operator == cohort_syntax::Operator::Equal && *found > 1 =>
            {
                Some(format!(
                    "to compare with several values use `{}`",
                    cohort_syntax::Op {
                        operator: cohort_syntax::Operator::IsAnyOf,
                        negated: op.negated
                    }
                ))
            }
            CheckErrorKind::NotComparable { .. } | CheckErrorKind::MixedBounds { .. } => Some(
                "write numbers like `10` or `2.5`, dates like `2024-05-01` or `2024-05-01T10:00:00Z`, versions like `10.0.19045`".to_owned(),
            ),
            CheckErrorKind::ReversedBounds { op, low, high } => {
                Some(format!("did you mean `{op} {high} and {low}`?"))
            }
            CheckErrorKind::BadDuration { .. } => {
                Some("units: minutes, hours, days, weeks (or m, h, d, w)".to_owned())
            }
            CheckErrorKind::UnknownGroup {
                suggestion: Some(name),
                ..
            } => Some(format!("did you mean `{name}`?")),
            CheckErrorKind::UnknownField {
                suggestion: Some(name),
                ..
            } => Some(format!("did you mean `{name}`?")),
            CheckErrorKind::AmbiguousField { field, levels } => {
                let (_, bare) = cohort_syntax::Level::split(field);
                let spelled: Vec<String> = levels
                    .iter()
                    .map(|level| format!("`{}:{bare}`", level.name()))
                    .collect();
                Some(format!("name the level: {}", spelled.join(" or ")))
            }
            CheckErrorKind::OperatorNotForType { kind, suitable, .. } => {
                Some(format!("on a {kind} field use {suitable}"))
            }
            CheckErrorKind::NotAnOption {
                suggestion: Some(option),
                ..
            } => Some(format!("did you mean `{option}`?")),
            CheckErrorKind::NotAnOption {
                options,
                more_options,
                ..
            } => Some(format!(
                "the options are {}{}",
                options
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if *more_options > 0 {
                    format!(" and {more_options} more")
                } else {
                    String::new()
                }
            )),
            CheckErrorKind::GroupCycle { .. } => Some(
                "a group cannot depend on itself: remove one `member of` from the cycle".to_owned(),
            ),
            CheckErrorKind::MemberOfWithField { .. } => {
                Some("write it as `member of \"Group Name\"`".to_owned())
            }
            CheckErrorKind::RegexBudget { .. } => Some(
                "simplify the regexes of the set: counted repetitions of Unicode classes are large (`\\w{20}`); ASCII classes such as `[a-z0-9_]{20}` are small, or use `contains`, `starts with` or `is any of`"
                    .to_owned(),
            ),
            CheckErrorKind::TooManyValues { .. } => Some(
                "split the values between several criteria (joined by `or` for `is any of` and `contains any of`, by `and` for `contains all of`)"
                    .to_owned(),
            ),
            CheckErrorKind::EmptyValue { .. } => {
                Some("to test for an empty attribute use `is blank`".to_owned())
            }
            _ => None,
        }
    }
}
