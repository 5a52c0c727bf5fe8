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
    /// The distinct fields, and for each predicate the index of its field: row evaluation
    /// reads each field at most once per machine and folds its case at most once.
    fields: Vec<Arc<str>>,
    field_of: Vec<usize>,
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
        let mut fields: Vec<Arc<str>> = Vec::new();
        let field_of = compiler
            .predicates
            .iter()
            .map(
                |predicate| match fields.iter().position(|f| *f == predicate.field) {
                    Some(index) => index,
                    None => {
                        fields.push(predicate.field.clone());
                        fields.len() - 1
                    }
                },
            )
            .collect();
        Plan {
            predicates: compiler.predicates,
            groups,
            fields,
            field_of,
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
    /// Predicates are evaluated lazily (a group stops at its first failing criterion) and
    /// at most once each; each field is read from the machine at most once and its text
    /// folded to lowercase at most once, whatever the number of predicates on it.
    pub fn evaluate_into<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
        members_of: &mut Vec<GroupId>,
    ) {
        scratch.memo.clear();
        scratch.memo.resize(self.predicates.len(), Memo::Unknown);
        scratch.folded_ready.clear();
        scratch.folded_ready.resize(self.fields.len(), false);
        if scratch.folded.len() < self.fields.len() {
            scratch.folded.resize(self.fields.len(), String::new());
        }
        let mut row = Row {
            plan: self,
            machine,
            now,
            attrs: vec![None; self.fields.len()],
            scratch,
        };
        members_of.clear();
        for (index, group) in self.groups.iter().enumerate() {
            if row.formula(&group.formula) {
                members_of.push(GroupId(index as u32));
            }
        }
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

/// Buffers reused between evaluations, so evaluating a machine allocates little once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    memo: Vec<Memo>,
    buffer: String,
    folded: Vec<String>,
    folded_ready: Vec<bool>,
}

impl Scratch {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Memo {
    Unknown,
    True,
    False,
}

/// One machine being evaluated: the attributes read so far, and the buffers.
struct Row<'p, 'm, 's, M: ?Sized> {
    plan: &'p Plan,
    machine: &'m M,
    now: crate::Timestamp,
    /// Per field: `None` until read, then what the machine has.
    attrs: Vec<Option<Option<Attr<'m>>>>,
    scratch: &'s mut Scratch,
}

impl<M: Machine + ?Sized> Row<'_, '_, '_, M> {
    fn formula(&mut self, formula: &Formula) -> bool {
        match formula {
            Formula::All(items) => items.iter().all(|f| self.formula(f)),
            Formula::Any(items) => items.iter().any(|f| self.formula(f)),
            Formula::Not(item) => !self.formula(item),
            Formula::Criterion {
                predicate, negated, ..
            } => self.predicate(*predicate) != *negated,
        }
    }

    fn predicate(&mut self, id: PredicateId) -> bool {
        let index = id.0 as usize;
        match self.scratch.memo.get(index) {
            Some(Memo::True) => return true,
            Some(Memo::False) => return false,
            _ => {}
        }
        let (Some(predicate), Some(&field)) = (
            self.plan.predicates.get(index),
            self.plan.field_of.get(index),
        ) else {
            return false;
        };
        let attr = match self.attrs.get(field).copied().flatten() {
            Some(attr) => attr,
            None => {
                let attr = self
                    .plan
                    .fields
                    .get(field)
                    .and_then(|name| self.machine.attr(name));
                if let Some(slot) = self.attrs.get_mut(field) {
                    *slot = Some(attr);
                }
                attr
            }
        };
        let scratch = &mut *self.scratch;
        let folded = match attr {
            Some(Attr::Text(text)) if predicate.fold => {
                if let (Some(ready), Some(folded)) = (
                    scratch.folded_ready.get_mut(field),
                    scratch.folded.get_mut(field),
                ) && !*ready
                {
                    folded.clear();
                    crate::matcher::fold_case_into(text, folded);
                    *ready = true;
                }
                scratch.folded.get(field).map(String::as_str)
            }
            _ => None,
        };
        let mut ctx = Context {
            now: self.now.unix_millis(),
            fold: predicate.fold,
            buffer: &mut scratch.buffer,
            parsed: None,
            folded,
        };
        let held = predicate.matcher.run(attr, &mut ctx) == Outcome::Held;
        if let Some(slot) = scratch.memo.get_mut(index) {
            *slot = if held { Memo::True } else { Memo::False };
        }
        held
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
