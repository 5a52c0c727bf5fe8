//! Group unit tests: YAML files of sample machines, each with the groups it must be in and
//! the groups it must not be in (`cohort test`).
//!
//! ```yaml
//! now: 2026-11-25T00:00:00Z          # optional: the evaluation time for relative dates
//! tests:
//!   - name: laptop without a key     # optional: `case N` otherwise
//!     machine:                       # the machine's attributes, as in a YAML machines file
//!       OS: Microsoft Windows 11 Pro
//!       BitLocker Key Backup Status: Not Available
//!     member_of: [BitLocker Key Missing]
//!     not_member_of: [BitLocker Key Backup Failed]
//!     now: 2026-11-25T00:00:00Z      # optional, for this test only
//! ```
//!
//! A file may hold several such documents separated by `---`. Everything is read with its
//! position, so every problem names the file, line and column; every problem of a file is
//! reported, not only the first. Group names are not checked here (this crate does not know
//! the groups): the caller checks each [`Named`] against the group set.
//!
//! Test files are bounded like definitions files: 16 MiB a file (counted as read), YAML
//! nested at most 64 deep, aliases standing for at most 16 MiB, 32 MiB in all, directories
//! 16 levels deep, regular files only.

use crate::Position;
use crate::data::{YamlData, resolve};
use crate::index::TextIndex;
use crate::yaml::{self, Kind, NodeId, Style, Tree, YamlLimits};
use crate::{Limits, ReadError, read_bounded};
use std::path::{Path, PathBuf};

/// The keys of a test file's document.
const FILE_KEYS: &[&str] = &["now", "tests"];
/// The keys of one test.
const CASE_KEYS: &[&str] = &["name", "machine", "member_of", "not_member_of", "now"];

/// A text of a test file with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    /// The text as written.
    pub text: String,
    /// Where it starts.
    pub position: Position,
}

/// One test: a sample machine and the groups it must and must not be in.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCase {
    /// The test's name (`case N` when none is given, N counted from 1 in the file).
    pub name: String,
    /// Where the test starts.
    pub position: Position,
    /// The machine's attributes, in the order written. Values are never mappings: a scalar
    /// (resolved as YAML 1.2's core schema reads it, as in a YAML machines file) or a list.
    pub machine: Vec<(String, YamlData)>,
    /// The groups the machine must be in.
    pub member_of: Vec<Named>,
    /// The groups the machine must not be in.
    pub not_member_of: Vec<Named>,
    /// The evaluation time for this test, as written (RFC 3339), when given.
    pub now: Option<Named>,
}

/// A test file read: its tests, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFile {
    /// The file's path as given, or the name given with the text.
    pub name: String,
    /// The evaluation time of the file's tests, as written, when given (of the first
    /// document that gives one; a test's own `now` comes first).
    pub now: Option<Named>,
    /// The tests.
    pub cases: Vec<TestCase>,
}

/// A problem in a test file, or reading one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestFileError {
    /// The file or directory could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`Limits::max_file_bytes`].
    #[error("`{}` is over the limit of {limit} bytes for a test file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The test files read exceed [`Limits::max_total_bytes`] in all.
    #[error("`{}` was not read: the test files read exceed the limit of {limit} bytes in all", path.display())]
    TotalTooLarge {
        /// The first file not read.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The path is neither a regular file nor a directory.
    #[error("`{}` is not a regular file: only files and directories of tests are read", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A directory tree deeper than [`Limits::max_dir_depth`].
    #[error("`{}` is nested deeper than the limit of {limit} directory levels", path.display())]
    TooDeep {
        /// The directory not entered.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// A symbolic link found in a directory that leads outside it.
    #[error("`{}` is a link that leads outside `{}`: not read", path.display(), root.display())]
    LinkOutside {
        /// The link.
        path: PathBuf,
        /// The directory named by the user.
        root: PathBuf,
    },
    /// The file is not UTF-8 text.
    #[error("`{}` is not valid UTF-8 text (first invalid byte at {position})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the first invalid byte is.
        position: Position,
    },
    /// A problem inside a test file, at a position in it.
    #[error("{problem}")]
    InFile {
        /// The file's path as given, or the name given with the text.
        file: String,
        /// Where the problem is (for a name or key given twice, the second one; for a
        /// missing key, the mapping without it).
        position: Position,
        /// What is wrong.
        problem: TestProblem,
    },
}

/// What is wrong inside a test file (see [`TestFileError::InFile`], which says where).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestProblem {
    /// The text is not YAML, or is over a YAML limit (nesting, aliases).
    #[error("{message}")]
    Yaml {
        /// What is wrong.
        message: String,
        /// A likely fix.
        help: Option<String>,
    },
    /// A key that a test file or a test does not have.
    #[error("unknown key `{key}` in {what}")]
    UnknownKey {
        /// The key written.
        key: String,
        /// "a test file" or "a test".
        what: &'static str,
        /// The keys allowed there.
        allowed: &'static [&'static str],
        /// The nearest allowed key.
        suggestion: Option<&'static str>,
    },
    /// A key (or a machine attribute) written twice in one mapping.
    #[error("{what} `{key}` is given twice")]
    DuplicateKey {
        /// "key" or "attribute".
        what: &'static str,
        /// The key.
        key: String,
    },
    /// A node of the wrong kind.
    #[error("{what} must be {expected}, found {found}")]
    WrongType {
        /// What the node is for.
        what: String,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A required key is missing.
    #[error("{what} has no `{key}`")]
    Missing {
        /// What lacks it.
        what: String,
        /// The key.
        key: &'static str,
    },
    /// Two tests of a file have the same name.
    #[error("test `{name}` is defined twice in this file")]
    DuplicateCase {
        /// The name.
        name: String,
        /// Where the first one is.
        first: Position,
    },
    /// A test that names no group.
    #[error("test `{name}` names no group to check")]
    NoExpectation {
        /// The test.
        name: String,
    },
    /// A group that a test names under both `member_of` and `not_member_of`.
    #[error("test `{name}` lists `{group}` under both `member_of` and `not_member_of`")]
    Contradiction {
        /// The test.
        name: String,
        /// The group.
        group: String,
    },
}

impl TestFileError {
    /// The file the problem is in (its path as given).
    pub fn file(&self) -> String {
        match self {
            TestFileError::Io { path, .. }
            | TestFileError::TooLarge { path, .. }
            | TestFileError::TotalTooLarge { path, .. }
            | TestFileError::NotAFile { path }
            | TestFileError::TooDeep { path, .. }
            | TestFileError::LinkOutside { path, .. }
            | TestFileError::NotUtf8 { path, .. } => path.display().to_string(),
            TestFileError::InFile { file, .. } => file.clone(),
        }
    }

    /// Where in the file, when the problem is inside it.
    pub fn position(&self) -> Option<Position> {
        match self {
            TestFileError::Io { .. }
            | TestFileError::TooLarge { .. }
            | TestFileError::TotalTooLarge { .. }
            | TestFileError::NotAFile { .. }
            | TestFileError::TooDeep { .. }
            | TestFileError::LinkOutside { .. } => None,
            TestFileError::NotUtf8 { position, .. } | TestFileError::InFile { position, .. } => {
                Some(*position)
            }
        }
    }

    /// A likely fix.
    pub fn help(&self) -> Option<String> {
        match self {
            TestFileError::InFile { problem, .. } => problem.help(),
            _ => None,
        }
    }
}

impl TestProblem {
    /// A likely fix.
    pub fn help(&self) -> Option<String> {
        match self {
            TestProblem::Yaml { help, .. } => help.clone(),
            TestProblem::UnknownKey {
                suggestion: Some(key),
                ..
            } => Some(format!("did you mean `{key}`?")),
            TestProblem::UnknownKey { allowed, .. } => Some(format!(
                "the keys are {}",
                allowed
                    .iter()
                    .map(|key| format!("`{key}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            TestProblem::DuplicateCase { first, .. } => {
                Some(format!("the first is at line {}; give each test its own `name`", first.line))
            }
            TestProblem::NoExpectation { .. } => Some(
                "list the groups the machine must be in under `member_of`, and those it must not be in under `not_member_of`".to_owned(),
            ),
            TestProblem::Missing { key: "machine", .. } => Some(
                "give the sample machine's attributes: `machine: {OS: Microsoft Windows 11 Pro}`"
                    .to_owned(),
            ),
            TestProblem::Missing { key: "tests", .. } => {
                Some("a test file is `tests:` followed by a list of tests".to_owned())
            }
            _ => None,
        }
    }
}

/// Reads the test file `text`; `name` stands for it in messages. Every problem is reported
/// (a file with any problem gives no tests).
///
/// ```
/// let file = cohort_load::read_test_file("bitlocker.test.yaml", "tests:\n  - machine: {OS: Windows 11}\n    member_of: [Windows]\n").unwrap();
/// assert_eq!(file.cases[0].name, "case 1");
/// assert_eq!(file.cases[0].member_of[0].text, "Windows");
/// assert_eq!(file.cases[0].member_of[0].position.line, 3);
///
/// let errors = cohort_load::read_test_file("t.yaml", "tests:\n  - machine: {}\n    membr_of: [Windows]\n").unwrap_err();
/// assert_eq!(errors[0].to_string(), "unknown key `membr_of` in a test");
/// assert_eq!(errors[0].position().map(|p| (p.line, p.column)), Some((3, 5)));
/// assert_eq!(errors[0].help().as_deref(), Some("did you mean `member_of`?"));
/// ```
pub fn read_test_file(name: &str, text: &str) -> Result<TestFile, Vec<TestFileError>> {
    read_test_file_with(name, text, &Limits::default())
}

fn read_test_file_with(
    name: &str,
    text: &str,
    limits: &Limits,
) -> Result<TestFile, Vec<TestFileError>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let index = TextIndex::new(text);
    let yaml_limits = YamlLimits {
        max_depth: limits.max_yaml_depth,
        max_expanded_bytes: usize::try_from(limits.max_alias_bytes).unwrap_or(usize::MAX),
    };
    let tree = yaml::read(text, &index, yaml_limits).map_err(|error| {
        vec![TestFileError::InFile {
            file: name.to_owned(),
            position: index.position(text, error.offset),
            problem: TestProblem::Yaml {
                message: error.message,
                help: error.help,
            },
        }]
    })?;
    let mut reader = TestReader {
        tree: &tree,
        text,
        index: &index,
        file: name,
        errors: Vec::new(),
        file_now: None,
        cases: Vec::new(),
    };
    for &root in &tree.documents {
        reader.document(root);
    }
    reader.check_names();
    if reader.errors.is_empty() {
        Ok(TestFile {
            name: name.to_owned(),
            now: reader.file_now,
            cases: reader.cases,
        })
    } else {
        Err(reader.errors)
    }
}

struct TestReader<'a> {
    tree: &'a Tree,
    text: &'a str,
    index: &'a TextIndex,
    file: &'a str,
    errors: Vec<TestFileError>,
    file_now: Option<Named>,
    /// The tests read so far.
    cases: Vec<TestCase>,
}

impl TestReader<'_> {
    fn position(&self, id: NodeId) -> Position {
        self.index
            .position(self.text, self.tree.node(id).span.start)
    }

    fn wrong_type(&mut self, id: NodeId, what: impl Into<String>, expected: &'static str) {
        self.errors.push(TestFileError::InFile {
            file: self.file.to_owned(),
            position: self.position(id),
            problem: TestProblem::WrongType {
                what: what.into(),
                expected,
                found: self.tree.node(id).describe(),
            },
        });
    }

    /// The entries of mapping `id` whose keys are in `allowed`, each once; the others are
    /// reported. `None` (reported) when `id` is not a mapping.
    fn entries(
        &mut self,
        id: NodeId,
        what: &'static str,
        allowed: &'static [&'static str],
    ) -> Option<Vec<(&'static str, NodeId)>> {
        let tree = self.tree;
        let Kind::Map(entries) = &tree.node(id).kind else {
            self.wrong_type(id, what, "a mapping");
            return None;
        };
        let mut found: Vec<(&'static str, NodeId)> = Vec::with_capacity(entries.len());
        for &(key, value) in entries {
            let Some(text) = tree.node(key).as_scalar() else {
                self.wrong_type(key, "a key", "text");
                continue;
            };
            let Some(&name) = allowed.iter().find(|name| **name == text) else {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: self.position(key),
                    problem: TestProblem::UnknownKey {
                        key: text.to_owned(),
                        what,
                        allowed,
                        suggestion: cohort_syntax::nearest(text, allowed.iter().copied()),
                    },
                });
                continue;
            };
            if found.iter().any(|(seen, _)| *seen == name) {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: self.position(key),
                    problem: TestProblem::DuplicateKey {
                        what: "key",
                        key: name.to_owned(),
                    },
                });
                continue;
            }
            found.push((name, value));
        }
        Some(found)
    }

    /// The text of scalar `id`; reported when it is a collection or null.
    fn text(&mut self, id: NodeId, what: &str) -> Option<Named> {
        let node = self.tree.node(id);
        match node.as_scalar() {
            Some(text) if !node.is_null() => Some(Named {
                text: text.to_owned(),
                position: self.position(id),
            }),
            _ => {
                self.wrong_type(id, what, "text");
                None
            }
        }
    }

    fn document(&mut self, root: NodeId) {
        if self.tree.node(root).is_null() {
            return;
        }
        let Some(entries) = self.entries(root, "a test file", FILE_KEYS) else {
            return;
        };
        let get = |key: &str| entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        if let Some(now) = get("now")
            && let Some(now) = self.text(now, "`now`")
            && self.file_now.is_none()
        {
            self.file_now = Some(now);
        }
        let Some(tests) = get("tests") else {
            if !entries.is_empty() || self.errors.is_empty() {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: self.position(root),
                    problem: TestProblem::Missing {
                        what: "the test file".to_owned(),
                        key: "tests",
                    },
                });
            }
            return;
        };
        let tree = self.tree;
        match &tree.node(tests).kind {
            Kind::Seq(items) => {
                for &item in items {
                    self.case(item);
                }
            }
            _ if tree.node(tests).is_null() => {}
            _ => self.wrong_type(tests, "`tests`", "a list of tests"),
        }
    }

    fn case(&mut self, id: NodeId) {
        let number = self.cases.len() + 1;
        let errors_before = self.errors.len();
        let Some(entries) = self.entries(id, "a test", CASE_KEYS) else {
            return;
        };
        let get = |key: &str| entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let name = match get("name") {
            Some(node) => {
                let name = self.text(node, "a test's `name`").map(|n| n.text);
                // A line break in a name would forge lines of the test report.
                if name
                    .as_deref()
                    .is_some_and(|n| n.chars().any(char::is_control))
                {
                    self.errors.push(TestFileError::InFile {
 file: self.file.to_owned(),
 position: self.position(node),
 problem: TestProblem::WrongType {
                        what: "a test's `name`".to_owned(),
                        expected: "text on one line (no line breaks, tabs or other control characters)",
                        found: "text with a control character",
 },
                    });
                    None
                } else {
                    name
                }
            }
            None => Some(format!("case {number}")),
        };
        let label = name.clone().unwrap_or_else(|| format!("case {number}"));
        let machine = match get("machine") {
            Some(node) => self.machine(node),
            None => {
                if self.errors.len() == errors_before {
                    self.errors.push(TestFileError::InFile {
                        file: self.file.to_owned(),
                        position: self.position(id),
                        problem: TestProblem::Missing {
                            what: format!("test `{label}`"),
                            key: "machine",
                        },
                    });
                }
                None
            }
        };
        let member_of = get("member_of").map(|n| self.group_names(n, "`member_of`"));
        let not_member_of = get("not_member_of").map(|n| self.group_names(n, "`not_member_of`"));
        let now = get("now").and_then(|n| self.text(n, "`now`"));
        let (member_of, not_member_of) = (
            member_of.unwrap_or_default(),
            not_member_of.unwrap_or_default(),
        );
        if member_of.is_empty() && not_member_of.is_empty() && self.errors.len() == errors_before {
            self.errors.push(TestFileError::InFile {
                file: self.file.to_owned(),
                position: self.position(id),
                problem: TestProblem::NoExpectation {
                    name: label.clone(),
                },
            });
        }
        for group in &not_member_of {
            if member_of.iter().any(|g| g.text == group.text) {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: group.position,
                    problem: TestProblem::Contradiction {
                        name: label.clone(),
                        group: group.text.clone(),
                    },
                });
            }
        }
        if let (Some(name), Some(machine)) = (name, machine) {
            self.cases.push(TestCase {
                name,
                position: self.position(id),
                machine,
                member_of,
                not_member_of,
                now,
            });
        }
    }

    /// Group names: a list of texts, or one text.
    fn group_names(&mut self, id: NodeId, what: &str) -> Vec<Named> {
        let tree = self.tree;
        match &tree.node(id).kind {
            Kind::Seq(items) => items
                .iter()
                .filter_map(|&item| self.text(item, &format!("a group name in {what}")))
                .collect(),
            Kind::Scalar { .. } if !tree.node(id).is_null() => {
                self.text(id, what).into_iter().collect()
            }
            _ => {
                self.wrong_type(id, what, "a list of group names");
                Vec::new()
            }
        }
    }

    /// The machine's attributes.
    fn machine(&mut self, id: NodeId) -> Option<Vec<(String, YamlData)>> {
        let tree = self.tree;
        let node = tree.node(id);
        if node.is_null() {
            return Some(Vec::new());
        }
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(id, "`machine`", "a mapping of attributes");
            return None;
        };
        let errors_before = self.errors.len();
        let mut attributes: Vec<(String, YamlData)> = Vec::with_capacity(entries.len());
        for &(key, value) in entries {
            let Some(name) = self.text(key, "an attribute name") else {
                continue;
            };
            if attributes.iter().any(|(seen, _)| *seen == name.text) {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: name.position,
                    problem: TestProblem::DuplicateKey {
                        what: "attribute",
                        key: name.text,
                    },
                });
                continue;
            }
            if let Some(value) = self.value(value, &name.text) {
                attributes.push((name.text, value));
            }
        }
        (self.errors.len() == errors_before).then_some(attributes)
    }

    /// An attribute value: a scalar or a list (of lists...), never a mapping. Nesting is
    /// bounded by the YAML reader (64 levels).
    fn value(&mut self, id: NodeId, attribute: &str) -> Option<YamlData> {
        let tree = self.tree;
        match &tree.node(id).kind {
            Kind::Scalar {
                text,
                style: Style::Text,
            } => Some(YamlData::Text(text.clone())),
            Kind::Scalar {
                text,
                style: Style::Plain,
            } => Some(match resolve(text) {
                // Past a float's range (`1e999`): no number, as the engine reads such text;
                // the text is kept as it was written.
                YamlData::Float(number) if !number.is_finite() => YamlData::Text(text.clone()),
                other => other,
            }),
            Kind::Seq(items) => items
                .iter()
                .map(|&item| self.value(item, attribute))
                .collect::<Option<Vec<_>>>()
                .map(YamlData::List),
            Kind::Map(_) => {
                self.wrong_type(
                    id,
                    format!("attribute `{attribute}`"),
                    "text, a number, a flag or a list",
                );
                None
            }
        }
    }

    /// Reports tests of the file with the same name.
    fn check_names(&mut self) {
        for (index, case) in self.cases.iter().enumerate() {
            if let Some(first) = self.cases[..index].iter().find(|c| c.name == case.name) {
                self.errors.push(TestFileError::InFile {
                    file: self.file.to_owned(),
                    position: case.position,
                    problem: TestProblem::DuplicateCase {
                        name: case.name.clone(),
                        first: first.position,
                    },
                });
            }
        }
    }
}

/// Test files read from paths: every file read, and every problem.
#[derive(Debug, Default)]
pub struct TestFiles {
    /// The files read without a problem, in the order found.
    pub files: Vec<TestFile>,
    /// Every problem, in the order found.
    pub errors: Vec<TestFileError>,
}

/// Whether `path` is named like a test file: `*.test.yaml` or `*.test.yml`.
///
/// ```
/// use std::path::Path;
/// assert!(cohort_load::is_test_file(Path::new("tests/bitlocker.test.yaml")));
/// assert!(!cohort_load::is_test_file(Path::new("groups/bitlocker.yaml")));
/// ```
pub fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.ends_with(".test.yaml") || name.ends_with(".test.yml"))
}

/// Reads test files: a file named is read whatever its name; a directory is read
/// recursively for `*.test.yaml` and `*.test.yml` files, in name order (a symbolic link
/// inside it is followed only when it leads inside it). Bounded by [`Limits`].
///
/// ```
/// let dir = std::env::temp_dir().join(format!("cohort-test-files-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.test.yaml"), "tests:\n- {machine: {}, not_member_of: [G]}\n").unwrap();
/// std::fs::write(dir.join("groups.yaml"), "name: G\n").unwrap();
/// let read = cohort_load::read_test_paths(&[&dir]);
/// assert!(read.errors.is_empty());
/// assert_eq!(read.files.len(), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_test_paths<P: AsRef<Path>>(paths: &[P]) -> TestFiles {
    let mut walker = Walker {
        limits: Limits::default(),
        read: TestFiles::default(),
        total: 0,
        visited: std::collections::HashSet::new(),
    };
    for path in paths {
        walker.path(path.as_ref(), 0, None);
    }
    walker.read
}

struct Walker {
    limits: Limits,
    read: TestFiles,
    /// The bytes read so far.
    total: u64,
    /// The directories read (canonical).
    visited: std::collections::HashSet<PathBuf>,
}

impl Walker {
    /// Reads `path`: named by the user when `root` is `None`, else found inside `root`.
    fn path(&mut self, path: &Path, depth: usize, root: Option<&Path>) {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(source) => {
                self.read.errors.push(TestFileError::Io {
                    path: path.to_owned(),
                    source,
                });
                return;
            }
        };
        if let Some(root) = root {
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if is_link && (metadata.is_dir() || is_test_file(path)) {
                let inside =
                    std::fs::canonicalize(path).is_ok_and(|target| target.starts_with(root));
                if !inside {
                    self.read.errors.push(TestFileError::LinkOutside {
                        path: path.to_owned(),
                        root: root.to_owned(),
                    });
                    return;
                }
            }
        }
        if metadata.is_dir() {
            if depth >= self.limits.max_dir_depth {
                self.read.errors.push(TestFileError::TooDeep {
                    path: path.to_owned(),
                    limit: self.limits.max_dir_depth,
                });
                return;
            }
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
            if !self.visited.insert(canonical.clone()) {
                return;
            }
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
                Err(source) => {
                    self.read.errors.push(TestFileError::Io {
                        path: path.to_owned(),
                        source,
                    });
                    return;
                }
            };
            entries.sort();
            let root = root.map_or(canonical, Path::to_owned);
            for entry in entries {
                self.path(&entry, depth + 1, Some(&root));
            }
        } else if root.is_none() || is_test_file(path) {
            if !metadata.is_file() {
                self.read.errors.push(TestFileError::NotAFile {
                    path: path.to_owned(),
                });
                return;
            }
            self.file(path);
        }
    }

    fn file(&mut self, path: &Path) {
        let limit = self.limits.max_file_bytes;
        let bytes = match read_bounded(path, limit) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.read.errors.push(TestFileError::TooLarge {
                    path: path.to_owned(),
                    limit,
                });
                return;
            }
            Err(ReadError::NotAFile) => {
                self.read.errors.push(TestFileError::NotAFile {
                    path: path.to_owned(),
                });
                return;
            }
            Err(ReadError::Io(source)) => {
                self.read.errors.push(TestFileError::Io {
                    path: path.to_owned(),
                    source,
                });
                return;
            }
        };
        self.total = self
            .total
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        if self.total > self.limits.max_total_bytes {
            self.read.errors.push(TestFileError::TotalTooLarge {
                path: path.to_owned(),
                limit: self.limits.max_total_bytes,
            });
            return;
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                let valid_up_to = error.utf8_error().valid_up_to();
                let bytes = error.into_bytes();
                let prefix = String::from_utf8_lossy(bytes.get(..valid_up_to).unwrap_or_default());
                self.read.errors.push(TestFileError::NotUtf8 {
                    path: path.to_owned(),
                    position: Position::of_offset(&prefix, valid_up_to),
                });
                return;
            }
        };
        match read_test_file_with(&path.display().to_string(), &text, &self.limits) {
            Ok(file) => self.read.files.push(file),
            Err(errors) => self.read.errors.extend(errors),
        }
    }
}

#[cfg(test)]
mod tests;
