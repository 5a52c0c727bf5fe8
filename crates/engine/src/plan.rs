//! The compiled plan: fields interned, predicates shared between groups, groups as formulas.

use crate::machine::Machine;
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
        Plan {
            predicates: compiler.predicates,
            groups,
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
    pub fn evaluate_into<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
        members_of: &mut Vec<GroupId>,
    ) {
        scratch.reset(self.predicates.len());
        members_of.clear();
        for (index, group) in self.groups.iter().enumerate() {
            if self.formula(&group.formula, machine, now, scratch) {
                members_of.push(GroupId(index as u32));
            }
        }
    }

    fn formula<M: Machine + ?Sized>(
        &self,
        formula: &Formula,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
    ) -> bool {
        match formula {
            Formula::All(items) => items.iter().all(|f| self.formula(f, machine, now, scratch)),
            Formula::Any(items) => items.iter().any(|f| self.formula(f, machine, now, scratch)),
            Formula::Not(item) => !self.formula(item, machine, now, scratch),
            Formula::Criterion {
                predicate, negated, ..
            } => self.predicate(*predicate, machine, now, scratch) != *negated,
        }
    }

    /// The positive predicate's result, computed at most once per machine.
    fn predicate<M: Machine + ?Sized>(
        &self,
        id: PredicateId,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
    ) -> bool {
        let index = id.0 as usize;
        match scratch.memo.get(index).copied() {
            Some(Memo::True) => return true,
            Some(Memo::False) => return false,
            _ => {}
        }
        let held = self.outcome(id, machine, now, &mut scratch.buffer) == Outcome::Held;
        if let Some(slot) = scratch.memo.get_mut(index) {
            *slot = if held { Memo::True } else { Memo::False };
        }
        held
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
        };
        predicate
            .matcher
            .run(machine.attr(&predicate.field), &mut ctx)
    }
}

/// Buffers reused between evaluations, so evaluating a machine allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    memo: Vec<Memo>,
    buffer: String,
}

impl Scratch {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    fn reset(&mut self, predicates: usize) {
        self.memo.clear();
        self.memo.resize(predicates, Memo::Unknown);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Memo {
    Unknown,
    True,
    False,
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
