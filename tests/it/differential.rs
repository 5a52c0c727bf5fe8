//! The compiled engine (row, record, fleet, columnar and explain paths) against the reference
//! evaluator, on generated groups and machines.

use cohort::{GroupSet, Timestamp};
use cohort_testkit::{reference, strategies};
use proptest::prelude::*;

fn check_agreement(
    groups: &[cohort::engine::syntax::GroupDef],
    machines: &[serde_json::Map<String, serde_json::Value>],
) -> Result<(), TestCaseError> {
    let set = GroupSet::builder()
        .definitions(groups)
        .build()
        .map_err(|e| TestCaseError::fail(format!("generated groups must be valid: {e}")))?;
    let now = Timestamp::from_unix_millis(strategies::NOW);
    let fleet = set.evaluate_fleet(machines, now);
    let columnar = set.plan().columnar(machines).evaluate_with_threads(now, 1);
    for (position, machine) in machines.iter().enumerate() {
        let membership = set.evaluate(machine, now);
        let record = set.plan().record(machine);
        let from_record = set.evaluate(&record, now);
        for group in groups {
            let expected = reference::is_member_in(groups, group, machine, strategies::NOW);
            let id = set.id(&group.name).unwrap();
            prop_assert_eq!(
                membership.contains(&group.name),
                expected,
                "row evaluation of group {:?} on machine {:?}",
                group,
                machine
            );
            prop_assert_eq!(
                from_record.contains(&group.name),
                expected,
                "row evaluation of the machine converted to a record"
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

pub fn named_groups(
    condition: impl Strategy<Value = cohort::engine::syntax::Expr>,
) -> impl Strategy<Value = Vec<cohort::engine::syntax::GroupDef>> {
    prop::collection::vec(condition, 1..6)
        .prop_map(|conditions| {
            conditions
                .into_iter()
                .enumerate()
                .map(|(index, condition)| cohort::engine::syntax::GroupDef {
                    name: format!("group {index}"),
                    description: None,
                    condition,
                    loc: Default::default(),
                })
                .collect()
        })
        // Some groups reference earlier ones (`member of`, `not member of`).
        .prop_flat_map(strategies::with_references)
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

/// Columnar evaluation lays high-cardinality text columns end to end and tests list columns
/// once per distinct element; row evaluation remembers results per text value. Those paths
/// only start on large fleets, which the proptests above never build: this fleet is large,
/// mixes cases, non-ASCII text, numbers, nulls, flags and lists in the same columns, and is
/// checked against the reference evaluator.
#[test]
fn large_fleets_take_the_same_decisions_on_every_path() {
    let suffixes = ["LT", "lt", "-01", "Ünï", "ünï", "ΣΑΣ"];
    let software = [
        "Chrome",
        "7-Zip",
        "Zoom",
        "Microsoft Word",
        "Microsoft Excel",
        "zoom",
    ];
    let machines: Vec<serde_json::Map<String, serde_json::Value>> = (0..6_000usize)
        .map(|i| {
            let hostname = match i % 11 {
                0 => serde_json::json!(i),
                1 => serde_json::Value::Null,
                2 => serde_json::json!(true),
                3 => serde_json::json!([format!("ws-{i}-lt"), "x"]),
                _ => serde_json::json!(format!("WS-{i}-{}", suffixes[i % suffixes.len()])),
            };
            let installed: Vec<&str> = (0..software.len())
                .filter(|bit| (i / 3) >> bit & 1 == 1)
                .map(|bit| software[bit])
                .collect();
            let mut machine = serde_json::Map::new();
            machine.insert("Hostname".into(), hostname);
            if i % 13 != 0 {
                machine.insert("Installed Software".into(), serde_json::json!(installed));
            }
            machine.insert(
                "OS".into(),
                serde_json::json!(["Windows 11 Pro", "windows 10", "Ubuntu"][i % 3]),
            );
            machine
        })
        .collect();
    let yaml = r#"
groups:
  - {name: ends lt, where: "Hostname ends with LT"}
  - {name: ends LT exactly, where: "Hostname ends with LT (case-sensitive)"}
  - {name: starts, where: "Hostname starts with 'ws-1'"}
  - {name: contains unicode, where: "Hostname contains any of 'ünï', 'σας'"}
  - {name: equal, where: "Hostname equal 'ws-48-lt' or Hostname equal 44"}
  - {name: blank host, where: "Hostname is blank"}
  - {name: not containing, where: "Hostname does not contain '-01'"}
  - {name: office, where: "'Installed Software' contains all of 'microsoft word', 'excel'"}
  - {name: zoom, where: "'Installed Software' contains any of zoom"}
  - {name: zoom exactly, where: "'Installed Software' equal Zoom (case-sensitive)"}
  - {name: no software, where: "'Installed Software' is blank"}
  - {name: windows, where: "OS contains windows and OS starts with 'windows 1'"}
"#;
    let set = GroupSet::from_yaml_str(yaml).unwrap();
    let definitions = {
        let mut loader = cohort_load::Loader::new();
        loader.add_str("large.yaml", yaml);
        loader.finish().groups
    };
    let now = Timestamp::from_unix_millis(strategies::NOW);
    let fleet = set.evaluate_fleet(&machines, now);
    let columnar = set.plan().columnar(&machines).evaluate_with_threads(now, 1);
    for group in &definitions {
        let id = set.id(&group.name).unwrap();
        let expected: Vec<usize> = machines
            .iter()
            .enumerate()
            .filter(|(_, m)| reference::is_member(group, m, strategies::NOW))
            .map(|(position, _)| position)
            .collect();
        assert!(!expected.is_empty(), "{} has members", group.name);
        assert!(
            expected.len() < machines.len(),
            "{} has non-members",
            group.name
        );
        assert_eq!(fleet.members(id), expected, "row path, {}", group.name);
        let columnar_members: Vec<usize> = columnar.members(id).iter().collect();
        assert_eq!(columnar_members, expected, "columnar path, {}", group.name);
    }
}
