//! `cohort diff`: plan before apply. Two sets of group definitions (files, directories, or
//! `git:REV:PATH`) evaluated over the same machines; for every group added, removed or
//! changed, who joins and who leaves and the criterion that decided it.
//!
//! The machines file is read once into columns for one plan holding both sets (each
//! group's name prefixed by its side, so the two never meet and criteria they share are
//! evaluated once); the machines that change are then read again whole, and only those are
//! explained.

mod git;

use crate::machines::{self, MachineFormat};
use crate::{Failure, output};
use cohort::engine::syntax::{Expr, GroupDef, Operator};
use cohort::{CriterionResult, ExplainNode, Explanation, GroupSet, Timestamp};
use git::GitPath;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The arguments of `cohort diff`.
#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The definitions before the change: a file, a directory, or `git:REV:PATH` (such as
    /// `git:HEAD~1:groups/`, read from the repository of the current directory).
    #[arg(long, value_name = "PATH")]
    pub(crate) before: String,
    /// The definitions after the change (same forms as `--before`).
    #[arg(long, value_name = "PATH")]
    pub(crate) after: String,
    /// The machines to evaluate both sets over (a file; it is read twice).
    #[arg(long, value_name = "FLEET")]
    pub(crate) machines: PathBuf,
    /// The machines file's format; by default from its extension.
    #[arg(long, value_enum, default_value_t = MachineFormat::Auto)]
    machines_format: MachineFormat,
    /// The attribute that identifies a machine.
    #[arg(long, default_value = "id")]
    id_field: String,
    /// The evaluation time for relative dates (RFC 3339); default: now.
    #[arg(long, value_parser = crate::parse_now)]
    now: Option<Timestamp>,
    /// How to print the changes.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub(crate) format: DiffFormat,
    /// Exit with 0 when nothing changes, 1 when something does, 2 on errors.
    #[arg(long)]
    exit_code: bool,
    /// Print every machine that joins or leaves (the table shows the first 10 of each).
    #[arg(long)]
    all: bool,
}

/// How `cohort diff` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    /// For people: each group changed, with the first machines that join and leave.
    Table,
    /// For tools: every group changed, with every machine.
    Json,
}

/// Machines the table shows per group and direction without `--all`.
const SHOWN: usize = 10;

/// The most criteria a reason names.
const REASON_CRITERIA: usize = 2;

impl DiffArgs {
    /// The paths on disk this run reads (not `git:` ones), to report those missing.
    pub(crate) fn paths(&self) -> Vec<&Path> {
        [&self.before, &self.after]
            .into_iter()
            .filter(|side| !side.starts_with(git::PREFIX))
            .map(Path::new)
            .chain([self.machines.as_path()])
            .collect()
    }
}

/// Runs `cohort diff`. With `--exit-code`, errors are printed here and give 2.
pub(crate) fn run(
    args: &DiffArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    match diff(args, stdout) {
        Ok(changed) if args.exit_code => Ok(u8::from(changed)),
        Ok(_) => Ok(crate::EXIT_OK),
        Err(failure) if args.exit_code => {
            writeln!(stderr, "{failure}")?;
            Ok(crate::EXIT_USAGE)
        }
        Err(failure) => Err(failure),
    }
}

/// One side's definitions: checked, and as syntax trees.
struct Side {
    set: GroupSet,
    definitions: Vec<GroupDef>,
}

/// Loads `--before` or `--after`.
fn load_side(flag: &str, spec: &str) -> Result<Side, Failure> {
    let invalid = |error: cohort::Error| {
        Failure(format!(
            "{error}\n{} (in {flag} `{spec}`)",
            crate::problems_found(error.diagnostics().len(), "")
        ))
    };
    let mut loader = cohort_load::Loader::new();
    let set = match spec.strip_prefix(git::PREFIX) {
        Some(rest) => {
            let path =
                GitPath::parse(rest).map_err(|error| Failure(format!("error: {flag}: {error}")))?;
            let texts = path
                .read()
                .map_err(|error| Failure(format!("error: {flag}: {error}")))?;
            let mut builder = GroupSet::builder();
            for (name, text) in &texts {
                loader.add_str(name, text);
                builder.text(name, text);
            }
            builder.build().map_err(invalid)?
        }
        None => {
            loader.add_path(Path::new(spec));
            GroupSet::load(spec).map_err(invalid)?
        }
    };
    Ok(Side {
        set,
        definitions: loader.finish().groups,
    })
}

/// How a group differs between the two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Added,
    Removed,
    Changed,
    /// The definition is the same; a group it references with `member of` changed.
    MemberOf,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
            Kind::MemberOf => "changed through member of",
        }
    }
}

/// A machine that joins or leaves, and why.
#[derive(Debug, Serialize)]
struct Move {
    machine: String,
    reason: String,
}

/// One group that changes.
#[derive(Debug, Serialize)]
struct GroupChange {
    name: String,
    change: Kind,
    before: Option<usize>,
    after: Option<usize>,
    joins: Vec<Move>,
    leaves: Vec<Move>,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Report {
    machines: usize,
    changed: bool,
    unchanged: usize,
    groups: Vec<GroupChange>,
}

/// The name of a side's group in the plan holding both sets: the side and the group's
/// position (every group of the combined plan is renamed, so none can collide, and group
/// names, which cannot hold control characters, need no separator).
fn prefixed(side: &str, names: &HashMap<&str, usize>, name: &str) -> String {
    match names.get(name) {
        Some(index) => format!("{side} {index}"),
        // Not a group of this side: keep a name no renamed group has.
        None => format!("{side} ? {name}"),
    }
}

/// Each group's position among `definitions`, by name.
fn positions(definitions: &[GroupDef]) -> HashMap<&str, usize> {
    definitions
        .iter()
        .enumerate()
        .map(|(index, d)| (d.name.as_str(), index))
        .collect()
}

/// `condition` with every `member of` naming the group of the same side.
fn rename_references(expr: &mut Expr, side: &str, names: &HashMap<&str, usize>) {
    match expr {
        Expr::All { items, .. } | Expr::Any { items, .. } => {
            items
                .iter_mut()
                .for_each(|e| rename_references(e, side, names));
        }
        Expr::Not { item, .. } => rename_references(item, side, names),
        Expr::Criterion(criterion) => {
            if criterion.op.operator == Operator::MemberOf {
                for value in &mut criterion.values {
                    value.text = prefixed(side, names, &value.text);
                }
            }
        }
    }
}

/// Computes and prints the diff; whether anything changes.
fn diff(args: &DiffArgs, stdout: &mut dyn Write) -> Result<bool, Failure> {
    let missing: Vec<String> = args
        .paths()
        .into_iter()
        .filter(|path| {
            !machines::is_stdin(path)
                && std::fs::metadata(path)
                    .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound)
        })
        .map(|path| format!("error: `{}`: no such file or directory", path.display()))
        .collect();
    if !missing.is_empty() {
        return Err(Failure(missing.join("\n")));
    }
    if machines::is_stdin(&args.machines) {
        return Err(Failure(
            "error: `cohort diff` reads the machines twice (the columns, then the machines that change): give a file, not `-`".to_owned(),
        ));
    }
    let before = load_side("--before", &args.before)?;
    let after = load_side("--after", &args.after)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let before_names = positions(&before.definitions);
    let after_names_at = positions(&after.definitions);
    let side_names = |side: &str| {
        if side == "before" {
            &before_names
        } else {
            &after_names_at
        }
    };
    let mut both = Vec::with_capacity(before.definitions.len() + after.definitions.len());
    for (side, definitions) in [
        ("before", &before.definitions),
        ("after", &after.definitions),
    ] {
        for definition in definitions {
            let mut definition = definition.clone();
            definition.name = prefixed(side, side_names(side), &definition.name);
            rename_references(&mut definition.condition, side, side_names(side));
            both.push(definition);
        }
    }
    let both = GroupSet::builder()
        .definitions(&both)
        .build()
        .map_err(|error| {
            Failure(format!(
                "error: the two sets of groups cannot be evaluated together: {}",
                error
                    .diagnostics()
                    .first()
                    .map_or_else(String::new, |d| d.message().to_owned())
            ))
        })?;
    let format = machines::resolve(&args.machines, args.machines_format)
        .map_err(|error| Failure(format!("error: {error}")))?;
    let fleet = cohort_fleet::read(
        both.plan(),
        machines::source(&args.machines),
        &crate::fleet_options(format, &args.id_field, crate::OnError::Fail),
    )
    .map_err(|error| Failure(format!("error: {error}")))?;
    let bits = fleet.columns().evaluate(now);
    let members = |side: &str, name: &str| -> Vec<usize> {
        both.id(&prefixed(side, side_names(side), name))
            .map(|id| bits.members(id).iter().collect())
            .unwrap_or_default()
    };
    let before_definitions: HashMap<&str, &GroupDef> = before
        .definitions
        .iter()
        .map(|d| (d.name.as_str(), d))
        .collect();
    let after_names: HashMap<&str, &GroupDef> = after
        .definitions
        .iter()
        .map(|d| (d.name.as_str(), d))
        .collect();
    // Groups in the order of `--before`, then those added in the order of `--after`.
    let mut names: Vec<&str> = before.set.names().collect();
    names.extend(after.set.names().filter(|n| before.set.id(n).is_none()));
    let mut changes: Vec<(GroupChange, Vec<usize>, Vec<usize>)> = Vec::new();
    let mut unchanged = 0;
    for name in names {
        let (was, is) = (before.set.id(name).is_some(), after.set.id(name).is_some());
        let old = if was {
            members("before", name)
        } else {
            Vec::new()
        };
        let new = if is {
            members("after", name)
        } else {
            Vec::new()
        };
        let kind = match (was, is) {
            (true, false) => Kind::Removed,
            (false, _) => Kind::Added,
            (true, true) => {
                let same = before_definitions
                    .get(name)
                    .zip(after_names.get(name))
                    .is_some_and(|(a, b)| a.condition == b.condition);
                match (same, old == new) {
                    (false, _) => Kind::Changed,
                    (true, false) => Kind::MemberOf,
                    (true, true) => {
                        unchanged += 1;
                        continue;
                    }
                }
            }
        };
        let joins = difference(&new, &old);
        let leaves = difference(&old, &new);
        changes.push((
            GroupChange {
                name: name.to_owned(),
                change: kind,
                before: was.then_some(old.len()),
                after: is.then_some(new.len()),
                joins: Vec::new(),
                leaves: Vec::new(),
            },
            joins,
            leaves,
        ));
    }
    // The machines that move, read whole to be explained.
    let moving: std::collections::BTreeSet<usize> = changes
        .iter()
        .flat_map(|(_, joins, leaves)| joins.iter().chain(leaves))
        .copied()
        .collect();
    let mut records: BTreeMap<usize, cohort_fleet::MachineRecord> = BTreeMap::new();
    if !moving.is_empty() {
        let mut position = 0;
        cohort_fleet::for_each_record(machines::source(&args.machines), format, &mut |record| {
            if moving.contains(&position) {
                records.insert(position, record);
            }
            position += 1;
        })
        .map_err(|error| Failure(format!("error: {error}")))?;
    }
    let id_of = |position: usize| -> String {
        fleet
            .ids()
            .get(position)
            .map_or_else(|| format!("#{}", position + 1), |id| id.into_owned())
    };
    let mut groups = Vec::with_capacity(changes.len());
    for (mut change, joins, leaves) in changes {
        for (positions, joined) in [(joins, true), (leaves, false)] {
            for position in positions {
                let reason = match records.get(&position) {
                    Some(record) => reason(&before.set, &after.set, &change, record, joined, now),
                    None => "the machine could not be read again to explain it".to_owned(),
                };
                let moved = Move {
                    machine: id_of(position),
                    reason,
                };
                if joined {
                    change.joins.push(moved);
                } else {
                    change.leaves.push(moved);
                }
            }
        }
        groups.push(change);
    }
    let changed = !groups.is_empty();
    let report = Report {
        machines: fleet.machine_count(),
        changed,
        unchanged,
        groups,
    };
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *stdout, &report)
                .map_err(|error| Failure(format!("error: cannot write output: {error}")))?;
            writeln!(stdout)?;
        }
        DiffFormat::Table => table(stdout, &report, args.all)?,
    }
    Ok(changed)
}

/// The positions in `a` and not in `b` (both ascending).
fn difference(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut b = b.iter().peekable();
    a.iter()
        .copied()
        .filter(|x| {
            while b.next_if(|y| *y < x).is_some() {}
            b.peek() != Some(&x)
        })
        .collect()
}

/// Why the machine joins or leaves the group, in short: the criteria that decide it now
/// (those that decided differently before, when there are any), each with the value seen.
fn reason(
    before: &GroupSet,
    after: &GroupSet,
    change: &GroupChange,
    record: &cohort_fleet::MachineRecord,
    joined: bool,
    now: Timestamp,
) -> String {
    if change.change == Kind::Removed {
        return "the group is removed".to_owned();
    }
    let Some(explanation) = after.explain(record, &change.name, now) else {
        return String::new();
    };
    let earlier: Option<Explanation> = before.explain(record, &change.name, now);
    let deciding = explanation.deciding();
    let differ: Vec<_> = deciding
        .iter()
        .filter(|result| {
            earlier.as_ref().is_none_or(|earlier| {
                let mut same = false;
                each_criterion(&earlier.root, &mut |e| {
                    same |= e.criterion == result.criterion && e.passed == result.passed;
                });
                !same
            })
        })
        .copied()
        .collect();
    let chosen = if differ.is_empty() { deciding } else { differ };
    let verb = if joined {
        "now holds"
    } else {
        "no longer holds"
    };
    let mut parts: Vec<String> = chosen
        .iter()
        .take(REASON_CRITERIA)
        .map(|result| {
            let seen = match &result.seen {
                Some(seen) => seen.clone(),
                None if result.criterion.to_lowercase().contains("member of") => {
                    result.reason.clone()
                }
                None => "no value".to_owned(),
            };
            format!("`{}` {verb} ({seen})", result.criterion)
        })
        .collect();
    if chosen.len() > REASON_CRITERIA {
        parts.push(format!("and {} more", chosen.len() - REASON_CRITERIA));
    }
    parts.join("; ")
}

/// Calls `f` with every criterion of an explanation.
fn each_criterion(node: &ExplainNode, f: &mut impl FnMut(&CriterionResult)) {
    match node {
        ExplainNode::All { items, .. } | ExplainNode::Any { items, .. } => {
            items.iter().for_each(|item| each_criterion(item, f));
        }
        ExplainNode::Not { item, .. } => each_criterion(item, f),
        ExplainNode::Criterion(result) => f(result),
    }
}

/// The table for people.
fn table(out: &mut dyn Write, report: &Report, all: bool) -> std::io::Result<()> {
    for group in &report.groups {
        let count = |n: Option<usize>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        writeln!(
            out,
            "{} `{}`: {} -> {} members (+{} -{})",
            group.change.word(),
            group.name,
            count(group.before),
            count(group.after),
            group.joins.len(),
            group.leaves.len()
        )?;
        for (moves, word) in [(&group.joins, "joins"), (&group.leaves, "leaves")] {
            let shown = if all {
                moves.len()
            } else {
                moves.len().min(SHOWN)
            };
            for moved in moves.iter().take(shown) {
                writeln!(
                    out,
                    "  {word} {}: {}",
                    crate::terminal::one_line(&moved.machine),
                    moved.reason
                )?;
            }
            if moves.len() > shown {
                writeln!(
                    out,
                    "  ... and {} more {word} (--all shows every machine)",
                    moves.len() - shown
                )?;
            }
        }
    }
    let total = report.groups.len() + report.unchanged;
    if report.groups.is_empty() {
        writeln!(
            out,
            "ok: no change: {} over {}",
            output::counted(total, "group"),
            output::counted(report.machines, "machine")
        )
    } else {
        let mut kinds: Vec<String> = Vec::new();
        for kind in [Kind::Added, Kind::Removed, Kind::Changed, Kind::MemberOf] {
            let n = report.groups.iter().filter(|g| g.change == kind).count();
            if n > 0 {
                kinds.push(format!("{n} {}", kind.word()));
            }
        }
        writeln!(
            out,
            "{} change ({}), {} unchanged, over {}",
            output::counted(report.groups.len(), "group"),
            kinds.join(", "),
            report.unchanged,
            output::counted(report.machines, "machine")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn differences_of_sorted_positions() {
        assert_eq!(difference(&[1, 2, 5, 9], &[2, 3, 9]), [1, 5]);
        assert_eq!(difference(&[], &[1]), Vec::<usize>::new());
        assert_eq!(difference(&[4], &[]), [4]);
    }
}
