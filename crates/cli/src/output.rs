//! Printing evaluation results.

use std::io::{self, Write};

/// One group's members, by machine id, in input order.
pub(crate) struct GroupResult<'a> {
    pub(crate) name: String,
    pub(crate) members: Vec<std::borrow::Cow<'a, str>>,
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
            .map(|member| &**member)
            .collect::<Vec<&str>>()
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

/// `{"machines": N, "groups": [{"name", "count", "members"}]}`, written as it goes (a fleet
/// of a million machines has millions of member ids).
pub(crate) fn json(
    out: &mut dyn Write,
    machines: usize,
    groups: &[GroupResult<'_>],
) -> io::Result<()> {
    let string = |out: &mut dyn Write, text: &str| {
        serde_json::to_writer(&mut *out, text).map_err(io::Error::other)
    };
    write!(out, "{{\"machines\":{machines},\"groups\":[")?;
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"name\":")?;
        string(out, &group.name)?;
        write!(out, ",\"count\":{},\"members\":[", group.members.len())?;
        for (position, member) in group.members.iter().enumerate() {
            if position > 0 {
                out.write_all(b",")?;
            }
            string(out, member)?;
        }
        out.write_all(b"]}")?;
    }
    writeln!(out, "]}}")
}

pub(crate) fn csv(out: &mut dyn Write, groups: &[GroupResult<'_>]) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let csv_error = |e: ::csv::Error| io::Error::other(e.to_string());
    writer
        .write_record(["group", "machine"])
        .map_err(csv_error)?;
    for group in groups {
        for member in &group.members {
            writer
                .write_record([group.name.as_str(), &**member])
                .map_err(csv_error)?;
        }
    }
    writer.flush()
}
