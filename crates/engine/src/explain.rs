//! Explanations: why a machine is or is not in a group.
//!
//! This is a separate, slower path that builds a tree of results; it runs each criterion
//! through the very same compiled predicate as evaluation, so the two cannot disagree.

use crate::Timestamp;
use crate::machine::{Attr, Machine};
use crate::matcher::{Matcher, Outcome};
use crate::plan::{Formula, GroupId, Plan};
use std::fmt::{self, Write as _};

/// Why a machine is or is not a member of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The group's name.
    pub group: String,
    /// Whether the machine is a member.
    pub matched: bool,
    /// The condition, node by node.
    pub root: ExplainNode,
    /// Whether the root's items are the console's blocks.
    pub block_shaped: bool,
}

/// One node of a condition, with its result.
#[derive(Clone, Debug, PartialEq)]
pub enum ExplainNode {
    /// Every item must hold.
    All {
        /// Whether every item held.
        passed: bool,
        /// The items.
        items: Vec<ExplainNode>,
    },
    /// One item must hold.
    Any {
        /// Whether one item held.
        passed: bool,
        /// The items.
        items: Vec<ExplainNode>,
    },
    /// The item must not hold.
    Not {
        /// Whether the item did not hold.
        passed: bool,
        /// The item.
        item: Box<ExplainNode>,
    },
    /// One criterion.
    Criterion(CriterionResult),
}

impl ExplainNode {
    /// Whether the node held.
    pub fn passed(&self) -> bool {
        match self {
            ExplainNode::All { passed, .. }
            | ExplainNode::Any { passed, .. }
            | ExplainNode::Not { passed, .. } => *passed,
            ExplainNode::Criterion(result) => result.passed,
        }
    }
}

/// One criterion's result on one machine.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionResult {
    /// Which criterion, such as `block 1, criterion 2`.
    pub label: String,
    /// The criterion as text.
    pub criterion: String,
    /// The attribute value seen, as text (`"Not Available"`, `42`, `["a", "b"]`), or `None`
    /// when the machine does not have the attribute.
    pub seen: Option<String>,
    /// Whether the criterion held.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

impl Explanation {
    /// The criteria that decide the verdict, in the order written: for a member, those of
    /// the path that holds (every item of an `all`, the first item that holds of an `any`);
    /// for a non-member, those that fail it (every failing item of an `all`, every item of
    /// an `any`). Through `not`, the criteria of the negated item.
    ///
    /// ```
    /// use serde_json::json;
    /// let groups = cohort::GroupSet::from_yaml_str(
    ///     "name: Old Agents\nwhere: \"'Agent Version' < 2024.1.0 and OS contains Windows\"",
    /// ).unwrap();
    /// let machine = json!({"Agent Version": "2024.1.0", "OS": "Windows 11"});
    /// let why = groups.explain(&machine, "Old Agents", cohort::Timestamp::UNIX_EPOCH).unwrap();
    /// let deciding: Vec<&str> = why.deciding().iter().map(|c| c.criterion.as_str()).collect();
    /// assert_eq!(deciding, ["\"Agent Version\" less than 2024.1.0"]);
    /// ```
    pub fn deciding(&self) -> Vec<&CriterionResult> {
        let mut out = Vec::new();
        deciding_into(&self.root, &mut out);
        out
    }
}

fn deciding_into<'e>(node: &'e ExplainNode, out: &mut Vec<&'e CriterionResult>) {
    match node {
        ExplainNode::Criterion(result) => out.push(result),
        ExplainNode::All { passed, items } => {
            for item in items.iter().filter(|item| *passed || !item.passed()) {
                deciding_into(item, out);
            }
        }
        ExplainNode::Any { passed, items } => {
            if *passed {
                if let Some(item) = items.iter().find(|item| item.passed()) {
                    deciding_into(item, out);
                }
            } else {
                for item in items {
                    deciding_into(item, out);
                }
            }
        }
        ExplainNode::Not { item, .. } => deciding_into(item, out),
    }
}

impl Plan {
    /// Explains the membership of `machine` in group `id`.
    pub fn explain<M: Machine + ?Sized>(
        &self,
        machine: &M,
        id: GroupId,
        now: Timestamp,
    ) -> Option<Explanation> {
        let group = self.groups.get(id.index())?;
        let mut buffer = String::new();
        let root = self.explain_formula(&group.formula, machine, now, &mut buffer);
        Some(Explanation {
            group: group.name.clone(),
            matched: root.passed(),
            root,
            block_shaped: group.block_shaped,
        })
    }

    fn explain_formula<M: Machine + ?Sized>(
        &self,
        formula: &Formula,
        machine: &M,
        now: Timestamp,
        buffer: &mut String,
    ) -> ExplainNode {
        match formula {
            Formula::All(items) | Formula::Any(items) => {
                let items: Vec<_> = items
                    .iter()
                    .map(|f| self.explain_formula(f, machine, now, buffer))
                    .collect();
                if matches!(formula, Formula::All(_)) {
                    ExplainNode::All {
                        passed: items.iter().all(ExplainNode::passed),
                        items,
                    }
                } else {
                    ExplainNode::Any {
                        passed: items.iter().any(ExplainNode::passed),
                        items,
                    }
                }
            }
            Formula::Not(item) => {
                let item = self.explain_formula(item, machine, now, buffer);
                ExplainNode::Not {
                    passed: !item.passed(),
                    item: Box::new(item),
                }
            }
            Formula::Member {
                group,
                negated,
                label,
                text,
            } => {
                let member = self
                    .memberships(machine, now, &mut crate::Scratch::new())
                    .contains(*group);
                let name = self.group_name(*group);
                let state = if member { "is" } else { "is not" };
                ExplainNode::Criterion(CriterionResult {
                    label: label.to_string(),
                    criterion: text.to_string(),
                    seen: None,
                    passed: member != *negated,
                    reason: format!("the machine {state} a member of `{name}`"),
                })
            }
            Formula::Criterion {
                predicate,
                negated,
                label,
                text,
            } => {
                let compiled = self.predicates.get(predicate.0 as usize);
                let field = compiled.map_or("", |p| &p.field);
                let attr = machine.attr(field);
                let outcome = self.outcome(*predicate, machine, now, buffer);
                let passed = (outcome == Outcome::Held) != *negated;
                let matcher = compiled.map(|p| &p.matcher);
                ExplainNode::Criterion(CriterionResult {
                    label: label.to_string(),
                    criterion: text.to_string(),
                    seen: attr.map(render),
                    passed,
                    reason: reason(field, matcher, outcome, *negated),
                })
            }
        }
    }
}

fn reason(field: &str, matcher: Option<&Matcher>, outcome: Outcome, negated: bool) -> String {
    let base = match outcome {
        Outcome::Held => "the condition holds".to_owned(),
        Outcome::Failed => "the condition does not hold".to_owned(),
        Outcome::Missing => format!("the machine has no value for `{field}`"),
        Outcome::Unreadable => match matcher {
            Some(Matcher::Compare(..) | Matcher::Between(..)) => {
                "the value cannot be read as a number, date or version like the criterion's"
                    .to_owned()
            }
            Some(Matcher::WithinLast(_) | Matcher::OlderThan(_)) => {
                "the value cannot be read as a date".to_owned()
            }
            _ => "the value cannot be compared as text".to_owned(),
        },
    };
    if !negated {
        return base;
    }
    match outcome {
        Outcome::Held => format!("{base}, so its negation fails"),
        _ => format!("{base}, so its negation holds"),
    }
}

/// An attribute value as text for people: JSON-like.
pub(crate) fn render(attr: Attr<'_>) -> String {
    let mut out = String::new();
    render_into(attr, 0, &mut out);
    out
}

/// Renders `attr`, found `depth` lists deep; lists past
/// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) are not looked into (`[…]`).
fn render_into(attr: Attr<'_>, depth: usize, out: &mut String) {
    if matches!(attr, Attr::List(_)) && matches!(attr.at_depth(depth), Attr::Opaque) {
        out.push_str("[…]");
        return;
    }
    match attr {
        Attr::Null => out.push_str("null"),
        Attr::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Attr::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Attr::Text(t) => {
            let _ = write!(out, "{t:?}");
        }
        Attr::List(list) => {
            out.push('[');
            for (index, item) in list.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                render_into(item, depth + 1, out);
            }
            out.push(']');
        }
        Attr::Opaque => out.push_str("(object)"),
    }
}

impl fmt::Display for Explanation {
    /// The explanation as an indented tree, one node a line:
    ///
    /// ```text
    /// BitLocker Key Missing: member
    ///   pass  block 1 (all of)
    ///     pass  block 1, criterion 1: "BitLocker Key Backup Status" contains any of "Not Available"
    ///           seen "Not Available": the condition holds
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.matched {
            "member"
        } else {
            "not a member"
        };
        writeln!(f, "{}: {verdict}", self.group)?;
        match &self.root {
            ExplainNode::Any { items, .. } | ExplainNode::All { items, .. }
                if self.block_shaped =>
            {
                let join = if matches!(self.root, ExplainNode::Any { .. }) {
                    "any block must hold"
                } else {
                    "every block must hold"
                };
                if items.len() > 1 {
                    writeln!(f, "  ({join})")?;
                }
                for (index, item) in items.iter().enumerate() {
                    write_node(f, item, 1, Some(index + 1))?;
                }
                Ok(())
            }
            root => write_node(f, root, 1, None),
        }
    }
}

fn write_node(
    f: &mut fmt::Formatter<'_>,
    node: &ExplainNode,
    depth: usize,
    block: Option<usize>,
) -> fmt::Result {
    let indent = "  ".repeat(depth);
    let mark = |passed: bool| if passed { "pass" } else { "FAIL" };
    match node {
        ExplainNode::All { passed, items } | ExplainNode::Any { passed, items } => {
            let join = if matches!(node, ExplainNode::All { .. }) {
                "all of"
            } else {
                "any of"
            };
            match block {
                Some(block) => writeln!(f, "{indent}{}  block {block} ({join})", mark(*passed))?,
                None => writeln!(f, "{indent}{}  {join}", mark(*passed))?,
            }
            for item in items {
                write_node(f, item, depth + 1, None)?;
            }
            Ok(())
        }
        ExplainNode::Not { passed, item } => {
            writeln!(f, "{indent}{}  not", mark(*passed))?;
            write_node(f, item, depth + 1, None)
        }
        ExplainNode::Criterion(result) => {
            writeln!(
                f,
                "{indent}{}  {}: {}",
                mark(result.passed),
                result.label,
                result.criterion
            )?;
            let seen = result.seen.as_deref().unwrap_or("nothing");
            writeln!(f, "{indent}      seen {seen}: {}", result.reason)
        }
    }
}
