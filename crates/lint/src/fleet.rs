//! Checks against a fleet: groups with no members or every machine, criteria that never or
//! always hold there, fields most machines have no value for.
//!
//! One plan holds the groups, one probe group per criterion and one `is not blank` probe per
//! field; the fleet is read once for it (by `cohort-fleet`) and evaluated once, column by
//! column, by the engine.

use crate::tree::Node;
use crate::{Code, Raw, Severity};
use cohort_check::ir::{CheckedGroup, CheckedSet, Condition, Predicate, Test};
use cohort_engine::{Plan, Timestamp};
use cohort_syntax::{GroupDef, Loc};
use std::sync::Arc;

/// A probe and what it stands for.
struct Probe<'a> {
    group: &'a str,
    loc: Loc,
    label: String,
    kind: ProbeKind<'a>,
}

enum ProbeKind<'a> {
    Criterion(&'a Predicate),
    Field(&'a str),
}

/// Reads the fleet and reports what it shows.
pub(crate) fn lint(
    checked: &CheckedSet,
    defs: &[GroupDef],
    source: cohort_fleet::Source<'_>,
    options: &cohort_fleet::Options,
    now: Timestamp,
) -> Result<(Vec<Raw>, usize), cohort_fleet::ReadError> {
    let mut probes: Vec<Probe<'_>> = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    for (group, def) in checked.groups.iter().zip(defs) {
        let Some(node) = Node::zip(&group.condition, &def.condition) else {
            continue;
        };
        node.visit(&mut |n| {
            if let Node::Pred(p, loc) = n {
                probes.push(Probe {
                    group: &def.name,
                    loc: (*loc).clone(),
                    label: format!("{} (`{}`)", p.label, p.text),
                    kind: ProbeKind::Criterion(p),
                });
                if !fields.contains(&p.field.as_str()) {
                    fields.push(&p.field);
                    probes.push(Probe {
                        group: &def.name,
                        loc: (*loc).clone(),
                        label: format!("{} (`{}`)", p.label, p.text),
                        kind: ProbeKind::Field(&p.field),
                    });
                }
            }
        });
    }
    let mut set = checked.clone();
    let first_probe = set.groups.len();
    for (index, probe) in probes.iter().enumerate() {
        let predicate = match probe.kind {
            ProbeKind::Criterion(p) => p.clone(),
            ProbeKind::Field(field) => Predicate {
                field: field.to_owned(),
                test: Test::IsBlank,
                negated: true,
                case_sensitive: false,
                label: Arc::from("probe"),
                text: Arc::from(format!("{field} is not blank")),
            },
        };
        set.groups.push(CheckedGroup {
            // Names no definition can have (they are never shown).
            name: format!("\u{0}probe {index}"),
            description: None,
            condition: Condition::Predicate(predicate),
            block_shaped: false,
        });
        set.evaluation_order.push(first_probe + index);
    }
    let plan = Plan::compile(&set);
    let fleet = cohort_fleet::read(&plan, source, options)?;
    let machines = fleet.machine_count();
    let mut raws = Vec::new();
    if machines == 0 {
        return Ok((raws, machines));
    }
    let bits = fleet.columns().evaluate(now);
    let ids: Vec<_> = plan.group_ids().collect();
    let count = |index: usize| ids.get(index).map(|&id| bits.members(id).count());
    let percent = |n: usize| n * 100 / machines;
    for (index, def) in defs.iter().enumerate().take(first_probe) {
        let Some(members) = count(index) else {
            continue;
        };
        let (code, severity, message) = if members == 0 {
            (
                Code::FleetNoMembers,
                Severity::Warning,
                format!("no machine of the fleet ({machines}) is a member"),
            )
        } else if members == machines {
            (
                Code::FleetAllMembers,
                Severity::Note,
                format!("every machine of the fleet ({machines}) is a member"),
            )
        } else {
            continue;
        };
        raws.push(Raw {
            code,
            severity: Some(severity),
            group: def.name.clone(),
            loc: def.loc.clone(),
            criterion: None,
            message,
            help: if members == 0 {
                "check the criteria that hold on no machine, and the field names (`cohort explain` shows why a machine is not a member)".to_owned()
            } else {
                "if the group should select some machines, a criterion is missing or too wide".to_owned()
            },
        });
    }
    for (offset, probe) in probes.iter().enumerate() {
        let Some(held) = count(first_probe + offset) else {
            continue;
        };
        let (code, severity, message, help) = match probe.kind {
            ProbeKind::Criterion(_) if held == 0 => (
                Code::FleetNeverHolds,
                Severity::Note,
                format!("the criterion holds on no machine of the fleet ({machines})"),
                "check the value and the field name against the machines".to_owned(),
            ),
            ProbeKind::Criterion(_) if held == machines => (
                Code::FleetAlwaysHolds,
                Severity::Note,
                format!("the criterion holds on every machine of the fleet ({machines})"),
                "it filters nothing on this fleet; remove it if that is expected to last"
                    .to_owned(),
            ),
            ProbeKind::Field(field) if held == 0 => (
                Code::FleetMostlyBlank,
                Severity::Warning,
                format!("no machine of the fleet ({machines}) has a value for `{field}`"),
                "check the field name against the machines (names are case-sensitive)".to_owned(),
            ),
            ProbeKind::Field(field) if (machines - held) * 2 > machines => (
                Code::FleetMostlyBlank,
                Severity::Note,
                format!(
                    "`{field}` is blank on {}% of the fleet ({} of {machines} machines)",
                    percent(machines - held),
                    machines - held
                ),
                "positive criteria on it hold only on the machines that have a value; if most should, check how the field is collected, otherwise allow L105 here".to_owned(),
            ),
            _ => continue,
        };
        raws.push(Raw {
            code,
            severity: Some(severity),
            group: probe.group.to_owned(),
            loc: probe.loc.clone(),
            criterion: Some(probe.label.clone()),
            message,
            help,
        });
    }
    Ok((raws, machines))
}
