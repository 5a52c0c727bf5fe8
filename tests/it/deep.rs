//! Hostile nesting in attribute values: a list nested 100,000 deep (built in code, since
//! serde_json's parser stops at 128) gives the same answer on every path and the reference
//! evaluator, and crashes none (lists are read `MAX_LIST_DEPTH` = 32 deep).

use cohort::engine::syntax::{GroupDef, Loc, parse_condition};
use cohort::{GroupSet, Machine, Timestamp};
use cohort_engine::MAX_LIST_DEPTH;
use serde_json::{Value, json};

const DEEP: usize = 100_000;

/// `leaf` inside `depth` nested lists, built without recursion.
fn nested(depth: usize, leaf: Value) -> Value {
    let mut value = leaf;
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

/// The same as a `cohort::Value`.
fn nested_value(depth: usize, leaf: cohort::Value) -> cohort::Value {
    let mut value = leaf;
    for _ in 0..depth {
        value = cohort::Value::List(vec![value]);
    }
    value
}

/// Drops a JSON value without recursion (serde_json's own drop recurses).
fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// (group name, condition, whether the machine below is a member)
const GROUPS: &[(&str, &str, bool)] = &[
    (
        "Deep Needle",
        "'Software' contains any of 'deep-needle'",
        false,
    ),
    (
        "Not Deep Needle",
        "'Software' does not contain 'deep-needle'",
        true,
    ),
    ("Shallow", "'Software' contains any of 'shallow'", true),
    ("Shallow Equal", "'Software' equal 'Shallow-Thing'", true),
    ("Deep Regex", "'Software' matches '^deep'", false),
    ("Shallow Regex", "'Software' matches '^shallow'", true),
    (
        "All Of",
        "'Software' contains all of 'shallow', 'deep-needle'",
        false,
    ),
    ("Blank", "'Software' is blank", false),
    ("Number", "'Software' greater than 5", false),
    ("Deep Only Blank", "'Deep Only' is blank", false),
    ("Deep Only Not Blank", "'Deep Only' is not blank", true),
    (
        "Deep Only Any",
        "'Deep Only' contains any of 'deep-needle'",
        false,
    ),
    ("At Limit", "'At Limit' equal 'edge'", true),
    ("Past Limit", "'Past Limit' equal 'edge'", false),
    ("Not Past Limit", "'Past Limit' not equal 'edge'", true),
    (
        "Member",
        "member of 'Shallow' and not member of 'Deep Needle'",
        true,
    ),
];

fn definitions() -> Vec<GroupDef> {
    GROUPS
        .iter()
        .map(|(name, condition, _)| GroupDef {
            name: (*name).to_owned(),
            description: None,
            condition: parse_condition(condition).unwrap(),
            loc: Loc::default(),
        })
        .collect()
}

/// The machine, built without `json!` (which copies its values by recursion).
fn machine() -> Value {
    let mut map = serde_json::Map::new();
    map.insert(
        "Software".into(),
        Value::Array(vec![
            json!("Shallow-Thing"),
            nested(DEEP, json!("deep-needle")),
            json!([[["more"]]]),
        ]),
    );
    map.insert("Deep Only".into(), nested(DEEP, json!("deep-needle")));
    // A text inside 32 lists is an element; inside 33 it is not.
    map.insert("At Limit".into(), nested(MAX_LIST_DEPTH, json!("edge")));
    map.insert(
        "Past Limit".into(),
        nested(MAX_LIST_DEPTH + 1, json!("edge")),
    );
    Value::Object(map)
}

fn expected(groups: &GroupSet) -> Vec<&'static str> {
    let mut names: Vec<&str> = GROUPS
        .iter()
        .filter(|(_, _, member)| *member)
        .map(|(name, _, _)| *name)
        .collect();
    names.sort_by_key(|name| groups.id(name));
    names
}

#[test]
fn deep_lists_give_one_answer_on_every_path() {
    assert_eq!(MAX_LIST_DEPTH, 32);
    let definitions = definitions();
    let groups = GroupSet::builder()
        .definitions(&definitions)
        .build()
        .unwrap();
    let machine = machine();
    let now = Timestamp::UNIX_EPOCH;
    let expected = expected(&groups);

    // The reference evaluator.
    let map = machine.as_object().unwrap();
    for definition in &definitions {
        let member = cohort_testkit::reference::is_member_in(&definitions, definition, map, 0);
        assert_eq!(
            member,
            expected.contains(&definition.name.as_str()),
            "reference: {}",
            definition.name
        );
    }

    // Row evaluation.
    let row: Vec<&str> = groups.evaluate(&machine, now).names().collect();
    assert_eq!(row, expected);

    // Explain.
    for (name, _, member) in GROUPS {
        let explanation = groups.explain(&machine, name, now).unwrap();
        assert_eq!(explanation.matched, *member, "explain: {name}");
        let text = explanation.to_string();
        assert!(text.len() < 10_000, "{name}: {} bytes", text.len());
    }
    let explanation = groups.explain(&machine, "Deep Only Any", now).unwrap();
    assert!(explanation.to_string().contains("[…]"), "{explanation}");

    // Records: converted once, cut at the depth, printed, cloned, compared and dropped.
    let record = groups.plan().record(&machine);
    let copy = record.clone();
    assert_eq!(copy, record);
    assert!(format!("{record:?}").contains("Opaque"));
    let by_record: Vec<&str> = groups.evaluate(&record, now).names().collect();
    assert_eq!(by_record, expected);
    drop(copy);

    // Debug of a borrowed attribute.
    let debug = format!("{:?}", machine.attr("Deep Only").unwrap());
    assert!(
        debug.ends_with("Opaque]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        "{debug}"
    );

    // Fleets: row by row and columnar (the deep machine among plain ones).
    let fleet = vec![json!({"Software": ["shallow"]}), machine, json!({})];
    let membership = groups.evaluate_fleet(&fleet, now);
    let columnar = groups.plan().columnar(&fleet);
    let bitsets = columnar.evaluate(now);
    for (name, _, member) in GROUPS {
        let id = groups.id(name).unwrap();
        assert_eq!(
            membership.members(id).contains(&1),
            *member,
            "fleet: {name}"
        );
        assert_eq!(bitsets.members(id).contains(1), *member, "columnar: {name}");
    }
    drop(columnar);

    // The live tracker: added, then changed to a deep `cohort::Value` it takes and drops.
    let mut tracker = groups.tracker(now);
    tracker.upsert("deep", &fleet[1]);
    for (name, _, member) in GROUPS {
        let id = groups.id(name).unwrap();
        assert_eq!(
            tracker.members(id).any(|m| m == "deep"),
            *member,
            "tracker: {name}"
        );
    }
    let deep_value = || nested_value(DEEP, cohort::Value::from("shallow"));
    tracker.update("deep", [("Software", Some(deep_value()))]);
    let shallow = groups.id("Shallow").unwrap();
    assert_eq!(tracker.members(shallow).count(), 0);
    tracker.update(
        "deep",
        [("Software", Some(nested_value(5, "shallow".into())))],
    );
    assert_eq!(tracker.members(shallow).collect::<Vec<_>>(), ["deep"]);
    // A machine the tracker does not have, and a field no group reads.
    tracker.update(
        "new",
        [
            ("Software", Some(deep_value())),
            ("Unread", Some(deep_value())),
        ],
    );
    assert!(!tracker.members(shallow).any(|m| m == "new"));
    drop(tracker);

    for machine in fleet {
        dismantle(machine);
    }
}
