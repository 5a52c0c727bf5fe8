//! The compiled engine (row, fleet, columnar and explain paths) against the reference
//! evaluator, on generated groups and machines.

use cohort::{GroupSet, Timestamp};
use cohort_testkit::{reference, strategies};
use proptest::prelude::*;

fn check_agreement(
    groups: &[cohort::syntax::GroupDef],
    machines: &[serde_json::Map<String, serde_json::Value>],
) -> Result<(), TestCaseError> {
    let set = GroupSet::from_definitions(groups)
        .map_err(|e| TestCaseError::fail(format!("generated groups must be valid: {e}")))?;
    let now = Timestamp::from_unix_millis(strategies::NOW);
    let fleet = set.evaluate_fleet(machines, now);
    let columnar = set.plan().columnar(machines).evaluate_with_threads(now, 1);
    for (position, machine) in machines.iter().enumerate() {
        let membership = set.evaluate(machine, now);
        for group in groups {
            let expected = reference::is_member(group, machine, strategies::NOW);
            let id = set.id(&group.name).unwrap();
            prop_assert_eq!(
                membership.contains(&group.name),
                expected,
                "row evaluation of group {:?} on machine {:?}",
                group,
                machine
            );
            prop_assert_eq!(
                fleet.members(id).contains(&position),
                expected,
                "fleet evaluation"
            );
            prop_assert_eq!(
                columnar.members(id).contains(position),
                expected,
                "columnar evaluation"
            );
            let explanation = set.explain(machine, &group.name, now).unwrap();
            prop_assert_eq!(explanation.matched, expected, "explain");
        }
    }
    Ok(())
}

fn named_groups(
    condition: impl Strategy<Value = cohort::syntax::Expr>,
) -> impl Strategy<Value = Vec<cohort::syntax::GroupDef>> {
    prop::collection::vec(condition, 1..6).prop_map(|conditions| {
        conditions
            .into_iter()
            .enumerate()
            .map(|(index, condition)| cohort::syntax::GroupDef {
                name: format!("group {index}"),
                description: None,
                condition,
                loc: Default::default(),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference_on_expressions(
        groups in named_groups(strategies::expr()),
        machines in prop::collection::vec(strategies::machine(), 1..8),
    ) {
        check_agreement(&groups, &machines)?;
    }

    #[test]
    fn engine_agrees_with_reference_on_block_groups(
        groups in named_groups(strategies::blocks()),
        machines in prop::collection::vec(strategies::machine(), 1..8),
    ) {
        check_agreement(&groups, &machines)?;
    }
}

#[test]
fn shared_predicates_do_not_leak_between_negated_and_positive_uses() {
    let set = GroupSet::from_yaml_str(
        r#"
groups:
  - name: Has Chrome
    blocks: [[{field: Software, operator: contains, value: Chrome}]]
  - name: No Chrome
    blocks: [[{field: Software, operator: does not contain, value: Chrome}]]
  - name: Has CHROME case-sensitive
    blocks: [[{field: Software, operator: contains, value: CHROME, case_sensitive: true}]]
"#,
    )
    .unwrap();
    assert_eq!(set.plan().predicate_count(), 2);
    let machine = serde_json::json!({"Software": ["Google Chrome"]});
    let names: Vec<&str> = set
        .evaluate(&machine, Timestamp::UNIX_EPOCH)
        .names()
        .collect();
    assert_eq!(names, ["Has Chrome"]);
}

#[test]
fn columnar_evaluation_agrees_with_rows_on_the_example_fleet_whatever_the_threads() {
    let groups = GroupSet::load(crate::root().join("examples/groups")).unwrap();
    let machines = cohort_testkit::fleet::generate(5_000, 11);
    let now = Timestamp::parse(cohort_testkit::fleet::EXAMPLE_NOW).unwrap();
    let rows = groups.evaluate_fleet(&machines, now);
    let fleet = groups.plan().columnar(&machines);
    let one = fleet.evaluate_with_threads(now, 1);
    for threads in [2, 3, 7] {
        assert_eq!(
            fleet.evaluate_with_threads(now, threads),
            one,
            "{threads} threads"
        );
    }
    for id in groups.plan().group_ids() {
        let members: Vec<usize> = one.members(id).iter().collect();
        assert_eq!(members, rows.members(id), "{}", groups.name(id));
        assert_eq!(one.members(id).count(), members.len());
    }
}
