//! The seed group, "BitLocker Key Missing", end to end through the library.

use cohort::{GroupSet, Timestamp, Value};
use std::collections::HashMap;

fn seed_group() -> GroupSet {
    GroupSet::load(crate::root().join("examples/groups/bitlocker/bitlocker-key-missing.yaml"))
        .unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse(cohort_testkit::fleet::EXAMPLE_NOW).unwrap()
}

fn fleet() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(crate::root().join("examples/fleet/fleet.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_seed_group_reads_as_the_console_shows_it() {
    let groups = seed_group();
    assert_eq!(
        groups.names().collect::<Vec<_>>(),
        ["BitLocker Key Missing"]
    );
    let id = groups.id("BitLocker Key Missing").unwrap();
    assert_eq!(
        groups.plan().group_description(id),
        Some("Group of machines where BitLocker Key was not found.")
    );
}

#[test]
fn members_are_exactly_the_machines_whose_status_contains_not_available() {
    let groups = seed_group();
    let fleet = fleet();
    let membership = groups.evaluate_fleet(&fleet, now());
    let members = membership.members(groups.id("BitLocker Key Missing").unwrap());
    let expected: Vec<usize> = fleet
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m["BitLocker Key Backup Status"]
                .as_str()
                .is_some_and(|s| s.to_lowercase().contains("not available"))
        })
        .map(|(position, _)| position)
        .collect();
    assert!(
        expected.len() > 50 && expected.len() < fleet.len() / 2,
        "{}",
        expected.len()
    );
    assert_eq!(members, expected);
}

#[test]
fn one_machine_at_a_time_with_a_map_of_values() {
    let groups = seed_group();
    let mut machine: HashMap<String, Value> = HashMap::new();
    assert!(
        !groups
            .evaluate(&machine, now())
            .contains("BitLocker Key Missing"),
        "missing status"
    );
    machine.insert("BitLocker Key Backup Status".into(), Value::from("Success"));
    assert!(
        !groups
            .evaluate(&machine, now())
            .contains("BitLocker Key Missing")
    );
    machine.insert(
        "BitLocker Key Backup Status".into(),
        Value::from("NOT AVAILABLE"),
    );
    assert!(
        groups
            .evaluate(&machine, now())
            .contains("BitLocker Key Missing")
    );
}

#[test]
fn explanations_name_the_block_the_criterion_and_the_value_seen() {
    let groups = seed_group();
    let member = serde_json::json!({"BitLocker Key Backup Status": "Not Available"});
    let text = groups
        .explain(&member, "BitLocker Key Missing", now())
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        "BitLocker Key Missing: member\n  pass  block 1 (all of)\n    pass  block 1, criterion 1: \"BitLocker Key Backup Status\" contains any of \"Not Available\"\n          `BitLocker Key Backup Status` contains \"not available\" (\"Not Available\")\n"
    );
    let stranger = serde_json::json!({"OS": "Ubuntu"});
    let explanation = groups
        .explain(&stranger, "BitLocker Key Missing", now())
        .unwrap();
    assert!(!explanation.matched);
    let text = explanation.to_string();
    assert!(
        text.contains("\n          `BitLocker Key Backup Status` has no value\n"),
        "{text}"
    );
}

#[test]
fn the_csv_fleet_gives_the_same_members_as_the_json_fleet() {
    let groups = GroupSet::load(crate::root().join("examples/groups")).unwrap();
    let json_fleet = fleet();
    let csv_text = std::fs::read_to_string(crate::root().join("examples/fleet/fleet.csv")).unwrap();
    let mut reader = csv_rows(&csv_text);
    let header = reader.remove(0);
    let csv_fleet: Vec<HashMap<String, Value>> = reader
        .into_iter()
        .map(|row| {
            header
                .iter()
                .zip(row)
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(field, cell)| {
                    let value = match serde_json::from_str::<Vec<String>>(&cell) {
                        Ok(list) => Value::List(list.into_iter().map(Value::from).collect()),
                        Err(_) => Value::from(cell),
                    };
                    (field.clone(), value)
                })
                .collect()
        })
        .collect();
    assert_eq!(csv_fleet.len(), json_fleet.len());
    assert_eq!(
        groups.evaluate_fleet(&csv_fleet, now()),
        groups.evaluate_fleet(&json_fleet, now())
    );
}

/// A small CSV reader for the generator's output (quoted cells with doubled quotes).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' if quoted && chars.peek() == Some(&'"') => {
                        cell.push('"');
                        chars.next();
                    }
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cell)),
                    other => cell.push(other),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}
