//! Plan before apply, as a library: who joins and who leaves each group when definitions
//! change, over machines the embedder holds. (`cohort diff` does the same over a machines
//! file, reading it once for both sets.)

use crate::{GroupSet, Machine, Timestamp};

/// How a group differs between two sets of definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupChangeKind {
    /// Only the new set has it: its members join.
    Added,
    /// Only the old set has it: its members leave.
    Removed,
    /// Its definition changed.
    Changed,
    /// Its definition is the same, but a group it references with `member of` changed, and
    /// so did its members.
    ThroughMemberOf,
}

/// One group whose membership or definition differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupChange {
    /// The group's name.
    pub name: String,
    /// How it differs.
    pub kind: GroupChangeKind,
    /// Its member count before (`None`: the old set has no such group).
    pub before: Option<usize>,
    /// Its member count after (`None`: the new set has no such group).
    pub after: Option<usize>,
    /// The machines that join it, as positions in the machines given, ascending.
    pub joins: Vec<usize>,
    /// The machines that leave it, as positions, ascending.
    pub leaves: Vec<usize>,
}

/// What changing from one set of definitions to another does to the members of every group,
/// over the same machines and at the same time: the groups added, removed and changed, with
/// who joins and who leaves (a changed definition with the same members is listed too, with
/// no joins or leaves). Groups are matched by name. For why a machine moves, explain it
/// with [`GroupSet::explain`] on each side.
///
/// ```
/// use cohort::{DefinitionDiff, GroupChangeKind, GroupSet, Timestamp};
/// use serde_json::json;
///
/// let before = GroupSet::from_yaml_str("name: Old Agents\nwhere: 'Agent Version < 2024.1.0'").unwrap();
/// let after = GroupSet::from_yaml_str("name: Old Agents\nwhere: 'Agent Version < 2024.3.0'").unwrap();
/// let machines = vec![
///     json!({"Agent Version": "2023.6.1"}),
///     json!({"Agent Version": "2024.2.0"}),
///     json!({"Agent Version": "2024.3.1"}),
/// ];
/// let diff = DefinitionDiff::over(&before, &after, &machines, Timestamp::UNIX_EPOCH);
/// assert_eq!(diff.groups.len(), 1);
/// let change = &diff.groups[0];
/// assert_eq!(change.kind, GroupChangeKind::Changed);
/// assert_eq!((change.before, change.after), (Some(1), Some(2)));
/// assert_eq!(change.joins, [1]);
/// assert!(change.leaves.is_empty());
/// assert!(diff.changes_membership());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionDiff {
    /// The number of machines compared over.
    pub machines: usize,
    /// The groups in both sets with the same definition and the same members.
    pub unchanged: usize,
    /// Every other group: those of the old set in its order, then those added in the new
    /// set's order.
    pub groups: Vec<GroupChange>,
}

impl DefinitionDiff {
    /// Evaluates `before` and `after` over `machines` at `now` (column by column, on all
    /// cores for large fleets) and compares them group by group.
    pub fn over<M: Machine>(
        before: &GroupSet,
        after: &GroupSet,
        machines: &[M],
        now: Timestamp,
    ) -> DefinitionDiff {
        let old_bits = before.plan().columnar(machines).evaluate(now);
        let new_bits = after.plan().columnar(machines).evaluate(now);
        let mut names: Vec<&str> = before.names().collect();
        names.extend(after.names().filter(|name| before.id(name).is_none()));
        let mut groups = Vec::new();
        let mut unchanged = 0;
        for name in names {
            let old_id = before.id(name);
            let new_id = after.id(name);
            let old: Vec<usize> = old_id
                .map(|id| old_bits.members(id).iter().collect())
                .unwrap_or_default();
            let new: Vec<usize> = new_id
                .map(|id| new_bits.members(id).iter().collect())
                .unwrap_or_default();
            let kind = match (old_id, new_id) {
                (Some(_), None) => GroupChangeKind::Removed,
                (None, _) => GroupChangeKind::Added,
                (Some(old_id), Some(new_id)) => {
                    let same = before.plan().same_definition(old_id, after.plan(), new_id);
                    match (same, old == new) {
                        (false, _) => GroupChangeKind::Changed,
                        (true, false) => GroupChangeKind::ThroughMemberOf,
                        (true, true) => {
                            unchanged += 1;
                            continue;
                        }
                    }
                }
            };
            groups.push(GroupChange {
                name: name.to_owned(),
                kind,
                before: old_id.map(|_| old.len()),
                after: new_id.map(|_| new.len()),
                joins: difference(&new, &old),
                leaves: difference(&old, &new),
            });
        }
        DefinitionDiff {
            machines: machines.len(),
            unchanged,
            groups,
        }
    }

    /// Whether some machine joins or leaves some group.
    pub fn changes_membership(&self) -> bool {
        self.groups
            .iter()
            .any(|group| !group.joins.is_empty() || !group.leaves.is_empty())
    }
}

/// The positions in `a` and not in `b` (both ascending).
fn difference(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut others = b.iter().peekable();
    for &position in a {
        while others.next_if(|&&other| other < position).is_some() {}
        if others.peek() != Some(&&position) {
            out.push(position);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn differences_of_ascending_positions() {
        assert_eq!(difference(&[1, 3, 5, 7], &[3, 4, 7]), [1, 5]);
        assert_eq!(difference(&[], &[1]), Vec::<usize>::new());
        assert_eq!(difference(&[2], &[]), [2]);
    }
}
