//! Test vectors as data, run on every executor.
//!
//! The vectors are `tests/vectors/*.yaml` (a condition, a machine, the expected answer; or a
//! condition and the load error it must give) and the examples of README.md's operator
//! table, read from the README by `operators::operator_rows` so that neither can drift.
//! Every vector runs through every executor of [`EXECUTORS`]: alone (a plan of its one group
//! over its one machine), and all together (one plan of every group over a fleet of every
//! machine, where each group is also checked against the reference evaluator on every other
//! machine). A failure names the vector, the executor and both answers.

use crate::operators;
use cohort::engine::Scratch;
use cohort::engine::syntax::GroupDef;
use cohort::{GroupSet, MembershipTracker, Timestamp};
use cohort_testkit::reference;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A group set and a fleet given to an executor: `definitions[g]` is the group `set` calls
/// `definitions[g].name`.
struct Batch<'a> {
    set: &'a GroupSet,
    definitions: &'a [GroupDef],
    machines: &'a [Map<String, Value>],
    now: Timestamp,
}

/// What an executor answers: `answer[g][m]`, whether machine `m` is a member of group `g`.
/// An executor that cannot evaluate group `g` at all (the PostgreSQL executor for a regex
/// PostgreSQL cannot run, refused at compile time; or any group when no server is
/// configured) leaves `answer[g]` empty.
type Answers = Vec<Vec<bool>>;

/// An executor: the answers of a batch.
type Executor = fn(&Batch<'_>) -> Answers;

/// Every executor, by name. A new executor (SQL) joins by adding one line.
const EXECUTORS: &[(&str, Executor)] = &[
    ("row (Plan::memberships)", row),
    ("record (Plan::record, then memberships)", record),
    ("columnar, 1 thread", |batch| columnar(batch, 1)),
    ("columnar, 3 threads", |batch| columnar(batch, 3)),
    ("explain", explain),
    ("tracker (MembershipTracker::upsert)", tracker_upsert),
    (
        "tracker (MembershipTracker::from_fleet)",
        tracker_from_fleet,
    ),
    ("reference evaluator", reference_evaluator),
    ("SQL (SQLite, default layout)", sql_sqlite),
    ("SQL (PostgreSQL, default layout)", sql_postgres),
];

fn ids(batch: &Batch<'_>) -> Vec<cohort::GroupId> {
    batch
        .definitions
        .iter()
        .map(|group| batch.set.id(&group.name).unwrap())
        .collect()
}

/// The answers of `member(machine, group)` for every group and machine.
fn matrix(batch: &Batch<'_>, mut member: impl FnMut(usize, usize) -> bool) -> Answers {
    (0..batch.definitions.len())
        .map(|group| {
            (0..batch.machines.len())
                .map(|machine| member(machine, group))
                .collect()
        })
        .collect()
}

/// Answers from the groups each machine is in.
fn by_machine(batch: &Batch<'_>, mut groups_of: impl FnMut(usize) -> Vec<bool>) -> Answers {
    let per_machine: Vec<Vec<bool>> = (0..batch.machines.len()).map(&mut groups_of).collect();
    matrix(batch, |machine, group| per_machine[machine][group])
}

fn row(batch: &Batch<'_>) -> Answers {
    let ids = ids(batch);
    let mut scratch = Scratch::new();
    by_machine(batch, |m| {
        let members = batch
            .set
            .plan()
            .memberships(&batch.machines[m], batch.now, &mut scratch);
        ids.iter().map(|&id| members.contains(id)).collect()
    })
}

fn record(batch: &Batch<'_>) -> Answers {
    let ids = ids(batch);
    let mut scratch = Scratch::new();
    by_machine(batch, |m| {
        let record = batch.set.plan().record(&batch.machines[m]);
        let members = batch
            .set
            .plan()
            .memberships(&record, batch.now, &mut scratch);
        ids.iter().map(|&id| members.contains(id)).collect()
    })
}

fn columnar(batch: &Batch<'_>, threads: usize) -> Answers {
    let ids = ids(batch);
    let bitsets = batch
        .set
        .plan()
        .columnar(batch.machines)
        .evaluate_with_threads(batch.now, threads);
    matrix(batch, |machine, group| {
        bitsets.members(ids[group]).contains(machine)
    })
}

fn explain(batch: &Batch<'_>) -> Answers {
    let ids = ids(batch);
    matrix(batch, |machine, group| {
        batch
            .set
            .plan()
            .explain(&batch.machines[machine], ids[group], batch.now)
            .unwrap()
            .matched
    })
}

fn machine_id(position: usize) -> String {
    format!("machine {position}")
}

fn tracker_upsert(batch: &Batch<'_>) -> Answers {
    let ids = ids(batch);
    let mut tracker = MembershipTracker::new(batch.set.plan(), batch.now);
    for (position, machine) in batch.machines.iter().enumerate() {
        tracker.upsert(&machine_id(position), machine);
    }
    matrix(batch, |machine, group| {
        tracker.contains(&machine_id(machine), ids[group])
    })
}

fn tracker_from_fleet(batch: &Batch<'_>) -> Answers {
    let ids = ids(batch);
    let machines = batch
        .machines
        .iter()
        .enumerate()
        .map(|(position, machine)| (machine_id(position), machine));
    let tracker = MembershipTracker::from_fleet(batch.set.plan(), machines, batch.now);
    matrix(batch, |machine, group| {
        tracker.contains(&machine_id(machine), ids[group])
    })
}

fn reference_evaluator(batch: &Batch<'_>) -> Answers {
    matrix(batch, |machine, group| {
        reference::is_member_in(
            batch.definitions,
            &batch.definitions[group],
            &batch.machines[machine],
            batch.now.unix_millis(),
        )
    })
}

/// The batch loaded into an SQLite database in memory and evaluated there by one query.
fn sql_sqlite(batch: &Batch<'_>) -> Answers {
    let checked = cohort_check::check(batch.definitions).unwrap();
    let db = cohort_sql::sqlite::open_in_memory().unwrap();
    let layout = cohort_sql::Layout::default();
    cohort_sql::sqlite::load(&db, &layout, &cohort_sql::keyed(batch.machines, None)).unwrap();
    let columns = cohort_sql::sqlite::columns(&db, "machines").unwrap();
    let query = cohort_sql::compile(
        &checked,
        &layout,
        cohort_sql::Dialect::Sqlite,
        Some(&columns),
    )
    .unwrap();
    let members = cohort_sql::sqlite::evaluate(&db, &query, batch.now.unix_millis()).unwrap();
    matrix(batch, |machine, group| {
        let name = &batch.definitions[group].name;
        let position = query.groups.iter().position(|g| g == name).unwrap();
        members[position].contains(&machine.to_string())
    })
}

/// The batch loaded into the PostgreSQL server `COHORT_TEST_POSTGRES` names (in a schema of
/// its own) and evaluated there by one query; groups the dialect refuses are left out. No
/// answers (and a notice) without a server.
fn sql_postgres(batch: &Batch<'_>) -> Answers {
    let Ok(settings) = std::env::var("COHORT_TEST_POSTGRES") else {
        eprintln!(
            "notice: COHORT_TEST_POSTGRES is not set; the vectors skip PostgreSQL (.ci/postgres starts a server)"
        );
        return vec![Vec::new(); batch.definitions.len()];
    };
    let mut client = cohort_sql::postgres::connect(&settings).unwrap();
    cohort_sql::postgres::install(&mut client).unwrap();
    let checked = cohort_check::check(batch.definitions).unwrap();
    let layout = cohort_sql::Layout::default();
    // The groups PostgreSQL can evaluate (the vectors' groups reference no others).
    let supported: Vec<usize> = (0..checked.groups.len())
        .filter(|&g| {
            let alone = cohort_check::ir::CheckedSet {
                groups: vec![checked.groups[g].clone()],
                evaluation_order: vec![0],
            };
            match cohort_sql::compile(&alone, &layout, cohort_sql::Dialect::Postgres, None) {
                Ok(_) => true,
                Err(cohort_sql::SqlError::Unsupported { .. }) => false,
                Err(other) => panic!("{other}"),
            }
        })
        .collect();
    if supported.len() < checked.groups.len() {
        eprintln!(
            "notice: PostgreSQL declines {} of {} vector groups (a regex it cannot translate exactly)",
            checked.groups.len() - supported.len(),
            checked.groups.len()
        );
    }
    let set = cohort_check::ir::CheckedSet {
        groups: supported
            .iter()
            .map(|&g| checked.groups[g].clone())
            .collect(),
        evaluation_order: (0..supported.len()).collect(),
    };
    static SCHEMA: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let schema = format!(
        "cohort_vectors_{}_{}",
        std::process::id(),
        SCHEMA.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}"
        ))
        .unwrap();
    cohort_sql::postgres::load(
        &mut client,
        &layout,
        &cohort_sql::keyed(batch.machines, None),
    )
    .unwrap();
    let columns = cohort_sql::postgres::columns(&mut client, "machines").unwrap();
    let query =
        cohort_sql::compile(&set, &layout, cohort_sql::Dialect::Postgres, Some(&columns)).unwrap();
    let members =
        cohort_sql::postgres::evaluate(&mut client, &query, batch.now.unix_millis()).unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    (0..batch.definitions.len())
        .map(|group| {
            let name = &batch.definitions[group].name;
            match query.groups.iter().position(|g| g == name) {
                Some(position) => (0..batch.machines.len())
                    .map(|machine| members[position].contains(&machine.to_string()))
                    .collect(),
                None => Vec::new(),
            }
        })
        .collect()
}

/// A vector file: cases in named sections.
struct VectorFile {
    sections: Vec<Section>,
}

struct Section {
    name: String,
    cases: Vec<Case>,
}

/// One case as written.
struct Case {
    /// A condition as text (a group's `where:`).
    condition: Option<String>,
    /// A whole group document, its group called `V`.
    yaml: Option<String>,
    /// The machine, as a JSON object.
    on: Option<String>,
    /// The expected membership.
    is: Option<bool>,
    /// Text the load error must contain.
    error: Option<String>,
    /// The evaluation time (RFC 3339).
    now: Option<String>,
}

impl VectorFile {
    /// Reads a vector file; any key it does not know fails the test.
    fn parse(name: &str, text: &str) -> VectorFile {
        use serde_yaml::Value as Yaml;
        let root: Yaml = serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let list = |value: Option<&Yaml>, what: &str| -> Vec<Yaml> {
            match value {
                Some(Yaml::Sequence(items)) => items.clone(),
                _ => panic!("{name}: `{what}` must be a list"),
            }
        };
        let text_of = |value: &Yaml, what: &str| -> String {
            value
                .as_str()
                .unwrap_or_else(|| panic!("{name}: `{what}` must be a string: {value:?}"))
                .to_owned()
        };
        let sections = list(root.get("sections"), "sections")
            .iter()
            .map(|section| Section {
                name: text_of(&section["name"], "name"),
                cases: list(section.get("cases"), "cases")
                    .iter()
                    .map(|case| {
                        let Yaml::Mapping(map) = case else {
                            panic!("{name}: a case must be a map: {case:?}");
                        };
                        let mut parsed = Case {
                            condition: None,
                            yaml: None,
                            on: None,
                            is: None,
                            error: None,
                            now: None,
                        };
                        for (key, value) in map {
                            match key.as_str().unwrap_or_default() {
                                "where" => parsed.condition = Some(text_of(value, "where")),
                                "yaml" => parsed.yaml = Some(text_of(value, "yaml")),
                                "on" => parsed.on = Some(text_of(value, "on")),
                                "error" => parsed.error = Some(text_of(value, "error")),
                                "now" => parsed.now = Some(text_of(value, "now")),
                                "is" => {
                                    parsed.is = Some(value.as_bool().unwrap_or_else(|| {
                                        panic!("{name}: `is` must be true or false")
                                    }))
                                }
                                other => panic!("{name}: unknown key `{other}` in {case:?}"),
                            }
                        }
                        parsed
                    })
                    .collect(),
            })
            .collect();
        VectorFile { sections }
    }
}

/// One vector ready to run.
struct Vector {
    /// Where it comes from, to name it in failures.
    name: String,
    group: GroupDef,
    machine: Map<String, Value>,
    expected: bool,
    now: Timestamp,
}

/// The README's evaluation time, the default of every vector.
fn default_now() -> Timestamp {
    Timestamp::from_unix_millis(operators::NOW)
}

/// The group a case defines, as a YAML document whose group is called `V`.
fn case_yaml(case: &Case) -> String {
    match (&case.condition, &case.yaml) {
        (Some(condition), None) => {
            // A JSON string is a YAML double-quoted scalar.
            format!(
                "name: V\nwhere: {}\n",
                serde_json::to_string(condition).unwrap()
            )
        }
        (None, Some(yaml)) => yaml.clone(),
        _ => panic!("a case has `where:` or `yaml:`, not both"),
    }
}

/// Reads a vector file: its cases to run, and checks its error cases on the spot.
fn file_vectors(path: &std::path::Path) -> (Vec<Vector>, Vec<String>) {
    let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let file = VectorFile::parse(&file_name, &text);
    let mut vectors = Vec::new();
    let mut failures = Vec::new();
    for section in &file.sections {
        for (index, case) in section.cases.iter().enumerate() {
            let yaml = case_yaml(case);
            let name = format!(
                "{file_name}, {}, case {} (`{}`)",
                section.name,
                index + 1,
                case.condition.as_deref().unwrap_or(&yaml)
            );
            if let Some(expected) = &case.error {
                assert!(
                    case.on.is_none() && case.is.is_none(),
                    "{name}: `error:` alone"
                );
                match GroupSet::from_yaml_str(&yaml) {
                    Ok(_) => failures.push(format!(
                        "{name}: expected the load error `{expected}`, but it loaded"
                    )),
                    Err(error) if !error.to_string().contains(expected.as_str()) => failures.push(
                        format!("{name}: expected a load error with `{expected}`, got:\n{error}"),
                    ),
                    Err(_) => {}
                }
                continue;
            }
            let mut loader = cohort_load::Loader::new();
            loader.add_str(&file_name, &yaml);
            let loaded = loader.finish();
            assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
            let [group] = <[GroupDef; 1]>::try_from(loaded.groups).unwrap();
            let machine: Value = serde_json::from_str(case.on.as_deref().unwrap())
                .unwrap_or_else(|e| panic!("{name}: `on:` {e}"));
            let Value::Object(machine) = machine else {
                panic!("{name}: `on:` is not a JSON object");
            };
            let expected = case.is.unwrap_or_else(|| panic!("{name}: `is:` missing"));
            let now = case.now.as_deref().map_or_else(default_now, |now| {
                Timestamp::parse(now).unwrap_or_else(|| panic!("{name}: `now:` {now}"))
            });
            vectors.push(Vector {
                name,
                group,
                machine,
                expected,
                now,
            });
        }
    }
    (vectors, failures)
}

/// The examples of README.md's operator table, each row on each of its examples.
fn readme_vectors() -> Vec<Vector> {
    let mut vectors = Vec::new();
    for row in operators::operator_rows() {
        let group = operators::group(&row);
        let examples = row
            .holds_on
            .iter()
            .map(|value| (Some(value), true))
            .chain(row.fails_on.iter().map(|value| (Some(value), false)))
            .chain([(None, row.on_missing)]);
        for (value, expected) in examples {
            let mut machine = Map::new();
            if let Some(value) = value {
                machine.insert("F".to_owned(), value.clone());
            }
            vectors.push(Vector {
                name: format!(
                    "README.md line {}, `{}` {:?} on {}",
                    row.line,
                    row.op,
                    row.values,
                    Value::Object(machine.clone())
                ),
                group: group.clone(),
                machine,
                expected,
                now: default_now(),
            });
        }
    }
    vectors
}

/// Every vector file and the README's table.
fn all_vectors() -> (Vec<Vector>, Vec<String>) {
    let directory = crate::root().join("tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no vector files in {}",
        directory.display()
    );
    let mut vectors = readme_vectors();
    let mut failures = Vec::new();
    for path in paths {
        let (mut found, mut failed) = file_vectors(&path);
        vectors.append(&mut found);
        failures.append(&mut failed);
    }
    (vectors, failures)
}

fn answer(value: bool) -> &'static str {
    if value { "member" } else { "not a member" }
}

/// Runs `vectors` (sharing one evaluation time) as one batch on every executor: the answer
/// of group `i` on machine `i` must be vector `i`'s, and with `cross_check`, every answer
/// must be the reference evaluator's.
fn run_batch(vectors: &[&Vector], cross_check: bool, failures: &mut Vec<String>) {
    let definitions: Vec<GroupDef> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| GroupDef {
            name: format!("vector {index}"),
            ..vector.group.clone()
        })
        .collect();
    let machines: Vec<Map<String, Value>> = vectors
        .iter()
        .map(|vector| vector.machine.clone())
        .collect();
    let set = GroupSet::builder()
        .definitions(&definitions)
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", vectors[0].name));
    let batch = Batch {
        set: &set,
        definitions: &definitions,
        machines: &machines,
        now: vectors[0].now,
    };
    let reference = reference_evaluator(&batch);
    for (executor, run) in EXECUTORS {
        let answers = run(&batch);
        for (index, vector) in vectors.iter().enumerate() {
            let Some(&got) = answers[index].get(index) else {
                continue;
            };
            if got != vector.expected {
                failures.push(format!(
                    "{}: {executor} says {}, the vector says {} (machine {})",
                    vector.name,
                    answer(got),
                    answer(vector.expected),
                    Value::Object(vector.machine.clone())
                ));
            }
        }
        if !cross_check {
            continue;
        }
        for (group, row) in answers.iter().enumerate() {
            for (machine, &got) in row.iter().enumerate() {
                let expected = reference[group][machine];
                if got != expected && group != machine {
                    failures.push(format!(
                        "{} on the machine of {}: {executor} says {}, the reference evaluator {} (machine {})",
                        vectors[group].name,
                        vectors[machine].name,
                        answer(got),
                        answer(expected),
                        Value::Object(machines[machine].clone())
                    ));
                }
            }
        }
    }
}

fn report(failures: &[String]) {
    if failures.is_empty() {
        return;
    }
    let mut text = format!("{} vector failures:\n", failures.len());
    for failure in failures.iter().take(60) {
        let _ = writeln!(text, "- {failure}");
    }
    panic!("{text}");
}

#[test]
fn every_vector_holds_on_every_executor_alone() {
    let (vectors, mut failures) = all_vectors();
    for vector in &vectors {
        run_batch(&[vector], false, &mut failures);
    }
    report(&failures);
}

#[test]
fn every_vector_holds_on_every_executor_in_one_plan_over_one_fleet() {
    let (vectors, mut failures) = all_vectors();
    let mut by_now: BTreeMap<i64, Vec<&Vector>> = BTreeMap::new();
    for vector in &vectors {
        by_now
            .entry(vector.now.unix_millis())
            .or_default()
            .push(vector);
    }
    for batch in by_now.values() {
        run_batch(batch, true, &mut failures);
    }
    report(&failures);
}

#[test]
fn the_vector_files_cover_every_reading() {
    let text =
        std::fs::read_to_string(crate::root().join("tests/vectors/edge-cases.yaml")).unwrap();
    let file = VectorFile::parse("edge-cases.yaml", &text);
    let sections: Vec<&str> = file.sections.iter().map(|s| s.name.as_str()).collect();
    for topic in [
        "versions",
        "numbers",
        "the text form of numbers",
        "dates",
        "lists",
        "Unicode case",
        "blanks",
        "values refused at load time",
    ] {
        assert!(
            sections.iter().any(|s| s.starts_with(topic)),
            "no section on {topic}"
        );
    }
    let cases: usize = file.sections.iter().map(|s| s.cases.len()).sum();
    assert!(cases >= 200, "{cases} cases");
}
