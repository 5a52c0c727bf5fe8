//! The reference evaluator: the semantics of README.md's operator table, written as plainly
//! as possible, over the syntax tree and a JSON map.
//!
//! It shares nothing with the engine but the literal readers of `cohort-check` (numbers,
//! dates, versions, durations, flags), which have their own tests. It re-reads every literal
//! on every call, folds case with `str::to_lowercase` everywhere and never caches: it is
//! meant to be obviously right, not fast.

use cohort_check::literal::{Version, parse_date, parse_duration, parse_flag, parse_number};
use cohort_syntax::{Criterion, Expr, GroupDef, Operator};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Whether `machine` is a member of `group` at `now` (milliseconds since the epoch), for a
/// group with no `member of` criterion (they are false here: use [`is_member_in`]).
pub fn is_member(group: &GroupDef, machine: &Map<String, Value>, now: i64) -> bool {
    expr(&group.condition, &[], machine, now)
}

/// Whether `machine` is a member of `group`, whose `member of` criteria name groups of
/// `set` (evaluated by recursion, with no memo; the set must have no cycle).
pub fn is_member_in(
    set: &[GroupDef],
    group: &GroupDef,
    machine: &Map<String, Value>,
    now: i64,
) -> bool {
    expr(&group.condition, set, machine, now)
}

fn expr(e: &Expr, set: &[GroupDef], machine: &Map<String, Value>, now: i64) -> bool {
    match e {
        Expr::All { items, .. } => items.iter().all(|i| expr(i, set, machine, now)),
        Expr::Any { items, .. } => items.iter().any(|i| expr(i, set, machine, now)),
        Expr::Not { item, .. } => !expr(item, set, machine, now),
        Expr::Criterion(c) if c.op.operator == Operator::MemberOf => {
            let name = c.values.first().map(|v| v.text.as_str());
            let member = set
                .iter()
                .find(|g| Some(g.name.as_str()) == name)
                .is_some_and(|g| expr(&g.condition, set, machine, now));
            member != c.op.negated
        }
        Expr::Criterion(c) => criterion(c, machine, now),
    }
}

fn criterion(c: &Criterion, machine: &Map<String, Value>, now: i64) -> bool {
    let mut negated = c.op.negated;
    let flag = c.values.first().and_then(|value| parse_flag(&value.text));
    if c.op.operator == Operator::IsBlank && flag == Some(false) {
        negated = !negated;
    }
    positive(c, machine.get(&c.field), 0, now) != negated
}

/// How many lists deep values are looked into (README): a list inside this many lists is
/// read like an object.
const MAX_LIST_DEPTH: usize = 32;

/// The positive test on a value found `depth` lists deep in the attribute.
fn positive(c: &Criterion, value: Option<&Value>, depth: usize, now: i64) -> bool {
    match value {
        None | Some(Value::Null) => c.op.operator == Operator::IsBlank,
        Some(Value::Object(_)) => false,
        Some(Value::Array(_)) if depth >= MAX_LIST_DEPTH => false,
        Some(Value::Array(items)) => match c.op.operator {
            Operator::IsBlank => items.is_empty(),
            Operator::ContainsAllOf => c.values.iter().all(|needle| {
                items.iter().any(|item| {
                    text(item).is_some_and(|t| fold(c, &t).contains(&fold(c, &needle.text)))
                })
            }),
            _ => items
                .iter()
                .any(|item| positive(c, Some(item), depth + 1, now)),
        },
        Some(scalar) => scalar_holds(c, scalar, now),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(format!("{}", n.as_f64()?)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

fn date(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => parse_date(s),
        _ => None,
    }
}

fn fold(c: &Criterion, s: &str) -> String {
    if c.case_sensitive {
        s.to_owned()
    } else {
        s.to_lowercase()
    }
}

fn scalar_holds(c: &Criterion, value: &Value, now: i64) -> bool {
    let Some(t) = text(value) else {
        return false;
    };
    let folded = fold(c, &t);
    let values = c.values.iter().map(|v| v.text.as_str());
    match c.op.operator {
        Operator::Equal | Operator::IsAnyOf => c.values.iter().any(|v| {
            folded == fold(c, &v.text)
                || matches!((number(value), parse_number(&v.text)), (Some(a), Some(b)) if a == b)
        }),
        // Answered by `expr`, which knows the other groups.
        Operator::MemberOf => false,
        Operator::ContainsAnyOf => values.into_iter().any(|v| folded.contains(&fold(c, v))),
        Operator::ContainsAllOf => c.values.iter().all(|v| folded.contains(&fold(c, &v.text))),
        Operator::StartsWith => values.into_iter().any(|v| folded.starts_with(&fold(c, v))),
        Operator::EndsWith => values.into_iter().any(|v| folded.ends_with(&fold(c, v))),
        Operator::Matches => values.into_iter().any(|pattern| {
            regex::RegexBuilder::new(pattern)
                .case_insensitive(!c.case_sensitive)
                .build()
                .is_ok_and(|r| r.is_match(&t))
        }),
        Operator::GreaterThan => order(value, &c.values[0].text) == Some(Ordering::Greater),
        Operator::GreaterOrEqual => order(value, &c.values[0].text).is_some_and(Ordering::is_ge),
        Operator::LessThan => order(value, &c.values[0].text) == Some(Ordering::Less),
        Operator::LessOrEqual => order(value, &c.values[0].text).is_some_and(Ordering::is_le),
        Operator::Between => {
            let (low, high) = (&c.values[0].text, &c.values[1].text);
            kinds()
                .into_iter()
                .filter(|k| k.reads(low) && k.reads(high))
                .find_map(|k| Some((k.order(value, low)?, k.order(value, high)?)))
                .is_some_and(|(to_low, to_high)| to_low.is_ge() && to_high.is_le())
        }
        Operator::IsBlank => matches!(value, Value::String(s) if s.trim().is_empty()),
        Operator::WithinLast | Operator::OlderThan => {
            let Some(at) = date(value) else {
                return false;
            };
            let Some(duration) = parse_duration(&c.values[0].text) else {
                return false;
            };
            if c.op.operator == Operator::WithinLast {
                at >= now - duration
            } else {
                at < now - duration
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Date,
    Version,
}

fn kinds() -> [Kind; 3] {
    [Kind::Number, Kind::Date, Kind::Version]
}

impl Kind {
    fn reads(self, literal: &str) -> bool {
        match self {
            Kind::Number => parse_number(literal).is_some(),
            Kind::Date => parse_date(literal).is_some(),
            Kind::Version => Version::parse(literal).is_some(),
        }
    }

    fn order(self, value: &Value, literal: &str) -> Option<Ordering> {
        match self {
            Kind::Number => number(value)?.partial_cmp(&parse_number(literal)?),
            Kind::Date => Some(date(value)?.cmp(&parse_date(literal)?)),
            Kind::Version => Version::parse(literal)?.compare_text(&text(value)?),
        }
    }
}

/// The first kind (number, date, version) the literal and the value both read as decides.
fn order(value: &Value, literal: &str) -> Option<Ordering> {
    kinds()
        .into_iter()
        .filter(|k| k.reads(literal))
        .find_map(|k| k.order(value, literal))
}
