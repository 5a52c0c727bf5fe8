//! Group unit tests: sample machines and the groups each must and must not be in, run
//! offline against a [`GroupSet`] (`cohort test`). Each failure carries the [`Explanation`]
//! of why the machine is, or is not, in the group.
//!
//! The file format is described in the README ("`cohort test`") and in `cohort-load`
//! (`read_test_file`).

use crate::{Diagnostic, Error, Explanation, GroupSet, Timestamp, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Group unit tests read from test files: every test of every file, not yet run.
///
/// ```
/// let tests = cohort::GroupTests::from_yaml_named("disk.test.yaml", r#"
/// tests:
///   - name: full disk
///     machine: {Free Disk %: 4}
///     member_of: [Low Disk]
///   - machine: {Free Disk %: 55}
///     not_member_of: [Low Disk]
/// "#).unwrap();
/// assert_eq!(tests.len(), 2);
///
/// let error = cohort::GroupTests::from_yaml_named("t.yaml", "tests:\n  - machine: {}\n    membr_of: [Low Disk]\n").unwrap_err();
/// assert_eq!(error.diagnostics()[0].to_string(), "t.yaml:3:5: unknown key `membr_of` in a test\n  help: did you mean `member_of`?");
/// ```
#[derive(Clone, Debug)]
pub struct GroupTests {
    files: Vec<cohort_load::TestFile>,
}

impl GroupTests {
    /// Reads test files and directories: a file named is read whatever its name, a
    /// directory recursively for `*.test.yaml` and `*.test.yml` files (in name order).
    /// Every problem of every file is reported.
    pub fn load_all<P: AsRef<Path>>(paths: &[P]) -> Result<GroupTests, Error> {
        let read = cohort_load::read_test_paths(paths);
        if read.errors.is_empty() {
            Ok(GroupTests { files: read.files })
        } else {
            Err(Error {
                diagnostics: read.errors.iter().map(Diagnostic::from_test_file).collect(),
            })
        }
    }

    /// Reads one test file's text; `name` stands for it in messages and test names.
    pub fn from_yaml_named(name: &str, text: &str) -> Result<GroupTests, Error> {
        match cohort_load::read_test_file(name, text) {
            Ok(file) => Ok(GroupTests { files: vec![file] }),
            Err(errors) => Err(Error {
                diagnostics: errors.iter().map(Diagnostic::from_test_file).collect(),
            }),
        }
    }

    /// The number of tests.
    pub fn len(&self) -> usize {
        self.files.iter().map(|file| file.cases.len()).sum()
    }

    /// Whether there are no tests.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names of the files read, in the order read.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|file| file.name.as_str())
    }
}

/// What a test expected of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The machine must be a member (`member_of`).
    Member,
    /// The machine must not be a member (`not_member_of`).
    NotMember,
}

/// One expectation of a test that did not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFailure {
    /// The group.
    pub group: String,
    /// What the test expected.
    pub expected: Expected,
    /// Why the machine is, or is not, in the group.
    pub explanation: Explanation,
}

/// The result of one test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    /// The test file (its path as given).
    pub file: String,
    /// The test's name.
    pub name: String,
    /// The line of the test in its file.
    pub line: usize,
    /// Every expectation that did not hold, in the order written (none: the test passed).
    pub failures: Vec<TestFailure>,
}

impl TestOutcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The results of [`GroupSet::run_tests`], one per test, in the order read.
#[derive(Clone, Debug, PartialEq)]
pub struct TestReport {
    /// The outcomes.
    pub outcomes: Vec<TestOutcome>,
}

impl TestReport {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed()).count()
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }

    /// Whether every test passed.
    pub fn success(&self) -> bool {
        self.outcomes.iter().all(TestOutcome::passed)
    }
}

/// Reports a problem at a node of a test file: file, node, message, help.
type Report<'r> = dyn FnMut(&str, &cohort_load::Named, String, Option<String>) + 'r;

impl GroupSet {
    /// Runs group unit tests: evaluates each sample machine (at the test's `now`, else its
    /// file's, else `now`) and checks the groups it must and must not be in. A group name
    /// that is not in the set, or a `now` that is not a time, is an error (every one is
    /// reported, with the nearest group name); a failed test is not an error, but an
    /// outcome with the explanation of each expectation that did not hold.
    ///
    /// ```
    /// use cohort::{Expected, GroupSet, GroupTests, Timestamp};
    ///
    /// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'\n").unwrap();
    /// let tests = GroupTests::from_yaml_named("disk.test.yaml", r#"
    /// tests:
    ///   - machine: {Free Disk %: 4}
    ///     member_of: [Low Disk]
    ///   - name: half full
    ///     machine: {Free Disk %: 55}
    ///     member_of: [Low Disk]
    /// "#).unwrap();
    /// let report = groups.run_tests(&tests, Timestamp::UNIX_EPOCH).unwrap();
    /// assert_eq!((report.passed(), report.failed()), (1, 1));
    /// let failure = &report.outcomes[1].failures[0];
    /// assert_eq!(failure.expected, Expected::Member);
    /// assert!(!failure.explanation.matched);
    /// assert!(failure.explanation.to_string().contains("`Free Disk %` 55 is at or above 10, compared as numbers"));
    ///
    /// let typo = GroupTests::from_yaml_named("t.yaml", "tests:\n- {machine: {}, member_of: [Low Disc]}\n").unwrap();
    /// let error = groups.run_tests(&typo, Timestamp::UNIX_EPOCH).unwrap_err();
    /// assert_eq!(error.diagnostics()[0].to_string(), "t.yaml:2:29: no group named `Low Disc` (in test `case 1`)\n  help: did you mean `Low Disk`?");
    /// ```
    pub fn run_tests(&self, tests: &GroupTests, now: Timestamp) -> Result<TestReport, Error> {
        let mut diagnostics = Vec::new();
        let mut at = |file: &str, named: &cohort_load::Named, message: String, help| {
            diagnostics.push(
                Diagnostic {
                    file: Some(file.to_owned()),
                    line: Some(named.position.line),
                    column: Some(named.position.column),
                    group: None,
                    criterion: None,
                    message,
                    help,
                    snippet: None,
                }
                .bounded(),
            );
        };
        let mut planned = Vec::with_capacity(tests.len());
        for file in &tests.files {
            // A `now:` that is not a time is an error at it; the time around it stands in.
            let now_of = |at: &mut Report<'_>,
                          written: Option<&cohort_load::Named>,
                          around: Timestamp| match written.map(timed) {
                Some((named, None)) => {
                    at(
                        &file.name,
                        named,
                        not_a_time(&named.text),
                        Some(TIME_HELP.to_owned()),
                    );
                    around
                }
                Some((_, Some(time))) => time,
                None => around,
            };
            let file_now = now_of(&mut at, file.now.as_ref(), now);
            for case in &file.cases {
                let case_now = now_of(&mut at, case.now.as_ref(), file_now);
                let expectations = case
                    .member_of
                    .iter()
                    .map(|g| (g, Expected::Member))
                    .chain(case.not_member_of.iter().map(|g| (g, Expected::NotMember)));
                for (group, _) in expectations.clone() {
                    if self.id(&group.text).is_none() {
                        let help = crate::syntax::nearest(&group.text, self.names())
                            .map(|name| format!("did you mean `{name}`?"));
                        at(
                            &file.name,
                            group,
                            format!("no group named `{}` (in test `{}`)", group.text, case.name),
                            help,
                        );
                    }
                }
                planned.push((file, case, case_now, expectations));
            }
        }
        if !diagnostics.is_empty() {
            return Err(Error { diagnostics });
        }
        let outcomes = planned
            .into_iter()
            .map(|(file, case, now, expectations)| {
                let machine: BTreeMap<String, Value> = case
                    .machine
                    .iter()
                    .map(|(name, value)| (name.clone(), value_of(value)))
                    .collect();
                let failures = expectations
                    .filter_map(|(group, expected)| {
                        let explanation = self.explain(&machine, &group.text, now)?;
                        let held = explanation.matched == (expected == Expected::Member);
                        (!held).then(|| TestFailure {
                            group: group.text.clone(),
                            expected,
                            explanation,
                        })
                    })
                    .collect();
                TestOutcome {
                    file: file.name.clone(),
                    name: case.name.clone(),
                    line: case.position.line,
                    failures,
                }
            })
            .collect();
        Ok(TestReport { outcomes })
    }
}

/// A `now` as written, and the time it reads as.
fn timed(named: &cohort_load::Named) -> (&cohort_load::Named, Option<Timestamp>) {
    (named, Timestamp::parse(&named.text))
}

const TIME_HELP: &str = "write an RFC 3339 time such as 2026-11-25T00:00:00Z, or a date";

fn not_a_time(text: &str) -> String {
    format!("`now` is not a time: `{text}`")
}

/// A test machine's attribute as the engine reads it, as a YAML machines file gives it:
/// numbers as numbers, flags as flags, texts as texts.
fn value_of(data: &cohort_load::YamlData) -> Value {
    use cohort_load::YamlData;
    match data {
        // The test file reader never gives a mapping as a value (it is an error there).
        YamlData::Null | YamlData::Map(_) => Value::Null,
        YamlData::Bool(flag) => Value::Bool(*flag),
        // As JSON numbers are read: to the nearest double.
        #[allow(clippy::cast_precision_loss)]
        YamlData::Int(int) => Value::Number(*int as f64),
        YamlData::Float(float) => Value::Number(*float),
        YamlData::Text(text) => Value::Text(text.clone()),
        YamlData::List(items) => Value::List(items.iter().map(value_of).collect()),
    }
}

impl Diagnostic {
    fn from_test_file(error: &cohort_load::TestFileError) -> Diagnostic {
        let position = error.position();
        Diagnostic {
            file: Some(error.file()),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            group: None,
            criterion: None,
            message: error.to_string(),
            help: error.help(),
            snippet: None,
        }
        .bounded()
    }
}
