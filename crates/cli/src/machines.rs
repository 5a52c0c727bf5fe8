//! Reading machines files: a JSON array, NDJSON (or concatenated JSON objects), CSV, YAML.

use clap::ValueEnum;
use serde_json::{Map, Value};
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

/// Calls `each` with every machine of a file, in order, without holding them all: JSON
/// objects one after another (NDJSON) are read as a stream; a JSON array, CSV and YAML are
/// read whole, then handed over one by one.
pub(crate) fn stream(
    path: &Path,
    format: MachineFormat,
    mut each: impl FnMut(MachineRecord),
) -> Result<(), String> {
    let shown = path.display();
    let format = resolve(path, format)?;
    if format == MachineFormat::Csv || format == MachineFormat::Yaml {
        let machines = Machines::read(path, format)?;
        machines.records.into_iter().for_each(each);
        return Ok(());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let first = {
        use std::io::BufRead;
        let buffer = reader
            .fill_buf()
            .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        buffer.iter().copied().find(|b| !b.is_ascii_whitespace())
    };
    if first == Some(b'[') {
        let machines = Machines::read(path, format)?;
        machines.records.into_iter().for_each(each);
        return Ok(());
    }
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
    for (index, value) in stream.enumerate() {
        let value = value.map_err(|e| format!("`{shown}`: invalid JSON: {e}"))?;
        match value {
            Value::Object(mut map)
                if index == 0 && map.len() == 1 && map.contains_key("machines") =>
            {
                let Some(Value::Array(items)) = map.remove("machines") else {
                    return Err(format!("`{shown}`: `machines` is not an array"));
                };
                for (position, item) in items.into_iter().enumerate() {
                    each(
                        object(item, || format!("machine {position}"))
                            .map_err(|e| format!("`{shown}`: {e}"))?,
                    );
                }
            }
            other => each(
                object(other, || format!("JSON value {}", index + 1))
                    .map_err(|e| format!("`{shown}`: {e}"))?,
            ),
        }
    }
    Ok(())
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
    pub(crate) fn read(path: &Path, format: MachineFormat) -> Result<Machines, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        let format = resolve(path, format)?;
        let records = match format {
            MachineFormat::Csv => read_csv(&text),
            MachineFormat::Yaml => read_yaml(&text),
            _ => read_json(&text),
        }
        .map_err(|e| format!("`{shown}`: {e}"))?;
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

/// A JSON array of objects, an object with a `machines` array, or objects one after another
/// (NDJSON).
fn read_json(text: &str) -> Result<Vec<MachineRecord>, String> {
    let mut records = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (index, value) in stream.enumerate() {
        let value = value.map_err(|e| format!("invalid JSON: {e}"))?;
        match value {
            Value::Array(items) if index == 0 => {
                for (position, item) in items.into_iter().enumerate() {
                    records.push(object(item, || format!("element {position} of the array"))?);
                }
            }
            Value::Object(mut map)
                if index == 0 && map.len() == 1 && map.contains_key("machines") =>
            {
                let Some(Value::Array(items)) = map.remove("machines") else {
                    return Err("`machines` is not an array".to_owned());
                };
                for (position, item) in items.into_iter().enumerate() {
                    records.push(object(item, || format!("machine {position}"))?);
                }
            }
            other => records.push(object(other, || format!("JSON value {}", index + 1))?),
        }
    }
    Ok(records)
}

/// A header row of field names. Empty cells are missing attributes; a cell holding a JSON
/// array (`["Chrome","7-Zip"]`) is a list.
fn read_csv(text: &str) -> Result<Vec<MachineRecord>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("invalid CSV header: {e}"))?
        .clone();
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| format!("invalid CSV: {e}"))?;
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
        records.push(record);
    }
    Ok(records)
}

fn read_yaml(text: &str) -> Result<Vec<MachineRecord>, String> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
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
        assert!(
            read_json("[1]")
                .unwrap_err()
                .contains("element 0 of the array is a number")
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
}
