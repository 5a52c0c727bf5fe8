//! Declared layouts over databases cohort did not write: a wide table with typed columns
//! (text, number, a JSON list) and a custom-field (entity-attribute-value) table whose values
//! are text, as Tactical RMM stores them. The members must be the engine's on the same
//! machines; a machine without a custom-field row lacks the field.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cohort::GroupSet;
use cohort_syntax::{GroupDef, Loc};
use cohort_testkit::strategies::{self, NOW};
use proptest::prelude::*;
use support::{cases, compare};

mod support;

use serde_json::{Map, Value, json};

const LAYOUT: &str = r#"
table: agents
key: agent_id
fields:
  OS: { column: operating_system, type: text }
  Free Disk %: { column: free_disk, type: number }
  Tags: { column: tags, type: json }
custom_fields:
  table: custom_values
  key: agent
  name: field
  value: value
  other_fields: true
"#;

const TEXTS: &[&str] = &[
    "",
    "\t",
    "\u{a0}",
    "Windows 10",
    "windows server",
    "ß",
    "İzmir",
    "ΟΔΟΣ",
    "%",
    "_x",
    "[a]",
    "1.10",
    "1.9",
    " 10\t",
    "10",
    "1e400",
    "9007199254740993",
    "2026-11-24T12:00:00Z",
    "2026-11-24 12:00+02",
    "true",
    "Not Available",
    "v1.10.0",
];

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(TEXTS).prop_map(str::to_owned)
}

/// A machine as the layout can hold it: text in the text column and the custom fields, a
/// number in the number column, a list in the JSON column.
fn machine() -> impl Strategy<Value = Map<String, Value>> {
    let scalar = prop_oneof![
        text().prop_map(Value::String),
        prop::sample::select(&[0.0, 1.9, 10.0, 1e21][..]).prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool)
    ];
    (
        prop::option::weighted(0.8, text()),
        prop::option::weighted(
            0.8,
            prop::sample::select(
                &[
                    0.0,
                    -0.0,
                    1.1,
                    1.9,
                    5.0,
                    10.0,
                    10.5,
                    1e21,
                    9007199254740992.0,
                ][..],
            ),
        ),
        prop::option::weighted(0.8, prop::collection::vec(scalar, 0..4)),
        prop::collection::vec(prop::option::weighted(0.7, text()), 3),
    )
        .prop_map(|(os, disk, tags, custom)| {
            let mut machine = Map::new();
            if let Some(os) = os {
                machine.insert("OS".into(), Value::String(os));
            }
            if let Some(disk) = disk {
                machine.insert("Free Disk %".into(), json!(disk));
            }
            if let Some(tags) = tags {
                machine.insert("Tags".into(), Value::Array(tags));
            }
            for (field, value) in ["Agent Version", "Last Seen", "Ünïcode Fïeld"]
                .into_iter()
                .zip(custom)
            {
                if let Some(value) = value {
                    machine.insert(field.into(), Value::String(value));
                }
            }
            machine
        })
}

fn groups() -> impl Strategy<Value = Vec<GroupDef>> {
    prop::collection::vec(strategies::expr(), 1..4).prop_map(|conditions| {
        let groups: Vec<GroupDef> = conditions
            .into_iter()
            .enumerate()
            .map(|(i, condition)| GroupDef {
                name: format!("group {i}"),
                description: None,
                condition,
                loc: Loc::default(),
            })
            .collect();
        support::with_negations(groups)
    })
}

fn expected(groups: &[GroupDef], machines: &[Map<String, Value>]) -> Option<Vec<Vec<String>>> {
    let set = GroupSet::builder().definitions(groups).build().ok()?;
    Some(support::engine_members(&set, groups, machines, |m| {
        format!("agent-{m}")
    }))
}

fn by_definition(
    query: &cohort_sql::Query,
    groups: &[GroupDef],
    members: Vec<Vec<String>>,
) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let position = query.groups.iter().position(|n| *n == g.name).unwrap();
            let mut keys = members[position].clone();
            keys.sort_by_key(|k| k.trim_start_matches("agent-").parse::<usize>().unwrap());
            keys
        })
        .collect()
}

const CUSTOM: [&str; 3] = ["Agent Version", "Last Seen", "Ünïcode Fïeld"];

fn in_sqlite(groups: &[GroupDef], machines: &[Map<String, Value>]) -> Vec<Vec<String>> {
    let layout = cohort_sql::Layout::from_yaml_str("layout.yaml", LAYOUT).unwrap();
    let db = cohort_sql::sqlite::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE agents (agent_id TEXT PRIMARY KEY, operating_system TEXT, free_disk REAL, tags TEXT);
         CREATE TABLE custom_values (agent TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (agent, field));",
    )
    .unwrap();
    for (m, machine) in machines.iter().enumerate() {
        let key = format!("agent-{m}");
        db.execute(
            "INSERT INTO agents VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                key,
                machine.get("OS").and_then(Value::as_str),
                machine.get("Free Disk %").and_then(Value::as_f64),
                machine.get("Tags").map(Value::to_string)
            ],
        )
        .unwrap();
        for field in CUSTOM {
            if let Some(value) = machine.get(field).and_then(Value::as_str) {
                db.execute(
                    "INSERT INTO custom_values VALUES (?1, ?2, ?3)",
                    rusqlite::params![key, field, value],
                )
                .unwrap();
            }
        }
    }
    let checked = cohort_check::check(groups).unwrap();
    let query = cohort_sql::compile(&checked, &layout, cohort_sql::Dialect::Sqlite, None).unwrap();
    let members = cohort_sql::sqlite::evaluate(&db, &query, NOW).unwrap();
    by_definition(&query, groups, members)
}

fn in_postgres(
    client: &mut postgres::Client,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
    n: usize,
) -> Option<Vec<Vec<String>>> {
    let layout = cohort_sql::Layout::from_yaml_str("layout.yaml", LAYOUT).unwrap();
    let checked = cohort_check::check(groups).unwrap();
    let query = match cohort_sql::compile(&checked, &layout, cohort_sql::Dialect::Postgres, None) {
        Ok(query) => query,
        Err(error) => {
            assert!(error.to_string().contains("`matches`"), "{error}");
            return None;
        }
    };
    let schema = format!("cohort_layouts_{}_{n}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema};
             CREATE TABLE agents (agent_id text PRIMARY KEY, operating_system text, free_disk float8, tags jsonb);
             CREATE TABLE custom_values (agent text NOT NULL, field text NOT NULL, value text NOT NULL, PRIMARY KEY (agent, field));"
        ))
        .unwrap();
    for (m, machine) in machines.iter().enumerate() {
        let key = format!("agent-{m}");
        client
            .execute(
                "INSERT INTO agents VALUES ($1, $2, $3, $4)",
                &[
                    &key,
                    &machine.get("OS").and_then(Value::as_str),
                    &machine.get("Free Disk %").and_then(Value::as_f64),
                    &machine.get("Tags"),
                ],
            )
            .unwrap();
        for field in CUSTOM {
            if let Some(value) = machine.get(field).and_then(Value::as_str) {
                client
                    .execute(
                        "INSERT INTO custom_values VALUES ($1, $2, $3)",
                        &[&key, &field, &value],
                    )
                    .unwrap();
            }
        }
    }
    let members = cohort_sql::postgres::evaluate(client, &query, NOW).unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE; RESET search_path"))
        .unwrap();
    Some(by_definition(&query, groups, members))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(160), ..ProptestConfig::default() })]

    #[test]
    fn a_wide_table_and_custom_fields_in_sqlite(groups in groups(), machines in prop::collection::vec(machine(), 0..10)) {
        let Some(expected) = expected(&groups, &machines) else {
            return Err(TestCaseError::reject("groups that do not load"));
        };
        compare("SQLite", &groups, &machines, &expected, &in_sqlite(&groups, &machines))?;
    }
}

#[test]
fn a_wide_table_and_custom_fields_in_postgres() {
    let Some(client) = support::postgres() else {
        return;
    };
    let client = std::cell::RefCell::new(client);
    let case = std::cell::Cell::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(128),
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(groups(), prop::collection::vec(machine(), 0..10)),
            |(groups, machines)| {
                let Some(expected) = expected(&groups, &machines) else {
                    return Err(TestCaseError::reject("groups that do not load"));
                };
                case.set(case.get() + 1);
                let Some(got) =
                    in_postgres(&mut client.borrow_mut(), &groups, &machines, case.get())
                else {
                    return Ok(());
                };
                compare("PostgreSQL", &groups, &machines, &expected, &got)
            },
        )
        .unwrap();
}

#[test]
fn a_field_the_layout_does_not_place_is_an_error() {
    let layout = cohort_sql::Layout::from_yaml_str(
        "layout.yaml",
        "table: agents\nkey: id\nother_columns: false\nfields:\n  OS: { column: os }\n",
    )
    .unwrap();
    let mut loader = cohort_load::Loader::new();
    loader.add_str("g.yaml", "name: G\nwhere: Owner = me\n");
    let checked = cohort_check::check(&loader.finish().groups).unwrap();
    let error =
        cohort_sql::compile(&checked, &layout, cohort_sql::Dialect::Sqlite, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "group `G`: the layout does not place the field `Owner` (add it to `fields`, or set `other_columns: true`)"
    );
}
