//! The checked IR of a group beside its syntax tree: each IR node with the location and
//! label of the syntax node it was lowered from.
//!
//! `cohort-check` lowers a syntax tree node by node (`all` to `All`, `any` to `Any`, `not`
//! to `Not`, a criterion to a predicate or a `member of`), so for a set that checked without
//! errors the two trees have the same shape. Walking them together gives every IR node its
//! place in the file; a shape that does not match (which would be a bug in the checker) makes
//! the group unlintable rather than a panic.

use cohort_check::ir::{Condition, MemberOf, Predicate};
use cohort_syntax::{Expr, Loc};

/// One node of a group's condition, located.
#[derive(Debug)]
pub(crate) enum Node<'a> {
    /// Every item holds.
    All(Vec<Node<'a>>, &'a Loc),
    /// At least one item holds.
    Any(Vec<Node<'a>>, &'a Loc),
    /// The item does not hold.
    Not(Box<Node<'a>>, &'a Loc),
    /// A criterion on a field.
    Pred(&'a Predicate, &'a Loc),
    /// A `member of` criterion.
    Member(&'a MemberOf, &'a Loc),
}

impl<'a> Node<'a> {
    /// Zips `condition` with the syntax `expr` it was lowered from; `None` when their shapes
    /// differ.
    pub(crate) fn zip(condition: &'a Condition, expr: &'a Expr) -> Option<Node<'a>> {
        Some(match (condition, expr) {
            (Condition::All(items), Expr::All { items: exprs, loc }) => {
                Node::All(Self::zip_all(items, exprs)?, loc)
            }
            (Condition::Any(items), Expr::Any { items: exprs, loc }) => {
                Node::Any(Self::zip_all(items, exprs)?, loc)
            }
            (Condition::Not(item), Expr::Not { item: expr, loc }) => {
                Node::Not(Box::new(Self::zip(item, expr)?), loc)
            }
            (Condition::Predicate(predicate), Expr::Criterion(criterion)) => {
                Node::Pred(predicate, &criterion.loc)
            }
            (Condition::Member(member), Expr::Criterion(criterion)) => {
                Node::Member(member, &criterion.loc)
            }
            _ => return None,
        })
    }

    fn zip_all(items: &'a [Condition], exprs: &'a [Expr]) -> Option<Vec<Node<'a>>> {
        if items.len() != exprs.len() {
            return None;
        }
        items
            .iter()
            .zip(exprs)
            .map(|(item, expr)| Self::zip(item, expr))
            .collect()
    }

    /// Where the node was written.
    pub(crate) fn loc(&self) -> &'a Loc {
        match self {
            Node::All(_, loc)
            | Node::Any(_, loc)
            | Node::Not(_, loc)
            | Node::Pred(_, loc)
            | Node::Member(_, loc) => loc,
        }
    }

    /// The label of a criterion (`block 1, criterion 2`), with its text; `None` for lists.
    pub(crate) fn criterion_label(&self) -> Option<String> {
        match self {
            Node::Pred(p, _) => Some(format!("{} (`{}`)", p.label, p.text)),
            Node::Member(m, _) => Some(format!("{} (`{}`)", m.label, m.text)),
            Node::Not(item, _) => item.criterion_label(),
            Node::All(..) | Node::Any(..) => None,
        }
    }

    /// The criteria of the node, depth first.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(&Node<'a>)) {
        f(self);
        match self {
            Node::All(items, _) | Node::Any(items, _) => {
                for item in items {
                    item.visit(f);
                }
            }
            Node::Not(item, _) => item.visit(f),
            Node::Pred(..) | Node::Member(..) => {}
        }
    }
}
