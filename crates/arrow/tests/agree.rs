//! The Arrow paths (a record batch, Parquet, IPC file and stream) give the same membership as
//! the JSON path over the same machines, for every example group.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use cohort::Timestamp;
use cohort_testkit::fleet;

const MACHINES: usize = 3_000;

fn now() -> Timestamp {
    Timestamp::parse(fleet::EXAMPLE_NOW).unwrap()
}

#[test]
fn every_arrow_path_agrees_with_json_on_every_example_group() {
    let groups = support::example_groups();
    assert_eq!(groups.len(), 33);
    let machines = fleet::generate(MACHINES, fleet::EXAMPLE_SEED);
    let expected = support::membership(&groups, &groups.plan().columnar(&machines), now());
    assert!(
        expected
            .iter()
            .filter(|(_, members)| !members.is_empty())
            .count()
            > 25
    );

    // Several batches, so that the files have several row groups and batches to share out.
    let batches = support::record_batches(&machines, 700);

    let mut builder = groups.plan().columnar_builder();
    for batch in &batches {
        cohort_arrow::append_batch(&mut builder, batch).unwrap();
    }
    assert_eq!(
        support::membership(&groups, &builder.finish(), now()),
        expected,
        "record batches"
    );

    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("fleet.parquet");
    let ipc = dir.path().join("fleet.arrow");
    let stream = dir.path().join("fleet.arrows");
    support::write_parquet(&parquet, &batches, 1_000);
    support::write_ipc(&ipc, &batches);
    support::write_ipc_stream(&stream, &batches);
    let expected_ids: Vec<String> = machines
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    for threads in [1, 2, 3] {
        let options = cohort_arrow::Options::default().threads(threads);
        let read = [
            cohort_arrow::read_parquet_with(&parquet, groups.plan(), "id", &options).unwrap(),
            cohort_arrow::read_ipc_with(&ipc, groups.plan(), "id", &options).unwrap(),
            cohort_arrow::read_ipc_with(&stream, groups.plan(), "id", &options).unwrap(),
        ];
        for ((fleet, ids), what) in read.iter().zip(["parquet", "ipc file", "ipc stream"]) {
            assert_eq!(fleet.machine_count(), MACHINES, "{what}, {threads} threads");
            assert_eq!(
                support::membership(&groups, fleet, now()),
                expected,
                "{what}, {threads} threads"
            );
            assert_eq!(ids.iter().collect::<Vec<_>>(), expected_ids, "{what}");
        }
    }
}

#[test]
fn only_the_plan_columns_and_the_id_are_read_and_a_missing_id_column_numbers_machines() {
    let groups = support::example_groups();
    let machines = fleet::generate(50, fleet::EXAMPLE_SEED);
    let batches = support::record_batches(&machines, 50);
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("fleet.parquet");
    support::write_parquet(&parquet, &batches, 1_000);
    let (fleet, ids) = cohort_arrow::read_parquet(&parquet, groups.plan(), "no such id").unwrap();
    assert_eq!(fleet.machine_count(), 50);
    assert_eq!(ids.get(0), Some("#1"));
    assert_eq!(ids.get(49), Some("#50"));
    assert_eq!(
        support::membership(&groups, &fleet, now()),
        support::membership(&groups, &groups.plan().columnar(&machines), now())
    );
}
