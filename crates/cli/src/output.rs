//! Printing evaluation results and group lists.

use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Write};

/// One group's members, by machine id, in input order.
pub(crate) struct GroupResult<'a> {
    pub(crate) name: String,
    /// How many members the group has.
    pub(crate) count: usize,
    /// Their ids: all of them, or for the summary table only the first [`TABLE_MEMBERS`].
    pub(crate) members: MemberIds<'a>,
    /// With `--columns`: per member, the value of each column (`None`: the machine has none).
    pub(crate) columns: Vec<Vec<Option<&'a Value>>>,
}

/// A group's member ids in input order, made as they are printed: a fleet of a million
/// machines has millions of memberships, which held as strings would take more memory than
/// the fleet's columns.
pub(crate) struct MemberIds<'a> {
    make: Box<dyn Fn() -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> + 'a>,
}

impl<'a> MemberIds<'a> {
    /// The ids that `make` gives, each time they are asked for.
    pub(crate) fn new(
        make: impl Fn() -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> + 'a,
    ) -> MemberIds<'a> {
        MemberIds {
            make: Box::new(make),
        }
    }

    /// The ids, from the first.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> {
        (self.make)()
    }
}

/// One group of `cohort list`.
pub(crate) struct Listed<'a> {
    pub(crate) name: &'a str,
    pub(crate) description: Option<&'a str>,
    /// Its members, when machines were given.
    pub(crate) count: Option<usize>,
}

/// How many member ids the table shows per group.
pub(crate) const TABLE_MEMBERS: usize = 5;

/// `1 group`, `2 groups`, `0 groups`.
pub(crate) fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The summary line every command ends with on success: `ok: WHAT`, or `warning: WHAT, N
/// bad records skipped` when records were left out.
fn summary(out: &mut dyn Write, what: &str, skipped: usize) -> io::Result<()> {
    if skipped == 0 {
        writeln!(out, "ok: {what}")
    } else {
        writeln!(
            out,
            "warning: {what}, {} skipped",
            counted(skipped, "bad record")
        )
    }
}

/// `N groups over M machines`.
fn over(groups: usize, machines: usize) -> String {
    format!(
        "{} over {}",
        counted(groups, "group"),
        counted(machines, "machine")
    )
}

/// The width of `text` in characters.
fn width(text: &str) -> usize {
    text.chars().count()
}

pub(crate) fn table(
    out: &mut dyn Write,
    machines: usize,
    groups: &[GroupResult],
    skipped: usize,
) -> io::Result<()> {
    let name_width = groups
        .iter()
        .map(|g| width(&g.name))
        .chain(["GROUP".len()])
        .max()
        .unwrap_or(5);
    let count_width = groups
        .iter()
        .map(|g| g.count.to_string().len())
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
            .map(|member| crate::terminal::one_line(&member).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        if group.count > TABLE_MEMBERS {
            shown.push_str(&format!(", ... (+{})", group.count - TABLE_MEMBERS));
        }
        writeln!(
            out,
            "{:<name_width$}  {:>count_width$}  {shown}",
            group.name, group.count
        )?;
    }
    summary(out, &over(groups.len(), machines), skipped)
}

/// A value as a table cell: text as it is, a list of texts joined by `, `, anything else as
/// JSON; a missing value is empty.
fn cell(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => crate::terminal::one_line(text),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Cow::Owned(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(crate::terminal::one_line)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

/// Every member of every group, one per line under the group's name, with its columns.
pub(crate) fn members_table(
    out: &mut dyn Write,
    machines: usize,
    columns: &[&str],
    groups: &[GroupResult<'_>],
    skipped: usize,
) -> io::Result<()> {
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}: {}", group.name, counted(group.count, "member"))?;
        if group.count == 0 {
            continue;
        }
        let cells: Vec<Vec<Cow<'_, str>>> = group
            .columns
            .iter()
            .map(|row| row.iter().map(|value| cell(*value)).collect())
            .collect();
        let ids: Vec<Cow<'_, str>> = group.members.iter().collect();
        let members: Vec<Cow<'_, str>> = ids
            .iter()
            .map(|member| crate::terminal::one_line(member))
            .collect();
        let mut widths: Vec<usize> = std::iter::once("MACHINE")
            .chain(columns.iter().copied())
            .map(width)
            .collect();
        for (member, row) in members
            .iter()
            .zip(cells.iter().chain(std::iter::repeat(&Vec::new())))
        {
            if let Some(first) = widths.first_mut() {
                *first = (*first).max(width(member));
            }
            for (column, text) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(column + 1) {
                    *w = (*w).max(width(text));
                }
            }
        }
        let line = |out: &mut dyn Write, texts: &[&str]| -> io::Result<()> {
            let mut text = String::from("  ");
            for (column, piece) in texts.iter().enumerate() {
                let last = column + 1 == texts.len();
                text.push_str(piece);
                if !last {
                    let pad = widths.get(column).copied().unwrap_or(0)
                        - width(piece).min(widths.get(column).copied().unwrap_or(0));
                    text.push_str(&" ".repeat(pad + 2));
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        if !columns.is_empty() {
            let header: Vec<&str> = std::iter::once("MACHINE")
                .chain(columns.iter().copied())
                .collect();
            line(out, &header)?;
        }
        for (position, member) in members.iter().enumerate() {
            let mut texts: Vec<&str> = vec![member];
            if let Some(row) = cells.get(position) {
                texts.extend(row.iter().map(|c| &**c));
            }
            line(out, &texts)?;
        }
    }
    if !groups.is_empty() {
        writeln!(out)?;
    }
    summary(out, &over(groups.len(), machines), skipped)
}

/// `{"machines": N, "groups": [{"name", "count", "members"}]}`, written as it goes (a fleet
/// of a million machines has millions of member ids). With `columns`, each member is
/// `{"machine": ID, "columns": {FIELD: VALUE or null}}`.
pub(crate) fn json(
    out: &mut dyn Write,
    machines: usize,
    groups: &[GroupResult<'_>],
    columns: &[&str],
) -> io::Result<()> {
    // Millions of small pieces: written into a buffer of this function's own type, not one
    // call through `dyn Write` each.
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let out = &mut out;
    write!(out, "{{\"machines\":{machines},\"groups\":[")?;
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"name\":")?;
        json_string(out, &group.name)?;
        write!(out, ",\"count\":{},\"members\":[", group.count)?;
        for (position, member) in group.members.iter().enumerate() {
            if position > 0 {
                out.write_all(b",")?;
            }
            if columns.is_empty() {
                json_string(out, &member)?;
                continue;
            }
            out.write_all(b"{\"machine\":")?;
            json_string(out, &member)?;
            out.write_all(b",\"columns\":{")?;
            let row = group.columns.get(position);
            for (column, name) in columns.iter().enumerate() {
                if column > 0 {
                    out.write_all(b",")?;
                }
                json_string(out, name)?;
                out.write_all(b":")?;
                let value = row.and_then(|row| row.get(column).copied().flatten());
                serde_json::to_writer(&mut *out, &value.unwrap_or(&Value::Null))
                    .map_err(io::Error::other)?;
            }
            out.write_all(b"}}")?;
        }
        out.write_all(b"]}")?;
    }
    writeln!(out, "]}}")?;
    out.flush()
}

/// `text` as a JSON string: as it is between quotes when nothing in it needs escaping (most
/// machine ids), else as serde_json escapes it.
fn json_string<W: Write + ?Sized>(out: &mut W, text: &str) -> io::Result<()> {
    if text
        .bytes()
        .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
    {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *out, text).map_err(io::Error::other)
    }
}

/// A value as a CSV field: text as it is, anything else as JSON, a missing value empty.
fn field(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

/// One `group,machine` row per membership (then one field per column).
pub(crate) fn csv(
    out: &mut dyn Write,
    groups: &[GroupResult<'_>],
    columns: &[&str],
) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let csv_error = |e: ::csv::Error| io::Error::other(e.to_string());
    let header: Vec<&str> = ["group", "machine"]
        .into_iter()
        .chain(columns.iter().copied())
        .collect();
    writer.write_record(&header).map_err(csv_error)?;
    for group in groups {
        for (position, member) in group.members.iter().enumerate() {
            if columns.is_empty() {
                writer
                    .write_record([group.name.as_bytes(), member.as_bytes()])
                    .map_err(csv_error)?;
                continue;
            }
            let mut record: Vec<Cow<'_, str>> =
                vec![Cow::Borrowed(&group.name), Cow::Borrowed(&member)];
            if let Some(row) = group.columns.get(position) {
                record.extend(row.iter().map(|value| field(*value)));
            }
            writer
                .write_record(record.iter().map(|f| f.as_bytes()))
                .map_err(csv_error)?;
        }
    }
    writer.flush()
}

/// `cohort list` for people: name, member count (with machines) and description.
pub(crate) fn list_table(
    out: &mut dyn Write,
    machines: Option<usize>,
    groups: &[Listed<'_>],
) -> io::Result<()> {
    let name_width = groups
        .iter()
        .map(|g| width(g.name))
        .chain(["GROUP".len()])
        .max()
        .unwrap_or(5);
    let count_width = groups
        .iter()
        .filter_map(|g| g.count)
        .map(|count| count.to_string().len())
        .chain(["MEMBERS".len()])
        .max()
        .unwrap_or(7);
    let row = |out: &mut dyn Write, name: &str, count: Option<&str>, description: &str| {
        let text = match count {
            Some(count) => format!("{name:<name_width$}  {count:>count_width$}  {description}"),
            None => format!("{name:<name_width$}  {description}"),
        };
        writeln!(out, "{}", text.trim_end())
    };
    row(out, "GROUP", machines.map(|_| "MEMBERS"), "DESCRIPTION")?;
    for group in groups {
        let count = group.count.map(|count| count.to_string());
        // A description on several lines is shown on one.
        let description = group
            .description
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        row(out, group.name, count.as_deref(), &description)?;
    }
    match machines {
        Some(machines) => summary(out, &over(groups.len(), machines), 0),
        None => summary(out, &counted(groups.len(), "group"), 0),
    }
}

/// `{"machines": N, "groups": [{"name", "description", "count"}]}` (`machines` and `count`
/// only when machines were given; `description` null when there is none).
pub(crate) fn list_json(
    out: &mut dyn Write,
    machines: Option<usize>,
    groups: &[Listed<'_>],
) -> io::Result<()> {
    out.write_all(b"{")?;
    if let Some(machines) = machines {
        write!(out, "\"machines\":{machines},")?;
    }
    out.write_all(b"\"groups\":[")?;
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"name\":")?;
        json_string(out, group.name)?;
        out.write_all(b",\"description\":")?;
        match group.description {
            Some(description) => json_string(out, description)?,
            None => out.write_all(b"null")?,
        }
        if let Some(count) = group.count {
            write!(out, ",\"count\":{count}")?;
        }
        out.write_all(b"}")?;
    }
    writeln!(out, "]}}")
}

/// One `group,description[,count]` row per group.
pub(crate) fn list_csv(out: &mut dyn Write, groups: &[Listed<'_>]) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let csv_error = |e: ::csv::Error| io::Error::other(e.to_string());
    let counted = groups.iter().any(|g| g.count.is_some());
    let mut header = vec!["group", "description"];
    if counted {
        header.push("count");
    }
    writer.write_record(&header).map_err(csv_error)?;
    for group in groups {
        let mut record = vec![
            group.name.to_owned(),
            group.description.unwrap_or_default().to_owned(),
        ];
        if counted {
            record.push(group.count.unwrap_or_default().to_string());
        }
        writer.write_record(&record).map_err(csv_error)?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::json_string;

    /// Ids written between quotes as they are, or escaped, read back as the same text.
    #[test]
    fn json_strings_read_back_as_the_text_written() {
        for text in [
            "M00001",
            "",
            "a\"b",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "\u{1}",
            "\u{7f}",
            "Zoë – 東京",
            "\u{2028}",
        ] {
            let mut out = Vec::new();
            json_string(&mut out, text).unwrap();
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}
