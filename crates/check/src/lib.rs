//! Checks syntax trees and lowers them to the typed IR.
//!
//! This is where a literal gets its meaning: `10` becomes a number for `greater than`, a
//! regex for `matches`, `30 days` a duration for `within last`. An operator with the wrong
//! number of values, a comparison with a value that is no number, date or version, or an
//! invalid regex is an error here, reported with the criterion's location. Everything that
//! leaves this crate is well-typed, so evaluation cannot fail.
//!
//! ```
//! use cohort_check::{check, ir::Test};
//! use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
//!
//! let group = GroupDef {
//!     name: "Outdated Agents".into(),
//!     description: None,
//!     condition: Expr::all(vec![Expr::Criterion(Criterion::new(
//!         "Agent Version",
//!         Op::positive(Operator::LessThan),
//!         vec![Literal::new("2024.1.0")],
//!     ))]),
//!     loc: Loc::default(),
//! };
//! let checked = check(&[group]).unwrap();
//! assert_eq!(checked.groups[0].name, "Outdated Agents");
//!
//! let bad = GroupDef {
//!     name: "Bad".into(),
//!     description: None,
//!     condition: Expr::Criterion(Criterion::new(
//!         "Agent Version",
//!         Op::positive(Operator::LessThan),
//!         vec![Literal::new("recent")],
//!     )),
//!     loc: Loc::default(),
//! };
//! let errors = check(&[bad]).unwrap_err();
//! assert_eq!(
//!     errors[0].to_string(),
//!     "`less than` compares numbers, dates and versions, but `recent` is none of these"
//! );
//! ```

mod error;
pub mod ir;
pub mod literal;
mod regex;
mod schema;
mod suggest;

pub use error::{CheckError, CheckErrorKind};
pub use regex::{MAX_PATTERN_BYTES, MAX_PATTERN_TOTAL, REGEX_SET_BUDGET};
pub use suggest::SUGGESTION_BUDGET;

use cohort_syntax::{Arity, Criterion, Expr, GroupDef, Literal, Loc, Operator};
use ir::{
    Bound, CheckedGroup, CheckedSet, Comparison, Condition, MemberOf, Predicate, Scalar, Test,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The largest compiled size of one regular expression, in bytes.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The most values one criterion may list, whatever its form (text, YAML list or map): the
/// text parser's limit ([`cohort_syntax::Limits::max_values`]), applied to every criterion.
pub fn max_values() -> usize {
    cohort_syntax::Limits::default().max_values
}

/// Checks every group and lowers it to the IR; returns every error found.
pub fn check(groups: &[GroupDef]) -> Result<CheckedSet, Vec<CheckError>> {
    check_with_schema(groups, None)
}

/// Like [`check`], and with a schema also validates every criterion against it: fields
/// exist and are named unambiguously, operators suit their type, values are of it. Field
/// names in the IR become record keys (`site:Name` for a site field).
///
/// ```
/// use cohort_check::check_with_schema;
/// use cohort_syntax::{parse_condition, FieldDef, FieldKind, GroupDef, Level, Loc, SchemaDef};
///
/// let field = |name: &str, kind, level| FieldDef { name: name.into(), kind, level, description: None, loc: Loc::default() };
/// let schema = SchemaDef { fields: vec![
///     field("Exclude Windows 11 Installation", FieldKind::Flag, Level::Site),
///     field("Exclude Windows 11 Installation", FieldKind::Flag, Level::Endpoint),
///     field("Free Disk %", FieldKind::Number, Level::Endpoint),
/// ] };
/// let group = |text: &str| GroupDef { name: "G".into(), description: None, condition: parse_condition(text).unwrap(), loc: Loc::default() };
///
/// let ok = check_with_schema(&[group("'site:Exclude Windows 11 Installation' equal true and 'Free Disk %' < 10")], Some(&schema)).unwrap();
/// assert_eq!(ok.groups.len(), 1);
///
/// let errors = check_with_schema(&[group("'Exclude Windows 11 Installation' equal true and 'Free Disk' contains 1")], Some(&schema)).unwrap_err();
/// assert_eq!(errors[0].to_string(), "field `Exclude Windows 11 Installation` is ambiguous: it is declared as a site and endpoint field");
/// assert_eq!(errors[1].help().as_deref(), Some("did you mean `Free Disk %`?"));
/// ```
pub fn check_with_schema(
    groups: &[GroupDef],
    schema: Option<&cohort_syntax::SchemaDef>,
) -> Result<CheckedSet, Vec<CheckError>> {
    let budget = suggest::Budget::new();
    let mut regexes = regex::RegexBudget::new();
    let schema = schema.map(|schema| schema::SchemaIndex::new(schema, &budget));
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(groups.len());
    let mut references: Vec<Vec<Reference>> = Vec::with_capacity(groups.len());
    let mut seen: HashMap<&str, &Loc> = HashMap::new();
    // Names that differ only in case are refused like duplicates: people (and RMM consoles)
    // read them as one name, and `member of` would silently pick one of them.
    let mut seen_folded: HashMap<String, (&str, &Loc)> = HashMap::new();
    for group in groups {
        if group.name.chars().any(char::is_control) {
            errors.push(CheckError {
                kind: CheckErrorKind::GroupNameControl {
                    shown: format!("{:?}", group.name),
                },
                loc: group.loc.clone(),
                group: group.name.escape_debug().to_string(),
                criterion: None,
            });
            continue;
        }
        if let Some(first) = seen.get(group.name.as_str()) {
            errors.push(CheckError {
                kind: CheckErrorKind::DuplicateGroup {
                    name: group.name.clone(),
                    first: (*first).clone(),
                },
                loc: group.loc.clone(),
                group: group.name.clone(),
                criterion: None,
            });
            continue;
        }
        let folded = group.name.to_lowercase();
        if let Some((other, first)) = seen_folded.get(&folded) {
            errors.push(CheckError {
                kind: CheckErrorKind::GroupNameCase {
                    name: group.name.clone(),
                    other: (*other).to_owned(),
                    first: Box::new((*first).clone()),
                },
                loc: group.loc.clone(),
                group: group.name.clone(),
                criterion: None,
            });
            continue;
        }
        seen.insert(&group.name, &group.loc);
        seen_folded.insert(folded, (&group.name, &group.loc));
        let mut checker = GroupChecker {
            group: &group.name,
            errors: &mut errors,
            counter: 0,
            references: Vec::new(),
            schema: schema.as_ref(),
            regexes: &mut regexes,
        };
        let block_shaped = is_block_shaped(&group.condition);
        let condition = checker.expr(&group.condition, block_shaped, None);
        let group_references = std::mem::take(&mut checker.references);
        references.push(group_references);
        checked.push(CheckedGroup {
            name: group.name.clone(),
            description: group.description.clone(),
            condition,
            block_shaped,
        });
    }
    let evaluation_order = resolve_references(&mut checked, &references, &mut errors, &budget);
    if errors.is_empty() {
        Ok(CheckedSet {
            groups: checked,
            evaluation_order,
        })
    } else {
        Err(errors)
    }
}

/// A `member of` criterion as written: the group name, and where.
struct Reference {
    name: String,
    loc: Loc,
    label: String,
}

/// Points every `member of` at its group's position, reports references to missing groups
/// and cycles (each cycle once, naming every group in it), and returns an evaluation order
/// in which each group follows the groups it references.
fn resolve_references(
    groups: &mut [CheckedGroup],
    references: &[Vec<Reference>],
    errors: &mut Vec<CheckError>,
    budget: &suggest::Budget,
) -> Vec<usize> {
    let positions: HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .rev()
        .map(|(position, group)| (group.name.clone(), position))
        .collect();
    let mut edges: Vec<Vec<(usize, &Reference)>> = vec![Vec::new(); groups.len()];
    let names = suggest::ByLength::new(groups.iter().map(|g| g.name.clone()));
    // One suggestion per missing name, however often it is referenced.
    let mut suggestions: HashMap<&str, Option<String>> = HashMap::new();
    for (from, group_references) in references.iter().enumerate() {
        let group_name = groups.get(from).map(|g| g.name.clone()).unwrap_or_default();
        for reference in group_references {
            match positions.get(&reference.name) {
                Some(&to) => {
                    if let Some(out) = edges.get_mut(from) {
                        out.push((to, reference));
                    }
                }
                None => errors.push(CheckError {
                    kind: CheckErrorKind::UnknownGroup {
                        name: reference.name.clone(),
                        suggestion: suggestions
                            .entry(&reference.name)
                            .or_insert_with(|| {
                                names.nearest(&reference.name, budget).map(str::to_owned)
                            })
                            .clone(),
                    },
                    loc: reference.loc.clone(),
                    group: group_name.clone(),
                    criterion: Some(reference.label.clone()),
                }),
            }
        }
    }
    for group in groups.iter_mut() {
        resolve_condition(&mut group.condition, &positions);
    }
    // Depth-first search: a group is placed after everything it references; meeting a group
    // that is still open closes a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; groups.len()];
    let mut order = Vec::with_capacity(groups.len());
    for root in 0..groups.len() {
        if state.get(root) != Some(&State::New) {
            continue;
        }
        // (group, next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        if let Some(s) = state.get_mut(root) {
            *s = State::Open;
        }
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let edge = edges.get(node).and_then(|out| out.get(*next));
            *next += 1;
            match edge {
                Some(&(to, reference)) => match state.get(to).copied() {
                    Some(State::New) => {
                        if let Some(s) = state.get_mut(to) {
                            *s = State::Open;
                        }
                        stack.push((to, 0));
                    }
                    Some(State::Open) => {
                        let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let cycle = stack
                            .get(start..)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|&(n, _)| groups.get(n).map(|g| g.name.clone()))
                            .collect();
                        errors.push(CheckError {
                            kind: CheckErrorKind::GroupCycle { cycle },
                            loc: reference.loc.clone(),
                            group: groups.get(node).map(|g| g.name.clone()).unwrap_or_default(),
                            criterion: Some(reference.label.clone()),
                        });
                    }
                    _ => {}
                },
                None => {
                    if let Some(s) = state.get_mut(node) {
                        *s = State::Done;
                    }
                    order.push(node);
                    stack.pop();
                }
            }
        }
    }
    order
}

fn resolve_condition(condition: &mut Condition, positions: &HashMap<String, usize>) {
    match condition {
        Condition::All(items) | Condition::Any(items) => {
            for item in items {
                resolve_condition(item, positions);
            }
        }
        Condition::Not(item) => resolve_condition(item, positions),
        Condition::Predicate(_) => {}
        Condition::Member(member) => {
            if let Some(&position) = positions.get(&member.name) {
                member.group = position;
            }
        }
    }
}

/// A list of blocks: `Any`/`All` whose items are all `Any`/`All` lists of criteria.
fn is_block_shaped(expr: &Expr) -> bool {
    let is_list_of_criteria = |item: &Expr| match item {
        Expr::All { items, .. } | Expr::Any { items, .. } => {
            items.iter().all(|i| matches!(i, Expr::Criterion(_)))
        }
        _ => false,
    };
    match expr {
        Expr::All { items, .. } | Expr::Any { items, .. } => items.iter().all(is_list_of_criteria),
        _ => false,
    }
}

struct GroupChecker<'a> {
    group: &'a str,
    errors: &'a mut Vec<CheckError>,
    counter: usize,
    /// The `member of` criteria met so far, by name.
    references: Vec<Reference>,
    /// The field schema, when there is one.
    schema: Option<&'a schema::SchemaIndex<'a>>,
    /// What remains of the set's regex budget.
    regexes: &'a mut regex::RegexBudget,
}

impl GroupChecker<'_> {
    fn expr(&mut self, expr: &Expr, blocks: bool, block: Option<usize>) -> Condition {
        match expr {
            Expr::All { items, .. } => Condition::All(self.items(items, blocks, block)),
            Expr::Any { items, .. } => Condition::Any(self.items(items, blocks, block)),
            Expr::Not { item, .. } => Condition::Not(Box::new(self.expr(item, false, block))),
            Expr::Criterion(criterion) => {
                self.counter += 1;
                let label = match block {
                    Some(block) => format!("block {block}, criterion {}", self.counter),
                    None => format!("criterion {}", self.counter),
                };
                self.criterion(criterion, label)
            }
        }
    }

    fn items(&mut self, items: &[Expr], blocks: bool, block: Option<usize>) -> Vec<Condition> {
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                if blocks {
                    self.counter = 0;
                    self.expr(item, false, Some(index + 1))
                } else {
                    self.expr(item, false, block)
                }
            })
            .collect()
    }

    fn error(&mut self, kind: CheckErrorKind, loc: &Loc, label: &str, field: &str) {
        self.errors.push(CheckError {
            kind,
            loc: loc.clone(),
            group: self.group.to_owned(),
            criterion: Some(format!("{label} (`{field}`)")),
        });
    }

    fn criterion(&mut self, criterion: &Criterion, label: String) -> Condition {
        let errors_before = self.errors.len();
        let op = criterion.op;
        let values = &criterion.values;
        if values.len() > max_values() {
            let kind = CheckErrorKind::TooManyValues {
                found: values.len(),
                limit: max_values(),
            };
            self.error(kind, &criterion.loc, &label, &criterion.field);
            return Condition::All(Vec::new());
        }
        if op.operator == Operator::MemberOf {
            return self.member_of(criterion, label);
        }
        // `endpoint:Name` is the endpoint field `Name`, with or without a schema.
        let mut field = match cohort_syntax::Level::split(&criterion.field) {
            (Some(cohort_syntax::Level::Endpoint), bare) => bare.to_owned(),
            _ => criterion.field.clone(),
        };
        if criterion.field.trim().is_empty() {
            self.error(CheckErrorKind::EmptyField, &criterion.loc, &label, "");
        } else if let Some(schema) = self.schema {
            match schema.resolve(&criterion.field) {
                Ok(declared) => {
                    field = declared.key();
                    for problem in schema::validate(declared, criterion, schema) {
                        self.error(problem.kind, problem.loc, &label, &criterion.field);
                    }
                    if self.errors.len() > errors_before {
                        return Condition::All(Vec::new());
                    }
                }
                Err(kind) => self.error(kind, &criterion.loc, &label, &criterion.field),
            }
        }
        let arity_ok = match op.operator.arity() {
            Arity::One => values.len() == 1,
            Arity::AtLeastOne => !values.is_empty(),
            Arity::Two => values.len() == 2,
            Arity::OptionalFlag => values.len() <= 1,
        };
        if !arity_ok {
            let kind = CheckErrorKind::WrongArity {
                op,
                expected: op.operator.arity(),
                found: values.len(),
            };
            self.error(kind, &criterion.loc, &label, &criterion.field);
            return Condition::All(Vec::new());
        }
        let mut negated = op.negated;
        let fold = |text: &str| {
            if criterion.case_sensitive {
                text.to_owned()
            } else {
                text.to_lowercase()
            }
        };
        let test = match op.operator {
            Operator::Equal | Operator::IsAnyOf => Test::Equals(
                values
                    .iter()
                    .map(|v| Scalar {
                        text: fold(&v.text),
                        number: literal::parse_number(&v.text),
                    })
                    .collect(),
            ),
            Operator::ContainsAnyOf | Operator::ContainsAllOf => Test::Contains {
                needles: self.texts(criterion, &label, &fold),
                all: op.operator == Operator::ContainsAllOf,
            },
            Operator::StartsWith => Test::StartsWith(self.texts(criterion, &label, &fold)),
            Operator::EndsWith => Test::EndsWith(self.texts(criterion, &label, &fold)),
            Operator::Matches => Test::Matches(
                values
                    .iter()
                    .filter_map(|v| self.regex(criterion, v, &label))
                    .collect(),
            ),
            Operator::GreaterThan
            | Operator::GreaterOrEqual
            | Operator::LessThan
            | Operator::LessOrEqual => {
                let ordering = match op.operator {
                    Operator::GreaterThan => Comparison::Greater,
                    Operator::GreaterOrEqual => Comparison::GreaterOrEqual,
                    Operator::LessThan => Comparison::Less,
                    _ => Comparison::LessOrEqual,
                };
                match values
                    .first()
                    .and_then(|v| self.bound(criterion, v, &label))
                {
                    Some(bound) => Test::Compare { ordering, bound },
                    None => Test::IsBlank,
                }
            }
            Operator::Between => {
                let low = values
                    .first()
                    .and_then(|v| self.bound(criterion, v, &label));
                let high = values.get(1).and_then(|v| self.bound(criterion, v, &label));
                match (low, high) {
                    (Some(low), Some(high)) => {
                        let shared = (low.number.is_some() && high.number.is_some())
                            || (low.date.is_some() && high.date.is_some())
                            || (low.version.is_some() && high.version.is_some());
                        if !shared {
                            let kind = CheckErrorKind::MixedBounds {
                                low: low.text.clone(),
                                high: high.text.clone(),
                            };
                            self.error(kind, &criterion.loc, &label, &criterion.field);
                        } else if bounds_reversed(&low, &high) {
                            let kind = CheckErrorKind::ReversedBounds {
                                op,
                                low: low.text.clone(),
                                high: high.text.clone(),
                            };
                            self.error(kind, &criterion.loc, &label, &criterion.field);
                        }
                        Test::Between { low, high }
                    }
                    _ => Test::IsBlank,
                }
            }
            Operator::IsBlank => {
                if let Some(value) = values.first() {
                    match literal::parse_flag(&value.text) {
                        Some(flag) => negated ^= !flag,
                        None => {
                            let kind = CheckErrorKind::BadFlag {
                                op,
                                text: value.text.clone(),
                            };
                            self.error(kind, &value.loc, &label, &criterion.field);
                        }
                    }
                }
                Test::IsBlank
            }
            Operator::WithinLast | Operator::OlderThan => {
                let text = values.first().map(|v| v.text.as_str()).unwrap_or_default();
                let millis = literal::parse_duration(text).unwrap_or_else(|| {
                    let kind = CheckErrorKind::BadDuration {
                        op,
                        text: text.to_owned(),
                    };
                    let loc = values.first().map_or(&criterion.loc, |v| &v.loc);
                    self.error(kind, loc, &label, &criterion.field);
                    0
                });
                if op.operator == Operator::WithinLast {
                    Test::WithinLast { millis }
                } else {
                    Test::OlderThan { millis }
                }
            }
            // Handled by `member_of` before the test is built.
            Operator::MemberOf => return self.member_of(criterion, label),
        };
        if self.errors.len() > errors_before {
            return Condition::All(Vec::new());
        }
        Condition::Predicate(Predicate {
            field,
            test,
            negated,
            case_sensitive: criterion.case_sensitive,
            label: Arc::from(label),
            text: Arc::from(cohort_syntax::criterion_to_text(criterion)),
        })
    }

    fn member_of(&mut self, criterion: &Criterion, label: String) -> Condition {
        let errors_before = self.errors.len();
        if !criterion.field.trim().is_empty() {
            let kind = CheckErrorKind::MemberOfWithField {
                field: criterion.field.clone(),
            };
            self.error(kind, &criterion.loc, &label, &criterion.field);
        }
        let [value] = criterion.values.as_slice() else {
            let kind = CheckErrorKind::WrongArity {
                op: criterion.op,
                expected: Arity::One,
                found: criterion.values.len(),
            };
            self.error(kind, &criterion.loc, &label, &criterion.field);
            return Condition::All(Vec::new());
        };
        if self.errors.len() > errors_before {
            return Condition::All(Vec::new());
        }
        self.references.push(Reference {
            name: value.text.clone(),
            loc: value.loc.clone(),
            label: format!("{label} (`member of {}`)", value.text),
        });
        Condition::Member(MemberOf {
            name: value.text.clone(),
            // Resolved to the group's position by `resolve_references`.
            group: usize::MAX,
            negated: criterion.op.negated,
            label: Arc::from(label),
            text: Arc::from(cohort_syntax::criterion_to_text(criterion)),
        })
    }

    fn texts(
        &mut self,
        criterion: &Criterion,
        label: &str,
        fold: &dyn Fn(&str) -> String,
    ) -> Vec<String> {
        let mut texts = Vec::with_capacity(criterion.values.len());
        for value in &criterion.values {
            if value.text.is_empty() {
                let kind = CheckErrorKind::EmptyValue { op: criterion.op };
                self.error(kind, &value.loc, label, &criterion.field);
            }
            texts.push(fold(&value.text));
        }
        texts
    }

    fn regex(&mut self, criterion: &Criterion, value: &Literal, label: &str) -> Option<ir::Regex> {
        let error = match self.regexes.compile(&value.text, criterion.case_sensitive) {
            Ok(regex) => return Some(regex),
            Err(error) => error,
        };
        let kind = match error {
            regex::RegexError::OverBudget => CheckErrorKind::RegexBudget {
                pattern: value.text.clone(),
                limit: REGEX_SET_BUDGET,
            },
            regex::RegexError::TooLong(limit) => CheckErrorKind::BadRegex {
                pattern: value.text.clone(),
                reason: format!("it is longer than the limit of {limit} bytes for a pattern"),
            },
            regex::RegexError::TooBig(limit) => CheckErrorKind::BadRegex {
                pattern: value.text.clone(),
                reason: format!("it compiles to more than the limit of {limit} bytes"),
            },
            regex::RegexError::Syntax(text) => {
                let last = text.lines().last().unwrap_or_default().trim();
                CheckErrorKind::BadRegex {
                    pattern: value.text.clone(),
                    reason: last.strip_prefix("error: ").unwrap_or(last).to_owned(),
                }
            }
        };
        self.error(kind, &value.loc, label, &criterion.field);
        None
    }

    fn bound(&mut self, criterion: &Criterion, value: &Literal, label: &str) -> Option<Bound> {
        let bound = Bound {
            text: value.text.clone(),
            number: literal::parse_number(&value.text),
            date: literal::parse_date(&value.text),
            version: literal::Version::parse(&value.text),
        };
        if bound.number.is_none() && bound.date.is_none() && bound.version.is_none() {
            let kind = CheckErrorKind::NotComparable {
                op: criterion.op,
                text: value.text.clone(),
            };
            self.error(kind, &value.loc, label, &criterion.field);
            return None;
        }
        Some(bound)
    }
}

/// Whether `between`'s lower bound is above the upper one in every kind (number, date,
/// version) both read as, so that no attribute lies between them. A kind where they are in
/// order keeps the criterion satisfiable: an attribute of only that kind is compared in it
/// (`between 10.5 and 10.10` holds on `10.7.1`, a version, though as numbers 10.5 > 10.1).
fn bounds_reversed(low: &Bound, high: &Bound) -> bool {
    let mut orders = Vec::new();
    if let (Some(_), Some(_)) = (low.number, high.number) {
        orders.push(
            literal::compare_decimal(&low.text, &high.text).unwrap_or(std::cmp::Ordering::Equal),
        );
    }
    if let (Some(l), Some(h)) = (low.date, high.date) {
        orders.push(l.cmp(&h));
    }
    if let (Some(l), Some(h)) = (&low.version, &high.version) {
        orders.push(l.cmp(h));
    }
    !orders.is_empty() && orders.iter().all(|order| order.is_gt())
}

#[cfg(test)]
mod tests;
