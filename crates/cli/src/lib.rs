//! The `cohort` command line: evaluate, check and explain RMM dynamic groups.
//!
//! All printing, exit codes and input/output formats live here; nothing in this crate is
//! needed to evaluate a group. [`run`] takes the arguments and the two output streams, so
//! tests run the whole CLI in-process.
//!
//! Exit codes: 0 success, 1 invalid definitions or unreadable machines, 2 bad usage, 3
//! machines records left out (`--on-error skip`).

mod diff;
mod fmt;
#[doc(hidden)]
pub mod fuzzing;
mod group_tests;
mod infer;
mod input;
mod lint;
mod machines;
mod output;
mod progress;
mod sql;
mod terminal;
mod warn;
mod write;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use cohort::{GroupId, GroupSet, Timestamp};
use machines::{MachineFormat, Machines};
use std::borrow::Cow;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for invalid definitions or an unreadable machines file.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a run that left bad machine records out (`--on-error skip`).
pub const EXIT_SKIPPED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "cohort",
    version,
    about = "Evaluate, check and explain RMM dynamic groups",
    long_about = "Evaluate, check and explain RMM dynamic groups.\n\nGroups are YAML files (one group, or several under `groups:`); a directory is read recursively. Machines are a JSON array, NDJSON, CSV (header row = field names) or YAML."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour the labels of messages (`error:`, `warning:`...): `auto` on a terminal unless
    /// the `NO_COLOR` environment variable is set (and not empty).
    #[arg(long, global = true, value_enum, default_value_t = ColourChoice::Auto)]
    color: ColourChoice,
}

/// When to colour what is printed for people.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColourChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always (not for JSON, CSV or YAML output).
    Always,
    /// Never.
    Never,
}

/// Which of the two output streams are terminals (colour is only ever added to those with
/// `--color auto`, the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Terminals {
    /// Standard output is a terminal.
    pub stdout: bool,
    /// Standard error is a terminal.
    pub stderr: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate groups over machines and print the members of every group.
    ///
    /// The table shows each group's count and first members; `--group NAME` prints every
    /// member of the groups named, and `--columns` adds attributes of each member. Warnings
    /// on stderr name criterion fields that no machine has, groups without members, and
    /// machines without an id or sharing one.
    Eval {
        #[command(flatten)]
        input: Input,
        /// With `--db`: replace the rows of this table (created if missing: `cohort_group`,
        /// `cohort_key`) with every membership found, in one transaction.
        #[arg(long, value_name = "TABLE", requires = "db")]
        write_membership: Option<String>,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Print every member of this group, and only the groups named (repeat for several).
        #[arg(long = "group", value_name = "NAME")]
        chosen: Vec<String>,
        /// Attributes to print beside each member, comma-separated (`Hostname,OS`): every
        /// member is printed (of the `--group`s, or of every group). The machines are then
        /// read whole (every attribute, on one thread), and a bad record stops the run.
        #[arg(long, value_name = "FIELD,...", value_delimiter = ',')]
        columns: Vec<String>,
        /// Print on stderr how long reading and evaluating took.
        #[arg(long)]
        timings: bool,
    },
    /// List the groups with their descriptions, and their member counts with `--machines`.
    List {
        /// Definition files or directories (several after one flag, or the flag repeated).
        #[arg(long, required = true, num_args = 1..)]
        groups: Vec<PathBuf>,
        /// A machines file, to count each group's members.
        #[arg(long)]
        machines: Option<PathBuf>,
        /// The machines file's format; by default from its extension.
        #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
        machines_format: MachineFormat,
        /// The attribute that identifies a machine.
        #[arg(long, default_value = "id")]
        id_field: String,
        /// The evaluation time for relative dates (RFC 3339); default: now.
        #[arg(long, value_parser = parse_now)]
        now: Option<Timestamp>,
        /// A field schema to validate the criteria against.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// How to print the list.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Validate definitions; print every error as `file:line:col: message`.
    ///
    /// With `--schema`, every criterion's field, operator and values are checked against the
    /// declared fields. With `--machines`, criterion fields that no machine has are warned
    /// about, with the nearest field names the machines have.
    Check {
        /// Definition files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A field schema to validate the criteria against.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// A machines file: warn about criterion fields that no machine has.
        #[arg(long)]
        machines: Option<PathBuf>,
        /// The machines file's format; by default from its extension.
        #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
        machines_format: MachineFormat,
    },
    /// Work with field schemas.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Rewrite definition files in canonical form (a safe write: a temporary file renamed
    /// over the original, keeping its owner and mode; a symbolic link is written through and
    /// stays a link; a file that changed since it was read is left alone).
    Fmt {
        /// Definition files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Only report the files that are not in canonical form; exit 1 if any.
        #[arg(long)]
        check: bool,
        /// Rewrite files even when comments after the leading comment block would be lost,
        /// or when the file has other hard links (they keep the old text).
        #[arg(long)]
        force: bool,
    },
    /// Convert group documents written in Markdown (front matter, "Group Criteria" table)
    /// into YAML definitions: printed as one YAML document (several groups under `groups:`),
    /// or written to `--out DIR`, one file per document, named after it (`a.md` becomes
    /// `DIR/a.yaml`).
    Import {
        /// Markdown documents.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write each definition into this directory, as `<document>.yaml`, instead of
        /// printing them.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite existing files in `--out`.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script, e.g. `cohort completions bash >
    /// /etc/bash_completion.d/cohort` or `cohort completions zsh > ~/.zfunc/_cohort`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `cohort man > /usr/local/share/man/man1/cohort.1`.
    Man,
    /// Plan before apply: who joins and leaves each group added, removed or changed
    /// between two sets of definitions (files, directories or `git:REV:PATH`).
    Diff(diff::DiffArgs),
    /// Find groups that check but are most likely wrong: criteria that exclude each other,
    /// redundant blocks, console traps (`contains 3` also matches `13`); with `--machines`,
    /// groups with no members. Exit 0: no finding at or above `--deny`; 1: some; 2: bad usage
    /// or input that cannot be read.
    Lint(lint::LintArgs),
    /// Explain why one machine is or is not in each group.
    Explain {
        #[command(flatten)]
        input: Input,
        /// The machine's id (the value of `--id-field`).
        #[arg(long)]
        machine: String,
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
    },
    /// Print the SQL that evaluates the groups inside a database, and its parameters.
    ///
    /// One query returns every member of every group; each criterion means exactly what it
    /// means in memory, and what a dialect cannot express exactly is an error naming the
    /// criterion. `cohort eval --db` runs it.
    Sql(sql::SqlArgs),
    /// Work with databases of machines (`cohort db load`).
    Db {
        #[command(subcommand)]
        command: sql::DbCommand,
    },
    /// Run group unit tests: sample machines and the groups each must and must not be in.
    ///
    /// Prints `test FILE::NAME ... ok` or `FAILED` for each test, then every failure with the
    /// explanation of the machine's membership, then `test result: N passed, M failed`.
    /// Exit code 0 when every test passes, 1 when one fails, 2 when the groups or the tests
    /// cannot be loaded.
    Test(group_tests::Args),
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Propose a schema from a machines file: each attribute's type from the values seen
    /// (flag, number, list, date, version; text with few repeated values as a dropdown).
    Infer {
        /// The machines file.
        machines: PathBuf,
        /// The machines file's format; by default from its extension.
        #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
        machines_format: MachineFormat,
        /// Text fields with at most this many distinct values become dropdowns.
        #[arg(long, default_value_t = 20)]
        max_options: usize,
        /// Write the schema to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite `--out` if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Validate a schema file.
    Check {
        /// The schema file.
        schema: PathBuf,
    },
}

#[derive(clap::Args)]
struct Input {
    /// Definition files or directories (several after one flag, or the flag repeated).
    #[arg(long, required = true, num_args = 1..)]
    groups: Vec<PathBuf>,
    /// The machines file.
    #[arg(long, required_unless_present = "db")]
    machines: Option<PathBuf>,
    /// Evaluate inside this database instead of reading a machines file (`eval` only):
    /// `sqlite:FILE` or `postgres://USER@HOST/DB` (or `postgres:` and key-value settings).
    #[arg(long, conflicts_with = "machines")]
    db: Option<String>,
    /// With `--db`: where each field is in the database (YAML); default: the table
    /// `machines` that `cohort db load` writes.
    #[arg(long, requires = "db")]
    layout: Option<PathBuf>,
    /// The machines file's format; by default from its extension.
    #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
    machines_format: MachineFormat,
    /// The attribute that identifies a machine.
    #[arg(long, default_value = "id")]
    id_field: String,
    /// What to do with a machine record that cannot be read: `fail` reports every bad
    /// record and exits 1; `skip` leaves them out, says how many, and exits 3.
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    on_error: OnError,
    /// The evaluation time for relative dates (RFC 3339); default: now.
    #[arg(long, value_parser = parse_now)]
    now: Option<Timestamp>,
    /// A field schema to validate the criteria against.
    #[arg(long)]
    schema: Option<PathBuf>,
}

impl Input {
    /// The machines file (`--db` is for `eval` only).
    fn machines_path(&self) -> Result<&Path, Failure> {
        self.machines.as_deref().ok_or_else(|| {
            Failure("error: this command reads a machines file: give `--machines` (`--db` is for `cohort eval`)".to_owned())
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnError {
    /// Report every bad record, then exit 1.
    Fail,
    /// Leave bad records out, say how many, exit 3.
    Skip,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for people: group, count, first members (with `--group` or
    /// `--columns`: every member, one per line, with its columns).
    Table,
    /// `{"machines": N, "groups": [{"name", "count", "members"}]}`; with `--columns`, each
    /// member is `{"machine": ID, "columns": {FIELD: VALUE}}`.
    Json,
    /// One `group,machine` row per membership, then one column per `--columns` field.
    Csv,
}

fn parse_now(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text)
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 time such as 2026-11-25T12:00:00Z"))
}

/// Runs the CLI with `args` (the first is the program name); returns the exit code. Neither
/// stream is taken for a terminal (see [`run_on`]).
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    run_on(args, stdout, stderr, Terminals::default())
}

/// [`run`], told which streams are terminals, to colour them with `--color auto`.
pub fn run_on(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    terminals: Terminals,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
            let rendered = error.render().to_string();
            let stream: &mut dyn Write = if error.use_stderr() { stderr } else { stdout };
            let _ = stream.write_all(rendered.as_bytes());
            return code;
        }
    };
    // Everything for people goes through `Printable` (endpoint data may hold terminal
    // escapes); data for tools (JSON, CSV, YAML on standard output) is written as it is.
    let colour = |terminal: bool| match cli.color {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let (colour_stdout, colour_stderr) = (colour(terminals.stdout), colour(terminals.stderr));
    let mut coloured_stderr;
    let stderr: &mut dyn Write = if colour_stderr {
        coloured_stderr = terminal::Colour::new(stderr);
        &mut coloured_stderr
    } else {
        stderr
    };
    let mut stderr = terminal::Printable::new(stderr);
    let stderr: &mut dyn Write = &mut stderr;
    let for_tools = match &cli.command {
        Command::Eval { format, .. } | Command::List { format, .. } => *format != Format::Table,
        Command::Import { out, .. } => out.is_none(),
        Command::Completions { .. } | Command::Man | Command::Sql(_) => true,
        Command::Diff(args) => args.format == diff::DiffFormat::Json,
        Command::Lint(args) => args.for_tools(),
        Command::Schema {
            command: SchemaCommand::Infer { out, .. },
        } => out.is_none(),
        _ => false,
    };
    if let Some(failure) = missing_paths(&cli.command) {
        let _ = writeln!(stderr, "{failure}");
        return EXIT_INVALID;
    }
    let mut coloured_stdout;
    let mut printable;
    let stdout: &mut dyn Write = if for_tools {
        stdout
    } else {
        let stdout: &mut dyn Write = if colour_stdout {
            coloured_stdout = terminal::Colour::new(stdout);
            &mut coloured_stdout
        } else {
            stdout
        };
        printable = terminal::Printable::new(stdout);
        &mut printable
    };
    let result = match cli.command {
        Command::Eval {
            input,
            write_membership,
            format,
            chosen,
            columns,
            timings,
        } if input.db.is_some() => sql::eval(
            &input,
            &Shown {
                format,
                chosen: &chosen,
                columns: &columns,
            },
            write_membership.as_deref(),
            timings,
            stdout,
            stderr,
        ),
        Command::Eval {
            input,
            format,
            chosen,
            columns,
            timings,
            ..
        } => eval(
            &input,
            &Shown {
                format,
                chosen: &chosen,
                columns: &columns,
            },
            timings,
            terminals.stderr,
            stdout,
            stderr,
        ),
        Command::Sql(args) => sql::print(&args, stdout),
        Command::Db { command } => sql::db(&command, stdout),
        Command::List {
            groups,
            machines,
            machines_format,
            id_field,
            now,
            schema,
            format,
        } => list(
            &ListArgs {
                groups: &groups,
                machines: machines.as_deref(),
                machines_format,
                id_field: &id_field,
                now,
                schema: schema.as_deref(),
                format,
            },
            stdout,
            stderr,
        ),
        Command::Check {
            paths,
            schema,
            machines,
            machines_format,
        } => check(
            &paths,
            schema.as_deref(),
            machines.as_deref().map(|path| (path, machines_format)),
            stdout,
        ),
        Command::Schema { command } => schema_command(command, stdout),
        Command::Import { files, out, force } => fmt::import(&files, out.as_deref(), force, stdout),
        Command::Fmt {
            paths,
            check,
            force,
        } => fmt::run(&paths, check, force, stdout),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "cohort", stdout);
            Ok(EXIT_OK)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(stdout)
            .map(|()| EXIT_OK)
            .map_err(Failure::from),
        Command::Diff(args) => diff::run(&args, stdout, stderr),
        Command::Explain {
            input,
            machine,
            group,
        } => explain(&input, &machine, group.as_deref(), stdout, stderr),
        Command::Test(args) => group_tests::run(&args, stdout, stderr),
        Command::Lint(args) => Ok(lint::run(&args, stdout, stderr)),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            let _ = writeln!(stderr, "{failure}");
            EXIT_INVALID
        }
    }
}

/// Every path named on the command line that does not exist, as one error per line
/// (`-`, standard input, is not a path).
fn missing_paths(command: &Command) -> Option<Failure> {
    let paths: Vec<&Path> = match command {
        Command::Eval { input, .. } | Command::Explain { input, .. } => input
            .groups
            .iter()
            .chain(&input.machines)
            .chain(&input.schema)
            .chain(&input.layout)
            .map(PathBuf::as_path)
            .collect(),
        Command::List {
            groups,
            machines,
            schema,
            ..
        } => groups
            .iter()
            .chain(machines)
            .chain(schema)
            .map(PathBuf::as_path)
            .collect(),
        Command::Check {
            paths,
            schema,
            machines,
            ..
        } => paths
            .iter()
            .chain(schema)
            .chain(machines)
            .map(PathBuf::as_path)
            .collect(),
        Command::Fmt { paths, .. } => paths.iter().map(PathBuf::as_path).collect(),
        Command::Sql(args) => args.paths(),
        Command::Db { command } => command.paths(),
        // `diff` reports missing paths itself (exit code 2 with `--exit-code`).
        Command::Diff(_) => Vec::new(),
        Command::Completions { .. } | Command::Man => Vec::new(),
        // Reported by loading, with `cohort test`'s exit code for load errors (2).
        Command::Test(_) => Vec::new(),
        // `cohort lint` reports missing paths itself, with its own exit code.
        Command::Lint(_) => Vec::new(),
        Command::Import { files, .. } => files.iter().map(PathBuf::as_path).collect(),
        Command::Schema {
            command: SchemaCommand::Infer { machines, .. },
        } => vec![machines.as_path()],
        Command::Schema {
            command: SchemaCommand::Check { schema },
        } => vec![schema.as_path()],
    };
    let missing: Vec<String> = paths
        .into_iter()
        .filter(|path| {
            !machines::is_stdin(path)
                && std::fs::metadata(path)
                    .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound)
        })
        .map(|path| format!("error: `{}`: no such file or directory", path.display()))
        .collect();
    (!missing.is_empty()).then(|| Failure(missing.join("\n")))
}

/// Why a command could not run: already rendered for people.
struct Failure(String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure(format!("error: cannot write output: {error}"))
    }
}

/// The summary line of a failed load: `error: N problem(s) found{where_}`.
fn problems_found(count: usize, where_: &str) -> String {
    format!("error: {} found{where_}", output::counted(count, "problem"))
}

fn load_schema(path: Option<&Path>) -> Result<Option<cohort::Schema>, Failure> {
    let Some(path) = path else {
        return Ok(None);
    };
    cohort::Schema::load(path).map(Some).map_err(|error| {
        Failure(format!(
            "{error}\n{}",
            problems_found(error.diagnostics().len(), " in the schema")
        ))
    })
}

/// The groups of `paths` as one set, validated against `schema` when there is one.
pub(crate) fn load_group_set(
    paths: &[PathBuf],
    schema: Option<&cohort::Schema>,
) -> Result<GroupSet, cohort::Error> {
    let mut builder = GroupSet::builder();
    builder.paths(paths);
    if let Some(schema) = schema {
        builder.schema(schema);
    }
    builder.build()
}

fn load_groups(paths: &[PathBuf], schema: Option<&Path>) -> Result<GroupSet, Failure> {
    let schema = load_schema(schema)?;
    load_group_set(paths, schema.as_ref()).map_err(|error| {
        Failure(format!(
            "{error}\n{}",
            problems_found(error.diagnostics().len(), "")
        ))
    })
}

/// Warns when `paths` hold no group at all; returns whether they hold none.
fn warn_if_no_groups(groups: &GroupSet, paths: &[PathBuf], out: &mut dyn Write) -> bool {
    if !groups.is_empty() {
        return false;
    }
    let named: Vec<String> = paths
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect();
    let _ = writeln!(
        out,
        "warning: no groups in {} (a directory is read for `*.yaml` and `*.yml` files; a file holds one group, or several under `groups:`)",
        named.join(", ")
    );
    true
}

/// The group called `name`, or an error with the nearest name.
fn group_named(groups: &GroupSet, name: &str) -> Result<GroupId, Failure> {
    groups.id(name).ok_or_else(|| {
        let hint = cohort::engine::syntax::nearest(name, groups.names())
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        Failure(format!("error: no group named `{name}`{hint}"))
    })
}

fn fleet_options(
    format: cohort_fleet::Format,
    id_field: &str,
    on_error: OnError,
) -> cohort_fleet::Options {
    let mut options = cohort_fleet::Options::new(format);
    options.id_field = id_field.to_owned();
    options.on_error = match on_error {
        OnError::Fail => cohort_fleet::OnError::Fail,
        OnError::Skip => cohort_fleet::OnError::Skip,
    };
    options
}

/// Reads the columns of the fields `groups` test (and the ids) from `path`.
fn read_fleet<'p>(
    groups: &'p GroupSet,
    path: &Path,
    format: MachineFormat,
    id_field: &str,
    on_error: OnError,
    progress: Option<cohort_fleet::Progress>,
) -> Result<cohort_fleet::Fleet<'p>, Failure> {
    let format =
        machines::resolve(path, format).map_err(|error| Failure(format!("error: {error}")))?;
    let mut options = fleet_options(format, id_field, on_error);
    options.progress = progress;
    cohort_fleet::read(groups.plan(), machines::source(path), &options)
        .map_err(|error| Failure(format!("error: {error}")))
}

/// The machines as `eval` read them: columns of the tested fields, or (for `--columns`)
/// every attribute of every machine.
enum Read<'p> {
    Columns(cohort_fleet::Fleet<'p>),
    Records(Machines),
}

impl Read<'_> {
    fn len(&self) -> usize {
        match self {
            Read::Columns(fleet) => fleet.machine_count(),
            Read::Records(machines) => machines.len(),
        }
    }

    fn field_names(&self) -> Vec<&str> {
        match self {
            Read::Columns(fleet) => fleet.field_names().iter().map(String::as_str).collect(),
            Read::Records(machines) => machines.field_names().into_iter().collect(),
        }
    }

    /// The machine's own id; `None` when it has none.
    fn own_id(&self, position: usize, id_field: &str) -> Option<Cow<'_, str>> {
        match self {
            Read::Columns(fleet) => fleet.ids().own(position).map(Cow::Borrowed),
            Read::Records(machines) => machines.own_id(position, id_field),
        }
    }

    /// The id shown: its own, or `#N` (its 1-based position).
    fn shown_id(&self, position: usize, id_field: &str) -> Cow<'_, str> {
        self.own_id(position, id_field)
            .unwrap_or_else(|| Cow::Owned(format!("#{}", position + 1)))
    }

    /// The value of `field` (only when every attribute was read).
    fn value(&self, position: usize, field: &str) -> Option<&serde_json::Value> {
        match self {
            Read::Columns(_) => None,
            Read::Records(machines) => machines.get(position)?.get(field),
        }
    }
}

/// What `eval` prints.
struct Shown<'a> {
    format: Format,
    /// `--group`: the groups whose every member is printed.
    chosen: &'a [String],
    /// `--columns`.
    columns: &'a [String],
}

impl Shown<'_> {
    /// Whether groups are listed member by member (`--group`, `--columns`) rather than
    /// summed up.
    fn listing(&self) -> bool {
        !self.chosen.is_empty() || !self.columns.is_empty()
    }

    /// How many members of a group are printed: the summary table shows a few (only those
    /// are looked up), everything else all of them.
    fn members_per_group(&self) -> usize {
        if matches!(self.format, Format::Table) && !self.listing() {
            output::TABLE_MEMBERS
        } else {
            usize::MAX
        }
    }

    /// Prints `result` (of `machines` machines, `skipped` left out) in the chosen format.
    fn print(
        &self,
        stdout: &mut dyn Write,
        machines: usize,
        columns: &[&str],
        result: &[output::GroupResult<'_>],
        skipped: usize,
    ) -> std::io::Result<()> {
        match (self.format, self.listing()) {
            (Format::Table, false) => output::table(stdout, machines, result, skipped),
            (Format::Table, true) => {
                output::members_table(stdout, machines, columns, result, skipped)
            }
            (Format::Json, _) => output::json(stdout, machines, result, columns),
            (Format::Csv, _) => output::csv(stdout, result, columns),
        }
    }
}

fn eval(
    input: &Input,
    shown: &Shown<'_>,
    timings: bool,
    show_progress: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let machines_path = input.machines_path()?;
    let groups = load_groups(&input.groups, input.schema.as_deref())?;
    warn_if_no_groups(&groups, &input.groups, stderr);
    let chosen: Vec<GroupId> = if shown.chosen.is_empty() {
        groups.plan().group_ids().collect()
    } else {
        let mut chosen = Vec::new();
        for name in shown.chosen {
            let id = group_named(&groups, name)?;
            if !chosen.contains(&id) {
                chosen.push(id);
            }
        }
        chosen
    };
    let now = input.now.unwrap_or_else(Timestamp::now);
    let started = std::time::Instant::now();
    let read = if shown.columns.is_empty() {
        // On a terminal, a line says how far reading has got (cleared before anything else
        // is written).
        let line = show_progress.then(progress::Line::new);
        let read = read_fleet(
            &groups,
            machines_path,
            input.machines_format,
            &input.id_field,
            input.on_error,
            line.as_ref()
                .map(|line| line.progress(&machines_path.display().to_string())),
        );
        if let Some(line) = &line {
            line.clear();
        }
        Read::Columns(read?)
    } else {
        Read::Records(
            Machines::read(machines_path, input.machines_format)
                .map_err(|error| Failure(format!("error: {error}")))?,
        )
    };
    let names = read.field_names();
    let (mut known, _) = warn::missing_tested_fields(groups.plan(), names.iter().copied(), stderr);
    // Each column once, in the order first named (`--columns OS,OS` would repeat a JSON key).
    let mut columns: Vec<&str> = Vec::with_capacity(shown.columns.len());
    for column in shown.columns {
        if !columns.contains(&column.as_str()) {
            columns.push(column);
        }
    }
    warn::missing_fields(&columns, &mut known, "`--columns` names", stderr);
    warn::ids(
        read.len(),
        |position| read.own_id(position, &input.id_field),
        &input.id_field,
        stderr,
    );
    let skipped = match &read {
        Read::Columns(fleet) => {
            report_skipped(fleet, stderr);
            fleet.skipped_count()
        }
        Read::Records(_) => 0,
    };
    let read_time = started.elapsed();
    let evaluation_started = std::time::Instant::now();
    let evaluated_members = match &read {
        Read::Columns(fleet) => Evaluated::Bits(fleet.columns().evaluate(now)),
        Read::Records(machines) => {
            let membership = groups.evaluate_fleet(machines.records(), now);
            Evaluated::Lists(
                groups
                    .plan()
                    .group_ids()
                    .map(|id| membership.members(id).to_vec())
                    .collect(),
            )
        }
    };
    let evaluated = evaluation_started.elapsed();
    warn::empty_groups(
        chosen
            .iter()
            .filter(|&&id| evaluated_members.count(id) == 0)
            .map(|&id| groups.name(id)),
        read.len(),
        stderr,
    );
    let shown_members = shown.members_per_group();
    let (read, evaluated_members, id_field) = (&read, &evaluated_members, &input.id_field);
    let result: Vec<output::GroupResult> = chosen
        .iter()
        .map(|&id| output::GroupResult {
            name: groups.name(id).to_owned(),
            count: evaluated_members.count(id),
            members: output::MemberIds::new(move || {
                Box::new(
                    evaluated_members
                        .positions(id)
                        .take(shown_members)
                        .map(move |p| read.shown_id(p, id_field)),
                )
            }),
            columns: if columns.is_empty() {
                Vec::new()
            } else {
                evaluated_members
                    .positions(id)
                    .map(|p| columns.iter().map(|c| read.value(p, c)).collect())
                    .collect()
            },
        })
        .collect();
    shown.print(stdout, read.len(), &columns, &result, skipped)?;
    if timings {
        let memory = match &read {
            Read::Columns(fleet) => format!(
                " ({} KiB of columns, {} KiB of ids)",
                fleet.columns().heap_bytes() / 1024,
                fleet.ids().heap_bytes() / 1024
            ),
            Read::Records(_) => " (every attribute)".to_owned(),
        };
        writeln!(
            stderr,
            "read and encoded {} in {:.3} s{memory}; evaluated {} in {:.3} s{}",
            output::counted(read.len(), "machine"),
            read_time.as_secs_f64(),
            output::counted(groups.len(), "group"),
            evaluated.as_secs_f64(),
            peak_memory().map_or_else(String::new, |kib| format!(
                "; peak memory {} MiB",
                kib / 1024
            ))
        )?;
    }
    Ok(if skipped > 0 { EXIT_SKIPPED } else { EXIT_OK })
}

/// The members of every group, as the evaluation that found them holds them.
enum Evaluated {
    Bits(cohort::engine::GroupBitsets),
    Lists(Vec<Vec<usize>>),
}

impl Evaluated {
    /// How many machines group `id` has.
    fn count(&self, id: GroupId) -> usize {
        match self {
            Evaluated::Bits(bits) => bits.members(id).count(),
            Evaluated::Lists(lists) => lists.get(id.index()).map_or(0, Vec::len),
        }
    }

    /// The positions of group `id`'s machines, in input order.
    fn positions(&self, id: GroupId) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Evaluated::Bits(bits) => Box::new(bits.members(id).iter()),
            Evaluated::Lists(lists) => Box::new(
                lists
                    .get(id.index())
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied(),
            ),
        }
    }
}

/// `cohort list`'s arguments.
struct ListArgs<'a> {
    groups: &'a [PathBuf],
    machines: Option<&'a Path>,
    machines_format: MachineFormat,
    id_field: &'a str,
    now: Option<Timestamp>,
    schema: Option<&'a Path>,
    format: Format,
}

fn list(
    args: &ListArgs<'_>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let groups = load_groups(args.groups, args.schema)?;
    warn_if_no_groups(&groups, args.groups, stderr);
    let counted = match args.machines {
        None => None,
        Some(path) => {
            let read = read_fleet(
                &groups,
                path,
                args.machines_format,
                args.id_field,
                OnError::Fail,
                None,
            )?;
            warn::missing_tested_fields(
                groups.plan(),
                read.field_names().iter().map(String::as_str),
                stderr,
            );
            warn::ids(
                read.machine_count(),
                |position| read.ids().own(position).map(Cow::Borrowed),
                args.id_field,
                stderr,
            );
            let bits = read
                .columns()
                .evaluate(args.now.unwrap_or_else(Timestamp::now));
            let counts: Vec<usize> = groups
                .plan()
                .group_ids()
                .map(|id| bits.members(id).count())
                .collect();
            warn::empty_groups(
                groups
                    .plan()
                    .group_ids()
                    .filter(|id| counts.get(id.index()) == Some(&0))
                    .map(|id| groups.name(id)),
                read.machine_count(),
                stderr,
            );
            Some((read.machine_count(), counts))
        }
    };
    let rows: Vec<output::Listed<'_>> = groups
        .plan()
        .group_ids()
        .map(|id| output::Listed {
            name: groups.name(id),
            description: groups.plan().group_description(id),
            count: counted
                .as_ref()
                .and_then(|(_, counts)| counts.get(id.index()).copied()),
        })
        .collect();
    let machines = counted.as_ref().map(|(machines, _)| *machines);
    match args.format {
        Format::Table => output::list_table(stdout, machines, &rows)?,
        Format::Json => output::list_json(stdout, machines, &rows)?,
        Format::Csv => output::list_csv(stdout, &rows)?,
    }
    Ok(EXIT_OK)
}

/// With `--on-error skip`: how many bad records were left out, and the first of them.
fn report_skipped(read: &cohort_fleet::Fleet<'_>, stderr: &mut dyn Write) {
    let count = read.skipped_count();
    if count == 0 {
        return;
    }
    let _ = writeln!(
        stderr,
        "warning: skipped {count} bad record{} of the machines file:",
        if count == 1 { "" } else { "s" }
    );
    for error in read.skipped().iter().take(cohort_fleet::SHOWN) {
        let _ = writeln!(stderr, "  {error}");
    }
    let shown = read.skipped().len().min(cohort_fleet::SHOWN);
    if count > shown {
        let _ = writeln!(stderr, "  ... and {} more", count - shown);
    }
}

/// The process's peak resident memory in KiB (Linux: `VmHWM` in `/proc/self/status`).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn check(
    paths: &[PathBuf],
    schema: Option<&Path>,
    machines: Option<(&Path, MachineFormat)>,
    stdout: &mut dyn Write,
) -> Result<u8, Failure> {
    let schema = match schema.map(cohort::Schema::load).transpose() {
        Ok(schema) => schema,
        Err(error) => return report_problems(stdout, &error, " in the schema"),
    };
    let groups = match load_group_set(paths, schema.as_ref()) {
        Ok(groups) => groups,
        Err(error) => return report_problems(stdout, &error, ""),
    };
    if warn_if_no_groups(&groups, paths, stdout) {
        return Ok(EXIT_OK);
    }
    let fields = groups.plan().fields();
    let mut warnings = 0;
    if let Some((path, format)) = machines {
        let read = read_fleet(&groups, path, format, "id", OnError::Skip, None)?;
        let (_, missing) = warn::missing_tested_fields(
            groups.plan(),
            read.field_names().iter().map(String::as_str),
            stdout,
        );
        warnings += missing;
    } else if schema.is_none() {
        writeln!(
            stdout,
            "note: fields are not checked without --schema; {} seen",
            output::counted(fields.len(), "field")
        )?;
    }
    writeln!(
        stdout,
        "ok: {}, no problems{}",
        output::counted(groups.len(), "group"),
        if warnings > 0 {
            format!(", {}", output::counted(warnings, "field")) + " that no machine has"
        } else {
            String::new()
        }
    )?;
    Ok(EXIT_OK)
}

/// Prints every diagnostic, then `error: N problem(s) found{where_}`; exit code 1.
fn report_problems(
    stdout: &mut dyn Write,
    error: &cohort::Error,
    where_: &str,
) -> Result<u8, Failure> {
    writeln!(stdout, "{error}")?;
    writeln!(
        stdout,
        "{}",
        problems_found(error.diagnostics().len(), where_)
    )?;
    Ok(EXIT_INVALID)
}

fn schema_command(command: SchemaCommand, stdout: &mut dyn Write) -> Result<u8, Failure> {
    match command {
        SchemaCommand::Check { schema } => match cohort::Schema::load(&schema) {
            Ok(schema) => {
                writeln!(stdout, "ok: {} fields, no problems", schema.fields().len())?;
                Ok(EXIT_OK)
            }
            Err(error) => report_problems(stdout, &error, ""),
        },
        SchemaCommand::Infer {
            machines,
            machines_format,
            max_options,
            out,
            force,
        } => {
            let mut inference = infer::Inference::new(max_options);
            let format = machines::resolve(&machines, machines_format)
                .map_err(|error| Failure(format!("error: {error}")))?;
            cohort_fleet::for_each_record(machines::source(&machines), format, &mut |record| {
                inference.observe(&record)
            })
            .map_err(|error| Failure(format!("error: {error}")))?;
            let yaml = cohort_load::schema_to_yaml(&inference.schema())
                .map_err(|error| Failure(format!("error: {error}")))?;
            let text = format!(
                "# Proposed by `cohort schema infer` from {}: review the types and options.\n{yaml}",
                machines.display()
            );
            match out {
                None => stdout.write_all(text.as_bytes())?,
                Some(path) => {
                    write::write_safely(&path, text.as_bytes(), write::Target::Create, force)
                        .map_err(|error| Failure(format!("error: {}: {error}", path.display())))?;
                    writeln!(stdout, "wrote {}", path.display())?;
                }
            }
            Ok(EXIT_OK)
        }
    }
}

fn explain(
    input: &Input,
    machine_id: &str,
    group: Option<&str>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let groups = load_groups(&input.groups, input.schema.as_deref())?;
    let machines = Machines::read(input.machines_path()?, input.machines_format)
        .map_err(|error| Failure(format!("error: {error}")))?;
    warn::missing_tested_fields(groups.plan(), machines.field_names(), stderr);
    let now = input.now.unwrap_or_else(Timestamp::now);
    let id_field = input.id_field.as_str();
    let mut matching = (0..machines.len()).filter(|&p| machines.id(p, id_field) == machine_id);
    let Some(position) = matching.next() else {
        return Err(machine_not_found(&machines, input, machine_id));
    };
    let others = matching.count();
    if others > 0 {
        writeln!(
            stderr,
            "warning: {} have `{id_field}` = `{machine_id}`; explaining the first (the {} machine in the file)",
            output::counted(others + 1, "machine"),
            ordinal(position + 1)
        )?;
    }
    let Some(machine) = machines.get(position) else {
        return Err(Failure(format!("error: no machine at position {position}")));
    };
    let names: Vec<&str> = match group {
        Some(name) => vec![groups.name(group_named(&groups, name)?)],
        None => groups.names().collect(),
    };
    writeln!(stdout, "machine {}", terminal::one_line(machine_id))?;
    for name in names {
        if let Some(explanation) = groups.explain(machine, name, now) {
            writeln!(stdout)?;
            write!(stdout, "{explanation}")?;
        }
    }
    Ok(EXIT_OK)
}

/// No machine has `machine_id` as its id: say so, and whether another field holds it.
fn machine_not_found(machines: &Machines, input: &Input, machine_id: &str) -> Failure {
    let id_field = input.id_field.as_str();
    let mut message = format!(
        "error: no machine has `{id_field}` = `{machine_id}` in `{}`",
        input
            .machines
            .as_deref()
            .unwrap_or(Path::new("-"))
            .display()
    );
    if (0..machines.len()).all(|p| machines.own_id(p, id_field).is_none()) {
        message.push_str(&format!(" (no machine has the field `{id_field}`)"));
    }
    if let Some((position, field)) = machines.find_value(machine_id, id_field) {
        message.push_str(&format!(
            "\n  help: `{machine_id}` is the `{field}` of the {} machine in the file: use --id-field {}",
            ordinal(position + 1),
            shell_word(field)
        ));
    }
    Failure(message)
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `word` as one word for a POSIX shell: quoted unless it is plain.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/%+,@".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
