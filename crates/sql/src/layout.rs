//! Where each field lives in the database: a layout file.

use crate::SqlError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where the machines and their fields are: one table of machines (one row each, with a key
/// column), columns of that table, and optionally a custom-field table of (machine, field
/// name, value) rows (entity-attribute-value, as Tactical RMM stores custom fields).
///
/// ```
/// let layout = cohort_sql::Layout::from_yaml_str(
///     "layout.yaml",
///     "table: agents\nkey: agent_id\nfields:\n  OS: { column: operating_system, type: text }\n",
/// ).unwrap();
/// assert_eq!(layout.table, "agents");
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// The machines table.
    #[serde(default = "default_table")]
    pub table: String,
    /// Its key column: one non-null value per machine (rows whose key is null are not
    /// machines).
    #[serde(default = "default_key")]
    pub key: String,
    /// Fields stored in columns of the machines table, by field name.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldColumn>,
    /// Fields stored as rows of a custom-field table.
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    /// Whether a field named nowhere else is the column of the same name in the machines
    /// table (holding any value, as `cohort db load` writes them). Default: true, unless
    /// `custom_fields.other_fields` is set.
    #[serde(default)]
    pub other_columns: Option<bool>,
    /// A column to list each group's members by (default in a layout file: the key; in the
    /// default layout: `cohort_position`, the machine's position in the file loaded).
    #[serde(default)]
    pub order: Option<String>,
}

/// One field's column.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldColumn {
    /// The column's name.
    pub column: String,
    /// What the column holds.
    #[serde(default, rename = "type")]
    pub kind: ColumnKind,
}

/// What a column holds.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Any value, as `cohort db load` writes it. SQLite: text, a real number, NULL, or a
    /// JSON list or object as a BLOB of JSON text (flags as the text `true`/`false`).
    /// PostgreSQL: `jsonb`.
    #[default]
    Any,
    /// Text (numbers and dates in it are read from the text). SQLite: any column; PostgreSQL:
    /// a column castable to `text`.
    Text,
    /// A number (SQLite REAL or INTEGER; PostgreSQL a column castable to `float8`).
    Number,
    /// A JSON value, normally a list (SQLite: JSON text; PostgreSQL: `jsonb`).
    Json,
}

/// A custom-field (entity-attribute-value) table: one row per machine and field.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomFields {
    /// The table.
    pub table: String,
    /// The column holding the machine's key.
    pub key: String,
    /// The column holding the field's name.
    pub name: String,
    /// The column holding the value, as text.
    pub value: String,
    /// The fields stored here.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Whether every field not named in `fields` of the layout is stored here.
    #[serde(default)]
    pub other_fields: bool,
}

fn default_table() -> String {
    "machines".to_owned()
}

fn default_key() -> String {
    "cohort_id".to_owned()
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            table: default_table(),
            key: default_key(),
            fields: BTreeMap::new(),
            custom_fields: None,
            other_columns: None,
            order: Some("cohort_position".to_owned()),
        }
    }
}

impl Layout {
    /// Whether `cohort db load` can write a table of this layout: one column per field, of
    /// any value (no `fields`, no `custom_fields`).
    pub fn is_loadable(&self) -> bool {
        self.fields.is_empty() && self.custom_fields.is_none() && self.other_columns != Some(false)
    }
}

/// Where one field is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Place<'l> {
    /// A column of the machines table.
    Column(&'l str, ColumnKind),
    /// Rows of the custom-field table.
    Custom(&'l CustomFields),
}

impl Layout {
    /// Reads a layout file.
    pub fn load(path: &std::path::Path) -> Result<Layout, SqlError> {
        let text = std::fs::read_to_string(path).map_err(|source| SqlError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Layout::from_yaml_str(&path.display().to_string(), &text)
    }

    /// Reads a layout from YAML text; `name` is used in errors.
    pub fn from_yaml_str(name: &str, text: &str) -> Result<Layout, SqlError> {
        serde_yaml::from_str(text).map_err(|e| SqlError::Layout {
            file: name.to_owned(),
            message: match e.location() {
                Some(at) => format!("line {}, column {}: {e}", at.line(), at.column()),
                None => e.to_string(),
            },
        })
    }

    /// Where `field` is, or `None` when the layout does not place it.
    pub(crate) fn place<'l>(&'l self, field: &'l str) -> Option<Place<'l>> {
        if let Some(column) = self.fields.get(field) {
            return Some(Place::Column(&column.column, column.kind));
        }
        if let Some(custom) = &self.custom_fields
            && (custom.other_fields || custom.fields.iter().any(|f| f == field))
        {
            return Some(Place::Custom(custom));
        }
        let other_columns = self.other_columns.unwrap_or(
            !self
                .custom_fields
                .as_ref()
                .is_some_and(|custom| custom.other_fields),
        );
        other_columns.then_some(Place::Column(field, ColumnKind::Any))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_fields() {
        let layout = Layout::from_yaml_str(
            "l.yaml",
            "table: agents\nkey: id\nfields:\n  OS: { column: os, type: text }\ncustom_fields:\n  table: cf\n  key: agent\n  name: field\n  value: value\n  fields: [Owner]\n",
        )
        .unwrap();
        assert_eq!(
            layout.place("OS"),
            Some(Place::Column("os", ColumnKind::Text))
        );
        assert!(matches!(layout.place("Owner"), Some(Place::Custom(_))));
        assert_eq!(
            layout.place("Other"),
            Some(Place::Column("Other", ColumnKind::Any))
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let error = Layout::from_yaml_str("l.yaml", "table: a\ncolumns: {}\n").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("l.yaml") && text.contains("line 2"), "{text}");
    }
}
