//! Reading files: hostile input (garbage, truncated and corrupted files) gives errors naming
//! the file, never a panic; unsupported and absent columns; ids.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, StructArray};
use arrow_schema::{DataType, Field};
use cohort::{GroupSet, Timestamp};
use cohort_arrow::{Error, read_ipc, read_parquet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn groups() -> GroupSet {
    quiet_reader_panics();
    support::example_groups()
}

/// Keeps the panics of the Parquet and Arrow readers on damaged files (caught and returned as
/// `Error::ReaderPanicked`) out of the test output; every other panic is printed as usual.
fn quiet_reader_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_reader = info.location().is_some_and(|l| {
                let file = l.file();
                ["/arrow-", "/parquet-"]
                    .iter()
                    .any(|crate_dir| file.contains(crate_dir))
            });
            if !in_reader {
                default(info);
            }
        }));
    });
}

fn fleet_batches(machines: usize) -> Vec<RecordBatch> {
    let json = cohort_testkit::fleet::generate(machines, cohort_testkit::fleet::EXAMPLE_SEED);
    support::record_batches(&json, 100)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `error` names `path` (in its message and its `path()`).
fn names_file(error: &Error, path: &Path) {
    assert_eq!(error.path(), path);
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn garbage_empty_and_missing_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let groups = groups();
    let plan = groups.plan();
    let garbage: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for (name, bytes) in [
        ("garbage.bin", &garbage[..]),
        ("empty.bin", &[][..]),
        ("magic-only.parquet", &b"PAR1"[..]),
        ("magic-twice.parquet", &b"PAR1PAR1"[..]),
        ("arrow-magic-only.arrow", &b"ARROW1\0\0ARROW1"[..]),
        ("json.json", &br#"[{"id": "M1"}]"#[..]),
    ] {
        let path = write(dir.path(), name, bytes);
        let error = read_parquet(&path, plan, "id").unwrap_err();
        names_file(&error, &path);
        assert!(matches!(error, Error::Parquet { .. }), "{name}: {error:?}");
        let error = read_ipc(&path, plan, "id").unwrap_err();
        names_file(&error, &path);
        assert!(matches!(error, Error::Decode { .. }), "{name}: {error:?}");
    }
    let missing = dir.path().join("missing.parquet");
    for error in [
        read_parquet(&missing, plan, "id").unwrap_err(),
        read_ipc(&missing, plan, "id").unwrap_err(),
    ] {
        names_file(&error, &missing);
        assert!(matches!(error, Error::Io { .. }), "{error:?}");
    }
    let error = read_parquet(dir.path(), plan, "id").unwrap_err();
    names_file(&error, dir.path());
}

/// Every way of cutting a file short, and a spread of single corrupted bytes, reads as a
/// located error or (for a byte whose change still decodes) as some fleet: never a panic.
fn survives_damage(
    name: &str,
    bytes: &[u8],
    read: impl Fn(&Path) -> Result<usize, Error>,
) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut errors = 0;
    let mut panicked = 0;
    let mut check = |damaged: &[u8], what: &str| {
        let path = write(dir.path(), name, damaged);
        match read(&path) {
            Ok(_) => {}
            Err(error) => {
                names_file(&error, &path);
                errors += 1;
                if matches!(error, Error::ReaderPanicked { .. }) {
                    panicked += 1;
                    eprintln!("{name}: the reader panicked on {what}");
                }
            }
        }
    };
    let step = (bytes.len() / 120).max(1);
    for cut in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        check(&bytes[..cut], &format!("the first {cut} bytes"));
    }
    for at in (0..bytes.len()).step_by(step / 2 + 1) {
        for flip in [0xFF_u8, 0x01] {
            let mut damaged = bytes.to_vec();
            damaged[at] ^= flip;
            check(&damaged, &format!("byte {at} xor {flip:#x}"));
        }
    }
    (errors, panicked)
}

#[test]
fn truncated_and_corrupted_parquet_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.parquet");
    support::write_parquet(&path, &fleet_batches(300), 100);
    let bytes = std::fs::read(&path).unwrap();
    let groups = groups();
    let (errors, panicked) = survives_damage("damaged.parquet", &bytes, |path| {
        let (fleet, ids) = read_parquet(path, groups.plan(), "id")?;
        fleet.evaluate(Timestamp::UNIX_EPOCH);
        Ok(ids.len())
    });
    assert!(errors > 120, "{errors}");
    eprintln!("parquet: {errors} errors, {panicked} caught panics");
}

#[test]
fn truncated_and_corrupted_ipc_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let batches = fleet_batches(300);
    for (name, write) in [
        (
            "damaged.arrow",
            support::write_ipc as fn(&Path, &[RecordBatch]),
        ),
        ("damaged.arrows", support::write_ipc_stream),
    ] {
        let path = dir.path().join(name);
        write(&path, &batches);
        let bytes = std::fs::read(&path).unwrap();
        let groups = groups();
        let (errors, panicked) = survives_damage(name, &bytes, |path| {
            let (fleet, ids) = read_ipc(path, groups.plan(), "id")?;
            fleet.evaluate(Timestamp::UNIX_EPOCH);
            Ok(ids.len())
        });
        assert!(errors > 120, "{name}: {errors}");
        eprintln!("{name}: {errors} errors, {panicked} caught panics");
    }
}

fn odd_batch() -> RecordBatch {
    let strukt = StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int64, true)),
        Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
    )]);
    RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from(vec![Some(9_007_199_254_740_993), None])) as ArrayRef,
        ),
        ("OS", Arc::new(strukt) as ArrayRef),
        (
            "Unread",
            Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[test]
fn an_unsupported_column_is_opaque_an_absent_field_missing_and_integer_ids_exact() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("odd.parquet");
    let ipc = dir.path().join("odd.arrow");
    support::write_parquet(&parquet, &[odd_batch()], 100);
    support::write_ipc(&ipc, &[odd_batch()]);
    // `OS` is a struct (opaque: not blank, contains nothing); `Hostname` is not in the file.
    let groups = GroupSet::from_yaml_str(
        "groups:\n  - {name: os, where: 'OS is not blank and not OS contains Windows'}\n  - {name: host, where: 'Hostname is blank'}\n",
    )
    .unwrap();
    for path in [&parquet, &ipc] {
        let (fleet, ids) = if path == &parquet {
            read_parquet(path, groups.plan(), "id").unwrap()
        } else {
            read_ipc(path, groups.plan(), "id").unwrap()
        };
        let bitsets = fleet.evaluate(Timestamp::UNIX_EPOCH);
        for name in ["os", "host"] {
            let members: Vec<usize> = bitsets.members(groups.id(name).unwrap()).iter().collect();
            assert_eq!(members, [0, 1], "{name} in {}", path.display());
        }
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["9007199254740993", "#2"]);
    }
}

#[test]
fn an_id_column_without_a_text_form_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.parquet");
    support::write_parquet(&path, &[odd_batch()], 100);
    let groups = groups();
    let error = read_parquet(&path, groups.plan(), "OS").unwrap_err();
    names_file(&error, &path);
    assert_eq!(error.column(), Some("OS"));
    assert!(matches!(error, Error::IdType { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("the id column `OS` has type Struct"),
        "{error}"
    );
}

#[test]
fn a_file_with_no_rows_is_an_empty_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.parquet");
    support::write_parquet(&path, &[odd_batch().slice(0, 0)], 100);
    let groups = groups();
    let (fleet, ids) = read_parquet(&path, groups.plan(), "id").unwrap();
    assert_eq!(fleet.machine_count(), 0);
    assert!(ids.is_empty());
}
