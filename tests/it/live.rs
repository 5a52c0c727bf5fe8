//! The live membership tracker against full re-evaluation: after any sequence of changes
//! (machines added, replaced, changed in some attributes, removed; the clock moved on), its
//! members are what the reference evaluator says of the current machines, and replaying its
//! events from the start gives the same membership.

use crate::differential::named_groups;
use cohort::engine::syntax::GroupDef;
use cohort::{Change, GroupSet, Timestamp, Value};
use cohort_testkit::{reference, strategies};
use proptest::prelude::*;
use serde_json::Map;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
enum Step {
    Upsert(usize, Map<String, serde_json::Value>),
    Update(usize, Vec<(usize, Option<serde_json::Value>)>),
    Remove(usize),
    AdvanceDays(i64),
}

fn step() -> impl Strategy<Value = Step> {
    let id = 0..4usize;
    prop_oneof![
        3 => (id.clone(), strategies::machine()).prop_map(|(id, m)| Step::Upsert(id, m)),
        4 => (
            id.clone(),
            prop::collection::vec(
                (0..strategies::FIELDS.len(), prop::option::of(strategies::machine_value())),
                1..3,
            ),
        )
            .prop_map(|(id, changes)| Step::Update(id, changes)),
        1 => id.prop_map(Step::Remove),
        1 => (0..40i64).prop_map(Step::AdvanceDays),
    ]
}

const DAY: i64 = 86_400_000;

fn check_steps(groups: &[GroupDef], steps: &[Step]) -> Result<(), TestCaseError> {
    let set = GroupSet::builder()
        .definitions(groups)
        .build()
        .map_err(|e| TestCaseError::fail(format!("generated groups must be valid: {e}")))?;
    let mut now = strategies::NOW;
    let mut tracker = set.tracker(Timestamp::from_unix_millis(now));
    let mut model: BTreeMap<String, Map<String, serde_json::Value>> = BTreeMap::new();
    let mut replayed: BTreeSet<(String, usize)> = BTreeSet::new();
    for step in steps {
        let events = match step {
            Step::Upsert(id, machine) => {
                model.insert(id.to_string(), machine.clone());
                tracker.upsert(&id.to_string(), machine)
            }
            Step::Update(id, changes) => {
                let machine = model.entry(id.to_string()).or_default();
                let mut cohort_changes = Vec::new();
                for (field, value) in changes {
                    let name = strategies::FIELDS[*field];
                    // Objects are no `cohort::Value`: those changes are not made.
                    let converted: Option<Option<Value>> = match value {
                        None => Some(None),
                        Some(v) => serde_json::from_value::<Value>(v.clone()).ok().map(Some),
                    };
                    let Some(converted) = converted else { continue };
                    match value {
                        Some(v) => machine.insert(name.to_owned(), v.clone()),
                        None => machine.remove(name),
                    };
                    cohort_changes.push((name, converted));
                }
                tracker.update(&id.to_string(), cohort_changes)
            }
            Step::Remove(id) => {
                model.remove(&id.to_string());
                tracker.remove(&id.to_string())
            }
            Step::AdvanceDays(days) => {
                now += days * DAY;
                tracker.set_now(Timestamp::from_unix_millis(now))
            }
        };
        for event in events {
            let key = (event.machine.to_string(), event.group.index());
            match event.change {
                Change::Joined => prop_assert!(replayed.insert(key), "joined twice: {event:?}"),
                Change::Left => {
                    prop_assert!(replayed.remove(&key), "left without joining: {event:?}")
                }
            }
        }
        let mut expected = BTreeSet::new();
        for (id, machine) in &model {
            for (index, group) in groups.iter().enumerate() {
                if reference::is_member_in(groups, group, machine, now) {
                    expected.insert((id.clone(), index));
                }
            }
        }
        let mut tracked = BTreeSet::new();
        for id in set.plan().group_ids() {
            for machine in tracker.members(id) {
                tracked.insert((machine.to_owned(), id.index()));
            }
        }
        prop_assert_eq!(&tracked, &expected, "after {:?}", step);
        prop_assert_eq!(&replayed, &expected, "events replayed, after {:?}", step);
        prop_assert_eq!(tracker.machine_count(), model.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tracker_equals_full_reevaluation_and_replayed_events(
        groups in named_groups(strategies::blocks()),
        steps in prop::collection::vec(step(), 1..16),
    ) {
        check_steps(&groups, &steps)?;
    }

    #[test]
    fn tracker_equals_full_reevaluation_on_expressions(
        groups in named_groups(strategies::expr()),
        steps in prop::collection::vec(step(), 1..16),
    ) {
        check_steps(&groups, &steps)?;
    }
}

#[test]
fn a_fleet_loaded_at_once_matches_machines_added_one_by_one() {
    let groups = GroupSet::load(crate::root().join("examples/groups")).unwrap();
    let machines = cohort_testkit::fleet::generate(500, 5);
    let now = Timestamp::parse(cohort_testkit::fleet::EXAMPLE_NOW).unwrap();
    let bulk = cohort::MembershipTracker::from_fleet(
        groups.plan(),
        machines
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("m{i}"), m)),
        now,
    );
    let mut one_by_one = groups.tracker(now);
    let mut joined = 0;
    for (i, machine) in machines.iter().enumerate() {
        joined += one_by_one.upsert(&format!("m{i}"), machine).len();
    }
    let mut total = 0;
    for id in groups.plan().group_ids() {
        let mut a: Vec<&str> = bulk.members(id).collect();
        let mut b: Vec<&str> = one_by_one.members(id).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{}", groups.name(id));
        total += a.len();
    }
    assert_eq!(joined, total);
    assert!(total > 0);
}
