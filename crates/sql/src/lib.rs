//! Evaluates cohort groups inside an inventory database.
//!
//! [`compile`] turns a checked group set ([`cohort_check::CheckedSet`]) into one
//! parameterised query over a [`Layout`] (where each field is stored) for a [`Dialect`]; its
//! rows are the members of every group, in exactly the engine's meaning: every criterion is
//! strictly two-valued (a missing value makes a positive criterion false and its negation
//! true), text is folded as the engine folds it, numbers, dates and versions are read from
//! text by the engine's own rules, relative dates are against an evaluation time bound as a
//! parameter, and `member of` reads the referenced group's rows (CTEs in dependency order).
//! What a dialect cannot express exactly is a compile-time [`SqlError::Unsupported`].
//!
//! [`sqlite`] runs queries in SQLite (the cohort functions registered from Rust, over the
//! same code the engine uses); [`postgres`] in PostgreSQL (the cohort functions installed in
//! a schema `cohort`). Both can load a machines file into the default layout.
//!
//! ```
//! let mut loader = cohort_load::Loader::new();
//! loader.add_str("groups.yaml", "groups:\n  - name: Servers\n    where: OS contains server\n");
//! let set = cohort_check::check(&loader.finish().groups).unwrap();
//! let layout = cohort_sql::Layout::default();
//! let query = cohort_sql::compile(&set, &layout, cohort_sql::Dialect::Sqlite, None).unwrap();
//! let db = cohort_sql::sqlite::open_in_memory().unwrap();
//! let machines: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(
//!     r#"[{"OS": "Windows Server 2022"}, {"OS": "Windows 11"}]"#).unwrap();
//! cohort_sql::sqlite::load(&db, &layout, &cohort_sql::keyed(&machines, None)).unwrap();
//! let members = cohort_sql::sqlite::evaluate(&db, &query, 0).unwrap();
//! assert_eq!(members, vec![vec!["0".to_owned()]]);
//! ```

mod compile;
mod layout;
pub mod postgres;
pub mod sqlite;

pub use compile::{Param, Query, compile};
pub use layout::{ColumnKind, CustomFields, FieldColumn, Layout};

use serde_json::{Map, Value};

/// A SQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or later (with cohort's functions registered: [`sqlite::register`]).
    Sqlite,
    /// PostgreSQL 12 or later, UTF-8 (with cohort's functions installed:
    /// [`postgres::install`]).
    Postgres,
}

impl std::str::FromStr for Dialect {
    type Err = SqlError;

    fn from_str(text: &str) -> Result<Dialect, SqlError> {
        match text {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            other => Err(SqlError::Dialect(other.to_owned())),
        }
    }
}

/// What can go wrong compiling or running groups in a database.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The dialect cannot evaluate a criterion exactly.
    #[error("group `{group}`, {criterion}: the SQL dialect cannot evaluate {construct}")]
    Unsupported {
        /// The group.
        group: String,
        /// The criterion (text and position).
        criterion: String,
        /// What cannot be expressed, and why.
        construct: String,
    },
    /// The layout does not say where a field is.
    #[error(
        "group `{group}`: the layout does not place the field `{field}` (add it to `fields`, or set `other_columns: true`)"
    )]
    UnknownField {
        /// The group.
        group: String,
        /// The field.
        field: String,
    },
    /// The layout file is not valid.
    #[error("{file}: not a valid layout: {message}")]
    Layout {
        /// The file.
        file: String,
        /// What is wrong, with a line and column when known.
        message: String,
    },
    /// More parameters than the database accepts.
    #[error("the query needs {count} parameters; the database accepts at most {limit}")]
    TooManyParameters {
        /// The parameters needed.
        count: usize,
        /// The database's limit.
        limit: usize,
    },
    /// An unknown dialect name.
    #[error("unknown SQL dialect `{0}` (expected `sqlite` or `postgres`)")]
    Dialect(String),
    /// A machine cannot be stored exactly.
    #[error("machine `{machine}`, field `{field}`: {message}")]
    Value {
        /// The machine's key.
        machine: String,
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// A query returned something cohort did not ask for.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A machine with the key it is stored under.
pub type Keyed<'m> = (String, &'m Map<String, Value>);

/// Machines with the keys they are stored under: with `id_field`, the machine's id as the
/// CLI shows it (the text of a string, the JSON of another value, `#N` for the N-th machine
/// when it has none or null); without, its position (`"0"`, `"1"`...).
pub fn keyed<'m>(machines: &'m [Map<String, Value>], id_field: Option<&str>) -> Vec<Keyed<'m>> {
    machines
        .iter()
        .enumerate()
        .map(|(position, machine)| (key_of(machine, position, id_field), machine))
        .collect()
}

/// The key of the machine at `position` (from 0), as [`keyed`] gives it.
///
/// ```
/// let machine = serde_json::json!({"id": "WS-01"});
/// let machine = machine.as_object().unwrap();
/// assert_eq!(cohort_sql::key_of(machine, 0, Some("id")), "WS-01");
/// assert_eq!(cohort_sql::key_of(machine, 4, Some("serial")), "#5");
/// assert_eq!(cohort_sql::key_of(machine, 4, None), "4");
/// ```
pub fn key_of(machine: &Map<String, Value>, position: usize, id_field: Option<&str>) -> String {
    match id_field.map(|field| machine.get(field)) {
        None => position.to_string(),
        Some(Some(Value::String(text))) => text.clone(),
        Some(None | Some(Value::Null)) => format!("#{}", position + 1),
        Some(Some(other)) => other.to_string(),
    }
}

/// The columns `load` writes for the default layout: the key, the position and each field,
/// or an error when the layout is not one `load` can write or names collide.
pub(crate) fn load_columns(
    layout: &Layout,
    machines: &[Keyed<'_>],
) -> Result<Vec<String>, SqlError> {
    let mut seen = std::collections::HashSet::new();
    let repeated = machines
        .iter()
        .find(|(key, _)| !seen.insert(key.as_str()))
        .map(|(key, _)| key.clone());
    load_fields(layout, field_names(machines), repeated)
}

/// The field columns a loader writes (`fields`: every field of the machines, in the order
/// first seen), or an error when the layout is not one cohort writes, a field is named as
/// the key or order column, or `repeated` is the key of a second machine.
pub fn load_fields(
    layout: &Layout,
    fields: Vec<String>,
    repeated: Option<String>,
) -> Result<Vec<String>, SqlError> {
    if !layout.is_loadable() {
        return Err(SqlError::Layout {
            file: "the layout".to_owned(),
            message: "`cohort db load` writes one table with a column per field: a layout with `fields`, `custom_fields` or `other_columns: false` describes a database cohort reads, not one it writes".to_owned(),
        });
    }
    let reserved: Vec<&str> = std::iter::once(layout.key.as_str())
        .chain(layout.order.as_deref())
        .collect();
    if let Some(clash) = fields.iter().find(|f| reserved.contains(&f.as_str())) {
        return Err(SqlError::Value {
            machine: String::new(),
            field: clash.clone(),
            message: "a field named as the layout's key or order column".to_owned(),
        });
    }
    if let Some(key) = repeated {
        return Err(SqlError::Value {
            machine: key,
            field: layout.key.clone(),
            message: "several machines have this id; the database key must be unique".to_owned(),
        });
    }
    Ok(fields)
}

/// The fields of `machines` in the order first seen (the columns of the default layout).
pub(crate) fn field_names(machines: &[Keyed<'_>]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut names = Vec::new();
    for (_, machine) in machines {
        for name in machine.keys() {
            if seen.insert(name.as_str()) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// Splits query rows into each group's member keys, in row order.
pub(crate) fn by_group(
    groups: usize,
    rows: impl IntoIterator<Item = (i64, String)>,
) -> Result<Vec<Vec<String>>, SqlError> {
    let mut members = vec![Vec::new(); groups];
    for (group, key) in rows {
        let slot = usize::try_from(group)
            .ok()
            .and_then(|g| members.get_mut(g))
            .ok_or(SqlError::Internal("a row of a group that does not exist"))?;
        slot.push(key);
    }
    Ok(members)
}
