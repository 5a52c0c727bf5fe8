// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// Every problem of `text` as `(line, column, message)`.
fn problems(text: &str) -> Vec<(usize, usize, String)> {
    read_test_file("t.test.yaml", text)
        .expect_err("the file has problems")
        .iter()
        .map(|error| {
            let position = error.position().expect("inside the file");
            (position.line, position.column, error.to_string())
        })
        .collect()
}

#[test]
fn reads_tests_with_names_machines_groups_and_times() {
    let file = read_test_file(
        "t.test.yaml",
        "now: 2026-11-25T00:00:00Z
tests:
  - name: laptop without a key
    machine:
      OS: Microsoft Windows 11 Pro
      Free Disk %: 4.5
      Pending Reboot: true
      Agent Version: 2024.1.0
      Quoted: '12'
      Disk: 12
      Tags: [a, b]
      Nothing: ~
    member_of: [BitLocker Key Missing, Windows]
    not_member_of: Servers
  - machine: {}
    not_member_of: [Windows]
    now: 2026-01-01T00:00:00Z
",
    )
    .unwrap();
    assert_eq!(
        file.now.as_ref().map(|n| n.text.as_str()),
        Some("2026-11-25T00:00:00Z")
    );
    let [first, second] = &file.cases[..] else {
        panic!("two tests: {file:?}")
    };
    assert_eq!(first.name, "laptop without a key");
    assert_eq!(first.position, Position { line: 3, column: 5 });
    assert_eq!(
        first.machine,
        [
            (
                "OS".into(),
                YamlData::Text("Microsoft Windows 11 Pro".into())
            ),
            ("Free Disk %".into(), YamlData::Float(4.5)),
            ("Pending Reboot".into(), YamlData::Bool(true)),
            ("Agent Version".into(), YamlData::Text("2024.1.0".into())),
            ("Quoted".into(), YamlData::Text("12".into())),
            ("Disk".into(), YamlData::Int(12)),
            (
                "Tags".into(),
                YamlData::List(vec![YamlData::Text("a".into()), YamlData::Text("b".into())])
            ),
            ("Nothing".into(), YamlData::Null),
        ]
    );
    let names: Vec<(&str, usize, usize)> = first
        .member_of
        .iter()
        .chain(&first.not_member_of)
        .map(|n| (n.text.as_str(), n.position.line, n.position.column))
        .collect();
    assert_eq!(
        names,
        [
            ("BitLocker Key Missing", 13, 17),
            ("Windows", 13, 40),
            ("Servers", 14, 20)
        ]
    );
    assert_eq!(second.name, "case 2");
    assert!(second.machine.is_empty() && second.member_of.is_empty());
    assert_eq!(second.now.as_ref().map(|n| n.position.line), Some(17));
}

#[test]
fn several_documents_and_empty_ones_are_read() {
    let file = read_test_file(
        "t.test.yaml",
        "\u{FEFF}---\n---\ntests:\n- {machine: {}, member_of: [A]}\n---\ntests:\n- {machine: {}, member_of: [B]}\n",
    )
    .unwrap();
    let names: Vec<&str> = file.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["case 1", "case 2"]);
    assert!(read_test_file("t", "").unwrap().cases.is_empty());
    assert!(read_test_file("t", "tests:\n").unwrap().cases.is_empty());
}

#[test]
fn unknown_keys_are_reported_with_the_nearest_key() {
    let errors = read_test_file("t.test.yaml", "test:\n  - machine: {}\n").unwrap_err();
    assert_eq!(errors[0].to_string(), "unknown key `test` in a test file");
    assert_eq!(errors[0].help().as_deref(), Some("did you mean `tests`?"));
    assert_eq!(
        errors.len(),
        1,
        "the missing `tests` is the misspelt key: {errors:?}"
    );
    let errors = read_test_file(
        "t.test.yaml",
        "tests:\n  - machine: {}\n    not_memberof: [A]\n    colour: red\n",
    )
    .unwrap_err();
    let helps: Vec<Option<String>> = errors.iter().map(TestFileError::help).collect();
    assert_eq!(
        helps,
        [
            Some("did you mean `not_member_of`?".to_owned()),
            Some("the keys are `name`, `machine`, `member_of`, `not_member_of`, `now`".to_owned()),
        ]
    );
}

#[test]
fn wrong_types_are_errors_at_their_node() {
    let text = "tests:
  - name: [a]
    machine: {}
    member_of: [A]
  - machine: [OS, Windows]
    member_of: [A]
  - machine: {OS: {name: Windows}}
    member_of: [[A], ~]
  - machine: {}
    member_of: {A: true}
  - just text
";
    assert_eq!(
        problems(text),
        [
            (
                2,
                11,
                "a test's `name` must be text, found a list".to_owned()
            ),
            (
                5,
                14,
                "`machine` must be a mapping of attributes, found a list".to_owned()
            ),
            (
                7,
                19,
                "attribute `OS` must be text, a number, a flag or a list, found a mapping"
                    .to_owned()
            ),
            (
                8,
                17,
                "a group name in `member_of` must be text, found a list".to_owned()
            ),
            (
                8,
                22,
                "a group name in `member_of` must be text, found nothing (null)".to_owned()
            ),
            (
                10,
                16,
                "`member_of` must be a list of group names, found a mapping".to_owned()
            ),
            (11, 5, "a test must be a mapping, found text".to_owned()),
        ]
    );
    assert_eq!(
        problems("- machine: {}\n"),
        [(
            1,
            1,
            "a test file must be a mapping, found a list".to_owned()
        )]
    );
    assert_eq!(
        problems("tests: 3\n"),
        [(
            1,
            8,
            "`tests` must be a list of tests, found text".to_owned()
        )]
    );
    assert_eq!(
        problems("now: [1]\ntests: []\n"),
        [(1, 6, "`now` must be text, found a list".to_owned())]
    );
}

#[test]
fn missing_parts_duplicates_and_contradictions_are_errors() {
    let text = "tests:
  - name: a
    member_of: [A]
  - name: b
    machine: {}
  - name: c
    machine: {OS: x, OS: y}
    member_of: [A]
    member_of: [B]
  - name: d
    machine: {}
    member_of: [A, B]
    not_member_of: [B]
  - name: d
    machine: {}
    member_of: [A]
  - {machine: {}, member_of: [A], {x: 1}: 2}
";
    let found = problems(text);
    assert_eq!(
        found,
        [
            (2, 5, "test `a` has no `machine`".to_owned()),
            (4, 5, "test `b` names no group to check".to_owned()),
            (9, 5, "key `member_of` is given twice".to_owned()),
            (7, 22, "attribute `OS` is given twice".to_owned()),
            (
                13,
                21,
                "test `d` lists `B` under both `member_of` and `not_member_of`".to_owned()
            ),
            (17, 35, "a key must be text, found a mapping".to_owned()),
            (14, 5, "test `d` is defined twice in this file".to_owned()),
        ]
    );
    let errors = read_test_file("t", text).unwrap_err();
    assert_eq!(
        errors.last().and_then(TestFileError::help).as_deref(),
        Some("the first is at line 10; give each test its own `name`")
    );
    assert_eq!(
        problems("now: x\n"),
        [(1, 1, "the test file has no `tests`".to_owned())]
    );
}

#[test]
fn yaml_errors_and_hostile_yaml_are_errors_not_hangs() {
    let found = problems("tests:\n  - machine: {OS: [x}\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 2);
    let deep = format!(
        "tests:\n- machine: {{A: {}{}}}\n  member_of: [A]\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let found = problems(&deep);
    assert!(found[0].2.contains("nested"), "{found:?}");
    let bomb = format!(
        "a: &a [{}]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        "x".repeat(1000)
    );
    let found = problems(&bomb);
    assert!(found[0].2.contains("aliases"), "{found:?}");
    let text = "tests:\n  - machine: {OS: \u{202e}x}\n    member_of: [\"\u{1b}[31m\"]\n";
    let file = read_test_file("t", text).unwrap();
    assert_eq!(file.cases[0].member_of[0].text, "\u{1b}[31m");
}

#[test]
fn huge_long_and_strange_inputs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.test.yaml");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(Limits::default().max_file_bytes + 1).unwrap();
    let not_utf8 = dir.path().join("bytes.test.yaml");
    std::fs::write(&not_utf8, b"tests:\n- machine: {OS: \xff}\n").unwrap();
    let ignored = dir.path().join("groups.yaml");
    std::fs::write(&ignored, "not: a test").unwrap();
    let read = read_test_paths(&[dir.path()]);
    let messages: Vec<String> = read.errors.iter().map(ToString::to_string).collect();
    assert_eq!(read.files.len(), 0);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("not valid UTF-8 text (first invalid byte at 2:17)"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("is over the limit of 16777216 bytes for a test file"),
        "{messages:?}"
    );
    let missing = read_test_paths(&[dir.path().join("nowhere.test.yaml")]);
    assert!(matches!(missing.errors[..], [TestFileError::Io { .. }]));
    // A file named on the command line is read whatever its name.
    let named = read_test_paths(&[&ignored]);
    assert_eq!(
        named.errors[0].to_string(),
        "unknown key `not` in a test file"
    );
    assert_eq!(named.errors[0].file(), ignored.display().to_string());
}

#[test]
fn directories_are_bounded_and_links_stay_inside() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_owned();
    for level in 0..20 {
        deep = deep.join(format!("d{level}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.test.yaml");
    std::fs::write(&secret, "tests: []\n").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("link.test.yaml")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let read = read_test_paths(&[dir.path()]);
    let kinds: Vec<&str> = read
        .errors
        .iter()
        .map(|error| match error {
            TestFileError::TooDeep { limit: 16, .. } => "deep",
            TestFileError::LinkOutside { .. } => "outside",
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(kinds, ["deep", "outside"]);
}

#[test]
fn fifos_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.test.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|status| status.success()) {
        return;
    }
    let read = read_test_paths(&[&fifo]);
    assert!(matches!(read.errors[..], [TestFileError::NotAFile { .. }]));
    let read = read_test_paths(&[dir.path()]);
    assert!(matches!(read.errors[..], [TestFileError::NotAFile { .. }]));
}

/// No input makes the reader panic: every prefix of a valid file, and random bytes.
#[test]
fn truncated_files_never_panic() {
    let text = "now: 2026-11-25T00:00:00Z\ntests:\n  - name: \"é\"\n    machine: {OS: [a, [b]], 'x': 1}\n    member_of: [A]\n    not_member_of: B\n";
    for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
        let _ = read_test_file("t", &text[..end]);
    }
}

/// A test name with a line break would forge lines of the report (`fake ... ok`): it is an
/// error at the name.
#[test]
fn test_names_with_control_characters_are_errors() {
    let text = "tests:\n  - name: \"n\\nfake ... ok\"\n    machine: {}\n    member_of: [A]\n  - name: \"tab\\there\"\n    machine: {}\n    member_of: [A]\n";
    assert_eq!(
        problems(text),
        [
            (
                2,
                11,
                "a test's `name` must be text on one line (no line breaks, tabs or other control characters), found text with a control character".to_owned()
            ),
            (
                5,
                11,
                "a test's `name` must be text on one line (no line breaks, tabs or other control characters), found text with a control character".to_owned()
            ),
        ]
    );
}

/// A number past a float's range is kept as the text written, which the engine does not
/// read as a number (a machines file gives the same answer).
#[test]
fn numbers_past_a_floats_range_stay_text() {
    let file = crate::read_test_file(
        "t.test.yaml",
        "tests:\n  - machine: {Disk: 1e999, Small: 12.5}\n    member_of: [A]\n",
    )
    .unwrap();
    let machine = &file.cases[0].machine;
    assert!(
        machine
            .iter()
            .any(|(k, v)| k == "Disk" && *v == crate::YamlData::Text("1e999".into())),
        "{machine:?}"
    );
    assert!(
        machine
            .iter()
            .any(|(k, v)| k == "Small" && *v == crate::YamlData::Float(12.5)),
        "{machine:?}"
    );
}
