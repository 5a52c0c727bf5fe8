//! The static checks: conditions that can never hold or always hold, redundant blocks and
//! criteria, equivalent groups, field names that differ only in case, and console traps.

use crate::logic::{self, Lit};
use crate::tree::Node;
use crate::{Code, Raw, Severity};
use cohort_check::ir::{CheckedSet, Predicate, Test};
use cohort_syntax::{FieldKind, GroupDef, Loc, SchemaDef};
use std::collections::HashMap;

/// Why a condition can never hold (or always holds).
#[derive(Clone, Debug)]
struct Reason {
    code: Code,
    /// What makes it so, such as ``criteria 1 and 2 exclude each other``.
    why: String,
    help: String,
    /// The criterion it comes from, when one.
    criterion: Option<String>,
}

/// The set under lint.
pub(crate) struct Linter<'a> {
    checked: &'a CheckedSet,
    schema: Option<&'a SchemaDef>,
    /// Per group: why it can never have members.
    never: Vec<Option<Reason>>,
    /// Per group: why every machine is a member.
    always: Vec<Option<Reason>>,
    pub(crate) findings: Vec<Raw>,
}

impl<'a> Linter<'a> {
    pub(crate) fn new(checked: &'a CheckedSet, schema: Option<&'a SchemaDef>) -> Self {
        Linter {
            checked,
            schema,
            never: vec![None; checked.groups.len()],
            always: vec![None; checked.groups.len()],
            findings: Vec::new(),
        }
    }

    /// The declared kind of a field (by record key), when a schema declares it.
    fn kind(&self, field: &str) -> Option<&'a FieldKind> {
        self.schema?
            .fields
            .iter()
            .find(|f| f.key() == field)
            .map(|f| &f.kind)
    }

    /// Runs every static check over the groups (zipped with their syntax trees).
    pub(crate) fn run(&mut self, defs: &'a [GroupDef]) {
        let nodes: Vec<Option<Node<'a>>> = self
            .checked
            .groups
            .iter()
            .zip(defs)
            .map(|(group, def)| Node::zip(&group.condition, &def.condition))
            .collect();
        // Groups in evaluation order, so that `member of` sees the groups it references.
        for &index in &self.checked.evaluation_order {
            let (Some(Some(node)), Some(def)) = (nodes.get(index), defs.get(index)) else {
                continue;
            };
            let never = self.never_holds(node);
            let always = if never.is_none() {
                self.always_holds(node)
            } else {
                None
            };
            let name = &def.name;
            if let Some(reason) = &never {
                self.push(
                    Some(Severity::Error),
                    reason.code,
                    name,
                    &def.loc,
                    reason.criterion.clone(),
                    format!("group can never have members: {}", reason.why),
                    reason.help.clone(),
                );
            } else if let Some(reason) = &always {
                self.push(
                    Some(Severity::Warning),
                    reason.code,
                    name,
                    &def.loc,
                    reason.criterion.clone(),
                    format!(
                        "every machine is a member, even one without attributes: {}",
                        reason.why
                    ),
                    reason.help.clone(),
                );
            } else {
                self.inner(node, name);
            }
            if let Some(slot) = self.never.get_mut(index) {
                *slot = never;
            }
            if let Some(slot) = self.always.get_mut(index) {
                *slot = always;
            }
            self.duplicates(node, name);
            let block_shaped = self
                .checked
                .groups
                .get(index)
                .is_some_and(|g| g.block_shaped);
            if block_shaped {
                self.subsumed_blocks(node, name);
            }
            self.possible_conflicts(node, name);
            self.traps(node, name);
        }
        self.equivalent_groups(&nodes, defs);
        self.field_case(&nodes, defs);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        severity: Option<Severity>,
        code: Code,
        group: &str,
        loc: &Loc,
        criterion: Option<String>,
        message: String,
        help: String,
    ) {
        self.findings.push(Raw {
            code,
            severity,
            group: group.to_owned(),
            loc: loc.clone(),
            criterion,
            message,
            help,
        });
    }

    /// Reports the outermost parts of a group that never or always hold.
    fn inner(&mut self, node: &Node<'a>, group: &str) {
        let (Node::All(items, _) | Node::Any(items, _)) = node else {
            if let Node::Not(item, _) = node {
                self.inner(item, group);
            }
            return;
        };
        let in_any = matches!(node, Node::Any(..));
        for (index, item) in items.iter().enumerate() {
            let what = describe(item, index);
            if let Some(reason) = self.never_holds(item) {
                let effect = if in_any {
                    "it adds no members"
                } else {
                    "the group can never have members"
                };
                self.push(
                    Some(Severity::Error),
                    reason.code,
                    group,
                    item.loc(),
                    reason.criterion.or_else(|| item.criterion_label()),
                    format!("{what} can never hold ({effect}): {}", reason.why),
                    reason.help,
                );
            } else if let Some(reason) = self.always_holds(item) {
                let effect = if in_any {
                    "every machine is a member"
                } else {
                    "it filters nothing"
                };
                self.push(
                    Some(Severity::Warning),
                    reason.code,
                    group,
                    item.loc(),
                    reason.criterion.or_else(|| item.criterion_label()),
                    format!("{what} always holds ({effect}): {}", reason.why),
                    reason.help,
                );
            } else {
                self.inner(item, group);
            }
        }
    }

    /// Why `node` can never hold, when that is certain.
    fn never_holds(&self, node: &Node<'a>) -> Option<Reason> {
        match node {
            Node::Pred(..) => None,
            Node::Member(m, _) => {
                let target = if m.negated {
                    self.always.get(m.group)?.as_ref()
                } else {
                    self.never.get(m.group)?.as_ref()
                }?;
                let _ = target;
                Some(Reason {
                    code: Code::MemberOfEmpty,
                    why: if m.negated {
                        format!("every machine is in `{}`", m.name)
                    } else {
                        format!("`{}` can never have members", m.name)
                    },
                    help: format!("fix the group `{}` first", m.name),
                    criterion: Some(format!("{} (`{}`)", m.label, m.text)),
                })
            }
            Node::Not(item, _) => self.always_holds(item),
            Node::Any(items, _) => {
                if items.is_empty() {
                    return None;
                }
                let mut first = None;
                for item in items {
                    let reason = self.never_holds(item)?;
                    first.get_or_insert(reason);
                }
                first.map(|mut r| {
                    if items.len() > 1 {
                        r.why = format!("no block or alternative can hold; the first: {}", r.why);
                    }
                    r
                })
            }
            Node::All(items, _) => {
                if let Some(reason) = items.iter().find_map(|item| self.never_holds(item)) {
                    return Some(reason);
                }
                self.contradiction(items)
            }
        }
    }

    /// Why `node` always holds, when that is certain.
    fn always_holds(&self, node: &Node<'a>) -> Option<Reason> {
        match node {
            Node::Pred(..) => None,
            Node::Member(m, _) => {
                if m.negated {
                    self.never.get(m.group)?.as_ref()?;
                } else {
                    self.always.get(m.group)?.as_ref()?;
                }
                Some(Reason {
                    code: Code::MemberOfEmpty,
                    why: if m.negated {
                        format!("`{}` can never have members", m.name)
                    } else {
                        format!("every machine is in `{}`", m.name)
                    },
                    help: format!("fix the group `{}` first", m.name),
                    criterion: Some(format!("{} (`{}`)", m.label, m.text)),
                })
            }
            Node::Not(item, _) => self.never_holds(item),
            Node::All(items, _) => {
                if items.is_empty() {
                    return None;
                }
                let mut first = None;
                for item in items {
                    let reason = self.always_holds(item)?;
                    first.get_or_insert(reason);
                }
                first
            }
            Node::Any(items, _) => {
                if let Some(reason) = items.iter().find_map(|item| self.always_holds(item)) {
                    return Some(reason);
                }
                self.tautology(items)
            }
        }
    }

    /// Whether the field is certainly single-valued (a schema declares it, not as a list).
    fn single_valued(&self, field: &str) -> bool {
        self.kind(field)
            .is_some_and(|kind| !matches!(kind, FieldKind::List))
    }

    /// Two criteria of an all-list that exclude each other.
    fn contradiction(&self, items: &[Node<'a>]) -> Option<Reason> {
        let lits = literals(items);
        for (i, (a, _)) in lits.iter().enumerate() {
            for (b, _) in lits.iter().skip(i + 1) {
                let (pos, neg) = match (a.negated, b.negated) {
                    (false, true) => (a, b),
                    (true, false) => (b, a),
                    (false, false) => {
                        if let Some(reason) = blank_conflict(a, b) {
                            return Some(reason);
                        }
                        if self.single_valued(&a.pred.field) && logic::exclusive(a.pred, b.pred) {
                            return Some(Reason {
                                code: Code::ConflictingValues,
                                why: format!(
                                    "no value of `{}` meets both `{}` and `{}`",
                                    a.pred.field, a.pred.text, b.pred.text
                                ),
                                help: "in one block every criterion must hold: put them in separate blocks to match either".to_owned(),
                                criterion: Some(label(a.pred)),
                            });
                        }
                        continue;
                    }
                    (true, true) => continue,
                };
                if logic::implies(pos.pred, neg.pred) {
                    return Some(Reason {
                        code: Code::Contradiction,
                        why: format!("`{}` and `{}` exclude each other", shown(pos), shown(neg)),
                        help: "remove one of them, or move it to another block".to_owned(),
                        criterion: Some(label(pos.pred)),
                    });
                }
            }
        }
        None
    }

    /// Two criteria of an any-list one of which always holds.
    fn tautology(&self, items: &[Node<'a>]) -> Option<Reason> {
        let lits = literals(items);
        for (i, (a, _)) in lits.iter().enumerate() {
            for (b, _) in lits.iter().skip(i + 1) {
                let (pos, neg) = match (a.negated, b.negated) {
                    (false, true) => (a, b),
                    (true, false) => (b, a),
                    _ => continue,
                };
                // `P or not Q` always holds when Q implies P.
                if logic::implies(neg.pred, pos.pred) {
                    return Some(Reason {
                        code: Code::Tautology,
                        why: format!(
                            "one of `{}` and `{}` holds on every machine",
                            shown(pos),
                            shown(neg)
                        ),
                        help: "remove the alternative that makes it always true".to_owned(),
                        criterion: Some(label(pos.pred)),
                    });
                }
            }
        }
        None
    }

    /// Positive criteria of an all-list that no single value meets both, on a field not
    /// known to be single-valued: a warning (a list field meets both).
    fn possible_conflicts(&mut self, node: &Node<'a>, group: &str) {
        let mut found = Vec::new();
        node.visit(&mut |n| {
            let Node::All(items, _) = n else { return };
            let lits = literals(items);
            for (i, (a, _)) in lits.iter().enumerate() {
                for (b, _) in lits.iter().skip(i + 1) {
                    if a.negated || b.negated || self.kind(&a.pred.field).is_some() {
                        continue;
                    }
                    if logic::exclusive(a.pred, b.pred) {
                        found.push((b.pred, a.pred));
                    }
                }
            }
        });
        for (later, earlier) in found {
            let loc = self.loc_of(node, later);
            self.push(
                None,
                Code::ConflictingValues,
                group,
                &loc,
                Some(label(later)),
                format!(
                    "no single value of `{}` meets both `{}` and `{}`: only a list attribute can",
                    later.field, earlier.text, later.text
                ),
                "if the field is not a list, put the criteria in separate blocks to match either; declare it in a schema (`--schema`) to make this an error, or allow it if it is a list".to_owned(),
            );
        }
    }

    /// Where a predicate was written in `node`.
    fn loc_of(&self, node: &Node<'a>, pred: &Predicate) -> Loc {
        let mut found = None;
        node.visit(&mut |n| {
            if let Node::Pred(p, loc) = n
                && std::ptr::eq(*p, pred)
            {
                found = Some((*loc).clone());
            }
        });
        found.unwrap_or_default()
    }

    /// The same criterion twice in one list.
    fn duplicates(&mut self, node: &Node<'a>, group: &str) {
        let mut found = Vec::new();
        node.visit(&mut |n| {
            let (Node::All(items, _) | Node::Any(items, _)) = n else {
                return;
            };
            let mut seen: HashMap<String, &Node<'a>> = HashMap::new();
            for item in items {
                let key = normal(item, self.checked);
                if !matches!(item, Node::Pred(..) | Node::Member(..) | Node::Not(..)) {
                    continue;
                }
                match seen.get(&key) {
                    Some(first) => found.push((
                        item.loc().clone(),
                        item.criterion_label(),
                        first.criterion_label(),
                    )),
                    None => {
                        seen.insert(key, item);
                    }
                }
            }
        });
        for (loc, label, first) in found {
            self.push(
                None,
                Code::DuplicateCriterion,
                group,
                &loc,
                label,
                format!(
                    "the same criterion as {}",
                    first.unwrap_or_else(|| "an earlier one".to_owned())
                ),
                "remove one of them".to_owned(),
            );
        }
    }

    /// Blocks whose every match is also matched by another block of the group.
    fn subsumed_blocks(&mut self, node: &Node<'a>, group: &str) {
        let (Node::Any(blocks, _) | Node::All(blocks, _)) = node else {
            return;
        };
        let or = matches!(node, Node::Any(..));
        let sets: Vec<Option<(bool, Vec<String>)>> = blocks
            .iter()
            .map(|block| match block {
                Node::All(items, _) | Node::Any(items, _) => {
                    let mut keys: Vec<String> =
                        items.iter().map(|i| normal(i, self.checked)).collect();
                    keys.sort();
                    keys.dedup();
                    Some((matches!(block, Node::All(..)), keys))
                }
                _ => None,
            })
            .collect();
        let subset = |a: &[String], b: &[String]| a.iter().all(|k| b.binary_search(k).is_ok());
        let mut found = Vec::new();
        for (i, set) in sets.iter().enumerate() {
            let Some((i_all, i_keys)) = set else { continue };
            for (j, other) in sets.iter().enumerate() {
                let Some((j_all, j_keys)) = other else {
                    continue;
                };
                if i == j || i_all != j_all || i_keys.is_empty() || j_keys.is_empty() {
                    continue;
                }
                // Block i implies block j: an all-list with more criteria, or an any-list
                // with fewer alternatives.
                let i_implies_j = if *i_all {
                    subset(j_keys, i_keys)
                } else {
                    subset(i_keys, j_keys)
                };
                let same = i_keys == j_keys;
                // In an OR of blocks the one that implies the other is redundant; in an AND,
                // the one implied. Of two equal blocks, the later.
                let redundant = if same {
                    i > j
                } else if or {
                    i_implies_j
                } else {
                    !i_implies_j
                        && if *i_all {
                            subset(i_keys, j_keys)
                        } else {
                            subset(j_keys, i_keys)
                        }
                };
                if redundant {
                    found.push((i, j, same));
                    break;
                }
            }
        }
        for (i, j, same) in found {
            let Some(block) = blocks.get(i) else { continue };
            let message = if same {
                format!("block {} has the same criteria as block {}", i + 1, j + 1)
            } else if or {
                format!(
                    "block {} adds no members: every machine it matches is matched by block {}",
                    i + 1,
                    j + 1
                )
            } else {
                format!(
                    "block {} filters nothing: every machine that meets block {} meets it",
                    i + 1,
                    j + 1
                )
            };
            self.push(
                None,
                Code::SubsumedBlock,
                group,
                block.loc(),
                None,
                message,
                format!("remove block {}", i + 1),
            );
        }
    }

    /// Groups with the same normalized condition.
    fn equivalent_groups(&mut self, nodes: &[Option<Node<'a>>], defs: &'a [GroupDef]) {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut found = Vec::new();
        for (node, def) in nodes.iter().zip(defs) {
            let Some(node) = node else { continue };
            let key = normal(node, self.checked);
            match seen.get(&key) {
                Some(first) => found.push((def, (*first).to_owned())),
                None => {
                    seen.insert(key, &def.name);
                }
            }
        }
        for (def, first) in found {
            self.push(
                None,
                Code::EquivalentGroups,
                &def.name,
                &def.loc,
                None,
                format!("the same condition as group `{first}`: they always have the same members"),
                format!("remove one, or reference it with `member of {first}`"),
            );
        }
    }

    /// Criterion fields whose names differ only in case (field names are case-sensitive:
    /// one of them is most likely never found). Left to the schema when there is one.
    fn field_case(&mut self, nodes: &[Option<Node<'a>>], defs: &'a [GroupDef]) {
        if self.schema.is_some() {
            return;
        }
        let mut first: HashMap<String, &'a str> = HashMap::new();
        let mut reported: Vec<&'a str> = Vec::new();
        let mut found = Vec::new();
        for (node, def) in nodes.iter().zip(defs) {
            let Some(node) = node else { continue };
            node.visit(&mut |n| {
                let Node::Pred(p, loc) = n else { return };
                let folded = p.field.to_lowercase();
                match first.get(&folded) {
                    Some(&other) if other != p.field && !reported.contains(&p.field.as_str()) => {
                        reported.push(&p.field);
                        found.push((def, (*loc).clone(), label(p), p.field.clone(), other));
                    }
                    Some(_) => {}
                    None => {
                        first.insert(folded, &p.field);
                    }
                }
            });
        }
        for (def, loc, criterion, field, other) in found {
            self.push(
                None,
                Code::FieldCase,
                &def.name,
                &loc,
                Some(criterion),
                format!("field `{field}` differs from `{other}` (used earlier) only in case: field names are case-sensitive, so one of them is not what the machines report"),
                "write the field as the machines name it in every criterion".to_owned(),
            );
        }
    }

    /// Console traps: substring operators with numbers, versions and dropdown options.
    fn traps(&mut self, node: &Node<'a>, group: &str) {
        let mut found = Vec::new();
        node.visit(&mut |n| {
            if let Node::Pred(p, loc) = n {
                found.extend(
                    crate::traps::check(p, self.kind(&p.field)).into_iter().map(
                        |(code, message, help)| ((*loc).clone(), label(p), code, message, help),
                    ),
                );
            }
        });
        for (loc, criterion, code, message, help) in found {
            self.push(None, code, group, &loc, Some(criterion), message, help);
        }
    }
}

/// `is blank` together with a positive criterion that no blank value meets.
fn blank_conflict(a: &Lit<'_>, b: &Lit<'_>) -> Option<Reason> {
    if a.pred.field != b.pred.field {
        return None;
    }
    let (blank, other) = match (&a.pred.test, &b.pred.test) {
        (Test::IsBlank, Test::IsBlank) => return None,
        (Test::IsBlank, _) => (a, b),
        (_, Test::IsBlank) => (b, a),
        _ => return None,
    };
    if logic::may_hold_on_blank(&other.pred.test) {
        return None;
    }
    Some(Reason {
        code: Code::BlankConflict,
        why: format!(
            "`{}` holds only when `{}` has no value, and `{}` needs one",
            shown(blank),
            blank.pred.field,
            shown(other)
        ),
        help: "put them in separate blocks to match either, or remove `is blank`".to_owned(),
        criterion: Some(label(blank.pred)),
    })
}

/// The criteria of a list that are plain criteria (or `not` of one), with their positions.
fn literals<'a>(items: &[Node<'a>]) -> Vec<(Lit<'a>, usize)> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| match item {
            Node::Pred(p, _) => Some((
                Lit {
                    pred: p,
                    negated: p.negated,
                },
                index,
            )),
            Node::Not(inner, _) => match inner.as_ref() {
                Node::Pred(p, _) => Some((
                    Lit {
                        pred: p,
                        negated: !p.negated,
                    },
                    index,
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A criterion as written, with `not` when a `not` surrounds it.
fn shown(lit: &Lit<'_>) -> String {
    if lit.negated == lit.pred.negated {
        lit.pred.text.to_string()
    } else {
        format!("not {}", lit.pred.text)
    }
}

fn label(p: &Predicate) -> String {
    format!("{} (`{}`)", p.label, p.text)
}

/// How a finding names a part of a list: `block 2`, or the criterion.
fn describe(node: &Node<'_>, index: usize) -> String {
    match node {
        Node::All(..) | Node::Any(..) => format!("block {}", index + 1),
        _ => "the criterion".to_owned(),
    }
}

/// A canonical text of a condition: lists sorted and without repeats, one-item lists
/// unwrapped, criteria by what they test (values sorted), `member of` by group.
fn normal(node: &Node<'_>, checked: &CheckedSet) -> String {
    match node {
        Node::All(items, _) | Node::Any(items, _) => {
            let mut keys: Vec<String> = items.iter().map(|i| normal(i, checked)).collect();
            keys.sort();
            keys.dedup();
            if keys.len() == 1
                && let Some(only) = keys.pop()
            {
                return only;
            }
            let op = if matches!(node, Node::All(..)) {
                "all"
            } else {
                "any"
            };
            format!("{op}({})", keys.join(","))
        }
        Node::Not(item, _) => format!("not({})", normal(item, checked)),
        Node::Pred(p, _) => predicate_key(p),
        Node::Member(m, _) => format!(
            "{}member({})",
            if m.negated { "not " } else { "" },
            checked
                .groups
                .get(m.group)
                .map_or(m.name.as_str(), |g| g.name.as_str())
                .replace(['(', ')', ','], "\u{0}")
        ),
    }
}

/// What a predicate tests, as text: equal for predicates that hold on the same values.
fn predicate_key(p: &Predicate) -> String {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v.join("\u{1}")
    };
    let test = match &p.test {
        Test::Equals(values) => format!(
            "eq:{}",
            sorted(
                values
                    .iter()
                    .map(|s| match s.number {
                        Some(_) => format!("#{}", exact_decimal(&s.text)),
                        None => format!("'{}", s.text),
                    })
                    .collect()
            )
        ),
        Test::Contains { needles, all } => format!("contains{all}:{}", sorted(needles.clone())),
        Test::StartsWith(v) => format!("starts:{}", sorted(v.clone())),
        Test::EndsWith(v) => format!("ends:{}", sorted(v.clone())),
        Test::Matches(v) => format!(
            "matches:{}",
            sorted(v.iter().map(|r| r.as_str().to_owned()).collect())
        ),
        Test::Compare { ordering, bound } => format!("cmp{ordering:?}:{}", bound_key(bound)),
        Test::Between { low, high } => format!("between:{}:{}", bound_key(low), bound_key(high)),
        Test::IsBlank => "blank".to_owned(),
        Test::WithinLast { millis } => format!("within:{millis}"),
        Test::OlderThan { millis } => format!("older:{millis}"),
    };
    format!(
        "{}{}{}:{test}",
        if p.negated { "!" } else { "" },
        if p.case_sensitive { "cs:" } else { "" },
        p.field
    )
    .replace(['(', ')', ','], "\u{0}")
}

fn bound_key(bound: &cohort_check::ir::Bound) -> String {
    format!(
        "{:?}/{:?}/{:?}",
        bound.number.map(|_| exact_decimal(&bound.text)),
        bound.date,
        bound
            .version
            .as_ref()
            .map(|v| v.segments().collect::<Vec<_>>())
    )
}

/// A number's text in one form for every way of writing the same decimal (`5`, `5.0` and
/// `50e-1` give `5e0`; `0.1` and `0.10000000000000001` stay apart, as text attributes compare
/// with them digit by digit). Text that is not such a decimal comes back as it is.
fn exact_decimal(text: &str) -> String {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, "0"),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let Ok(exponent) = exponent.parse::<i64>() else {
        return text.to_owned();
    };
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return text.to_owned();
    }
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let mut exponent = exponent.saturating_sub(fraction.len() as i64);
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    exponent = exponent.saturating_add((digits.len() - significant.len()) as i64);
    if significant.is_empty() {
        return "0".to_owned();
    }
    format!(
        "{}{significant}e{exponent}",
        if negative { "-" } else { "" }
    )
}

#[cfg(test)]
mod exact_decimal_tests {
    use super::exact_decimal;

    #[test]
    fn one_form_per_decimal() {
        for same in [
            ["5", "5.0"],
            ["50e-1", "+5"],
            ["0.10", "1e-1"],
            ["-0", "0.000"],
        ] {
            assert_eq!(exact_decimal(same[0]), exact_decimal(same[1]), "{same:?}");
        }
        for apart in [
            ["0.1", "0.10000000000000001"],
            ["9007199254740993", "9007199254740992"],
            ["-1", "1"],
        ] {
            assert_ne!(
                exact_decimal(apart[0]),
                exact_decimal(apart[1]),
                "{apart:?}"
            );
        }
    }
}
