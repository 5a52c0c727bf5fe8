//! `cohort test`, the real binary: group unit tests printed like `cargo test`, JUnit XML,
//! exit codes 0 (all pass), 1 (a test fails), 2 (usage or load errors).

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

const GROUPS: &str = "groups:
  - name: Low Disk
    where: '[Free Disk %] < 10'
  - name: Windows
    where: OS starts with \"Microsoft Windows\"
  - name: Windows Low Disk
    where: member of Windows and member of 'Low Disk'
  - name: Seen Today
    where: Last Seen within last 24 hours
";

/// A directory with `groups.yaml` and the test files given, by name.
fn workspace(tests: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("groups.yaml"), GROUPS).unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    for (name, text) in tests {
        std::fs::write(dir.path().join("tests").join(name), text).unwrap();
    }
    dir
}

#[test]
fn the_shipped_example_tests_pass() {
    let run = cohort_in(
        &root(),
        &["test", "examples/tests", "--groups", "examples/groups"],
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("running "), "{}", run.stdout);
    let tests = lines
        .iter()
        .filter(|line| line.starts_with("test examples/tests/"))
        .count();
    assert!(
        lines
            .iter()
            .filter(|line| line.starts_with("test examples/tests/"))
            .all(|line| line.ends_with(" ... ok"))
    );
    assert!(tests >= 20, "{}", run.stdout);
    assert_eq!(
        lines.last().copied(),
        Some(format!("test result: ok. {tests} passed, 0 failed").as_str())
    );
}

#[test]
fn every_example_group_has_a_member_and_a_non_member_in_the_example_tests() {
    let groups = cohort::GroupSet::load(root().join("examples/groups")).unwrap();
    let read = cohort_load::read_test_paths(&[root().join("examples/tests")]);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let cases: Vec<&cohort_load::TestCase> = read.files.iter().flat_map(|f| &f.cases).collect();
    for name in groups.names() {
        let named = |list: fn(&cohort_load::TestCase) -> &Vec<cohort_load::Named>| {
            cases
                .iter()
                .any(|case| list(case).iter().any(|g| g.text == name))
        };
        assert!(named(|c| &c.member_of), "no member of `{name}`");
        assert!(named(|c| &c.not_member_of), "no non-member of `{name}`");
    }
}

#[test]
fn a_failing_test_prints_its_explanation_and_exits_1() {
    let dir = workspace(&[(
        "disk.test.yaml",
        "now: 2026-11-25T00:00:00Z
tests:
  - name: full disk
    machine: {OS: Microsoft Windows 11 Pro, Free Disk %: 4}
    member_of: [Low Disk, Windows Low Disk]
  - name: half full
    machine: {Free Disk %: 55}
    member_of: [Low Disk]
    not_member_of: [Windows]
",
    )]);
    let run = cohort_in(dir.path(), &["test", "tests", "--groups", "groups.yaml"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        r#"running 2 tests
test tests/disk.test.yaml::full disk ... ok
test tests/disk.test.yaml::half full ... FAILED

failures:

---- tests/disk.test.yaml::half full (line 6) ----
expected to be in `Low Disk`, but it is not
Low Disk: not a member
  FAIL  criterion 1: "Free Disk %" less than 10
        `Free Disk %` 55 is at or above 10, compared as numbers

failures:
    tests/disk.test.yaml::half full

test result: FAILED. 1 passed, 1 failed
"#
    );
}

#[test]
fn now_comes_from_the_test_then_the_file_then_the_command_line() {
    let dir = workspace(&[
        (
            "a.test.yaml",
            "tests:
  - name: seen an hour ago
    machine: {Last Seen: 2026-11-24T23:00:00Z}
    member_of: [Seen Today]
",
        ),
        (
            "b.test.yaml",
            "now: 2030-01-01T00:00:00Z
tests:
  - name: long ago for this file
    machine: {Last Seen: 2026-11-24T23:00:00Z}
    not_member_of: [Seen Today]
  - name: but not for this test
    now: 2026-11-25
    machine: {Last Seen: 2026-11-24T23:00:00Z}
    member_of: [Seen Today]
",
        ),
    ]);
    let args = [
        "test",
        "tests",
        "--groups",
        "groups.yaml",
        "--now",
        "2026-11-25T00:00:00Z",
    ];
    let run = cohort_in(dir.path(), &args);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .ends_with("test result: ok. 3 passed, 0 failed\n")
    );
    let run = cohort_in(dir.path(), &args[..4]);
    assert_eq!(
        run.code,
        Some(1),
        "the clock is past 2026-11-25: {}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("test tests/a.test.yaml::seen an hour ago ... FAILED")
    );
}

#[test]
fn unknown_groups_and_broken_files_are_located_errors_with_exit_2() {
    let dir = workspace(&[
        (
            "a.test.yaml",
            "tests:\n  - machine: {}\n    not_member_of: [Low Disc, Nothing Like It]\n",
        ),
        (
            "b.test.yaml",
            "tests:\n  - machine: {}\n    member: [Low Disk]\n",
        ),
    ]);
    let run = cohort_in(
        dir.path(),
        &["test", "tests/a.test.yaml", "--groups", "groups.yaml"],
    );
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "tests/a.test.yaml:3:21: no group named `Low Disc` (in test `case 1`)
  help: did you mean `Low Disk`?
tests/a.test.yaml:3:31: no group named `Nothing Like It` (in test `case 1`)
error: 2 problems found in the tests
"
    );
    let run = cohort_in(dir.path(), &["test", "tests", "--groups", "groups.yaml"]);
    assert_eq!(run.code, Some(2));
    assert_eq!(
        run.stderr,
        "tests/b.test.yaml:3:5: unknown key `member` in a test
  help: the keys are `name`, `machine`, `member_of`, `not_member_of`, `now`
error: 1 problem found in the tests
"
    );
    std::fs::write(
        dir.path().join("bad.yaml"),
        "name: G\nwhere: OS contans x\n",
    )
    .unwrap();
    let run = cohort_in(
        dir.path(),
        &["test", "tests/a.test.yaml", "--groups", "bad.yaml"],
    );
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("bad.yaml:2:"), "{}", run.stderr);
    assert!(
        run.stderr
            .ends_with("error: 1 problem found in the groups\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_paths_empty_directories_and_bad_usage_exit_2() {
    let dir = workspace(&[]);
    let run = cohort_in(dir.path(), &["test", "nowhere", "--groups", "groups.yaml"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.starts_with("nowhere: cannot read `nowhere`: "),
        "{}",
        run.stderr
    );
    let run = cohort_in(dir.path(), &["test", "tests", "--groups", "groups.yaml"]);
    assert_eq!(run.code, Some(2));
    assert_eq!(
        run.stderr,
        "error: no tests in `tests` (a directory is read for `*.test.yaml` and `*.test.yml` files; a file holds `tests:`, a list of tests)\n"
    );
    let run = cohort_in(dir.path(), &["test", "tests"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--groups"), "{}", run.stderr);
    let run = cohort_in(
        dir.path(),
        &["test", "tests", "--groups", "groups.yaml", "--now", "soon"],
    );
    assert_eq!(run.code, Some(2));
}

#[test]
fn junit_xml_is_written_escaped_and_replaces_an_old_report() {
    let dir = workspace(&[(
        "x.test.yaml",
        "now: 2026-11-25T00:00:00Z
tests:
  - name: passes <&>
    machine: {Free Disk %: 4}
    member_of: [Low Disk]
  - name: \"fails \\\"quoted\\\"\"
    machine: {OS: \"Microsoft Windows <11> & 'co' \\e[31m\"}
    not_member_of: [Windows]
",
    )]);
    let report = dir.path().join("report.xml");
    std::fs::write(&report, "old").unwrap();
    let run = cohort_in(
        dir.path(),
        &[
            "test",
            "tests",
            "--groups",
            "groups.yaml",
            "--junit",
            "report.xml",
        ],
    );
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("test tests/x.test.yaml::fails \"quoted\" ... FAILED"),
        "the terminal sees the escape as text: {}",
        run.stdout
    );
    let xml = std::fs::read_to_string(&report).unwrap();
    assert_eq!(
        xml,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<testsuites name=\"cohort test\" tests=\"2\" failures=\"1\">\n",
            "  <testsuite name=\"tests/x.test.yaml\" tests=\"2\" failures=\"1\">\n",
            "    <testcase name=\"passes &lt;&amp;&gt;\" classname=\"tests/x.test.yaml\" file=\"tests/x.test.yaml\" line=\"3\"/>\n",
            "    <testcase name=\"fails &quot;quoted&quot;\" classname=\"tests/x.test.yaml\" file=\"tests/x.test.yaml\" line=\"6\">\n",
            "      <failure message=\"expected not to be in `Windows`, but it is\" type=\"membership\">",
            "expected not to be in `Windows`, but it is&#10;Windows: member&#10;",
            "  pass  criterion 1: OS starts with &quot;Microsoft Windows&quot;&#10;",
            "        `OS` starts with &quot;microsoft windows&quot; (&quot;Microsoft Windows &lt;11&gt; &amp; &apos;co&apos; \\u{1b}[31m&quot;)&#10;",
            "</failure>\n",
            "    </testcase>\n",
            "  </testsuite>\n",
            "</testsuites>\n",
        )
    );
}
