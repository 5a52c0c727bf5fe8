//! Every kind of bad definition gives an error that names the file, line and column, the
//! group, the criterion where there is one, and what was expected.

use cohort::GroupSet;

/// Renders every definition in `tests/data/diagnostics/*.yaml` as `cohort check` would and
/// compares with the `.txt` beside it. `COHORT_BLESS=1 cargo test` rewrites the `.txt` files
/// (review the diff before committing).
#[test]
fn rendered_diagnostics_match_their_snapshots() {
    let dir = crate::root().join("tests/data/diagnostics");
    let bless = std::env::var_os("COHORT_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut mismatches = Vec::new();
    for case in cases {
        let text = std::fs::read_to_string(&case).unwrap();
        let name = format!(
            "tests/data/diagnostics/{}",
            case.file_name().unwrap().to_string_lossy()
        );
        let error = GroupSet::builder()
            .text(&name, &text)
            .build()
            .expect_err(&format!("{name} is meant to be invalid"));
        for diagnostic in error.diagnostics() {
            assert!(
                diagnostic.line().is_some() && diagnostic.column().is_some(),
                "{name}: {diagnostic} has no position"
            );
            assert!(
                diagnostic.line_text().is_some(),
                "{name}: {diagnostic} has no snippet"
            );
        }
        let rendered = format!("{error}\n");
        let snapshot = case.with_extension("txt");
        if bless {
            std::fs::write(&snapshot, &rendered).unwrap();
        } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(rendered.as_str()) {
            mismatches.push(format!("--- {}\n{rendered}", snapshot.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "snapshots differ (COHORT_BLESS=1 to rewrite):\n{}",
        mismatches.join("\n")
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
    let values = |count: usize| {
        format!(
            "name: G\nblocks: [[{{field: a, operator: is any of, values: [{}]}}]]\n",
            (0..count)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // The limit on values per criterion holds for lists too (not only for text criteria).
    let Err(error) = GroupSet::from_yaml_str(&values(50_000)) else {
        panic!("50,000 values were accepted");
    };
    assert!(
        error
            .to_string()
            .contains("more than the limit of 10000 values"),
        "{:.200}",
        error.to_string()
    );
    let groups = GroupSet::from_yaml_str(&values(10_000)).unwrap();
    assert!(
        groups
            .evaluate(
                &serde_json::json!({"a": "9999"}),
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
