//! Row-wise evaluation and compile benchmarks over the generated fleet.
//!
//! ```text
//! cargo bench --bench eval
//! ```
//!
//! Each benchmark checks its answer (the member count) before it is timed. Throughput is
//! reported per (machine, group) pair. See `benches/README.md` for the figures.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::{GroupSet, Scratch, Timestamp};
use cohort_testkit::fleet;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

const MACHINES: usize = 10_000;

fn example_texts() -> Vec<(String, String)> {
    let mut loader_paths = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/groups");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                loader_paths.push(path);
            }
        }
    }
    loader_paths.sort();
    loader_paths
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

fn count_members(
    groups: &GroupSet,
    machines: &[serde_json::Map<String, serde_json::Value>],
    now: Timestamp,
) -> usize {
    let mut scratch = Scratch::new();
    let mut matched = Vec::new();
    let mut total = 0;
    for machine in machines {
        groups
            .plan()
            .evaluate_into(machine, now, &mut scratch, &mut matched);
        total += matched.len();
    }
    total
}

fn eval_row(c: &mut Criterion) {
    let machines = fleet::generate(MACHINES, fleet::EXAMPLE_SEED);
    let now = Timestamp::parse(fleet::EXAMPLE_NOW).unwrap();
    let seed = GroupSet::load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/groups/bitlocker/bitlocker-key-missing.yaml"),
    )
    .unwrap();
    let examples =
        GroupSet::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/groups")).unwrap();

    let mut group = c.benchmark_group("eval_row");
    for (name, groups) in [("seed_group", &seed), ("example_groups", &examples)] {
        // rebar's rule: check the answer before timing it.
        let expected: usize = groups
            .names()
            .map(|n| {
                groups
                    .evaluate_fleet(&machines, now)
                    .members(groups.id(n).unwrap())
                    .len()
            })
            .sum();
        assert_eq!(count_members(groups, &machines, now), expected);
        assert!(expected > 0);
        group.throughput(Throughput::Elements((machines.len() * groups.len()) as u64));
        group.bench_with_input(BenchmarkId::new(name, MACHINES), groups, |b, groups| {
            b.iter(|| count_members(groups, black_box(&machines), now));
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let texts = example_texts();
    let yaml: String = texts
        .iter()
        .flat_map(|(_, text)| {
            // Merge every file's groups into one `groups:` document.
            let value: serde_json::Value = serde_yaml::from_str(text).unwrap();
            match value.get("groups") {
                Some(list) => list.as_array().unwrap().clone(),
                None => vec![value],
            }
        })
        .map(|g| serde_json::to_string(&g).unwrap())
        .collect::<Vec<_>>()
        .join(",\n  ");
    let yaml = format!("groups: [\n  {yaml}\n]\n");
    assert_eq!(GroupSet::from_yaml_str(&yaml).unwrap().len(), 32);
    c.bench_function("compile/example_groups", |b| {
        b.iter(|| GroupSet::from_yaml_str(black_box(&yaml)).unwrap())
    });
}

criterion_group!(benches, eval_row, compile);
criterion_main!(benches);
