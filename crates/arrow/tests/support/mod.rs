//! Test support shared by the tests and the bench: the testkit's JSON machines as Arrow
//! record batches, and Parquet and IPC files of them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// How a JSON field becomes an Arrow column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Text,
    Number,
    Flag,
    /// RFC 3339 text, as `Timestamp(ms, "UTC")`.
    Date,
    /// Arrays of text, as `List<Utf8>`.
    TextList,
}

/// Every field of `machines` and its kind: flags as `Boolean`, numbers as `Float64`, arrays
/// as `List<Utf8>`, text that reads as a date-time as `Timestamp(ms, UTC)`, other text as
/// `Utf8`.
pub fn kinds(machines: &[Map<String, Value>]) -> Vec<(String, Kind)> {
    cohort_testkit::fleet::field_names(machines)
        .into_iter()
        .map(|field| {
            let mut values = machines.iter().filter_map(|m| m.get(&field));
            let kind = match values.next() {
                Some(Value::Bool(_)) => Kind::Flag,
                Some(Value::Number(_)) => Kind::Number,
                Some(Value::Array(_)) => Kind::TextList,
                Some(Value::String(first)) if is_date(first) => {
                    if values.all(|v| v.as_str().is_some_and(is_date)) {
                        Kind::Date
                    } else {
                        Kind::Text
                    }
                }
                _ => Kind::Text,
            };
            (field, kind)
        })
        .collect()
}

fn is_date(text: &str) -> bool {
    text.contains('T') && cohort::Timestamp::parse(text).is_some()
}

/// `machines` as one record batch with the columns of `kinds`.
pub fn record_batch(machines: &[Map<String, Value>], kinds: &[(String, Kind)]) -> RecordBatch {
    let columns: Vec<(String, ArrayRef)> = kinds
        .iter()
        .map(|(field, kind)| {
            let values = machines.iter().map(|m| m.get(field));
            let array: ArrayRef = match kind {
                Kind::Text => {
                    let mut b = StringBuilder::new();
                    for v in values {
                        match v {
                            Some(Value::String(s)) => b.append_value(s),
                            Some(other) => b.append_value(other.to_string()),
                            None => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Kind::Number => {
                    let mut b = Float64Builder::new();
                    for v in values {
                        b.append_option(v.and_then(Value::as_f64));
                    }
                    Arc::new(b.finish())
                }
                Kind::Flag => {
                    let mut b = BooleanBuilder::new();
                    for v in values {
                        b.append_option(v.and_then(Value::as_bool));
                    }
                    Arc::new(b.finish())
                }
                Kind::Date => {
                    let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
                    for v in values {
                        b.append_option(
                            v.and_then(Value::as_str)
                                .and_then(cohort::Timestamp::parse)
                                .map(cohort::Timestamp::unix_millis),
                        );
                    }
                    Arc::new(b.finish())
                }
                Kind::TextList => {
                    let mut b = ListBuilder::new(StringBuilder::new());
                    for v in values {
                        match v {
                            Some(Value::Array(items)) => {
                                for item in items {
                                    match item {
                                        Value::String(s) => b.values().append_value(s),
                                        other => b.values().append_value(other.to_string()),
                                    }
                                }
                                b.append(true);
                            }
                            _ => b.append(false),
                        }
                    }
                    Arc::new(b.finish())
                }
            };
            (field.clone(), array)
        })
        .collect();
    RecordBatch::try_from_iter(columns).unwrap()
}

/// `machines` as record batches of at most `rows` rows each.
pub fn record_batches(machines: &[Map<String, Value>], rows: usize) -> Vec<RecordBatch> {
    let kinds = kinds(machines);
    machines
        .chunks(rows.max(1))
        .map(|chunk| record_batch(chunk, &kinds))
        .collect()
}

/// Writes `batches` as a Snappy-compressed Parquet file with row groups of at most
/// `row_group_rows` rows.
pub fn write_parquet(path: &Path, batches: &[RecordBatch], row_group_rows: usize) {
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), Some(properties)).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

/// Writes `batches` as an uncompressed Arrow IPC file.
pub fn write_ipc(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(file, &batches[0].schema()).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
}

/// Writes `batches` in the Arrow IPC stream format.
pub fn write_ipc_stream(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(file, &batches[0].schema()).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
}

/// The example groups.
pub fn example_groups() -> cohort::GroupSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/groups");
    cohort::GroupSet::builder().paths([root]).build().unwrap()
}

/// The members of every group of `groups` in `fleet`, by group name.
pub fn membership(
    groups: &cohort::GroupSet,
    fleet: &cohort::engine::ColumnarFleet<'_>,
    now: cohort::Timestamp,
) -> Vec<(String, Vec<usize>)> {
    let bitsets = fleet.evaluate(now);
    groups
        .names()
        .map(|name| {
            let id = groups.id(name).unwrap();
            (name.to_owned(), bitsets.members(id).iter().collect())
        })
        .collect()
}
