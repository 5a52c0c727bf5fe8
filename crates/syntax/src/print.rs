//! Canonical text: the printer behind `cohort fmt`, explanations and messages.
//!
//! For every tree `t` the parser reads back what the printer writes:
//! `parse_condition(&condition_to_text(&t)) == t.normalized()`. Names and values are written
//! bare when they read back identically and quoted (with escapes) otherwise; `and`/`or` lists
//! are flat, with parentheses only where the tree needs them.

use crate::ast::{Criterion, Expr};
use crate::operator::{Op, Operator};
use crate::parse;
use std::fmt::Write as _;

/// A criterion as one canonical line.
///
/// ```
/// use cohort_syntax::{criterion_to_text, parse_criterion};
/// let c = parse_criterion("[BitLocker Key Backup Status]  Contains Any Of 'x', \"Not Available\"").unwrap();
/// assert_eq!(criterion_to_text(&c), r#""BitLocker Key Backup Status" contains any of x, "Not Available""#);
/// ```
pub fn criterion_to_text(criterion: &Criterion) -> String {
    let mut out = String::new();
    write_criterion(criterion, &mut out);
    out
}

/// A condition as canonical text: blocks (`block 1:` and indented criteria) when it is a list
/// of ORed blocks of ANDed criteria, an expression otherwise.
///
/// ```
/// use cohort_syntax::{condition_to_text, parse_condition};
/// let text = "block 1:\n  OS contains any of Windows\n  \"Free Disk %\" less than 10\n";
/// assert_eq!(condition_to_text(&parse_condition(text).unwrap()), text);
/// let text = "(OS starts with Windows or OS starts with Linux) and not Tags is blank";
/// assert_eq!(condition_to_text(&parse_condition(text).unwrap()), text);
/// ```
pub fn condition_to_text(condition: &Expr) -> String {
    let condition = condition.normalized();
    match blocks_of(&condition) {
        Some(blocks) => {
            let mut out = String::new();
            for (index, criteria) in blocks.iter().enumerate() {
                let _ = writeln!(out, "block {}:", index + 1);
                for criterion in criteria {
                    out.push_str("  ");
                    write_criterion(criterion, &mut out);
                    out.push('\n');
                }
            }
            out
        }
        None => expr_to_text(&condition),
    }
}

/// A condition as one expression (`a and (b or not c)`).
pub fn expr_to_text(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&expr.normalized(), Context::Top, &mut out);
    out
}

/// The criteria of each block, when the condition is `Any` of `All` lists of criteria.
fn blocks_of(condition: &Expr) -> Option<Vec<Vec<&Criterion>>> {
    let Expr::Any { items, .. } = condition else {
        return None;
    };
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|block| match block {
            Expr::All { items, .. } if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Expr::Criterion(c) => Some(c),
                    _ => None,
                })
                .collect(),
            _ => None,
        })
        .collect()
}

impl Expr {
    /// The same condition with one-item `all`/`any` lists replaced by their item, except in
    /// the block shape (`Any` of `All` lists of criteria), which is kept as written. This is
    /// the form the text parser produces.
    #[must_use]
    pub fn normalized(&self) -> Expr {
        if blocks_of(self).is_some() {
            return self.clone();
        }
        self.flattened()
    }

    fn flattened(&self) -> Expr {
        match self {
            Expr::All { items, loc } | Expr::Any { items, loc } => {
                if let [only] = items.as_slice() {
                    return only.flattened();
                }
                let items = items.iter().map(Expr::flattened).collect();
                if matches!(self, Expr::All { .. }) {
                    Expr::All {
                        items,
                        loc: loc.clone(),
                    }
                } else {
                    Expr::Any {
                        items,
                        loc: loc.clone(),
                    }
                }
            }
            Expr::Not { item, loc } => Expr::Not {
                item: Box::new(item.flattened()),
                loc: loc.clone(),
            },
            Expr::Criterion(c) => Expr::Criterion(c.clone()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    InAny,
    InAll,
    InNot,
}

fn write_expr(expr: &Expr, context: Context, out: &mut String) {
    match expr {
        Expr::Any { items, .. } => {
            let parens = context != Context::Top;
            write_list(items, " or ", Context::InAny, parens, out);
        }
        Expr::All { items, .. } => {
            let parens = matches!(context, Context::InAll | Context::InNot);
            write_list(items, " and ", Context::InAll, parens, out);
        }
        Expr::Not { item, .. } => {
            out.push_str("not ");
            write_expr(item, Context::InNot, out);
        }
        Expr::Criterion(criterion) => {
            // `x between 1` followed by `and`: parentheses keep `and` from reading as the
            // separator of `between`'s bounds.
            let parens = (criterion.op.operator == Operator::Between
                && criterion.values.len() == 1
                && context != Context::Top)
                // `not member of` would read as one negated criterion.
                || (criterion.op.operator == Operator::MemberOf
                    && criterion.field.is_empty()
                    && context == Context::InNot);
            if parens {
                out.push('(');
            }
            write_criterion(criterion, out);
            if parens {
                out.push(')');
            }
        }
    }
}

fn write_list(items: &[Expr], separator: &str, context: Context, parens: bool, out: &mut String) {
    if parens {
        out.push('(');
    }
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(separator);
        }
        write_expr(item, context, out);
    }
    if parens {
        out.push(')');
    }
}

fn write_criterion(criterion: &Criterion, out: &mut String) {
    let field = &criterion.field;
    if criterion.op.operator == Operator::MemberOf && field.is_empty() {
        out.push_str(criterion.op.phrase());
        for (index, value) in criterion.values.iter().enumerate() {
            out.push_str(if index == 0 { " " } else { ", " });
            write_quoted(&value.text, out);
        }
        if criterion.case_sensitive {
            out.push_str(" (case-sensitive)");
        }
        return;
    }
    // A leading `#` would read as a comment line in the block form.
    let bare_field = !field.is_empty()
        && !field.starts_with(['#', '\''])
        && field.chars().all(parse::is_field_char)
        && !parse::starts_with_keyword(field)
        && !parse::is_member_of(field);
    if bare_field {
        out.push_str(field);
    } else {
        write_quoted(field, out);
    }
    out.push(' ');
    out.push_str(criterion.op.phrase());
    let separator = if criterion.op.operator == Operator::Between && criterion.values.len() == 2 {
        " and "
    } else {
        ", "
    };
    for (index, value) in criterion.values.iter().enumerate() {
        out.push_str(if index == 0 { " " } else { separator });
        // A bare first value must not read as the rest of a longer phrase (`equal` + `to`).
        let extends_phrase = index == 0 && {
            let phrase = criterion.op.phrase();
            parse::operator(&format!("{phrase} {}", value.text))
                .is_some_and(|(_, len)| len > phrase.len())
        };
        if is_bare_value(&value.text, criterion.op) && !extends_phrase {
            out.push_str(&value.text);
        } else {
            write_quoted(&value.text, out);
        }
    }
    if criterion.case_sensitive {
        out.push_str(" (case-sensitive)");
    }
}

fn is_bare_value(text: &str, op: Op) -> bool {
    if matches!(op.operator, Operator::WithinLast | Operator::OlderThan)
        && let Ok((rest, _)) = parse::duration(text)
    {
        return rest.is_empty();
    }
    !text.is_empty()
        && !text.starts_with('\'')
        && text.chars().all(parse::is_value_char)
        && !parse::starts_with_keyword(text)
}

fn write_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
