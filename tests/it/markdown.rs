//! Markdown import: the seed document converts, and evaluates like the hand-written group.

use cohort::{GroupSet, Timestamp};

fn doc(name: &str) -> (String, String) {
    let path = crate::root().join("tests/data/markdown").join(name);
    (
        format!("tests/data/markdown/{name}"),
        std::fs::read_to_string(path).unwrap(),
    )
}

#[test]
fn the_seed_document_evaluates_like_the_hand_written_example() {
    let (name, text) = doc("bitlocker-key-missing.md");
    let yaml = cohort::import_markdown(&name, &text).unwrap();
    let imported = GroupSet::from_yaml_str(&yaml).unwrap();
    let written =
        GroupSet::load(crate::root().join("examples/groups/bitlocker/bitlocker-key-missing.yaml"))
            .unwrap();
    assert_eq!(
        imported.names().collect::<Vec<_>>(),
        ["BitLocker Key Missing"]
    );
    let fleet = cohort_testkit::fleet::generate(1000, cohort_testkit::fleet::EXAMPLE_SEED);
    let now = Timestamp::parse(cohort_testkit::fleet::EXAMPLE_NOW).unwrap();
    let a = imported.evaluate_fleet(&fleet, now);
    let b = written.evaluate_fleet(&fleet, now);
    assert!(
        !a.members(imported.id("BitLocker Key Missing").unwrap())
            .is_empty()
    );
    assert_eq!(a, b);
}

#[test]
fn several_blocks_rows_and_values_and_the_logic_sentence() {
    let (name, text) = doc("windows-servers-attention.md");
    let yaml = cohort::import_markdown(&name, &text).unwrap();
    let groups = GroupSet::from_yaml_str(&yaml).unwrap();
    let now = Timestamp::UNIX_EPOCH;
    let pending =
        serde_json::json!({"OS": "Microsoft Windows Server 2022", "Pending Reboot": true});
    let old_agent =
        serde_json::json!({"OS": "Windows Server 2016", "Agent Version": "2023.1.1", "Site": "HQ"});
    let unassigned = serde_json::json!({"OS": "Windows Server 2016", "Agent Version": "2023.1.1"});
    let name = "Windows Servers Needing Attention";
    assert!(groups.evaluate(&pending, now).contains(name));
    assert!(groups.evaluate(&old_agent, now).contains(name));
    assert!(
        !groups.evaluate(&unassigned, now).contains(name),
        "Is Blank False: the site must be set"
    );
}

#[test]
fn rows_that_cannot_be_read_are_reported_with_their_lines() {
    let (name, text) = doc("broken-rows.md");
    let error = cohort::import_markdown(&name, &text).unwrap_err();
    let found: Vec<(usize, &str)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.line().unwrap(), d.message()))
        .collect();
    assert_eq!(
        found,
        [
            (11, "block `one` is not a number"),
            (12, "unknown operator `Les than`"),
            (13, "row has no criteria name"),
            (14, "row has 3 cells, expected 4"),
        ]
    );
    assert_eq!(
        error.diagnostics()[1].help(),
        Some("did you mean `less than`?")
    );
}

#[test]
fn check_errors_point_at_the_table_row() {
    let text = "---\ntitle: T\n---\n## Group Criteria\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n| 1 | Agent Version | Less than | `soon` |\n";
    let error = cohort::import_markdown("t.md", text).unwrap_err();
    let diagnostic = &error.diagnostics()[0];
    assert_eq!(
        (diagnostic.file(), diagnostic.line()),
        (Some("t.md"), Some(7))
    );
    assert!(diagnostic.message().contains("`soon` is none of these"));
}

#[test]
fn the_cli_writes_new_files_and_never_overwrites_without_force() {
    let dir = std::env::temp_dir().join(format!("cohort-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let seed = crate::root()
        .join("tests/data/markdown/bitlocker-key-missing.md")
        .display()
        .to_string();
    let out = dir.display().to_string();
    let run = |args: &[&str]| {
        let mut stdout = Vec::new();
        let code = cohort_cli::run(
            std::iter::once("cohort").chain(args.iter().copied()),
            &mut stdout,
            &mut Vec::new(),
        );
        (code, String::from_utf8(stdout).unwrap())
    };
    let (code, text) = run(&["import", &seed, "--out", &out]);
    assert_eq!(code, 0, "{text}");
    let written = dir.join("bitlocker-key-missing.yaml");
    assert!(GroupSet::load(&written).is_ok());
    std::fs::write(&written, "# edited by hand\n").unwrap();
    let (code, text) = run(&["import", &seed, "--out", &out]);
    assert_eq!(code, 1);
    assert!(
        text.contains("exists; not overwritten (use --force)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        "# edited by hand\n"
    );
    let (code, _) = run(&["import", &seed, "--out", &out, "--force"]);
    assert_eq!(code, 0);
    assert!(GroupSet::load(&written).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
