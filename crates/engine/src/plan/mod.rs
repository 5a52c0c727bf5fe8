//! The compiled plan: fields interned, predicates shared between groups, groups as formulas.
//!
//! This module holds what every executor reads: the ids, the predicates, the groups'
//! formulas, the fields and [`Plan`]'s accessors. Its parts, each in its own file:
//! `compile.rs` (checked groups into a plan: predicates shared by key, fields interned,
//! levels of `member of`), `programs.rs` (how groups are decided over predicate bits: one-
//! block groups 64 at a time, flat blocks, branch programs), `intervals.rs` (every interval
//! test on one number field at once) and `row.rs` (the row executor: one machine through
//! [`Machine`], its fields read once, text results remembered per value, into group bits).
//! The other executors (columnar, explain, live) are beside this module and read the plan.

use crate::machine::{Attr, Machine, OwnedAttr, Record};
use crate::matcher::{Context, Kernel, Matcher, Outcome, Parsed, ValueView};
use cohort_check::ir::{CheckedSet, Condition, Predicate, Test};
use std::collections::HashMap;
use std::sync::Arc;

mod compile;
mod intervals;
mod programs;
mod row;

use intervals::IntervalTable;
use programs::*;
pub use row::{Memberships, Scratch};

/// Identifies a group in a plan: its position in definition order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) u32);

impl GroupId {
    /// The position of the group in definition order, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies a predicate of a plan: its position in [`Plan::predicate`]'s table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PredicateId(pub(crate) u32);

impl PredicateId {
    /// The position of the predicate in the plan's table.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies a field a plan reads: its position in the plan's field table (the order of
/// [`Plan::fields`]; a columnar store keeps one column per field in the same order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FieldIndex(pub(crate) u32);

impl FieldIndex {
    /// The position of the field in the plan's field table.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A positive predicate, shared by every criterion (in any group) that tests the same thing.
#[derive(Debug)]
pub(crate) struct CompiledPredicate {
    /// The field it tests.
    pub(crate) field: FieldIndex,
    pub(crate) matcher: Matcher,
    pub(crate) kernel: Kernel,
    pub(crate) fold: bool,
}

impl CompiledPredicate {
    /// Whether the predicate holds on `value` (`None`: the machine has no such attribute)
    /// at `now` (Unix milliseconds). The one dispatch every executor uses: the kernel's
    /// shortcut when it has one for this value, else the matcher, the definition.
    pub(crate) fn holds(
        &self,
        value: Option<ValueView<'_>>,
        now: i64,
        buffer: &mut String,
    ) -> bool {
        if let Some(value) = value {
            let text = if self.fold { value.folded } else { value.text };
            if let Some(held) = self.kernel.try_run(value.attr, text) {
                return held;
            }
        }
        let mut ctx = Context::prepared(now, self.fold, buffer, value);
        self.matcher.run(value.map(|value| value.attr), &mut ctx) == Outcome::Held
    }
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
    /// `member of` another group (evaluated before this one).
    Member {
        group: GroupId,
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
    id: PlanId,
    /// The distinct fields in first-use order, each with its predicates: row evaluation
    /// reads each field once per machine and folds its case once.
    field_table: Vec<PlanField>,
    /// The groups by level: a group's level is above the levels of the groups it
    /// references (`member of`), so each level reads the groups of the levels before it.
    /// Without references, one level holds every group.
    levels: Vec<Level>,
    /// The groups in an order where each follows the groups it references.
    pub(crate) evaluation_order: Vec<GroupId>,
    /// How each group is decided, by group (for evaluating some groups only).
    programs: Vec<GroupProgram>,
    /// For each group that another references: the bit that holds its membership.
    pub(crate) member_bit: Vec<Option<u32>>,
    /// Predicate bits plus one bit per referenced group.
    bit_count: usize,
    /// The branch programs of the groups that are not a few blocks of criteria.
    branches: Vec<Branch>,
    /// The blocks of the groups that are: each block a range of `terms`.
    blocks: Vec<std::ops::Range<u32>>,
    terms: Vec<MaskTerm>,
    /// The blocks of [`GroupProgram::PairBlocks`], two mask terms each.
    pair_blocks: Vec<[MaskTerm; 2]>,
    /// The field names shared by every [`Record`] of this plan.
    record_fields: std::sync::OnceLock<Arc<[Arc<str>]>>,
}

impl Plan {
    /// This plan's identity, as [`FieldRef::plan`] reports it.
    pub fn id(&self) -> PlanId {
        self.id
    }

    /// The number of groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Every field the groups test, each once, in first-use order: position `i` is the field
    /// that [`FieldRef::index`] `i` names.
    pub fn fields(&self) -> Vec<&str> {
        self.field_table.iter().map(|f| &*f.name).collect()
    }

    /// Converts a machine for this plan: the values of the fields it tests, by position, so
    /// that evaluating the [`Record`] skips every lookup by name.
    pub fn record<M: Machine + ?Sized>(&self, machine: &M) -> Record {
        let fields = self
            .record_fields
            .get_or_init(|| self.field_table.iter().map(|f| f.name.clone()).collect())
            .clone();
        let values = fields
            .iter()
            .map(|name| machine.attr(name).map(OwnedAttr::of))
            .collect();
        Record::new(self.id, fields, values)
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

    /// Whether group `id` of this plan and group `other_id` of `other` have the same
    /// definition: the same shape and the same criteria (their text, resolved field,
    /// negation and case), and `member of` the same group names. (A group referenced with
    /// `member of` may itself have changed: that is a change of membership, not of this
    /// definition.)
    ///
    /// ```
    /// use cohort::GroupSet;
    ///
    /// let old = GroupSet::from_yaml_str("groups:\n- {name: A, where: 'OS contains Windows'}\n- {name: B, where: 'member of A'}").unwrap();
    /// let new = GroupSet::from_yaml_str("groups:\n- {name: A, where: 'OS contains Linux'}\n- {name: B, where: 'member of A'}").unwrap();
    /// let (a, b) = (old.id("A").unwrap(), old.id("B").unwrap());
    /// assert!(!old.plan().same_definition(a, new.plan(), new.id("A").unwrap()));
    /// assert!(old.plan().same_definition(b, new.plan(), new.id("B").unwrap()));
    /// ```
    pub fn same_definition(&self, id: GroupId, other: &Plan, other_id: GroupId) -> bool {
        match (
            self.groups.get(id.index()),
            other.groups.get(other_id.index()),
        ) {
            (Some(a), Some(b)) => self.same_formula(&a.formula, other, &b.formula, &|g, h| {
                self.group_name(g) == other.group_name(h)
            }),
            _ => false,
        }
    }

    /// Whether `a` (of this plan) and `b` (of `other`) are the same condition: the same
    /// shape, the same criteria (their text, resolved field, negation and case), and `member
    /// of` groups that `same_member` pairs (by name for [`Plan::same_definition`]; the live
    /// tracker also asks that the referenced group be unchanged).
    pub(crate) fn same_formula(
        &self,
        a: &Formula,
        other: &Plan,
        b: &Formula,
        same_member: &dyn Fn(GroupId, GroupId) -> bool,
    ) -> bool {
        match (a, b) {
            (Formula::All(x), Formula::All(y)) | (Formula::Any(x), Formula::Any(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(a, b)| self.same_formula(a, other, b, same_member))
            }
            (Formula::Not(x), Formula::Not(y)) => self.same_formula(x, other, y, same_member),
            (
                Formula::Criterion {
                    predicate: p,
                    negated: n,
                    text: t,
                    ..
                },
                Formula::Criterion {
                    predicate: q,
                    negated: m,
                    text: u,
                    ..
                },
            ) => {
                n == m && t == u && {
                    let (p, q) = (self.predicate(*p), other.predicate(*q));
                    self.field_name(p.field) == other.field_name(q.field) && p.fold == q.fold
                }
            }
            (
                Formula::Member {
                    group: g,
                    negated: n,
                    ..
                },
                Formula::Member {
                    group: h,
                    negated: m,
                    ..
                },
            ) => n == m && same_member(*g, *h),
            _ => false,
        }
    }

    /// The position in [`Plan::fields`] of predicate `id`'s field.
    pub(crate) fn field_of(&self, id: PredicateId) -> FieldIndex {
        self.predicate(id).field
    }

    /// Predicate `id` (an id of this plan: another plan's id here is a bug, and fails).
    pub(crate) fn predicate(&self, id: PredicateId) -> &CompiledPredicate {
        &self.predicates[id.index()]
    }

    /// The name of field `field`.
    pub(crate) fn field_name(&self, field: FieldIndex) -> &str {
        &self.field_table[field.index()].name
    }

    /// Which prepared forms of a text the predicates on field `field` read.
    pub(crate) fn needs(&self, field: FieldIndex) -> crate::dictionary::Needs {
        let field = self.field_table.get(field.index());
        crate::dictionary::Needs {
            folded: field.is_some_and(|f| f.folds),
            parsed: field
                .into_iter()
                .flat_map(|f| &f.predicates)
                .any(|&p| self.predicates[p as usize].matcher.reads_number_or_date()),
        }
    }

    /// Whether predicate `id` depends on the evaluation time.
    pub(crate) fn reads_the_time(&self, id: PredicateId) -> bool {
        self.predicate(id).matcher.reads_the_time()
    }

    pub(crate) fn outcome<M: Machine + ?Sized, O: crate::matcher::Observer>(
        &self,
        id: PredicateId,
        machine: &M,
        now: crate::Timestamp,
        buffer: &mut String,
        observer: &mut O,
    ) -> Outcome {
        let predicate = self.predicate(id);
        let mut ctx = Context::new(now.unix_millis(), predicate.fold, buffer);
        predicate.matcher.run_observed(
            machine.attr(self.field_name(predicate.field)),
            &mut ctx,
            observer,
        )
    }
}

/// A field the plan reads, with the predicates that test it.
#[derive(Debug)]
struct PlanField {
    pub(super) name: Arc<str>,
    /// Indices of the predicates on this field.
    pub(super) predicates: Vec<u32>,
    /// The predicates that, on a number, hold exactly when it lies in an interval; and the
    /// field's other predicates.
    pub(super) intervals: IntervalTable,
    pub(super) not_intervals: Vec<u32>,
    /// The predicates whose result on text depends on the text alone (not on the time), so
    /// it can be remembered per distinct text ([`TextCache`]); and the others.
    pub(super) cached: Vec<u32>,
    pub(super) not_cached: Vec<u32>,
    /// Whether remembering is worth a hash lookup: several cached predicates, and more than
    /// a few cheap comparisons among them.
    pub(super) worth_caching: bool,
    /// The cached predicates that hold on a list when they hold on one of its elements
    /// (bits by predicate index; empty when there are none): on a list of texts they are
    /// read from each element's remembered results, which is always worth it (each element
    /// would otherwise be tested by every predicate); and the field's other predicates.
    pub(super) element_mask: Vec<u64>,
    pub(super) not_element_cached: Vec<u32>,
    /// Whether some predicate compares its text without case (fold once for all of them).
    pub(super) folds: bool,
    /// Whether several predicates read its text as a number or a date (parse once).
    pub(super) parses: bool,
}

/// A field as [`Machine::attr_at`] sees it: its name, and its position among the fields of
/// the plan that asks (so a machine that stores attributes by position can skip the lookup
/// by name, as [`Record`] does).
#[derive(Clone, Copy, Debug)]
pub struct FieldRef<'a> {
    name: &'a str,
    index: usize,
    plan: PlanId,
}

impl<'a> FieldRef<'a> {
    /// The field's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The field's position in [`Plan::fields`] of the plan that asks.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Which plan asks: positions are only meaningful for the plan they came from.
    pub fn plan(&self) -> PlanId {
        self.plan
    }
}

/// Identifies one compiled [`Plan`] (every compilation gets a new id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlanId(u64);

impl PlanId {
    fn next() -> PlanId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        PlanId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}
