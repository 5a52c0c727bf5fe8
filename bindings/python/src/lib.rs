//! `cohort` for Python: load and check groups, evaluate machines (dicts, lists of dicts,
//! Arrow tables), explain, track live membership, diff definitions and lint them.
//!
//! Thin by design: values are converted at the edge (`convert.rs`: a dict is the JSON
//! object `json.dumps` would write; `arrow.rs`: Arrow C streams), everything else is the
//! Rust crates' (`cohort`, `cohort-arrow`, `cohort-lint`). The GIL is released while a
//! fleet is encoded into columns and evaluated.

mod arrow;
mod convert;

use cohort::{Change, GroupChangeKind, MembershipTracker, Timestamp};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::sync::{Arc, Mutex};

create_exception!(
    cohort,
    CohortError,
    PyException,
    "Group definitions (or a schema) that do not load or check. `str(error)` is what the CLI \
     prints; `error.diagnostics` lists every problem as a `Diagnostic`."
);

/// One problem in group definitions: where it is (`file`, `line`, `column`, `group`,
/// `criterion`), what is wrong (`message`) and how to fix it (`help`). `str()` is the
/// CLI's rendering, with the offending line.
#[pyclass(module = "cohort", frozen, get_all, eq)]
#[derive(Clone, PartialEq)]
struct Diagnostic {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    group: Option<String>,
    criterion: Option<String>,
    message: String,
    help: Option<String>,
    rendered: String,
}

#[pymethods]
impl Diagnostic {
    fn __str__(&self) -> String {
        self.rendered.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostic(file={}, line={}, column={}, group={}, message={:?})",
            py_repr(&self.file),
            py_repr(&self.line),
            py_repr(&self.column),
            py_repr(&self.group),
            self.message
        )
    }
}

/// `None`, or the value as `Debug` writes it (quoted for text).
fn py_repr<T: std::fmt::Debug>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "None".to_owned(), |value| format!("{value:?}"))
}

/// The Python exception for a `cohort::Error`, with its diagnostics attached.
fn definitions_error(py: Python<'_>, error: &cohort::Error) -> PyErr {
    let diagnostics: Vec<Diagnostic> = error
        .diagnostics()
        .iter()
        .map(|d| Diagnostic {
            file: d.file().map(str::to_owned),
            line: d.line(),
            column: d.column(),
            group: d.group().map(str::to_owned),
            criterion: d.criterion().map(str::to_owned),
            message: d.message().to_owned(),
            help: d.help().map(str::to_owned),
            rendered: d.to_string(),
        })
        .collect();
    let err = CohortError::new_err(error.to_string());
    if let Err(failure) = err.value(py).setattr("diagnostics", diagnostics) {
        return failure;
    }
    err
}

/// Refuses definitions or schema text over the limit the CLI holds every definitions file
/// to (`cohort_load::Limits::max_file_bytes`), with the loader's message for such a file.
fn within_file_limit(py: Python<'_>, name: &str, text: &str) -> PyResult<()> {
    let limit = cohort_load::Limits::default().max_file_bytes;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) <= limit {
        return Ok(());
    }
    let message = cohort_load::LoadError::TooLarge {
        path: name.into(),
        limit,
    }
    .to_string();
    let err = CohortError::new_err(message.clone());
    let diagnostic = Diagnostic {
        file: Some(name.to_owned()),
        line: None,
        column: None,
        group: None,
        criterion: None,
        rendered: format!("{name}: {message}"),
        message,
        help: None,
    };
    err.value(py).setattr("diagnostics", vec![diagnostic])?;
    Err(err)
}

/// A field schema (`fields:` with names, types and levels) to validate groups against.
#[pyclass(module = "cohort", frozen)]
struct Schema {
    schema: cohort::Schema,
}

#[pymethods]
impl Schema {
    /// Loads a schema file. Raises `CohortError` with every problem.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Schema> {
        cohort::Schema::load(path)
            .map(|schema| Schema { schema })
            .map_err(|e| definitions_error(py, &e))
    }

    /// Reads a schema from YAML text (named `<schema>` in diagnostics).
    #[staticmethod]
    fn from_yaml(py: Python<'_>, text: &str) -> PyResult<Schema> {
        within_file_limit(py, "<schema>", text)?;
        cohort::Schema::from_yaml_named("<schema>", text)
            .map(|schema| Schema { schema })
            .map_err(|e| definitions_error(py, &e))
    }

    /// The declared fields' record keys (`Name`, or `site:Name` for a field of a level).
    #[getter]
    fn fields(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.key()).collect()
    }
}

/// Why a machine is or is not in a group. `str()` is the text `cohort explain` prints.
#[pyclass(module = "cohort", frozen, get_all)]
struct Explanation {
    group: String,
    matched: bool,
    text: String,
}

#[pymethods]
impl Explanation {
    fn __str__(&self) -> String {
        self.text.clone()
    }

    fn __bool__(&self) -> bool {
        self.matched
    }

    fn __repr__(&self) -> String {
        format!(
            "Explanation(group={:?}, matched={})",
            self.group,
            if self.matched { "True" } else { "False" }
        )
    }
}

/// A membership change: `machine` `"joined"` or `"left"` `group`.
#[pyclass(module = "cohort", frozen, get_all, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
struct Event {
    machine: String,
    group: String,
    change: &'static str,
}

#[pymethods]
impl Event {
    #[new]
    fn new(machine: String, group: String, change: &str) -> PyResult<Event> {
        let change = match change {
            "joined" => "joined",
            "left" => "left",
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "`{other}` is not a change: \"joined\" or \"left\""
                )));
            }
        };
        Ok(Event {
            machine,
            group,
            change,
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(machine={:?}, group={:?}, change={:?})",
            self.machine, self.group, self.change
        )
    }
}

/// Checked, compiled groups: load once, evaluate many times. Immutable; share it between
/// threads.
#[pyclass(module = "cohort", frozen)]
struct GroupSet {
    set: Arc<cohort::GroupSet>,
    /// The fields the plan tests, in the order of its columnar builder.
    fields: Vec<String>,
    /// The same, as interned Python strings.
    keys: Vec<Py<PyString>>,
}

impl GroupSet {
    fn new(py: Python<'_>, set: cohort::GroupSet) -> GroupSet {
        let fields = set.plan().columnar_builder().fields().to_vec();
        let keys = convert::keys(py, &fields);
        GroupSet {
            set: Arc::new(set),
            fields,
            keys,
        }
    }

    fn group_named(&self, name: &str) -> PyResult<cohort::GroupId> {
        group_named(&self.set, name)
    }

    /// The members of every group over `machines` (dicts or Arrow data), the number of
    /// machines, and their ids when `id_field` is given. The GIL is released while the
    /// columns are built and evaluated.
    fn evaluate_any(
        &self,
        py: Python<'_>,
        machines: &Bound<'_, PyAny>,
        now: Timestamp,
        id_field: Option<&str>,
    ) -> PyResult<(cohort::engine::GroupBitsets, usize, Vec<String>)> {
        let set = &self.set;
        if arrow::is_arrow(machines) {
            let (fleet, ids) = arrow::read(py, machines, set.plan(), id_field)?;
            let bits = py.detach(|| fleet.evaluate(now));
            let ids = ids.iter().map(str::to_owned).collect();
            return Ok((bits, fleet.machine_count(), ids));
        }
        let rows = convert::rows(machines, &self.fields, &self.keys, id_field)?;
        let bits = py.detach(|| {
            let mut builder = set.plan().columnar_builder();
            if rows.width == 0 {
                (0..rows.count).for_each(|_| builder.push_with(|_| None));
            } else {
                for row in rows.values.chunks(rows.width) {
                    builder.push_with(|index| row.get(index)?.as_ref().map(convert::attr));
                }
            }
            builder.finish().evaluate(now)
        });
        let ids = rows
            .ids
            .into_iter()
            .enumerate()
            .map(|(position, id)| id.unwrap_or_else(|| format!("#{}", position + 1)))
            .collect();
        Ok((bits, rows.count, ids))
    }
}

/// The group called `name`, or a `KeyError` with the nearest name (as the CLI says it).
fn group_named(set: &cohort::GroupSet, name: &str) -> PyResult<cohort::GroupId> {
    set.id(name).ok_or_else(|| {
        let hint = cohort::engine::syntax::nearest(name, set.names())
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        PyKeyError::new_err(format!("no group named `{name}`{hint}"))
    })
}

#[pymethods]
impl GroupSet {
    /// Loads and checks a definitions file, or every `*.yaml` / `*.yml` file below a
    /// directory (as `cohort check` does), validated against `schema` when given. Raises
    /// `CohortError` with every problem.
    #[staticmethod]
    #[pyo3(signature = (path, schema = None))]
    fn load(py: Python<'_>, path: std::path::PathBuf, schema: Option<&Schema>) -> PyResult<Self> {
        let mut builder = cohort::GroupSet::builder();
        builder.path(path);
        if let Some(schema) = schema {
            builder.schema(&schema.schema);
        }
        builder
            .build()
            .map(|set| GroupSet::new(py, set))
            .map_err(|e| definitions_error(py, &e))
    }

    /// Loads and checks groups from YAML text (one group, or several under `groups:`),
    /// validated against `schema` when given; diagnostics call the text `name`
    /// (`<string>` unless given). Text over the limit of a definitions file is refused as
    /// the CLI refuses the file.
    #[staticmethod]
    #[pyo3(signature = (text, schema = None, name = "<string>"))]
    fn from_yaml(
        py: Python<'_>,
        text: &str,
        schema: Option<&Schema>,
        name: &str,
    ) -> PyResult<Self> {
        within_file_limit(py, name, text)?;
        let mut builder = cohort::GroupSet::builder();
        builder.text(name, text);
        if let Some(schema) = schema {
            builder.schema(&schema.schema);
        }
        builder
            .build()
            .map(|set| GroupSet::new(py, set))
            .map_err(|e| definitions_error(py, &e))
    }

    /// The group names, in definition order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.set.names().map(str::to_owned).collect()
    }

    /// The attribute names the groups read (each once).
    #[getter]
    fn fields_tested(&self) -> Vec<String> {
        self.fields.clone()
    }

    fn __len__(&self) -> usize {
        self.set.len()
    }

    fn __contains__(&self, name: &str) -> bool {
        self.set.id(name).is_some()
    }

    fn __repr__(&self) -> String {
        format!("<cohort.GroupSet of {} groups>", self.set.len())
    }

    /// The groups `machine` (a dict of attributes) belongs to at `now` (a `datetime`,
    /// RFC 3339 text, or `None` for the current time), in definition order.
    #[pyo3(signature = (machine, now = None))]
    fn evaluate(
        &self,
        machine: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let now = convert::now(now)?;
        let machine = convert::machine(machine, &self.fields, &self.keys, None)?;
        Ok(self
            .set
            .evaluate(&machine, now)
            .names()
            .map(str::to_owned)
            .collect())
    }

    /// The members of every group over a fleet: `{group: [machine ids]}`, groups in
    /// definition order, members in input order. `machines` is a list (or any iterable)
    /// of dicts, or Arrow data (`pyarrow.Table`, `RecordBatchReader`, anything with
    /// `__arrow_c_stream__`), read column by column. Ids come from `id_field`; a machine
    /// without one is `#N` (its 1-based position), as in `cohort eval`. The GIL is
    /// released while the fleet is encoded and evaluated.
    #[pyo3(signature = (machines, now = None, id_field = "id"))]
    fn evaluate_fleet<'py>(
        &self,
        py: Python<'py>,
        machines: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        id_field: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let now = convert::now(now)?;
        let (bits, _, ids) = self.evaluate_any(py, machines, now, Some(id_field))?;
        let result = PyDict::new(py);
        for group in self.set.plan().group_ids() {
            let members: Vec<&str> = bits
                .members(group)
                .iter()
                .filter_map(|position| ids.get(position).map(String::as_str))
                .collect();
            result.set_item(self.set.name(group), members)?;
        }
        Ok(result)
    }

    /// The groups of every machine of a fleet (as for `evaluate_fleet`), in input order:
    /// one list of group names per machine.
    #[pyo3(signature = (machines, now = None))]
    fn memberships<'py>(
        &self,
        py: Python<'py>,
        machines: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let now = convert::now(now)?;
        let (bits, count, _) = self.evaluate_any(py, machines, now, None)?;
        let mut per_machine: Vec<Vec<usize>> = vec![Vec::new(); count];
        for group in self.set.plan().group_ids() {
            for position in bits.members(group).iter() {
                if let Some(groups) = per_machine.get_mut(position) {
                    groups.push(group.index());
                }
            }
        }
        let names: Vec<Bound<'py, PyString>> = self
            .set
            .names()
            .map(|name| PyString::new(py, name))
            .collect();
        let lists = per_machine
            .into_iter()
            .map(|groups| PyList::new(py, groups.into_iter().filter_map(|index| names.get(index))));
        let result = PyList::empty(py);
        for list in lists {
            result.append(list?)?;
        }
        Ok(result)
    }

    /// Why `machine` (a dict) is or is not in `group` at `now`. Raises `KeyError` for a
    /// group that does not exist.
    #[pyo3(signature = (machine, group, now = None))]
    fn explain(
        &self,
        machine: &Bound<'_, PyAny>,
        group: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Explanation> {
        let now = convert::now(now)?;
        let id = self.group_named(group)?;
        let machine = convert::machine(machine, &self.fields, &self.keys, None)?;
        let explanation = self
            .set
            .plan()
            .explain(&machine, id, now)
            .ok_or_else(|| PyKeyError::new_err(format!("no group named `{group}`")))?;
        Ok(Explanation {
            text: explanation.to_string(),
            group: explanation.group,
            matched: explanation.matched,
        })
    }

    /// A live membership tracker over these groups at `now`, starting empty.
    #[pyo3(signature = (now = None))]
    fn tracker(&self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Tracker> {
        let now = convert::now(now)?;
        Ok(Tracker {
            cell: Mutex::new(TrackerCell::new(Arc::clone(&self.set), |set| {
                set.tracker(now)
            })),
            fields: self.fields.clone(),
            keys: self.keys.iter().map(|key| key.clone_ref(py)).collect(),
        })
    }
}

/// The engine's tracker, borrowing the plan of the groups its cell keeps alive.
type LiveTracker<'a> = MembershipTracker<'a>;

self_cell::self_cell!(
    /// A tracker together with the groups it keeps alive.
    struct TrackerCell {
        owner: Arc<cohort::GroupSet>,
        #[not_covariant]
        dependent: LiveTracker,
    }
);

/// Live membership over a changing fleet: feed it machines, get join and leave events.
/// Only the groups that read a changed field are evaluated again. Safe to share between
/// threads: calls take turns.
#[pyclass(module = "cohort", frozen)]
struct Tracker {
    cell: Mutex<TrackerCell>,
    /// The fields the groups test, and their interned names (as `GroupSet`'s).
    fields: Vec<String>,
    keys: Vec<Py<PyString>>,
}

fn events(set: &cohort::GroupSet, events: Vec<cohort::MembershipEvent>) -> Vec<Event> {
    events
        .into_iter()
        .map(|event| Event {
            machine: event.machine.to_string(),
            group: set.name(event.group).to_owned(),
            change: match event.change {
                Change::Joined => "joined",
                Change::Left => "left",
            },
        })
        .collect()
}

impl Tracker {
    /// The tracker, for one call. A call that panicked inside the engine leaves the lock
    /// poisoned: the tracker's state may be half updated, so it is refused from then on.
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, TrackerCell>> {
        self.cell.lock().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err(
                "this tracker failed inside cohort earlier (a bug); build a new one",
            )
        })
    }
}

#[pymethods]
impl Tracker {
    /// Adds machine `id` (its attributes a dict), or replaces it; returns the memberships
    /// it gained and lost.
    fn upsert(&self, id: &str, machine: &Bound<'_, PyAny>) -> PyResult<Vec<Event>> {
        let machine = convert::machine(machine, &self.fields, &self.keys, None)?;
        Ok(self
            .lock()?
            .with_dependent_mut(|set, tracker| events(set, tracker.upsert(id, &machine))))
    }

    /// Removes machine `id`: it leaves every group it was in.
    fn remove(&self, id: &str) -> PyResult<Vec<Event>> {
        Ok(self
            .lock()?
            .with_dependent_mut(|set, tracker| events(set, tracker.remove(id))))
    }

    /// Moves the clock to `now`: groups with relative-date criteria are evaluated again.
    fn set_now(&self, now: &Bound<'_, PyAny>) -> PyResult<Vec<Event>> {
        let now = convert::now(Some(now))?;
        Ok(self
            .lock()?
            .with_dependent_mut(|set, tracker| events(set, tracker.set_now(now))))
    }

    /// The ids of `group`'s current members.
    fn members(&self, group: &str) -> PyResult<Vec<String>> {
        self.lock()?.with_dependent(|set, tracker| {
            let id = group_named(set, group)?;
            Ok(tracker.members(id).map(str::to_owned).collect())
        })
    }

    /// Whether machine `id` is in `group` now.
    fn contains(&self, id: &str, group: &str) -> PyResult<bool> {
        self.lock()?.with_dependent(|set, tracker| {
            let group = group_named(set, group)?;
            Ok(tracker.contains(id, group))
        })
    }

    /// The number of machines tracked.
    fn __len__(&self) -> PyResult<usize> {
        Ok(self
            .lock()?
            .with_dependent(|_, tracker| tracker.machine_count()))
    }
}

/// What changing from `before` to `after` does to the members of every group over
/// `machines` (a list of dicts) at `now`: `{"machines": N, "unchanged": U, "groups":
/// [{"name", "kind", "before", "after", "joins", "leaves"}]}`, `kind` one of `"added"`,
/// `"removed"`, `"changed"`, `"through_member_of"`, `joins` / `leaves` machine ids.
#[pyfunction]
#[pyo3(signature = (before, after, machines, now = None, id_field = "id"))]
fn diff<'py>(
    py: Python<'py>,
    before: &GroupSet,
    after: &GroupSet,
    machines: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
    id_field: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let now = convert::now(now)?;
    let mut fields = before.fields.clone();
    for field in &after.fields {
        if !fields.contains(field) {
            fields.push(field.clone());
        }
    }
    let keys = convert::keys(py, &fields);
    let mut maps = Vec::new();
    let mut ids = Vec::new();
    for (position, machine) in machines.try_iter()?.enumerate() {
        let machine = machine?;
        maps.push(convert::machine(&machine, &fields, &keys, Some(position))?);
        ids.push(
            convert::id(&machine, id_field, position)?
                .unwrap_or_else(|| format!("#{}", position + 1)),
        );
    }
    let (old, new) = (&before.set, &after.set);
    let diff = py.detach(|| cohort::DefinitionDiff::over(old, new, &maps, now));
    let id_list = |positions: &[usize]| -> Vec<String> {
        positions
            .iter()
            .filter_map(|&p| ids.get(p).cloned())
            .collect()
    };
    let groups = PyList::empty(py);
    for change in &diff.groups {
        let item = PyDict::new(py);
        item.set_item("name", &change.name)?;
        item.set_item(
            "kind",
            match change.kind {
                GroupChangeKind::Added => "added",
                GroupChangeKind::Removed => "removed",
                GroupChangeKind::Changed => "changed",
                GroupChangeKind::ThroughMemberOf => "through_member_of",
            },
        )?;
        item.set_item("before", change.before)?;
        item.set_item("after", change.after)?;
        item.set_item("joins", id_list(&change.joins))?;
        item.set_item("leaves", id_list(&change.leaves))?;
        groups.append(item)?;
    }
    let result = PyDict::new(py);
    result.set_item("machines", diff.machines)?;
    result.set_item("unchanged", diff.unchanged)?;
    result.set_item("groups", groups)?;
    Ok(result)
}

/// Findings as dicts (`code`, `severity`, `file`, `line`, `column`, `group`, `criterion`,
/// `message`, `help`), as `cohort lint --format json` writes them.
fn findings<'py>(
    py: Python<'py>,
    findings: &[cohort_lint::Finding],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for finding in findings {
        let item = PyDict::new(py);
        item.set_item("code", finding.code.as_str())?;
        item.set_item("severity", finding.severity.as_str())?;
        item.set_item("file", &finding.file)?;
        item.set_item("line", finding.line)?;
        item.set_item("column", finding.column)?;
        item.set_item("group", &finding.group)?;
        item.set_item("criterion", &finding.criterion)?;
        item.set_item("message", &finding.message)?;
        item.set_item("help", &finding.help)?;
        list.append(item)?;
    }
    Ok(list)
}

/// Lints group definitions given as YAML text (static findings: groups that can never
/// hold, redundant blocks, console traps...), validated against `schema` when given.
/// Definitions that do not load or check raise `CohortError` with every problem.
#[pyfunction]
#[pyo3(signature = (text, schema = None))]
fn lint_yaml<'py>(
    py: Python<'py>,
    text: &str,
    schema: Option<&Schema>,
) -> PyResult<Bound<'py, PyList>> {
    // The set is built first for its located diagnostics when the text does not check.
    GroupSet::from_yaml(py, text, schema, "<string>")?;
    let definitions = cohort_lint::Definitions::from_yaml_named(
        "<string>",
        text,
        schema.map(|s| s.schema.definition().clone()),
    )
    .map_err(|e| CohortError::new_err(e.to_string()))?;
    findings(py, &definitions.lint())
}

/// Lints a definitions file or directory, as `cohort lint` does (static findings).
#[pyfunction]
#[pyo3(signature = (path, schema = None))]
fn lint_path<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    schema: Option<&Schema>,
) -> PyResult<Bound<'py, PyList>> {
    GroupSet::load(py, path.clone(), schema)?;
    let definitions =
        cohort_lint::Definitions::load([path], schema.map(|s| s.schema.definition().clone()))
            .map_err(|e| CohortError::new_err(e.to_string()))?;
    findings(py, &definitions.lint())
}

/// cohort: the criteria rule engine for the dynamic groups of RMM tools.
#[pymodule]
fn _cohort(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CohortError", m.py().get_type::<CohortError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<GroupSet>()?;
    m.add_class::<Schema>()?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<Explanation>()?;
    m.add_class::<Event>()?;
    m.add_class::<Tracker>()?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add_function(wrap_pyfunction!(lint_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(lint_path, m)?)?;
    Ok(())
}
