//! The compiled plan: fields interned, predicates shared between groups, groups as formulas.

use crate::machine::{Attr, Machine};
use crate::matcher::{Context, Matcher, Outcome};
use cohort_check::ir::{CheckedSet, Condition, Predicate, Test};
use std::collections::HashMap;
use std::sync::Arc;

/// Identifies a group in a plan: its position in definition order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) u32);

impl GroupId {
    /// The position of the group in definition order, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PredicateId(pub(crate) u32);

/// A positive predicate, shared by every criterion (in any group) that tests the same thing.
#[derive(Debug)]
pub(crate) struct CompiledPredicate {
    pub(crate) field: Arc<str>,
    pub(crate) matcher: Matcher,
    pub(crate) fold: bool,
}

/// A group's condition over predicate ids.
#[derive(Debug)]
pub(crate) enum Formula {
    All(Vec<Formula>),
    Any(Vec<Formula>),
    Not(Box<Formula>),
    /// A criterion: its predicate, whether it is negated, and where it came from.
    Criterion {
        predicate: PredicateId,
        negated: bool,
        label: Arc<str>,
        text: Arc<str>,
    },
}

#[derive(Debug)]
pub(crate) struct CompiledGroup {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) formula: Formula,
    pub(crate) block_shaped: bool,
}

/// Checked groups compiled for evaluation. Immutable, `Send + Sync`: share one plan between
/// threads and evaluate with a [`Scratch`] each.
#[derive(Debug)]
pub struct Plan {
    pub(crate) predicates: Vec<CompiledPredicate>,
    pub(crate) groups: Vec<CompiledGroup>,
    /// Each distinct field with the predicates that test it: row evaluation reads each
    /// field once per machine and folds its case once.
    by_field: Vec<(Arc<str>, Vec<PredicateId>)>,
}

impl Plan {
    /// Compiles checked groups. Criteria that test the same field the same way share one
    /// predicate, whatever group they are in, so each is evaluated once per machine.
    pub fn compile(checked: &CheckedSet) -> Plan {
        let mut compiler = Compiler::default();
        let groups = checked
            .groups
            .iter()
            .map(|group| CompiledGroup {
                name: group.name.clone(),
                description: group.description.clone(),
                formula: compiler.condition(&group.condition),
                block_shaped: group.block_shaped,
            })
            .collect();
        let mut by_field: Vec<(Arc<str>, Vec<PredicateId>)> = Vec::new();
        for (index, predicate) in compiler.predicates.iter().enumerate() {
            let id = PredicateId(index as u32);
            match by_field
                .iter_mut()
                .find(|(field, _)| *field == predicate.field)
            {
                Some((_, ids)) => ids.push(id),
                None => by_field.push((predicate.field.clone(), vec![id])),
            }
        }
        Plan {
            predicates: compiler.predicates,
            groups,
            by_field,
        }
    }

    /// The number of groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Every field the groups test, each once, in first-use order.
    pub fn fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = Vec::new();
        for predicate in &self.predicates {
            if !fields.contains(&&*predicate.field) {
                fields.push(&predicate.field);
            }
        }
        fields
    }

    /// The number of distinct predicates after sharing.
    pub fn predicate_count(&self) -> usize {
        self.predicates.len()
    }

    /// The ids of every group, in definition order.
    pub fn group_ids(&self) -> impl ExactSizeIterator<Item = GroupId> + '_ {
        (0..self.groups.len()).map(|index| GroupId(index as u32))
    }

    /// The name of a group.
    pub fn group_name(&self, id: GroupId) -> &str {
        self.groups.get(id.index()).map_or("", |g| g.name.as_str())
    }

    /// The description of a group.
    pub fn group_description(&self, id: GroupId) -> Option<&str> {
        self.groups.get(id.index())?.description.as_deref()
    }

    /// The group called `name`.
    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(|index| GroupId(index as u32))
    }

    /// Evaluates one machine: the ids of the groups it belongs to, in definition order.
    /// `scratch` holds buffers reused from one call to the next.
    ///
    /// Each field the groups test is read once, its text folded to lowercase once, and every
    /// predicate on it run; groups then combine the predicate results.
    pub fn evaluate_into<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
        members_of: &mut Vec<GroupId>,
    ) {
        scratch.bits.clear();
        scratch.bits.resize(self.predicates.len(), false);
        for (field, ids) in &self.by_field {
            let attr = machine.attr(field);
            let folded = match attr {
                Some(Attr::Text(text)) if ids.iter().any(|id| self.folds(*id)) => {
                    scratch.folded.clear();
                    if text.is_ascii() {
                        scratch.folded.push_str(text);
                        scratch.folded.make_ascii_lowercase();
                    } else {
                        scratch.folded.push_str(&text.to_lowercase());
                    }
                    true
                }
                _ => false,
            };
            for id in ids {
                let Some(predicate) = self.predicates.get(id.0 as usize) else {
                    continue;
                };
                let mut ctx = Context {
                    now: now.unix_millis(),
                    fold: predicate.fold,
                    buffer: &mut scratch.buffer,
                    parsed: None,
                    folded: folded.then_some(scratch.folded.as_str()),
                };
                let held = predicate.matcher.run(attr, &mut ctx) == Outcome::Held;
                if let Some(bit) = scratch.bits.get_mut(id.0 as usize) {
                    *bit = held;
                }
            }
        }
        members_of.clear();
        for (index, group) in self.groups.iter().enumerate() {
            if formula_holds(&group.formula, &scratch.bits) {
                members_of.push(GroupId(index as u32));
            }
        }
    }

    fn folds(&self, id: PredicateId) -> bool {
        self.predicates.get(id.0 as usize).is_some_and(|p| p.fold)
    }

    pub(crate) fn outcome<M: Machine + ?Sized>(
        &self,
        id: PredicateId,
        machine: &M,
        now: crate::Timestamp,
        buffer: &mut String,
    ) -> Outcome {
        let Some(predicate) = self.predicates.get(id.0 as usize) else {
            return Outcome::Failed;
        };
        let mut ctx = Context {
            now: now.unix_millis(),
            fold: predicate.fold,
            buffer,
            parsed: None,
            folded: None,
        };
        predicate
            .matcher
            .run(machine.attr(&predicate.field), &mut ctx)
    }
}

/// Buffers reused between evaluations, so evaluating a machine allocates nothing once warm
/// (except to lowercase non-ASCII text).
#[derive(Debug, Default)]
pub struct Scratch {
    bits: Vec<bool>,
    buffer: String,
    folded: String,
}

impl Scratch {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A group's formula over the predicate results of one machine.
fn formula_holds(formula: &Formula, bits: &[bool]) -> bool {
    match formula {
        Formula::All(items) => items.iter().all(|f| formula_holds(f, bits)),
        Formula::Any(items) => items.iter().any(|f| formula_holds(f, bits)),
        Formula::Not(item) => !formula_holds(item, bits),
        Formula::Criterion {
            predicate, negated, ..
        } => bits.get(predicate.0 as usize).copied().unwrap_or(false) != *negated,
    }
}

#[derive(Default)]
struct Compiler {
    predicates: Vec<CompiledPredicate>,
    shared: HashMap<String, PredicateId>,
    fields: HashMap<String, Arc<str>>,
}

impl Compiler {
    fn condition(&mut self, condition: &Condition) -> Formula {
        match condition {
            Condition::All(items) => {
                Formula::All(items.iter().map(|c| self.condition(c)).collect())
            }
            Condition::Any(items) => {
                Formula::Any(items.iter().map(|c| self.condition(c)).collect())
            }
            Condition::Not(item) => Formula::Not(Box::new(self.condition(item))),
            Condition::Predicate(predicate) => Formula::Criterion {
                predicate: self.predicate(predicate),
                negated: predicate.negated,
                label: predicate.label.clone(),
                text: predicate.text.clone(),
            },
        }
    }

    fn predicate(&mut self, predicate: &Predicate) -> PredicateId {
        let key = sharing_key(predicate);
        if let Some(id) = self.shared.get(&key) {
            return *id;
        }
        let field = self
            .fields
            .entry(predicate.field.clone())
            .or_insert_with(|| Arc::from(predicate.field.as_str()))
            .clone();
        let id = PredicateId(self.predicates.len() as u32);
        self.predicates.push(CompiledPredicate {
            field,
            matcher: Matcher::compile(&predicate.test),
            fold: !predicate.case_sensitive,
        });
        self.shared.insert(key, id);
        id
    }
}

/// Two predicates with the same key test the same thing. Regexes enter by pattern (their
/// case-insensitivity follows `case_sensitive`, which is part of the key).
fn sharing_key(predicate: &Predicate) -> String {
    let test = match &predicate.test {
        Test::Matches(regexes) => {
            let patterns: Vec<&str> = regexes.iter().map(regex::Regex::as_str).collect();
            format!("Matches({patterns:?})")
        }
        other => format!("{other:?}"),
    };
    format!(
        "{:?}\u{0}{}\u{0}{test}",
        predicate.field, predicate.case_sensitive
    )
}
