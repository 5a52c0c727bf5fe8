//! Live membership: one attribute change on one machine, against a full re-evaluation.
//!
//! ```text
//! cargo bench --bench live
//! ```
//!
//! A tracker over 1,000,000 machines and 1,000 groups (the shared workload: the seed
//! BitLocker group and groups drawn from the example styles). Each iteration changes one
//! machine's `Free Disk %` (alternating two values, so every iteration is a real change) and
//! collects the join/leave events; the tracker evaluates only the groups that read the field.
//! The same run times a full columnar re-evaluation of the fleet, which is what the change
//! would cost without the tracker. Before timing, it prints the tracker's heap bytes a machine
//! (`MembershipTracker::heap_bytes`), how long `MembershipTracker::from_fleet` took (wall and
//! CPU time: on a shared machine the wall time varies with what else runs), how much the
//! process's resident memory grew meanwhile (Linux), and how long merely reading the values
//! from the fleet's `serde_json` maps takes, which no build can go below. Under `cargo test`
//! (no `--bench`) a small fleet runs once as a smoke test.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::{Attr, GroupSet, Machine, MembershipTracker, Timestamp, Value};
use cohort_testkit::{fleet, workload};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn live(c: &mut Criterion) {
    let (machines, groups) = if benchmarking() {
        (1_000_000, 1_000)
    } else {
        (2_000, 200)
    };
    let now = Timestamp::parse(fleet::EXAMPLE_NOW).unwrap();
    let set = GroupSet::from_yaml_str(&workload::groups_yaml(groups, 42)).unwrap();
    let fleet = fleet::generate(machines, fleet::EXAMPLE_SEED);
    // What the build cannot go below: reading every value of the plan's fields from the
    // fleet's maps (each text's first byte, every list element).
    let started = Instant::now();
    let fields = set.plan().fields();
    let read: u64 = fleet
        .iter()
        .flat_map(|machine| fields.iter().filter_map(|f| machine.attr(f)))
        .map(touch)
        .sum();
    let reading = started.elapsed();
    black_box(read);
    let (rss_before, _) = memory_status();
    let (cpu_before, main_before) = (
        cpu_seconds("/proc/self/stat"),
        cpu_seconds("/proc/thread-self/stat"),
    );
    let started = Instant::now();
    let mut tracker = MembershipTracker::from_fleet(
        set.plan(),
        fleet.iter().enumerate().map(|(i, m)| (format!("m{i}"), m)),
        now,
    );
    let built = started.elapsed();
    let (rss_after, peak_after) = memory_status();
    let (cpu, main_cpu) = (
        cpu_seconds("/proc/self/stat") - cpu_before,
        cpu_seconds("/proc/thread-self/stat") - main_before,
    );
    // CPU time as well as wall time: on a shared machine the wall time of a run varies with
    // what else runs, the CPU time much less.
    println!("tracker build: {cpu:.2} s of CPU in all, {main_cpu:.2} s on the calling thread");
    // The heap the tracker reports, and what the process's resident memory says (it also
    // holds what the allocator kept of the build's temporary buffers).
    println!(
        "tracker: {} bytes a machine, built in {:.2} s ({} MiB on the heap; resident memory +{} MiB, peak +{} MiB during the build; reading the values of the {} fields alone: {:.2} s)",
        tracker.heap_bytes() / machines,
        built.as_secs_f64(),
        tracker.heap_bytes() >> 20,
        rss_after.saturating_sub(rss_before) >> 20,
        peak_after.saturating_sub(rss_before) >> 20,
        fields.len(),
        reading.as_secs_f64(),
    );
    let columns = set.plan().columnar(&fleet);
    let full = columns.evaluate(now);
    for id in set.plan().group_ids() {
        assert_eq!(tracker.member_count(id), full.members(id).count());
    }
    // Free Disk % 3 puts the machine in every "less than n" group; 95 in none.
    let target = "m1234".to_owned();
    let first = tracker.update(&target, [("Free Disk %", Some(Value::from(3.0)))]);
    let second = tracker.update(&target, [("Free Disk %", Some(Value::from(95.0)))]);
    assert!(
        !first.is_empty() || !second.is_empty(),
        "the change moves the machine"
    );

    let mut group = c.benchmark_group("live");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut low = true;
    group.bench_function(
        format!("one-change/{machines}-machines/{groups}-groups"),
        |b| {
            b.iter(|| {
                low = !low;
                let disk = if low { 3.0 } else { 95.0 };
                let events = tracker.update(
                    black_box(&target),
                    [("Free Disk %", Some(Value::from(disk)))],
                );
                black_box(events.len())
            })
        },
    );
    group.bench_function(
        format!("full-reevaluation/{machines}-machines/{groups}-groups"),
        |b| b.iter(|| black_box(columns.evaluate(black_box(now)))),
    );
    group.finish();
}

/// The first byte of every text in `attr` (list elements included), summed: reading a value
/// as the tracker must, and doing nothing with it.
fn touch(attr: Attr<'_>) -> u64 {
    match attr {
        Attr::Text(text) => text.bytes().next().map_or(0, u64::from),
        Attr::Number(n) => n.to_bits() & 1,
        Attr::List(list) => list.iter().map(touch).sum(),
        _ => 0,
    }
}

/// The user and system CPU seconds in a `/proc/.../stat` file (Linux; zero elsewhere), at
/// the usual 100 ticks a second.
fn cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The process's resident and peak resident bytes (Linux; zero elsewhere).
fn memory_status() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<usize>()
                    .ok()
            })
            .map_or(0, |kib| kib << 10)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

criterion_group!(benches, live);
criterion_main!(benches);
