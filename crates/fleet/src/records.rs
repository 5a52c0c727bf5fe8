//! Machines as JSON objects, every attribute kept: what `cohort explain` shows and `cohort
//! schema infer` learns from. Evaluation does not come this way ([`crate::read`] builds only
//! the columns the groups test), except for JSON layouts the parallel reader does not split
//! (a whole array on one line, pretty-printed objects), which are read here on one thread.

use crate::Format;
use serde_json::{Map, Value};
use std::io::BufRead;

/// A machine as read from a file: its attributes by field name.
pub type MachineRecord = Map<String, Value>;

/// The UTF-8 byte-order mark some Windows tools write at the start of a file.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What JSON counts as whitespace between values.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The text of `bytes`, or an error naming the line and column of the first byte that is
/// not UTF-8.
///
/// ```
/// assert_eq!(cohort_fleet::utf8(b"ok").unwrap(), "ok");
/// assert_eq!(
///     cohort_fleet::utf8(b"ok\nab\xffc").unwrap_err(),
///     "not valid UTF-8 text: first invalid byte at line 2, column 3 (byte offset 5)"
/// );
/// ```
pub fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "not valid UTF-8 text: first invalid byte at {}",
            position(bytes, error.valid_up_to())
        )
    })
}

/// `line L, column C (byte offset B)` of the byte at `offset`: line and column 1-based, the
/// column counted in bytes, the offset from 0.
pub fn position(bytes: &[u8], offset: usize) -> String {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    format!("line {line}, column {column} (byte offset {offset})")
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
        return each_json(utf8(&bytes)?, each);
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

/// The machines of a whole file's bytes in `format`, after a UTF-8
/// byte-order mark.
///
/// ```
/// use cohort_fleet::{Format, records};
///
/// let machines = records(b"id,OS\nWS-01,Windows 11\n", Format::Csv).unwrap();
/// assert_eq!(machines[0]["OS"], "Windows 11");
/// ```
pub fn records(bytes: &[u8], format: Format) -> Result<Vec<MachineRecord>, String> {
    let mut records = Vec::new();
    each_record(bytes, format, &mut |record| records.push(record))?;
    Ok(records)
}

/// Calls `each` with every machine of a whole file's bytes in `format`, one at a time, as
/// [`records`] reads them: JSON, NDJSON and CSV hold nothing but the bytes and one machine
/// (YAML is read whole first). On an error, the machines before it have been handed over.
pub(crate) fn each_record(
    bytes: &[u8],
    format: Format,
    each: &mut dyn FnMut(MachineRecord),
) -> Result<(), String> {
    let text = utf8(bytes.strip_prefix(BOM).unwrap_or(bytes))?;
    match format {
        Format::Csv => stream_csv(text, each),
        Format::Yaml => {
            read_yaml(text)?.into_iter().for_each(each);
            Ok(())
        }
        Format::Json | Format::Ndjson => each_json(text, each),
    }
}

/// A JSON array of objects (handed over element by element), an object with a `machines`
/// array, or objects one after another (NDJSON).
fn each_json(text: &str, each: &mut dyn FnMut(MachineRecord)) -> Result<(), String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if text.trim_start_matches(JSON_WHITESPACE).starts_with('[') {
        serde::Deserializer::deserialize_seq(&mut deserializer, Elements { each: &mut *each })
            .map_err(json_error)?;
    }
    objects(deserializer.into_iter::<Record>(), each)
}

/// The elements of an array of machines, each handed over as it is read.
struct Elements<'e> {
    each: &'e mut dyn FnMut(MachineRecord),
}

impl<'de> serde::de::Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of machines")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(Record(machine)) = access.next_element::<Record>()? {
            (self.each)(machine);
        }
        Ok(())
    }
}

/// Calls `each` with every machine of a CSV text, one row at a time: nothing but the text and
/// one row is held (collecting the rows first made a 378 MB file cost 5 GB).
fn stream_csv(text: &str, each: &mut dyn FnMut(MachineRecord)) -> Result<(), String> {
    if let Some(line) = crate::csv_rows::unclosed_quote(text.as_bytes()) {
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
    if let Some(message) = crate::csv_rows::repeated_name(&headers.iter().collect::<Vec<_>>()) {
        return Err(format!("line 1: {message}"));
    }
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

pub(crate) fn read_yaml(text: &str) -> Result<Vec<MachineRecord>, String> {
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
pub(crate) fn yaml_to_json(data: cohort_load::YamlData) -> Value {
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

    fn read_json(text: &str) -> Result<Vec<MachineRecord>, String> {
        records(text.as_bytes(), Format::Json)
    }

    /// A header row of field names. Empty cells are missing attributes; a cell holding a
    /// JSON array (`["Chrome","7-Zip"]`) is a list.
    fn read_csv(text: &str) -> Result<Vec<MachineRecord>, String> {
        records(text.as_bytes(), Format::Csv)
    }

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
        let forms: [(&[u8], Format); 5] = [
            (b"\xEF\xBB\xBF[{\"id\": \"a\"}]", Format::Json),
            (b"\xEF\xBB\xBF{\"id\": \"a\"}\n", Format::Ndjson),
            (b"\xEF\xBB\xBFid,OS\na,Linux\n", Format::Csv),
            (b"\xEF\xBB\xBF\"id\",OS\na,Linux\n", Format::Csv),
            (b"\xEF\xBB\xBF- id: a\n", Format::Yaml),
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
        assert!(records(b"\xEF\xBB\xBF\xEF\xBB\xBF[]", Format::Json).is_err());
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
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_line_and_column() {
        let json = b"[{\"id\": \"a\"},\n {\"id\": \"b\xFF\"}]";
        let ndjson = b"{\"id\": \"a\"}\n{\"id\": \"b\xE2\x82\"}\n";
        let csv = b"id,OS\na,Linux\nb,Lin\xC3ux\n";
        let expected = [
            (
                records(json, Format::Json),
                "not valid UTF-8 text: first invalid byte at line 2, column 11 (byte offset 24)",
            ),
            (
                records(csv, Format::Csv),
                "not valid UTF-8 text: first invalid byte at line 3, column 6 (byte offset 19)",
            ),
            (
                records(ndjson, Format::Ndjson),
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
