//! Differential tests: generated groups and machines loaded into a real database must give
//! exactly the in-memory engine's members, and every group and its negation must partition
//! the machines.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cohort::GroupSet;
use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
use cohort_testkit::strategies::{self, FIELDS, NOW};
use proptest::prelude::*;
use support::{cases, compare, postgres};

mod support;

use serde_json::{Map, Value, json};

/// Texts the SQL paths are most likely to get wrong: white space of every kind, case
/// folding beyond ASCII, LIKE's wildcards, versions with two-digit segments, numbers past a
/// float's precision, dates with zones.
const EDGE_TEXTS: &[&str] = &[
    "",
    "\t",
    "\u{a0}",
    " x\t",
    "\u{2003}10\u{a0}",
    "ß",
    "SS",
    "İzmir",
    "i\u{307}zmir",
    "izmir",
    "ΟΔΟΣ",
    "οδος",
    "σ",
    "%",
    "_",
    "[a]",
    "50%_x",
    "a_b%",
    "1.10",
    "1.9",
    "v1.10.0",
    "1.10.0",
    " 10\t",
    "10",
    "1e400",
    "9007199254740993",
    "9007199254740992",
    "-0",
    "1e21",
    "2026-11-24 12:00+02",
    "2026-11-24T23:30:00.5z",
    "2026-02-29",
    "DC01",
    "dc7",
    "true",
    "FALSE",
    "[1,2]",
    "{}",
    "Microsoft Windows 11 Pro",
    "microsoft windows 11",
    "Microsoft Windows 110",
    "MICROSOFT WINDOWS 11_x",
    "10-x",
    "10x",
    "1x",
    "10.0.22621.1",
    "10.0.19044.2",
    "AB",
    "DC01",
    "dc١٢",
    "DC",
    "DC1x",
    "100",
    "a x",
    "ax",
    "x",
    "ſ",
    "K",
    "ς",
    "ΟΣ",
];

fn edge_text() -> impl Strategy<Value = String> {
    prop::sample::select(EDGE_TEXTS).prop_map(str::to_owned)
}

fn edge_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        6 => edge_text().prop_map(Value::String),
        2 => prop::sample::select(&[0.0, -0.0, 1.1, 1.9, 10.0, 1e21, 9007199254740992.0, 2024.1, 1.5e-7][..]).prop_map(|n| json!(n)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    prop_oneof![
        6 => scalar.clone(),
        2 => prop::collection::vec(scalar.clone(), 0..4).prop_map(Value::Array),
        1 => prop::collection::vec(prop::collection::vec(scalar, 0..3).prop_map(Value::Array), 0..3).prop_map(Value::Array),
        1 => Just(json!({"nested": ["x"]})),
    ]
}

/// A machine with testkit values and edge values.
fn machine() -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![
        1 => strategies::machine(),
        2 => prop::collection::vec(prop::option::weighted(0.7, edge_value()), FIELDS.len()).prop_map(|values| {
            FIELDS
                .iter()
                .zip(values)
                .filter_map(|(field, value)| Some(((*field).to_owned(), value?)))
                .collect()
        }),
    ]
}

/// A criterion with edge values (or one of testkit's).
fn criterion() -> impl Strategy<Value = Criterion> {
    let text_operators = [
        Operator::Equal,
        Operator::IsAnyOf,
        Operator::ContainsAnyOf,
        Operator::ContainsAllOf,
        Operator::StartsWith,
        Operator::EndsWith,
    ];
    let comparisons = [
        Operator::GreaterThan,
        Operator::GreaterOrEqual,
        Operator::LessThan,
        Operator::LessOrEqual,
    ];
    let text = (
        prop::sample::select(&FIELDS[..]),
        prop::sample::select(text_operators.to_vec()),
        prop::collection::vec(edge_text(), 1..4),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(field, operator, values, negated, case_sensitive)| {
            let values = if matches!(operator, Operator::Equal) {
                values.into_iter().take(1).collect()
            } else {
                values
            };
            Criterion {
                case_sensitive,
                ..Criterion::new(
                    field,
                    Op { operator, negated },
                    values.into_iter().map(Literal::new).collect(),
                )
            }
        });
    let compare = (
        prop::sample::select(&FIELDS[..]),
        prop::sample::select(comparisons.to_vec()),
        prop::sample::select(
            &[
                "1.9",
                "1.10",
                "1.10.0",
                "9007199254740992",
                "-0",
                "10",
                "2026-11-24T12:00:00Z",
                "v1.9.0",
                "1e21",
            ][..],
        ),
        any::<bool>(),
    )
        .prop_map(|(field, operator, value, negated)| {
            Criterion::new(field, Op { operator, negated }, vec![Literal::new(value)])
        });
    let regex = (
        prop::sample::select(&FIELDS[..]),
        prop::sample::select(
            &[
                r"^Microsoft Windows 11\b",
                r"^10\b",
                r"^1\B",
                r"\bx$",
                r"x\b$",
                "^ß",
                "^İ",
                "^k",
                "^σ",
                "ος$",
                r"^\.",
                "50%_",
                "^$",
                r"^10\.0\.(19045|22621|22631)\.",
                r"(1\.9|1\.10)$",
                "^(ab|x)",
                "11|1x",
                r"^DC\d+$",
                "^[a-z]",
                r"^\s*$",
                r"^\d{2,3}$",
                r"^\w",
            ][..],
        ),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(field, pattern, negated, case_sensitive)| Criterion {
            case_sensitive,
            ..Criterion::new(
                field,
                Op {
                    operator: Operator::Matches,
                    negated,
                },
                vec![Literal::new(pattern)],
            )
        });
    prop_oneof![2 => strategies::criterion(), 2 => text, 1 => compare, 1 => regex]
}

fn expr() -> impl Strategy<Value = Expr> {
    criterion()
        .prop_map(Expr::Criterion)
        .prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::all),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::any),
                inner.prop_map(Expr::not),
            ]
        })
}

/// Up to five groups, some referencing earlier ones, each followed by its negation (named
/// `not <name>`).
fn groups() -> impl Strategy<Value = Vec<GroupDef>> {
    prop::collection::vec(expr(), 1..5)
        .prop_map(|conditions| {
            conditions
                .into_iter()
                .enumerate()
                .map(|(i, condition)| GroupDef {
                    name: format!("group {i}"),
                    description: None,
                    condition,
                    loc: Loc::default(),
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(strategies::with_references)
        .prop_map(support::with_negations)
}

/// The engine's members of each group, by machine position.
fn in_memory(
    set: &GroupSet,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
) -> Vec<Vec<String>> {
    support::engine_members(set, groups, machines, |m| m.to_string())
}

fn sorted(mut members: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for keys in &mut members {
        keys.sort_by_key(|k| k.parse::<usize>().unwrap());
    }
    members
}

fn in_sqlite(groups: &[GroupDef], machines: &[Map<String, Value>]) -> Vec<Vec<String>> {
    let checked = cohort_check::check(groups).unwrap();
    let layout = cohort_sql::Layout::default();
    let db = cohort_sql::sqlite::open_in_memory().unwrap();
    cohort_sql::sqlite::load(&db, &layout, &cohort_sql::keyed(machines, None)).unwrap();
    let columns = cohort_sql::sqlite::columns(&db, "machines").unwrap();
    let query = cohort_sql::compile(
        &checked,
        &layout,
        cohort_sql::Dialect::Sqlite,
        Some(&columns),
    )
    .unwrap();
    let members = cohort_sql::sqlite::evaluate(&db, &query, NOW).unwrap();
    // Back in definition order (the query lists groups in the checked set's order).
    let by_name: std::collections::HashMap<&str, usize> = query
        .groups
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    groups
        .iter()
        .map(|g| members[by_name[g.name.as_str()]].clone())
        .collect()
}

/// Checks the SQL answers against the engine's and the partition by each group's negation.
fn check_answers(
    what: &str,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
    expected: &[Vec<String>],
    got: &[Vec<String>],
) -> Result<(), TestCaseError> {
    compare(what, groups, machines, expected, got)?;
    let half = groups.len() / 2;
    for g in 0..half {
        let mut all: Vec<&String> = got[g].iter().chain(&got[g + half]).collect();
        all.sort_by_key(|k| k.parse::<usize>().unwrap());
        let every: Vec<String> = (0..machines.len()).map(|p| p.to_string()).collect();
        prop_assert_eq!(
            all,
            every.iter().collect::<Vec<_>>(),
            "{}: a group and its negation do not partition",
            what
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn sqlite_gives_the_engines_members(groups in groups(), machines in prop::collection::vec(machine(), 0..12)) {
        let Ok(set) = GroupSet::builder().definitions(&groups).build() else {
            return Err(TestCaseError::reject("groups that do not load"));
        };
        let expected = in_memory(&set, &groups, &machines);
        let got = sorted(in_sqlite(&groups, &machines));
        check_answers("SQLite", &groups, &machines, &expected, &got)?;
    }
}

static SCHEMA: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f` in a schema of its own (dropped after), so tests can share the server.
fn in_schema<T>(client: &mut postgres::Client, f: impl FnOnce(&mut postgres::Client) -> T) -> T {
    let schema = format!(
        "cohort_test_{}_{}",
        std::process::id(),
        SCHEMA.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}"
        ))
        .unwrap();
    let out = f(client);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE; RESET search_path"))
        .unwrap();
    out
}

fn has_regex(condition: &cohort_check::ir::Condition) -> bool {
    use cohort_check::ir::{Condition, Test};
    match condition {
        Condition::All(items) | Condition::Any(items) => items.iter().any(has_regex),
        Condition::Not(item) => has_regex(item),
        Condition::Predicate(p) => matches!(p.test, Test::Matches(_)),
        Condition::Member(_) => false,
    }
}

fn in_postgres(
    client: &mut postgres::Client,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
) -> Option<Vec<Vec<String>>> {
    let checked = cohort_check::check(groups).unwrap();
    let layout = cohort_sql::Layout::default();
    in_schema(client, |client| {
        cohort_sql::postgres::load(client, &layout, &cohort_sql::keyed(machines, None)).unwrap();
        let columns = cohort_sql::postgres::columns(client, "machines").unwrap();
        let query = match cohort_sql::compile(
            &checked,
            &layout,
            cohort_sql::Dialect::Postgres,
            Some(&columns),
        ) {
            Ok(query) => query,
            Err(error) => {
                // The only thing PostgreSQL refuses is a regex.
                assert!(
                    checked.groups.iter().any(|g| has_regex(&g.condition)),
                    "{error}"
                );
                assert!(error.to_string().contains("`matches`"), "{error}");
                return None;
            }
        };
        let members = cohort_sql::postgres::evaluate(client, &query, NOW).unwrap();
        let by_name: std::collections::HashMap<&str, usize> = query
            .groups
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        Some(
            groups
                .iter()
                .map(|g| members[by_name[g.name.as_str()]].clone())
                .collect(),
        )
    })
}

#[test]
fn postgres_gives_the_engines_members() {
    let Some(client) = postgres() else {
        return;
    };
    let client = std::cell::RefCell::new(client);
    let (compared, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(192),
        ..ProptestConfig::default()
    });
    let strategy = (groups(), prop::collection::vec(machine(), 0..12));
    runner
        .run(&strategy, |(groups, machines)| {
            let Ok(set) = GroupSet::builder().definitions(&groups).build() else {
                return Err(TestCaseError::reject("groups that do not load"));
            };
            let expected = in_memory(&set, &groups, &machines);
            let Some(got) = in_postgres(&mut client.borrow_mut(), &groups, &machines) else {
                refused.set(refused.get() + 1);
                return Ok(());
            };
            compared.set(compared.get() + 1);
            check_answers("PostgreSQL", &groups, &machines, &expected, &sorted(got))
        })
        .unwrap();
    eprintln!(
        "PostgreSQL: {} cases compared, {} refused (a regex)",
        compared.get(),
        refused.get()
    );
    assert!(
        compared.get() >= refused.get(),
        "too few cases without a regex"
    );
}

/// Many groups in one query (past SQLite's 500 terms of one compound SELECT), over the
/// example fleet's generator.
#[test]
fn a_thousand_groups_in_one_query() {
    let yaml = cohort_testkit::workload::groups_yaml(600, 7);
    let mut loader = cohort_load::Loader::new();
    loader.add_str("workload.yaml", &yaml);
    let groups = loader.finish().groups;
    let machines = cohort_testkit::fleet::generate(300, cohort_testkit::fleet::EXAMPLE_SEED);
    let set = GroupSet::builder().definitions(&groups).build().unwrap();
    let expected = in_memory(&set, &groups, &machines);
    assert!(expected.iter().any(|m| !m.is_empty()));
    let started = std::time::Instant::now();
    assert_eq!(sorted(in_sqlite(&groups, &machines)), expected, "SQLite");
    eprintln!("SQLite: {:?}", started.elapsed());
    if let Some(mut client) = postgres() {
        let started = std::time::Instant::now();
        let got = in_postgres(&mut client, &groups, &machines).expect("no regex refused");
        eprintln!("PostgreSQL: {:?}", started.elapsed());
        assert_eq!(sorted(got), expected, "PostgreSQL");
    }
}
