//! Reading fleets: machine files in every format into the columnar store, as `cohort eval`
//! reads them, with the throughput in MB/s of file.
//!
//! ```text
//! cargo bench --bench read
//! ```
//!
//! Workload `read/{format}/{n}`: the example fleet of `n` = 1,000,000 machines
//! (`gen_fleet`'s generator and seed; 754 MB as NDJSON, 378 MB as CSV) and the 33 example
//! groups (`examples/groups`, 24 fields read), held in memory as the bytes of each format,
//! read by `cohort_fleet::read` on every core into an evaluated membership (reading
//! dominates: evaluating takes about a twentieth). Formats: NDJSON, a JSON array one
//! machine per line (parallel), a JSON array on one line (read on one thread), CSV, and
//! NDJSON compressed with gzip and with zstd. Each benchmark checks its member counts
//! against the first format's before it is timed. Peak memory is a property of a process,
//! not of one benchmark: `benches/read_fleet.sh` runs `cohort eval --timings` on each format
//! and prints it, beside DuckDB's time on the same file when DuckDB is installed. Under
//! `cargo test` (no `--bench`) 2,000 machines run once.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::{GroupSet, Timestamp};
use cohort_fleet::{Format, Options, Source};
use cohort_testkit::fleet;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn members(groups: &GroupSet, bytes: &[u8], format: Format) -> Vec<usize> {
    let source = Source::Reader {
        name: "bench".to_owned(),
        reader: Box::new(bytes),
    };
    let read = cohort_fleet::read(groups.plan(), source, &Options::new(format)).unwrap();
    let now = Timestamp::parse(fleet::EXAMPLE_NOW).unwrap();
    let members = read.columns().evaluate(now);
    groups
        .plan()
        .group_ids()
        .map(|id| members.members(id).count())
        .collect()
}

fn read(c: &mut Criterion) {
    let count = if benchmarking() { 1_000_000 } else { 2_000 };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/groups");
    let groups = GroupSet::builder().paths(&[dir]).build().unwrap();
    let machines = fleet::generate(count, fleet::EXAMPLE_SEED);
    let mut ndjson = Vec::new();
    for machine in &machines {
        serde_json::to_writer(&mut ndjson, machine).unwrap();
        ndjson.push(b'\n');
    }
    let csv = fleet::to_csv(&machines).into_bytes();
    let lines_array = fleet::to_json(&machines).into_bytes();
    let one_line_array = serde_json::to_vec(&machines).unwrap();
    drop(machines);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&ndjson).unwrap();
    let gzip = gzip.finish().unwrap();
    let zstd = zstd::encode_all(&ndjson[..], 3).unwrap();
    let inputs: [(&str, &[u8], Format, usize); 6] = [
        ("ndjson", &ndjson, Format::Ndjson, ndjson.len()),
        (
            "json-array-lines",
            &lines_array,
            Format::Json,
            lines_array.len(),
        ),
        (
            "json-array-one-line",
            &one_line_array,
            Format::Json,
            one_line_array.len(),
        ),
        ("csv", &csv, Format::Csv, csv.len()),
        ("ndjson-gzip", &gzip, Format::Ndjson, ndjson.len()),
        ("ndjson-zstd", &zstd, Format::Ndjson, ndjson.len()),
    ];
    let expected = members(&groups, &ndjson, Format::Ndjson);
    assert!(expected.iter().any(|&n| n > 0));

    let mut group = c.benchmark_group("read");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if benchmarking() { 20 } else { 1 }));
    for (name, bytes, format, uncompressed) in inputs {
        // The CSV fleet has the same members (its cells are text that reads the same).
        assert_eq!(members(&groups, bytes, format), expected, "{name}");
        // Throughput counts the uncompressed bytes, so that formats compare by content.
        group.throughput(Throughput::Bytes(uncompressed as u64));
        group.bench_with_input(BenchmarkId::new(name, count), &bytes, |b, bytes| {
            b.iter(|| black_box(members(&groups, bytes, format)))
        });
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
