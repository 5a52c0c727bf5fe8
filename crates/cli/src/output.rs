//! Printing evaluation results.

use std::io::{self, Write};

/// One group's members, by machine id, in input order.
pub(crate) struct GroupResult {
    pub(crate) name: String,
    pub(crate) members: Vec<String>,
}

/// How many member ids the table shows per group.
const TABLE_MEMBERS: usize = 5;

pub(crate) fn table(
    out: &mut dyn Write,
    machines: usize,
    groups: &[GroupResult],
) -> io::Result<()> {
    let name_width = groups
        .iter()
        .map(|g| g.name.chars().count())
        .chain(["GROUP".len()])
        .max()
        .unwrap_or(5);
    let count_width = groups
        .iter()
        .map(|g| g.members.len().to_string().len())
        .chain(["COUNT".len()])
        .max()
        .unwrap_or(5);
    writeln!(
        out,
        "{:<name_width$}  {:>count_width$}  FIRST MEMBERS",
        "GROUP", "COUNT"
    )?;
    for group in groups {
        let mut shown = group
            .members
            .iter()
            .take(TABLE_MEMBERS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if group.members.len() > TABLE_MEMBERS {
            shown.push_str(&format!(", ... (+{})", group.members.len() - TABLE_MEMBERS));
        }
        writeln!(
            out,
            "{:<name_width$}  {:>count_width$}  {shown}",
            group.name,
            group.members.len()
        )?;
    }
    writeln!(out, "{} groups over {machines} machines", groups.len())
}

pub(crate) fn json(out: &mut dyn Write, machines: usize, groups: &[GroupResult]) -> io::Result<()> {
    let groups: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "name": g.name,
                "count": g.members.len(),
                "members": g.members,
            })
        })
        .collect();
    let document = serde_json::json!({ "machines": machines, "groups": groups });
    serde_json::to_writer(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}

pub(crate) fn csv(out: &mut dyn Write, groups: &[GroupResult]) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let csv_error = |e: ::csv::Error| io::Error::other(e.to_string());
    writer
        .write_record(["group", "machine"])
        .map_err(csv_error)?;
    for group in groups {
        for member in &group.members {
            writer
                .write_record([group.name.as_str(), member.as_str()])
                .map_err(csv_error)?;
        }
    }
    writer.flush()
}
