//! Every row of the type mapping (README): an Arrow column gives the same membership as the
//! JSON values it stands for, over criteria that tell the readings apart.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arrow_array::builder::{
    BooleanBuilder, FixedSizeListBuilder, Int64Builder, LargeListBuilder, ListBuilder,
    StringBuilder,
};
use arrow_array::types::{Int8Type, UInt32Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Date64Array, Decimal128Array,
    Decimal256Array, DictionaryArray, FixedSizeBinaryArray, Float16Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, ListArray,
    NullArray, RecordBatch, StringArray, StringViewArray, StructArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt8Array,
    UInt16Array, UInt32Array, UInt64Array,
};
use arrow_buffer::i256;
use arrow_schema::{DataType, Field};
use cohort::{GroupSet, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;

fn now() -> Timestamp {
    Timestamp::parse("2026-11-25T00:00:00Z").unwrap()
}

/// One group per criterion, each on the field `F`.
fn probes(criteria: &[&str]) -> GroupSet {
    let mut yaml = String::from("groups:\n");
    for (index, criterion) in criteria.iter().enumerate() {
        yaml.push_str(&format!(
            "  - name: g{index}\n    where: {}\n",
            serde_json::to_string(&format!("[F] {criterion}")).unwrap()
        ));
    }
    GroupSet::from_yaml_str(&yaml).unwrap()
}

/// The members of every probe, by criterion.
fn members(
    groups: &GroupSet,
    criteria: &[&str],
    fleet: &cohort::engine::ColumnarFleet<'_>,
) -> Vec<(String, Vec<usize>)> {
    let bitsets = fleet.evaluate(now());
    criteria
        .iter()
        .enumerate()
        .map(|(index, criterion)| {
            let id = groups.id(&format!("g{index}")).unwrap();
            (
                (*criterion).to_owned(),
                bitsets.members(id).iter().collect(),
            )
        })
        .collect()
}

/// Reads `column` as the field `F` (one machine per row), and the JSON machines with `F` set
/// to each of `json` (`None`: no `F`); checks that every criterion has the same members, and
/// returns them.
fn same_as_json(
    column: ArrayRef,
    json: &[Option<Value>],
    criteria: &[&str],
) -> Vec<(String, Vec<usize>)> {
    assert_eq!(column.len(), json.len());
    let groups = probes(criteria);
    let batch = RecordBatch::try_from_iter([("F", column)]).unwrap();
    let mut builder = groups.plan().columnar_builder();
    cohort_arrow::append_batch(&mut builder, &batch).unwrap();
    let arrow = members(&groups, criteria, &builder.finish());
    let machines: Vec<Value> = json
        .iter()
        .map(|value| match value {
            Some(value) => json!({ "F": value }),
            None => json!({}),
        })
        .collect();
    let expected = members(&groups, criteria, &groups.plan().columnar(&machines));
    assert_eq!(arrow, expected);
    arrow
}

fn holds<'a>(result: &'a [(String, Vec<usize>)], criterion: &str) -> &'a [usize] {
    &result.iter().find(|(c, _)| c == criterion).unwrap().1
}

const TEXT_PROBES: &[&str] = &[
    "is blank",
    "is not blank",
    "= Server",
    "contains erv",
    "starts with ser",
    "is any of Laptop, Server",
    "= 10",
    "> 5",
    "matches '^S'",
];

#[test]
fn text_types_are_text_and_nulls_are_missing() {
    let json = [
        Some(json!("Server")),
        None,
        Some(json!("")),
        Some(json!("laptop")),
        Some(json!("10")),
    ];
    let values = [Some("Server"), None, Some(""), Some("laptop"), Some("10")];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(values.to_vec())),
        Arc::new(LargeStringArray::from(values.to_vec())),
        Arc::new(StringViewArray::from(values.to_vec())),
        Arc::new(values.into_iter().collect::<DictionaryArray<Int8Type>>()),
        Arc::new(values.into_iter().collect::<DictionaryArray<UInt32Type>>()),
    ];
    for column in columns {
        let result = same_as_json(column, &json, TEXT_PROBES);
        assert_eq!(holds(&result, "is blank"), [1, 2]);
        assert_eq!(holds(&result, "= Server"), [0]);
    }
}

#[test]
fn a_dictionary_of_any_type_reads_as_its_values_and_a_null_key_is_missing() {
    let keys = Int32Array::from(vec![Some(1), None, Some(0), Some(1)]);
    let values = Float64Array::from(vec![Some(2.5), None]);
    let column = DictionaryArray::new(keys, Arc::new(values));
    // Key 1 is a null value: missing too.
    let json = [None, None, Some(json!(2.5)), None];
    let result = same_as_json(Arc::new(column), &json, &["is blank", "> 2", "= 2.5"]);
    assert_eq!(holds(&result, "is blank"), [0, 1, 3]);
    let empty = DictionaryArray::new(
        Int32Array::from(vec![None, None]),
        Arc::new(StringArray::from(Vec::<&str>::new())),
    );
    same_as_json(Arc::new(empty), &[None, None], &["is blank", "= x"]);
}

const NUMBER_PROBES: &[&str] = &[
    "is blank",
    "= 1",
    "> 100",
    "< 0",
    "between 1 and 127",
    "= 9007199254740992",
    "contains 25",
];

#[test]
fn integers_and_floats_are_numbers() {
    let json: Vec<Option<Value>> = vec![Some(json!(1)), None, Some(json!(127)), Some(json!(0))];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int8Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(Int16Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(Int32Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(Int64Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(UInt8Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(UInt16Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(UInt32Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(UInt64Array::from(vec![Some(1), None, Some(127), Some(0)])),
        Arc::new(Float32Array::from(vec![
            Some(1.0),
            None,
            Some(127.0),
            Some(0.0),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(127.0),
            Some(0.0),
        ])),
        Arc::new(Float16Array::from(vec![
            Some(half(1.0)),
            None,
            Some(half(127.0)),
            Some(half(0.0)),
        ])),
    ];
    for column in columns {
        let result = same_as_json(column, &json, NUMBER_PROBES);
        assert_eq!(holds(&result, "between 1 and 127"), [0, 2]);
    }
    let fractions = Float64Array::from(vec![2.5, -0.25, 1e300]);
    same_as_json(
        Arc::new(fractions),
        &[Some(json!(2.5)), Some(json!(-0.25)), Some(json!(1e300))],
        NUMBER_PROBES,
    );
}

fn half(
    value: f32,
) -> <arrow_array::types::Float16Type as arrow_array::ArrowPrimitiveType>::Native {
    <arrow_array::types::Float16Type as arrow_array::ArrowPrimitiveType>::Native::from_f32(value)
}

#[test]
fn integers_past_2_53_round_as_serde_json_reads_them() {
    let big = 9_007_199_254_740_993_u64; // 2^53 + 1: no f64 holds it
    let result = same_as_json(
        Arc::new(UInt64Array::from(vec![big, u64::MAX])),
        &[Some(json!(big)), Some(json!(u64::MAX))],
        NUMBER_PROBES,
    );
    assert_eq!(holds(&result, "= 9007199254740992"), [0]);
    same_as_json(
        Arc::new(Int64Array::from(vec![-(big as i64), i64::MIN])),
        &[Some(json!(-(big as i64))), Some(json!(i64::MIN))],
        NUMBER_PROBES,
    );
}

#[test]
fn decimals_are_the_nearest_number() {
    let column = Decimal128Array::from(vec![Some(12_345), None, Some(-5), Some(i128::MAX)])
        .with_precision_and_scale(38, 2)
        .unwrap();
    let result = same_as_json(
        Arc::new(column),
        &[
            Some(json!(123.45)),
            None,
            Some(json!(-0.05)),
            Some(json!(1.7014118346046923e36)),
        ],
        &["= 123.45", "< 0", "= -0.05", "> 1e36", "is blank"],
    );
    assert_eq!(holds(&result, "= 123.45"), [0]);
    let column = Decimal256Array::from(vec![i256::from_i128(101), i256::MAX])
        .with_precision_and_scale(76, -1)
        .unwrap();
    same_as_json(
        Arc::new(column),
        &[Some(json!(1010.0)), Some(json!(5.78960446186581e77))],
        &["= 1010", "> 1e77"],
    );
}

#[test]
fn booleans_are_flags() {
    let column = BooleanArray::from(vec![Some(true), Some(false), None]);
    let result = same_as_json(
        Arc::new(column),
        &[Some(json!(true)), Some(json!(false)), None],
        &["= true", "is not blank", "= True", "is blank", "!= false"],
    );
    assert_eq!(holds(&result, "= true"), [0]);
}

const DATE_PROBES: &[&str] = &[
    "within last 1 days",
    "more than 30 days ago",
    "> 2026-11-24",
    "< 2026-11-25T12:00:01Z",
    "= 2026-11-24T12:00:00Z",
    "contains T12",
    "is blank",
];

#[test]
fn dates_and_timestamps_are_rfc_3339_text() {
    let noon = 1_795_608_000_i64 - 86_400; // 2026-11-24T12:00:00Z
    let json = [
        Some(json!("2026-11-24T12:00:00Z")),
        None,
        Some(json!("2026-10-01T12:00:00.5Z")),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampSecondArray::from(vec![Some(noon), None, Some(noon - 54 * 86_400)])
                .with_timezone("UTC"),
        ),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(noon * 1000),
            None,
            Some((noon - 54 * 86_400) * 1000 + 500),
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(noon * 1_000_000),
                None,
                Some((noon - 54 * 86_400) * 1_000_000 + 500_000),
            ])
            .with_timezone("+02:00"),
        ),
        Arc::new(TimestampNanosecondArray::from(vec![
            Some(noon * 1_000_000_000),
            None,
            Some((noon - 54 * 86_400) * 1_000_000_000 + 500_000_000),
        ])),
    ];
    for (index, column) in columns.into_iter().enumerate() {
        let json: Vec<Option<Value>> = if index == 0 {
            vec![json[0].clone(), None, Some(json!("2026-10-01T12:00:00Z"))]
        } else {
            json.to_vec()
        };
        let result = same_as_json(column, &json, DATE_PROBES);
        assert_eq!(holds(&result, "within last 1 days"), [0]);
        assert_eq!(holds(&result, "= 2026-11-24T12:00:00Z"), [0]);
    }
    let day = 20_781; // 2026-11-24
    let result = same_as_json(
        Arc::new(Date32Array::from(vec![Some(day), None, Some(0)])),
        &[Some(json!("2026-11-24")), None, Some(json!("1970-01-01"))],
        DATE_PROBES,
    );
    assert_eq!(holds(&result, "within last 1 days"), [0]);
    same_as_json(
        Arc::new(Date64Array::from(vec![
            Some(i64::from(day) * 86_400_000),
            Some(i64::from(day) * 86_400_000 + 43_200_000),
        ])),
        &[
            Some(json!("2026-11-24")),
            Some(json!("2026-11-24T12:00:00Z")),
        ],
        DATE_PROBES,
    );
    // A year past 9999 is text that no date test reads.
    let far = TimestampSecondArray::from(vec![253_402_300_800]);
    same_as_json(
        Arc::new(far),
        &[Some(json!("+10000-01-01T00:00:00Z"))],
        DATE_PROBES,
    );
}

const LIST_PROBES: &[&str] = &[
    "is blank",
    "is not blank",
    "contains any of Chrome",
    "contains all of Chrome, Slack",
    "= Slack",
    "= 3",
    "= true",
    "is none of Slack",
];

#[test]
fn lists_are_lists_with_null_elements_as_json_null() {
    let mut builder = ListBuilder::new(StringBuilder::new());
    builder.values().append_value("Google Chrome");
    builder.values().append_value("Slack");
    builder.append(true);
    builder.append(false);
    builder.append(true);
    builder.values().append_null();
    builder.values().append_value("slack");
    builder.append(true);
    let result = same_as_json(
        Arc::new(builder.finish()),
        &[
            Some(json!(["Google Chrome", "Slack"])),
            None,
            Some(json!([])),
            Some(json!([null, "slack"])),
        ],
        LIST_PROBES,
    );
    assert_eq!(holds(&result, "is blank"), [1, 2]);
    assert_eq!(holds(&result, "contains all of Chrome, Slack"), [0]);

    let mut builder = LargeListBuilder::new(Int64Builder::new());
    builder.values().append_value(3);
    builder.values().append_value(4);
    builder.append(true);
    builder.append(true);
    same_as_json(
        Arc::new(builder.finish()),
        &[Some(json!([3, 4])), Some(json!([]))],
        LIST_PROBES,
    );

    let mut builder = FixedSizeListBuilder::new(BooleanBuilder::new(), 2);
    builder.values().append_value(true);
    builder.values().append_null();
    builder.append(true);
    builder.values().append_value(false);
    builder.values().append_value(false);
    builder.append(false);
    same_as_json(
        Arc::new(builder.finish()),
        &[Some(json!([true, null])), None],
        LIST_PROBES,
    );
}

#[test]
fn nested_lists_stay_nested_and_are_cut_at_max_list_depth() {
    let mut builder = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    builder.values().values().append_value("Slack");
    builder.values().append(true);
    builder.values().append(false);
    builder.append(true);
    builder.append(true);
    same_as_json(
        Arc::new(builder.finish()),
        &[Some(json!([["Slack"], null])), Some(json!([]))],
        LIST_PROBES,
    );

    // `Slack` inside `depth` lists, for depths on both sides of the limit.
    for depth in [
        cohort::engine::MAX_LIST_DEPTH - 1,
        cohort::engine::MAX_LIST_DEPTH,
        cohort::engine::MAX_LIST_DEPTH + 1,
        40,
    ] {
        let mut array: ArrayRef = Arc::new(StringArray::from(vec!["Slack"]));
        let mut value = json!("Slack");
        for _ in 0..depth {
            let field = Arc::new(Field::new("item", array.data_type().clone(), true));
            array = Arc::new(ListArray::new(
                field,
                arrow_buffer::OffsetBuffer::from_lengths([1]),
                array,
                None,
            ));
            value = json!([value]);
        }
        let result = same_as_json(array, &[Some(value)], LIST_PROBES);
        let expected: &[usize] = if depth <= cohort::engine::MAX_LIST_DEPTH {
            &[0]
        } else {
            &[]
        };
        assert_eq!(holds(&result, "= Slack"), expected, "depth {depth}");
    }
}

#[test]
fn sliced_arrays_are_read_from_their_offset() {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for items in [&["a"][..], &["Slack", "Google Chrome"], &["b"], &["Slack"]] {
        for item in items {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    let list = builder.finish();
    let text = StringArray::from(vec!["x", "Server", "y", "Server"]);
    let batch = RecordBatch::try_from_iter([
        ("L", Arc::new(list) as ArrayRef),
        ("T", Arc::new(text) as ArrayRef),
    ])
    .unwrap()
    .slice(1, 3);
    let groups = GroupSet::from_yaml_str(
        "groups:\n  - {name: chrome, where: 'L contains any of Chrome'}\n  - {name: slack, where: 'L = Slack and T = Server'}\n",
    )
    .unwrap();
    let mut builder = groups.plan().columnar_builder();
    cohort_arrow::append_batch(&mut builder, &batch).unwrap();
    let bitsets = builder.finish().evaluate(now());
    let of = |name| {
        bitsets
            .members(groups.id(name).unwrap())
            .iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("chrome"), [0]);
    assert_eq!(of("slack"), [0, 2]);
}

const OPAQUE_PROBES: &[&str] = &["is blank", "is not blank", "= x", "contains x", "!= x"];

#[test]
fn other_types_are_opaque_as_json_objects_are() {
    let strukt = StructArray::try_new(
        vec![Field::new("x", DataType::Utf8, true)].into(),
        vec![Arc::new(StringArray::from(vec![Some("x"), None])) as ArrayRef],
        Some(vec![true, false].into()),
    )
    .unwrap();
    let binary = BinaryArray::from(vec![Some(&b"x"[..]), None]);
    let fixed = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        vec![Some(vec![b'x']), None].into_iter(),
        1,
    )
    .unwrap();
    let time = arrow_array::Time32SecondArray::from(vec![Some(3600), None]);
    let duration = arrow_array::DurationSecondArray::from(vec![Some(3600), None]);
    let mut map =
        arrow_array::builder::MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    map.keys().append_value("x");
    map.values().append_value("x");
    map.append(true).unwrap();
    map.append(false).unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(strukt),
        Arc::new(binary),
        Arc::new(fixed),
        Arc::new(time),
        Arc::new(duration),
        Arc::new(map.finish()),
    ];
    for column in columns {
        let data_type = column.data_type().clone();
        let result = same_as_json(column, &[Some(json!({"x": "x"})), None], OPAQUE_PROBES);
        assert_eq!(holds(&result, "is not blank"), [0], "{data_type}");
        assert_eq!(holds(&result, "= x"), Vec::<usize>::new(), "{data_type}");
    }
}

#[test]
fn the_null_type_and_an_absent_column_are_missing_on_every_machine() {
    let result = same_as_json(Arc::new(NullArray::new(2)), &[None, None], OPAQUE_PROBES);
    assert_eq!(holds(&result, "is blank"), [0, 1]);

    let groups =
        GroupSet::from_yaml_str("name: g\nwhere: '[Not There] is blank and T = a'").unwrap();
    let batch = RecordBatch::try_from_iter([(
        "T",
        Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
    )])
    .unwrap();
    let mut builder = groups.plan().columnar_builder();
    cohort_arrow::append_batch(&mut builder, &batch).unwrap();
    let bitsets = builder.finish().evaluate(now());
    assert_eq!(
        bitsets
            .members(groups.id("g").unwrap())
            .iter()
            .collect::<Vec<_>>(),
        [0]
    );
}

#[test]
fn two_columns_with_a_tested_name_are_an_error_naming_it() {
    let groups = GroupSet::from_yaml_str("name: g\nwhere: 'T = a'").unwrap();
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        Field::new("T", DataType::Utf8, true),
        Field::new("U", DataType::Utf8, true),
        Field::new("T", DataType::Utf8, true),
    ]));
    let column: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
    let batch = RecordBatch::try_new(schema, vec![column.clone(), column.clone(), column]).unwrap();
    let mut builder = groups.plan().columnar_builder();
    let error = cohort_arrow::append_batch(&mut builder, &batch).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the batch has 2 columns named `T`, a field the groups test"
    );
    assert_eq!(builder.machine_count(), 0);
}

/// Dictionary arrays are stored by their distinct values: a null key, a null value, values
/// no key uses, keys of a slice, several batches into one builder, and a dictionary inside
/// a list all read as the values they stand for.
#[test]
fn dictionary_arrays_sliced_and_in_lists_read_as_their_values() {
    let values = StringArray::from(vec![Some("Server"), None, Some("Laptop"), Some("unused")]);
    let keys = Int8Array::from(vec![Some(0), Some(2), None, Some(1), Some(0), Some(2)]);
    let dictionary: ArrayRef =
        Arc::new(DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values)).unwrap());
    let all = [
        Some(json!("Server")),
        Some(json!("Laptop")),
        None,
        None,
        Some(json!("Server")),
        Some(json!("Laptop")),
    ];
    same_as_json(dictionary.clone(), &all, TEXT_PROBES);
    same_as_json(dictionary.slice(2, 3), &all[2..5], TEXT_PROBES);

    // A list of dictionary-encoded texts, sliced.
    let elements = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(vec![Some(0), Some(1), None, Some(0), Some(1)]),
        Arc::new(StringArray::from(vec!["Slack", "Google Chrome"])),
    )
    .unwrap();
    let field = Arc::new(Field::new("item", elements.data_type().clone(), true));
    let list: ArrayRef = Arc::new(ListArray::new(
        field,
        arrow_buffer::OffsetBuffer::from_lengths([2, 0, 1, 2]),
        Arc::new(elements),
        Some(arrow_buffer::NullBuffer::from(vec![
            true, false, true, true,
        ])),
    ));
    let lists = [
        Some(json!(["Slack", "Google Chrome"])),
        None,
        Some(json!([null])),
        Some(json!(["Slack", "Google Chrome"])),
    ];
    same_as_json(list.clone(), &lists, LIST_PROBES);
    same_as_json(list.slice(1, 3), &lists[1..], LIST_PROBES);

    // Batches appended one after another agree with the machines of all of them.
    let groups = probes(TEXT_PROBES);
    let mut builder = groups.plan().columnar_builder();
    for part in [dictionary.slice(0, 3), dictionary.slice(3, 3)] {
        let batch = RecordBatch::try_from_iter([("F", part)]).unwrap();
        cohort_arrow::append_batch(&mut builder, &batch).unwrap();
    }
    let machines: Vec<Value> = all
        .iter()
        .map(|value| match value {
            Some(value) => json!({ "F": value }),
            None => json!({}),
        })
        .collect();
    assert_eq!(
        members(&groups, TEXT_PROBES, &builder.finish()),
        members(&groups, TEXT_PROBES, &groups.plan().columnar(&machines))
    );
}

/// Lists of flags, numbers and texts, with null lists and null elements, from a slice whose
/// child starts before the first list: the same as the JSON lists.
#[test]
fn list_columns_are_written_from_their_elements_at_any_offset() {
    let mut builder = ListBuilder::new(StringBuilder::new());
    let rows: Vec<Option<Vec<Option<&str>>>> = vec![
        Some(vec![Some("a"), Some("Slack")]),
        Some(vec![Some("Slack"), None]),
        None,
        Some(vec![]),
        Some(vec![Some("Slack"), None]),
        Some(vec![Some("Google Chrome"), Some("Slack")]),
    ];
    for row in &rows {
        match row {
            Some(items) => {
                for item in items {
                    builder.values().append_option(*item);
                }
                builder.append(true);
            }
            None => builder.append(false),
        }
    }
    let array: ArrayRef = Arc::new(builder.finish());
    let json: Vec<Option<Value>> = rows
        .iter()
        .map(|row| row.as_ref().map(|items| json!(items)))
        .collect();
    for (offset, length) in [(0, 6), (1, 5), (2, 3), (4, 2), (5, 1), (3, 0)] {
        same_as_json(
            array.slice(offset, length),
            &json[offset..offset + length],
            LIST_PROBES,
        );
    }
}
