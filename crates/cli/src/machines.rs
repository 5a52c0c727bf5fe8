//! The machines file named on the command line: a path or `-` (standard input), in a format
//! told by `--machines-format` or by the file's extension; read by `cohort-fleet`.

use clap::ValueEnum;
use cohort_fleet::{Format, MachineRecord, Source};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The format of a machines file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MachineFormat {
    /// From the extension (through `.gz`/`.zst`): `.json`, `.ndjson`/`.jsonl`, `.csv`,
    /// `.yaml`/`.yml`.
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

/// Whether `path` names standard input.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where to read `path` from: standard input for `-`.
pub(crate) fn source(path: &Path) -> Source<'_> {
    if is_stdin(path) {
        Source::Stdin
    } else {
        Source::Path(path)
    }
}

/// The format to read `path` in.
pub(crate) fn resolve(path: &Path, format: MachineFormat) -> Result<Format, String> {
    Ok(match format {
        MachineFormat::Json => Format::Json,
        MachineFormat::Ndjson => Format::Ndjson,
        MachineFormat::Csv => Format::Csv,
        MachineFormat::Yaml => Format::Yaml,
        MachineFormat::Auto if is_stdin(path) => {
            return Err(
                "standard input has no extension to tell its format: use --machines-format json|ndjson|csv|yaml"
                    .to_owned(),
            );
        }
        MachineFormat::Auto => Format::of_path(path).ok_or_else(|| {
            format!(
                "cannot tell the format of `{}` from its extension: use --machines-format json|ndjson|csv|yaml",
                path.display()
            )
        })?,
    })
}

/// Every machine of a file with all its attributes, in file order (for `explain` and
/// `schema infer`, which show or learn from every attribute).
pub(crate) struct Machines {
    records: Vec<MachineRecord>,
}

impl Machines {
    /// Every machine of `path` (`-`: standard input; gzip and zstd are taken off).
    pub(crate) fn read(path: &Path, format: MachineFormat) -> Result<Machines, String> {
        let format = resolve(path, format)?;
        let bytes = read_all(path)?;
        let records = cohort_fleet::records(&bytes, format)
            .map_err(|e| format!("`{}`: {e}", path.display()))?;
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

    /// Every machine, in file order.
    pub(crate) fn records(&self) -> &[MachineRecord] {
        &self.records
    }

    /// The machine's own id, the value of `id_field` as text; `None` when it has none.
    pub(crate) fn own_id(&self, position: usize, id_field: &str) -> Option<Cow<'_, str>> {
        match self.records.get(position)?.get(id_field)? {
            serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
            serde_json::Value::Null => None,
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// The first machine with a field other than `except` whose value is `text` (or a list
    /// holding `text`), and that field.
    pub(crate) fn find_value(&self, text: &str, except: &str) -> Option<(usize, &str)> {
        let holds = |value: &serde_json::Value| match value {
            serde_json::Value::String(s) => s == text,
            serde_json::Value::Number(n) => n.to_string() == text,
            serde_json::Value::Array(items) => items.iter().any(|item| item.as_str() == Some(text)),
            _ => false,
        };
        self.records
            .iter()
            .enumerate()
            .find_map(|(position, record)| {
                record
                    .iter()
                    .find(|(key, value)| key.as_str() != except && holds(value))
                    .map(|(key, _)| (position, key.as_str()))
            })
    }

    /// The machine's id: the value of `id_field` as text, or `#N` (its 1-based position)
    /// when it has none.
    pub(crate) fn id(&self, position: usize, id_field: &str) -> String {
        match self.records.get(position).and_then(|r| r.get(id_field)) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => format!("#{}", position + 1),
            Some(other) => other.to_string(),
        }
    }
}

/// Every byte of `path` (`-`: standard input), decompressed.
fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    let mut reader = cohort_fleet::open(source(path)).map_err(|e| format!("error: {e}"))?;
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(bytes)
}
