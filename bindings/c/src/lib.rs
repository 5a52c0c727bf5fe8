//! cohort over a C ABI: load and check groups, evaluate machines given as JSON, explain a
//! membership, and track live membership with join/leave events.
//!
//! The header `include/cohort.h` is generated from this file by cbindgen (`.ci/run`
//! regenerates it and fails when the committed copy differs). Its opening comment states the
//! rules every function follows: NUL-terminated UTF-8 strings in, JSON strings out (freed
//! with [`cohort_string_free`]), opaque handles freed exactly once, a [`CohortStatus`] per
//! call with the details in [`cohort_last_error`] / [`cohort_last_error_json`], and no
//! unwinding across the boundary (every entry point runs under `catch_unwind`).
//!
//! The bindings are thin: text is read by the same readers as the CLI's, with the same
//! limits. Definitions go through `cohort-load` (a text is held to the limit of a
//! definitions file, [`cohort_load::Limits::max_file_bytes`]); machines through
//! `cohort-fleet` (`cohort_fleet::read` for evaluation, as `cohort eval`;
//! `cohort_fleet::records` where every attribute is needed, as `cohort explain`), so a line
//! past `cohort_fleet::MAX_RECORD_BYTES` or a list past `cohort_fleet::MAX_LIST_ELEMENTS`
//! is refused with the CLI's message.

use cohort::{Change, GroupId, GroupSet, MembershipEvent, MembershipTracker, Schema, Timestamp};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a call did. Anything but `COHORT_STATUS_OK` leaves the out-parameters `NULL`, and
/// `cohort_last_error()` says what went wrong.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument (or out-parameter) was `NULL`.
    NullArgument = 1,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// The group definitions or the schema do not load or check; the diagnostics are in
    /// `cohort_last_error_json()`.
    InvalidDefinitions = 3,
    /// The machines JSON could not be read (invalid JSON, not an object, over a limit).
    InvalidMachines = 4,
    /// Another argument was wrong: a time that is not RFC 3339, a group that does not
    /// exist.
    InvalidArgument = 5,
    /// A bug inside cohort (a panic, caught at the boundary). Please report it.
    Internal = 6,
}

/// A set of checked, compiled groups. Immutable: share it between threads freely.
pub struct CohortGroups {
    set: Arc<GroupSet>,
}

/// A tracker's plan borrowed from the groups it keeps alive.
type Tracker<'a> = MembershipTracker<'a>;

self_cell::self_cell!(
    /// A membership tracker together with the groups it evaluates.
    struct TrackerCell {
        owner: Arc<GroupSet>,
        #[not_covariant]
        dependent: Tracker,
    }
);

/// Live membership over a changing fleet. One thread at a time.
pub struct CohortTracker {
    cell: TrackerCell,
}

/// One problem of a failed call, as `cohort_last_error_json()` lists it.
#[derive(Debug)]
struct Problem {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    group: Option<String>,
    criterion: Option<String>,
    message: String,
    help: Option<String>,
}

impl Problem {
    fn to_json(&self) -> Value {
        json!({
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "group": self.group,
            "criterion": self.criterion,
            "message": self.message,
            "help": self.help,
        })
    }
}

/// Why a call failed.
#[derive(Debug)]
struct Failure {
    status: CohortStatus,
    message: String,
    problems: Vec<Problem>,
}

impl Failure {
    fn new(status: CohortStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// Definitions that do not load or check: the message the CLI prints, and every
    /// diagnostic.
    fn definitions(error: &cohort::Error) -> Failure {
        Failure {
            status: CohortStatus::InvalidDefinitions,
            message: error.to_string(),
            problems: error
                .diagnostics()
                .iter()
                .map(|d| Problem {
                    file: d.file().map(str::to_owned),
                    line: d.line(),
                    column: d.column(),
                    group: d.group().map(str::to_owned),
                    criterion: d.criterion().map(str::to_owned),
                    message: d.message().to_owned(),
                    help: d.help().map(str::to_owned),
                })
                .collect(),
        }
    }

    fn status_name(&self) -> &'static str {
        match self.status {
            CohortStatus::Ok => "ok",
            CohortStatus::NullArgument => "null_argument",
            CohortStatus::InvalidUtf8 => "invalid_utf8",
            CohortStatus::InvalidDefinitions => "invalid_definitions",
            CohortStatus::InvalidMachines => "invalid_machines",
            CohortStatus::InvalidArgument => "invalid_argument",
            CohortStatus::Internal => "internal",
        }
    }
}

/// The last failure on this thread, as C strings (kept until the next call on the thread).
struct LastError {
    message: CString,
    json: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// `text` as a C string: a NUL inside (from hostile input quoted in a message) is written
/// as U+FFFD, so the rest of the message is not cut off.
fn c_string(text: String) -> CString {
    CString::new(text).unwrap_or_else(|error| {
        let text = String::from_utf8_lossy(&error.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(text).unwrap_or_default()
    })
}

fn set_last_error(failure: &Failure) {
    let json = json!({
        "status": failure.status_name(),
        "message": failure.message,
        "diagnostics": failure.problems.iter().map(Problem::to_json).collect::<Vec<_>>(),
    });
    let last = LastError {
        message: c_string(failure.message.clone()),
        json: c_string(json.to_string()),
    };
    LAST_ERROR.with(|cell| *cell.borrow_mut() = Some(last));
}

fn clear_last_error() {
    LAST_ERROR.with(|cell| *cell.borrow_mut() = None);
}

/// Runs one entry point: clears the last error, catches any panic, records a failure.
fn entry(body: impl FnOnce() -> Result<(), Failure>) -> CohortStatus {
    clear_last_error();
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return CohortStatus::Ok,
        Ok(Err(failure)) => failure,
        Err(_) => Failure::new(
            CohortStatus::Internal,
            "internal error: cohort panicked (a bug; please report it with the input)",
        ),
    };
    // Building the error's strings allocates; it must not unwind either.
    let status = failure.status;
    if catch_unwind(AssertUnwindSafe(|| set_last_error(&failure))).is_err() {
        clear_last_error();
    }
    status
}

/// The text of the NUL-terminated string at `ptr`; `what` names the argument in errors.
///
/// # Safety
/// `ptr` is `NULL` or points to a NUL-terminated string that stays valid for `'a`.
unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            CohortStatus::NullArgument,
            format!("`{what}` is NULL"),
        ));
    }
    // SAFETY: non-null, and NUL-terminated and alive for 'a by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    cohort_fleet::utf8(bytes)
        .map_err(|message| Failure::new(CohortStatus::InvalidUtf8, format!("`{what}`: {message}")))
}

/// Like [`text`], with `NULL` read as absent.
///
/// # Safety
/// As for [`text`].
unsafe fn optional_text<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's contract, passed on.
        unsafe { text(ptr, what) }.map(Some)
    }
}

/// The evaluation time: `NULL` is the system clock's now.
///
/// # Safety
/// As for [`text`].
unsafe fn now_at(ptr: *const c_char) -> Result<Timestamp, Failure> {
    // SAFETY: the caller's contract, passed on.
    match unsafe { optional_text(ptr, "now") }? {
        None => Ok(Timestamp::now()),
        Some(now) => Timestamp::parse(now).ok_or_else(|| {
            Failure::new(
                CohortStatus::InvalidArgument,
                format!("`{now}` is not an RFC 3339 time such as 2026-11-25T12:00:00Z"),
            )
        }),
    }
}

/// Checks that an out-parameter can be written and sets it to `NULL`.
///
/// # Safety
/// `out` is `NULL` or valid for writing one pointer.
unsafe fn reset<T>(out: *mut *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::new(
            CohortStatus::NullArgument,
            format!("`{what}` is NULL"),
        ));
    }
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { *out = std::ptr::null_mut() };
    Ok(())
}

/// Writes `value` as JSON to the out-parameter `out` (already checked by [`reset`]).
///
/// # Safety
/// `out` is valid for writing one pointer.
unsafe fn put_json(out: *mut *mut c_char, value: &Value) {
    // serde_json escapes NUL, so the text has no NUL inside.
    let text = c_string(value.to_string());
    // SAFETY: writable by the caller's contract.
    unsafe { *out = text.into_raw() };
}

/// The groups behind a handle.
///
/// # Safety
/// `groups` is `NULL` or a live handle from `cohort_groups_*`.
unsafe fn groups_of<'a>(groups: *const CohortGroups) -> Result<&'a CohortGroups, Failure> {
    // SAFETY: a live handle or NULL, by the caller's contract.
    unsafe { groups.as_ref() }
        .ok_or_else(|| Failure::new(CohortStatus::NullArgument, "`groups` is NULL"))
}

/// The tracker behind a handle.
///
/// # Safety
/// `tracker` is `NULL` or a live handle from `cohort_tracker_new`, used by one thread.
unsafe fn tracker_of<'a>(tracker: *mut CohortTracker) -> Result<&'a mut CohortTracker, Failure> {
    // SAFETY: a live handle or NULL, not aliased, by the caller's contract.
    unsafe { tracker.as_mut() }
        .ok_or_else(|| Failure::new(CohortStatus::NullArgument, "`tracker` is NULL"))
}

/// Definitions text over the limit of a definitions file is refused as the CLI refuses
/// such a file.
fn within_file_limit(name: &str, text: &str) -> Result<(), Failure> {
    let limit = cohort_load::Limits::default().max_file_bytes;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > limit {
        let error = cohort_load::LoadError::TooLarge {
            path: name.into(),
            limit,
        };
        return Err(Failure {
            status: CohortStatus::InvalidDefinitions,
            message: error.to_string(),
            problems: vec![Problem {
                file: Some(name.to_owned()),
                line: None,
                column: None,
                group: None,
                criterion: None,
                message: error.to_string(),
                help: None,
            }],
        });
    }
    Ok(())
}

fn hand_out_groups(set: GroupSet, out: *mut *mut CohortGroups) {
    let handle = Box::new(CohortGroups { set: Arc::new(set) });
    // SAFETY: `out` was checked by `reset` and is writable by the caller's contract.
    unsafe { *out = Box::into_raw(handle) };
}

/// Loads and checks groups from YAML text (one group, or several under `groups:`),
/// validated against the field schema `schema_yaml` when it is not `NULL`. Diagnostics
/// name the text `<string>` (and the schema `<schema>`).
///
/// On success `*out` is a new handle, to free with `cohort_groups_free`.
///
/// # Safety
/// `yaml` and `schema_yaml` are `NULL` or NUL-terminated strings; `out` is `NULL` or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_groups_from_yaml(
    yaml: *const c_char,
    schema_yaml: *const c_char,
    out: *mut *mut CohortGroups,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out, "out") }?;
        // SAFETY: as above.
        let yaml = unsafe { text(yaml, "yaml") }?;
        // SAFETY: as above.
        let schema_yaml = unsafe { optional_text(schema_yaml, "schema_yaml") }?;
        within_file_limit("<string>", yaml)?;
        let set = match schema_yaml {
            None => GroupSet::from_yaml_str(yaml),
            Some(schema_yaml) => {
                within_file_limit("<schema>", schema_yaml)?;
                let schema = Schema::from_yaml_named("<schema>", schema_yaml)
                    .map_err(|e| Failure::definitions(&e))?;
                GroupSet::builder()
                    .text("<string>", yaml)
                    .schema(&schema)
                    .build()
            }
        }
        .map_err(|e| Failure::definitions(&e))?;
        hand_out_groups(set, out);
        Ok(())
    })
}

/// Loads and checks groups from a definitions file, or every `*.yaml` / `*.yml` file below
/// a directory (as `cohort check` does, with its limits), validated against the schema file
/// `schema_path` when it is not `NULL`.
///
/// On success `*out` is a new handle, to free with `cohort_groups_free`.
///
/// # Safety
/// `path` and `schema_path` are `NULL` or NUL-terminated strings; `out` is `NULL` or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_groups_load(
    path: *const c_char,
    schema_path: *const c_char,
    out: *mut *mut CohortGroups,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out, "out") }?;
        // SAFETY: as above.
        let path = unsafe { text(path, "path") }?;
        // SAFETY: as above.
        let schema_path = unsafe { optional_text(schema_path, "schema_path") }?;
        let schema = schema_path
            .map(Schema::load)
            .transpose()
            .map_err(|e| Failure::definitions(&e))?;
        let mut builder = GroupSet::builder();
        builder.path(path);
        if let Some(schema) = &schema {
            builder.schema(schema);
        }
        let set = builder.build().map_err(|e| Failure::definitions(&e))?;
        hand_out_groups(set, out);
        Ok(())
    })
}

/// Frees a groups handle. `NULL` is ignored. Trackers made from it stay usable.
///
/// # Safety
/// `groups` is `NULL` or a handle not freed before; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_groups_free(groups: *mut CohortGroups) {
    if groups.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a handle from `Box::into_raw`, freed once, by the caller's contract.
        drop(unsafe { Box::from_raw(groups) });
    }));
}

/// The group names in definition order, as a JSON array of strings.
///
/// # Safety
/// `groups` is `NULL` or a live handle; `out_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_groups_names(
    groups: *const CohortGroups,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_json, "out_json") }?;
        // SAFETY: as above.
        let groups = unsafe { groups_of(groups) }?;
        let names: Vec<&str> = groups.set.names().collect();
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_json, &json!(names)) };
        Ok(())
    })
}

/// Reads JSON machines with the fleet reader `cohort eval` uses: NDJSON, a JSON array,
/// objects one after another or `{"machines": [...]}`, ids from the `id` field.
fn read_fleet<'p>(
    set: &'p GroupSet,
    machines: &str,
    id_field: &str,
) -> Result<cohort_fleet::Fleet<'p>, Failure> {
    let source = cohort_fleet::Source::Reader {
        name: "machines".to_owned(),
        reader: Box::new(machines.as_bytes()),
    };
    let mut options = cohort_fleet::Options::new(cohort_fleet::Format::Json);
    options.id_field = id_field.to_owned();
    cohort_fleet::read(set.plan(), source, &options)
        .map_err(|error| Failure::new(CohortStatus::InvalidMachines, error.to_string()))
}

/// Evaluates a fleet of machines given as JSON (an array of objects, NDJSON, or
/// `{"machines": [...]}`; ids from each machine's `id` field, `#N` when it has none) at
/// `now` (RFC 3339; `NULL` is the system clock's now).
///
/// `*out_json` is what `cohort eval --format json` prints:
/// `{"machines": N, "groups": [{"name": "...", "count": C, "members": ["id", ...]}]}`,
/// groups in definition order, members in input order.
///
/// # Safety
/// `groups` is `NULL` or a live handle; the strings are `NULL` or NUL-terminated;
/// `out_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_evaluate(
    groups: *const CohortGroups,
    machines_json: *const c_char,
    now: *const c_char,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    // SAFETY: the caller's contract, passed on.
    unsafe { cohort_evaluate_ids(groups, machines_json, now, c"id".as_ptr(), out_json) }
}

/// Like `cohort_evaluate`, with the machines' ids read from the field `id_field` (as
/// `cohort eval --id-field`; `NULL` is `id`).
///
/// # Safety
/// As for `cohort_evaluate`; `id_field` is `NULL` or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_evaluate_ids(
    groups: *const CohortGroups,
    machines_json: *const c_char,
    now: *const c_char,
    id_field: *const c_char,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_json, "out_json") }?;
        // SAFETY: as above.
        let groups = unsafe { groups_of(groups) }?;
        // SAFETY: as above.
        let machines = unsafe { text(machines_json, "machines_json") }?;
        // SAFETY: as above.
        let now = unsafe { now_at(now) }?;
        // SAFETY: as above.
        let id_field = unsafe { optional_text(id_field, "id_field") }?.unwrap_or("id");
        let fleet = read_fleet(&groups.set, machines, id_field)?;
        let members = fleet.columns().evaluate(now);
        let ids = fleet.ids();
        // Written as `cohort eval --format json` writes it, keys in the same order.
        let quoted = |text: &str| Value::String(text.to_owned()).to_string();
        let mut out = format!("{{\"machines\":{},\"groups\":[", fleet.machine_count());
        for (index, id) in groups.set.plan().group_ids().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let bits = members.members(id);
            let list: Vec<String> = bits
                .iter()
                .filter_map(|position| ids.get(position))
                .map(|id| quoted(&id))
                .collect();
            out.push_str(&format!(
                "{{\"name\":{},\"count\":{},\"members\":[{}]}}",
                quoted(groups.set.name(id)),
                list.len(),
                list.join(",")
            ));
        }
        out.push_str("]}");
        // SAFETY: checked by `reset`; serde_json escapes NUL, so the text has none inside.
        unsafe { *out_json = c_string(out).into_raw() };
        Ok(())
    })
}

/// Exactly one machine in `json`, read with every attribute (as `cohort explain` reads
/// machines).
fn one_machine(json: &str) -> Result<cohort_fleet::MachineRecord, Failure> {
    let mut records = cohort_fleet::records(json.as_bytes(), cohort_fleet::Format::Json)
        .map_err(|message| Failure::new(CohortStatus::InvalidMachines, message))?;
    match records.len() {
        1 => Ok(records.remove(0)),
        count => Err(Failure::new(
            CohortStatus::InvalidMachines,
            format!("expected one machine (a JSON object of attributes), found {count}"),
        )),
    }
}

/// The group called `name`, or the CLI's error with the nearest name.
fn group_named(set: &GroupSet, name: &str) -> Result<GroupId, Failure> {
    set.id(name).ok_or_else(|| {
        let hint = cohort::engine::syntax::nearest(name, set.names())
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        Failure::new(
            CohortStatus::InvalidArgument,
            format!("no group named `{name}`{hint}"),
        )
    })
}

/// The groups one machine (a JSON object of attributes) belongs to at `now`, as a JSON
/// array of group names in definition order.
///
/// # Safety
/// `groups` is `NULL` or a live handle; the strings are `NULL` or NUL-terminated;
/// `out_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_machine_groups(
    groups: *const CohortGroups,
    machine_json: *const c_char,
    now: *const c_char,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_json, "out_json") }?;
        // SAFETY: as above.
        let groups = unsafe { groups_of(groups) }?;
        // SAFETY: as above.
        let machine = unsafe { text(machine_json, "machine_json") }?;
        // SAFETY: as above.
        let now = unsafe { now_at(now) }?;
        let fleet = read_fleet(&groups.set, machine, "id")?;
        if fleet.machine_count() != 1 {
            return Err(Failure::new(
                CohortStatus::InvalidMachines,
                format!(
                    "expected one machine (a JSON object of attributes), found {}",
                    fleet.machine_count()
                ),
            ));
        }
        let members = fleet.columns().evaluate(now);
        let names: Vec<&str> = groups
            .set
            .plan()
            .group_ids()
            .filter(|&id| members.members(id).contains(0))
            .map(|id| groups.set.name(id))
            .collect();
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_json, &json!(names)) };
        Ok(())
    })
}

/// Why one machine (a JSON object) is or is not in group `group` at `now`:
/// `{"group": "...", "matched": true|false, "explanation": "..."}`, the explanation the
/// text `cohort explain` prints.
///
/// # Safety
/// `groups` is `NULL` or a live handle; the strings are `NULL` or NUL-terminated;
/// `out_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_explain(
    groups: *const CohortGroups,
    machine_json: *const c_char,
    group: *const c_char,
    now: *const c_char,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_json, "out_json") }?;
        // SAFETY: as above.
        let groups = unsafe { groups_of(groups) }?;
        // SAFETY: as above.
        let machine = unsafe { text(machine_json, "machine_json") }?;
        // SAFETY: as above.
        let group = unsafe { text(group, "group") }?;
        // SAFETY: as above.
        let now = unsafe { now_at(now) }?;
        let id = group_named(&groups.set, group)?;
        let machine = one_machine(machine)?;
        let explanation = groups
            .set
            .plan()
            .explain(&machine, id, now)
            .ok_or_else(|| Failure::new(CohortStatus::Internal, "no explanation"))?;
        let value = json!({
            "group": explanation.group,
            "matched": explanation.matched,
            "explanation": explanation.to_string(),
        });
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_json, &value) };
        Ok(())
    })
}

/// A new, empty membership tracker over `groups` at `now` (`NULL`: the system clock's now).
/// It keeps the groups alive; free it with `cohort_tracker_free`.
///
/// # Safety
/// `groups` is `NULL` or a live handle; `now` is `NULL` or NUL-terminated; `out` is
/// `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_new(
    groups: *const CohortGroups,
    now: *const c_char,
    out: *mut *mut CohortTracker,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out, "out") }?;
        // SAFETY: as above.
        let groups = unsafe { groups_of(groups) }?;
        // SAFETY: as above.
        let now = unsafe { now_at(now) }?;
        let cell = TrackerCell::new(Arc::clone(&groups.set), |set| set.tracker(now));
        let handle = Box::new(CohortTracker { cell });
        // SAFETY: checked by `reset`.
        unsafe { *out = Box::into_raw(handle) };
        Ok(())
    })
}

/// Frees a tracker. `NULL` is ignored.
///
/// # Safety
/// `tracker` is `NULL` or a handle not freed before; it is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_free(tracker: *mut CohortTracker) {
    if tracker.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a handle from `Box::into_raw`, freed once, by the caller's contract.
        drop(unsafe { Box::from_raw(tracker) });
    }));
}

/// Membership events as JSON: `[{"machine": "...", "group": "...", "change": "joined"}]`.
fn events_json(set: &GroupSet, events: &[MembershipEvent]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|event| {
                json!({
                    "machine": &*event.machine,
                    "group": set.name(event.group),
                    "change": match event.change {
                        Change::Joined => "joined",
                        Change::Left => "left",
                    },
                })
            })
            .collect(),
    )
}

/// Adds machine `id` (its attributes a JSON object), or replaces it; `*out_events_json` is
/// the memberships it gained and lost, as
/// `[{"machine": "...", "group": "...", "change": "joined"|"left"}]`.
///
/// # Safety
/// `tracker` is `NULL` or a live handle no other thread is using; the strings are `NULL`
/// or NUL-terminated; `out_events_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_upsert(
    tracker: *mut CohortTracker,
    id: *const c_char,
    machine_json: *const c_char,
    out_events_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_events_json, "out_events_json") }?;
        // SAFETY: as above.
        let tracker = unsafe { tracker_of(tracker) }?;
        // SAFETY: as above.
        let id = unsafe { text(id, "id") }?;
        // SAFETY: as above.
        let machine = unsafe { text(machine_json, "machine_json") }?;
        let machine = one_machine(machine)?;
        let events = tracker
            .cell
            .with_dependent_mut(|set, tracker| events_json(set, &tracker.upsert(id, &machine)));
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_events_json, &events) };
        Ok(())
    })
}

/// Removes machine `id` (a machine the tracker does not have is no event); the events are
/// as for `cohort_tracker_upsert`.
///
/// # Safety
/// As for `cohort_tracker_upsert`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_remove(
    tracker: *mut CohortTracker,
    id: *const c_char,
    out_events_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_events_json, "out_events_json") }?;
        // SAFETY: as above.
        let tracker = unsafe { tracker_of(tracker) }?;
        // SAFETY: as above.
        let id = unsafe { text(id, "id") }?;
        let events = tracker
            .cell
            .with_dependent_mut(|set, tracker| events_json(set, &tracker.remove(id)));
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_events_json, &events) };
        Ok(())
    })
}

/// Moves the tracker's clock to `now` (RFC 3339, required): groups with relative-date
/// criteria are evaluated again; the events are as for `cohort_tracker_upsert`.
///
/// # Safety
/// As for `cohort_tracker_upsert`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_set_now(
    tracker: *mut CohortTracker,
    now: *const c_char,
    out_events_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_events_json, "out_events_json") }?;
        // SAFETY: as above.
        let tracker = unsafe { tracker_of(tracker) }?;
        // SAFETY: as above.
        unsafe { text(now, "now") }?;
        // SAFETY: as above.
        let now = unsafe { now_at(now) }?;
        let events = tracker
            .cell
            .with_dependent_mut(|set, tracker| events_json(set, &tracker.set_now(now)));
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_events_json, &events) };
        Ok(())
    })
}

/// The current members of group `group`, as a JSON array of machine ids (in no particular
/// order).
///
/// # Safety
/// `tracker` is `NULL` or a live handle no other thread is changing; `group` is `NULL` or
/// NUL-terminated; `out_json` is `NULL` or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_tracker_members(
    tracker: *const CohortTracker,
    group: *const c_char,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    entry(|| {
        // SAFETY: the caller's contract, passed on.
        unsafe { reset(out_json, "out_json") }?;
        // SAFETY: a live handle or NULL, by the caller's contract.
        let tracker = unsafe { tracker.as_ref() }
            .ok_or_else(|| Failure::new(CohortStatus::NullArgument, "`tracker` is NULL"))?;
        // SAFETY: as above.
        let group = unsafe { text(group, "group") }?;
        let members = tracker.cell.with_dependent(|set, tracker| {
            let id = group_named(set, group)?;
            Ok::<Value, Failure>(json!(tracker.members(id).collect::<Vec<_>>()))
        })?;
        // SAFETY: checked by `reset`.
        unsafe { put_json(out_json, &members) };
        Ok(())
    })
}

/// The message of the last failed call on this thread, or `NULL` when the last call
/// succeeded: what the CLI prints for the same problem without its `error: ` prefix (for
/// definitions, every diagnostic as `cohort check` shows it, without the closing count). The string belongs to the library and
/// stays valid until the next call into cohort on this thread; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn cohort_last_error() -> *const c_char {
    catch_unwind(|| {
        LAST_ERROR.with(|cell| {
            cell.borrow()
                .as_ref()
                .map_or(std::ptr::null(), |last| last.message.as_ptr())
        })
    })
    .unwrap_or(std::ptr::null())
}

/// The last failed call on this thread as JSON, or `NULL` when the last call succeeded:
/// `{"status": "invalid_definitions", "message": "...", "diagnostics": [{"file", "line",
/// "column", "group", "criterion", "message", "help"}]}` (diagnostics only for definitions;
/// absent values are `null`). Owned by the library as for `cohort_last_error`.
#[unsafe(no_mangle)]
pub extern "C" fn cohort_last_error_json() -> *const c_char {
    catch_unwind(|| {
        LAST_ERROR.with(|cell| {
            cell.borrow()
                .as_ref()
                .map_or(std::ptr::null(), |last| last.json.as_ptr())
        })
    })
    .unwrap_or(std::ptr::null())
}

/// Frees a string the library returned through an out-parameter. `NULL` is ignored.
///
/// # Safety
/// `text` is `NULL` or a string from an out-parameter of this library, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cohort_string_free(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from `CString::into_raw`, freed once, by the caller's contract.
        drop(unsafe { CString::from_raw(text) });
    }));
}

/// The library's version, such as `0.1.0` (static; do not free).
#[unsafe(no_mangle)]
pub extern "C" fn cohort_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(text: *mut c_char) -> String {
        assert!(!text.is_null());
        // SAFETY: a string this library returned.
        let owned = unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: as above, freed once.
        unsafe { cohort_string_free(text) };
        owned
    }

    fn last_error() -> String {
        let text = cohort_last_error();
        assert!(!text.is_null());
        // SAFETY: the library's own string, alive until the next call.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn groups_evaluate_and_free() {
        let mut groups = std::ptr::null_mut();
        let yaml = c"name: Low Disk\nwhere: '[Free Disk %] < 10'";
        // SAFETY: valid strings and out-parameter.
        let status =
            unsafe { cohort_groups_from_yaml(yaml.as_ptr(), std::ptr::null(), &mut groups) };
        assert_eq!(status, CohortStatus::Ok);
        assert!(cohort_last_error().is_null());
        let mut out = std::ptr::null_mut();
        let machines =
            c"[{\"id\": \"a\", \"Free Disk %\": 4}, {\"Free Disk %\": 5}, {\"id\": \"c\"}]";
        // SAFETY: a live handle and valid strings.
        let status =
            unsafe { cohort_evaluate(groups, machines.as_ptr(), c"2026-01-01".as_ptr(), &mut out) };
        assert_eq!(status, CohortStatus::Ok);
        assert_eq!(
            take(out),
            r##"{"machines":3,"groups":[{"name":"Low Disk","count":2,"members":["a","#2"]}]}"##
        );
        // SAFETY: freed once.
        unsafe { cohort_groups_free(groups) };
    }

    #[test]
    fn definitions_errors_are_located() {
        let mut groups = std::ptr::null_mut();
        let yaml = c"name: G\nblocks:\n  - - {field: OS, operator: contans any of, value: x}\n";
        // SAFETY: valid strings and out-parameter.
        let status =
            unsafe { cohort_groups_from_yaml(yaml.as_ptr(), std::ptr::null(), &mut groups) };
        assert_eq!(status, CohortStatus::InvalidDefinitions);
        assert!(groups.is_null());
        assert!(last_error().starts_with("<string>:3:29: unknown operator `contans any of`"));
        // SAFETY: the library's own string.
        let json = unsafe { CStr::from_ptr(cohort_last_error_json()) }.to_string_lossy();
        let value: Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(value["diagnostics"][0]["line"], 3);
        assert_eq!(
            value["diagnostics"][0]["help"],
            "did you mean `contains any of`?"
        );
        assert_eq!(value["diagnostics"][0]["group"], "G");
    }

    #[test]
    fn null_and_invalid_utf8_are_refused() {
        let mut groups = std::ptr::null_mut();
        // SAFETY: NULL is allowed and refused.
        let status =
            unsafe { cohort_groups_from_yaml(std::ptr::null(), std::ptr::null(), &mut groups) };
        assert_eq!(status, CohortStatus::NullArgument);
        assert_eq!(last_error(), "`yaml` is NULL");
        let bad = b"name: G\xff\0";
        // SAFETY: NUL-terminated.
        let status =
            unsafe { cohort_groups_from_yaml(bad.as_ptr().cast(), std::ptr::null(), &mut groups) };
        assert_eq!(status, CohortStatus::InvalidUtf8);
        assert_eq!(
            last_error(),
            "`yaml`: not valid UTF-8 text: first invalid byte at line 1, column 8 (byte offset 7)"
        );
        // SAFETY: NULL out-parameter refused before anything is written.
        let status = unsafe {
            cohort_groups_from_yaml(c"name: G".as_ptr(), std::ptr::null(), std::ptr::null_mut())
        };
        assert_eq!(status, CohortStatus::NullArgument);
    }

    #[test]
    fn tracker_outlives_its_groups_handle() {
        let mut groups = std::ptr::null_mut();
        let yaml = c"name: Servers\nwhere: Type = Server";
        // SAFETY: valid strings and out-parameter.
        assert_eq!(
            unsafe { cohort_groups_from_yaml(yaml.as_ptr(), std::ptr::null(), &mut groups) },
            CohortStatus::Ok
        );
        let mut tracker = std::ptr::null_mut();
        // SAFETY: a live handle.
        assert_eq!(
            unsafe { cohort_tracker_new(groups, std::ptr::null(), &mut tracker) },
            CohortStatus::Ok
        );
        // SAFETY: freed once; the tracker keeps the set alive.
        unsafe { cohort_groups_free(groups) };
        let mut events = std::ptr::null_mut();
        // SAFETY: a live tracker and valid strings.
        let status = unsafe {
            cohort_tracker_upsert(
                tracker,
                c"WS-1".as_ptr(),
                c"{\"Type\": \"Server\"}".as_ptr(),
                &mut events,
            )
        };
        assert_eq!(status, CohortStatus::Ok);
        assert_eq!(
            take(events),
            r#"[{"change":"joined","group":"Servers","machine":"WS-1"}]"#
        );
        // SAFETY: freed once.
        unsafe { cohort_tracker_free(tracker) };
    }
}
