//! Live membership: the members of every group over a changing fleet, and the join and leave
//! events each change causes.
//!
//! An RMM tool does not re-run every group over the whole fleet when one machine reports a
//! new value. [`MembershipTracker`] keeps the current members of every group and, for each
//! change (a machine added, replaced, changed in some attributes, removed, or the clock moved
//! on), re-evaluates only the groups that read a changed field, directly or through the
//! groups they reference with `member of`, and reports who joined and who left.
//!
//! The tracker keeps, for each machine, only the values of the fields the plan reads (as a
//! [`Record`]), and one bit per (group, machine).

use crate::Timestamp;
use crate::columnar::Bitset;
use crate::machine::{Machine, OwnedAttr, Record, Value};
use crate::plan::{Formula, GroupId, Plan, Scratch};
use std::collections::HashMap;
use std::sync::Arc;

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
    slots: HashMap<Arc<str>, u32>,
    /// By slot: the machine's id and record, `None` for a free slot.
    machines: Vec<Option<(Arc<str>, Record)>>,
    free: Vec<u32>,
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
                    if let Some(field) = plan.field_of(*predicate) {
                        fields.push(field);
                    }
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
            let mut fields = fields_of_group.get(id.index()).cloned().unwrap_or_default();
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
        }
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

impl<'p> MembershipTracker<'p> {
    /// An empty tracker: no machines, so no members. `now` is the time relative-date criteria
    /// (`older than 30 days`) are evaluated at; move it with [`MembershipTracker::set_now`].
    pub fn new(plan: &'p Plan, now: Timestamp) -> Self {
        MembershipTracker {
            plan,
            now,
            dependencies: Dependencies::of(plan),
            slots: HashMap::new(),
            machines: Vec::new(),
            free: Vec::new(),
            members: vec![Vec::new(); plan.group_count()],
            scratch: Scratch::new(),
        }
    }

    /// A tracker over a whole fleet at once, evaluated column by column (far faster than
    /// adding machines one by one); no events. A repeated id keeps its last machine.
    pub fn from_fleet<I, M>(plan: &'p Plan, machines: I, now: Timestamp) -> Self
    where
        I: IntoIterator<Item = (String, M)>,
        M: Machine,
    {
        let mut tracker = MembershipTracker::new(plan, now);
        for (id, machine) in machines {
            let record = plan.record(&machine);
            let id: Arc<str> = Arc::from(id);
            match tracker.slots.get(&id) {
                Some(&slot) => {
                    if let Some(entry) = tracker.machines.get_mut(slot as usize) {
                        *entry = Some((id, record));
                    }
                }
                None => {
                    tracker
                        .slots
                        .insert(id.clone(), tracker.machines.len() as u32);
                    tracker.machines.push(Some((id, record)));
                }
            }
        }
        let records = tracker
            .machines
            .iter()
            .filter_map(|entry| entry.as_ref().map(|(_, record)| record));
        let fleet = plan.columnar(records);
        let bitsets = fleet.evaluate(now);
        let words = tracker.machines.len().div_ceil(64);
        for (group, bits) in tracker.members.iter_mut().enumerate() {
            *bits = bitset_words(bitsets.members(GroupId(group as u32)), words);
        }
        tracker
    }

    /// The number of machines.
    pub fn machine_count(&self) -> usize {
        self.slots.len()
    }

    /// The time relative-date criteria are evaluated at.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Whether machine `id` is a member of `group`.
    pub fn contains(&self, id: &str, group: GroupId) -> bool {
        self.slots
            .get(id)
            .is_some_and(|&slot| self.is_member(group, slot))
    }

    /// The members of `group`, by id, in no particular order.
    pub fn members(&self, group: GroupId) -> impl Iterator<Item = &str> + '_ {
        let words = self
            .members
            .get(group.index())
            .map_or(&[][..], Vec::as_slice);
        crate::columnar::set_bits(words).filter_map(move |slot| match self.machines.get(slot) {
            Some(Some((id, _))) => Some(&**id),
            _ => None,
        })
    }

    /// The number of members of `group`.
    pub fn member_count(&self, group: GroupId) -> usize {
        self.members.get(group.index()).map_or(0, |words| {
            words.iter().map(|w| w.count_ones() as usize).sum()
        })
    }

    /// Adds machine `id`, or replaces it: the groups that read a field whose value changed are
    /// evaluated again. Returns the memberships it gained and lost.
    pub fn upsert<M: Machine + ?Sized>(&mut self, id: &str, machine: &M) -> Vec<MembershipEvent> {
        let record = self.plan.record(machine);
        match self.slots.get(id).copied() {
            None => self.add(id, record),
            Some(slot) => {
                let changed: Vec<usize> = match self.machines.get(slot as usize) {
                    Some(Some((_, old))) => old.changed_fields(&record),
                    _ => (0..self.plan.fields().len()).collect(),
                };
                if let Some(Some((_, stored))) = self.machines.get_mut(slot as usize) {
                    *stored = record;
                }
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
        let Some(slot) = self.slots.get(id).copied() else {
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
        if let Some(Some((_, record))) = self.machines.get_mut(slot as usize) {
            for (field, value) in changes {
                let Some(&index) = self.dependencies.field_index.get(field) else {
                    value.into_iter().for_each(Value::dispose);
                    continue;
                };
                let owned = value.as_ref().map(|v| OwnedAttr::of(v.as_attr()));
                value.into_iter().for_each(Value::dispose);
                if record.set(index, owned) {
                    changed.push(index);
                }
            }
        }
        changed.sort_unstable();
        changed.dedup();
        self.fields_changed(slot, &changed)
    }

    /// Removes machine `id`: it leaves every group it was in.
    pub fn remove(&mut self, id: &str) -> Vec<MembershipEvent> {
        let Some(slot) = self.slots.remove(id) else {
            return Vec::new();
        };
        let Some((machine, _)) = self.machines.get_mut(slot as usize).and_then(Option::take) else {
            return Vec::new();
        };
        let mut events = Vec::new();
        for group in self.plan.group_ids() {
            if self.is_member(group, slot) {
                self.set_member(group, slot, false);
                events.push(MembershipEvent {
                    machine: machine.clone(),
                    group,
                    change: Change::Left,
                });
            }
        }
        self.free.push(slot);
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
        for slot in 0..self.machines.len() as u32 {
            events.extend(self.evaluate(slot, &timed));
        }
        events
    }

    fn add(&mut self, id: &str, record: Record) -> Vec<MembershipEvent> {
        let id: Arc<str> = Arc::from(id);
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(entry) = self.machines.get_mut(slot as usize) {
                    *entry = Some((id.clone(), record));
                }
                slot
            }
            None => {
                self.machines.push(Some((id.clone(), record)));
                let words = self.machines.len().div_ceil(64);
                for bits in &mut self.members {
                    bits.resize(words, 0);
                }
                (self.machines.len() - 1) as u32
            }
        };
        self.slots.insert(id, slot);
        let all = self.dependencies.all.clone();
        self.evaluate(slot, &all)
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
        if groups.is_empty() {
            return Vec::new();
        }
        let Some(Some((id, record))) = self.machines.get(slot as usize) else {
            return Vec::new();
        };
        let id = id.clone();
        let mut fields: Vec<usize> = groups
            .iter()
            .filter_map(|g| self.dependencies.fields_of_group.get(g.index()))
            .flatten()
            .copied()
            .collect();
        fields.sort_unstable();
        fields.dedup();
        self.plan
            .predicate_bits_of(record, self.now, &mut self.scratch, Some(&fields));
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
            write_bit(bits, bit as usize, member);
        }
        let mut events = Vec::new();
        for &group in groups {
            let bits = self.scratch.bits_mut();
            let member = self.plan.group_holds(group, bits);
            if let Some(bit) = self.plan.member_bit.get(group.index()).copied().flatten() {
                write_bit(bits, bit as usize, member);
            }
            if member != self.is_member(group, slot) {
                self.set_member(group, slot, member);
                events.push(MembershipEvent {
                    machine: id.clone(),
                    group,
                    change: if member { Change::Joined } else { Change::Left },
                });
            }
        }
        events
    }

    fn is_member(&self, group: GroupId, slot: u32) -> bool {
        self.members
            .get(group.index())
            .and_then(|words| words.get(slot as usize / 64))
            .is_some_and(|word| word >> (slot % 64) & 1 == 1)
    }

    fn set_member(&mut self, group: GroupId, slot: u32, member: bool) {
        if let Some(words) = self.members.get_mut(group.index()) {
            write_bit(words, slot as usize, member);
        }
    }
}

fn write_bit(words: &mut [u64], bit: usize, value: bool) {
    if let Some(word) = words.get_mut(bit / 64) {
        let mask = 1u64 << (bit % 64);
        if value {
            *word |= mask;
        } else {
            *word &= !mask;
        }
    }
}

fn bitset_words(set: &Bitset, words: usize) -> Vec<u64> {
    let mut out = vec![0u64; words];
    for position in set.iter() {
        write_bit(&mut out, position, true);
    }
    out
}

impl Record {
    /// The positions of the fields whose values differ from `other`'s.
    pub(crate) fn changed_fields(&self, other: &Record) -> Vec<usize> {
        let len = self.values().len().max(other.values().len());
        (0..len)
            .filter(|&index| self.values().get(index) != other.values().get(index))
            .collect()
    }
}
