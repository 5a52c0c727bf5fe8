//! Reading benchmarks: a fleet from Parquet and Arrow IPC files into an evaluated membership,
//! against the same fleet stored from in-memory JSON values.
//!
//! ```text
//! cargo bench -p cohort-arrow --bench read                 # 1,000,000 machines
//! cargo bench -p cohort-arrow --bench read -- parquet      # one slice
//! ```
//!
//! Workload: machines from `cohort_testkit::fleet::generate` with the example seed, the 33
//! example groups (`examples/groups`). The files are written into a temporary directory
//! first: Parquet with Snappy and row groups of 131,072 rows (and one file with a single row
//! group), IPC uncompressed in batches of 65,536 rows. Every benchmark checks its membership
//! against the JSON path before it is timed. Throughput is the file's size (for the JSON
//! path, the fleet's NDJSON size). Under `cargo test` (no `--bench`), 2,000 machines run
//! once, as a smoke test.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use cohort::{GroupSet, Timestamp};
use cohort_testkit::fleet;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn now() -> Timestamp {
    Timestamp::parse(fleet::EXAMPLE_NOW).unwrap()
}

fn member_total(groups: &GroupSet, fleet: &cohort::engine::ColumnarFleet<'_>) -> usize {
    let bitsets = fleet.evaluate(now());
    groups
        .plan()
        .group_ids()
        .map(|id| bitsets.members(id).count())
        .sum()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn read(c: &mut Criterion) {
    let machines = if benchmarking() { 1_000_000 } else { 2_000 };
    let started = Instant::now();
    let json = fleet::generate(machines, fleet::EXAMPLE_SEED);
    let groups = support::example_groups();
    let batches = support::record_batches(&json, 65_536);
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("fleet.parquet");
    let parquet_one = dir.path().join("fleet-one-row-group.parquet");
    let ipc = dir.path().join("fleet.arrow");
    support::write_parquet(&parquet, &batches, 131_072);
    support::write_parquet(&parquet_one, &batches, machines);
    support::write_ipc(&ipc, &batches);
    drop(batches);
    let ndjson_bytes: u64 = json
        .iter()
        .map(|m| serde_json::to_string(m).unwrap().len() as u64 + 1)
        .sum();
    eprintln!(
        "{machines} machines, {} fields tested; Parquet {:.1} MB ({:.1} MB in one row group), IPC {:.1} MB, NDJSON {:.1} MB; prepared in {:.1} s",
        groups.plan().fields().len(),
        file_size(&parquet) as f64 / 1e6,
        file_size(&parquet_one) as f64 / 1e6,
        file_size(&ipc) as f64 / 1e6,
        ndjson_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let expected = member_total(&groups, &groups.plan().columnar(&json));
    assert!(expected > 0);
    let plan = groups.plan();
    for path in [&parquet, &parquet_one] {
        let (fleet, ids) = cohort_arrow::read_parquet(path, plan, "id").unwrap();
        assert_eq!(member_total(&groups, &fleet), expected, "parquet");
        assert_eq!(ids.len(), machines);
    }
    let (fleet, ids) = cohort_arrow::read_ipc(&ipc, plan, "id").unwrap();
    assert_eq!(member_total(&groups, &fleet), expected, "ipc");
    assert_eq!(ids.len(), machines);
    drop(fleet);

    let mut group = c.benchmark_group("read");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let one_core = cohort_arrow::Options::default().threads(1);
    let cases = [
        ("parquet", &parquet, None),
        ("parquet/one-core", &parquet, Some(&one_core)),
        ("parquet/one-row-group", &parquet_one, None),
    ];
    for (name, path, options) in cases {
        group.throughput(Throughput::Bytes(file_size(path)));
        group.bench_function(name, |b| {
            b.iter(|| match options {
                Some(options) => cohort_arrow::read_parquet_with(path, plan, "id", options),
                None => cohort_arrow::read_parquet(path, plan, "id"),
            })
        });
    }
    group.throughput(Throughput::Bytes(file_size(&parquet)));
    group.bench_function("parquet+evaluate", |b| {
        b.iter(|| {
            let (fleet, _ids) = cohort_arrow::read_parquet(&parquet, plan, "id").unwrap();
            fleet.evaluate(black_box(now()))
        })
    });
    group.throughput(Throughput::Bytes(file_size(&ipc)));
    group.bench_function("ipc", |b| {
        b.iter(|| cohort_arrow::read_ipc(&ipc, plan, "id"))
    });
    group.bench_function("ipc/one-core", |b| {
        b.iter(|| cohort_arrow::read_ipc_with(&ipc, plan, "id", &one_core))
    });
    group.bench_function("ipc+evaluate", |b| {
        b.iter(|| {
            let (fleet, _ids) = cohort_arrow::read_ipc(&ipc, plan, "id").unwrap();
            fleet.evaluate(black_box(now()))
        })
    });
    group.throughput(Throughput::Bytes(ndjson_bytes));
    group.bench_function("json-values/one-core", |b| {
        b.iter(|| plan.columnar(black_box(&json)))
    });
    group.bench_function("json-values+evaluate", |b| {
        b.iter(|| plan.columnar(black_box(&json)).evaluate(black_box(now())))
    });
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
