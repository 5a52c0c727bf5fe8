//! The `cohort` command line: evaluate, check and explain RMM dynamic groups.
//!
//! All printing, exit codes and input/output formats live here; nothing in this crate is
//! needed to evaluate a group. [`run`] takes the arguments and the two output streams, so
//! tests run the whole CLI in-process.
//!
//! Exit codes: 0 success, 1 invalid definitions or unreadable machines, 2 bad usage, 3
//! machines records left out (`--on-error skip`).

mod fmt;
#[doc(hidden)]
pub mod fuzzing;
mod infer;
mod input;
mod machines;
mod output;
mod terminal;
mod write;

use clap::{Parser, Subcommand, ValueEnum};
use cohort::{GroupSet, Timestamp};
use machines::{MachineFormat, Machines};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

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
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate groups over machines and print the members of every group.
    Eval {
        #[command(flatten)]
        input: Input,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Print on stderr how long reading and evaluating took.
        #[arg(long)]
        timings: bool,
    },
    /// Validate definitions; print every error as `file:line:col: message`.
    Check {
        /// Definition files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A field schema to validate the criteria against.
        #[arg(long)]
        schema: Option<PathBuf>,
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
    /// into YAML definitions: printed, or written to `--out DIR` as `<group name>.yaml`.
    Import {
        /// Markdown documents.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write each definition into this directory instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite existing files in `--out`.
        #[arg(long)]
        force: bool,
    },
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
    /// Definition files or directories (repeat for several).
    #[arg(long, required = true)]
    groups: Vec<PathBuf>,
    /// The machines file.
    #[arg(long)]
    machines: PathBuf,
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnError {
    /// Report every bad record, then exit 1.
    Fail,
    /// Leave bad records out, say how many, exit 3.
    Skip,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for people: group, count, first members.
    Table,
    /// `{"machines": N, "groups": [{"name", "count", "members"}]}`.
    Json,
    /// One `group,machine` row per membership.
    Csv,
}

fn parse_now(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text)
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 time such as 2026-11-25T12:00:00Z"))
}

/// Runs the CLI with `args` (the first is the program name); returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
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
    let mut stderr = terminal::Printable::new(stderr);
    let stderr: &mut dyn Write = &mut stderr;
    let for_tools = match &cli.command {
        Command::Eval { format, .. } => *format != Format::Table,
        Command::Import { out, .. } => out.is_none(),
        Command::Schema {
            command: SchemaCommand::Infer { out, .. },
        } => out.is_none(),
        _ => false,
    };
    let mut printable;
    let stdout: &mut dyn Write = if for_tools {
        stdout
    } else {
        printable = terminal::Printable::new(stdout);
        &mut printable
    };
    let result = match cli.command {
        Command::Eval {
            input,
            format,
            timings,
        } => eval(&input, format, timings, stdout, stderr),
        Command::Check { paths, schema } => check(&paths, schema.as_deref(), stdout),
        Command::Schema { command } => schema_command(command, stdout),
        Command::Import { files, out, force } => fmt::import(&files, out.as_deref(), force, stdout),
        Command::Fmt {
            paths,
            check,
            force,
        } => fmt::run(&paths, check, force, stdout),
        Command::Explain {
            input,
            machine,
            group,
        } => explain(&input, &machine, group.as_deref(), stdout, stderr),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            let _ = writeln!(stderr, "{failure}");
            EXIT_INVALID
        }
    }
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

fn load_schema(path: Option<&std::path::Path>) -> Result<Option<cohort::Schema>, Failure> {
    let Some(path) = path else {
        return Ok(None);
    };
    cohort::Schema::load(path).map(Some).map_err(|error| {
        let count = error.diagnostics().len();
        Failure(format!(
            "{error}\nerror: {count} problem{} in the schema",
            if count == 1 { "" } else { "s" }
        ))
    })
}

fn load_groups(paths: &[PathBuf], schema: Option<&std::path::Path>) -> Result<GroupSet, Failure> {
    let schema = load_schema(schema)?;
    GroupSet::load_all_with_schema(paths, schema.as_ref()).map_err(|error| {
        let count = error.diagnostics().len();
        Failure(format!(
            "{error}\nerror: {count} problem{} in the group definitions",
            if count == 1 { "" } else { "s" }
        ))
    })
}

fn load_input(input: &Input, stderr: &mut dyn Write) -> Result<(GroupSet, Machines), Failure> {
    let groups = load_groups(&input.groups, input.schema.as_deref())?;
    let machines = Machines::read(&input.machines, input.machines_format)
        .map_err(|error| Failure(format!("error: {error}")))?;
    warn_about_unknown_fields(&groups, &machines.field_names(), stderr);
    Ok((groups, machines))
}

/// A criterion field that no machine has, but one edit away from a field they have, is most
/// likely a typo: say so (the groups still evaluate as written).
fn warn_about_unknown_fields<S: AsRef<str> + Ord>(
    groups: &GroupSet,
    known: &std::collections::BTreeSet<S>,
    stderr: &mut dyn Write,
) {
    /// Warnings printed before "... and N more".
    const SHOWN: usize = 20;
    let names: std::collections::HashSet<&str> = known.iter().map(AsRef::as_ref).collect();
    // Folded once, shortest first, and only names a suggestion could be made from.
    let folded: Vec<(String, &str)> = names
        .iter()
        .filter(|name| name.len() <= cohort::syntax::MAX_SUGGESTION_INPUT + 4)
        .take(cohort::syntax::MAX_SUGGESTION_CANDIDATES)
        .map(|name| (name.to_lowercase(), *name))
        .collect();
    let mut warned = 0;
    let mut unwarned = 0;
    // Edit-distance checks allowed in all: hostile files could otherwise ask for billions.
    let mut comparisons: usize = 1_000_000;
    for field in groups.plan().fields() {
        if names.contains(field) || field.len() > cohort::syntax::MAX_SUGGESTION_INPUT {
            continue;
        }
        let field_lower = field.to_lowercase();
        let close = folded.iter().find(|(lower, _)| {
            if lower.len().abs_diff(field_lower.len()) > 4 || comparisons == 0 {
                return false;
            }
            comparisons -= 1;
            cohort::syntax::within_edits(lower, &field_lower, 1)
        });
        if let Some((_, name)) = close {
            if warned < SHOWN {
                let _ = writeln!(
                    stderr,
                    "warning: no machine has the field `{field}` that the groups test; did you mean `{name}`?"
                );
                warned += 1;
            } else {
                unwarned += 1;
            }
        }
    }
    if comparisons == 0 {
        let _ = writeln!(
            stderr,
            "warning: too many field names to look for all misspellings; some were not checked"
        );
    }
    if unwarned > 0 {
        let _ = writeln!(
            stderr,
            "warning: ... and {unwarned} more fields that no machine has, each one edit from one that some machine has"
        );
    }
}

fn eval(
    input: &Input,
    format: Format,
    timings: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let groups = load_groups(&input.groups, input.schema.as_deref())?;
    let now = input.now.unwrap_or_else(Timestamp::now);
    let started = std::time::Instant::now();
    let format_of_file = machines::resolve(&input.machines, input.machines_format)
        .map_err(|error| Failure(format!("error: {error}")))?;
    let mut options = cohort_fleet::Options::new(format_of_file);
    options.id_field = input.id_field.clone();
    options.on_error = match input.on_error {
        OnError::Fail => cohort_fleet::OnError::Fail,
        OnError::Skip => cohort_fleet::OnError::Skip,
    };
    let read = cohort_fleet::read(groups.plan(), machines::source(&input.machines), &options)
        .map_err(|error| Failure(format!("error: {error}")))?;
    warn_about_unknown_fields(&groups, read.field_names(), stderr);
    report_skipped(&read, stderr);
    let fleet = read.columns();
    let ids = read.ids();
    let read_time = started.elapsed();
    let evaluation_started = std::time::Instant::now();
    let members = fleet.evaluate(now);
    let evaluated = evaluation_started.elapsed();
    let result: Vec<output::GroupResult> = groups
        .plan()
        .group_ids()
        .map(|id| output::GroupResult {
            name: groups.name(id).to_owned(),
            members: members
                .members(id)
                .iter()
                .filter_map(|p| ids.get(p))
                .collect(),
        })
        .collect();
    match format {
        Format::Table => output::table(stdout, ids.len(), &result)?,
        Format::Json => output::json(stdout, ids.len(), &result)?,
        Format::Csv => output::csv(stdout, &result)?,
    }
    if timings {
        writeln!(
            stderr,
            "read and encoded {} machines in {:.3} s ({} KiB of columns, {} KiB of ids); evaluated {} groups in {:.3} s{}",
            ids.len(),
            read_time.as_secs_f64(),
            fleet.heap_bytes() / 1024,
            ids.heap_bytes() / 1024,
            groups.len(),
            evaluated.as_secs_f64(),
            peak_memory().map_or_else(String::new, |kib| format!(
                "; peak memory {} MiB",
                kib / 1024
            ))
        )?;
    }
    Ok(if read.skipped_count() > 0 {
        EXIT_SKIPPED
    } else {
        EXIT_OK
    })
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
    schema: Option<&std::path::Path>,
    stdout: &mut dyn Write,
) -> Result<u8, Failure> {
    let schema = match schema.map(cohort::Schema::load).transpose() {
        Ok(schema) => schema,
        Err(error) => return report_problems(stdout, &error, " in the schema"),
    };
    match GroupSet::load_all_with_schema(paths, schema.as_ref()) {
        Ok(groups) => {
            writeln!(stdout, "ok: {} groups, no problems", groups.len())?;
            Ok(EXIT_OK)
        }
        Err(error) => report_problems(stdout, &error, ""),
    }
}

/// Prints every diagnostic, then `error: N problem(s) found{where_}`; exit code 1.
fn report_problems(
    stdout: &mut dyn Write,
    error: &cohort::Error,
    where_: &str,
) -> Result<u8, Failure> {
    writeln!(stdout, "{error}")?;
    let count = error.diagnostics().len();
    writeln!(
        stdout,
        "error: {count} problem{} found{where_}",
        if count == 1 { "" } else { "s" }
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
    let (groups, machines) = load_input(input, stderr)?;
    let now = input.now.unwrap_or_else(Timestamp::now);
    let position = (0..machines.len())
        .find(|&p| machines.id(p, &input.id_field) == machine_id)
        .ok_or_else(|| {
            Failure(format!(
                "error: no machine has `{}` = `{machine_id}` in `{}`",
                input.id_field,
                input.machines.display()
            ))
        })?;
    let Some(machine) = machines.get(position) else {
        return Err(Failure(format!("error: no machine at position {position}")));
    };
    let names: Vec<&str> = match group {
        Some(name) if groups.id(name).is_some() => vec![name],
        Some(name) => {
            let known: Vec<&str> = groups.names().collect();
            let hint = cohort::syntax::nearest(name, known.iter().copied())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(Failure(format!("error: no group named `{name}`{hint}")));
        }
        None => groups.names().collect(),
    };
    writeln!(stdout, "machine {machine_id}")?;
    for name in names {
        if let Some(explanation) = groups.explain(machine, name, now) {
            writeln!(stdout)?;
            write!(stdout, "{explanation}")?;
        }
    }
    Ok(EXIT_OK)
}
