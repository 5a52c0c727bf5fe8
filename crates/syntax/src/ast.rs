//! The syntax tree of group definitions.
//!
//! A group's condition is an [`Expr`]: criteria combined with `all` (AND), `any` (OR) and
//! `not`. The console's "blocks" are one shape of it: a group whose blocks are ORed is
//! `Any[All[criteria of block 1], All[criteria of block 2], ...]`. Every front end (the YAML
//! map form today, the one-line text form later) produces this same tree.

use crate::loc::Loc;
use crate::operator::Op;

/// One dynamic group definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupDef {
    /// The group's name, unique within a set of definitions.
    pub name: String,
    /// What the group is for.
    pub description: Option<String>,
    /// The membership condition.
    pub condition: Expr,
    /// Where the definition starts.
    pub loc: Loc,
}

/// A membership condition.
///
/// ```
/// use cohort_syntax::{Criterion, Expr, Literal, Op, Operator};
///
/// // "BitLocker Key Missing": one block, one criterion.
/// let criterion = Criterion::new(
///     "BitLocker Key Backup Status",
///     Op::positive(Operator::ContainsAnyOf),
///     vec![Literal::new("Not Available")],
/// );
/// let condition = Expr::any(vec![Expr::all(vec![Expr::Criterion(criterion)])]);
/// assert_eq!(condition.criteria().count(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// True when every item is true (true when empty).
    All {
        /// The conjuncts.
        items: Vec<Expr>,
        /// Where the list was written (a block, or a `match: all` list).
        loc: Loc,
    },
    /// True when at least one item is true (false when empty).
    Any {
        /// The disjuncts.
        items: Vec<Expr>,
        /// Where the list was written.
        loc: Loc,
    },
    /// True when the item is false.
    Not {
        /// The negated condition.
        item: Box<Expr>,
        /// Where the negation was written.
        loc: Loc,
    },
    /// One criterion.
    Criterion(Criterion),
}

impl Expr {
    /// `All` of `items`, with no location.
    pub fn all(items: Vec<Expr>) -> Expr {
        Expr::All {
            items,
            loc: Loc::default(),
        }
    }

    /// `Any` of `items`, with no location.
    pub fn any(items: Vec<Expr>) -> Expr {
        Expr::Any {
            items,
            loc: Loc::default(),
        }
    }

    /// The negation of `item`, with no location.
    #[allow(clippy::should_implement_trait)]
    pub fn not(item: Expr) -> Expr {
        Expr::Not {
            item: Box::new(item),
            loc: Loc::default(),
        }
    }

    /// Every criterion in the expression, depth first, in the order written.
    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            while let Some(expr) = stack.pop() {
                match expr {
                    Expr::All { items, .. } | Expr::Any { items, .. } => {
                        stack.extend(items.iter().rev());
                    }
                    Expr::Not { item, .. } => stack.push(item),
                    Expr::Criterion(criterion) => return Some(criterion),
                }
            }
            None
        })
    }

    /// Where the expression was written.
    pub fn loc(&self) -> &Loc {
        match self {
            Expr::All { loc, .. } | Expr::Any { loc, .. } | Expr::Not { loc, .. } => loc,
            Expr::Criterion(criterion) => &criterion.loc,
        }
    }
}

/// One criterion: a field, an operator and its values, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Criterion {
    /// The attribute's name, as the console shows it (`BitLocker Key Backup Status`).
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The values, uninterpreted.
    pub values: Vec<Literal>,
    /// Whether text comparisons respect case (they ignore it by default).
    pub case_sensitive: bool,
    /// Where the criterion was written.
    pub loc: Loc,
    /// Where its operator was written.
    pub op_loc: Loc,
}

impl Criterion {
    /// A case-insensitive criterion with no location.
    pub fn new(field: impl Into<String>, op: Op, values: Vec<Literal>) -> Self {
        Criterion {
            field: field.into(),
            op,
            values,
            case_sensitive: false,
            loc: Loc::default(),
            op_loc: Loc::default(),
        }
    }
}

/// A value as written. What it means (text, number, date, version, regex, duration) depends
/// on the operator and is decided by `cohort-check`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Literal {
    /// The text of the value.
    pub text: String,
    /// Where it was written.
    pub loc: Loc,
}

impl Literal {
    /// A literal with no location.
    pub fn new(text: impl Into<String>) -> Self {
        Literal {
            text: text.into(),
            loc: Loc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::Operator;

    fn criterion(field: &str) -> Expr {
        Expr::Criterion(Criterion::new(
            field,
            Op::positive(Operator::IsBlank),
            Vec::new(),
        ))
    }

    #[test]
    fn criteria_are_listed_in_written_order() {
        let expr = Expr::any(vec![
            Expr::all(vec![criterion("a"), criterion("b")]),
            Expr::not(criterion("c")),
            criterion("d"),
        ]);
        let fields: Vec<&str> = expr.criteria().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c", "d"]);
    }

    #[test]
    fn locations_do_not_take_part_in_equality() {
        let mut located =
            Criterion::new("a", Op::positive(Operator::Equal), vec![Literal::new("x")]);
        located.loc = Loc::new(crate::SourceId(3), crate::NodePath::root().key("blocks"));
        let plain = Criterion::new("a", Op::positive(Operator::Equal), vec![Literal::new("x")]);
        assert_eq!(located, plain);
    }
}
