//! Evaluation benchmarks: row-wise and columnar, scaling along machines and groups.
//!
//! ```text
//! cargo bench --bench eval                       # everything (several minutes)
//! cargo bench --bench eval -- eval_columnar/100  # one slice
//! ```
//!
//! Workload: machines from `cohort_testkit::fleet::generate` (the example fleet's generator),
//! groups from `cohort_testkit::workload::groups_yaml` (the seed BitLocker group plus groups
//! drawn from the example styles). Every benchmark checks its answer (the total member count,
//! against the row path) before it is timed. Throughput is per (machine, group) pair. Under
//! `cargo test` (no `--bench`), only the smallest sizes run, once, as a smoke test.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::engine::Scratch;
use cohort::{GroupSet, Timestamp};
use cohort_testkit::{fleet, workload};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn now() -> Timestamp {
    Timestamp::parse(fleet::EXAMPLE_NOW).unwrap()
}

fn groups(count: usize) -> GroupSet {
    GroupSet::from_yaml_str(&workload::groups_yaml(count, 42)).unwrap()
}

fn row_members(groups: &GroupSet, machines: &[Map<String, Value>]) -> usize {
    let mut scratch = Scratch::new();
    let mut total = 0;
    for machine in machines {
        total += groups
            .plan()
            .memberships(machine, now(), &mut scratch)
            .len();
    }
    total
}

fn sizes(full: &[usize], smoke: usize) -> Vec<usize> {
    if benchmarking() {
        full.to_vec()
    } else {
        vec![smoke]
    }
}

fn eval_row(c: &mut Criterion) {
    let mut group = c.benchmark_group("eval_row");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for machines in sizes(&[10_000, 100_000], 1_000) {
        let fleet = fleet::generate(machines, fleet::EXAMPLE_SEED);
        for count in sizes(&[10, 100, 1000], 10) {
            let set = groups(count);
            assert!(row_members(&set, &fleet) > 0);
            group.throughput(Throughput::Elements((machines * count) as u64));
            group.bench_with_input(
                BenchmarkId::new(count.to_string(), machines),
                &set,
                |b, set| {
                    b.iter(|| row_members(set, black_box(&fleet)));
                },
            );
        }
    }
    group.finish();
}

fn eval_columnar(c: &mut Criterion) {
    let mut group = c.benchmark_group("eval_columnar");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for machines in sizes(&[10_000, 100_000, 1_000_000], 1_000) {
        let fleet = fleet::generate(machines, fleet::EXAMPLE_SEED);
        for count in sizes(&[10, 100, 1000], 10) {
            let set = groups(count);
            let columns = set.plan().columnar(&fleet);
            let bitsets = columns.evaluate_with_threads(now(), 1);
            let total: usize = set
                .plan()
                .group_ids()
                .map(|id| bitsets.members(id).count())
                .sum();
            if machines <= 100_000 {
                assert_eq!(
                    total,
                    row_members(&set, &fleet),
                    "columnar and row paths agree"
                );
            }
            assert!(total > 0);
            group.throughput(Throughput::Elements((machines * count) as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{count}/one-core"), machines),
                &columns,
                |b, columns| {
                    b.iter(|| columns.evaluate_with_threads(black_box(now()), 1));
                },
            );
            if machines == 1_000_000 && count == 100 {
                group.bench_with_input(
                    BenchmarkId::new(format!("{count}/all-cores"), machines),
                    &columns,
                    |b, columns| {
                        b.iter(|| columns.evaluate(black_box(now())));
                    },
                );
            }
        }
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let yaml = workload::groups_yaml(if benchmarking() { 1000 } else { 10 }, 42);
    let count = GroupSet::from_yaml_str(&yaml).unwrap().len();
    c.bench_function(&format!("compile/{count}_groups"), |b| {
        b.iter(|| GroupSet::from_yaml_str(black_box(&yaml)).unwrap())
    });
    let examples =
        GroupSet::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/groups")).unwrap();
    assert_eq!(examples.len(), 33);
}

criterion_group!(benches, eval_row, eval_columnar, compile);
criterion_main!(benches);
