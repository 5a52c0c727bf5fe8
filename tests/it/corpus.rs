//! The criterion corpus: `tests/data/corpus/criteria.txt` holds criterion lines in the styles
//! people write and paste; `criteria.expected` holds, line for line, the tree each must give.
//! `COHORT_BLESS=1 cargo test` rewrites the expected file (review the diff).

use cohort::engine::syntax::{Criterion, criterion_to_text, parse_criterion};

fn tree(criterion: &Criterion) -> String {
    let values: Vec<String> = criterion
        .values
        .iter()
        .map(|v| format!("{:?}", v.text))
        .collect();
    format!(
        "field={:?} op={:?} values=[{}]{}",
        criterion.field,
        criterion.op.phrase(),
        values.join(", "),
        if criterion.case_sensitive {
            " case-sensitive"
        } else {
            ""
        }
    )
}

#[test]
fn every_corpus_line_gives_its_expected_tree_and_prints_canonically() {
    let dir = crate::root().join("tests/data/corpus");
    let input = std::fs::read_to_string(dir.join("criteria.txt")).unwrap();
    let lines: Vec<&str> = input
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(lines.len() >= 50, "{} corpus lines", lines.len());
    let mut rendered = String::new();
    for line in &lines {
        let criterion =
            parse_criterion(line).unwrap_or_else(|e| panic!("{line:?}: {e} at {:?}", e.span));
        let canonical = criterion_to_text(&criterion);
        assert_eq!(
            parse_criterion(&canonical).unwrap(),
            criterion,
            "{line:?} printed as {canonical:?}"
        );
        rendered.push_str(&format!("{}\n  canonical: {canonical}\n", tree(&criterion)));
    }
    let expected_path = dir.join("criteria.expected");
    if std::env::var_os("COHORT_BLESS").is_some() {
        std::fs::write(&expected_path, &rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    for ((line, got), want) in lines
        .iter()
        .zip(rendered.split_inclusive("\n  canonical"))
        .zip(expected.split_inclusive("\n  canonical"))
    {
        assert_eq!(got, want, "corpus line {line:?}");
    }
    assert_eq!(rendered, expected);
}
