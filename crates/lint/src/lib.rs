//! Lint for cohort group definitions: groups that load and check but are most likely wrong.
//!
//! `cohort check` says whether definitions are valid; lint says whether they mean what their
//! author meant. It works on the checked IR (`cohort-check`), located through the syntax tree:
//!
//! * logic: blocks and groups that can never hold (criteria that exclude each other, `is
//!   blank` with a criterion that needs a value, an empty `between`, `member of` a group that
//!   can never have members), or always hold; blocks another block makes redundant;
//!   duplicate criteria; groups with the same condition;
//! * traps of consoles: `contains 3` also matches `13`, `starts with 2024.1` also matches
//!   `2024.10.5`, `contains Workstation` also matches the dropdown option `Windows
//!   Workstation`;
//! * with a fleet ([`Definitions::lint_fleet`]): groups with no members or every machine,
//!   criteria that never or always hold there, fields most machines have no value for.
//!
//! Every finding has a stable [`Code`], a [`Severity`], its file, line and column, the group,
//! one line of explanation and a fix. A finding must be true: a rule that depends on data it
//! cannot see is not reported (two `equal`s on one field are only an error when a schema
//! says the field is not a list, since a list can hold both values).
//!
//! ```
//! use cohort_lint::{Code, Definitions, Severity};
//!
//! let definitions = Definitions::from_yaml_named("groups.yaml", r#"
//! name: Low Disk
//! blocks:
//!   - - "[Free Disk %] is blank"
//!     - "[Free Disk %] < 10"
//! "#, None).unwrap();
//! let findings = definitions.lint();
//! assert_eq!(findings[0].code, Code::BlankConflict);
//! assert_eq!(findings[0].severity, Severity::Error);
//! assert_eq!(findings[0].line, Some(2));
//! assert!(findings[0].message.starts_with("group can never have members"));
//! ```

mod checks;
mod config;
mod fleet;
mod logic;
mod traps;
mod tree;

pub use config::{Allow, Config, ConfigError};

use cohort_check::ir::CheckedSet;
use cohort_syntax::{Loc, SchemaDef};
use serde::Serialize;
use std::fmt;

/// A kind of finding, with a stable code (`L001`...).
///
/// ```
/// use cohort_lint::Code;
/// assert_eq!(Code::Contradiction.as_str(), "L001");
/// assert_eq!(Code::parse("l013"), Some(Code::DropdownSubstring));
/// assert_eq!(Code::ALL.len(), 17);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// L001: a criterion and a negated one it implies, in one all-block (`equal A` and `not
    /// equal A`).
    Contradiction,
    /// L002: `is blank` with a criterion that needs a value, in one all-block.
    BlankConflict,
    /// L003: two criteria no single value meets both (two different `equal`s, ranges that do
    /// not overlap) in one all-block: an error when a schema says the field is not a list, a
    /// warning otherwise.
    ConflictingValues,
    // L004 is retired: `between` with its bounds reversed in every kind is refused by
    // `cohort check` (it was "`between` holds on no value").
    /// L005: an any-list with a criterion and its negation: it always holds.
    Tautology,
    /// L006: a block that another block of the group makes redundant (or equal to one).
    SubsumedBlock,
    /// L007: the same criterion twice in one list.
    DuplicateCriterion,
    /// L008: two groups with the same condition.
    EquivalentGroups,
    /// L009: `member of` a group that can never have members (or `not member of` one that
    /// has every machine).
    MemberOfEmpty,
    /// L010: criterion fields whose names differ only in case (without a schema).
    FieldCase,
    /// L011: a substring operator (or an unanchored regex) with a number: `contains 3` also
    /// matches `13`.
    NumberSubstring,
    /// L012: a version compared as text: `starts with 2024.1` also matches `2024.10.5`.
    VersionText,
    /// L013: a dropdown option as a substring of other options: `contains Workstation` also
    /// matches `Windows Workstation`.
    DropdownSubstring,
    /// L101: a group with no members on the fleet.
    FleetNoMembers,
    /// L102: a group with every machine of the fleet.
    FleetAllMembers,
    /// L103: a criterion that holds on no machine of the fleet.
    FleetNeverHolds,
    /// L104: a criterion that holds on every machine of the fleet.
    FleetAlwaysHolds,
    /// L105: a field most machines (or all) have no value for.
    FleetMostlyBlank,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Code; 17] = [
        Code::Contradiction,
        Code::BlankConflict,
        Code::ConflictingValues,
        Code::Tautology,
        Code::SubsumedBlock,
        Code::DuplicateCriterion,
        Code::EquivalentGroups,
        Code::MemberOfEmpty,
        Code::FieldCase,
        Code::NumberSubstring,
        Code::VersionText,
        Code::DropdownSubstring,
        Code::FleetNoMembers,
        Code::FleetAllMembers,
        Code::FleetNeverHolds,
        Code::FleetAlwaysHolds,
        Code::FleetMostlyBlank,
    ];

    /// The code as written: `L001`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Contradiction => "L001",
            Code::BlankConflict => "L002",
            Code::ConflictingValues => "L003",
            Code::Tautology => "L005",
            Code::SubsumedBlock => "L006",
            Code::DuplicateCriterion => "L007",
            Code::EquivalentGroups => "L008",
            Code::MemberOfEmpty => "L009",
            Code::FieldCase => "L010",
            Code::NumberSubstring => "L011",
            Code::VersionText => "L012",
            Code::DropdownSubstring => "L013",
            Code::FleetNoMembers => "L101",
            Code::FleetAllMembers => "L102",
            Code::FleetNeverHolds => "L103",
            Code::FleetAlwaysHolds => "L104",
            Code::FleetMostlyBlank => "L105",
        }
    }

    /// Reads a code (`L001`, any case).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How serious a finding is, from the least.
///
/// ```
/// use cohort_lint::Severity;
/// assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Note);
/// assert_eq!(Severity::parse("warning"), Some(Severity::Warning));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; often intended (a fact about the fleet).
    Note,
    /// Most likely a mistake.
    Warning,
    /// Certainly wrong: a group, block or criterion that can never hold.
    Error,
}

impl Severity {
    /// The name: `note`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Reads a name (any case).
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Note, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, located.
///
/// Its `Display` is `file:line:col: severity[code]: message`, then the group and criterion,
/// then the fix, like `cohort check`'s diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of finding.
    pub code: Code,
    /// How serious.
    pub severity: Severity,
    /// The file (or the name given to the text), when known.
    pub file: Option<String>,
    /// The line, from 1.
    pub line: Option<usize>,
    /// The column, from 1.
    pub column: Option<usize>,
    /// The group.
    pub group: String,
    /// The criterion, such as ``block 1, criterion 2 (`OS contains any of "3"`)``.
    pub criterion: Option<String>,
    /// What is wrong, one line.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
            if let (Some(line), Some(column)) = (self.line, self.column) {
                write!(f, "{line}:{column}:")?;
            }
            f.write_str(" ")?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        match &self.criterion {
            Some(criterion) => write!(f, "\n  in group `{}`, {criterion}", self.group)?,
            None => write!(f, "\n  in group `{}`", self.group)?,
        }
        write!(f, "\n  help: {}", self.help)
    }
}

/// A finding before it is located.
#[derive(Clone, Debug)]
pub(crate) struct Raw {
    pub(crate) code: Code,
    /// `None`: the code's usual severity ([`default_severity`]).
    pub(crate) severity: Option<Severity>,
    pub(crate) group: String,
    pub(crate) loc: Loc,
    pub(crate) criterion: Option<String>,
    pub(crate) message: String,
    pub(crate) help: String,
}

/// The usual severity of a code.
fn default_severity(code: Code) -> Severity {
    match code {
        Code::Contradiction | Code::BlankConflict | Code::MemberOfEmpty => Severity::Error,
        Code::FleetAllMembers
        | Code::FleetNeverHolds
        | Code::FleetAlwaysHolds
        | Code::FleetMostlyBlank => Severity::Note,
        _ => Severity::Warning,
    }
}

/// Why definitions could not be linted.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The definitions do not load or check (lint runs on valid definitions; `cohort check`
    /// shows the problems).
    #[error("the definitions have {} (run `cohort check` to see them)", problems(.load.len() + .check.len()))]
    Invalid {
        /// The loading errors.
        load: Vec<cohort_load::LoadError>,
        /// The checking errors.
        check: Vec<cohort_check::CheckError>,
    },
    /// The machines could not be read.
    #[error(transparent)]
    Fleet(#[from] cohort_fleet::ReadError),
}

fn problems(count: usize) -> String {
    if count == 1 {
        "1 problem".to_owned()
    } else {
        format!("{count} problems")
    }
}

/// Loaded and checked definitions, ready to lint.
#[derive(Debug)]
pub struct Definitions {
    loaded: cohort_load::Loaded,
    checked: CheckedSet,
    schema: Option<SchemaDef>,
}

impl Definitions {
    /// Checks what a [`cohort_load::Loader`] read (against `schema` when given).
    pub fn new(
        loaded: cohort_load::Loaded,
        schema: Option<SchemaDef>,
    ) -> Result<Definitions, LintError> {
        if !loaded.errors.is_empty() {
            return Err(LintError::Invalid {
                load: loaded.errors,
                check: Vec::new(),
            });
        }
        match cohort_check::check_with_schema(&loaded.groups, schema.as_ref()) {
            Ok(checked) => Ok(Definitions {
                loaded,
                checked,
                schema,
            }),
            Err(check) => Err(LintError::Invalid {
                load: Vec::new(),
                check,
            }),
        }
    }

    /// Loads definition files or directories (as `cohort check` does).
    pub fn load<P: AsRef<std::path::Path>>(
        paths: impl IntoIterator<Item = P>,
        schema: Option<SchemaDef>,
    ) -> Result<Definitions, LintError> {
        let mut loader = cohort_load::Loader::new();
        for path in paths {
            loader.add_path(path.as_ref());
        }
        Self::new(loader.finish(), schema)
    }

    /// Reads definitions from YAML text; `name` stands for it in findings.
    pub fn from_yaml_named(
        name: &str,
        text: &str,
        schema: Option<SchemaDef>,
    ) -> Result<Definitions, LintError> {
        let mut loader = cohort_load::Loader::new();
        loader.add_str(name, text);
        Self::new(loader.finish(), schema)
    }

    /// The number of groups.
    pub fn group_count(&self) -> usize {
        self.checked.groups.len()
    }

    /// The checked IR.
    pub fn checked(&self) -> &CheckedSet {
        &self.checked
    }

    /// Every static finding, in file order.
    pub fn lint(&self) -> Vec<Finding> {
        let mut linter = checks::Linter::new(&self.checked, self.schema.as_ref());
        linter.run(&self.loaded.groups);
        self.locate(linter.findings)
    }

    /// What the fleet in `source` shows (read with `options`, relative dates at `now`):
    /// groups with no members or every machine, criteria that hold on no machine or every
    /// one, fields most machines have no value for. Returns the findings and the number of
    /// machines read.
    ///
    /// ```
    /// use cohort_engine::Timestamp;
    /// use cohort_fleet::{Format, Options, Source};
    /// use cohort_lint::{Code, Definitions};
    ///
    /// let definitions = Definitions::from_yaml_named("g.yaml", "name: Servers\nwhere: Type equal Server\n", None).unwrap();
    /// let machines = br#"[{"id": "a", "Type": "Laptop"}, {"id": "b"}]"#;
    /// let source = Source::Reader { name: "machines".into(), reader: Box::new(&machines[..]) };
    /// let (findings, machines) = definitions.lint_fleet(source, &Options::new(Format::Json), Timestamp::UNIX_EPOCH).unwrap();
    /// assert_eq!(machines, 2);
    /// let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
    /// assert_eq!(codes, [Code::FleetNoMembers, Code::FleetNeverHolds]);
    /// ```
    pub fn lint_fleet(
        &self,
        source: cohort_fleet::Source<'_>,
        options: &cohort_fleet::Options,
        now: cohort_engine::Timestamp,
    ) -> Result<(Vec<Finding>, usize), LintError> {
        let (raws, machines) =
            fleet::lint(&self.checked, &self.loaded.groups, source, options, now)?;
        Ok((self.locate(raws), machines))
    }

    fn locate(&self, raws: Vec<Raw>) -> Vec<Finding> {
        let sources = &self.loaded.sources;
        let mut findings: Vec<Finding> = raws
            .into_iter()
            .map(|raw| {
                let position = sources.position(&raw.loc);
                Finding {
                    code: raw.code,
                    severity: raw.severity.unwrap_or_else(|| default_severity(raw.code)),
                    file: sources.name(&raw.loc).map(str::to_owned),
                    line: position.map(|p| p.line),
                    column: position.map(|p| p.column),
                    group: raw.group,
                    criterion: raw.criterion,
                    message: raw.message,
                    help: raw.help,
                }
            })
            .collect();
        findings.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
        });
        findings.dedup();
        findings
    }
}

#[cfg(test)]
mod tests;
