//! cohort: the criteria rule engine for the dynamic groups of RMM tools.
//!
//! An RMM tool keeps attributes for every managed machine (OS, agent version, custom fields
//! such as `BitLocker Key Backup Status`, installed software...). A dynamic group is defined
//! by criteria, and every machine whose attributes meet them is a member. cohort loads group
//! definitions written as YAML, checks them, compiles them once, and evaluates machines
//! against them: one machine at a time, or a whole fleet, with an explanation on demand.
//!
//! ```
//! use cohort::{GroupSet, Timestamp, Value};
//! use std::collections::HashMap;
//!
//! let groups = GroupSet::from_yaml_str(r#"
//! name: BitLocker Key Missing
//! description: Group of machines where BitLocker Key was not found.
//! blocks:
//!   - - field: BitLocker Key Backup Status
//!       operator: Contains any of
//!       values: [Not Available]
//! "#)?;
//!
//! let mut machine = HashMap::new();
//! machine.insert("BitLocker Key Backup Status".to_string(), Value::from("Key Not Available"));
//!
//! let now = Timestamp::parse("2026-11-25T00:00:00Z").unwrap();
//! let membership = groups.evaluate(&machine, now);
//! assert!(membership.contains("BitLocker Key Missing"));
//!
//! let why = groups.explain(&machine, "BitLocker Key Missing", now).unwrap();
//! assert!(why.matched);
//! # Ok::<(), cohort::Error>(())
//! ```
//!
//! # Pipeline
//!
//! ```text
//! YAML ─► syntax tree ─► checked IR ─► Plan ─► membership, explanations
//!  cohort-load  cohort-syntax  cohort-check  cohort-engine
//! ```
//!
//! Loading and checking report every error they find, each with its file, line, column,
//! group and criterion ([`Error::diagnostics`]). Evaluation cannot fail: an attribute that
//! cannot be read as what a criterion needs makes that criterion false, and the explanation
//! says so.
//!
//! # Where to start
//!
//! * [`GroupSet`]: load, check and compile groups once; [`GroupSet::evaluate`] one machine,
//!   [`GroupSet::explain`] why.
//! * [`Machine`]: implement it for your own machine type; nothing is copied.
//! * [`Plan::memberships`] (one machine, no allocation), [`Plan::columnar`] (a whole fleet
//!   as bitsets), [`Plan::record`] (a machine converted once for repeated evaluation).
//! * [`Schema`]: a field schema to validate groups against ([`GroupSetBuilder::schema`]).
//! * [`MembershipTracker`]: live membership over a changing fleet, with join/leave events.

mod diff;
mod group_tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use diff::{DefinitionDiff, GroupChange, GroupChangeKind};
pub use group_tests::{Expected, GroupTests, TestFailure, TestOutcome, TestReport};

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use cohort_engine::{
    Attr, AttrList, Change, ComparedAs, CriterionResult, DefinitionEvent, ExplainNode, Explanation,
    FleetMembership, GroupId, Machine, MembershipEvent, MembershipTracker, ReplaceError, Timestamp,
    Value,
};
pub use cohort_load::Limits;

use cohort_engine::{Plan, Scratch};
use cohort_syntax as syntax;

/// The layers under the facade, for embedders that go past [`GroupSet`]: the compiled
/// [`Plan`](engine::Plan) and its executors (one machine with a reused
/// [`Scratch`](engine::Scratch), [`Record`](engine::Record), the columnar
/// [`ColumnarFleet`](engine::ColumnarFleet)), and the syntax tree of definitions
/// ([`engine::syntax`]) for tools that build or rewrite groups.
///
/// ```
/// use cohort::engine::{ColumnarBuilder, Scratch};
/// use cohort::{GroupSet, Timestamp, Value};
/// use std::collections::HashMap;
///
/// let groups = GroupSet::from_yaml_str("name: Servers\nwhere: \"OS contains Server\"").unwrap();
/// let machine = HashMap::from([("OS".to_string(), Value::from("Windows Server 2022"))]);
///
/// let mut scratch = Scratch::new();
/// let ids: Vec<_> = groups.plan().memberships(&machine, Timestamp::UNIX_EPOCH, &mut scratch).iter().collect();
/// assert_eq!(ids, [groups.id("Servers").unwrap()]);
///
/// let mut builder = ColumnarBuilder::new(groups.plan());
/// builder.push(&machine);
/// let fleet = builder.finish();
/// assert_eq!(fleet.evaluate(Timestamp::UNIX_EPOCH).members(groups.id("Servers").unwrap()).count(), 1);
/// ```
pub mod engine {
    pub use cohort_engine::*;
    pub use cohort_syntax as syntax;
}

/// A field schema: the custom fields that exist, their types (text, number, flag, dropdown,
/// date, version, list) and levels (company, site, endpoint). Groups loaded with a schema are
/// validated against it ([`GroupSetBuilder::schema`]).
///
/// ```
/// let schema = cohort::Schema::from_yaml_str(
///     "fields:\n- {name: Exclude Windows 11 Installation, type: flag, level: site}\n",
/// ).unwrap();
/// assert_eq!(schema.fields()[0].key(), "site:Exclude Windows 11 Installation");
/// ```
#[derive(Clone, Debug)]
pub struct Schema {
    definition: syntax::SchemaDef,
}

impl Schema {
    /// Loads a schema file.
    pub fn load(path: impl AsRef<Path>) -> Result<Schema, Error> {
        let mut loader = cohort_load::Loader::new();
        loader.add_schema_path(path.as_ref());
        Self::finish(loader.finish())
    }

    /// Reads a schema from YAML text.
    pub fn from_yaml_str(text: &str) -> Result<Schema, Error> {
        Self::from_yaml_named("<string>", text)
    }

    /// Like [`Schema::from_yaml_str`], with a name for the text in error messages.
    pub fn from_yaml_named(name: &str, text: &str) -> Result<Schema, Error> {
        let mut loader = cohort_load::Loader::new();
        loader.add_schema_str(name, text);
        Self::finish(loader.finish())
    }

    /// A schema from a definition built in code (or inferred, see `cohort schema infer`).
    pub fn from_definition(definition: syntax::SchemaDef) -> Schema {
        Schema { definition }
    }

    fn finish(loaded: cohort_load::Loaded) -> Result<Schema, Error> {
        if loaded.errors.is_empty() {
            Ok(Schema {
                definition: loaded.schema.unwrap_or_default(),
            })
        } else {
            Err(Error {
                diagnostics: loaded
                    .errors
                    .iter()
                    .map(|error| Diagnostic::from_load(error, &loaded.sources))
                    .collect(),
            })
        }
    }

    /// The declared fields.
    pub fn fields(&self) -> &[syntax::FieldDef] {
        &self.definition.fields
    }

    /// The schema as a syntax value.
    pub fn definition(&self) -> &syntax::SchemaDef {
        &self.definition
    }
}

/// A set of compiled groups: load once, evaluate many times.
///
/// `GroupSet` is immutable and `Send + Sync`; share it between threads.
#[derive(Debug)]
pub struct GroupSet {
    plan: Plan,
}

impl GroupSet {
    /// A builder that gathers sources (files, directories, texts, syntax trees), an optional
    /// field schema and loader limits, then loads, checks and compiles them as one set.
    ///
    /// ```
    /// use cohort::{GroupSet, Schema};
    ///
    /// let schema = Schema::from_yaml_str(r#"
    /// fields:
    ///   - {name: BitLocker Key Backup Status, type: dropdown, options: [Success, Failed, Not Available]}
    ///   - {name: Free Disk %, type: number}
    /// "#).unwrap();
    /// let error = GroupSet::builder()
    ///     .text("groups.yaml", r#"
    /// groups:
    ///   - {name: Missing, where: "'BitLocker Key Backup Status' equal 'Not Availble'"}
    ///   - {name: Disk, where: "'Free Disk %' contains 10"}
    /// "#)
    ///     .schema(&schema)
    ///     .build()
    ///     .unwrap_err();
    /// let messages: Vec<String> = error.diagnostics().iter().map(|d| d.message().to_owned()).collect();
    /// assert_eq!(messages, [
    ///     "`Not Availble` is not an option of the dropdown `BitLocker Key Backup Status`",
    ///     "`contains any of` does not apply to `Free Disk %`, a number field",
    /// ]);
    /// assert_eq!(error.diagnostics()[0].help(), Some("did you mean `Not Available`?"));
    /// assert_eq!(error.diagnostics()[0].file(), Some("groups.yaml"));
    /// ```
    pub fn builder() -> GroupSetBuilder {
        GroupSetBuilder::new()
    }

    /// Loads groups from YAML text (one group, or several under `groups:`); errors call the
    /// text `<string>` (name it with [`GroupSetBuilder::text`]).
    ///
    /// ```
    /// let groups = cohort::GroupSet::from_yaml_str(r#"
    /// groups:
    ///   - name: Windows 10
    ///     blocks: [[{field: OS, operator: contains any of, value: Windows 10}]]
    ///   - name: Servers
    ///     blocks: [[{field: OS, operator: contains, value: Server}]]
    /// "#).unwrap();
    /// assert_eq!(groups.names().collect::<Vec<_>>(), ["Windows 10", "Servers"]);
    /// ```
    pub fn from_yaml_str(text: &str) -> Result<GroupSet, Error> {
        GroupSetBuilder::new().text("<string>", text).build()
    }

    /// Loads a definitions file, or every `*.yaml` / `*.yml` file below a directory (for
    /// several paths, a schema or other limits, use [`GroupSet::builder`]).
    pub fn load(path: impl AsRef<Path>) -> Result<GroupSet, Error> {
        GroupSetBuilder::new().path(path).build()
    }

    fn finish(loaded: cohort_load::Loaded) -> Result<GroupSet, Error> {
        Self::finish_with(loaded, None)
    }

    fn finish_with(
        loaded: cohort_load::Loaded,
        schema: Option<&syntax::SchemaDef>,
    ) -> Result<GroupSet, Error> {
        let mut diagnostics: Vec<Diagnostic> = loaded
            .errors
            .iter()
            .map(|error| Diagnostic::from_load(error, &loaded.sources))
            .collect();
        match cohort_check::check_with_schema(&loaded.groups, schema) {
            Ok(checked) if diagnostics.is_empty() => Ok(GroupSet {
                plan: Plan::compile(&checked),
            }),
            Ok(_) => Err(Error { diagnostics }),
            Err(errors) => {
                diagnostics.extend(
                    errors
                        .iter()
                        .map(|error| Diagnostic::from_check(error, &loaded.sources)),
                );
                Err(Error { diagnostics })
            }
        }
    }

    /// A tracker of live membership over a changing fleet, starting empty: feed it machines
    /// and changes, get join and leave events (see [`MembershipTracker`]).
    pub fn tracker(&self, now: Timestamp) -> MembershipTracker<'_> {
        MembershipTracker::new(&self.plan, now)
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.plan.group_count()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The group names, in definition order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.plan.group_ids().map(|id| self.plan.group_name(id))
    }

    /// The id of the group called `name`.
    pub fn id(&self, name: &str) -> Option<GroupId> {
        self.plan.group_id(name)
    }

    /// The name of group `id`.
    pub fn name(&self, id: GroupId) -> &str {
        self.plan.group_name(id)
    }

    /// The compiled plan, for lower-level evaluation with a reused [`Scratch`].
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The groups `machine` belongs to at time `now`.
    ///
    /// For many machines, reuse buffers with [`Plan::evaluate_into`], or use
    /// [`GroupSet::evaluate_fleet`].
    pub fn evaluate<M: Machine + ?Sized>(&self, machine: &M, now: Timestamp) -> Membership<'_> {
        let mut ids = Vec::new();
        self.plan
            .evaluate_into(machine, now, &mut Scratch::new(), &mut ids);
        Membership { set: self, ids }
    }

    /// The members of every group over a fleet, as positions in input order.
    ///
    /// ```
    /// use serde_json::json;
    /// let groups = cohort::GroupSet::from_yaml_str(
    ///     "name: Low Disk\nblocks: [[{field: Free Disk %, operator: '<', value: 10}]]",
    /// ).unwrap();
    /// let fleet = vec![json!({"Free Disk %": 4}), json!({"Free Disk %": 55}), json!({})];
    /// let membership = groups.evaluate_fleet(&fleet, cohort::Timestamp::UNIX_EPOCH);
    /// assert_eq!(membership.members(groups.id("Low Disk").unwrap()), [0]);
    /// ```
    pub fn evaluate_fleet<M: Machine>(
        &self,
        machines: impl IntoIterator<Item = M>,
        now: Timestamp,
    ) -> FleetMembership {
        self.plan.evaluate_fleet(machines, now)
    }

    /// Why `machine` is or is not in the group called `group`; `None` when there is no such
    /// group.
    pub fn explain<M: Machine + ?Sized>(
        &self,
        machine: &M,
        group: &str,
        now: Timestamp,
    ) -> Option<Explanation> {
        self.plan.explain(machine, self.id(group)?, now)
    }
}

/// Gathers the sources of a [`GroupSet`], its schema and its loader limits
/// ([`GroupSet::builder`]). Sources are read by [`GroupSetBuilder::build`], in the order
/// added, and loaded as one set: a `member of` may name a group of any source, and every
/// problem of every source is reported at once.
///
/// ```
/// use cohort::{GroupSet, Limits};
///
/// let mut limits = Limits::default();
/// limits.max_file_bytes = 1024;
/// let groups = GroupSet::builder()
///     .text("a.yaml", "name: A\nwhere: \"OS contains Server\"")
///     .text("b.yaml", "name: B\nwhere: \"member of A\"")
///     .limits(limits)
///     .build()
///     .unwrap();
/// assert_eq!(groups.len(), 2);
///
/// let error = GroupSet::builder().text("c.yaml", "name: C\nwhere: \"member of D\"").build().unwrap_err();
/// assert_eq!(error.diagnostics()[0].file(), Some("c.yaml"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct GroupSetBuilder {
    sources: Vec<GroupSource>,
    schema: Option<syntax::SchemaDef>,
    limits: Limits,
}

/// One source of a [`GroupSetBuilder`].
#[derive(Clone, Debug)]
enum GroupSource {
    Path(PathBuf),
    Text { name: String, text: String },
    Definitions(Vec<syntax::GroupDef>),
}

impl GroupSetBuilder {
    /// A builder with no sources, no schema and the default [`Limits`].
    pub fn new() -> GroupSetBuilder {
        GroupSetBuilder::default()
    }

    /// Adds a definitions file, or every `*.yaml` / `*.yml` file below a directory.
    pub fn path(&mut self, path: impl AsRef<Path>) -> &mut GroupSetBuilder {
        self.sources
            .push(GroupSource::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Adds several files or directories ([`GroupSetBuilder::path`] for each).
    pub fn paths<P: AsRef<Path>>(
        &mut self,
        paths: impl IntoIterator<Item = P>,
    ) -> &mut GroupSetBuilder {
        for path in paths {
            self.path(path);
        }
        self
    }

    /// Adds YAML text already read (a file at a git revision, say); `name` is what errors
    /// call it.
    ///
    /// ```
    /// let error = cohort::GroupSet::builder()
    ///     .text("groups.yaml", "name: G\nblocks:\n  - - {field: OS, operator: contans any of, value: x}\n")
    ///     .build()
    ///     .unwrap_err();
    /// let diagnostic = &error.diagnostics()[0];
    /// assert_eq!(diagnostic.to_string().lines().next(), Some("groups.yaml:3:29: unknown operator `contans any of`"));
    /// assert_eq!(diagnostic.help(), Some("did you mean `contains any of`?"));
    /// assert_eq!(diagnostic.group(), Some("G"));
    /// ```
    pub fn text(&mut self, name: &str, text: &str) -> &mut GroupSetBuilder {
        self.sources.push(GroupSource::Text {
            name: name.to_owned(),
            text: text.to_owned(),
        });
        self
    }

    /// Adds groups given as syntax trees (built in code, or by another front end); they are
    /// checked like groups read from text.
    pub fn definitions(&mut self, groups: &[syntax::GroupDef]) -> &mut GroupSetBuilder {
        self.sources.push(GroupSource::Definitions(groups.to_vec()));
        self
    }

    /// Validates the groups against a field schema: unknown or ambiguous fields, operators
    /// that do not suit a field's type and values of the wrong type are errors, all reported
    /// at once.
    pub fn schema(&mut self, schema: &Schema) -> &mut GroupSetBuilder {
        self.schema = Some(schema.definition.clone());
        self
    }

    /// The limits that protect loading from huge or hostile files (sizes, depths, aliases).
    pub fn limits(&mut self, limits: Limits) -> &mut GroupSetBuilder {
        self.limits = limits;
        self
    }

    /// Reads every source, then checks and compiles the groups; the error carries every
    /// problem found in every source.
    pub fn build(&self) -> Result<GroupSet, Error> {
        let mut loader = cohort_load::Loader::with_limits(self.limits.clone());
        let mut definitions = Vec::new();
        for source in &self.sources {
            match source {
                GroupSource::Path(path) => loader.add_path(path),
                GroupSource::Text { name, text } => {
                    loader.add_str(name, text);
                }
                GroupSource::Definitions(groups) => definitions.extend_from_slice(groups),
            }
        }
        let mut loaded = loader.finish();
        loaded.groups.extend(definitions);
        GroupSet::finish_with(loaded, self.schema.as_ref())
    }
}

/// A definitions file rewritten in canonical form by [`format_yaml`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formatted {
    /// The canonical text: the file's leading comment block, then the groups.
    pub text: String,
    /// Lines (from 1) with comments after the leading block: the canonical text cannot keep
    /// them.
    pub dropped_comments: Vec<usize>,
}

/// Rewrites a definitions file in canonical form (what `cohort fmt` writes): canonical
/// operator phrases, values as lists, criteria as maps, `where:` for groups that are not
/// lists of blocks. Only the file's structure must be valid; groups are not checked.
///
/// ```
/// let formatted = cohort::format_yaml("g.yaml", "# Disk groups\nname: Low Disk\nblocks: [['[Free Disk %] < 10']]\n").unwrap();
/// assert_eq!(formatted.text, "# Disk groups\nname: Low Disk\nblocks:\n- - field: Free Disk %\n    operator: less than\n    values:\n    - '10'\n");
/// assert!(formatted.dropped_comments.is_empty());
/// ```
pub fn format_yaml(name: &str, text: &str) -> Result<Formatted, Error> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let limits = cohort_load::Limits::default();
    let mut loader = cohort_load::Loader::with_limits(limits.clone());
    let id = loader.add_str(name, text);
    let loaded = loader.finish();
    let comments = loaded
        .sources
        .get(id)
        .map(|source| source.comments().to_vec())
        .unwrap_or_default();
    if !loaded.errors.is_empty() {
        let diagnostics = loaded
            .errors
            .iter()
            .map(|error| Diagnostic::from_load(error, &loaded.sources))
            .collect();
        return Err(Error { diagnostics });
    }
    if loaded.groups.is_empty() {
        return Ok(Formatted {
            text: text.to_owned(),
            dropped_comments: Vec::new(),
        });
    }
    let single = loaded.groups.len() == 1
        && loaded
            .groups
            .iter()
            .all(|g| g.loc.path.segments().is_empty());
    let body = cohort_load::to_yaml(&loaded.groups, single).map_err(|error| Error {
        diagnostics: vec![Diagnostic::about_file(name, error.to_string())],
    })?;
    // The leading block of blank and comment lines is kept as it is; every other comment
    // (found by the YAML reader: a `#` outside every scalar) would be lost.
    let header_end: usize = text
        .split_inclusive('\n')
        .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
        .map(str::len)
        .sum();
    let mut header = text[..header_end].to_owned();
    if !header.is_empty() && !header.ends_with('\n') {
        header.push('\n');
    }
    while header.ends_with("\n\n") {
        header.pop();
    }
    let mut dropped_comments = Vec::new();
    let (mut line, mut counted) = (1, 0);
    for offset in comments.into_iter().filter(|&offset| offset >= header_end) {
        line += text[counted..offset].matches('\n').count();
        counted = offset;
        if dropped_comments.last() != Some(&line) {
            dropped_comments.push(line);
        }
    }
    let formatted = header + &body;
    // The canonical text must load as the original did: canonical phrases are longer
    // (`=` becomes `equal`), so a condition near a limit could grow past it.
    let mut reloader = cohort_load::Loader::with_limits(limits.clone());
    reloader.add_str(name, &formatted);
    let reloaded = reloader.finish();
    if let Some(error) = reloaded.errors.first() {
        return Err(Error {
            diagnostics: vec![Diagnostic::about_file(
                name,
                format!(
                    "the canonical form would not load back ({}); the file is left as it is",
                    Diagnostic::shortened(&error.to_string())
                ),
            )],
        });
    }
    if u64::try_from(formatted.len()).unwrap_or(u64::MAX) > limits.max_file_bytes {
        return Err(Error {
            diagnostics: vec![Diagnostic::about_file(
                name,
                format!(
                    "the canonical form would be {} bytes, over the limit of {} bytes for a definitions file (aliases are written out in full)",
                    formatted.len(),
                    limits.max_file_bytes
                ),
            )],
        });
    }
    Ok(Formatted {
        text: formatted,
        dropped_comments,
    })
}

/// Converts a group document written in Markdown (front matter with `title` and
/// `description`, a "Group Criteria" table `Block | Criteria Name | Operator | Value(s)` with
/// values in backticks, and the "Logic" sentence) into a checked YAML definition, as
/// `cohort import` does. Every row that cannot be read is reported with its line.
///
/// ```
/// let doc = "---\ntitle: 'BitLocker Key Missing'\ndescription: 'Group of machines where BitLocker Key was not found.'\n---\n## Group Criteria\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n| 1 | BitLocker Key Backup Status | Contains any of | `Not Available` |\n";
/// let yaml = cohort::import_markdown("seed.md", doc).unwrap();
/// assert!(yaml.starts_with("name: BitLocker Key Missing\ndescription: Group of machines where BitLocker Key was not found.\nblocks:\n"));
/// assert!(cohort::GroupSet::from_yaml_str(&yaml).is_ok());
/// ```
pub fn import_markdown(name: &str, text: &str) -> Result<String, Error> {
    let mut loader = cohort_load::Loader::new();
    loader.add_markdown(name, text);
    let loaded = loader.finish();
    let groups = loaded.groups.clone();
    GroupSet::finish(loaded)?;
    cohort_load::to_yaml(&groups, true).map_err(|error| Error {
        diagnostics: vec![Diagnostic::about_file(name, error.to_string())],
    })
}

/// The groups one machine belongs to.
#[derive(Clone, Debug)]
pub struct Membership<'g> {
    set: &'g GroupSet,
    ids: Vec<GroupId>,
}

impl<'g> Membership<'g> {
    /// The ids of the groups, in definition order.
    pub fn ids(&self) -> &[GroupId] {
        &self.ids
    }

    /// The names of the groups, in definition order.
    pub fn names(&self) -> impl Iterator<Item = &'g str> + '_ {
        self.ids.iter().map(|id| self.set.name(*id))
    }

    /// Whether the machine is in the group called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.set.id(name).is_some_and(|id| self.ids.contains(&id))
    }
}

/// Why definitions could not be loaded: every problem found, each a [`Diagnostic`].
#[derive(Debug)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// How many diagnostics `Display` shows before "... and N more problems".
    pub const SHOWN: usize = 100;

    /// Every problem found, in source order per file.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

/// Shows the first [`Error::SHOWN`] diagnostics, then how many more there are.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().take(Error::SHOWN).enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        if let Some(more) = self.diagnostics.len().checked_sub(Error::SHOWN)
            && more > 0
        {
            write!(
                f,
                "\n... and {more} more problem{} (fix these first)",
                if more == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// One problem in group definitions, with where it is and what was expected.
///
/// Its `Display` is `file:line:column: message`, then the group and criterion, then a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    group: Option<String>,
    criterion: Option<String>,
    message: String,
    help: Option<String>,
    snippet: Option<cohort_load::Excerpt>,
}

impl Diagnostic {
    /// The file (or the name given to the text), when known.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The line, from 1.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column, from 1.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The group the problem is in.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The criterion the problem is in, such as ``block 1, criterion 2 (`OS`)``.
    pub fn criterion(&self) -> Option<&str> {
        self.criterion.as_deref()
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it, when there is a likely fix.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The text of the offending line.
    pub fn line_text(&self) -> Option<&str> {
        self.snippet.as_ref().map(|s| s.text.as_str())
    }

    /// How many characters from [`Diagnostic::column`] the problem covers.
    pub fn width(&self) -> Option<usize> {
        self.snippet.as_ref().map(|s| s.width)
    }

    /// The source line of a diagnostic (a window of it, when the line is long).
    fn snippet(
        sources: &cohort_load::Sources,
        source: Option<syntax::SourceId>,
        position: Option<cohort_load::Position>,
        width: usize,
    ) -> Option<cohort_load::Excerpt> {
        sources.excerpt_at_position(source?, position?, width)
    }

    /// The longest message, group name or criterion label a diagnostic keeps, in
    /// characters: names and values quoted from a hostile file could otherwise make one
    /// message megabytes long.
    pub const MAX_TEXT: usize = 300;

    /// The longest text quoted in backticks that a message keeps whole, in characters.
    pub const MAX_QUOTED: usize = 80;

    /// `text` with every backtick-quoted part cut to [`Diagnostic::MAX_QUOTED`] characters
    /// (so that what is said about a long name or pattern survives), then the whole cut to
    /// [`Diagnostic::MAX_TEXT`]; `…` marks each cut.
    fn shortened(text: &str) -> String {
        let cut = |part: &str, limit: usize| match part.char_indices().nth(limit) {
            Some((at, _)) => format!("{}…", &part[..at]),
            None => part.to_owned(),
        };
        let mut out = String::with_capacity(text.len().min(4 * Self::MAX_TEXT));
        for (index, part) in text.split('`').enumerate() {
            if index > 0 {
                out.push('`');
            }
            if index % 2 == 1 {
                out.push_str(&cut(part, Self::MAX_QUOTED));
            } else {
                out.push_str(part);
            }
        }
        cut(&out, Self::MAX_TEXT)
    }

    /// This diagnostic with every text cut to [`Diagnostic::MAX_TEXT`] characters.
    fn bounded(mut self) -> Diagnostic {
        self.message = Self::shortened(&self.message);
        self.group = self.group.as_deref().map(Self::shortened);
        self.criterion = self.criterion.as_deref().map(Self::shortened);
        self.help = self.help.as_deref().map(Self::shortened);
        self
    }

    fn about_file(file: &str, message: String) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_owned()),
            line: None,
            column: None,
            group: None,
            criterion: None,
            message,
            help: None,
            snippet: None,
        }
        .bounded()
    }

    fn from_load(error: &cohort_load::LoadError, sources: &cohort_load::Sources) -> Diagnostic {
        let located = error.loc().and_then(|loc| sources.locate(loc));
        let excerpt = error.loc().and_then(|loc| sources.excerpt(loc));
        let position = error.position().or(located.map(|(p, _)| p));
        let width = located.map_or(1, |(_, width)| width);
        let file = error
            .path()
            .map(|path| path.display().to_string())
            .or_else(|| Some(sources.get(error.source_id()?)?.name.clone()));
        Diagnostic {
            file,
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            group: error.group().map(str::to_owned),
            criterion: error.criterion().map(str::to_owned),
            message: error.to_string(),
            help: error.help(),
            snippet: excerpt.or_else(|| Self::snippet(sources, error.source_id(), position, width)),
        }
        .bounded()
    }

    fn from_check(error: &cohort_check::CheckError, sources: &cohort_load::Sources) -> Diagnostic {
        let located = sources.locate(&error.loc);
        let excerpt = sources.excerpt(&error.loc);
        let position = located.map(|(p, _)| p);
        let width = located.map_or(1, |(_, width)| width);
        let help = error.help().or_else(|| {
            let first = error.related_loc()?;
            let name = sources.name(first)?;
            Some(match sources.position(first) {
                Some(position) => format!("first defined at {name}:{position}"),
                None => format!("first defined in {name}"),
            })
        });
        Diagnostic {
            file: sources.name(&error.loc).map(str::to_owned),
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
            group: Some(error.group.clone()),
            criterion: error.criterion.clone(),
            message: error.to_string(),
            help,
            snippet: excerpt.or_else(|| Self::snippet(sources, error.loc.source, position, width)),
        }
        .bounded()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
            if let (Some(line), Some(column)) = (self.line, self.column) {
                write!(f, "{line}:{column}:")?;
            }
            f.write_str(" ")?;
        }
        f.write_str(&self.message)?;
        match (&self.group, &self.criterion) {
            (Some(group), Some(criterion)) => write!(f, "\n  in group `{group}`, {criterion}")?,
            (Some(group), None) => write!(f, "\n  in group `{group}`")?,
            _ => {}
        }
        if let (Some(snippet), Some(line)) = (&self.snippet, self.line) {
            let number = line.to_string();
            let gutter = " ".repeat(number.len());
            let text = snippet.text.replace('\t', " ");
            let pad = " ".repeat(text.chars().take(snippet.column.saturating_sub(1)).count());
            let carets = "^".repeat(snippet.width);
            write!(
                f,
                "\n  {gutter} |\n  {number} | {text}\n  {gutter} | {pad}{carets}"
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}
