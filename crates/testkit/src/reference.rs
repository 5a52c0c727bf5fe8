//! The reference evaluator: the semantics of README.md's operator table, written as plainly
//! as possible, over the syntax tree and a JSON map.
//!
//! It shares nothing with the engine but the literal readers of `cohort-check` for numbers,
//! dates, durations and flags, which have their own tests; versions, the exact comparison of
//! numbers written as text and the text form of numbers are written again here. It re-reads
//! every literal on every call, folds case with `str::to_lowercase` everywhere and never
//! caches: it is meant to be obviously right, not fast.

use cohort_check::literal::{parse_date, parse_duration, parse_flag, parse_number};
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
        Value::Number(n) => Some(number_text(n.as_f64()?)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// README: a number's shortest form, with an exponent from 1e21 up and below 1e-6 in size.
fn number_text(n: f64) -> String {
    if n == 0.0 {
        "0".to_owned()
    } else if n.abs() >= 1e21 || n.abs() < 1e-6 {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

/// A number written as text, exactly: negative, its digits without leading or trailing
/// zeros, and the power of ten of the first digit's place plus one (`0.DIGITS × 10^power`).
fn exact(text: &str) -> Option<(bool, String, i64)> {
    parse_number(text)?;
    let text = text.trim();
    let negative = text.starts_with('-');
    let text = text.trim_start_matches(['-', '+']);
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    let power = whole.len() as i64 - (digits.len() - significant.len()) as i64 + exponent;
    let significant = significant.trim_end_matches('0').to_owned();
    if significant.is_empty() {
        return Some((false, String::new(), 0));
    }
    Some((negative, significant, power))
}

/// Orders two numbers written as text exactly (README: integers above 2^53 keep every digit).
fn exact_order(a: &str, b: &str) -> Option<Ordering> {
    let (a_negative, a_digits, a_power) = exact(a)?;
    let (b_negative, b_digits, b_power) = exact(b)?;
    let sign = |negative: bool, digits: &str| match (digits.is_empty(), negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    let (a_sign, b_sign) = (sign(a_negative, &a_digits), sign(b_negative, &b_digits));
    if a_sign != b_sign || a_sign == 0 {
        return Some(a_sign.cmp(&b_sign));
    }
    let magnitude = a_power.cmp(&b_power).then(a_digits.cmp(&b_digits));
    Some(if a_sign < 0 {
        magnitude.reverse()
    } else {
        magnitude
    })
}

/// How a value orders against a number literal: exactly for text, as 64-bit floats for JSON
/// numbers.
fn number_order(value: &Value, literal: &str) -> Option<Ordering> {
    match value {
        Value::String(s) => exact_order(s, literal),
        _ => number(value)?.partial_cmp(&parse_number(literal)?),
    }
}

/// A version's segments (README: whole numbers of any size, dot-separated, an optional
/// leading `v`), without leading zeros.
fn version(text: &str) -> Option<Vec<String>> {
    let text = text.trim();
    let text = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);
    text.split('.')
        .map(|segment| {
            let digits = !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit());
            digits.then(|| {
                let trimmed = segment.trim_start_matches('0');
                if trimmed.is_empty() { "0" } else { trimmed }.to_owned()
            })
        })
        .collect()
}

fn version_order(a: &[String], b: &[String]) -> Ordering {
    let zero = "0".to_owned();
    (0..a.len().max(b.len()))
        .map(|i| {
            let (x, y) = (a.get(i).unwrap_or(&zero), b.get(i).unwrap_or(&zero));
            x.len().cmp(&y.len()).then(x.cmp(y))
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
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
            folded == fold(c, &v.text) || number_order(value, &v.text) == Some(Ordering::Equal)
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
            Kind::Version => version(literal).is_some(),
        }
    }

    fn order(self, value: &Value, literal: &str) -> Option<Ordering> {
        match self {
            Kind::Number => number_order(value, literal),
            Kind::Date => Some(date(value)?.cmp(&parse_date(literal)?)),
            Kind::Version => Some(version_order(&version(&text(value)?)?, &version(literal)?)),
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
