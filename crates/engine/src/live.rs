//! Live membership: the members of every group over a changing fleet, and the join and leave
//! events each change causes.
//!
//! An RMM tool does not re-run every group over the whole fleet when one machine reports a
//! new value. [`MembershipTracker`] keeps the current members of every group and, for each
//! change (a machine added, replaced, changed in some attributes, removed, or the clock moved
//! on), re-evaluates only the groups that read a changed field, directly or through the
//! groups they reference with `member of`, and reports who joined and who left.
//!
//! The tracker keeps, for each machine, only the values of the fields the plan reads,
//! dictionary-encoded per field (`live_columns.rs`: each distinct value stored once, or in a
//! nearly unique column each machine's own, each
//! machine a small code), its id in one arena of text, and one bit per (group, machine).

use crate::Timestamp;
use crate::bits;
use crate::live_columns::{FieldColumn, MachineIds};
use crate::machine::{Attr, Machine, Value};
use crate::plan::{FieldRef, Formula, GroupId, Plan, PlanId, PredicateId, Scratch};
use std::collections::HashMap;
use std::sync::Arc;

mod replace;
pub use replace::{DefinitionEvent, ReplaceError};

/// Whether a machine joined or left a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// The machine became a member.
    Joined,
    /// The machine stopped being a member.
    Left,
}

/// One membership change: `machine` joined or left `group`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MembershipEvent {
    /// The machine's id, as given to the tracker.
    pub machine: Arc<str>,
    /// The group.
    pub group: GroupId,
    /// What happened.
    pub change: Change,
}

/// The current members of every group of a [`Plan`] over a changing fleet.
///
/// It holds, for each machine, its id (in one arena of text, found through a table of slot
/// numbers keyed by the id's hash with a random seed), a small code per field the plan reads
/// into that field's dictionary of distinct values, and one bit per group. A value no
/// machine holds any more is dropped from its dictionary at once (its code is reused), and
/// the text of dropped values and removed ids is reclaimed when it outweighs the live text,
/// so a stream of ever-new values costs memory for the values held, not for every value
/// seen (the dictionaries' tables and the width of their codes keep the size they grew to).
/// Lists are dictionary values too, each distinct list stored once. Over the example fleet's
/// generator, 1,000,000 machines and 1,000 groups take about 232 bytes a machine, 125 of
/// them member bits ([`MembershipTracker::heap_bytes`]).
///
/// ```
/// use cohort::{Change, GroupSet, Timestamp, Value};
/// use serde_json::json;
///
/// let groups = GroupSet::from_yaml_str(r#"
/// groups:
///   - {name: Audit Enabled, where: "'BitLocker Audit' equal Enabled"}
///   - {name: Key Missing, where: "member of 'Audit Enabled' and 'BitLocker Key Backup Status' contains 'Not Available'"}
/// "#).unwrap();
/// let mut tracker = groups.tracker(Timestamp::UNIX_EPOCH);
/// let events = tracker.upsert("WS-01", &json!({"BitLocker Audit": "Enabled", "BitLocker Key Backup Status": "Success"}));
/// assert_eq!(events.len(), 1); // joined Audit Enabled
///
/// // The key backup fails: only the groups that read that field are evaluated again.
/// let events = tracker.update("WS-01", [("BitLocker Key Backup Status", Some(Value::from("Not Available")))]);
/// assert_eq!(events.len(), 1);
/// assert_eq!((groups.name(events[0].group), events[0].change), ("Key Missing", Change::Joined));
/// assert_eq!(tracker.members(groups.id("Key Missing").unwrap()).collect::<Vec<_>>(), ["WS-01"]);
///
/// // Turning the audit off takes the machine out of both groups.
/// let events = tracker.update("WS-01", [("BitLocker Audit", None)]);
/// assert_eq!(events.len(), 2);
/// ```
#[derive(Debug)]
pub struct MembershipTracker<'p> {
    plan: &'p Plan,
    now: Timestamp,
    dependencies: Dependencies,
    /// The machines' ids, each in a slot: the slot numbers the columns and member bits use.
    ids: MachineIds,
    /// By field (position in `Plan::fields`): every slot's value.
    columns: Vec<FieldColumn>,
    /// By group: one bit per slot.
    members: Vec<Vec<u64>>,
    scratch: Scratch,
}

/// What each group reads, directly and through the groups it references.
#[derive(Debug)]
struct Dependencies {
    /// By field (position in `Plan::fields`): the groups to evaluate again when it changes,
    /// in evaluation order.
    groups_of_field: Vec<Vec<GroupId>>,
    /// By group: the fields its own criteria read.
    fields_of_group: Vec<Vec<usize>>,
    /// By group: the groups its `member of` criteria name.
    references: Vec<Vec<GroupId>>,
    /// The groups whose result depends on the time, in evaluation order.
    timed: Vec<GroupId>,
    /// Every group, in evaluation order.
    all: Vec<GroupId>,
    /// By group: its position in evaluation order.
    rank: Vec<usize>,
    /// Field positions by name.
    field_index: HashMap<String, usize>,
    /// By field: the predicates that test it.
    predicates_of_field: Vec<Vec<u32>>,
}

impl Dependencies {
    fn of(plan: &Plan) -> Dependencies {
        let count = plan.group_count();
        let mut fields_of_group = vec![Vec::new(); count];
        let mut references = vec![Vec::new(); count];
        let mut reads_time = vec![false; count];
        for (index, group) in plan.groups.iter().enumerate() {
            let mut fields = Vec::new();
            let mut timed = false;
            visit_criteria(&group.formula, &mut |formula| match formula {
                Formula::Criterion { predicate, .. } => {
                    fields.push(plan.field_of(*predicate).index());
                    timed |= plan.reads_the_time(*predicate);
                }
                Formula::Member { group, .. } => {
                    if let Some(refs) = references.get_mut(index) {
                        refs.push(*group);
                    }
                }
                _ => {}
            });
            fields.sort_unstable();
            fields.dedup();
            if let (Some(slot), Some(time)) =
                (fields_of_group.get_mut(index), reads_time.get_mut(index))
            {
                *slot = fields;
                *time = timed;
            }
        }
        let all = plan.evaluation_order.clone();
        let mut rank = vec![0; count];
        for (position, id) in all.iter().enumerate() {
            if let Some(slot) = rank.get_mut(id.index()) {
                *slot = position;
            }
        }
        // Closures in evaluation order: a group reads what it reads and what the groups it
        // references read.
        let mut closure: Vec<Vec<usize>> = vec![Vec::new(); count];
        for id in &all {
            let mut fields = fields_of_group[id.index()].clone();
            let mut timed = reads_time.get(id.index()).copied().unwrap_or(false);
            for referenced in references.get(id.index()).into_iter().flatten() {
                fields.extend(closure.get(referenced.index()).into_iter().flatten());
                timed |= reads_time.get(referenced.index()).copied().unwrap_or(false);
            }
            fields.sort_unstable();
            fields.dedup();
            if let (Some(slot), Some(time)) =
                (closure.get_mut(id.index()), reads_time.get_mut(id.index()))
            {
                *slot = fields;
                *time = timed;
            }
        }
        let mut groups_of_field = vec![Vec::new(); plan.fields().len()];
        for id in &all {
            for &field in closure.get(id.index()).into_iter().flatten() {
                if let Some(groups) = groups_of_field.get_mut(field) {
                    groups.push(*id);
                }
            }
        }
        let timed = all
            .iter()
            .copied()
            .filter(|id| reads_time.get(id.index()).copied().unwrap_or(false))
            .collect();
        let mut predicates_of_field = vec![Vec::new(); plan.fields().len()];
        for predicate in 0..plan.predicate_count() as u32 {
            predicates_of_field[plan.field_of(PredicateId(predicate)).index()].push(predicate);
        }
        let field_index = plan
            .fields()
            .into_iter()
            .enumerate()
            .map(|(index, name)| (name.to_owned(), index))
            .collect();
        Dependencies {
            field_index,
            groups_of_field,
            fields_of_group,
            references,
            timed,
            all,
            rank,
            predicates_of_field,
        }
    }

    /// Heap bytes held (names of fields counted by length).
    fn heap_bytes(&self) -> usize {
        fn lists<T>(lists: &[Vec<T>]) -> usize {
            lists
                .iter()
                .map(|list| size_of::<Vec<T>>() + list.capacity() * size_of::<T>())
                .sum()
        }
        lists(&self.groups_of_field)
            + lists(&self.fields_of_group)
            + lists(&self.references)
            + lists(&self.predicates_of_field)
            + (self.timed.capacity() + self.all.capacity()) * size_of::<GroupId>()
            + self.rank.capacity() * size_of::<usize>()
            + self.field_index.capacity() * (size_of::<(String, usize)>() + 1)
            + self.field_index.keys().map(String::capacity).sum::<usize>()
    }
}

fn visit_criteria(formula: &Formula, f: &mut impl FnMut(&Formula)) {
    match formula {
        Formula::All(items) | Formula::Any(items) => {
            for item in items {
                visit_criteria(item, f);
            }
        }
        Formula::Not(item) => visit_criteria(item, f),
        leaf => f(leaf),
    }
}

/// From this many slots on, evaluating every group at once uses every core.
const PARALLEL_SLOTS: usize = 1 << 16;

/// One machine seen through the tracker's columns.
struct SlotView<'t> {
    columns: &'t [FieldColumn],
    field_index: &'t HashMap<String, usize>,
    plan: PlanId,
    slot: u32,
}

impl Machine for SlotView<'_> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        let index = *self.field_index.get(field)?;
        self.columns.get(index)?.get(self.slot)
    }

    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        if field.plan() == self.plan {
            self.columns.get(field.index())?.get(self.slot)
        } else {
            self.attr(field.name())
        }
    }
}

/// A machine with one value, for one field: a dictionary entry seen as a machine.
struct OneValue<'a> {
    plan: PlanId,
    index: usize,
    name: &'a str,
    value: Option<Attr<'a>>,
}

impl Machine for OneValue<'_> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        if field == self.name { self.value } else { None }
    }

    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        if field.plan() != self.plan {
            self.attr(field.name())
        } else if field.index() == self.index {
            self.value
        } else {
            None
        }
    }
}

impl<'p> MembershipTracker<'p> {
    /// An empty tracker: no machines, so no members. `now` is the time relative-date criteria
    /// (`older than 30 days`) are evaluated at; move it with [`MembershipTracker::set_now`].
    pub fn new(plan: &'p Plan, now: Timestamp) -> Self {
        MembershipTracker {
            plan,
            now,
            dependencies: Dependencies::of(plan),
            ids: MachineIds::default(),
            columns: (0..plan.fields().len())
                .map(|_| FieldColumn::default())
                .collect(),
            members: vec![Vec::new(); plan.group_count()],
            scratch: Scratch::new(),
        }
    }

    /// A tracker over a whole fleet at once, evaluated column by column (far faster than
    /// adding machines one by one); no events. A repeated id keeps its last machine.
    ///
    /// Each machine's values go straight into the columns (one pass, nothing kept per
    /// machine but codes; on a large fleet one thread reads the machines while another
    /// encodes them, and the machines stay on the calling thread); each predicate is then
    /// evaluated once per distinct value of its field, and the groups are combined a word of
    /// 64 machines at a time, on every core.
    pub fn from_fleet<I, M>(plan: &'p Plan, machines: I, now: Timestamp) -> Self
    where
        I: IntoIterator<Item = (String, M)>,
        M: Machine,
    {
        let mut tracker = MembershipTracker::new(plan, now);
        crate::live_load::load_fleet(
            machines,
            &plan.fields(),
            &mut tracker.ids,
            &mut tracker.columns,
        );
        tracker.members = tracker.evaluate_every_group();
        tracker
    }

    /// The number of machines.
    pub fn machine_count(&self) -> usize {
        self.ids.len()
    }

    /// The time relative-date criteria are evaluated at.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Whether machine `id` is a member of `group`.
    pub fn contains(&self, id: &str, group: GroupId) -> bool {
        self.ids
            .slot(id)
            .is_some_and(|slot| self.is_member(group, slot))
    }

    /// The members of `group`, by id, in no particular order.
    pub fn members(&self, group: GroupId) -> impl Iterator<Item = &str> + '_ {
        let words = self
            .members
            .get(group.index())
            .map_or(&[][..], Vec::as_slice);
        bits::set_bits(words).filter_map(move |slot| self.ids.id(u32::try_from(slot).ok()?))
    }

    /// The number of members of `group`.
    pub fn member_count(&self, group: GroupId) -> usize {
        self.members.get(group.index()).map_or(0, |words| {
            words.iter().map(|w| w.count_ones() as usize).sum()
        })
    }

    /// Heap bytes the tracker holds: the ids and the table that finds them, every field's
    /// codes and dictionary, the member bits and what the tracker knows of the plan (each
    /// allocation counted by its capacity). Not counted: the evaluation buffers
    /// ([`Scratch`]), whose remembered text results are bounded per field, and the
    /// allocator's own overhead.
    ///
    /// ```
    /// use cohort::{GroupSet, MembershipTracker, Timestamp};
    /// use serde_json::json;
    ///
    /// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'").unwrap();
    /// let machines = (0..10_000).map(|i| (format!("m{i}"), json!({"Free Disk %": i % 100})));
    /// let tracker = MembershipTracker::from_fleet(groups.plan(), machines, Timestamp::UNIX_EPOCH);
    /// assert_eq!(tracker.member_count(groups.id("Low Disk").unwrap()), 1_000);
    /// // An id, its place in the table, one byte of code and one bit: under 32 bytes a machine.
    /// assert!(tracker.heap_bytes() < 32 * 10_000);
    /// ```
    pub fn heap_bytes(&self) -> usize {
        self.ids.heap_bytes()
            + self.columns.capacity() * size_of::<FieldColumn>()
            + self
                .columns
                .iter()
                .map(FieldColumn::heap_bytes)
                .sum::<usize>()
            + self
                .members
                .iter()
                .map(|words| size_of::<Vec<u64>>() + words.capacity() * size_of::<u64>())
                .sum::<usize>()
            + self.dependencies.heap_bytes()
    }

    /// Adds machine `id`, or replaces it: the groups that read a field whose value changed are
    /// evaluated again. Returns the memberships it gained and lost.
    pub fn upsert<M: Machine + ?Sized>(&mut self, id: &str, machine: &M) -> Vec<MembershipEvent> {
        let fields = self.plan.fields();
        match self.ids.slot(id) {
            None => {
                let Some(slot) = self.add_slot(id) else {
                    return Vec::new();
                };
                for (column, name) in self.columns.iter_mut().zip(&fields) {
                    column.set(slot, machine.attr(name));
                }
                let all = self.dependencies.all.clone();
                self.evaluate(slot, &all)
            }
            Some(slot) => {
                let changed: Vec<usize> = self
                    .columns
                    .iter_mut()
                    .zip(&fields)
                    .enumerate()
                    .filter_map(|(index, (column, name))| {
                        column.set(slot, machine.attr(name)).then_some(index)
                    })
                    .collect();
                self.fields_changed(slot, &changed)
            }
        }
    }

    /// Changes some attributes of machine `id` (`None` removes one); attributes no group reads
    /// are ignored. A machine the tracker does not have is added with these attributes.
    /// Returns the memberships it gained and lost.
    pub fn update<'v>(
        &mut self,
        id: &str,
        changes: impl IntoIterator<Item = (&'v str, Option<Value>)>,
    ) -> Vec<MembershipEvent> {
        let Some(slot) = self.ids.slot(id) else {
            // The values are dropped without recursion, however deeply they nest.
            let mut machine: HashMap<String, Value> = HashMap::new();
            for (field, value) in changes {
                let replaced = match value {
                    Some(value) => machine.insert(field.to_owned(), value),
                    None => machine.remove(field),
                };
                replaced.into_iter().for_each(Value::dispose);
            }
            let events = self.upsert(id, &machine);
            machine.into_values().for_each(Value::dispose);
            return events;
        };
        let mut changed = Vec::new();
        for (field, value) in changes {
            let column = self
                .dependencies
                .field_index
                .get(field)
                .and_then(|&index| Some((index, self.columns.get_mut(index)?)));
            if let Some((index, column)) = column
                && column.set(slot, value.as_ref().map(Value::as_attr))
            {
                changed.push(index);
            }
            value.into_iter().for_each(Value::dispose);
        }
        changed.sort_unstable();
        changed.dedup();
        self.fields_changed(slot, &changed)
    }

    /// Removes machine `id`: it leaves every group it was in.
    pub fn remove(&mut self, id: &str) -> Vec<MembershipEvent> {
        let Some(slot) = self.ids.remove(id) else {
            return Vec::new();
        };
        for column in &mut self.columns {
            column.set(slot, None);
        }
        let mut events = Vec::new();
        let mut machine: Option<Arc<str>> = None;
        for group in self.plan.group_ids() {
            if self.is_member(group, slot) {
                self.set_member(group, slot, false);
                events.push(MembershipEvent {
                    machine: machine.get_or_insert_with(|| Arc::from(id)).clone(),
                    group,
                    change: Change::Left,
                });
            }
        }
        events
    }

    /// Moves the clock to `now`: the groups with relative-date criteria (`older than 30
    /// days`), directly or through references, are evaluated again for every machine.
    pub fn set_now(&mut self, now: Timestamp) -> Vec<MembershipEvent> {
        self.now = now;
        if self.dependencies.timed.is_empty() {
            return Vec::new();
        }
        let timed = self.dependencies.timed.clone();
        let mut events = Vec::new();
        for slot in 0..self.ids.slot_count() as u32 {
            if self.ids.is_occupied(slot) {
                events.extend(self.evaluate(slot, &timed));
            }
        }
        events
    }

    /// Gives machine `id` a slot, with no values and no memberships yet (`None` when every
    /// slot number is taken).
    fn add_slot(&mut self, id: &str) -> Option<u32> {
        let (slot, new) = self.ids.insert(id)?;
        if new {
            for column in &mut self.columns {
                column.set(slot, None);
            }
            let words = bits::words_for(self.ids.slot_count());
            for bits in &mut self.members {
                bits.resize(words, 0);
            }
        }
        Some(slot)
    }

    fn fields_changed(&mut self, slot: u32, fields: &[usize]) -> Vec<MembershipEvent> {
        let mut groups: Vec<GroupId> = fields
            .iter()
            .filter_map(|&field| self.dependencies.groups_of_field.get(field))
            .flatten()
            .copied()
            .collect();
        let rank = &self.dependencies.rank;
        groups.sort_unstable_by_key(|id| rank.get(id.index()).copied().unwrap_or(usize::MAX));
        groups.dedup();
        self.evaluate(slot, &groups)
    }

    /// Evaluates `groups` (in evaluation order) for the machine in `slot` and records the
    /// changes. Reads only the fields those groups read; the groups they reference that are
    /// not evaluated again keep their stored membership.
    fn evaluate(&mut self, slot: u32, groups: &[GroupId]) -> Vec<MembershipEvent> {
        if groups.is_empty() || !self.ids.is_occupied(slot) {
            return Vec::new();
        }
        let mut fields: Vec<usize> = groups
            .iter()
            .filter_map(|g| self.dependencies.fields_of_group.get(g.index()))
            .flatten()
            .copied()
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let machine = SlotView {
            columns: &self.columns,
            field_index: &self.dependencies.field_index,
            plan: self.plan.id(),
            slot,
        };
        self.plan
            .predicate_bits_of(&machine, self.now, &mut self.scratch, Some(&fields));
        // Referenced groups: their stored membership (overwritten below for those evaluated
        // again, which come first in evaluation order).
        let mut referenced_bits = Vec::new();
        for group in groups {
            for referenced in self
                .dependencies
                .references
                .get(group.index())
                .into_iter()
                .flatten()
            {
                if let Some(bit) = self
                    .plan
                    .member_bit
                    .get(referenced.index())
                    .copied()
                    .flatten()
                {
                    referenced_bits.push((bit, self.is_member(*referenced, slot)));
                }
            }
        }
        let bits = self.scratch.bits_mut();
        for (bit, member) in referenced_bits {
            bits::write(bits, bit as usize, member);
        }
        let mut events = Vec::new();
        // The machine's id, shared by its events (made at the first one).
        let mut machine: Option<Arc<str>> = None;
        for &group in groups {
            let bits = self.scratch.bits_mut();
            let member = self.plan.group_holds(group, bits);
            if let Some(bit) = self.plan.member_bit.get(group.index()).copied().flatten() {
                bits::write(bits, bit as usize, member);
            }
            if member != self.is_member(group, slot) {
                self.set_member(group, slot, member);
                let id = self.ids.occupied(slot);
                events.push(MembershipEvent {
                    machine: machine.get_or_insert_with(|| Arc::from(id)).clone(),
                    group,
                    change: if member { Change::Joined } else { Change::Left },
                });
            }
        }
        events
    }

    /// Every group over every slot, column by column: each predicate is evaluated once per
    /// distinct value of its field, gathered into one bit per slot through the codes, and
    /// groups are combined a word of 64 slots at a time in evaluation order. Free slots are
    /// members of nothing. Large fleets are shared out between the cores: fields for the
    /// per-value results, then whole words of slots; the result does not depend on the split.
    fn evaluate_every_group(&self) -> Vec<Vec<u64>> {
        self.evaluate_groups_on(self.threads(), None, Vec::new())
    }

    /// The threads to evaluate every slot on: every core for a large fleet.
    fn threads(&self) -> usize {
        if self.ids.slot_count() >= PARALLEL_SLOTS {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            1
        }
    }

    /// [`MembershipTracker::evaluate_every_group`] on `threads` threads.
    #[cfg(test)]
    fn evaluate_every_group_on(&self, threads: usize) -> Vec<Vec<u64>> {
        self.evaluate_groups_on(threads, None, Vec::new())
    }

    /// Evaluates, column by column on `threads` threads, the groups `only` selects (by
    /// group; `None`: every group) over every slot; the others keep their words of `initial`
    /// (by group, one bit per slot; missing words are zero), which the groups evaluated read
    /// through `member of`. Only the fields the selected groups read are looked at.
    fn evaluate_groups_on(
        &self,
        threads: usize,
        only: Option<&[bool]>,
        initial: Vec<Vec<u64>>,
    ) -> Vec<Vec<u64>> {
        let threads = threads.max(1);
        let words = bits::words_for(self.ids.slot_count());
        let fields = only.map(|only| {
            let mut needed = vec![false; self.columns.len()];
            for (group, _) in only.iter().enumerate().filter(|(_, selected)| **selected) {
                for &field in self
                    .dependencies
                    .fields_of_group
                    .get(group)
                    .into_iter()
                    .flatten()
                {
                    if let Some(slot) = needed.get_mut(field) {
                        *slot = true;
                    }
                }
            }
            needed
        });
        let tables = self.predicate_tables(threads, fields.as_deref());
        let mut groups = initial;
        groups.resize(self.plan.group_count(), Vec::new());
        for group in &mut groups {
            group.resize(words, 0);
        }
        // Every group's words cut into the same chunks, one list of chunks per thread.
        let words_per_thread = words.div_ceil(threads).max(1);
        let mut per_thread: Vec<Vec<&mut [u64]>> = (0..threads).map(|_| Vec::new()).collect();
        for group in &mut groups {
            for (chunk, chunks) in group
                .chunks_mut(words_per_thread)
                .zip(per_thread.iter_mut())
            {
                chunks.push(chunk);
            }
        }
        if threads <= 1 {
            for chunks in &mut per_thread {
                self.combine_words(&tables, 0, chunks, only);
            }
        } else {
            let tables = &tables;
            std::thread::scope(|scope| {
                for (thread, mut chunks) in per_thread.into_iter().enumerate() {
                    scope.spawn(move || {
                        self.combine_words(tables, thread * words_per_thread, &mut chunks, only)
                    });
                }
            });
        }
        groups
    }

    /// For each predicate: its field, and its result on each code of that field (by code).
    /// Fields are shared out between `threads` threads, the largest dictionaries first;
    /// only the fields `needed` marks (by field; `None`: every field) are looked at.
    fn predicate_tables(&self, threads: usize, needed: Option<&[bool]>) -> Vec<(usize, Vec<bool>)> {
        let fields = self.plan.fields();
        let tables_of_field = |index: usize, scratch: &mut Scratch| -> Vec<Vec<bool>> {
            let (Some(column), Some(name), Some(on_field)) = (
                self.columns.get(index),
                fields.get(index),
                self.dependencies.predicates_of_field.get(index),
            ) else {
                return Vec::new();
            };
            let mut tables = vec![vec![false; column.code_count()]; on_field.len()];
            if on_field.is_empty() {
                return tables;
            }
            for code in 0..column.code_count() as u32 {
                let value = OneValue {
                    plan: self.plan.id(),
                    index,
                    name,
                    value: column.value(code),
                };
                self.plan
                    .predicate_bits_of(&value, self.now, scratch, Some(&[index]));
                let bits = scratch.bits_mut();
                for (table, &predicate) in tables.iter_mut().zip(on_field) {
                    if let Some(held) = table.get_mut(code as usize) {
                        *held = bits::is_set(bits, predicate as usize);
                    }
                }
            }
            tables
        };
        let mut order: Vec<usize> = (0..self.columns.len())
            .filter(|&index| needed.is_none_or(|needed| needed.get(index) == Some(&true)))
            .collect();
        order.sort_by_key(|&index| {
            std::cmp::Reverse(self.columns.get(index).map_or(0, FieldColumn::code_count))
        });
        let next = std::sync::atomic::AtomicUsize::new(0);
        // A scratch of its own per thread: each distinct value is seen once, so remembering
        // results by text would only cost, and would leave the tracker's caches judged on
        // this pass.
        let work = || {
            let mut scratch = Scratch::new();
            let mut done = Vec::new();
            loop {
                let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&index) = order.get(at) else {
                    return done;
                };
                done.push((index, tables_of_field(index, &mut scratch)));
            }
        };
        let done: Vec<(usize, Vec<Vec<bool>>)> = if threads <= 1 {
            work()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
                handles
                    .into_iter()
                    // A panic in a worker is a bug: re-raise it rather than lose its tables.
                    .flat_map(|handle| {
                        handle
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        };
        let mut tables = vec![(usize::MAX, Vec::new()); self.plan.predicate_count()];
        for (index, field_tables) in done {
            let on_field = self
                .dependencies
                .predicates_of_field
                .get(index)
                .map_or(&[][..], Vec::as_slice);
            for (table, &predicate) in field_tables.into_iter().zip(on_field) {
                if let Some(slot) = tables.get_mut(predicate as usize) {
                    *slot = (index, table);
                }
            }
        }
        tables
    }

    /// Decides every group (or those `only` selects) over the words of slots from
    /// `first_word` on, one chunk of words per group (`chunks`, by group).
    fn combine_words(
        &self,
        tables: &[(usize, Vec<bool>)],
        first_word: usize,
        chunks: &mut [&mut [u64]],
        only: Option<&[bool]>,
    ) {
        let Some(words) = chunks.first().map(|chunk| chunk.len()) else {
            return;
        };
        let predicates: Vec<Vec<u64>> = tables
            .iter()
            .map(|(field, table)| {
                let mut bits = vec![0u64; words];
                if let Some(column) = self.columns.get(*field) {
                    column.codes().gather(table, first_word, &mut bits);
                }
                bits
            })
            .collect();
        let occupied: Vec<u64> = (first_word..first_word + words)
            .map(|word| self.ids.occupied_word(word))
            .collect();
        for id in &self.plan.evaluation_order {
            if only.is_some_and(|only| only.get(id.index()) != Some(&true)) {
                continue;
            }
            let Some(group) = self.plan.groups.get(id.index()) else {
                continue;
            };
            let mut set = combine(&group.formula, &predicates, chunks, words);
            for (word, live) in set.iter_mut().zip(&occupied) {
                *word &= live;
            }
            if let Some(chunk) = chunks.get_mut(id.index()) {
                chunk.copy_from_slice(&set);
            }
        }
    }

    fn is_member(&self, group: GroupId, slot: u32) -> bool {
        self.members
            .get(group.index())
            .is_some_and(|words| bits::is_set(words, slot as usize))
    }

    fn set_member(&mut self, group: GroupId, slot: u32, member: bool) {
        if let Some(words) = self.members.get_mut(group.index()) {
            bits::write(words, slot as usize, member);
        }
    }
}

/// A group's members over `words` words of slots, from its predicates' bits and the groups
/// before it in evaluation order (bits past the last slot may be set; the caller clears
/// them).
fn combine(
    formula: &Formula,
    predicates: &[Vec<u64>],
    groups: &[&mut [u64]],
    words: usize,
) -> Vec<u64> {
    let copy = |words_of: Option<&[u64]>, negated: bool| {
        let mut set = words_of.map(<[u64]>::to_vec).unwrap_or_default();
        set.resize(words, 0);
        if negated {
            set.iter_mut().for_each(|word| *word = !*word);
        }
        set
    };
    match formula {
        Formula::All(items) => {
            let mut set = vec![u64::MAX; words];
            for item in items {
                let other = combine(item, predicates, groups, words);
                set.iter_mut().zip(&other).for_each(|(a, b)| *a &= b);
            }
            set
        }
        Formula::Any(items) => {
            let mut set = vec![0; words];
            for item in items {
                let other = combine(item, predicates, groups, words);
                set.iter_mut().zip(&other).for_each(|(a, b)| *a |= b);
            }
            set
        }
        Formula::Not(item) => {
            let mut set = combine(item, predicates, groups, words);
            set.iter_mut().for_each(|word| *word = !*word);
            set
        }
        Formula::Member { group, negated, .. } => {
            copy(groups.get(group.index()).map(|words| &**words), *negated)
        }
        Formula::Criterion {
            predicate, negated, ..
        } => copy(
            predicates.get(predicate.0 as usize).map(Vec::as_slice),
            *negated,
        ),
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use cohort_syntax::{GroupDef, Loc, parse_condition};
    use serde_json::{Value as Json, json};
    use std::collections::{BTreeMap, BTreeSet};

    /// 2026-11-25T00:00:00Z
    const NOW: i64 = 1_795_564_800_000;
    const DAY: i64 = 86_400_000;

    fn plan() -> Plan {
        let groups = [
            ("Windows", "OS contains Windows"),
            ("Low Disk", "[Free Disk %] < 10"),
            ("No Disk", "[Free Disk %] is blank"),
            ("Stale", "Last Seen more than 30 days ago"),
            ("Chat", "[Installed Software] contains any of Slack, Zoom"),
            ("Laptops", "Hostname ends with -LT"),
            (
                "Windows Low Disk",
                "member of 'Windows' and member of 'Low Disk'",
            ),
            (
                "Fresh Servers",
                "not member of 'Stale' and OS contains Server",
            ),
        ];
        let defs: Vec<GroupDef> = groups
            .iter()
            .map(|(name, condition)| GroupDef {
                name: (*name).into(),
                description: None,
                condition: parse_condition(condition).unwrap(),
                loc: Loc::default(),
            })
            .collect();
        Plan::compile(&cohort_check::check(&defs).unwrap())
    }

    /// `millis` as an ISO 8601 date-time (the civil date by Howard Hinnant's algorithm).
    fn iso(millis: i64) -> String {
        let (days, rest) = (millis.div_euclid(DAY), millis.rem_euclid(DAY) / 1000);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let (hour, minute, second) = (rest / 3600, rest / 60 % 60, rest % 60);
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }

    /// A machine drawn from `seed`: a few values shared by many machines, a hostname and a
    /// date of its own, sometimes a field missing.
    fn machine(seed: u64) -> Json {
        let pick =
            |n: u64, salt: u64| ((seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ salt) >> 40) % n;
        let mut m = serde_json::Map::new();
        let os = [
            "Windows 11",
            "Windows Server 2022",
            "Ubuntu 22.04",
            "macOS 14",
        ];
        m.insert("OS".into(), json!(os[(pick(4, 1)) as usize]));
        if pick(10, 2) != 0 {
            m.insert("Free Disk %".into(), json!(pick(40, 3)));
        }
        let seen = NOW - (pick(60, 4)) as i64 * DAY - seed as i64 * 1000;
        m.insert("Last Seen".into(), json!(iso(seen)));
        let software = ["Slack", "Zoom", "7-Zip", "Chrome"];
        let installed: Vec<&str> = software
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(2, 5 + *i as u64) == 0)
            .map(|(_, s)| *s)
            .collect();
        m.insert("Installed Software".into(), json!(installed));
        let suffix = if pick(3, 9) == 0 { "-LT" } else { "-WS" };
        m.insert("Hostname".into(), json!(format!("HOST-{seed}{suffix}")));
        Json::Object(m)
    }

    /// Every (machine, group) membership, by evaluating each machine on its own.
    fn expected(
        plan: &Plan,
        machines: &BTreeMap<String, Json>,
        now: i64,
    ) -> BTreeSet<(String, usize)> {
        let mut scratch = Scratch::new();
        let mut out = BTreeSet::new();
        for (id, machine) in machines {
            for group in plan
                .memberships(machine, Timestamp::from_unix_millis(now), &mut scratch)
                .iter()
            {
                out.insert((id.clone(), group.index()));
            }
        }
        out
    }

    fn tracked(tracker: &MembershipTracker<'_>) -> BTreeSet<(String, usize)> {
        let mut out = BTreeSet::new();
        for group in tracker.plan.group_ids() {
            for id in tracker.members(group) {
                out.insert((id.to_owned(), group.index()));
            }
        }
        out
    }

    #[test]
    fn a_fleet_loaded_at_once_equals_machines_evaluated_one_by_one_on_any_split() {
        assert_eq!(iso(NOW + DAY + 61_000), "2026-11-26T00:01:01Z");
        let plan = plan();
        // Ids repeat: the last machine of an id is the one kept.
        let fleet: Vec<(String, Json)> = (0..1500u64)
            .map(|seed| (format!("m{}", seed % 1100), machine(seed)))
            .collect();
        let machines: BTreeMap<String, Json> = fleet.iter().cloned().collect();
        let mut tracker =
            MembershipTracker::from_fleet(&plan, fleet.clone(), Timestamp::from_unix_millis(NOW));
        assert_eq!(tracker.machine_count(), 1100);
        let truth = expected(&plan, &machines, NOW);
        for group in plan.group_ids() {
            let members = truth.iter().filter(|(_, g)| *g == group.index()).count();
            assert!(
                members > 20 && members < 1000,
                "{}: {members}",
                plan.group_name(group)
            );
        }
        assert_eq!(tracked(&tracker), truth);
        for threads in [1, 2, 3, 8, 40] {
            assert_eq!(
                tracker.evaluate_every_group_on(threads),
                tracker.members,
                "{threads}"
            );
        }
        // The values of the machines replaced while loading are gone. Host names are
        // nearly unique: the column stores them as they come.
        let hostname = tracker.dependencies.field_index["Hostname"];
        assert!(tracker.columns[hostname].is_plain());
        assert_eq!(tracker.columns[hostname].live_values(), 1100);

        // Free slots are members of nothing, even of groups that hold on missing values.
        let mut machines = machines;
        for seed in (0..1100).step_by(3) {
            tracker.remove(&format!("m{seed}"));
            machines.remove(&format!("m{seed}"));
        }
        let truth = expected(&plan, &machines, NOW);
        assert_eq!(tracked(&tracker), truth);
        for threads in [1, 2, 5] {
            assert_eq!(
                tracker.evaluate_every_group_on(threads),
                tracker.members,
                "{threads}"
            );
        }
    }

    #[test]
    fn loading_on_one_thread_or_two_gives_the_same_tracker() {
        let plan = plan();
        // More machines than a chunk holds, ids repeating across chunks.
        let fleet: Vec<(String, Json)> = (0..3000u64)
            .map(|seed| (format!("m{}", seed % 2500), machine(seed)))
            .collect();
        let load = |pipelined: bool| {
            let mut tracker = MembershipTracker::new(&plan, Timestamp::from_unix_millis(NOW));
            crate::live_load::load_fleet_on(
                fleet.iter().map(|(id, m)| (id.clone(), m)),
                &plan.fields(),
                &mut tracker.ids,
                &mut tracker.columns,
                pipelined,
            );
            tracker.members = tracker.evaluate_every_group_on(2);
            tracker
        };
        let (alone, pipelined) = (load(false), load(true));
        assert_eq!(alone.machine_count(), 2500);
        assert_eq!(tracked(&alone), tracked(&pipelined));
        assert_eq!(alone.heap_bytes(), pipelined.heap_bytes());
        let machines: BTreeMap<String, Json> = fleet.iter().cloned().collect();
        assert_eq!(tracked(&alone), expected(&plan, &machines, NOW));
        for slot in 0..2500 {
            let (a, b) = (alone.ids.id(slot), pipelined.ids.id(slot));
            assert_eq!(a, b);
            for (x, y) in alone.columns.iter().zip(&pipelined.columns) {
                assert_eq!(format!("{:?}", x.get(slot)), format!("{:?}", y.get(slot)));
            }
        }
    }

    #[test]
    fn a_stream_of_new_values_keeps_the_tracker_small_and_right() {
        let plan = plan();
        let mut machines: BTreeMap<String, Json> = (0..300u64)
            .map(|seed| (format!("m{seed}"), machine(seed)))
            .collect();
        let mut tracker = MembershipTracker::from_fleet(
            &plan,
            machines.clone(),
            Timestamp::from_unix_millis(NOW),
        );
        let built = tracker.heap_bytes();
        let mut now = NOW;
        for round in 0..3000u64 {
            // One machine reports a new hostname and date every time; machines come and go.
            let id = format!("m{}", round % 7);
            let hostname = format!("HOST-{round}-{}", "x".repeat(round as usize % 200));
            let seen = iso(now - (round as i64 % 50) * DAY - round as i64);
            tracker.update(
                &id,
                [
                    ("Hostname", Some(Value::from(hostname.as_str()))),
                    ("Last Seen", Some(Value::from(seen.as_str()))),
                    ("Not Read", Some(Value::from("ignored"))),
                ],
            );
            let entry = machines.entry(id).or_insert_with(|| json!({}));
            entry["Hostname"] = json!(hostname);
            entry["Last Seen"] = json!(seen);
            let newcomer = format!("new-{round}");
            tracker.upsert(&newcomer, &machine(10_000 + round));
            machines.insert(newcomer, machine(10_000 + round));
            if round >= 5 {
                tracker.remove(&format!("new-{}", round - 5));
                machines.remove(&format!("new-{}", round - 5));
            }
            if round % 1000 == 999 {
                now += 20 * DAY;
                tracker.set_now(Timestamp::from_unix_millis(now));
            }
        }
        assert_eq!(tracked(&tracker), expected(&plan, &machines, now));
        assert_eq!(tracker.machine_count(), machines.len());
        let fresh = MembershipTracker::from_fleet(
            &plan,
            machines.clone(),
            Timestamp::from_unix_millis(now),
        );
        assert_eq!(tracked(&fresh), tracked(&tracker));
        // 3,000 hostnames and dates went through; the dictionaries hold those in use.
        let hostname = tracker.dependencies.field_index["Hostname"];
        assert_eq!(tracker.columns[hostname].live_values(), machines.len());
        assert!(
            tracker.heap_bytes() < built + 4 * 65_536,
            "{} bytes after the stream, {built} after the build",
            tracker.heap_bytes()
        );
    }
}
