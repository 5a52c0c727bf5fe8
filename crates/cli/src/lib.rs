//! The `cohort` command line: evaluate, check and explain RMM dynamic groups.
//!
//! All printing, exit codes and input/output formats live here; nothing in this crate is
//! needed to evaluate a group. [`run`] takes the arguments and the two output streams, so
//! tests run the whole CLI in-process.
//!
//! Exit codes: 0 success, 1 invalid definitions or unreadable machines, 2 bad usage.

mod fmt;
mod machines;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use cohort::{GroupSet, Scratch, Timestamp};
use machines::{MachineFormat, Machines};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for invalid definitions or an unreadable machines file.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for bad usage.
pub const EXIT_USAGE: u8 = 2;

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
    },
    /// Validate definitions; print every error as `file:line:col: message`.
    Check {
        /// Definition files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Rewrite definition files in canonical form (a safe write: a temporary file renamed
    /// over the original).
    Fmt {
        /// Definition files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Only report the files that are not in canonical form; exit 1 if any.
        #[arg(long)]
        check: bool,
        /// Rewrite files even when comments after the leading comment block would be lost.
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
    /// The evaluation time for relative dates (RFC 3339); default: now.
    #[arg(long, value_parser = parse_now)]
    now: Option<Timestamp>,
}

#[derive(Clone, Copy, ValueEnum)]
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
    let result = match cli.command {
        Command::Eval { input, format } => eval(&input, format, stdout, stderr),
        Command::Check { paths } => check(&paths, stdout),
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

fn load_groups(paths: &[PathBuf]) -> Result<GroupSet, Failure> {
    GroupSet::load_all(paths).map_err(|error| {
        let count = error.diagnostics().len();
        Failure(format!(
            "{error}\nerror: {count} problem{} in the group definitions",
            if count == 1 { "" } else { "s" }
        ))
    })
}

fn load_input(input: &Input, stderr: &mut dyn Write) -> Result<(GroupSet, Machines), Failure> {
    let groups = load_groups(&input.groups)?;
    let machines = Machines::read(&input.machines, input.machines_format)
        .map_err(|error| Failure(format!("error: {error}")))?;
    warn_about_unknown_fields(&groups, &machines, stderr);
    Ok((groups, machines))
}

/// A criterion field that no machine has, but one edit away from a field they have, is most
/// likely a typo: say so (the groups still evaluate as written).
fn warn_about_unknown_fields(groups: &GroupSet, machines: &Machines, stderr: &mut dyn Write) {
    let known = machines.field_names();
    for field in groups.plan().fields() {
        if known.contains(field) {
            continue;
        }
        let close = known.iter().find(|name| {
            cohort::syntax::edit_distance(&name.to_lowercase(), &field.to_lowercase()) == 1
        });
        if let Some(name) = close {
            let _ = writeln!(
                stderr,
                "warning: no machine has the field `{field}` that the groups test; did you mean `{name}`?"
            );
        }
    }
}

fn eval(
    input: &Input,
    format: Format,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let (groups, machines) = load_input(input, stderr)?;
    let now = input.now.unwrap_or_else(Timestamp::now);
    let show_progress = std::io::stderr().is_terminal() && machines.len() >= 50_000;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut scratch = Scratch::new();
    let mut matched = Vec::new();
    let step = (machines.len() / 100).max(1);
    for (position, machine) in machines.iter().enumerate() {
        groups
            .plan()
            .evaluate_into(machine, now, &mut scratch, &mut matched);
        for id in &matched {
            if let Some(list) = members.get_mut(id.index()) {
                list.push(position);
            }
        }
        if show_progress && position % step == 0 {
            let _ = write!(
                stderr,
                "\revaluating: {position}/{} machines",
                machines.len()
            );
        }
    }
    if show_progress {
        let _ = writeln!(stderr, "\revaluating: {0}/{0} machines", machines.len());
    }
    let ids = |positions: &Vec<usize>| -> Vec<String> {
        positions
            .iter()
            .map(|&p| machines.id(p, &input.id_field))
            .collect()
    };
    let result: Vec<output::GroupResult> = groups
        .names()
        .zip(&members)
        .map(|(name, positions)| output::GroupResult {
            name: name.to_owned(),
            members: ids(positions),
        })
        .collect();
    match format {
        Format::Table => output::table(stdout, machines.len(), &result)?,
        Format::Json => output::json(stdout, machines.len(), &result)?,
        Format::Csv => output::csv(stdout, &result)?,
    }
    Ok(EXIT_OK)
}

fn check(paths: &[PathBuf], stdout: &mut dyn Write) -> Result<u8, Failure> {
    match GroupSet::load_all(paths) {
        Ok(groups) => {
            writeln!(stdout, "ok: {} groups, no problems", groups.len())?;
            Ok(EXIT_OK)
        }
        Err(error) => {
            for diagnostic in error.diagnostics() {
                writeln!(stdout, "{diagnostic}")?;
            }
            let count = error.diagnostics().len();
            writeln!(
                stdout,
                "error: {count} problem{} found",
                if count == 1 { "" } else { "s" }
            )?;
            Ok(EXIT_INVALID)
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
