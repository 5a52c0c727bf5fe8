//! The words of `explain`: each reason says what was found and how values were compared.

use cohort::{ComparedAs, CriterionResult, ExplainNode, GroupSet, Timestamp};
use serde_json::{Value, json};

/// 2026-11-25T00:00:00Z, as in the README.
fn now() -> Timestamp {
    Timestamp::parse("2026-11-25T00:00:00Z").unwrap()
}

/// The one criterion of a group whose condition is `condition`, explained on `machine`.
fn explained(condition: &str, machine: &Value) -> CriterionResult {
    let yaml = format!(
        "name: G\nwhere: {}",
        serde_json::to_string(condition).unwrap()
    );
    let groups = GroupSet::from_yaml_str(&yaml).unwrap();
    let explanation = groups.explain(machine, "G", now()).unwrap();
    let mut node = &explanation.root;
    loop {
        match node {
            ExplainNode::Criterion(result) => return result.clone(),
            ExplainNode::All { items, .. } | ExplainNode::Any { items, .. } => node = &items[0],
            ExplainNode::Not { item, .. } => node = item,
        }
    }
}

#[track_caller]
fn says(condition: &str, machine: Value, passed: bool, reason: &str) -> CriterionResult {
    let result = explained(condition, &machine);
    assert_eq!(result.reason, reason, "{condition} on {machine}");
    assert_eq!(result.passed, passed, "{condition} on {machine}");
    result
}

#[test]
fn a_negated_criterion_that_fails_says_what_made_its_positive_hold() {
    let result = says(
        "OS does not contain server",
        json!({"OS": "Windows Server 2022"}),
        false,
        "`OS` contains \"server\" (\"Windows Server 2022\"), so `does not contain` fails",
    );
    assert_eq!(
        result.compared_as,
        Some(ComparedAs::Text {
            case_sensitive: false
        })
    );
    says(
        "Owner is not blank",
        json!({}),
        false,
        "`Owner` has no value, so `is not blank` fails",
    );
}

#[test]
fn a_negated_criterion_that_holds_says_what_was_found_without_a_double_negation() {
    says(
        "OS does not contain server",
        json!({"OS": "Windows 11"}),
        true,
        "`OS` does not contain \"server\" (\"Windows 11\")",
    );
    says(
        "OS does not contain server",
        json!({}),
        true,
        "`OS` has no value, so `does not contain` holds",
    );
    says(
        "'Agent Version' not greater than 2024.1.0",
        json!({"Agent Version": "new"}),
        true,
        "`Agent Version` \"new\" cannot be read as a version, as 2024.1.0 is, so `not greater than` holds",
    );
}

#[test]
fn a_version_comparison_says_it_compared_versions() {
    let result = says(
        "'Agent Version' < 2024.1.0",
        json!({"Agent Version": "2023.6.1"}),
        true,
        "`Agent Version` \"2023.6.1\" is below 2024.1.0, compared as versions",
    );
    assert_eq!(result.compared_as, Some(ComparedAs::Version));
    // Not both numbers, both versions.
    says(
        "'Agent Version' >= 10",
        json!({"Agent Version": "10.0.9"}),
        true,
        "`Agent Version` \"10.0.9\" is at or above 10, compared as versions",
    );
}

#[test]
fn a_number_comparison_says_it_compared_numbers() {
    let result = says(
        "'Free Disk %' < 10",
        json!({"Free Disk %": 55}),
        false,
        "`Free Disk %` 55 is at or above 10, compared as numbers",
    );
    assert_eq!(result.compared_as, Some(ComparedAs::Number));
    says(
        "'Free Disk %' between 10 and 20",
        json!({"Free Disk %": "15"}),
        true,
        "`Free Disk %` \"15\" is between 10 and 20, compared as numbers",
    );
    let result = says(
        "Count = 5",
        json!({"Count": "5.0"}),
        true,
        "`Count` is 5 (\"5.0\"), compared as numbers",
    );
    assert_eq!(result.compared_as, Some(ComparedAs::Number));
    let result = says(
        "Count != 5",
        json!({"Count": "5.5"}),
        true,
        "`Count` is not 5 (\"5.5\"), compared as numbers and as text, ignoring case",
    );
    assert_eq!(
        result.compared_as,
        Some(ComparedAs::NumberOrText {
            case_sensitive: false
        })
    );
}

#[test]
fn a_relative_date_says_how_far_from_now() {
    let result = says(
        "'Last Seen' within last 30 days",
        json!({"Last Seen": "2026-10-01T00:00:00Z"}),
        false,
        "`Last Seen` \"2026-10-01T00:00:00Z\" is more than 30 days before now (2026-11-25T00:00:00Z)",
    );
    assert_eq!(result.compared_as, Some(ComparedAs::Date));
    says(
        "'Last Seen' not within last 30 days",
        json!({"Last Seen": "2026-11-01T00:00:00Z"}),
        false,
        "`Last Seen` \"2026-11-01T00:00:00Z\" is no more than 30 days before now (2026-11-25T00:00:00Z), so `not within last` fails",
    );
    says(
        "'Last Seen' older than 24 hours",
        json!({"Last Seen": "yesterday"}),
        false,
        "`Last Seen` \"yesterday\" cannot be read as a date",
    );
    says(
        "'Last Seen' < 2026-01-01",
        json!({"Last Seen": "2025-12-31T23:59:59Z"}),
        true,
        "`Last Seen` \"2025-12-31T23:59:59Z\" is below 2026-01-01, compared as dates",
    );
}

#[test]
fn a_list_says_which_element_held_or_that_none_did() {
    says(
        "Tags contains vip",
        json!({"Tags": ["a", "VIP customer"]}),
        true,
        "`Tags` has an element that contains \"vip\" (\"VIP customer\")",
    );
    says(
        "Tags contains vip",
        json!({"Tags": ["a", "b"]}),
        false,
        "`Tags` has no element that contains \"vip\" ([\"a\", \"b\"])",
    );
    says(
        "OS is any of 'Windows 11', 'Windows 10'",
        json!({"OS": "Windows 11"}),
        true,
        "`OS` is one of the listed values (\"Windows 11\")",
    );
}

#[test]
fn a_missing_value_says_it_has_none() {
    says("Owner is blank", json!({}), true, "`Owner` has no value");
    says(
        "Owner is blank",
        json!({"Owner": null}),
        true,
        "`Owner` has no value (null)",
    );
    says(
        "Owner is blank",
        json!({"Owner": "  "}),
        true,
        "`Owner` is blank (\"  \")",
    );
    let result = says("OS contains server", json!({}), false, "`OS` has no value");
    assert_eq!(result.compared_as, None);
}

#[test]
fn case_sensitive_text_says_so() {
    let result = says(
        "Hostname starts with acme (case-sensitive)",
        json!({"Hostname": "ACME-1"}),
        false,
        "`Hostname` does not start with \"acme\" (\"ACME-1\"), compared as text, case-sensitive",
    );
    assert_eq!(
        result.compared_as,
        Some(ComparedAs::Text {
            case_sensitive: true
        })
    );
}

#[test]
fn attribute_values_in_reasons_are_escaped() {
    says(
        "OS contains server",
        json!({"OS": "Server \u{1b}[31m\"x\""}),
        true,
        "`OS` contains \"server\" (\"Server \\u{1b}[31m\\\"x\\\"\")",
    );
}
