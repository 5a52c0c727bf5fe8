//! `MembershipTracker::replace_plan_with` against two full evaluations: the events of a
//! definition change, applied to the members before it, give the members after it exactly,
//! and no event is about a (group, machine) whose membership did not change; and
//! `DefinitionDiff` finds the same joins and leaves.

use crate::differential::named_groups;
use cohort::engine::syntax::GroupDef;
use cohort::{Change, GroupSet, MembershipTracker, Timestamp};
use cohort_testkit::{reference, strategies};
use proptest::prelude::*;
use serde_json::Map;
use std::collections::BTreeSet;

type Machines = Vec<Map<String, serde_json::Value>>;

/// Every (machine, group name) membership over `machines`, by the reference evaluator.
fn full_evaluation(
    groups: &[GroupDef],
    machines: &Machines,
    now: i64,
) -> BTreeSet<(String, String)> {
    let mut members = BTreeSet::new();
    for (index, machine) in machines.iter().enumerate() {
        for group in groups {
            if reference::is_member_in(groups, group, machine, now) {
                members.insert((format!("m{index}"), group.name.clone()));
            }
        }
    }
    members
}

fn tracked(tracker: &MembershipTracker<'_>, set: &GroupSet) -> BTreeSet<(String, String)> {
    let mut members = BTreeSet::new();
    for id in set.plan().group_ids() {
        for machine in tracker.members(id) {
            members.insert((machine.to_owned(), set.name(id).to_owned()));
        }
    }
    members
}

/// The groups after an edit: each group of `before` kept as it is where `keep` says so,
/// otherwise the group of `other` at the same place; `other`'s length decides how many
/// there are (so groups are added and removed too).
fn edited(before: &[GroupDef], other: &[GroupDef], keep: &[bool]) -> Vec<GroupDef> {
    other
        .iter()
        .enumerate()
        .map(
            |(index, group)| match (before.get(index), keep.get(index)) {
                (Some(kept), Some(true)) => kept.clone(),
                _ => group.clone(),
            },
        )
        .collect()
}

fn check_replace(
    before: &[GroupDef],
    after: &[GroupDef],
    machines: &Machines,
    changed: Option<(usize, Map<String, serde_json::Value>)>,
) -> Result<(), TestCaseError> {
    let old = GroupSet::builder()
        .definitions(before)
        .build()
        .map_err(|e| TestCaseError::fail(format!("generated groups must be valid: {e}")))?;
    let new = GroupSet::builder()
        .definitions(after)
        .build()
        .map_err(|e| TestCaseError::fail(format!("generated groups must be valid: {e}")))?;
    let now = strategies::NOW;
    let fleet = machines
        .iter()
        .enumerate()
        .map(|(index, machine)| (format!("m{index}"), machine));
    let tracker =
        MembershipTracker::from_fleet(old.plan(), fleet, Timestamp::from_unix_millis(now));
    let old_members = full_evaluation(before, machines, now);
    prop_assert_eq!(&tracked(&tracker, &old), &old_members);
    let (mut tracker, events) = tracker.replace_plan_with(new.plan(), |id| {
        let index: usize = id.strip_prefix('m')?.parse().ok()?;
        machines.get(index)
    });
    let new_members = full_evaluation(after, machines, now);
    let mut replayed = old_members.clone();
    for event in &events {
        let key = (event.machine.to_string(), event.group.to_string());
        match event.change {
            Change::Joined => {
                prop_assert!(
                    !old_members.contains(&key),
                    "joined but was a member: {event:?}"
                );
                prop_assert!(replayed.insert(key), "joined twice: {event:?}");
            }
            Change::Left => {
                prop_assert!(
                    old_members.contains(&key),
                    "left but was no member: {event:?}"
                );
                prop_assert!(replayed.remove(&key), "left twice: {event:?}");
            }
        }
    }
    prop_assert_eq!(&replayed, &new_members, "events applied to the old members");
    // The library's plan before apply finds the same joins and leaves as the tracker.
    let diff = cohort::DefinitionDiff::over(&old, &new, machines, Timestamp::from_unix_millis(now));
    let mut moves: BTreeSet<(String, String, bool)> = BTreeSet::new();
    for group in &diff.groups {
        for (positions, joined) in [(&group.joins, true), (&group.leaves, false)] {
            for position in positions {
                moves.insert((format!("m{position}"), group.name.clone(), joined));
            }
        }
    }
    let tracked_moves: BTreeSet<(String, String, bool)> = events
        .iter()
        .map(|e| {
            (
                e.machine.to_string(),
                e.group.to_string(),
                e.change == Change::Joined,
            )
        })
        .collect();
    prop_assert_eq!(
        &moves,
        &tracked_moves,
        "DefinitionDiff against the tracker's events"
    );
    prop_assert_eq!(diff.machines, machines.len());
    prop_assert_eq!(
        &tracked(&tracker, &new),
        &new_members,
        "the tracker's members"
    );
    // The tracker goes on tracking the new groups.
    if let Some((index, machine)) = changed {
        let index = index % machines.len().max(1);
        let mut machines = machines.clone();
        if let Some(slot) = machines.get_mut(index) {
            *slot = machine.clone();
            tracker.upsert(&format!("m{index}"), &machine);
            prop_assert_eq!(
                &tracked(&tracker, &new),
                &full_evaluation(after, &machines, now)
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replacing_groups_emits_exactly_the_difference_of_two_full_evaluations(
        before in named_groups(strategies::blocks()),
        other in named_groups(strategies::blocks()),
        keep in prop::collection::vec(prop::bool::weighted(0.6), 6),
        machines in prop::collection::vec(strategies::machine(), 0..12),
        changed in prop::option::of((0..12usize, strategies::machine())),
    ) {
        let after = edited(&before, &other, &keep);
        check_replace(&before, &after, &machines, changed)?;
    }

    #[test]
    fn replacing_expression_groups_emits_exactly_the_difference(
        before in named_groups(strategies::expr()),
        other in named_groups(strategies::expr()),
        keep in prop::collection::vec(prop::bool::weighted(0.6), 6),
        machines in prop::collection::vec(strategies::machine(), 0..12),
    ) {
        let after = edited(&before, &other, &keep);
        check_replace(&before, &after, &machines, None)?;
    }

    #[test]
    fn replacing_groups_with_themselves_emits_nothing(
        groups in named_groups(strategies::expr()),
        machines in prop::collection::vec(strategies::machine(), 0..12),
    ) {
        let set = GroupSet::builder().definitions(&groups).build().unwrap();
        let again = GroupSet::builder().definitions(&groups).build().unwrap();
        let fleet = machines.iter().enumerate().map(|(index, m)| (format!("m{index}"), m));
        let tracker = MembershipTracker::from_fleet(set.plan(), fleet, Timestamp::from_unix_millis(strategies::NOW));
        let before = tracked(&tracker, &set);
        let (tracker, events) = tracker.replace_plan(again.plan()).unwrap();
        prop_assert!(events.is_empty(), "{events:?}");
        prop_assert_eq!(tracked(&tracker, &again), before);
    }
}

/// A new plan that reads a field the tracker never kept is refused by `replace_plan`, and
/// the tracker comes back unchanged.
#[test]
fn replace_plan_refuses_fields_the_tracker_does_not_keep() {
    let before = GroupSet::from_yaml_str("name: Low Disk\nwhere: \"'Free Disk %' < 10\"").unwrap();
    let after = GroupSet::from_yaml_str("name: Servers\nwhere: \"OS contains Server\"").unwrap();
    let machine = serde_json::json!({"Free Disk %": 5, "OS": "Windows Server"});
    let mut tracker = before.tracker(Timestamp::UNIX_EPOCH);
    tracker.upsert("a", &machine);
    let error = tracker.replace_plan(after.plan()).unwrap_err();
    assert_eq!(error.fields, ["OS"]);
    assert_eq!(
        error.to_string(),
        "the new groups read fields the tracker does not keep: `OS`"
    );
    assert!(error.tracker.contains("a", before.id("Low Disk").unwrap()));
}

/// A group that only references a changed group changes with it, and its own unchanged
/// definition does not hide that; a description change alone changes nothing.
#[test]
fn a_group_changes_through_member_of_and_descriptions_do_not_count() {
    let before = GroupSet::from_yaml_str(
        "groups:\n- {name: Base, where: \"'Free Disk %' < 10\"}\n- {name: Child, description: old, where: \"member of Base\"}\n- {name: Other, where: \"'Free Disk %' > 90\"}\n",
    )
    .unwrap();
    let after = GroupSet::from_yaml_str(
        "groups:\n- {name: Base, where: \"'Free Disk %' < 50\"}\n- {name: Child, description: new, where: \"member of Base\"}\n- {name: Other, description: new, where: \"'Free Disk %' > 90\"}\n",
    )
    .unwrap();
    let machines = [("a".to_owned(), serde_json::json!({"Free Disk %": 30}))];
    let tracker = MembershipTracker::from_fleet(before.plan(), machines, Timestamp::UNIX_EPOCH);
    let (_, events) = tracker.replace_plan(after.plan()).unwrap();
    let got: Vec<(&str, &str, Change)> = events
        .iter()
        .map(|e| (&*e.machine, &*e.group, e.change))
        .collect();
    assert_eq!(
        got,
        [
            ("a", "Base", Change::Joined),
            ("a", "Child", Change::Joined)
        ]
    );
    let machine = [serde_json::json!({"Free Disk %": 30})];
    let diff = cohort::DefinitionDiff::over(&before, &after, &machine, Timestamp::UNIX_EPOCH);
    let kinds: Vec<(&str, cohort::GroupChangeKind)> = diff
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Base", cohort::GroupChangeKind::Changed),
            ("Child", cohort::GroupChangeKind::ThroughMemberOf)
        ]
    );
    assert_eq!(diff.unchanged, 1, "Other: only its description changed");
    // Added and removed groups: all their members join or leave.
    let renamed = GroupSet::from_yaml_str("name: Low\nwhere: \"'Free Disk %' < 50\"").unwrap();
    let diff = cohort::DefinitionDiff::over(&after, &renamed, &machine, Timestamp::UNIX_EPOCH);
    let kinds: Vec<(&str, cohort::GroupChangeKind, usize, usize)> = diff
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.kind, g.joins.len(), g.leaves.len()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Base", cohort::GroupChangeKind::Removed, 0, 1),
            ("Child", cohort::GroupChangeKind::Removed, 0, 1),
            ("Other", cohort::GroupChangeKind::Removed, 0, 0),
            ("Low", cohort::GroupChangeKind::Added, 1, 0)
        ]
    );
}
