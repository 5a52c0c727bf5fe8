//! Times reading a Parquet or Arrow IPC file into the columnar store, for measuring.
//!
//! ```text
//! cargo run --release -p cohort-arrow --example read_file -- write DIR 1000000
//! cargo run --release -p cohort-arrow --example read_file -- time DIR/fleet.parquet examples/groups [THREADS] [RUNS]
//! ```
//!
//! `write` generates the example fleet (`cohort_testkit::fleet`, example seed) and writes it
//! as `fleet.parquet` (Snappy, row groups of 131,072 rows) and `fleet.arrow` (uncompressed,
//! batches of 65,536 rows), as the `read` benchmark does. `time` reads the file `RUNS` times
//! (default 5) with the groups at the given path (a file or directory, or a YAML text when it
//! contains a newline) and prints each run's seconds and the best.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let dir = Path::new(&args[1]);
            let machines: usize = args.get(2).map_or(1_000_000, |n| n.parse().unwrap());
            std::fs::create_dir_all(dir).unwrap();
            let json =
                cohort_testkit::fleet::generate(machines, cohort_testkit::fleet::EXAMPLE_SEED);
            let batches = support::record_batches(&json, 65_536);
            support::write_parquet(&dir.join("fleet.parquet"), &batches, 131_072);
            support::write_ipc(&dir.join("fleet.arrow"), &batches);
        }
        Some("time") => {
            let file = Path::new(&args[1]);
            let groups = if args[2].contains('\n') {
                cohort::GroupSet::from_yaml_str(&args[2]).unwrap()
            } else {
                cohort::GroupSet::builder()
                    .paths([&args[2]])
                    .build()
                    .unwrap()
            };
            let threads: usize = args.get(3).map_or(0, |n| n.parse().unwrap());
            let runs: usize = args.get(4).map_or(5, |n| n.parse().unwrap());
            let options = cohort_arrow::Options::default().threads(threads);
            let parquet = file.extension().is_some_and(|e| e == "parquet");
            let mut best = f64::MAX;
            for _ in 0..runs {
                let started = Instant::now();
                let (fleet, ids) = if parquet {
                    cohort_arrow::read_parquet_with(file, groups.plan(), "id", &options)
                } else {
                    cohort_arrow::read_ipc_with(file, groups.plan(), "id", &options)
                }
                .unwrap();
                let seconds = started.elapsed().as_secs_f64();
                best = best.min(seconds);
                eprintln!(
                    "{seconds:.3} s ({} machines, {} ids)",
                    fleet.machine_count(),
                    ids.len()
                );
            }
            println!("{best:.3}");
        }
        _ => eprintln!("usage: read_file write DIR [MACHINES] | time FILE GROUPS [THREADS] [RUNS]"),
    }
}
