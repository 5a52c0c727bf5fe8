//! The compiler: a checked group set to one parameterised query.
//!
//! Every criterion becomes a strictly two-valued boolean expression (`COALESCE(..., FALSE)`
//! around each test of one value, `EXISTS` over list elements), so `NOT` is its exact
//! complement and SQL's NULL logic never reaches the combination of criteria. The meaning of
//! each test is the engine's (`crates/engine/src/matcher.rs`); what plain SQL cannot say
//! exactly (case folding, reading numbers, dates and versions from text) is a cohort function:
//! registered from Rust in SQLite, installed in the `cohort` schema in PostgreSQL.

use crate::layout::{ColumnKind, Layout, Place};
use crate::{Dialect, SqlError};
use cohort_check::ir::{Bound, CheckedSet, Comparison, Condition, Predicate, Regex, Test};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The most groups read in one compound SELECT (SQLite allows 500 terms).
const UNION_CHUNK: usize = 250;

/// Above this many values, `equal`/`is any of` binds its texts as one array parameter.
const ARRAY_THRESHOLD: usize = 16;

/// A compiled group set: SQL returning `(cohort_group, cohort_key, cohort_order)` rows, one
/// per member (`cohort_group` is the group's position in [`Query::groups`]), each group's in
/// the layout's order, and its parameters.
#[derive(Clone, Debug)]
pub struct Query {
    /// The dialect it was compiled for.
    pub dialect: Dialect,
    /// The SQL text. Parameters are `?1`, `?2`... (SQLite) or `$1`, `$2`... (PostgreSQL).
    pub sql: String,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The group names, by position.
    pub groups: Vec<String>,
    /// The regexes `cohort_regex` may be asked for, with the case-sensitivity they were
    /// compiled with (SQLite only).
    pub(crate) regexes: Vec<(Regex, bool)>,
}

/// One parameter's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A 64-bit float.
    Real(f64),
    /// A 64-bit integer (dates as milliseconds since the Unix epoch).
    Int(i64),
    /// A flag (case-sensitivity of a regex).
    Bool(bool),
    /// Several texts: a JSON array text in SQLite, a `text[]` in PostgreSQL.
    Texts(Vec<String>),
    /// Several integers (PostgreSQL `int8[]`: ranges of code points).
    Ints(Vec<i64>),
    /// The evaluation time minus this many milliseconds (saturating), in milliseconds since
    /// the Unix epoch: bound when the query runs.
    NowMinus(i64),
}

impl Param {
    /// The value bound for an evaluation at `now` (milliseconds since the Unix epoch).
    pub fn resolve(&self, now: i64) -> Param {
        match self {
            Param::NowMinus(millis) => Param::Int(now.saturating_sub(*millis)),
            other => other.clone(),
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Text(text) => write!(f, "{}", serde_json::Value::from(text.as_str())),
            Param::Real(number) => write!(f, "{number:?}"),
            Param::Int(number) => write!(f, "{number}"),
            Param::Bool(flag) => write!(f, "{flag}"),
            Param::Texts(texts) => write!(f, "{}", serde_json::Value::from(texts.clone())),
            Param::Ints(numbers) => write!(f, "{}", serde_json::Value::from(numbers.clone())),
            Param::NowMinus(millis) => write!(f, "now - {millis} ms"),
        }
    }
}

/// Compiles every group of `set` into one query over `layout`.
///
/// `columns`, when given, are the columns the machines table has: a field the layout places
/// in a column of its own name (the default layout) that the table lacks is missing on every
/// machine, as it would be in memory. Without it, every such column is assumed to exist.
///
/// Errors name the group and criterion a dialect cannot evaluate exactly.
pub fn compile(
    set: &CheckedSet,
    layout: &Layout,
    dialect: Dialect,
    columns: Option<&BTreeSet<String>>,
) -> Result<Query, SqlError> {
    let mut compiler = Compiler {
        dialect,
        layout,
        columns,
        params: Vec::new(),
        regexes: Vec::new(),
        group: String::new(),
        long_names: std::cell::RefCell::new(Vec::new()),
    };
    let table = compiler.ident(&layout.table);
    let key = compiler.ident(&layout.key);
    let order = compiler.ident(layout.order.as_deref().unwrap_or(&layout.key));
    let mut sql = String::from("WITH ");
    for (n, &position) in set.evaluation_order.iter().enumerate() {
        let group = set.groups.get(position).ok_or(SqlError::Internal(
            "evaluation order names a group that does not exist",
        ))?;
        compiler.group.clone_from(&group.name);
        let condition = compiler.condition(&group.condition)?;
        if n > 0 {
            sql.push_str(",\n     ");
        }
        let _ = write!(
            sql,
            "g{position} AS MATERIALIZED (SELECT m.{key} AS k, m.{order} AS o FROM {table} AS m WHERE m.{key} IS NOT NULL AND ({condition}))"
        );
    }
    if set.groups.is_empty() {
        sql = format!(
            "SELECT 0 AS cohort_group, m.{key} AS cohort_key FROM {table} AS m WHERE FALSE"
        );
    } else {
        sql.push('\n');
        let key = match dialect {
            Dialect::Sqlite => "k",
            Dialect::Postgres => "k::text",
        };
        let selects: Vec<String> = (0..set.groups.len())
            .map(|position| {
                format!(
                    "SELECT {position} AS cohort_group, {key} AS cohort_key, o AS cohort_order FROM g{position}"
                )
            })
            .collect();
        // SQLite allows 500 terms in one compound SELECT: past UNION_CHUNK groups, the terms
        // are grouped into subqueries.
        if selects.len() <= UNION_CHUNK {
            sql.push_str(&selects.join("\nUNION ALL "));
        } else {
            let chunks: Vec<String> = selects
                .chunks(UNION_CHUNK)
                .enumerate()
                .map(|(n, chunk)| format!("SELECT * FROM ({}) AS u{n}", chunk.join("\nUNION ALL ")))
                .collect();
            sql.push_str(&chunks.join("\nUNION ALL "));
        }
        sql.push_str("\nORDER BY cohort_group, cohort_order");
    }
    if let Some(name) = compiler.long_names.borrow().first() {
        return Err(SqlError::Unsupported {
            group: String::new(),
            criterion: format!("the table or column `{name}`"),
            construct: format!(
                "a name longer than PostgreSQL's {} bytes (PostgreSQL would cut it)",
                crate::postgres::MAX_IDENTIFIER_BYTES
            ),
        });
    }
    let limit = match dialect {
        Dialect::Sqlite => 32_766,
        Dialect::Postgres => 65_535,
    };
    if compiler.params.len() > limit {
        return Err(SqlError::TooManyParameters {
            count: compiler.params.len(),
            limit,
        });
    }
    Ok(Query {
        dialect,
        sql,
        params: compiler.params,
        groups: set.groups.iter().map(|g| g.name.clone()).collect(),
        regexes: compiler.regexes,
    })
}

struct Compiler<'a> {
    dialect: Dialect,
    layout: &'a Layout,
    columns: Option<&'a BTreeSet<String>>,
    params: Vec<Param>,
    regexes: Vec<(Regex, bool)>,
    /// The group being compiled, for errors.
    group: String,
    /// Names too long for PostgreSQL identifiers (refused after compiling).
    long_names: std::cell::RefCell<Vec<String>>,
}

/// How the value of a field is reached.
enum Cell {
    /// An expression that may hold any value (a list as JSON).
    Any(String),
    /// Text or NULL.
    Text(String),
    /// A number or NULL.
    Number(String),
    /// A JSON value (text in SQLite, `jsonb` in PostgreSQL) or NULL.
    Json(String),
    /// Missing on every machine.
    Missing,
}

impl Compiler<'_> {
    fn ident(&self, name: &str) -> String {
        if self.dialect == Dialect::Postgres && name.len() > crate::postgres::MAX_IDENTIFIER_BYTES {
            self.long_names.borrow_mut().push(name.to_owned());
        }
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        let n = self.params.len();
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => {
                let cast = match self.params.last() {
                    Some(Param::Text(_)) => "text",
                    Some(Param::Real(_)) => "float8",
                    Some(Param::Int(_) | Param::NowMinus(_)) => "int8",
                    Some(Param::Bool(_)) => "bool",
                    Some(Param::Texts(_)) => "text[]",
                    Some(Param::Ints(_)) => "int8[]",
                    None => "text",
                };
                format!("${n}::{cast}")
            }
        }
    }

    /// A cohort function's name in this dialect.
    fn func(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("cohort_{name}"),
            Dialect::Postgres => format!("cohort.{name}"),
        }
    }

    fn condition(&mut self, condition: &Condition) -> Result<String, SqlError> {
        Ok(match condition {
            Condition::All(items) if items.is_empty() => "TRUE".to_owned(),
            Condition::Any(items) if items.is_empty() => "FALSE".to_owned(),
            Condition::All(items) => self.join(items, " AND ")?,
            Condition::Any(items) => self.join(items, " OR ")?,
            Condition::Not(item) => format!("NOT ({})", self.condition(item)?),
            Condition::Member(member) => {
                let test = format!(
                    "m.{} IN (SELECT k FROM g{})",
                    self.ident(&self.layout.key),
                    member.group
                );
                if member.negated {
                    format!("NOT ({test})")
                } else {
                    test
                }
            }
            Condition::Predicate(predicate) => {
                let test = self.predicate(predicate)?;
                if predicate.negated {
                    format!("NOT ({test})")
                } else {
                    test
                }
            }
        })
    }

    fn join(&mut self, items: &[Condition], with: &str) -> Result<String, SqlError> {
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(format!("({})", self.condition(item)?));
        }
        Ok(parts.join(with))
    }

    fn cell(&mut self, field: &str) -> Result<Cell, SqlError> {
        let place = self
            .layout
            .place(field)
            .ok_or_else(|| SqlError::UnknownField {
                group: self.group.clone(),
                field: field.to_owned(),
            })?;
        Ok(match place {
            Place::Column(column, kind) => {
                let defaulted = !self.layout.fields.contains_key(field);
                if defaulted
                    && self
                        .columns
                        .is_some_and(|columns| !columns.contains(column))
                {
                    return Ok(Cell::Missing);
                }
                let expr = format!("m.{}", self.ident(column));
                match kind {
                    ColumnKind::Any => Cell::Any(expr),
                    ColumnKind::Text => Cell::Text(expr),
                    ColumnKind::Number => Cell::Number(expr),
                    ColumnKind::Json => Cell::Json(expr),
                }
            }
            Place::Custom(custom) => {
                let name = self.param(Param::Text(field.to_owned()));
                Cell::Text(format!(
                    "(SELECT c.{value} FROM {table} AS c WHERE c.{ckey} = m.{key} AND c.{cname} = {name} LIMIT 1)",
                    value = self.ident(&custom.value),
                    table = self.ident(&custom.table),
                    ckey = self.ident(&custom.key),
                    key = self.ident(&self.layout.key),
                    cname = self.ident(&custom.name),
                ))
            }
        })
    }

    /// The positive test of a predicate, strictly two-valued.
    fn predicate(&mut self, predicate: &Predicate) -> Result<String, SqlError> {
        if let (Dialect::Postgres, Test::Matches(regexes)) = (self.dialect, &predicate.test) {
            for regex in regexes {
                if simple_regex(regex.as_str(), predicate.case_sensitive).is_none() {
                    return Err(SqlError::Unsupported {
                        group: self.group.clone(),
                        criterion: format!("{} ({})", predicate.text, predicate.label),
                        construct: format!(
                            "`matches` with the regex `{}` in PostgreSQL: PostgreSQL's regular expressions are not Rust's (classes, case folding, leftmost-first matching), so cohort translates only alternatives of literal text (anywhere, or anchored with `^` or `$`) and, anchored, of single characters (letters of any case) and `\\b`",
                            regex.as_str()
                        ),
                    });
                }
            }
        }
        let cell = self.cell(&predicate.field)?;
        let pg = self.dialect == Dialect::Postgres;
        // PostgreSQL's cohort functions read `jsonb`; SQLite's read any value.
        let scalar = |expr: &str, kind: &str| {
            if pg {
                format!("to_jsonb(({expr})::{kind})")
            } else {
                expr.to_owned()
            }
        };
        Ok(match (&predicate.test, cell) {
            (Test::IsBlank, Cell::Missing) => "TRUE".to_owned(),
            (_, Cell::Missing) => "FALSE".to_owned(),
            (Test::IsBlank, Cell::Json(expr)) if !pg => {
                format!("COALESCE({}({expr}), TRUE)", self.func("jblank"))
            }
            (Test::IsBlank, Cell::Any(expr) | Cell::Json(expr)) => {
                format!("COALESCE({}({expr}), TRUE)", self.func("blank"))
            }
            (Test::IsBlank, Cell::Text(expr)) => {
                let value = scalar(&expr, "text");
                format!("COALESCE({}({value}), TRUE)", self.func("blank"))
            }
            (Test::IsBlank, Cell::Number(expr)) => {
                let value = scalar(&expr, "float8");
                format!("COALESCE({}({value}), TRUE)", self.func("blank"))
            }
            (test, Cell::Text(expr)) => {
                self.scalar_test(test, predicate, &scalar(&expr, "text"))?
            }
            (test, Cell::Number(expr)) => {
                self.scalar_test(test, predicate, &scalar(&expr, "float8"))?
            }
            (test, Cell::Any(expr)) if pg => self.jsonb_test(test, predicate, &expr)?,
            (test, Cell::Json(expr)) if pg => self.jsonb_test(test, predicate, &expr)?,
            (test, Cell::Any(expr)) => {
                let on_scalar = self.scalar_test(test, predicate, &expr)?;
                let on_json =
                    self.sqlite_json_test(test, predicate, &format!("CAST({expr} AS TEXT)"))?;
                format!("(CASE WHEN typeof({expr}) = 'blob' THEN {on_json} ELSE {on_scalar} END)")
            }
            (test, Cell::Json(expr)) => {
                let on_json = self.sqlite_json_test(test, predicate, &expr)?;
                format!("(({expr}) IS NOT NULL AND {on_json})")
            }
        })
    }

    /// A test on a SQLite JSON text (a list, or a scalar or object in JSON).
    fn sqlite_json_test(
        &mut self,
        test: &Test,
        predicate: &Predicate,
        json: &str,
    ) -> Result<String, SqlError> {
        let element =
            "(CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE e.atom END)";
        // Elements reached through lists only (no object member: its key path has a `.`),
        // at most `MAX_LIST_DEPTH` (32) lists deep, as the engine reads them.
        let scalar_row =
            "e.type IN ('true', 'false', 'integer', 'real', 'text') AND instr(e.fullkey, '.') = 0";
        Ok(match test {
            Test::Contains { needles, all: true } => {
                let mut parts = Vec::new();
                for one in one_needle_each(needles) {
                    let on_element = self.scalar_test(&one, predicate, element)?;
                    parts.push(format!(
                        "EXISTS (SELECT 1 FROM json_each({json}) AS e WHERE {scalar_row} AND {on_element})"
                    ));
                }
                format!("({})", parts.join(" AND "))
            }
            _ => {
                let on_element = self.scalar_test(test, predicate, element)?;
                format!(
                    "EXISTS (SELECT 1 FROM json_tree({json}) AS e WHERE {scalar_row} AND length(e.fullkey) - length(replace(e.fullkey, '[', '')) <= 32 AND {on_element})"
                )
            }
        })
    }

    /// A test on a PostgreSQL `jsonb` value (a list, a scalar or an object).
    fn jsonb_test(
        &mut self,
        test: &Test,
        predicate: &Predicate,
        json: &str,
    ) -> Result<String, SqlError> {
        let on_scalar = self.scalar_test(test, predicate, json)?;
        let on_list = match test {
            Test::Contains { needles, all: true } => {
                let mut parts = Vec::new();
                for one in one_needle_each(needles) {
                    let on_element = self.scalar_test(&one, predicate, "e.v")?;
                    parts.push(format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({json}) = 'array' THEN {json} ELSE '[]'::jsonb END) AS e(v) WHERE jsonb_typeof(e.v) IN ('string', 'number', 'boolean') AND {on_element})"
                    ));
                }
                format!("({})", parts.join(" AND "))
            }
            _ => {
                // The elements, and through `cohort.elements` those of nested lists.
                let on_element = self.scalar_test(test, predicate, "e.v")?;
                let on_nested = self.scalar_test(test, predicate, "d.v")?;
                format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({json}) = 'array' THEN {json} ELSE '[]'::jsonb END) AS e(v) WHERE CASE WHEN jsonb_typeof(e.v) = 'array' THEN EXISTS (SELECT 1 FROM cohort.elements(e.v, 1) AS d(v) WHERE {on_nested}) ELSE {on_element} END)"
                )
            }
        };
        Ok(format!(
            "(CASE WHEN jsonb_typeof({json}) = 'array' THEN {on_list} ELSE {on_scalar} END)"
        ))
    }

    /// `test` of each text of `values` (bound as a parameter, named to `test`), joined by
    /// `joiner`.
    fn each_text(
        &mut self,
        values: &[String],
        joiner: &str,
        test: impl Fn(&str) -> String,
    ) -> String {
        let parts: Vec<String> = values
            .iter()
            .map(|value| test(&self.param(Param::Text(value.clone()))))
            .collect();
        parts.join(joiner)
    }

    /// A test on one scalar value `x` (SQLite: any value but a BLOB; PostgreSQL: `jsonb`),
    /// strictly two-valued.
    fn scalar_test(
        &mut self,
        test: &Test,
        predicate: &Predicate,
        x: &str,
    ) -> Result<String, SqlError> {
        let text = format!("{}({x})", self.func("txt"));
        let pg = self.dialect == Dialect::Postgres;
        // SQLite: one call reads the text and folds it (`cohort_ftxt`), and the substring
        // tests take the value itself, so ASCII text is compared without a copy.
        let fold = i32::from(!predicate.case_sensitive);
        let folded = match (pg, predicate.case_sensitive) {
            (true, true) => text.clone(),
            // `cohort.fold(cohort.txt(x))` written out: PostgreSQL inlines `fold` (which
            // names its text four times) only when that text is cheap to repeat, as
            // `x #>> '{}'` is and `txt`'s `CASE` is not (2.8x faster on list elements).
            (true, false) => format!(
                "CASE jsonb_typeof({x}) WHEN 'string' THEN cohort.fold({x} #>> '{{}}') WHEN 'number' THEN cohort.fold(cohort.number_text(({x} #>> '{{}}')::float8)) WHEN 'boolean' THEN {x} #>> '{{}}' END"
            ),
            (false, _) => format!("cohort_ftxt({x}, {fold})"),
        };
        let expr = match test {
            Test::IsBlank => format!("{}({x})", self.func("blank")),
            Test::Equals(values) => {
                let mut parts = Vec::new();
                let texts: Vec<String> = values.iter().map(|v| v.text.clone()).collect();
                if pg {
                    let array = self.param(Param::Texts(texts));
                    parts.push(format!("{folded} = ANY({array})"));
                } else if texts.len() > ARRAY_THRESHOLD {
                    let array = self.param(Param::Texts(texts));
                    parts.push(format!(
                        "{folded} IN (SELECT value FROM json_each({array}))"
                    ));
                } else {
                    let list: Vec<String> = texts
                        .into_iter()
                        .map(|t| self.param(Param::Text(t)))
                        .collect();
                    parts.push(format!("{folded} IN ({})", list.join(", ")));
                }
                for value in values {
                    if let Some(number) = value.number {
                        let b = self.param(Param::Real(number));
                        let bt = self.param(Param::Text(value.text.clone()));
                        parts.push(format!("{}({x}, {b}, {bt})", self.func("numeq")));
                    }
                }
                parts.join(" OR ")
            }
            Test::Contains { needles, all } => {
                self.each_text(needles, if *all { " AND " } else { " OR " }, |n| {
                    if pg {
                        format!("strpos({folded}, {n}) > 0")
                    } else {
                        format!("cohort_contains({x}, {n}, {fold})")
                    }
                })
            }
            Test::StartsWith(values) => self.each_text(values, " OR ", |n| {
                if pg {
                    format!("starts_with({folded}, {n})")
                } else {
                    format!("cohort_starts({x}, {n}, {fold})")
                }
            }),
            Test::EndsWith(values) => self.each_text(values, " OR ", |n| {
                if pg {
                    format!("right({folded}, char_length({n})) = {n}")
                } else {
                    format!("cohort_ends({x}, {n}, {fold})")
                }
            }),
            Test::Matches(regexes) if pg => {
                let mut parts = Vec::new();
                for regex in regexes {
                    let alternatives = simple_regex(regex.as_str(), predicate.case_sensitive)
                        .ok_or(SqlError::Internal("a regex PostgreSQL cannot evaluate"))?;
                    for simple in &alternatives {
                        parts.push(format!("({})", self.pg_regex(simple, &text)));
                    }
                    if alternatives.is_empty() {
                        parts.push("FALSE".to_owned());
                    }
                }
                parts.join(" OR ")
            }
            Test::Matches(regexes) => {
                let mut parts = Vec::new();
                for regex in regexes {
                    self.regexes.push((regex.clone(), predicate.case_sensitive));
                    let pattern = self.param(Param::Text(regex.as_str().to_owned()));
                    let case = self.param(Param::Bool(predicate.case_sensitive));
                    parts.push(format!("cohort_regex({pattern}, {case}, {text})"));
                }
                parts.join(" OR ")
            }
            Test::Compare { ordering, bound } => {
                let order = self.ordering(x, bound, bound)?;
                let op = match ordering {
                    Comparison::Greater => "> 0",
                    Comparison::GreaterOrEqual => ">= 0",
                    Comparison::Less => "< 0",
                    Comparison::LessOrEqual => "<= 0",
                };
                format!("COALESCE({}) {op}", order.join(", "))
            }
            Test::Between { low, high } => {
                let mut arms = Vec::new();
                let (lows, highs) = (self.orderings(x, low, high), self.orderings(x, high, low));
                for (to_low, to_high) in lows.into_iter().zip(highs) {
                    arms.push(format!(
                        "WHEN {to_low} IS NOT NULL THEN {to_low} >= 0 AND {to_high} <= 0"
                    ));
                }
                if arms.is_empty() {
                    "FALSE".to_owned()
                } else {
                    format!("CASE {} END", arms.join(" "))
                }
            }
            Test::WithinLast { millis } => {
                let cutoff = self.param(Param::NowMinus(*millis));
                format!("{}({x}) >= {cutoff}", self.func("date"))
            }
            Test::OlderThan { millis } => {
                let cutoff = self.param(Param::NowMinus(*millis));
                format!("{}({x}) < {cutoff}", self.func("date"))
            }
        };
        Ok(format!("COALESCE(({expr}), FALSE)"))
    }

    /// How `x` compares with `bound` in each kind `bound` and `other` both read as, in the
    /// engine's order (number, date, version): each NULL when `x` does not read as the kind.
    fn orderings(&mut self, x: &str, bound: &Bound, other: &Bound) -> Vec<String> {
        let mut out = Vec::new();
        if let (Some(number), Some(_)) = (bound.number, other.number) {
            let b = self.param(Param::Real(number));
            let bt = self.param(Param::Text(bound.text.clone()));
            out.push(format!("{}({x}, {b}, {bt})", self.func("ncmp")));
        }
        if let (Some(date), Some(_)) = (bound.date, other.date) {
            let d = self.param(Param::Int(date));
            out.push(format!("{}({x}, {d})", self.func("dcmp")));
        }
        if let (Some(_), Some(_)) = (&bound.version, &other.version) {
            let v = self.param(Param::Text(bound.text.clone()));
            out.push(format!("{}({x}, {v})", self.func("vcmp")));
        }
        out
    }

    fn ordering(&mut self, x: &str, bound: &Bound, other: &Bound) -> Result<Vec<String>, SqlError> {
        let mut out = self.orderings(x, bound, other);
        if out.is_empty() {
            return Err(SqlError::Internal(
                "a comparison bound that reads as no kind",
            ));
        }
        // COALESCE needs two arguments in some dialects.
        out.push("NULL".to_owned());
        Ok(out)
    }
}

/// A regex PostgreSQL can evaluate exactly: a sequence of single characters, each one of a
/// few (a case-insensitive letter is the set of its cases), and word boundaries, anchored at
/// the start or the end, or without sets and boundaries anywhere.
#[derive(Debug, PartialEq)]
struct SimpleRegex {
    atoms: Vec<Atom>,
    /// Anchored at the start (`^`, `\A`).
    start: bool,
    /// Anchored at the end (`$`, `\z`).
    end: bool,
}

#[derive(Debug, PartialEq)]
enum Atom {
    /// One character, any of these.
    Char(Vec<char>),
    /// One character in one of these ranges of code points (a large class).
    Ranges(Vec<(u32, u32)>),
    /// From here to the end, between `min` and `max` characters, each in one of these ranges
    /// (`\d+$`, `\s*$`): only last, in a regex anchored at both ends.
    Run {
        ranges: Vec<(u32, u32)>,
        min: u32,
        max: Option<u32>,
    },
    /// `\b` (or with `negated`, `\B`), Unicode word characters.
    Boundary { negated: bool },
}

/// The most characters one set may have (a case-insensitive letter has two or three).
const MAX_SET: usize = 16;

impl SimpleRegex {
    /// The text, when the regex is one literal text.
    fn literal(&self) -> Option<String> {
        self.atoms
            .iter()
            .map(|atom| match atom {
                Atom::Char(set) if set.len() == 1 => set.first().copied(),
                _ => None,
            })
            .collect()
    }
}

/// The most alternatives one regex may expand to (`(a|b)(c|d)` is four).
const MAX_ALTERNATIVES: usize = 64;

/// One piece of a regex read as sequences.
#[derive(Clone, Debug)]
enum Item {
    Atom(Atom),
    Start,
    End,
}

impl Clone for Atom {
    fn clone(&self) -> Self {
        match self {
            Atom::Char(set) => Atom::Char(set.clone()),
            Atom::Ranges(ranges) => Atom::Ranges(ranges.clone()),
            Atom::Run { ranges, min, max } => Atom::Run {
                ranges: ranges.clone(),
                min: *min,
                max: *max,
            },
            Atom::Boundary { negated } => Atom::Boundary { negated: *negated },
        }
    }
}

/// The regex as the sequences of items it matches one of (alternations expanded), or
/// `None` when it has anything else (repetition, large classes, other assertions).
fn sequences(hir: &regex_syntax::hir::Hir) -> Option<Vec<Vec<Item>>> {
    use regex_syntax::hir::{Class, HirKind, Look};
    Some(match hir.kind() {
        HirKind::Empty => vec![Vec::new()],
        HirKind::Literal(bytes) => {
            let text = std::str::from_utf8(&bytes.0).ok()?;
            vec![
                text.chars()
                    .map(|c| Item::Atom(Atom::Char(vec![c])))
                    .collect(),
            ]
        }
        HirKind::Class(Class::Unicode(class)) => vec![vec![Item::Atom(class_atom(class))]],
        HirKind::Repetition(repetition) => {
            let ranges = match repetition.sub.kind() {
                HirKind::Class(Class::Unicode(class)) => class
                    .ranges()
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end())))
                    .collect(),
                HirKind::Literal(bytes) => {
                    let text = std::str::from_utf8(&bytes.0).ok()?;
                    let mut chars = text.chars();
                    let (Some(c), None) = (chars.next(), chars.next()) else {
                        return None;
                    };
                    vec![(u32::from(c), u32::from(c))]
                }
                _ => return None,
            };
            vec![vec![Item::Atom(Atom::Run {
                ranges,
                min: repetition.min,
                max: repetition.max,
            })]]
        }
        HirKind::Look(Look::Start) => vec![vec![Item::Start]],
        HirKind::Look(Look::End) => vec![vec![Item::End]],
        HirKind::Look(Look::WordUnicode) => {
            vec![vec![Item::Atom(Atom::Boundary { negated: false })]]
        }
        HirKind::Look(Look::WordUnicodeNegate) => {
            vec![vec![Item::Atom(Atom::Boundary { negated: true })]]
        }
        HirKind::Capture(capture) => sequences(&capture.sub)?,
        HirKind::Concat(parts) => {
            let mut product: Vec<Vec<Item>> = vec![Vec::new()];
            for part in parts {
                let options = sequences(part)?;
                let mut next = Vec::new();
                for prefix in &product {
                    for option in &options {
                        next.push(prefix.iter().chain(option).cloned().collect());
                        if next.len() > MAX_ALTERNATIVES {
                            return None;
                        }
                    }
                }
                product = next;
            }
            product
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(sequences(branch)?);
                if all.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            all
        }
        _ => return None,
    })
}

/// A class as one position: its characters when few, else its ranges.
fn class_atom(class: &regex_syntax::hir::ClassUnicode) -> Atom {
    let mut set = Vec::new();
    for range in class.ranges() {
        for c in range.start()..=range.end() {
            set.push(c);
            if set.len() > MAX_SET {
                return Atom::Ranges(
                    class
                        .ranges()
                        .iter()
                        .map(|r| (u32::from(r.start()), u32::from(r.end())))
                        .collect(),
                );
            }
        }
    }
    Atom::Char(set)
}

/// What `pattern` means as [`SimpleRegex`]es it matches one of, read as the regex engine
/// reads it with cohort's settings (Unicode; case-insensitive unless `case_sensitive`);
/// `None` for any other regex, or one with an unanchored alternative with sets or
/// boundaries.
fn simple_regex(pattern: &str, case_sensitive: bool) -> Option<Vec<SimpleRegex>> {
    let config = regex_automata::util::syntax::Config::new().case_insensitive(!case_sensitive);
    let hir = regex_automata::util::syntax::parse_with(pattern, &config).ok()?;
    let mut out = Vec::new();
    for items in sequences(&hir)? {
        let mut regex = SimpleRegex {
            atoms: Vec::new(),
            start: false,
            end: false,
        };
        let count = items.len();
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Item::Start if index == 0 => regex.start = true,
                Item::End if index + 1 == count => regex.end = true,
                Item::Atom(atom) => regex.atoms.push(atom),
                Item::Start | Item::End => return None,
            }
        }
        if regex.literal().is_none() && !regex.start && !regex.end {
            return None;
        }
        let runs = regex
            .atoms
            .iter()
            .filter(|a| matches!(a, Atom::Run { .. }))
            .count();
        let last_is_run = matches!(regex.atoms.last(), Some(Atom::Run { .. }));
        if runs > 1 || (runs == 1 && !(last_is_run && regex.start && regex.end)) {
            return None;
        }
        out.push(regex);
    }
    Some(out)
}

/// Every range of Unicode word characters as Rust's regexes read `\w` (and `\b`).
pub(crate) fn word_ranges() -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    match regex_automata::util::syntax::parse(r"\w").map(regex_syntax::hir::Hir::into_kind) {
        Ok(HirKind::Class(Class::Unicode(class))) => class
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        _ => Vec::new(),
    }
}

impl Compiler<'_> {
    /// Ranges of code points as two `int8[]` parameters (starts, ends).
    fn range_params(&mut self, ranges: &[(u32, u32)]) -> (String, String) {
        let lo = self.param(Param::Ints(ranges.iter().map(|r| i64::from(r.0)).collect()));
        let hi = self.param(Param::Ints(ranges.iter().map(|r| i64::from(r.1)).collect()));
        (lo, hi)
    }

    /// `\b` (or `\B`) between the characters at `k` and `k + 1`: a word character before
    /// and none after, or the reverse.
    fn boundary(
        &self,
        text: &str,
        k: usize,
        negated: bool,
        at: &dyn Fn(usize) -> String,
        length: &str,
    ) -> String {
        let before = format!(
            "({} >= 1 AND cohort.is_word(substr({text}, {}, 1)))",
            at(k),
            at(k)
        );
        let after = format!(
            "({} <= {length} AND cohort.is_word(substr({text}, {}, 1)))",
            at(k + 1),
            at(k + 1)
        );
        let op = if negated { "=" } else { "<>" };
        format!("({before} {op} {after})")
    }

    /// The characters of an anchored regex of single characters tested at once: each set
    /// mapped to one of its characters by `translate`, when the sets are pairwise equal or
    /// disjoint (as the cases of letters are), so a text character maps to a set's
    /// character exactly when it is in that set. `None` otherwise (or with ranges or a run).
    fn translated(&mut self, regex: &SimpleRegex, text: &str, width: usize) -> Option<String> {
        let mut sets: Vec<&Vec<char>> = Vec::new();
        let mut expected = String::new();
        for atom in &regex.atoms {
            match atom {
                Atom::Char(set) => {
                    let first = *set.first()?;
                    if !sets.contains(&set) {
                        if sets
                            .iter()
                            .any(|other| other.iter().any(|c| set.contains(c)))
                        {
                            return None;
                        }
                        sets.push(set);
                    }
                    expected.push(first);
                }
                Atom::Boundary { .. } => {}
                Atom::Ranges(_) | Atom::Run { .. } => return None,
            }
        }
        let (mut from, mut to) = (String::new(), String::new());
        for set in &sets {
            let first = *set.first()?;
            for &c in set.iter() {
                from.push(c);
                to.push(first);
            }
        }
        let window = match (regex.start, regex.end) {
            (true, true) => text.to_owned(),
            (true, false) => format!("left({text}, {width})"),
            _ => format!("right({text}, {width})"),
        };
        let from = self.param(Param::Text(from));
        let to = self.param(Param::Text(to));
        let expected = self.param(Param::Text(expected));
        Some(format!("translate({window}, {from}, {to}) = {expected}"))
    }

    /// A regex PostgreSQL can evaluate exactly, on the raw text `text`.
    fn pg_regex(&mut self, regex: &SimpleRegex, text: &str) -> String {
        if let Some(literal) = regex.literal() {
            let n = self.param(Param::Text(literal));
            return match (regex.start, regex.end) {
                (true, true) => format!("{text} = {n}"),
                (true, false) => format!("starts_with({text}, {n})"),
                (false, true) => format!("right({text}, char_length({n})) = {n}"),
                (false, false) => format!("strpos({text}, {n}) > 0"),
            };
        }
        // Anchored, so every character has a fixed position: from the start, or (anchored at
        // the end only) from the end.
        let width = regex
            .atoms
            .iter()
            .filter(|a| matches!(a, Atom::Char(_) | Atom::Ranges(_)))
            .count();
        let length = format!("char_length({text})");
        let at = |k: usize| -> String {
            if regex.start {
                k.to_string()
            } else {
                format!("({length} - {width} + {k})")
            }
        };
        let mut parts = vec![match regex.atoms.last() {
            Some(Atom::Run { min, max, .. }) => {
                let width = u64::try_from(width).unwrap_or(u64::MAX);
                let mut bounds = format!("{length} >= {}", width + u64::from(*min));
                if let Some(max) = max {
                    let _ = write!(bounds, " AND {length} <= {}", width + u64::from(*max));
                }
                bounds
            }
            _ if regex.start && regex.end => format!("{length} = {width}"),
            _ => format!("{length} >= {width}"),
        }];
        if let Some(translated) = self.translated(regex, text, width) {
            parts.push(translated);
            let mut k = 0;
            for atom in &regex.atoms {
                match atom {
                    Atom::Char(_) | Atom::Ranges(_) => k += 1,
                    Atom::Boundary { negated } => {
                        parts.push(self.boundary(text, k, *negated, &at, &length));
                    }
                    Atom::Run { .. } => {}
                }
            }
            return parts.join(" AND ");
        }
        let mut k = 0;
        for atom in &regex.atoms {
            match atom {
                Atom::Char(set) => {
                    k += 1;
                    let set = self.param(Param::Texts(set.iter().map(char::to_string).collect()));
                    parts.push(format!("substr({text}, {}, 1) = ANY({set})", at(k)));
                }
                Atom::Ranges(ranges) => {
                    k += 1;
                    let (lo, hi) = self.range_params(ranges);
                    parts.push(format!(
                        "cohort.in_ranges(substr({text}, {}, 1), {lo}, {hi})",
                        at(k)
                    ));
                }
                Atom::Run { ranges, .. } => {
                    let (lo, hi) = self.range_params(ranges);
                    parts.push(format!(
                        "cohort.all_in_ranges(substr({text}, {}), {lo}, {hi})",
                        k + 1
                    ));
                }
                Atom::Boundary { negated } => {
                    parts.push(self.boundary(text, k, *negated, &at, &length));
                }
            }
        }
        parts.join(" AND ")
    }
}

/// `contains all of` a list, split by needle: each needle must be in some element (not all
/// in one element), so each is a test of its own.
fn one_needle_each(needles: &[String]) -> impl Iterator<Item = Test> + '_ {
    needles.iter().map(|needle| Test::Contains {
        needles: vec![needle.clone()],
        all: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<Atom> {
        text.chars().map(|c| Atom::Char(vec![c])).collect()
    }

    #[test]
    fn simple_regexes_are_recognised_and_the_rest_refused() {
        let regex = |atoms, start, end| Some(vec![SimpleRegex { atoms, start, end }]);
        assert_eq!(
            simple_regex(r"^10\.0\.19045\.", false),
            regex(chars("10.0.19045."), true, false)
        );
        assert_eq!(simple_regex("^DC", true), regex(chars("DC"), true, false));
        assert_eq!(
            simple_regex("server$", true),
            regex(chars("server"), false, true)
        );
        assert_eq!(simple_regex("^$", false), regex(Vec::new(), true, true));
        assert_eq!(
            simple_regex("(ab)c", true),
            regex(chars("abc"), false, false)
        );
        // A case-insensitive letter is the set of its cases (`k` is also the Kelvin sign).
        assert_eq!(
            simple_regex("^k1", false),
            regex(
                vec![
                    Atom::Char(vec!['K', 'k', '\u{212A}']),
                    Atom::Char(vec!['1'])
                ],
                true,
                false
            )
        );
        assert_eq!(
            simple_regex(r"^1\b", true),
            regex(
                vec![Atom::Char(vec!['1']), Atom::Boundary { negated: false }],
                true,
                false
            )
        );
        // Unanchored with a set or a boundary, classes, repetition, alternation: refused.
        assert_eq!(simple_regex("été", false), None);
        assert_eq!(simple_regex(r"1\b", true), None);
        assert!(matches!(
            simple_regex(r"^DC\d+$", false).as_deref(),
            Some([SimpleRegex { atoms, start: true, end: true }]) if matches!(atoms.last(), Some(Atom::Run { min: 1, max: None, .. }))
        ));
        assert!(
            matches!(simple_regex(r"^\w", true).as_deref(), Some([SimpleRegex { atoms, .. }]) if matches!(atoms[..], [Atom::Ranges(_)]))
        );
        assert_eq!(simple_regex(r"^\d+x$", true), None, "a run not last");
        assert_eq!(
            simple_regex(r"^\d+", true),
            None,
            "a run not anchored at the end"
        );
        assert_eq!(
            simple_regex(r"^1\.(2|34)\.", true),
            Some(vec![
                SimpleRegex {
                    atoms: chars("1.2."),
                    start: true,
                    end: false
                },
                SimpleRegex {
                    atoms: chars("1.34."),
                    start: true,
                    end: false
                },
            ])
        );
        assert_eq!(simple_regex("a|b", true), None, "a class [ab], unanchored");
        assert_eq!(
            simple_regex("^(a|b)", true).map(|r| r.len()),
            Some(1),
            "a class [ab]"
        );
        assert_eq!(simple_regex("ab|^c", true).map(|r| r.len()), Some(2));
        assert_eq!(simple_regex("a+", true), None);
        assert_eq!(
            simple_regex("(ab|cd)(ef|gh)", false),
            None,
            "unanchored, with sets"
        );
        assert_eq!(simple_regex("(?m)^a", true), None);
        assert_eq!(simple_regex("a$b", true), None);
    }

    #[test]
    fn word_characters_are_the_regex_crates() {
        let ranges = word_ranges();
        assert!(ranges.len() > 100);
        let is_word = |c: char| {
            ranges
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
        };
        assert!(is_word('a') && is_word('_') && is_word('é') && is_word('٣'));
        assert!(!is_word(' ') && !is_word('-') && !is_word('\u{a0}'));
    }
}
