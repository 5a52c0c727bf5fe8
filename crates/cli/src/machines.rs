//! Reading machines files: a JSON array, NDJSON (or concatenated JSON objects), CSV, YAML.

use crate::input::{open_regular, read_regular, utf8};
use clap::ValueEnum;
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::Path;

/// A machine as read from a file: its attributes by field name.
pub(crate) type MachineRecord = Map<String, Value>;

/// The format of a machines file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MachineFormat {
    /// From the extension: `.json`, `.ndjson`/`.jsonl`, `.csv`, `.yaml`/`.yml`.
    Auto,
    /// A JSON array of objects, or JSON objects one after another (NDJSON).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A header row of field names, then one machine per row.
    Csv,
    /// A YAML list of mappings.
    Yaml,
}

/// Every machine of a file, in file order.
pub(crate) struct Machines {
    records: Vec<MachineRecord>,
}

/// The UTF-8 byte-order mark some Windows tools write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What JSON counts as whitespace between values.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Calls `each` with every machine of a file, in order, without holding them all: JSON
/// objects one after another (NDJSON) are read as a stream; CSV rows are handed over one at
/// a time from the file's text; a JSON array and YAML are read whole, then handed over one by
/// one. Only a regular file is read.
pub(crate) fn stream(
    path: &Path,
    format: MachineFormat,
    each: impl FnMut(MachineRecord),
) -> Result<(), String> {
    let format = resolve(path, format)?;
    let mut each = each;
    if format == MachineFormat::Csv {
        let bytes = read_regular(path)?;
        let text = utf8(bytes.strip_prefix(BOM).unwrap_or(&bytes))
            .map_err(|e| format!("`{}`: {e}", path.display()))?;
        return stream_csv(text, &mut each).map_err(|e| format!("`{}`: {e}", path.display()));
    }
    if format == MachineFormat::Yaml {
        let machines = Machines::read(path, format)?;
        machines.records.into_iter().for_each(each);
        return Ok(());
    }
    let file = open_regular(path)?;
    let size = file
        .metadata()
        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(0));
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    stream_json(reader, size, &mut each).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Reads JSON machines from `reader`: a JSON array whole (`size`, the file's size if known,
/// sizes the buffer), objects one after another (the first may be an object with a
/// `machines` array) as a stream.
pub(crate) fn stream_json(
    mut reader: impl BufRead,
    size: usize,
    each: &mut dyn FnMut(MachineRecord),
) -> Result<(), String> {
    let buffer = reader.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
    let bom = buffer.starts_with(BOM);
    let first = buffer
        .iter()
        .skip(if bom { BOM.len() } else { 0 })
        .copied()
        .find(|b| !JSON_WHITESPACE.contains(&char::from(*b)));
    if bom {
        reader.consume(BOM.len());
    }
    if first == Some(b'[') {
        // Only a hint: the bytes actually read decide.
        let mut bytes = Vec::with_capacity(size.min(1 << 30));
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read: {e}"))?;
        let records = read_json(utf8(&bytes)?)?;
        drop(bytes);
        records.into_iter().for_each(each);
        return Ok(());
    }
    objects(
        serde_json::Deserializer::from_reader(reader).into_iter::<Record>(),
        each,
    )
}

/// JSON objects one after another, the first of which may be `{"machines": [...]}`.
fn objects(
    stream: impl Iterator<Item = Result<Record, serde_json::Error>>,
    each: &mut dyn FnMut(MachineRecord),
) -> Result<(), String> {
    for (index, record) in stream.enumerate() {
        let Record(mut map) = record.map_err(json_error)?;
        if index == 0 && map.len() == 1 && map.contains_key("machines") {
            let Some(Value::Array(items)) = map.remove("machines") else {
                return Err("`machines` is not an array".to_owned());
            };
            for (position, item) in items.into_iter().enumerate() {
                each(object(item, || format!("machine {position}"))?);
            }
        } else {
            each(map);
        }
    }
    Ok(())
}

/// A serde_json error for people: syntax errors are invalid JSON, a bad byte is invalid
/// UTF-8; all with serde_json's line and column.
fn json_error(error: serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Io => format!("cannot read: {error}"),
        Category::Syntax if error.to_string().starts_with("invalid unicode code point") => {
            format!(
                "not valid UTF-8 text: first invalid byte at line {}, column {}",
                error.line(),
                error.column()
            )
        }
        Category::Syntax | Category::Eof => format!("invalid JSON: {error}"),
        Category::Data => {
            // A value that is not an object: serde_json stops just after it, at column 0 of
            // the next line when it had to look at the line's end to finish a number.
            let text = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            let line = if error.column() == 0 {
                error.line().saturating_sub(1).max(1)
            } else {
                error.line()
            };
            format!(
                "line {line}: {}",
                text.strip_suffix(&suffix).unwrap_or(&text)
            )
        }
    }
}

/// One machine: a JSON object of attributes. Read straight from the JSON, so that a value
/// that is not an object is an error at its own line and column.
struct Record(MachineRecord);

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Attributes;
        impl<'de> serde::de::Visitor<'de> for Attributes {
            type Value = Record;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a machine, an object of attributes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Record, A::Error> {
                let mut map = Map::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    map.insert(key, value);
                }
                Ok(Record(map))
            }
        }
        deserializer.deserialize_map(Attributes)
    }
}

fn resolve(path: &Path, format: MachineFormat) -> Result<MachineFormat, String> {
    Ok(match format {
        MachineFormat::Auto => match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => MachineFormat::Csv,
            Some("yaml" | "yml") => MachineFormat::Yaml,
            Some("json" | "ndjson" | "jsonl") => MachineFormat::Json,
            _ => {
                return Err(format!(
                    "cannot tell the format of `{}` from its extension: use --machines-format json|ndjson|csv|yaml",
                    path.display()
                ));
            }
        },
        other => other,
    })
}

/// The id of a machine: the value of `id_field` as text, or `#N` (its 1-based position).
pub(crate) fn id_of(record: &MachineRecord, position: usize, id_field: &str) -> String {
    match record.get(id_field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => format!("#{}", position + 1),
        Some(other) => other.to_string(),
    }
}

impl Machines {
    /// Every machine of the regular file `path`.
    pub(crate) fn read(path: &Path, format: MachineFormat) -> Result<Machines, String> {
        let format = resolve(path, format)?;
        let bytes = read_regular(path)?;
        let records = records(&bytes, format).map_err(|e| format!("`{}`: {e}", path.display()))?;
        Ok(Machines { records })
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn get(&self, position: usize) -> Option<&MachineRecord> {
        self.records.get(position)
    }

    /// Every field name any machine has.
    pub(crate) fn field_names(&self) -> std::collections::BTreeSet<&str> {
        self.records
            .iter()
            .flat_map(|r| r.keys().map(String::as_str))
            .collect()
    }

    /// The machine's id: the value of `id_field` as text, or `#N` (its 1-based position)
    /// when it has none.
    pub(crate) fn id(&self, position: usize, id_field: &str) -> String {
        self.records.get(position).map_or_else(
            || format!("#{}", position + 1),
            |r| id_of(r, position, id_field),
        )
    }
}

fn object(value: Value, what: impl Fn() -> String) -> Result<MachineRecord, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "{} is {}, expected an object of attributes",
            what(),
            kind(&other)
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The machines of a whole file's bytes in `format` (`Auto` reads JSON), after a UTF-8
/// byte-order mark.
pub(crate) fn records(bytes: &[u8], format: MachineFormat) -> Result<Vec<MachineRecord>, String> {
    let text = utf8(bytes.strip_prefix(BOM).unwrap_or(bytes))?;
    match format {
        MachineFormat::Csv => read_csv(text),
        MachineFormat::Yaml => read_yaml(text),
        MachineFormat::Auto | MachineFormat::Json | MachineFormat::Ndjson => read_json(text),
    }
}

/// A JSON array of objects, an object with a `machines` array, or objects one after another
/// (NDJSON).
fn read_json(text: &str) -> Result<Vec<MachineRecord>, String> {
    let mut records = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if text.trim_start_matches(JSON_WHITESPACE).starts_with('[') {
        let items = <Vec<Record> as serde::Deserialize>::deserialize(&mut deserializer)
            .map_err(json_error)?;
        records.extend(items.into_iter().map(|Record(map)| map));
    }
    objects(deserializer.into_iter::<Record>(), &mut |record| {
        records.push(record)
    })?;
    Ok(records)
}

/// A header row of field names. Empty cells are missing attributes; a cell holding a JSON
/// array (`["Chrome","7-Zip"]`) is a list.
fn read_csv(text: &str) -> Result<Vec<MachineRecord>, String> {
    let mut records = Vec::new();
    stream_csv(text, &mut |record| records.push(record))?;
    Ok(records)
}

/// Calls `each` with every machine of a CSV text, one row at a time: nothing but the text and
/// one row is held (collecting the rows first made a 378 MB file cost 5 GB).
fn stream_csv(text: &str, each: &mut dyn FnMut(MachineRecord)) -> Result<(), String> {
    if let Some(line) = unclosed_quote(text.as_bytes()) {
        return Err(format!(
            "invalid CSV: the quoted field that starts on line {line} is never closed (a `\"` is missing), so every row after it would be read as part of that field"
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("invalid CSV header: {e}"))?
        .clone();
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(format!("invalid CSV: {e}")),
        }
        let mut record = Map::new();
        for (field, cell) in headers.iter().zip(row.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = if cell.starts_with('[') {
                match serde_json::from_str::<Value>(cell) {
                    Ok(list @ Value::Array(_)) => list,
                    _ => Value::String(cell.to_owned()),
                }
            } else {
                Value::String(cell.to_owned())
            };
            record.insert(field.to_owned(), value);
        }
        each(record);
    }
    Ok(())
}

/// The line on which a quoted field starts that the end of `bytes` leaves open, as the csv
/// crate reads quotes (RFC 4180: a quote opens a field only at its start, `""` inside is a
/// quote); the csv crate itself takes the rest of the file as that field's text.
fn unclosed_quote(bytes: &[u8]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut line = 1;
    let mut opened_on = 1;
    for &byte in bytes {
        state = match (state, byte) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => {
                opened_on = line;
                State::Quoted
            }
            (_, b',' | b'\n' | b'\r') => State::FieldStart,
            (_, _) => State::Unquoted,
        };
        if byte == b'\n' {
            line += 1;
        }
    }
    (state == State::Quoted).then_some(opened_on)
}

fn read_yaml(text: &str) -> Result<Vec<MachineRecord>, String> {
    let value =
        yaml_to_json(cohort_load::read_yaml_data(text).map_err(|e| format!("invalid YAML: {e}"))?);
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => {
            return Err(format!(
                "the document is {}, expected a list of machines",
                kind(&other)
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(position, item)| object(item, || format!("machine {position}")))
        .collect()
}

/// YAML data as the JSON value a machine's attributes are read from.
fn yaml_to_json(data: cohort_load::YamlData) -> Value {
    use cohort_load::YamlData;
    match data {
        YamlData::Null => Value::Null,
        YamlData::Bool(flag) => Value::Bool(flag),
        YamlData::Int(int) => Value::from(int),
        YamlData::Float(float) => serde_json::Number::from_f64(float)
            .map_or_else(|| Value::String(float.to_string()), Value::Number),
        YamlData::Text(text) => Value::String(text),
        YamlData::List(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        YamlData::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key, yaml_to_json(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_array_ndjson_and_wrapped_forms_read_alike() {
        let forms = [
            r#"[{"id": "a"}, {"id": "b"}]"#,
            "{\"id\": \"a\"}\n{\"id\": \"b\"}\n",
            r#"{"machines": [{"id": "a"}, {"id": "b"}]}"#,
        ];
        for text in forms {
            let records = read_json(text).unwrap();
            assert_eq!(records.len(), 2, "{text}");
            assert_eq!(records[1]["id"], "b");
        }
        let error = read_json("[1]").unwrap_err();
        assert!(
            error.starts_with("line 1: invalid type: integer `1`, expected a machine"),
            "{error}"
        );
        assert!(
            read_json("{\"id\": \"a\"}\n{oops")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn csv_cells_are_text_lists_or_missing() {
        let records = read_csv(
            "id,OS,Software\nm1,Windows 11,\"[\"\"Chrome\"\",\"\"7-Zip\"\"]\"\nm2,,[not json\n",
        )
        .unwrap();
        assert_eq!(
            records[0]["Software"],
            serde_json::json!(["Chrome", "7-Zip"])
        );
        assert!(!records[1].contains_key("OS"));
        assert_eq!(records[1]["Software"], "[not json");
        assert!(read_csv("a,b\n1,2,3\n").is_err());
    }

    #[test]
    fn yaml_lists_of_mappings() {
        let records = read_yaml("- id: a\n  Free Disk %: 12\n- id: b\n").unwrap();
        assert_eq!(records[0]["Free Disk %"], 12);
        assert!(read_yaml("id: a").unwrap_err().contains("expected a list"));
    }

    /// Every machine `stream_json` hands over, as `eval` and `schema infer` read them.
    fn streamed(bytes: &[u8]) -> Result<Vec<MachineRecord>, String> {
        let mut records = Vec::new();
        stream_json(bytes, bytes.len(), &mut |r| records.push(r))?;
        Ok(records)
    }

    #[test]
    fn a_byte_order_mark_is_skipped_in_every_format() {
        let forms: [(&[u8], MachineFormat); 5] = [
            (b"\xEF\xBB\xBF[{\"id\": \"a\"}]", MachineFormat::Json),
            (b"\xEF\xBB\xBF{\"id\": \"a\"}\n", MachineFormat::Ndjson),
            (b"\xEF\xBB\xBFid,OS\na,Linux\n", MachineFormat::Csv),
            (b"\xEF\xBB\xBF\"id\",OS\na,Linux\n", MachineFormat::Csv),
            (b"\xEF\xBB\xBF- id: a\n", MachineFormat::Yaml),
        ];
        for (bytes, format) in forms {
            let records = records(bytes, format).unwrap();
            assert_eq!(records.len(), 1, "{format:?}");
            assert_eq!(records[0]["id"], "a", "{format:?}: {:?}", records[0]);
        }
        for bytes in [
            &b"\xEF\xBB\xBF[{\"id\": \"a\"}]"[..],
            b"\xEF\xBB\xBF{\"id\": \"a\"}\n",
            b"\xEF\xBB\xBF  {\"machines\": [{\"id\": \"a\"}]}",
        ] {
            assert_eq!(streamed(bytes).unwrap()[0]["id"], "a");
        }
        assert!(records(b"\xEF\xBB\xBF\xEF\xBB\xBF[]", MachineFormat::Json).is_err());
    }

    #[test]
    fn an_unclosed_quote_in_csv_is_an_error_at_the_line_it_opened() {
        let text = "id,OS\nm1,Linux\nm2,\"Windows 11\nm3,Linux\nm4,macOS\n";
        let error = read_csv(text).unwrap_err();
        assert!(
            error.contains("the quoted field that starts on line 3 is never closed"),
            "{error}"
        );
        let closed = "id,Notes\nm1,\"two\nlines, a \"\"quote\"\"\"\nm2,say \"hi\nm3,\"\"\n";
        let records = read_csv(closed).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0]["Notes"], "two\nlines, a \"quote\"");
        assert_eq!(records[1]["Notes"], "say \"hi");
        assert_eq!(unclosed_quote(b"a\n\"b\"\"\n"), Some(2));
        assert_eq!(unclosed_quote(b"a\n\"b\"\"\"\n"), None);
        assert_eq!(
            unclosed_quote(b"\"a\"x\"\n"),
            None,
            "a quote after the field is text"
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_line_and_column() {
        let json = b"[{\"id\": \"a\"},\n {\"id\": \"b\xFF\"}]";
        let ndjson = b"{\"id\": \"a\"}\n{\"id\": \"b\xE2\x82\"}\n";
        let csv = b"id,OS\na,Linux\nb,Lin\xC3ux\n";
        let expected = [
            (
                records(json, MachineFormat::Json),
                "not valid UTF-8 text: first invalid byte at line 2, column 11 (byte offset 24)",
            ),
            (
                records(csv, MachineFormat::Csv),
                "not valid UTF-8 text: first invalid byte at line 3, column 6 (byte offset 19)",
            ),
            (
                records(ndjson, MachineFormat::Ndjson),
                "not valid UTF-8 text: first invalid byte at line 2, column 10 (byte offset 21)",
            ),
            (
                streamed(json),
                "not valid UTF-8 text: first invalid byte at line 2, column 11 (byte offset 24)",
            ),
        ];
        for (result, message) in expected {
            assert_eq!(result.unwrap_err(), message);
        }
        let error = streamed(ndjson).unwrap_err();
        assert!(
            error == "not valid UTF-8 text: first invalid byte at line 2, column 10",
            "{error}"
        );
    }

    #[test]
    fn ndjson_errors_name_the_true_line() {
        let text = "{\"id\": \"a\"}\n\n\n5\n{\"id\": \"b\"}\n";
        for error in [
            read_json(text).unwrap_err(),
            streamed(text.as_bytes()).unwrap_err(),
        ] {
            assert_eq!(
                error,
                "line 4: invalid type: integer `5`, expected a machine, an object of attributes"
            );
        }
        let text = "{\"id\": \"a\"}\n\n[\"b\"]\n";
        assert!(
            streamed(text.as_bytes())
                .unwrap_err()
                .starts_with("line 3: invalid type: sequence")
        );
        let text = "{\"id\": \"a\"}\n\n\n{\"id\": \"b\",}\n";
        let error = streamed(text.as_bytes()).unwrap_err();
        assert!(
            error.starts_with("invalid JSON: ") && error.contains("at line 4"),
            "{error}"
        );
    }
}
