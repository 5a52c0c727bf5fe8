//! The shipped example groups and fleet: valid, reproducible, and meaningful (every group has
//! members and non-members; together they use every operator).

use cohort::engine::syntax::{Op, Operator};
use cohort::{GroupSet, Timestamp};
use cohort_testkit::fleet;

#[test]
fn the_shipped_fleet_is_what_the_generator_makes() {
    let machines = fleet::generate(1000, fleet::EXAMPLE_SEED);
    let json = std::fs::read_to_string(crate::root().join("examples/fleet/fleet.json")).unwrap();
    let csv = std::fs::read_to_string(crate::root().join("examples/fleet/fleet.csv")).unwrap();
    assert!(
        json == fleet::to_json(&machines),
        "run `cargo run --example gen_fleet`"
    );
    assert!(
        csv == fleet::to_csv(&machines),
        "run `cargo run --example gen_fleet`"
    );
}

#[test]
fn every_example_group_has_members_and_non_members() {
    let groups = GroupSet::load(crate::root().join("examples/groups")).unwrap();
    assert!(groups.len() >= 15, "{}", groups.len());
    let machines = fleet::generate(1000, fleet::EXAMPLE_SEED);
    let membership =
        groups.evaluate_fleet(&machines, Timestamp::parse(fleet::EXAMPLE_NOW).unwrap());
    for name in groups.names() {
        let count = membership.members(groups.id(name).unwrap()).len();
        assert!(
            count > 0 && count < machines.len(),
            "`{name}` has {count} of {} machines",
            machines.len()
        );
    }
}

#[test]
fn the_examples_use_every_operator() {
    let mut loader = cohort_load_groups();
    let used: Vec<Op> = loader
        .drain(..)
        .flat_map(|g| g.condition.criteria().map(|c| c.op).collect::<Vec<_>>())
        .collect();
    for operator in Operator::ALL {
        assert!(
            used.iter().any(|op| op.operator == operator),
            "no example uses `{}`",
            Op::positive(operator)
        );
    }
    let negated = used.iter().filter(|op| op.negated).count();
    assert!(negated >= 8, "only {negated} negated criteria");
}

fn cohort_load_groups() -> Vec<cohort::engine::syntax::GroupDef> {
    let mut loader = cohort_load::Loader::new();
    loader.add_path(&crate::root().join("examples/groups"));
    let loaded = loader.finish();
    assert!(loaded.errors.is_empty());
    loaded.groups
}

#[test]
fn the_readme_main_job_runs_on_the_shipped_files() {
    let readme = std::fs::read_to_string(crate::root().join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -p cohort-cli -- eval"))
        .unwrap();
    let args: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    for (index, arg) in args.clone().iter().enumerate() {
        if arg.starts_with("examples/") {
            args[index] = crate::root().join(arg).display().to_string();
        }
    }
    let mut stdout = Vec::new();
    let code = cohort_cli::run(
        std::iter::once("cohort".to_owned()).chain(args),
        &mut stdout,
        &mut Vec::new(),
    );
    assert_eq!(code, 0);
    assert!(
        String::from_utf8(stdout)
            .unwrap()
            .ends_with("33 groups over 1000 machines\n")
    );
}

#[test]
fn low_cardinality_text_columns_cost_under_8_bytes_per_machine() {
    let groups = GroupSet::load(crate::root().join("examples/groups")).unwrap();
    let machines = fleet::generate(20_000, fleet::EXAMPLE_SEED);
    let columns = groups.plan().columnar(&machines);
    for field in [
        "OS",
        "Machine Type",
        "BitLocker Key Backup Status",
        "Agent Version",
        "Site",
    ] {
        let bytes = columns.column_bytes(field).unwrap();
        let per_machine = bytes as f64 / machines.len() as f64;
        assert!(
            per_machine < 8.0,
            "`{field}`: {per_machine:.2} bytes per machine"
        );
    }
}
