//! Every kind of bad definition gives an error that names the file, line and column, the
//! group, the criterion where there is one, and what was expected.

use cohort::GroupSet;

#[track_caller]
fn diagnostics(yaml: &str) -> Vec<String> {
    let error = GroupSet::from_yaml_named("bad.yaml", yaml).expect_err("definition is invalid");
    error
        .diagnostics()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[track_caller]
fn only(yaml: &str) -> String {
    let all = diagnostics(yaml);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

#[test]
fn malformed_yaml() {
    let message = only("name: G\nblocks: [[{field: OS, operator: is, value: x}]\ndescription: d\n");
    assert_eq!(
        message,
        "bad.yaml:3:1: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 9"
    );
}

#[test]
fn unknown_keys_point_at_the_key_and_list_what_is_allowed() {
    assert_eq!(
        only("name: G\nblocks:\n  - - field: OS\n      operatr: is\n      value: x\n"),
        "bad.yaml:4:7: blocks[0][0]: unknown field `operatr`, expected one of `field`, `operator`, `values`, `value`, `case_sensitive`\n  in group `G`\n  help: a group has `name`, `description`, `match`, `blocks`; a criterion has `field`, `operator`, `values` (or `value`), `case_sensitive`"
    );
    let message = only("name: G\nblock:\n  - - {field: OS, operator: is, value: x}\n");
    assert!(
        message.starts_with("bad.yaml:2:1: unknown field `block`, expected one of"),
        "{message}"
    );
    let message = only("name: G\nblocks:\n  - match: any\n    critera: []\n");
    assert!(
        message.starts_with("bad.yaml:4:5: blocks[0]: unknown field `critera`"),
        "{message}"
    );
}

#[test]
fn values_of_the_wrong_type() {
    let message = only("name: G\nblocks:\n  - - {field: OS, operator: is, value: [a, b]}\n");
    assert!(
        message.starts_with(
            "bad.yaml:3:40: blocks[0][0].value: invalid type: sequence, expected a string"
        ),
        "{message}"
    );
    let message = only("name: G\nblocks:\n  - - {field: OS, operator: is, values: {a: b}}\n");
    assert!(message.starts_with("bad.yaml:3:41: blocks[0][0].values: invalid type: map, expected a value or a list of values"), "{message}");
    assert_eq!(
        only("name: G\nblocks:\n  - - {field: Free Disk %, operator: greater than, value: lots}\n"),
        "bad.yaml:3:59: `greater than` compares numbers, dates and versions, but `lots` is none of these\n  in group `G`, block 1, criterion 1 (`Free Disk %`)\n  help: write numbers like `10` or `2.5`, dates like `2024-05-01` or `2024-05-01T10:00:00Z`, versions like `10.0.19045`"
    );
}

#[test]
fn operator_mistakes() {
    assert_eq!(
        only("name: G\nblocks:\n  - - {field: OS, operator: Stars with, value: x}\n"),
        "bad.yaml:3:29: unknown operator `Stars with`\n  in group `G`, block 1, criterion 1 (`OS`)\n  help: did you mean `starts with`?"
    );
    assert_eq!(
        only("name: G\nblocks:\n  - - {field: OS, operator: Equal, values: [a, b]}\n"),
        "bad.yaml:3:7: `equal` takes exactly one value, found 2\n  in group `G`, block 1, criterion 1 (`OS`)\n  help: to compare with several values use `is any of`"
    );
    assert_eq!(
        only("name: G\nblocks:\n  - - {field: RAM GB, operator: between, value: 4}\n"),
        "bad.yaml:3:7: `between` takes exactly two values (lower and upper bound), found 1\n  in group `G`, block 1, criterion 1 (`RAM GB`)"
    );
    let message = only("name: G\nblocks:\n  - - {field: Host, operator: matches, value: '(DC'}\n");
    assert!(
        message.starts_with("bad.yaml:3:47: invalid regular expression `(DC`: unclosed group"),
        "{message}"
    );
    assert!(
        message.contains("in group `G`, block 1, criterion 1 (`Host`)"),
        "{message}"
    );
    let message =
        only("name: G\nblocks:\n  - - {field: Last Seen, operator: within last, value: a while}\n");
    assert!(
        message.starts_with("bad.yaml:3:56: `within last` takes a duration such as `30 days`"),
        "{message}"
    );
    let message =
        only("name: G\nblocks:\n  - - {field: Site, operator: is blank, value: perhaps}\n");
    assert!(
        message.starts_with(
            "bad.yaml:3:48: `is blank` takes no value or `true`/`false`, found `perhaps`"
        ),
        "{message}"
    );
}

#[test]
fn group_level_mistakes() {
    assert_eq!(
        only(
            "groups:\n  - description: no name\n    blocks: [[{field: a, operator: is, value: b}]]\n"
        ),
        "bad.yaml:2:5: group has no `name`"
    );
    assert_eq!(
        only("name: G\nmatch: most\nblocks: [[{field: a, operator: is, value: b}]]\n"),
        "bad.yaml:2:8: invalid `match` value `most`: expected `any` or `all`\n  in group `G`"
    );
    assert_eq!(
        only("name: G\nblocks: []\n"),
        "bad.yaml:1:1: group has no blocks: expected `blocks` with at least one block of criteria\n  in group `G`"
    );
    assert_eq!(
        only(
            "groups:\n  - name: G\n    blocks: [[{field: a, operator: is, value: b}]]\n  - name: G\n    blocks: [[{field: a, operator: is, value: c}]]\n"
        ),
        "bad.yaml:4:5: group `G` is defined twice\n  in group `G`\n  help: first defined at bad.yaml:2:5"
    );
}

#[test]
fn every_problem_in_every_group_is_reported_at_once() {
    let all = diagnostics(
        "groups:\n\
         \x20 - name: A\n    blocks: [[{field: a, operator: frobs, value: b}]]\n\
         \x20 - name: B\n    blocks: [[{field: a, operator: '>', value: soon}, {field: a, operator: between, value: 1}]]\n\
         \x20 - name: C\n    blocks: [[{field: a, operator: is, value: b}]]\n",
    );
    let firsts: Vec<&str> = all.iter().map(|d| d.lines().next().unwrap()).collect();
    assert_eq!(
        firsts,
        [
            "bad.yaml:3:36: unknown operator `frobs`",
            "bad.yaml:5:48: `greater than` compares numbers, dates and versions, but `soon` is none of these",
            "bad.yaml:5:55: `between` takes exactly two values (lower and upper bound), found 1",
        ]
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let deep = format!(
        "name: G\nblocks: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(GroupSet::from_yaml_str(&deep).is_err());
    let long_name = format!(
        "name: {}\nblocks: [[{{field: a, operator: is, value: b}}]]\n",
        "x".repeat(1_000_000)
    );
    assert!(GroupSet::from_yaml_str(&long_name).is_ok());
    let many_values = format!(
        "name: G\nblocks: [[{{field: a, operator: is any of, values: [{}]}}]]\n",
        (0..50_000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let groups = GroupSet::from_yaml_str(&many_values).unwrap();
    assert!(
        groups
            .evaluate(
                &serde_json::json!({"a": "49999"}),
                cohort::Timestamp::UNIX_EPOCH
            )
            .contains("G")
    );
    for garbage in [
        "\u{0}\u{1}",
        "[",
        "{{{{",
        "- - - -",
        "name: [",
        ":",
        "groups: 5",
        "name: G\nblocks: 7",
    ] {
        assert!(GroupSet::from_yaml_str(garbage).is_err(), "{garbage:?}");
    }
}
