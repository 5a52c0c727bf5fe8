//! A definition change applied as a diff: the tracker moves to a new plan, keeps the
//! members of every group whose definition did not change, evaluates the others column by
//! column, and reports only the joins and leaves the change causes.

use super::{Change, FieldColumn, MembershipTracker};
use crate::bits;
use crate::machine::Machine;
use crate::plan::{Plan, Scratch};
use std::collections::HashMap;
use std::sync::Arc;

/// A join or leave caused by a definition change ([`MembershipTracker::replace_plan`]).
/// The group is named, since a removed group has no id in the new plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DefinitionEvent {
    /// The machine's id, as given to the tracker.
    pub machine: Arc<str>,
    /// The group's name (in the new plan; in the old one for a removed group).
    pub group: Arc<str>,
    /// What happened.
    pub change: Change,
}

/// Why [`MembershipTracker::replace_plan`] could not move to a new plan: the tracker, given
/// back unchanged, and the fields the new plan reads that the tracker never kept.
#[derive(Debug, thiserror::Error)]
#[error("the new groups read fields the tracker does not keep: {}", quoted(.fields))]
pub struct ReplaceError<'p> {
    /// The tracker, unchanged.
    pub tracker: Box<MembershipTracker<'p>>,
    /// The fields the new plan reads and the old one did not, in the new plan's order.
    pub fields: Vec<String>,
}

fn quoted(fields: &[String]) -> String {
    let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    names.join(", ")
}

impl<'p> MembershipTracker<'p> {
    /// Moves the tracker to `plan` (the groups after a definition change) and returns the
    /// joins and leaves the change causes, never drop-all-then-re-add: a group added gives
    /// the joins of its members, a group removed the leaves of its members, a group whose
    /// definition changed the difference between its old and new members, and a group
    /// whose definition and `member of` dependencies are unchanged (the same name, the same
    /// criteria) keeps its members without being evaluated again. Groups are told apart by
    /// name; a renamed group is one removed and one added.
    ///
    /// The tracker keeps only the fields its plan reads, so a new plan that reads another
    /// field cannot be evaluated from it: that is a [`ReplaceError`] (holding the tracker,
    /// unchanged); give the machines with [`MembershipTracker::replace_plan_with`].
    ///
    /// ```
    /// use cohort::{Change, GroupSet, MembershipTracker, Timestamp};
    /// use serde_json::json;
    ///
    /// let before = GroupSet::from_yaml_str(r#"
    /// groups:
    ///   - {name: Old Agents, where: "'Agent Version' < 2024.1.0"}
    ///   - {name: Low Disk, where: "'Free Disk %' < 10"}
    /// "#).unwrap();
    /// let after = GroupSet::from_yaml_str(r#"
    /// groups:
    ///   - {name: Old Agents, where: "'Agent Version' < 2023.1.0"}
    ///   - {name: Low Disk, where: "'Free Disk %' < 10"}
    /// "#).unwrap();
    /// let machines = [
    ///     ("a".to_string(), json!({"Agent Version": "2022.5.0", "Free Disk %": 5})),
    ///     ("b".to_string(), json!({"Agent Version": "2023.6.0", "Free Disk %": 50})),
    /// ];
    /// let tracker = MembershipTracker::from_fleet(before.plan(), machines, Timestamp::UNIX_EPOCH);
    /// let (tracker, events) = tracker.replace_plan(after.plan()).unwrap();
    /// // Only `b` leaves `Old Agents`; nothing is said about `a` or `Low Disk`.
    /// assert_eq!(events.len(), 1);
    /// assert_eq!((&*events[0].machine, &*events[0].group, events[0].change), ("b", "Old Agents", Change::Left));
    /// assert_eq!(tracker.member_count(after.id("Old Agents").unwrap()), 1);
    /// ```
    pub fn replace_plan<'q>(
        self,
        plan: &'q Plan,
    ) -> Result<(MembershipTracker<'q>, Vec<DefinitionEvent>), ReplaceError<'p>> {
        let kept: Vec<&str> = self.plan.fields();
        let fields: Vec<String> = plan
            .fields()
            .into_iter()
            .filter(|field| !kept.contains(field))
            .map(str::to_owned)
            .collect();
        if !fields.is_empty() {
            return Err(ReplaceError {
                tracker: Box::new(self),
                fields,
            });
        }
        Ok(self.replace(plan, |_| None::<&crate::Record>))
    }

    /// Like [`MembershipTracker::replace_plan`], for a new plan that may read fields the
    /// tracker does not keep: `machine_of(id)` gives each machine (or `None` when it has no
    /// values for them), and only those fields are read from it.
    ///
    /// ```
    /// use cohort::{GroupSet, MembershipTracker, Timestamp};
    /// use serde_json::json;
    ///
    /// let before = GroupSet::from_yaml_str("name: Low Disk\nwhere: \"'Free Disk %' < 10\"").unwrap();
    /// let after = GroupSet::from_yaml_str("name: Servers\nwhere: \"OS contains Server\"").unwrap();
    /// let fleet = std::collections::HashMap::from([
    ///     ("a".to_string(), json!({"OS": "Windows Server 2022", "Free Disk %": 5})),
    /// ]);
    /// let tracker = MembershipTracker::from_fleet(before.plan(), fleet.clone(), Timestamp::UNIX_EPOCH);
    /// let (_, events) = tracker.replace_plan_with(after.plan(), |id| fleet.get(id));
    /// assert_eq!(events.len(), 2); // `a` leaves `Low Disk` (removed) and joins `Servers`
    /// ```
    pub fn replace_plan_with<'q, M: Machine>(
        self,
        plan: &'q Plan,
        machine_of: impl FnMut(&str) -> Option<M>,
    ) -> (MembershipTracker<'q>, Vec<DefinitionEvent>) {
        self.replace(plan, machine_of)
    }

    fn replace<'q, M: Machine>(
        self,
        plan: &'q Plan,
        mut machine_of: impl FnMut(&str) -> Option<M>,
    ) -> (MembershipTracker<'q>, Vec<DefinitionEvent>) {
        let old_plan = self.plan;
        let MembershipTracker {
            now,
            ids,
            columns: old_columns,
            members: old_members,
            ..
        } = self;
        // Columns of the fields both plans read move over; the others are read or empty.
        let old_fields: HashMap<&str, usize> = old_plan
            .fields()
            .into_iter()
            .enumerate()
            .map(|(index, name)| (name, index))
            .collect();
        let mut old_columns: Vec<Option<FieldColumn>> = old_columns.into_iter().map(Some).collect();
        let new_fields = plan.fields();
        let mut columns = Vec::with_capacity(new_fields.len());
        let mut fresh = Vec::new();
        for (index, name) in new_fields.iter().enumerate() {
            let moved = old_fields
                .get(name)
                .and_then(|&old| old_columns.get_mut(old)?.take());
            columns.push(moved.unwrap_or_else(|| {
                fresh.push(index);
                FieldColumn::default()
            }));
        }
        drop(old_columns);
        if !fresh.is_empty() {
            for slot in 0..ids.slot_count() as u32 {
                let machine = ids.id(slot).and_then(&mut machine_of);
                for &index in &fresh {
                    let value = machine
                        .as_ref()
                        .zip(new_fields.get(index))
                        .and_then(|(machine, name)| machine.attr(name));
                    if let Some(column) = columns.get_mut(index) {
                        column.set(slot, if ids.is_occupied(slot) { value } else { None });
                    }
                }
            }
        }
        // The old group each new group is unchanged from (same name, same definition, and
        // every group it references unchanged too), decided in evaluation order.
        let old_names = names(old_plan);
        let mut same: Vec<Option<usize>> = vec![None; plan.group_count()];
        for id in &plan.evaluation_order {
            let Some(group) = plan.groups.get(id.index()) else {
                continue;
            };
            let unchanged = old_names.get(group.name.as_str()).copied().filter(|&old| {
                old_plan.groups.get(old).is_some_and(|old_group| {
                    old_plan.same_formula(&old_group.formula, plan, &group.formula, &|g, h| {
                        same.get(h.index()).copied().flatten() == Some(g.index())
                    })
                })
            });
            if let Some(slot) = same.get_mut(id.index()) {
                *slot = unchanged;
            }
        }
        let initial: Vec<Vec<u64>> = same
            .iter()
            .map(|old| {
                // `old` is a group of the old plan, whose members were given.
                old.map(|old| old_members[old].clone()).unwrap_or_default()
            })
            .collect();
        let mut tracker = MembershipTracker {
            plan,
            now,
            dependencies: super::Dependencies::of(plan),
            ids,
            columns,
            members: Vec::new(),
            scratch: Scratch::new(),
        };
        let only: Vec<bool> = same.iter().map(Option::is_none).collect();
        tracker.members = if only.iter().any(|&changed| changed) {
            tracker.evaluate_groups_on(tracker.threads(), Some(&only), initial)
        } else {
            let words = bits::words_for(tracker.ids.slot_count());
            initial
                .into_iter()
                .map(|mut bits| {
                    bits.resize(words, 0);
                    bits
                })
                .collect()
        };
        let events = tracker.events_against(old_plan, &old_names, &old_members, &same);
        (tracker, events)
    }

    /// The joins and leaves between the old plan's members and this tracker's, for the
    /// groups `same` does not mark unchanged and the old groups that are gone.
    fn events_against(
        &self,
        old_plan: &Plan,
        old_names: &HashMap<&str, usize>,
        old_members: &[Vec<u64>],
        same: &[Option<usize>],
    ) -> Vec<DefinitionEvent> {
        let mut events = Vec::new();
        let mut ids: HashMap<u32, Arc<str>> = HashMap::new();
        let mut id_of = |slot: u32| -> Arc<str> {
            ids.entry(slot)
                .or_insert_with(|| Arc::from(self.ids.occupied(slot)))
                .clone()
        };
        let mut push = |name: &Arc<str>, old: &[u64], new: &[u64]| {
            let words = old.len().max(new.len());
            for word in 0..words {
                let (o, n) = (
                    old.get(word).copied().unwrap_or(0),
                    new.get(word).copied().unwrap_or(0),
                );
                let mut changed = o ^ n;
                while changed != 0 {
                    let bit = changed.trailing_zeros();
                    changed &= changed - 1;
                    let slot = (word * 64) as u32 + bit;
                    let change = if bits::is_set(new, slot as usize) {
                        Change::Joined
                    } else {
                        Change::Left
                    };
                    events.push(DefinitionEvent {
                        machine: id_of(slot),
                        group: name.clone(),
                        change,
                    });
                }
            }
        };
        for group in self.plan.group_ids() {
            if same.get(group.index()).copied().flatten().is_some() {
                continue;
            }
            let name: Arc<str> = Arc::from(self.plan.group_name(group));
            let old = old_names
                .get(&*name)
                .and_then(|&old| old_members.get(old))
                .map_or(&[][..], Vec::as_slice);
            let new = self
                .members
                .get(group.index())
                .map_or(&[][..], Vec::as_slice);
            push(&name, old, new);
        }
        let new_names = names(self.plan);
        for old in old_plan.group_ids() {
            let name = old_plan.group_name(old);
            if !new_names.contains_key(name) {
                let bits = old_members.get(old.index()).map_or(&[][..], Vec::as_slice);
                push(&Arc::from(name), bits, &[]);
            }
        }
        events
    }
}

/// The position of every group of `plan`, by name.
fn names(plan: &Plan) -> HashMap<&str, usize> {
    plan.group_ids()
        .map(|id| (plan.group_name(id), id.index()))
        .collect()
}
