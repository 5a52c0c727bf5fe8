//! The fast reader against the whole-record reader: in every format and layout, over the
//! example fleet and random machines, the columns it builds give the same members and the
//! same ids as storing every machine read as a JSON object; bad records are reported at
//! their true lines; compression and limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cohort::{GroupSet, Timestamp};
use cohort_fleet::{Format, OnError, Options, ReadError, Source};
use cohort_testkit::fleet;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::io::Write;

fn example_groups() -> GroupSet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/groups");
    GroupSet::builder().paths(&[dir]).build().unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse(fleet::EXAMPLE_NOW).unwrap()
}

fn source(bytes: &[u8]) -> Source<'_> {
    Source::Reader {
        name: "test".to_owned(),
        reader: Box::new(bytes),
    }
}

fn options(format: Format) -> Options {
    Options::new(format)
}

/// Members of every group (as ids) when `bytes` is read by the fast reader.
fn members_fast(groups: &GroupSet, bytes: &[u8], options: &Options) -> Vec<Vec<String>> {
    let fleet = cohort_fleet::read(groups.plan(), source(bytes), options).unwrap();
    let members = fleet.columns().evaluate(now());
    groups
        .plan()
        .group_ids()
        .map(|id| {
            members
                .members(id)
                .iter()
                .map(|p| fleet.ids().get(p).unwrap().into_owned())
                .collect()
        })
        .collect()
}

/// Members of every group (as ids) when every machine is stored as a whole JSON object.
fn members_whole(groups: &GroupSet, machines: &[Map<String, Value>]) -> Vec<Vec<String>> {
    let columns = groups.plan().columnar(machines);
    let members = columns.evaluate(now());
    let id = |position: usize| match machines[position].get("id") {
        Some(Value::String(text)) => text.clone(),
        None | Some(Value::Null) => format!("#{}", position + 1),
        Some(other) => other.to_string(),
    };
    groups
        .plan()
        .group_ids()
        .map(|group| members.members(group).iter().map(id).collect())
        .collect()
}

fn ndjson(machines: &[Map<String, Value>]) -> String {
    machines
        .iter()
        .map(|m| serde_json::to_string(m).unwrap() + "\n")
        .collect()
}

/// Every JSON layout a machines file comes in.
fn json_layouts(machines: &[Map<String, Value>]) -> Vec<(&'static str, String)> {
    let array: Vec<Value> = machines.iter().cloned().map(Value::Object).collect();
    vec![
        ("ndjson", ndjson(machines)),
        ("ndjson with blank lines and CRLF", {
            ndjson(machines).replace('\n', "\r\n\n")
        }),
        ("array one per line", fleet::to_json(machines)),
        ("array on one line", serde_json::to_string(&array).unwrap()),
        (
            "array pretty",
            serde_json::to_string_pretty(&array).unwrap(),
        ),
        (
            "objects pretty",
            machines
                .iter()
                .map(|m| serde_json::to_string_pretty(m).unwrap())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "wrapper",
            serde_json::to_string(&serde_json::json!({ "machines": array })).unwrap(),
        ),
    ]
}

#[test]
fn every_layout_and_format_agrees_with_whole_records_on_the_example_fleet() {
    let groups = example_groups();
    // Enough machines for two chunks of 4 MiB.
    let machines = fleet::generate(6_500, fleet::EXAMPLE_SEED);
    let expected = members_whole(&groups, &machines);
    assert!(expected.iter().any(|m| !m.is_empty()));
    for (layout, text) in json_layouts(&machines) {
        for threads in [1, 2, 3] {
            let mut options = options(Format::Json);
            options.threads = threads;
            assert_eq!(
                members_fast(&groups, text.as_bytes(), &options),
                expected,
                "{layout}, {threads} threads"
            );
        }
    }
    let csv = fleet::to_csv(&machines);
    let from_csv = cohort_fleet::records(csv.as_bytes(), Format::Csv).unwrap();
    assert_eq!(
        members_fast(&groups, csv.as_bytes(), &options(Format::Csv)),
        members_whole(&groups, &from_csv),
        "csv"
    );
}

fn machines_strategy() -> impl Strategy<Value = Vec<Map<String, Value>>> {
    prop::collection::vec(cohort_testkit::strategies::machine(), 0..40).prop_map(|machines| {
        machines
            .into_iter()
            .enumerate()
            .map(|(i, mut m)| {
                if i % 3 != 0 {
                    m.insert("id".into(), Value::String(format!("m{i}")));
                } else if i % 2 == 0 {
                    m.insert("id".into(), serde_json::json!(i));
                }
                m
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random machines (scalars, lists, nulls, objects, odd ids), random groups: the fast
    /// reader builds what storing the whole records builds, in every JSON layout.
    #[test]
    fn random_machines_read_alike(
        machines in machines_strategy(),
        defs in prop::collection::vec(
            cohort_testkit::strategies::group("g".into(), cohort_testkit::strategies::blocks()),
            1..4,
        ),
    ) {
        let defs: Vec<_> = defs
            .into_iter()
            .enumerate()
            .map(|(i, mut g)| { g.name = format!("g{i}"); g })
            .collect();
        let Ok(checked) = cohort_check_groups(&defs) else { return Ok(()); };
        let expected = members_whole(&checked, &machines);
        for (layout, text) in json_layouts(&machines) {
            prop_assert_eq!(
                &members_fast(&checked, text.as_bytes(), &options(Format::Json)),
                &expected,
                "{}", layout
            );
        }
    }
}

fn cohort_check_groups(defs: &[cohort::engine::syntax::GroupDef]) -> Result<GroupSet, ()> {
    let yaml = defs
        .iter()
        .map(|g| {
            format!(
                "- name: {}\n  where: {}\n",
                serde_json::to_string(&g.name).unwrap(),
                serde_json::to_string(&cohort::engine::syntax::expr_to_text(&g.condition)).unwrap()
            )
        })
        .collect::<String>();
    GroupSet::from_yaml_str(&format!("groups:\n{yaml}")).map_err(|_| ())
}

fn os_group() -> GroupSet {
    GroupSet::from_yaml_str("name: Linux\nwhere: 'OS equal Linux'").unwrap()
}

fn read_err(bytes: &[u8], options: &Options) -> ReadError {
    cohort_fleet::read(os_group().plan(), source(bytes), options).unwrap_err()
}

/// The bad records of `bytes` in `format` (read with the default options), and how many.
fn bad_records(bytes: &[u8], format: Format) -> (Vec<cohort_fleet::RecordError>, usize) {
    match read_err(bytes, &options(format)) {
        ReadError::BadRecords { errors, count, .. } => (errors, count),
        other => panic!("bad records expected: {other}"),
    }
}

#[test]
fn every_bad_ndjson_record_is_reported_at_its_line() {
    let text = "{\"id\": \"a\", \"OS\": \"Linux\"}\n\n7\n{\"id\": \"b\",}\n{\"id\": \"c\", \"OS\": \"Linux\"}\n[\"x\"]\n";
    let error = read_err(text.as_bytes(), &options(Format::Ndjson));
    let ReadError::BadRecords { errors, count, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(*count, 3);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 6]);
    assert!(
        error
            .to_string()
            .starts_with("`test`: 3 bad records:\n  line 3, column 1: invalid type: integer `7`"),
        "{error}"
    );

    let mut skip = options(Format::Ndjson);
    skip.on_error = OnError::Skip;
    let groups = os_group();
    let fleet = cohort_fleet::read(groups.plan(), source(text.as_bytes()), &skip).unwrap();
    assert_eq!(fleet.machine_count(), 2);
    assert_eq!(fleet.skipped_count(), 3);
    let members = fleet.columns().evaluate(now());
    let linux: Vec<_> = members
        .members(groups.id("Linux").unwrap())
        .iter()
        .map(|p| fleet.ids().get(p).unwrap())
        .collect();
    assert_eq!(linux, ["a", "c"]);
}

#[test]
fn bad_records_across_chunks_keep_their_true_lines() {
    // 40,000 lines of about 200 bytes: two chunks at least; a bad line every 9,999.
    let mut text = String::new();
    let mut bad = Vec::new();
    for line in 1..=40_000u64 {
        if line % 9_999 == 0 {
            text.push_str("not json\n");
            bad.push(line);
        } else {
            text.push_str(&format!(
                "{{\"id\": \"m{line}\", \"OS\": \"Linux\", \"Pad\": \"{}\"}}\n",
                "x".repeat(160)
            ));
        }
    }
    assert!(text.len() > 6 << 20);
    let (errors, count) = bad_records(text.as_bytes(), Format::Ndjson);
    assert_eq!(count, bad.len());
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), bad);
}

#[test]
fn csv_rows_of_the_wrong_width_or_not_utf8_are_located() {
    let text = b"id,OS\na,Linux\nb,Linux,extra\nc,Lin\xFFux\nd,Linux\n";
    let (errors, count) = bad_records(text, Format::Csv);
    assert_eq!(count, 2);
    assert_eq!(
        errors[0].to_string(),
        "line 3: the row has 3 fields, the header 2"
    );
    assert_eq!(
        errors[1].to_string(),
        "line 4: the value of `OS` is not valid UTF-8 text"
    );
    // A character split over two cells: the row's bytes are text end to end, each cell's
    // are not (the row is checked once, and each cell's bounds against it).
    let text = b"OS,id\n\xC3,\xA9\nLinux,b\n";
    let (errors, count) = bad_records(text, Format::Csv);
    assert_eq!(count, 1);
    assert_eq!(
        errors[0].to_string(),
        "line 2: the value of `OS` is not valid UTF-8 text"
    );
    let error = read_err(
        b"id,OS\na,Linux\nb,\"Windows\nc,Linux\n",
        &options(Format::Csv),
    );
    assert_eq!(
        error.to_string(),
        "`test`: line 3: invalid CSV: this quoted field is never closed (a `\"` is missing), so every row after it would be read as part of it"
    );
}

#[test]
fn a_line_framed_array_must_stay_framed() {
    let cases: [(&str, &str); 5] = [
        (
            "[\n{\"id\": \"a\"}\n{\"id\": \"b\"}\n]\n",
            "line 2: expected a `,` after this machine",
        ),
        (
            "[\n{\"id\": \"a\"},\n{\"id\": \"b\"},\n]\n",
            "line 3: a `,` after the last machine",
        ),
        (
            "[\n{\"id\": \"a\"},\n{\"id\": \"b\"}\n",
            "line 4: the array of machines is never closed (a `]` line is missing)",
        ),
        (
            "[\n{\"id\": \"a\"}\n]\n{\"id\": \"b\"}\n",
            "line 4: text after the `]` that closes the array of machines",
        ),
        (
            "[\n{\"id\": \"a\"},\n[\n{\"id\": \"b\"}\n]\n",
            "line 3: a second `[`: the array of machines is already open",
        ),
    ];
    for (text, message) in cases {
        let error = read_err(text.as_bytes(), &options(Format::Json));
        assert_eq!(error.to_string(), format!("`test`: {message}"), "{text:?}");
    }
    let groups = os_group();
    let ok = "[\n{\"id\": \"a\", \"OS\": \"Linux\"},\n{\"id\": \"b\"}]\n";
    let fleet =
        cohort_fleet::read(groups.plan(), source(ok.as_bytes()), &options(Format::Json)).unwrap();
    assert_eq!(fleet.machine_count(), 2);
}

#[test]
fn gzip_and_zstd_are_read_as_the_bytes_they_hold() {
    let groups = example_groups();
    let machines = fleet::generate(500, fleet::EXAMPLE_SEED);
    let text = ndjson(&machines);
    let expected = members_whole(&groups, &machines);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(text.as_bytes()).unwrap();
    let gzip = gzip.finish().unwrap();
    let zstd = zstd::encode_all(text.as_bytes(), 3).unwrap();
    for (name, bytes) in [("gzip", gzip), ("zstd", zstd)] {
        assert_eq!(
            members_fast(&groups, &bytes, &options(Format::Ndjson)),
            expected,
            "{name}"
        );
    }
    let truncated = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let error = cohort_fleet::read(
        groups.plan(),
        source(&truncated[..truncated.len() / 2]),
        &options(Format::Ndjson),
    );
    assert!(error.is_err(), "a truncated zstd file is an error");
}

#[test]
fn a_record_without_an_end_is_refused_past_the_limit() {
    let mut options = options(Format::Ndjson);
    options.max_record_bytes = 5 << 20;
    let mut text = String::from("{\"id\": \"a\"}\n{\"id\": \"");
    text.push_str(&"x".repeat(12 << 20));
    let error = read_err(text.as_bytes(), &options);
    assert_eq!(
        error.to_string(),
        format!(
            "`test`: line 2: a record longer than {} bytes, the limit (a line end or a closing quote is missing?)",
            5 << 20
        )
    );
    let mut csv = String::from("id,OS\na,\"");
    csv.push_str(&"x\n".repeat(6 << 20));
    let mut csv_options = options.clone();
    csv_options.format = Format::Csv;
    assert!(
        read_err(csv.as_bytes(), &csv_options)
            .to_string()
            .contains("line 2: a record longer than")
    );
}

#[test]
fn field_names_come_from_the_header_or_the_first_records() {
    let groups = os_group();
    let fleet = cohort_fleet::read(
        groups.plan(),
        source(b"id,OS,Site\n"),
        &options(Format::Csv),
    )
    .unwrap();
    assert_eq!(
        fleet.field_names().iter().collect::<Vec<_>>(),
        ["OS", "Site", "id"]
    );
    let fleet = cohort_fleet::read(
        groups.plan(),
        source(b"{\"Zone\": 1}\n{\"id\": \"x\"}\n"),
        &options(Format::Ndjson),
    )
    .unwrap();
    assert_eq!(
        fleet.field_names().iter().collect::<Vec<_>>(),
        ["Zone", "id"]
    );
    assert_eq!(fleet.ids().get(0).unwrap(), "#1");
}

#[test]
fn empty_sources_are_empty_fleets() {
    let groups = os_group();
    for (bytes, format) in [
        (&b""[..], Format::Ndjson),
        (b"\xEF\xBB\xBF", Format::Json),
        (b"", Format::Csv),
        (b"[\n]\n", Format::Json),
        (b"", Format::Yaml),
    ] {
        let fleet = cohort_fleet::read(groups.plan(), source(bytes), &options(format)).unwrap();
        assert_eq!(fleet.machine_count(), 0, "{bytes:?} {format:?}");
    }
}

/// Red-team finds, each a test: headers that would swallow the file or name a column twice,
/// CRLF and CR-only CSV, files that stop being one machine per line, a second `]`, lists
/// of millions of elements, field names from files read whole.
#[test]
fn csv_headers_that_cannot_be_read_stop_the_run() {
    let error = read_err(b"\"id,OS\nm1,Linux\nm2,Linux\n", &options(Format::Csv));
    assert!(
        error
            .to_string()
            .contains("line 1: invalid CSV: the header's quoted field is never closed"),
        "{error}"
    );
    for bytes in [&b"id,OS,OS\nm1,Linux,\n"[..], b"id,OS,id\nm1,Linux,\n"] {
        let error = read_err(bytes, &options(Format::Csv));
        assert!(
            error
                .to_string()
                .contains("line 1: invalid CSV: the header names `"),
            "{error}"
        );
        assert!(
            cohort_fleet::records(bytes, Format::Csv)
                .unwrap_err()
                .contains("twice: columns")
        );
    }
}

#[test]
fn crlf_and_cr_only_csv_rows_are_numbered_and_read() {
    let (errors, _) = bad_records(
        b"id,OS\r\nok,Linux\r\nbad,Linux,x\r\n\"two\r\nlines\",Linux\r\nbad2\r\n",
        Format::Csv,
    );
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 6]);
    let groups = os_group();
    let fleet = cohort_fleet::read(
        groups.plan(),
        source(b"id,OS\ra,Linux\rb,Windows\r"),
        &options(Format::Csv),
    )
    .unwrap();
    assert_eq!(fleet.machine_count(), 2);
    assert_eq!(fleet.ids().get(1).unwrap(), "b");
}

#[test]
fn a_file_that_stops_being_one_machine_per_line_is_read_whole_and_a_stream_is_refused() {
    let groups = os_group();
    let dir = tempfile::tempdir().unwrap();
    for (name, line, text, format) in [
        (
            "pp.json",
            3,
            "[\n{\"id\":\"a\",\"OS\":\"Linux\"},\n{\"id\":\"b\",\n \"OS\":\"Linux\"},\n{\"id\":\"c\",\"OS\":\"Linux\"}\n]\n",
            Format::Json,
        ),
        (
            "pp.ndjson",
            2,
            "{\"id\":\"a\",\"OS\":\"Linux\"}\n{\"id\":\"b\",\n \"OS\":\"Linux\"}\n{\"id\":\"c\",\"OS\":\"Linux\"} {\"id\":\"d\",\"OS\":\"Linux\"}\n",
            Format::Ndjson,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let fleet =
            cohort_fleet::read(groups.plan(), Source::Path(&path), &options(format)).unwrap();
        let ids: Vec<_> = fleet.ids().iter().collect();
        assert!(
            ids.len() >= 3 && ids[..3] == ["a", "b", "c"],
            "{name}: {ids:?}"
        );
        let error = read_err(text.as_bytes(), &options(format));
        let expected = format!("line {line}: this machine does not end on its line");
        assert!(error.to_string().contains(&expected), "{name}: {error}");
    }
    // A truncated last line is still one bad record.
    let (errors, _) = bad_records(b"{\"id\":\"a\"}\n{\"id\":", Format::Ndjson);
    assert_eq!(errors[0].line, 2);
}

#[test]
fn a_second_closing_bracket_in_a_later_chunk_is_an_error() {
    let mut text = String::from("[\n{\"id\": \"a\"}\n]\n");
    text.push_str(&"\n".repeat(9 << 20));
    text.push_str("]\n");
    let error = read_err(text.as_bytes(), &options(Format::Json));
    assert!(
        error
            .to_string()
            .contains("a second `]`: the array of machines was closed on line 3"),
        "{error}"
    );
}

#[test]
fn lists_past_the_element_limit_are_bad_records() {
    let long: Vec<String> = (0..cohort_fleet::MAX_LIST_ELEMENTS + 1)
        .map(|i| format!("\"{}\"", i % 10))
        .collect();
    let text = format!(
        "{{\"id\": \"a\", \"OS\": [{}]}}\n{{\"id\": \"b\", \"OS\": \"Linux\"}}\n",
        long.join(",")
    );
    let (errors, count) = bad_records(text.as_bytes(), Format::Ndjson);
    assert_eq!(count, 1);
    assert!(
        errors[0].message.contains("more than 100000 list elements"),
        "{}",
        errors[0]
    );
    let csv = format!("id,OS\na,\"[{}]\"\n", long.join(",").replace('"', "\"\""));
    let (errors, _) = bad_records(csv.as_bytes(), Format::Csv);
    assert!(
        errors[0].message.contains("more than 100000 list elements"),
        "{}",
        errors[0]
    );
}

#[test]
fn files_read_whole_give_their_field_names_too() {
    let groups = os_group();
    for (bytes, format) in [
        (&b"[{\"Zone\": 1}, {\"id\": \"x\"}]"[..], Format::Json),
        (b"- Zone: 1\n- id: x\n", Format::Yaml),
    ] {
        let fleet = cohort_fleet::read(groups.plan(), source(bytes), &options(format)).unwrap();
        assert_eq!(
            fleet.field_names().iter().collect::<Vec<_>>(),
            ["Zone", "id"],
            "{format:?}"
        );
    }
}
