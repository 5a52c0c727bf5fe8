//! Explanations: why a machine is or is not in a group.
//!
//! This is a separate, slower path that builds a tree of results; it runs each criterion
//! through the very same compiled predicate as evaluation, so the two cannot disagree.

use crate::Timestamp;
use crate::machine::{Attr, Machine};
use crate::matcher::{Matcher, Observer, Outcome};
use crate::plan::{Formula, GroupId, Plan};
use cohort_check::ir::{Bound, Comparison};
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
    /// Why, in words: what was found (`` `OS` does not contain "server" ("Windows 11") ``),
    /// and for a negated criterion that fails, what made its positive hold.
    pub reason: String,
    /// How the value was compared with the criterion's values, when it was (`None` for a
    /// missing or unreadable value, `is blank` and `member of`).
    pub compared_as: Option<ComparedAs>,
}

/// How an attribute value was compared with a criterion's values: the kind the engine
/// read both as (the first of number, date, version that both read as, for comparisons),
/// or text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComparedAs {
    /// As numbers.
    Number,
    /// As dates (instants).
    Date,
    /// As versions, segment by segment.
    Version,
    /// As text.
    Text {
        /// Whether case mattered (`case_sensitive: true`); otherwise both were lowercased.
        case_sensitive: bool,
    },
    /// As numbers and as text, and equal in neither: `equal` (or `is any of`) with values
    /// that read as numbers, on a value that does too.
    NumberOrText {
        /// Whether case mattered in the text comparison.
        case_sensitive: bool,
    },
}

impl ComparedAs {
    /// Text, with or without case.
    pub(crate) fn text(case_sensitive: bool) -> ComparedAs {
        ComparedAs::Text { case_sensitive }
    }

    /// In words, after "compared": `as versions`, `as text, ignoring case`.
    pub fn words(self) -> &'static str {
        match self {
            ComparedAs::Number => "as numbers",
            ComparedAs::Date => "as dates",
            ComparedAs::Version => "as versions",
            ComparedAs::Text {
                case_sensitive: false,
            } => "as text, ignoring case",
            ComparedAs::Text {
                case_sensitive: true,
            } => "as text, case-sensitive",
            ComparedAs::NumberOrText {
                case_sensitive: false,
            } => "as numbers and as text, ignoring case",
            ComparedAs::NumberOrText {
                case_sensitive: true,
            } => "as numbers and as text, case-sensitive",
        }
    }
}

impl fmt::Display for ComparedAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// What explain learns from a matcher's run besides the outcome.
#[derive(Default)]
struct Trace {
    compared: Option<ComparedAs>,
    element: Option<usize>,
}

impl Observer for Trace {
    const RECORDS: bool = true;

    fn compared(&mut self, kind: ComparedAs) {
        self.compared = Some(kind);
    }

    fn element(&mut self, index: usize) {
        self.element = Some(index);
    }
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
                let mut reason = format!("the machine {state} a member of `{name}`");
                if *negated && member {
                    reason.push_str(", so `not member of` fails");
                }
                ExplainNode::Criterion(CriterionResult {
                    label: label.to_string(),
                    criterion: text.to_string(),
                    seen: None,
                    passed: member != *negated,
                    reason,
                    compared_as: None,
                })
            }
            Formula::Criterion {
                predicate,
                negated,
                label,
                text,
            } => {
                let compiled = self.predicate(*predicate);
                let field = self.field_name(compiled.field);
                let attr = machine.attr(field);
                let mut trace = Trace::default();
                let outcome = self.outcome(*predicate, machine, now, buffer, &mut trace);
                let passed = (outcome == Outcome::Held) != *negated;
                let compared_as = match outcome {
                    Outcome::Held | Outcome::Failed => trace.compared,
                    Outcome::Missing | Outcome::Unreadable => None,
                };
                let reason = Reason {
                    field,
                    matcher: &compiled.matcher,
                    attr,
                    outcome,
                    element: trace.element,
                    compared_as,
                    now,
                }
                .words(*negated);
                ExplainNode::Criterion(CriterionResult {
                    label: label.to_string(),
                    criterion: text.to_string(),
                    seen: attr.map(render),
                    passed,
                    reason,
                    compared_as,
                })
            }
        }
    }
}

/// What an explanation says about one criterion on one machine.
struct Reason<'a> {
    field: &'a str,
    matcher: &'a Matcher,
    attr: Option<Attr<'a>>,
    outcome: Outcome,
    /// The list element on which the test held.
    element: Option<usize>,
    compared_as: Option<ComparedAs>,
    now: Timestamp,
}

/// At most this many of a criterion's values are named in a reason.
const VALUES_NAMED: usize = 4;

impl Reason<'_> {
    /// The reason in words, for the criterion or (`negated`) its negation: what was found,
    /// and for a negation that fails, what made its positive hold.
    fn words(&self, negated: bool) -> String {
        let field = self.field;
        let mut out = match (self.outcome, self.attr) {
            (Outcome::Missing | Outcome::Held, None) => format!("`{field}` has no value"),
            (Outcome::Missing | Outcome::Held, Some(Attr::Null)) => {
                format!("`{field}` has no value (null)")
            }
            (Outcome::Unreadable, attr) => {
                let value = attr.map_or_else(|| "nothing".to_owned(), render);
                format!("`{field}` {value} {}", self.unreadable())
            }
            (outcome, Some(attr)) => self.found(outcome == Outcome::Held, attr),
            (Outcome::Failed, None) => format!("`{field}` has no value"),
        };
        if let Some(kind) = self.compared_as.filter(|kind| self.kind_matters(*kind)) {
            out.push_str(", compared ");
            out.push_str(kind.words());
        }
        if negated {
            let verdict = if self.outcome == Outcome::Held {
                "fails"
            } else if self.outcome == Outcome::Failed {
                // The negative phrase already says what was found.
                return out;
            } else {
                "holds"
            };
            out.push_str(&format!(", so `{}` {verdict}", self.negated_operator()));
        }
        out
    }

    /// What was found on a present value: the positive phrase when the test held, the
    /// negative one when it did not.
    fn found(&self, held: bool, attr: Attr<'_>) -> String {
        let field = self.field;
        let any_element = self.matcher.holds_on_any_element();
        if let (Attr::List(list), true) = (attr, any_element) {
            let phrase = self.phrase(true);
            return match self.element.and_then(|index| list.iter().nth(index)) {
                Some(element) if held => format!(
                    "`{field}` has an element that {phrase} ({})",
                    render(element)
                ),
                _ if held => format!("`{field}` has an element that {phrase} ({})", render(attr)),
                _ => format!("`{field}` has no element that {phrase} ({})", render(attr)),
            };
        }
        let phrase = self.phrase(held);
        let value = render(attr);
        if self.value_first() {
            format!("`{field}` {value} {phrase}")
        } else {
            format!("`{field}` {phrase} ({value})")
        }
    }

    /// Whether the reason reads "field value phrase" (comparisons: `"2023.6.1" is below
    /// 2024.1.0`) rather than "field phrase (value)".
    fn value_first(&self) -> bool {
        matches!(
            self.matcher,
            Matcher::Compare(..)
                | Matcher::Between(..)
                | Matcher::WithinLast(_)
                | Matcher::OlderThan(_)
        )
    }

    /// Whether the way the value was compared is worth saying: for comparisons and
    /// `between`, for `equal` with numbers, and for case-sensitive text.
    fn kind_matters(&self, kind: ComparedAs) -> bool {
        match self.matcher {
            Matcher::Compare(..) | Matcher::Between(..) => true,
            Matcher::WithinLast(_) | Matcher::OlderThan(_) | Matcher::IsBlank => false,
            _ => !matches!(
                kind,
                ComparedAs::Text {
                    case_sensitive: false
                }
            ),
        }
    }

    /// The test in words, positive (`contains "vip"`) or negative (`does not contain
    /// "vip"`): what the value was found to be.
    fn phrase(&self, positive: bool) -> String {
        let pick = |yes: String, no: String| if positive { yes } else { no };
        match self.matcher {
            Matcher::EqualsFew(values) if values.len() == 1 => {
                // A number is shown as written (the checker read it as one); text quoted.
                let value = match values.first() {
                    Some(value) if value.number.is_some() => value.text.clone(),
                    _ => quoted_values(values.iter().map(|v| v.text.as_str()), 1),
                };
                pick(format!("is {value}"), format!("is not {value}"))
            }
            Matcher::EqualsFew(_) | Matcher::EqualsMany { .. } => pick(
                "is one of the listed values".to_owned(),
                "is none of the listed values".to_owned(),
            ),
            Matcher::ContainsAnyFew(needles) => several("contain", needles, positive),
            Matcher::ContainsAnyAutomaton(automaton) => pick(
                format!(
                    "contains one of the {} listed values",
                    automaton.patterns_len()
                ),
                format!(
                    "contains none of the {} listed values",
                    automaton.patterns_len()
                ),
            ),
            Matcher::ContainsAll(needles) => {
                let values = quoted_values(needles.iter().map(String::as_str), needles.len());
                if needles.len() == 1 {
                    pick(
                        format!("contains {values}"),
                        format!("does not contain {values}"),
                    )
                } else {
                    pick(
                        format!("contains all of {values}"),
                        format!("does not contain all of {values}"),
                    )
                }
            }
            Matcher::StartsWith(values) => several("start with", values, positive),
            Matcher::EndsWith(values) => several("end with", values, positive),
            Matcher::Matches(regexes) => {
                let patterns: Vec<String> = regexes
                    .iter()
                    .take(VALUES_NAMED)
                    .map(|r| format!("`{}`", r.as_str()))
                    .collect();
                let mut patterns = patterns.join(", ");
                if regexes.len() > VALUES_NAMED {
                    patterns.push_str(&format!(" and {} more", regexes.len() - VALUES_NAMED));
                }
                match (regexes.len(), positive) {
                    (1, true) => format!("matches {patterns}"),
                    (1, false) => format!("does not match {patterns}"),
                    (_, true) => format!("matches one of {patterns}"),
                    (_, false) => format!("matches none of {patterns}"),
                }
            }
            Matcher::Compare(comparison, bound) => {
                let (yes, no) = match comparison {
                    Comparison::Greater => ("is above", "is at or below"),
                    Comparison::GreaterOrEqual => ("is at or above", "is below"),
                    Comparison::Less => ("is below", "is at or above"),
                    Comparison::LessOrEqual => ("is at or below", "is above"),
                };
                format!("{} {bound}", if positive { yes } else { no })
            }
            Matcher::Between(low, high) => pick(
                format!("is between {low} and {high}"),
                format!("is not between {low} and {high}"),
            ),
            Matcher::IsBlank => pick("is blank".to_owned(), "is not blank".to_owned()),
            Matcher::WithinLast(millis) => {
                let (duration, now) = (duration(*millis), self.now_text());
                pick(
                    format!("is no more than {duration} before now ({now})"),
                    format!("is more than {duration} before now ({now})"),
                )
            }
            Matcher::OlderThan(millis) => {
                let (duration, now) = (duration(*millis), self.now_text());
                pick(
                    format!("is more than {duration} before now ({now})"),
                    format!("is no more than {duration} before now ({now})"),
                )
            }
        }
    }

    /// Why the value could not be tested.
    fn unreadable(&self) -> String {
        match self.matcher {
            Matcher::Compare(_, bound) => format!("cannot be read as {}", kinds(bound)),
            Matcher::Between(low, _) => format!("cannot be read as {}", kinds(low)),
            Matcher::WithinLast(_) | Matcher::OlderThan(_) => "cannot be read as a date".to_owned(),
            _ => "cannot be compared as text".to_owned(),
        }
    }

    /// The operator of the negated criterion, as written canonically.
    fn negated_operator(&self) -> &'static str {
        match self.matcher {
            Matcher::EqualsFew(values) if values.len() == 1 => "not equal",
            Matcher::EqualsFew(_) | Matcher::EqualsMany { .. } => "is none of",
            Matcher::ContainsAnyFew(_) | Matcher::ContainsAnyAutomaton(_) => "does not contain",
            Matcher::ContainsAll(_) => "does not contain all of",
            Matcher::StartsWith(_) => "does not start with",
            Matcher::EndsWith(_) => "does not end with",
            Matcher::Matches(_) => "does not match",
            Matcher::Compare(Comparison::Greater, _) => "not greater than",
            Matcher::Compare(Comparison::GreaterOrEqual, _) => "not greater than or equal",
            Matcher::Compare(Comparison::Less, _) => "not less than",
            Matcher::Compare(Comparison::LessOrEqual, _) => "not less than or equal",
            Matcher::Between(..) => "not between",
            Matcher::IsBlank => "is not blank",
            Matcher::WithinLast(_) => "not within last",
            Matcher::OlderThan(_) => "not older than",
        }
    }

    fn now_text(&self) -> String {
        let mut out = String::new();
        crate::time::write_rfc3339(self.now.unix_millis(), &mut out);
        out
    }
}

/// `contains "a"` / `does not contain "a"`, `contains one of "a", "b"` / `contains none of
/// "a", "b"` (`verb` in the infinitive).
fn several(verb: &str, values: &[String], positive: bool) -> String {
    let quoted = quoted_values(values.iter().map(String::as_str), values.len());
    let (head, rest) = verb.split_once(' ').unwrap_or((verb, ""));
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!(" {rest}")
    };
    match (values.len(), positive) {
        (1, true) => format!("{head}s{rest} {quoted}"),
        (1, false) => format!("does not {verb} {quoted}"),
        (_, true) => format!("{head}s{rest} one of {quoted}"),
        (_, false) => format!("{head}s{rest} none of {quoted}"),
    }
}

/// The first [`VALUES_NAMED`] of `count` values, quoted and escaped, then how many more.
fn quoted_values<'v>(values: impl Iterator<Item = &'v str>, count: usize) -> String {
    let mut out = String::new();
    for (index, value) in values.take(VALUES_NAMED).enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{value:?}");
    }
    if count > VALUES_NAMED {
        let _ = write!(out, " and {} more", count - VALUES_NAMED);
    }
    out
}

/// The kinds a bound reads as, in words: `a number or a version`.
fn kinds(bound: &Bound) -> String {
    let kinds: Vec<&str> = [
        (bound.number.is_some(), "a number"),
        (bound.date.is_some(), "a date"),
        (bound.version.is_some(), "a version"),
    ]
    .into_iter()
    .filter_map(|(reads, kind)| reads.then_some(kind))
    .collect();
    match kinds.as_slice() {
        [] => "the criterion's value".to_owned(),
        [one] => format!("{one}, as {bound} is"),
        [init @ .., last] => format!("{} or {last}, as {bound} is", init.join(", ")),
    }
}

/// A duration in words, in the largest unit that divides it: `30 days`, `1 hour`.
fn duration(millis: i64) -> String {
    let units = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1000, "second"),
    ];
    let (count, unit) = units
        .into_iter()
        .find(|(size, _)| millis != 0 && millis % size == 0)
        .map_or((millis, "millisecond"), |(size, unit)| {
            (millis / size, unit)
        });
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
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
    ///           `BitLocker Key Backup Status` contains "not available" ("Not Available")
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
            writeln!(f, "{indent}      {}", result.reason)
        }
    }
}
