//! Groups evaluated inside a database: `cohort sql`, `cohort db load`, `cohort eval --db`.

use crate::{Failure, Input, Shown, output, warn};
use clap::ValueEnum;
use cohort::{GroupId, GroupSet, Timestamp};
use cohort_sql::{Dialect, Layout, Param, Query};
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `cohort sql`'s arguments.
#[derive(clap::Args)]
pub(crate) struct SqlArgs {
    /// Definition files or directories (several after one flag, or the flag repeated).
    #[arg(long, required = true, num_args = 1..)]
    groups: Vec<PathBuf>,
    /// Where each field is in the database (YAML); default: one table `machines` with a
    /// column per field, as `cohort db load` writes it.
    #[arg(long)]
    layout: Option<PathBuf>,
    /// The SQL dialect.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// A field schema to validate the criteria against.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// How to print the query: SQL with its parameters in comments, or JSON.
    #[arg(long, value_enum, default_value_t = SqlFormat::Sql)]
    format: SqlFormat,
}

impl SqlArgs {
    /// The paths named, to report those that do not exist.
    pub(crate) fn paths(&self) -> Vec<&Path> {
        self.groups
            .iter()
            .chain(&self.layout)
            .chain(&self.schema)
            .map(PathBuf::as_path)
            .collect()
    }
}

impl DbCommand {
    /// The paths named, to report those that do not exist.
    pub(crate) fn paths(&self) -> Vec<&Path> {
        let DbCommand::Load {
            machines, layout, ..
        } = self;
        std::iter::once(machines)
            .chain(layout)
            .map(PathBuf::as_path)
            .filter(|path| !crate::machines::is_stdin(path))
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DialectArg {
    /// SQLite (with cohort's functions, which `cohort eval --db` registers).
    Sqlite,
    /// PostgreSQL (with cohort's functions in the schema `cohort`, installed by `cohort db
    /// load` and `cohort eval --db`).
    Postgres,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SqlFormat {
    /// The SQL, then each parameter as a comment.
    Sql,
    /// `{"dialect", "sql", "params": [...], "groups": [...]}`.
    Json,
}

/// `cohort db` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum DbCommand {
    /// Create the default layout's table in a database and fill it with a machines file: a
    /// key column (`--id-field`), the machine's position, and one column per field holding
    /// its value (SQLite: text, real, NULL, JSON for lists; PostgreSQL: `jsonb`).
    Load {
        /// The machines file.
        #[arg(long)]
        machines: PathBuf,
        /// The machines file's format; by default from its extension.
        #[arg(long, value_enum, default_value_t = crate::MachineFormat::Auto)]
        machines_format: crate::MachineFormat,
        /// The database: `sqlite:FILE` (created if missing) or `postgres://...` (or
        /// key-value settings such as `host=/tmp dbname=cohort`, after `postgres:`).
        #[arg(long)]
        db: String,
        /// The table and key column names (a layout without `fields` or `custom_fields`).
        #[arg(long)]
        layout: Option<PathBuf>,
        /// The attribute that identifies a machine (its key; `#N` when it has none).
        #[arg(long, default_value = "id")]
        id_field: String,
    },
}

/// An open database.
enum Db {
    Sqlite(cohort_sql::sqlite::Connection),
    Postgres(Box<cohort_sql::postgres::Client>),
}

fn failure(error: impl std::fmt::Display) -> Failure {
    Failure(format!("error: {error}"))
}

impl Db {
    /// Opens `sqlite:FILE` or `postgres://...` / `postgresql://...` / `postgres:SETTINGS`.
    fn open(url: &str) -> Result<Db, Failure> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            return cohort_sql::sqlite::open(Path::new(path))
                .map(Db::Sqlite)
                .map_err(|e| Failure(format!("error: `{url}`: {e}")));
        }
        let settings = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url
        } else if let Some(settings) = url.strip_prefix("postgres:") {
            settings
        } else {
            return Err(Failure(format!(
                "error: `{url}` is not a database: give `sqlite:FILE` or `postgres://USER@HOST/DB`"
            )));
        };
        let mut client = cohort_sql::postgres::connect(settings)
            .map_err(|e| Failure(format!("error: `{url}`: {e}")))?;
        cohort_sql::postgres::install(&mut client).map_err(failure)?;
        Ok(Db::Postgres(Box::new(client)))
    }

    fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }
}

fn layout(path: Option<&Path>) -> Result<Layout, Failure> {
    match path {
        None => Ok(Layout::default()),
        Some(path) => Layout::load(path).map_err(failure),
    }
}

/// The groups, loaded as `eval` loads them (errors printed the same way), and checked.
fn checked(
    paths: &[PathBuf],
    schema: Option<&Path>,
) -> Result<(GroupSet, cohort_check::ir::CheckedSet), Failure> {
    let groups = crate::load_groups(paths, schema)?;
    let mut loader = cohort_load::Loader::new();
    for path in paths {
        loader.add_path(path);
    }
    if let Some(schema) = schema {
        loader.add_schema_path(schema);
    }
    let loaded = loader.finish();
    let checked = cohort_check::check_with_schema(&loaded.groups, loaded.schema.as_ref()).map_err(
        |errors| {
            Failure(format!(
                "error: {}",
                errors
                    .first()
                    .map_or_else(|| "the groups do not check".to_owned(), ToString::to_string)
            ))
        },
    )?;
    Ok((groups, checked))
}

/// `cohort sql`: prints the query and its parameters.
pub(crate) fn print(args: &SqlArgs, stdout: &mut dyn Write) -> Result<u8, Failure> {
    let (_, checked) = checked(&args.groups, args.schema.as_deref())?;
    let layout = layout(args.layout.as_deref())?;
    let dialect = match args.dialect {
        DialectArg::Sqlite => Dialect::Sqlite,
        DialectArg::Postgres => Dialect::Postgres,
    };
    let query = cohort_sql::compile(&checked, &layout, dialect, None).map_err(failure)?;
    match args.format {
        SqlFormat::Sql => print_sql(&query, stdout)?,
        SqlFormat::Json => {
            let params: Vec<serde_json::Value> = query.params.iter().map(param_json).collect();
            let json = serde_json::json!({
                "dialect": match dialect { Dialect::Sqlite => "sqlite", Dialect::Postgres => "postgres" },
                "sql": query.sql,
                "params": params,
                "groups": query.groups,
            });
            writeln!(stdout, "{json}")?;
        }
    }
    Ok(crate::EXIT_OK)
}

fn param_json(param: &Param) -> serde_json::Value {
    match param {
        Param::Text(text) => serde_json::json!(text),
        Param::Real(number) => serde_json::json!(number),
        Param::Int(number) => serde_json::json!(number),
        Param::Bool(flag) => serde_json::json!(flag),
        Param::Texts(texts) => serde_json::json!(texts),
        Param::Ints(numbers) => serde_json::json!(numbers),
        Param::NowMinus(millis) => serde_json::json!({ "now_minus_ms": millis }),
    }
}

fn print_sql(query: &Query, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "-- cohort: {} groups; rows (cohort_group, cohort_key, cohort_order), cohort_group being:",
        query.groups.len()
    )?;
    for (position, name) in query.groups.iter().enumerate() {
        writeln!(
            out,
            "--   {position}: {}",
            serde_json::Value::from(name.as_str())
        )?;
    }
    writeln!(out, "{};", query.sql)?;
    writeln!(
        out,
        "-- parameters ({}; `now` is the evaluation time in milliseconds since 1970-01-01T00:00:00Z):",
        query.params.len()
    )?;
    for (index, param) in query.params.iter().enumerate() {
        let mark = match query.dialect {
            Dialect::Sqlite => "?",
            Dialect::Postgres => "$",
        };
        writeln!(out, "--   {mark}{} = {param}", index + 1)?;
    }
    Ok(())
}

/// `cohort db load`.
pub(crate) fn db(command: &DbCommand, stdout: &mut dyn Write) -> Result<u8, Failure> {
    let DbCommand::Load {
        machines,
        machines_format,
        db,
        layout: layout_path,
        id_field,
    } = command;
    let layout = layout(layout_path.as_deref())?;
    let format = crate::machines::resolve(machines, *machines_format).map_err(failure)?;
    // Read twice, one machine at a time: first the field names (the table's columns) and
    // the keys (which must be unique), then the rows. Standard input is held to be read
    // twice; a file is not (holding every machine cost 5 GiB for 1M).
    let held = if crate::machines::is_stdin(machines) {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut cohort_fleet::open(cohort_fleet::Source::Stdin).map_err(failure)?,
            &mut bytes,
        )
        .map_err(|e| failure(format!("cannot read standard input: {e}")))?;
        Some(bytes)
    } else {
        None
    };
    let each = |each: &mut dyn FnMut(cohort_fleet::MachineRecord)| {
        let source = match &held {
            Some(bytes) => cohort_fleet::Source::Reader {
                name: "standard input".into(),
                reader: Box::new(&bytes[..]),
            },
            None => cohort_fleet::Source::Path(machines),
        };
        cohort_fleet::for_each_record(source, format, each).map_err(failure)
    };
    let id_field = Some(id_field.as_str());
    let mut names = Vec::new();
    let mut named = std::collections::HashSet::new();
    let mut keys = std::collections::HashSet::new();
    let mut repeated = None;
    let mut count = 0;
    each(&mut |machine| {
        for name in machine.keys() {
            if !named.contains(name) {
                named.insert(name.clone());
                names.push(name.clone());
            }
        }
        let key = cohort_sql::key_of(&machine, count, id_field);
        if !keys.insert(key.clone()) && repeated.is_none() {
            repeated = Some(key);
        }
        count += 1;
    })?;
    drop(keys);
    let fields = cohort_sql::load_fields(&layout, names, repeated).map_err(failure)?;
    // Every machine of the second reading pushed, until the first error.
    let fill = |push: &mut dyn FnMut(
        &str,
        &cohort_fleet::MachineRecord,
    ) -> Result<(), cohort_sql::SqlError>| {
        let mut problem = None;
        let mut position = 0;
        each(&mut |machine| {
            if problem.is_none() {
                let key = cohort_sql::key_of(&machine, position, id_field);
                problem = push(&key, &machine).err();
            }
            position += 1;
        })?;
        match problem {
            Some(error) => Err(failure(error)),
            None => Ok(position),
        }
    };
    let position = match Db::open(db)? {
        Db::Sqlite(connection) => {
            let mut loader = cohort_sql::sqlite::Loader::begin(&connection, &layout, &fields)
                .map_err(failure)?;
            let pushed = fill(&mut |key, machine| loader.push(key, machine))?;
            loader.finish().map_err(failure)?;
            pushed
        }
        Db::Postgres(mut client) => {
            let mut loader = cohort_sql::postgres::Loader::begin(&mut client, &layout, &fields)
                .map_err(failure)?;
            let pushed = fill(&mut |key, machine| loader.push(key, machine))?;
            loader.finish().map_err(failure)?;
            pushed
        }
    };
    if position != count {
        return Err(failure(format!(
            "`{}` changed while it was read: {count} machines, then {position}",
            machines.display()
        )));
    }
    writeln!(
        stdout,
        "loaded {} into the table `{}` of `{db}`",
        output::counted(count, "machine"),
        layout.table
    )?;
    Ok(crate::EXIT_OK)
}

/// `cohort eval --db`: the same output as `eval` over a machines file.
pub(crate) fn eval(
    input: &Input,
    shown: &Shown<'_>,
    write_membership: Option<&str>,
    timings: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let Some(url) = &input.db else {
        return Err(Failure("error: no database given".to_owned()));
    };
    if !shown.columns.is_empty() {
        return Err(Failure(
            "error: `--columns` prints attributes read from a machines file; with `--db`, eval prints members only".to_owned(),
        ));
    }
    let (groups, checked) = checked(&input.groups, input.schema.as_deref())?;
    crate::warn_if_no_groups(&groups, &input.groups, stderr);
    let chosen: Vec<GroupId> = if shown.chosen.is_empty() {
        groups.plan().group_ids().collect()
    } else {
        let mut chosen = Vec::new();
        for name in shown.chosen {
            let id = crate::group_named(&groups, name)?;
            if !chosen.contains(&id) {
                chosen.push(id);
            }
        }
        chosen
    };
    let layout = layout(input.layout.as_deref())?;
    let now = input.now.unwrap_or_else(Timestamp::now).unix_millis();
    let mut db = Db::open(url)?;
    let columns = match &mut db {
        Db::Sqlite(connection) => cohort_sql::sqlite::columns(connection, &layout.table),
        Db::Postgres(client) => cohort_sql::postgres::columns(client, &layout.table),
    }
    .map_err(failure)?;
    if columns.is_empty() {
        return Err(Failure(format!(
            "error: `{url}` has no table `{}` (`cohort db load` writes one; a layout file names another)",
            layout.table
        )));
    }
    if layout.is_loadable() {
        // Every field is a column: warn about the tested fields no column holds.
        warn::missing_tested_fields(
            groups.plan(),
            columns
                .iter()
                .map(String::as_str)
                .filter(|c| *c != layout.key && Some(*c) != layout.order.as_deref()),
            stderr,
        );
    }
    let query =
        cohort_sql::compile(&checked, &layout, db.dialect(), Some(&columns)).map_err(failure)?;
    let started = std::time::Instant::now();
    let (members, machines) = match &mut db {
        Db::Sqlite(connection) => (
            cohort_sql::sqlite::evaluate(connection, &query, now),
            cohort_sql::sqlite::count(connection, &layout),
        ),
        Db::Postgres(client) => {
            let members = cohort_sql::postgres::evaluate(client, &query, now);
            (members, cohort_sql::postgres::count(client, &layout))
        }
    };
    let (members, machines) = (members.map_err(failure)?, machines.map_err(failure)?);
    let evaluated = started.elapsed();
    let of = |id: GroupId| -> &[String] {
        query
            .groups
            .iter()
            .position(|name| name == groups.name(id))
            .and_then(|position| members.get(position))
            .map_or(&[][..], Vec::as_slice)
    };
    warn::empty_groups(
        chosen
            .iter()
            .filter(|&&id| of(id).is_empty())
            .map(|&id| groups.name(id)),
        machines,
        stderr,
    );
    let shown_members = shown.members_per_group();
    let result: Vec<output::GroupResult> = chosen
        .iter()
        .map(|&id| output::GroupResult {
            name: groups.name(id).to_owned(),
            count: of(id).len(),
            members: output::MemberIds::new(move || {
                Box::new(
                    of(id)
                        .iter()
                        .take(shown_members)
                        .map(|key| Cow::Borrowed(key.as_str())),
                )
            }),
            columns: Vec::new(),
        })
        .collect();
    shown.print(stdout, machines, &[], &result, 0)?;
    if timings {
        writeln!(
            stderr,
            "evaluated {} in the database in {:.3} s (one query, its {} read out; {})",
            output::counted(groups.len(), "group"),
            evaluated.as_secs_f64(),
            output::counted(members.iter().map(Vec::len).sum(), "membership row"),
            output::counted(machines, "machine")
        )?;
    }
    if let Some(table) = write_membership {
        let written = match &mut db {
            Db::Sqlite(connection) => {
                cohort_sql::sqlite::write_membership(connection, table, &query.groups, &members)
            }
            Db::Postgres(client) => {
                cohort_sql::postgres::write_membership(client, table, &query.groups, &members)
            }
        }
        .map_err(failure)?;
        writeln!(
            stderr,
            "wrote {} to the table `{table}` (in one transaction)",
            output::counted(written, "membership row")
        )?;
    }
    Ok(crate::EXIT_OK)
}
