//! The README's operator table is the specification: every row is checked here, through the
//! compiled engine and through the reference evaluator.

use cohort::engine::syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
use cohort::{GroupSet, Timestamp};
use cohort_testkit::reference;
use serde_json::{Value, json};

/// The evaluation time of the table's examples: 2026-11-25T00:00:00Z.
pub(crate) const NOW: i64 = 1_795_564_800_000;

/// One row of the README's operator table.
pub(crate) struct Row {
    /// The README line.
    pub(crate) line: usize,
    pub(crate) op: Op,
    aliases: Vec<String>,
    pub(crate) values: Vec<String>,
    pub(crate) holds_on: Vec<Value>,
    pub(crate) fails_on: Vec<Value>,
    pub(crate) on_missing: bool,
}

/// The texts between backticks in a table cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(index, _)| index % 2 == 1)
        .map(|(_, text)| text.to_owned())
        .collect()
}

pub(crate) fn operator_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(crate::root().join("README.md")).unwrap();
    let section = readme
        .split("## Operators")
        .nth(1)
        .expect("README has an Operators section");
    let section = section.split("\n## ").next().unwrap();
    let start_line = readme[..readme.find("## Operators").unwrap()]
        .lines()
        .count();
    section
        .lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with("| `"))
        .map(|(offset, line)| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(
                cells.len(),
                8,
                "README line {}: {line}",
                start_line + offset
            );
            let phrase = backticked(cells[0]).remove(0);
            let json_values = |cell: &str| -> Vec<Value> {
                backticked(cell)
                    .iter()
                    .map(|text| {
                        serde_json::from_str(text).unwrap_or_else(|e| panic!("`{text}`: {e}"))
                    })
                    .collect()
            };
            Row {
                line: start_line + offset,
                op: Op::from_phrase(&phrase).unwrap_or_else(|| panic!("unknown phrase `{phrase}`")),
                aliases: backticked(cells[1].split(';').next().unwrap()),
                values: backticked(cells[4]),
                holds_on: json_values(cells[5]),
                fails_on: json_values(cells[6]),
                on_missing: backticked(cells[7]) == ["true"],
            }
        })
        .collect()
}

/// The row's criterion on field `F`, as a group called `G`.
pub(crate) fn group(row: &Row) -> GroupDef {
    GroupDef {
        name: "G".into(),
        description: None,
        condition: Expr::Criterion(Criterion::new(
            "F",
            row.op,
            row.values
                .iter()
                .map(|v| Literal::new(v.as_str()))
                .collect(),
        )),
        loc: Loc::default(),
    }
}

#[test]
fn every_canonical_operator_has_one_row() {
    let rows = operator_rows();
    let mut documented: Vec<Op> = rows.iter().map(|r| r.op).collect();
    // `member of` tests a group, not a field: README.md documents it in its own section.
    for (phrase, op) in Op::canonical_phrases().filter(|(_, op)| op.operator != Operator::MemberOf)
    {
        let count = documented.iter().filter(|d| **d == op).count();
        assert_eq!(count, 1, "`{phrase}` has {count} rows in README.md");
    }
    documented.sort();
    documented.dedup();
    assert_eq!(documented.len(), rows.len());
}

#[test]
fn rows_use_canonical_phrases_and_aliases_resolve() {
    for row in operator_rows() {
        for alias in &row.aliases {
            assert_eq!(
                Op::from_phrase(alias),
                Some(row.op),
                "README line {}: alias `{alias}`",
                row.line
            );
        }
    }
}

#[test]
fn every_row_holds_and_fails_where_it_says() {
    let now = Timestamp::from_unix_millis(NOW);
    for row in operator_rows() {
        let definition = group(&row);
        let set = GroupSet::builder()
            .definitions(std::slice::from_ref(&definition))
            .build()
            .unwrap_or_else(|e| panic!("README line {}: {e}", row.line));
        assert!(
            !row.holds_on.is_empty() && !row.fails_on.is_empty(),
            "README line {} needs examples",
            row.line
        );
        let cases = row
            .holds_on
            .iter()
            .map(|v| (Some(v), true))
            .chain(row.fails_on.iter().map(|v| (Some(v), false)))
            .chain([(None, row.on_missing)]);
        for (value, expected) in cases {
            let machine = match value {
                Some(value) => json!({ "F": value }),
                None => json!({}),
            };
            let engine = set.evaluate(&machine, now).contains("G");
            let simple = reference::is_member(&definition, machine.as_object().unwrap(), NOW);
            let what = format!(
                "README line {}: `{}` {:?} on {machine}",
                row.line, row.op, row.values
            );
            assert_eq!(engine, expected, "engine: {what}");
            assert_eq!(simple, expected, "reference: {what}");
        }
    }
}
