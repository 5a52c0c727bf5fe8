//! SQLite: cohort's functions registered from Rust, loading a machines file, evaluating.
//!
//! The functions are the engine's own reading of values (`cohort_check::literal`) and its
//! case folding (`str::to_lowercase`), so SQLite cannot read a value differently from the
//! engine. Each takes any SQLite value: TEXT is text, REAL and INTEGER are numbers (as text,
//! in the engine's shortest form), NULL is missing, and a BLOB is a list or object as JSON.

use crate::compile::{Param, Query};
use crate::{Keyed, SqlError};
use cohort_check::ir::Regex;
use cohort_check::literal::{Version, compare_decimal, parse_date, parse_number, write_number};
pub use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::params_from_iter;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Opens (or creates) a database file, with cohort's functions registered.
pub fn open(path: &std::path::Path) -> Result<Connection, SqlError> {
    let connection = Connection::open(path)?;
    register(&connection)?;
    Ok(connection)
}

/// Opens a database in memory, with cohort's functions registered.
pub fn open_in_memory() -> Result<Connection, SqlError> {
    let connection = Connection::open_in_memory()?;
    register(&connection)?;
    Ok(connection)
}

/// A value as the engine sees it.
enum Read<'a> {
    Missing,
    Text(&'a str),
    Number(f64),
    /// A list or object, as JSON text.
    Json(&'a [u8]),
}

fn read<'a>(ctx: &'a Context<'_>, index: usize) -> rusqlite::Result<Read<'a>> {
    Ok(match ctx.get_raw(index) {
        ValueRef::Null => Read::Missing,
        ValueRef::Text(bytes) => Read::Text(
            std::str::from_utf8(bytes)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
        ),
        ValueRef::Real(number) => Read::Number(number),
        #[allow(clippy::cast_precision_loss)]
        ValueRef::Integer(number) => Read::Number(number as f64),
        ValueRef::Blob(bytes) => Read::Json(bytes),
    })
}

fn number_text(number: f64) -> String {
    let mut text = String::new();
    let _ = write_number(number, &mut text);
    text
}

/// The text text operators see: text as it is, a number in its shortest form.
fn raw_text(value: &Read<'_>) -> Option<String> {
    match value {
        Read::Text(text) => Some((*text).to_owned()),
        Read::Number(number) => Some(number_text(*number)),
        Read::Missing | Read::Json(_) => None,
    }
}

/// Runs `f` on the text text operators see, folded to lowercase when `fold` (the engine's
/// `str::to_lowercase`); text already in lowercase ASCII is not copied. `None` for a missing
/// value, a list or an object.
fn with_text<R>(value: &Read<'_>, fold: bool, f: impl FnOnce(&str) -> R) -> Option<R> {
    let owned;
    let text: &str = match value {
        Read::Text(text) => text,
        Read::Number(number) => {
            owned = number_text(*number);
            &owned
        }
        Read::Missing | Read::Json(_) => return None,
    };
    if !fold || (text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase())) {
        return Some(f(text));
    }
    Some(f(&text.to_lowercase()))
}

fn as_number(value: &Read<'_>) -> Option<f64> {
    match value {
        Read::Text(text) => parse_number(text),
        Read::Number(number) => Some(*number),
        _ => None,
    }
}

fn ordering(ordering: Ordering) -> i64 {
    match ordering {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// How the value compares with the bound `(number, text)` as numbers (the engine's `compare`
/// for numbers: as floats, and digit by digit when a text's float ties).
fn number_ordering(value: &Read<'_>, bound: f64, bound_text: &str) -> Option<Ordering> {
    let by_float = as_number(value)?.partial_cmp(&bound)?;
    match value {
        Read::Text(text) if by_float.is_eq() => {
            Some(compare_decimal(text, bound_text).unwrap_or(by_float))
        }
        _ => Some(by_float),
    }
}

fn blank_json(bytes: &[u8]) -> rusqlite::Result<bool> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
    Ok(match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => false,
    })
}

fn text_arg(ctx: &Context<'_>, index: usize) -> rusqlite::Result<Option<String>> {
    ctx.get::<Option<String>>(index)
}

/// Registers cohort's functions on a connection (done by [`open`] and [`open_in_memory`]).
/// `cohort_regex` is registered for each query by [`evaluate`].
pub fn register(connection: &Connection) -> Result<(), SqlError> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    connection
        .create_scalar_function("cohort_txt", 1, flags, |ctx| Ok(raw_text(&read(ctx, 0)?)))?;
    connection.create_scalar_function("cohort_fold", 1, flags, |ctx| {
        Ok(text_arg(ctx, 0)?.map(|text| text.to_lowercase()))
    })?;
    connection.create_scalar_function("cohort_blank", 1, flags, |ctx| {
        Ok(match read(ctx, 0)? {
            Read::Missing => true,
            Read::Text(text) => text.trim().is_empty(),
            Read::Number(_) => false,
            Read::Json(bytes) => blank_json(bytes)?,
        })
    })?;
    connection.create_scalar_function("cohort_jblank", 1, flags, |ctx| {
        Ok(match text_arg(ctx, 0)? {
            None => true,
            Some(json) => blank_json(json.as_bytes())?,
        })
    })?;
    connection.create_scalar_function("cohort_numeq", 3, flags, |ctx| {
        let value = read(ctx, 0)?;
        let bound: f64 = ctx.get(1)?;
        let bound_text: String = ctx.get(2)?;
        Ok(match (as_number(&value), &value) {
            (Some(n), Read::Text(text)) if n == bound => {
                compare_decimal(text, &bound_text).is_none_or(Ordering::is_eq)
            }
            (Some(n), _) => n == bound,
            (None, _) => false,
        })
    })?;
    connection.create_scalar_function("cohort_ncmp", 3, flags, |ctx| {
        let value = read(ctx, 0)?;
        let bound: f64 = ctx.get(1)?;
        let bound_text: String = ctx.get(2)?;
        Ok(number_ordering(&value, bound, &bound_text).map(ordering))
    })?;
    connection.create_scalar_function("cohort_date", 1, flags, |ctx| {
        Ok(match read(ctx, 0)? {
            Read::Text(text) => parse_date(text),
            _ => None,
        })
    })?;
    connection.create_scalar_function("cohort_dcmp", 2, flags, |ctx| {
        let bound: i64 = ctx.get(1)?;
        Ok(match read(ctx, 0)? {
            Read::Text(text) => parse_date(text).map(|date| ordering(date.cmp(&bound))),
            _ => None,
        })
    })?;
    connection.create_scalar_function("cohort_vcmp", 2, flags, |ctx| {
        let value = read(ctx, 0)?;
        let bound: String = ctx.get(1)?;
        let Some(version) = Version::parse(&bound) else {
            return Ok(None);
        };
        Ok(raw_text(&value)
            .and_then(|text| version.compare_text(&text))
            .map(ordering))
    })?;
    connection.create_scalar_function("cohort_ftxt", 2, flags, |ctx| {
        let value = read(ctx, 0)?;
        let fold: bool = ctx.get(1)?;
        Ok(with_text(&value, fold, |text| text.to_owned()))
    })?;
    let text_test = |f: fn(&str, &str) -> bool| {
        move |ctx: &Context<'_>| -> rusqlite::Result<Option<bool>> {
            let value = read(ctx, 0)?;
            let fold: bool = ctx.get(2)?;
            let Some(needle) = text_arg(ctx, 1)? else {
                return Ok(None);
            };
            Ok(with_text(&value, fold, |text| f(text, &needle)))
        }
    };
    connection.create_scalar_function(
        "cohort_contains",
        3,
        flags,
        text_test(|t, n| t.contains(n)),
    )?;
    connection.create_scalar_function(
        "cohort_starts",
        3,
        flags,
        text_test(|t, n| t.starts_with(n)),
    )?;
    connection.create_scalar_function("cohort_ends", 3, flags, text_test(|t, n| t.ends_with(n)))?;
    Ok(())
}

/// Registers `cohort_regex(pattern, case_sensitive, text)` for the regexes of a query: the
/// engine's compiled regexes themselves, looked up by pattern.
fn register_regexes(connection: &Connection, regexes: &[(Regex, bool)]) -> Result<(), SqlError> {
    let table: Arc<HashMap<(String, bool), Regex>> = Arc::new(
        regexes
            .iter()
            .map(|(regex, case)| ((regex.as_str().to_owned(), *case), regex.clone()))
            .collect(),
    );
    connection.create_scalar_function(
        "cohort_regex",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let pattern: String = ctx.get(0)?;
            let case: bool = ctx.get(1)?;
            let Some(text) = text_arg(ctx, 2)? else {
                return Ok(None);
            };
            let regex = table.get(&(pattern, case)).ok_or_else(|| {
                rusqlite::Error::UserFunctionError(
                    "cohort_regex: a regex the query did not compile".into(),
                )
            })?;
            Ok(Some(regex.is_match(&text)))
        },
    )?;
    Ok(())
}

fn bind(param: &Param, now: i64) -> SqlValue {
    match param.resolve(now) {
        Param::Text(text) => SqlValue::Text(text),
        Param::Real(number) => SqlValue::Real(number),
        Param::Int(number) | Param::NowMinus(number) => SqlValue::Integer(number),
        Param::Bool(flag) => SqlValue::Integer(i64::from(flag)),
        Param::Texts(texts) => SqlValue::Text(Value::from(texts).to_string()),
        Param::Ints(numbers) => SqlValue::Text(Value::from(numbers).to_string()),
    }
}

/// Runs a query compiled for SQLite at the evaluation time `now` (milliseconds since the
/// Unix epoch): each group's member keys, in the order of [`Query::groups`].
pub fn evaluate(
    connection: &Connection,
    query: &Query,
    now: i64,
) -> Result<Vec<Vec<String>>, SqlError> {
    if query.dialect != crate::Dialect::Sqlite {
        return Err(SqlError::Internal("a query compiled for another dialect"));
    }
    register_regexes(connection, &query.regexes)?;
    let mut statement = connection.prepare(&query.sql)?;
    let params: Vec<SqlValue> = query.params.iter().map(|p| bind(p, now)).collect();
    let rows = statement.query_map(params_from_iter(params), |row| {
        let key = match row.get_ref(1)? {
            ValueRef::Text(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Real(n) => number_text(n),
            ValueRef::Blob(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            ValueRef::Null => String::new(),
        };
        Ok((row.get::<_, i64>(0)?, key))
    })?;
    let rows: Vec<(i64, String)> = rows.collect::<Result<_, _>>()?;
    crate::by_group(query.groups.len(), rows)
}

/// The columns of a table (for [`crate::compile`]'s `columns`); empty when it does not exist.
pub fn columns(connection: &Connection, table: &str) -> Result<BTreeSet<String>, SqlError> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = statement.query_map([table], |row| row.get::<_, String>(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

/// A machine's value as stored in the default layout.
fn stored(value: &Value) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(flag) => SqlValue::Text(flag.to_string()),
        Value::Number(number) => number.as_f64().map_or(SqlValue::Null, SqlValue::Real),
        Value::String(text) => SqlValue::Text(text.clone()),
        Value::Array(_) | Value::Object(_) => SqlValue::Blob(value.to_string().into_bytes()),
    })
}

/// Creates the table of a default-style layout (`layout.table`, with the key column, the
/// order column holding each machine's position, and one untyped column per field) and fills
/// it with `machines`, in one transaction. The table must not exist yet.
pub fn load(
    connection: &Connection,
    layout: &crate::Layout,
    machines: &[Keyed<'_>],
) -> Result<(), SqlError> {
    let fields = crate::load_columns(layout, machines)?;
    let mut loader = Loader::begin(connection, layout, &fields)?;
    for (key, machine) in machines {
        loader.push(key, machine)?;
    }
    loader.finish()
}

/// [`load`] one machine at a time, for machines that are not all in memory: `begin` creates
/// the table (its field columns from [`crate::load_fields`]) in a transaction, `push` adds a
/// machine (its position is the number pushed before it), `finish` commits. Dropped without
/// `finish`, nothing is written.
pub struct Loader<'c> {
    transaction: rusqlite::Transaction<'c>,
    insert: String,
    fields: Vec<String>,
    order: bool,
    position: i64,
}

impl<'c> Loader<'c> {
    /// Creates the table of `layout` with the key, the order column and `fields`.
    pub fn begin(
        connection: &'c Connection,
        layout: &crate::Layout,
        fields: &[String],
    ) -> Result<Loader<'c>, SqlError> {
        let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let mut columns = vec![quote(&layout.key)];
        let mut create = format!(
            "CREATE TABLE {} ({} TEXT PRIMARY KEY NOT NULL",
            quote(&layout.table),
            quote(&layout.key)
        );
        if let Some(order) = &layout.order {
            create.push_str(&format!(", {} INTEGER NOT NULL", quote(order)));
            columns.push(quote(order));
        }
        for field in fields {
            create.push_str(", ");
            create.push_str(&quote(field));
            columns.push(quote(field));
        }
        create.push(')');
        let transaction = connection.unchecked_transaction()?;
        transaction.execute(&create, [])?;
        let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(&layout.table),
            columns.join(", "),
            placeholders.join(", ")
        );
        Ok(Loader {
            transaction,
            insert,
            fields: fields.to_vec(),
            order: layout.order.is_some(),
            position: 0,
        })
    }

    /// Adds the machine `machine` under `key`.
    pub fn push(&mut self, key: &str, machine: &Map<String, Value>) -> Result<(), SqlError> {
        let mut values: Vec<ToSqlOutput<'static>> = Vec::with_capacity(self.fields.len() + 2);
        values.push(ToSqlOutput::Owned(SqlValue::Text(key.to_owned())));
        if self.order {
            values.push(ToSqlOutput::Owned(SqlValue::Integer(self.position)));
        }
        for field in &self.fields {
            values.push(
                machine
                    .get(field)
                    .map_or(ToSqlOutput::Owned(SqlValue::Null), stored),
            );
        }
        let mut statement = self.transaction.prepare_cached(&self.insert)?;
        statement.execute(params_from_iter(values))?;
        self.position += 1;
        Ok(())
    }

    /// Commits the table and its rows.
    pub fn finish(self) -> Result<(), SqlError> {
        self.transaction.commit()?;
        Ok(())
    }
}

/// How many machines (rows with a key) the layout's table holds.
pub fn count(connection: &Connection, layout: &crate::Layout) -> Result<usize, SqlError> {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let n: i64 = connection.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
            quote(&layout.table),
            quote(&layout.key)
        ),
        [],
        |row| row.get(0),
    )?;
    usize::try_from(n).map_err(|_| SqlError::Internal("a negative count"))
}

/// Replaces the rows of `table` (created when missing: `cohort_group TEXT, cohort_key TEXT`)
/// with the members found, in one transaction.
pub fn write_membership(
    connection: &Connection,
    table: &str,
    groups: &[String],
    members: &[Vec<String>],
) -> Result<usize, SqlError> {
    let table = format!("\"{}\"", table.replace('"', "\"\""));
    let transaction = connection.unchecked_transaction()?;
    transaction.execute(
        &format!("CREATE TABLE IF NOT EXISTS {table} (cohort_group TEXT NOT NULL, cohort_key TEXT NOT NULL)"),
        [],
    )?;
    transaction.execute(&format!("DELETE FROM {table}"), [])?;
    let mut written = 0;
    {
        let mut statement = transaction.prepare(&format!(
            "INSERT INTO {table} (cohort_group, cohort_key) VALUES (?1, ?2)"
        ))?;
        for (group, keys) in groups.iter().zip(members) {
            for key in keys {
                statement.execute([group, key])?;
                written += 1;
            }
        }
    }
    transaction.commit()?;
    Ok(written)
}
