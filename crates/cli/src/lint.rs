//! `cohort lint`: findings on definitions that check but are most likely wrong (see
//! `cohort-lint`), printed like `cohort check`'s diagnostics or as JSON.
//!
//! Exit codes: 0 when no finding is at or above `--deny` (default `warning`), 1 when one is,
//! 2 for bad usage and for definitions, a schema, a configuration or machines that cannot be
//! read.

use crate::machines::{self, MachineFormat};
use clap::ValueEnum;
use cohort::Timestamp;
use cohort_lint::{Config, Definitions, Finding, Severity};
use std::io::Write;
use std::path::PathBuf;

/// Exit code: findings at or above `--deny`.
const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad usage, or input that cannot be read.
const EXIT_ERROR: u8 = 2;

/// `cohort lint`'s arguments.
#[derive(clap::Args)]
pub(crate) struct LintArgs {
    /// Definition files or directories (several after one flag, or the flag repeated).
    #[arg(long, required = true, num_args = 1..)]
    groups: Vec<PathBuf>,
    /// A field schema: the groups are validated against it, and lint knows the fields'
    /// types (two `equal`s on a field that is not a list are an error; dropdown options).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// A machines file: also report groups with no members or every machine, criteria that
    /// hold on no machine or every one, and fields most machines have no value for.
    #[arg(long)]
    machines: Option<PathBuf>,
    /// The machines file's format; by default from its extension.
    #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
    machines_format: MachineFormat,
    /// The attribute that identifies a machine.
    #[arg(long, default_value = "id")]
    id_field: String,
    /// The evaluation time for relative dates (RFC 3339); default: now.
    #[arg(long, value_parser = crate::parse_now)]
    now: Option<Timestamp>,
    /// A lint configuration (YAML): `allow: [{code: L006, group: NAME}]` allows findings
    /// where they are intended (`group` is optional).
    #[arg(long)]
    config: Option<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = LintFormat::Table)]
    format: LintFormat,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = DenyLevel::Warning)]
    deny: DenyLevel,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    /// `file:line:col: severity[code]: message`, the group and criterion, and the fix.
    Table,
    /// `{"groups": N, "machines": M, "allowed": K, "findings": [{"code", "severity", "file",
    /// "line", "column", "group", "criterion", "message", "help"}]}`.
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DenyLevel {
    /// Every finding fails the run.
    Note,
    /// Warnings and errors fail the run.
    Warning,
    /// Only errors fail the run.
    Error,
}

impl DenyLevel {
    fn severity(self) -> Severity {
        match self {
            DenyLevel::Note => Severity::Note,
            DenyLevel::Warning => Severity::Warning,
            DenyLevel::Error => Severity::Error,
        }
    }
}

impl LintArgs {
    /// Whether standard output carries data for tools (JSON), to be written as it is.
    pub(crate) fn for_tools(&self) -> bool {
        self.format == LintFormat::Json
    }
}

/// Runs `cohort lint`; returns the exit code.
pub(crate) fn run(args: &LintArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    match lint(args, stdout) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(stderr, "{message}");
            EXIT_ERROR
        }
    }
}

fn lint(args: &LintArgs, stdout: &mut dyn Write) -> Result<u8, String> {
    let named = args
        .groups
        .iter()
        .chain(&args.schema)
        .chain(&args.machines)
        .chain(&args.config)
        .map(PathBuf::as_path);
    let missing: Vec<String> = named
        .filter(|path| {
            !machines::is_stdin(path)
                && std::fs::metadata(path)
                    .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound)
        })
        .map(|path| format!("error: `{}`: no such file or directory", path.display()))
        .collect();
    if !missing.is_empty() {
        return Err(missing.join("\n"));
    }
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|error| format!("error: {error}"))?,
        None => Config::default(),
    };
    let schema = match &args.schema {
        Some(path) => Some(cohort::Schema::load(path).map_err(|error| {
            format!(
                "{error}\nerror: {} found in the schema",
                crate::output::counted(error.diagnostics().len(), "problem")
            )
        })?),
        None => None,
    };
    // The facade's diagnostics for definitions that do not load or check.
    if let Err(error) = crate::load_group_set(&args.groups, schema.as_ref()) {
        return Err(format!(
            "{error}\nerror: {} found (lint runs on valid definitions)",
            crate::output::counted(error.diagnostics().len(), "problem")
        ));
    }
    let definitions = Definitions::load(
        &args.groups,
        schema.as_ref().map(|s| s.definition().clone()),
    )
    .map_err(|error| format!("error: {error}"))?;
    let mut findings = definitions.lint();
    let mut machine_count = None;
    if let Some(path) = &args.machines {
        let format = machines::resolve(path, args.machines_format)
            .map_err(|error| format!("error: {error}"))?;
        let mut options = cohort_fleet::Options::new(format);
        options.id_field = args.id_field.clone();
        let now = args.now.unwrap_or_else(Timestamp::now);
        let (fleet, machines) = definitions
            .lint_fleet(machines::source(path), &options, now)
            .map_err(|error| format!("error: {error}"))?;
        findings.extend(fleet);
        machine_count = Some(machines);
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    let (findings, allowed) = config.filter(findings);
    let deny = args.deny.severity();
    let failing = findings.iter().filter(|f| f.severity >= deny).count();
    match args.format {
        LintFormat::Table => table(
            stdout,
            &findings,
            definitions.group_count(),
            allowed,
            failing,
            deny,
        )
        .map_err(|error| format!("error: cannot write output: {error}"))?,
        LintFormat::Json => {
            let value = serde_json::json!({
                "groups": definitions.group_count(),
                "machines": machine_count,
                "allowed": allowed,
                "findings": findings,
            });
            serde_json::to_writer_pretty(&mut *stdout, &value)
                .map_err(|error| format!("error: cannot write output: {error}"))?;
            writeln!(stdout).map_err(|error| format!("error: cannot write output: {error}"))?;
        }
    }
    Ok(if failing > 0 { EXIT_FINDINGS } else { 0 })
}

/// Every finding, then the summary line.
fn table(
    out: &mut dyn Write,
    findings: &[Finding],
    groups: usize,
    allowed: usize,
    failing: usize,
    deny: Severity,
) -> std::io::Result<()> {
    for finding in findings {
        writeln!(out, "{finding}")?;
    }
    let count = |severity: Severity| findings.iter().filter(|f| f.severity == severity).count();
    let mut parts = Vec::new();
    for (severity, noun) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Note, "note"),
    ] {
        let n = count(severity);
        if n > 0 {
            parts.push(crate::output::counted(n, noun));
        }
    }
    let allowed = if allowed > 0 {
        format!(" ({allowed} allowed by the configuration)")
    } else {
        String::new()
    };
    let groups = crate::output::counted(groups, "group");
    if findings.is_empty() {
        writeln!(out, "ok: {groups}, no findings{allowed}")
    } else if failing > 0 {
        writeln!(
            out,
            "error: {}: {} at or above `{deny}`{allowed}",
            groups,
            parts.join(", ")
        )
    } else {
        writeln!(
            out,
            "ok: {groups}, {} (below `{deny}`){allowed}",
            parts.join(", ")
        )
    }
}
