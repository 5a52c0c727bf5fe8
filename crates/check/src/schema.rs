//! Validation of criteria against a field schema: every field exists (or the nearest name is
//! suggested), names that exist at several levels say which, operators suit the field's
//! type, and values are of that type (dropdown values among the options).

use crate::error::CheckErrorKind;
use crate::literal::{Version, parse_date, parse_number};
use cohort_syntax::{Criterion, FieldDef, FieldKind, Level, Literal, Loc, Operator, SchemaDef};
use std::collections::{HashMap, HashSet};

/// A schema indexed by field name.
#[derive(Debug)]
pub(crate) struct SchemaIndex<'s> {
    by_name: HashMap<&'s str, Vec<&'s FieldDef>>,
    /// Every field as a criterion would name it (`level:Name` when the name is ambiguous),
    /// in declaration order, indexed by length for suggestions.
    names: crate::suggest::ByLength,
    /// The set's suggestion budget.
    budget: &'s crate::suggest::Budget,
    /// The options of each dropdown (by record key), as written and case-folded, built once:
    /// checking each value against every option, folding every option each time, made a
    /// hostile group cost seconds per thousand values.
    options: HashMap<String, (HashSet<&'s str>, HashSet<String>)>,
}

/// One problem found in a criterion, and where.
pub(crate) struct Problem<'c> {
    pub(crate) kind: CheckErrorKind,
    pub(crate) loc: &'c Loc,
}

impl<'s> SchemaIndex<'s> {
    pub(crate) fn new(schema: &'s SchemaDef, budget: &'s crate::suggest::Budget) -> Self {
        let mut by_name: HashMap<&str, Vec<&FieldDef>> = HashMap::new();
        for field in &schema.fields {
            by_name.entry(field.name.as_str()).or_default().push(field);
        }
        let names = schema
            .fields
            .iter()
            .map(|field| {
                let ambiguous = by_name
                    .get(field.name.as_str())
                    .is_some_and(|f| f.len() > 1);
                if ambiguous {
                    format!("{}:{}", field.level.name(), field.name)
                } else {
                    field.key()
                }
            })
            .collect::<Vec<String>>();
        let options = schema
            .fields
            .iter()
            .filter_map(|field| match &field.kind {
                FieldKind::Dropdown { options } => Some((
                    field.key(),
                    (
                        options.iter().map(String::as_str).collect(),
                        options.iter().map(|option| option.to_lowercase()).collect(),
                    ),
                )),
                _ => None,
            })
            .collect();
        SchemaIndex {
            names: crate::suggest::ByLength::new(names),
            by_name,
            budget,
            options,
        }
    }

    /// The field a criterion names (`Name` or `level:Name`).
    pub(crate) fn resolve(&self, written: &str) -> Result<&'s FieldDef, CheckErrorKind> {
        let (level, name) = Level::split(written);
        let candidates = self.by_name.get(name).map_or(&[][..], Vec::as_slice);
        let found: Vec<&FieldDef> = candidates
            .iter()
            .copied()
            .filter(|field| level.is_none_or(|level| field.level == level))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            // The name exists, at other levels than the one written.
            [] if !candidates.is_empty() => Err(CheckErrorKind::UnknownField {
                field: written.to_owned(),
                suggestion: candidates
                    .first()
                    .map(|field| format!("{}:{}", field.level.name(), field.name)),
            }),
            [] => Err(CheckErrorKind::UnknownField {
                field: written.to_owned(),
                suggestion: self.suggest(written),
            }),
            several => Err(CheckErrorKind::AmbiguousField {
                field: written.to_owned(),
                levels: several.iter().map(|f| f.level).collect(),
            }),
        }
    }

    /// The nearest declared field, as a criterion would name it.
    fn suggest(&self, written: &str) -> Option<String> {
        let (_, bare) = Level::split(written);
        self.names
            .nearest(written, self.budget)
            .or_else(|| self.names.nearest(bare, self.budget))
            .map(str::to_owned)
    }

    /// The set's suggestion budget.
    pub(crate) fn budget(&self) -> &'s crate::suggest::Budget {
        self.budget
    }
}

/// The operators that make sense on a type.
pub(crate) fn operator_suits(kind: &FieldKind, operator: Operator) -> bool {
    use Operator::*;
    match kind {
        FieldKind::Text | FieldKind::Dropdown { .. } | FieldKind::List => matches!(
            operator,
            Equal
                | IsAnyOf
                | ContainsAnyOf
                | ContainsAllOf
                | StartsWith
                | EndsWith
                | Matches
                | IsBlank
        ),
        FieldKind::Number => matches!(
            operator,
            Equal
                | IsAnyOf
                | GreaterThan
                | GreaterOrEqual
                | LessThan
                | LessOrEqual
                | Between
                | IsBlank
        ),
        FieldKind::Flag => matches!(operator, Equal | IsBlank),
        FieldKind::Date => matches!(
            operator,
            Equal
                | GreaterThan
                | GreaterOrEqual
                | LessThan
                | LessOrEqual
                | Between
                | IsBlank
                | WithinLast
                | OlderThan
        ),
        FieldKind::Version => matches!(
            operator,
            Equal
                | IsAnyOf
                | GreaterThan
                | GreaterOrEqual
                | LessThan
                | LessOrEqual
                | Between
                | StartsWith
                | Matches
                | IsBlank
        ),
    }
}

/// The operators that suit a type, for hints.
pub(crate) fn suitable_operators(kind: &FieldKind) -> String {
    Operator::ALL
        .into_iter()
        .filter(|op| *op != Operator::MemberOf && operator_suits(kind, *op))
        .map(|op| format!("`{}`", cohort_syntax::Op::positive(op)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many options an error about a dropdown value lists.
const OPTIONS_SHOWN: usize = 10;

/// Every problem of `criterion` on `field`.
pub(crate) fn validate<'c>(
    field: &FieldDef,
    criterion: &'c Criterion,
    index: &SchemaIndex<'_>,
) -> Vec<Problem<'c>> {
    let budget = index.budget();
    let operator = criterion.op.operator;
    if !operator_suits(&field.kind, operator) {
        return vec![Problem {
            kind: CheckErrorKind::OperatorNotForType {
                op: criterion.op,
                field: field.key(),
                kind: field.kind.name(),
                suitable: suitable_operators(&field.kind),
            },
            loc: &criterion.op_loc,
        }];
    }
    let compares = matches!(
        operator,
        Operator::Equal
            | Operator::IsAnyOf
            | Operator::GreaterThan
            | Operator::GreaterOrEqual
            | Operator::LessThan
            | Operator::LessOrEqual
            | Operator::Between
    );
    if !compares {
        return Vec::new();
    }
    let wrong = |value: &'c Literal, expected: &'static str| Problem {
        kind: CheckErrorKind::WrongValueType {
            field: field.key(),
            kind: field.kind.name(),
            expected,
            value: value.text.clone(),
        },
        loc: &value.loc,
    };
    criterion
        .values
        .iter()
        .filter_map(|value| match &field.kind {
            FieldKind::Number => parse_number(&value.text)
                .is_none()
                .then(|| wrong(value, "a number such as `10` or `2.5`")),
            // Only `true` and `false`: a flag is compared as that text, so `yes`, `on` or
            // `1` would match no machine.
            FieldKind::Flag => (!value.text.eq_ignore_ascii_case("true")
                && !value.text.eq_ignore_ascii_case("false"))
            .then(|| wrong(value, "`true` or `false`")),
            FieldKind::Date => parse_date(&value.text)
                .is_none()
                .then(|| wrong(value, "a date such as `2024-05-01`")),
            FieldKind::Version => Version::parse(&value.text)
                .is_none()
                .then(|| wrong(value, "a version such as `10.0.19045`")),
            FieldKind::Dropdown { options } if operator != Operator::Between => {
                let key = field.key();
                let is_option = index.options.get(&key).is_some_and(|(exact, folded)| {
                    if criterion.case_sensitive {
                        exact.contains(value.text.as_str())
                    } else {
                        folded.contains(&value.text.to_lowercase())
                    }
                });
                (!is_option).then(|| Problem {
                    kind: CheckErrorKind::NotAnOption {
                        field: key,
                        value: value.text.clone(),
                        suggestion: budget
                            .nearest(&value.text, options.iter().map(String::as_str))
                            .map(str::to_owned),
                        options: options.iter().take(OPTIONS_SHOWN).cloned().collect(),
                        more_options: options.len().saturating_sub(OPTIONS_SHOWN),
                    },
                    loc: &value.loc,
                })
            }
            _ => None,
        })
        .collect()
}
