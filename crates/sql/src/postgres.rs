//! PostgreSQL: installing cohort's functions, loading a machines file, evaluating.
//!
//! The functions (`postgres.sql`, in the schema `cohort`) are ports of the engine's reading
//! of values; the tables they need that come from Unicode (white space, lowercase mappings,
//! the characters the final-sigma rule looks at) are generated from the Rust standard
//! library when they are installed, so they are the ones the engine uses.

use crate::compile::{Param, Query};
use crate::{Keyed, SqlError};
pub use postgres::Client;
use postgres::NoTls;
use postgres::types::ToSql;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

/// The version of the installed functions: installing again replaces them when it differs.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+10");

/// PostgreSQL's limit on identifier length, in bytes (longer names are cut, silently).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Connects to a server: a URL (`postgres://user@host/db`) or key-value settings
/// (`host=/tmp user=postgres dbname=postgres`). No TLS.
pub fn connect(settings: &str) -> Result<Client, SqlError> {
    Ok(Client::connect(settings, NoTls)?)
}

/// A PostgreSQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The install script, its tables generated from the Rust standard library.
fn script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let chars = || (0..=0x10_FFFFu32).filter_map(char::from_u32);
        let white_space: String = chars().filter(|c| c.is_whitespace()).collect();
        // One-to-one lowercase mappings go to `translate`, the others to `replace`; capital
        // sigma is left to `cohort.fold`, which looks at its neighbours.
        let (mut from, mut to, mut replaced) = (String::new(), String::new(), Vec::new());
        for c in chars() {
            if c == 'Σ' {
                continue;
            }
            let lower: String = c.to_lowercase().collect();
            let mut lower_chars = lower.chars();
            match (lower_chars.next(), lower_chars.next()) {
                (Some(l), None) if l == c => {}
                (Some(l), None) => {
                    from.push(c);
                    to.push(l);
                }
                _ => replaced.push((c, lower)),
            }
        }
        let mut fold_plain = format!("translate(t, {}, {})", literal(&from), literal(&to));
        for (c, lower) in &replaced {
            fold_plain = format!(
                "replace({fold_plain}, {}, {})",
                literal(&c.to_string()),
                literal(lower)
            );
        }
        // The final-sigma rule, probed: `cΣ` ends in final sigma when `c` is cased (and not
        // case-ignorable); `AcΣ` when `c` is cased or case-ignorable (then skipped).
        let ends_final = |text: String| text.to_lowercase().ends_with('ς');
        let mut rows = Vec::new();
        for c in chars() {
            let cased = ends_final(format!("{c}Σ"));
            let ignorable = !cased && ends_final(format!("A{c}Σ"));
            if cased || ignorable {
                rows.push(format!(
                    "({}, '{}')",
                    literal(&c.to_string()),
                    if cased { 'C' } else { 'I' }
                ));
            }
        }
        let mut inserts = String::new();
        for chunk in rows.chunks(1000) {
            let _ = writeln!(
                inserts,
                "INSERT INTO cohort.case_class (ch, class) VALUES {};",
                chunk.join(", ")
            );
        }
        let words: Vec<String> = crate::compile::word_ranges()
            .iter()
            .map(|(lo, hi)| format!("({lo}, {hi})"))
            .collect();
        let word_rows = format!(
            "INSERT INTO cohort.word_range (lo, hi) VALUES {};",
            words.join(", ")
        );
        include_str!("postgres.sql")
            .replace("{{WORD_RANGE_ROWS}}", &word_rows)
            .replace("{{WHITE_SPACE}}", &literal(&white_space))
            .replace("{{CASE_CLASS_ROWS}}", &inserts)
            .replace("{{FOLD_PLAIN}}", &fold_plain)
            .replace("{{VERSION}}", &literal(VERSION))
    })
}

/// Installs cohort's functions in the schema `cohort` (created if missing), unless this
/// version is installed already. The database must be UTF-8. Safe to call from several
/// connections at once.
pub fn install(client: &mut Client) -> Result<(), SqlError> {
    let encoding: String = client
        .query_one("SELECT current_setting('server_encoding')", &[])?
        .get(0);
    if encoding != "UTF8" {
        return Err(SqlError::Unsupported {
            group: String::new(),
            criterion: "the database".to_owned(),
            construct: format!(
                "text in the encoding {encoding}: cohort's functions need a UTF8 database"
            ),
        });
    }
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock(7232645283)", &[])?;
    let installed = transaction
        .query_opt(
            "SELECT p.oid FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace WHERE n.nspname = 'cohort' AND p.proname = 'version'",
            &[],
        )?
        .is_some();
    if installed {
        let version: String = transaction
            .query_one("SELECT cohort.version()", &[])?
            .get(0);
        if version == VERSION {
            return Ok(transaction.commit()?);
        }
    }
    transaction.batch_execute(script())?;
    Ok(transaction.commit()?)
}

fn bind(param: &Param, now: i64) -> Box<dyn ToSql + Sync> {
    match param.resolve(now) {
        Param::Text(text) => Box::new(text),
        Param::Real(number) => Box::new(number),
        Param::Int(number) | Param::NowMinus(number) => Box::new(number),
        Param::Bool(flag) => Box::new(flag),
        Param::Texts(texts) => Box::new(texts),
        Param::Ints(numbers) => Box::new(numbers),
    }
}

/// Runs a query compiled for PostgreSQL at the evaluation time `now` (milliseconds since
/// the Unix epoch), in one statement: each group's member keys, in the order of
/// [`Query::groups`]. The functions must be installed ([`install`]).
pub fn evaluate(
    client: &mut Client,
    query: &Query,
    now: i64,
) -> Result<Vec<Vec<String>>, SqlError> {
    if query.dialect != crate::Dialect::Postgres {
        return Err(SqlError::Internal("a query compiled for another dialect"));
    }
    let params: Vec<Box<dyn ToSql + Sync>> = query.params.iter().map(|p| bind(p, now)).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    // One transaction, so that its settings go with it: no JIT (compiling the expressions
    // of many groups takes longer than evaluating them).
    let mut transaction = client.transaction()?;
    transaction.batch_execute("SET LOCAL jit = off")?;
    // Row by row, as they arrive: holding every row first cost 2 GiB for 9.8 million.
    let mut members: Vec<Vec<String>> = vec![Vec::new(); query.groups.len()];
    {
        use ::postgres::fallible_iterator::FallibleIterator as _;
        let mut rows = transaction.query_raw(&query.sql, refs)?;
        while let Some(row) = rows.next()? {
            let group: i32 = row.try_get(0)?;
            let key: String = row.try_get(1)?;
            usize::try_from(group)
                .ok()
                .and_then(|group| members.get_mut(group))
                .ok_or(SqlError::Internal("a row of a group that does not exist"))?
                .push(key);
        }
    }
    transaction.commit()?;
    Ok(members)
}

/// The columns of a table visible on the search path (for [`crate::compile`]'s `columns`).
pub fn columns(client: &mut Client, table: &str) -> Result<BTreeSet<String>, SqlError> {
    let rows = client.query(
        "SELECT a.attname::text FROM pg_attribute AS a WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped",
        &[&table],
    )?;
    Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
}

/// One value in COPY's text format.
fn copy_field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.extend_from_slice(b"\\N"),
        Some(text) => {
            for byte in text.bytes() {
                match byte {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    other => out.push(other),
                }
            }
        }
    }
}

/// Creates the table of a default-style layout (`layout.table` on the search path, with the
/// key column, the order column holding each machine's position, and one `jsonb` column per
/// field) and fills it with `machines` (COPY), in one transaction. The table must not exist
/// yet.
pub fn load(
    client: &mut Client,
    layout: &crate::Layout,
    machines: &[Keyed<'_>],
) -> Result<(), SqlError> {
    let fields = crate::load_columns(layout, machines)?;
    let mut loader = Loader::begin(client, layout, &fields)?;
    for (key, machine) in machines {
        loader.push(key, machine)?;
    }
    loader.finish()
}

/// [`load`] one machine at a time, for machines that are not all in memory: `begin` creates
/// the table (its field columns from [`crate::load_fields`]) in a transaction, `push` adds a
/// machine (its position is the number pushed before it; rows go to the server by `COPY`
/// about 8 MiB at a time), `finish` commits. Dropped without `finish`, nothing is written.
pub struct Loader<'c> {
    transaction: postgres::Transaction<'c>,
    copy: String,
    fields: Vec<String>,
    order: bool,
    position: usize,
    rows: Vec<u8>,
}

/// The rows a [`Loader`] holds before it sends them.
const COPY_BATCH_BYTES: usize = 8 << 20;

impl<'c> Loader<'c> {
    /// Creates the table of `layout` with the key, the order column and `fields`.
    pub fn begin(
        client: &'c mut Client,
        layout: &crate::Layout,
        fields: &[String],
    ) -> Result<Loader<'c>, SqlError> {
        let names = fields
            .iter()
            .chain([&layout.table, &layout.key])
            .chain(&layout.order);
        if let Some(long) = names.into_iter().find(|f| f.len() > MAX_IDENTIFIER_BYTES) {
            return Err(SqlError::Value {
                machine: String::new(),
                field: long.clone(),
                message: format!(
                    "a name longer than PostgreSQL's {MAX_IDENTIFIER_BYTES}-byte identifiers (PostgreSQL would cut it)"
                ),
            });
        }
        if let Some(field) = fields.iter().find(|field| field.contains('\0')) {
            return Err(SqlError::Value {
                machine: String::new(),
                field: field.clone(),
                message: "text with a NUL character, which PostgreSQL cannot store".to_owned(),
            });
        }
        let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let mut columns = vec![quote(&layout.key)];
        let mut create = format!(
            "CREATE TABLE {} ({} text PRIMARY KEY",
            quote(&layout.table),
            quote(&layout.key)
        );
        if let Some(order) = &layout.order {
            let _ = write!(create, ", {} bigint NOT NULL", quote(order));
            columns.push(quote(order));
        }
        for field in fields {
            let _ = write!(create, ", {} jsonb", quote(field));
            columns.push(quote(field));
        }
        create.push(')');
        let mut transaction = client.transaction()?;
        transaction.batch_execute(&create)?;
        Ok(Loader {
            transaction,
            copy: format!(
                "COPY {} ({}) FROM STDIN",
                quote(&layout.table),
                columns.join(", ")
            ),
            fields: fields.to_vec(),
            order: layout.order.is_some(),
            position: 0,
            rows: Vec::new(),
        })
    }

    /// Adds the machine `machine` under `key`.
    pub fn push(&mut self, key: &str, machine: &Map<String, Value>) -> Result<(), SqlError> {
        if let Some((field, _)) = machine
            .iter()
            .find(|(field, value)| field.contains('\0') || has_nul(value))
        {
            return Err(SqlError::Value {
                machine: key.to_owned(),
                field: field.clone(),
                message: "text with a NUL character, which PostgreSQL cannot store".to_owned(),
            });
        }
        let line = &mut self.rows;
        copy_field(line, Some(key));
        if self.order {
            line.push(b'\t');
            line.extend_from_slice(self.position.to_string().as_bytes());
        }
        for field in &self.fields {
            line.push(b'\t');
            let json = match machine.get(field) {
                None | Some(Value::Null) => None,
                Some(value) => Some(value.to_string()),
            };
            copy_field(line, json.as_deref());
        }
        line.push(b'\n');
        self.position += 1;
        if self.rows.len() >= COPY_BATCH_BYTES {
            self.send()?;
        }
        Ok(())
    }

    /// Sends the rows held, in one `COPY`.
    fn send(&mut self) -> Result<(), SqlError> {
        let mut writer = self.transaction.copy_in(&self.copy)?;
        writer
            .write_all(&self.rows)
            .map_err(|source| SqlError::Io {
                path: "COPY machines".to_owned(),
                source,
            })?;
        writer.finish()?;
        self.rows.clear();
        Ok(())
    }

    /// Sends what is left and commits the table and its rows.
    pub fn finish(mut self) -> Result<(), SqlError> {
        if !self.rows.is_empty() {
            self.send()?;
        }
        self.transaction.commit()?;
        Ok(())
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// How many machines (rows with a key) the layout's table holds.
pub fn count(client: &mut Client, layout: &crate::Layout) -> Result<usize, SqlError> {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let n: i64 = client
        .query_one(
            &format!(
                "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
                quote(&layout.table),
                quote(&layout.key)
            ),
            &[],
        )?
        .get(0);
    usize::try_from(n).map_err(|_| SqlError::Internal("a negative count"))
}

/// Replaces the rows of `table` (created when missing: `cohort_group text, cohort_key text`)
/// with the members found, in one transaction.
pub fn write_membership(
    client: &mut Client,
    table: &str,
    groups: &[String],
    members: &[Vec<String>],
) -> Result<usize, SqlError> {
    let table = format!("\"{}\"", table.replace('"', "\"\""));
    let mut transaction = client.transaction()?;
    transaction.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (cohort_group text NOT NULL, cohort_key text NOT NULL); DELETE FROM {table};"
    ))?;
    let statement = transaction.prepare(&format!(
        "INSERT INTO {table} (cohort_group, cohort_key) SELECT $1::text, unnest($2::text[])"
    ))?;
    let mut written = 0;
    for (group, keys) in groups.iter().zip(members) {
        written += transaction.execute(&statement, &[group, keys])?;
    }
    transaction.commit()?;
    usize::try_from(written).map_err(|_| SqlError::Internal("more rows than fit in usize"))
}
