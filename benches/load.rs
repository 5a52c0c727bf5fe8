//! Loading benchmarks: the cost of reporting errors, and of reading a large valid file,
//! as the input doubles. Scaling is shown by doubling, never by a timed test.
//!
//! ```text
//! cargo bench --bench load
//! ```
//!
//! Workload `errors/{n}`: a definitions file of `n` groups, each with a description of about
//! 850 bytes and one criterion whose operator is unknown (`frobs{i}`), so that loading
//! reports `n` located errors, each with a suggestion search; `n` = 2,500, 5,000 and 10,000
//! make files of about 2.4, 4.9 and 9.7 MB. Workload `valid/{n}`: `n` one-criterion groups.
//! Each benchmark checks its answer (the error or group count) before it is timed. Under
//! `cargo test` (no `--bench`) only the smallest size runs, once.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::GroupSet;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn sizes() -> Vec<usize> {
    if benchmarking() {
        vec![2_500, 5_000, 10_000]
    } else {
        vec![100]
    }
}

/// `count` groups whose operators are all unknown, about 975 bytes each.
fn erroneous(count: usize) -> String {
    let padding = "x".repeat(850);
    let mut text = String::from("groups:\n");
    for i in 0..count {
        text.push_str(&format!(
            "- name: G{i}\n  description: {padding}\n  blocks:\n  - - {{field: OS, operator: frobs{i}, value: Windows}}\n"
        ));
    }
    text
}

/// `count` valid groups.
fn valid(count: usize) -> String {
    let mut text = String::from("groups:\n");
    for i in 0..count {
        text.push_str(&format!(
            "- name: G{i}\n  blocks:\n  - - {{field: OS, operator: contains any of, values: [Windows {i}, Server]}}\n    - 'Agent Version >= 2024.{i}'\n"
        ));
    }
    text
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if benchmarking() { 10 } else { 1 }));
    for count in sizes() {
        let text = erroneous(count);
        let error = GroupSet::from_yaml_str(&text).unwrap_err();
        assert_eq!(error.diagnostics().len(), count);
        assert!(error.diagnostics().iter().all(|d| d.line().is_some()));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("errors", count), &text, |b, text| {
            b.iter(|| {
                black_box(
                    GroupSet::from_yaml_str(text)
                        .unwrap_err()
                        .diagnostics()
                        .len(),
                )
            });
        });
        let text = valid(count);
        assert_eq!(GroupSet::from_yaml_str(&text).unwrap().len(), count);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("valid", count), &text, |b, text| {
            b.iter(|| black_box(GroupSet::from_yaml_str(text).unwrap().len()));
        });
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
