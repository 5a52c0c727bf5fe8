//! Printing groups back as canonical YAML.

//!
//! The printer writes YAML itself rather than through serde_yaml: the text it writes must
//! read back exactly through the loader's YAML 1.2 reader, and serde_yaml's YAML 1.1 writer
//! disagrees with it on characters such as U+2028 (a line break in YAML 1.1, text in 1.2).
//! Every scalar is written plain only when it can only be read back as the same text, in
//! single quotes when it has no character that needs an escape, and otherwise in double quotes
//! with escapes.

use cohort_syntax::{Expr, GroupDef};
use std::fmt::Write;

/// Why groups cannot be printed as YAML.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The YAML writer failed.
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

/// A group as printed.
struct Group<'a> {
    name: &'a str,
    description: Option<&'a str>,
    join: Option<&'static str>,
    blocks: Option<Vec<Block<'a>>>,
    condition: Option<String>,
}

enum Block<'a> {
    All(Vec<Criterion<'a>>),
    Any(Vec<Criterion<'a>>),
}

struct Criterion<'a> {
    /// Empty for `member of`, which names a group instead.
    field: &'a str,
    operator: &'static str,
    values: Vec<&'a str>,
    case_sensitive: bool,
}

/// Prints groups as one canonical YAML document: a `groups:` list (or a single group when
/// `single` is set and there is one group), canonical operator phrases, values as lists of
/// strings; a group that is not a list of blocks gets `where:` and its condition as text.
/// Loading the output gives back the same trees (conditions under `where:` normalized, see
/// `Expr::normalized`).
///
/// ```
/// use cohort_load::{Loader, to_yaml};
///
/// let mut loader = Loader::new();
/// loader.add_str("g.yaml", "name: G\nblocks: [[{field: OS, operator: Equals, value: '10.10'}]]");
/// let groups = loader.finish().groups;
/// let yaml = to_yaml(&groups, false).unwrap();
/// assert_eq!(yaml, "groups:\n- name: G\n  blocks:\n  - - field: OS\n      operator: equal\n      values:\n      - '10.10'\n");
/// ```
pub fn to_yaml(groups: &[GroupDef], single: bool) -> Result<String, PrintError> {
    let groups: Vec<Group<'_>> = groups.iter().map(group).collect();
    let mut out = String::new();
    if let [only] = groups.as_slice()
        && single
    {
        write_lines(&mut out, &group_lines(only));
        return Ok(out);
    }
    if groups.is_empty() {
        out.push_str("groups: []\n");
        return Ok(out);
    }
    out.push_str("groups:\n");
    for group in &groups {
        write_lines(&mut out, &item(group_lines(group)));
    }
    Ok(out)
}

fn write_lines(out: &mut String, lines: &[String]) {
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
}

/// `lines` as one item of a block sequence: `- ` before the first, two spaces before the rest.
fn item(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            if index == 0 {
                format!("- {line}")
            } else {
                format!("  {line}")
            }
        })
        .collect()
}

fn group_lines(group: &Group<'_>) -> Vec<String> {
    let mut lines = vec![format!("name: {}", scalar(group.name))];
    if let Some(description) = group.description {
        lines.push(format!("description: {}", scalar(description)));
    }
    if let Some(join) = group.join {
        lines.push(format!("match: {join}"));
    }
    if let Some(blocks) = &group.blocks {
        lines.push("blocks:".to_owned());
        for block in blocks {
            let block_lines = match block {
                Block::All(criteria) => criteria
                    .iter()
                    .flat_map(|c| item(criterion_lines(c)))
                    .collect(),
                Block::Any(criteria) => {
                    let mut lines = vec!["match: any".to_owned(), "criteria:".to_owned()];
                    lines.extend(criteria.iter().flat_map(|c| item(criterion_lines(c))));
                    lines
                }
            };
            lines.extend(item(block_lines));
        }
    }
    if let Some(condition) = &group.condition {
        lines.push(format!("where: {}", scalar(condition)));
    }
    lines
}

fn criterion_lines(criterion: &Criterion<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    if !criterion.field.is_empty() {
        lines.push(format!("field: {}", scalar(criterion.field)));
    }
    lines.push(format!("operator: {}", scalar(criterion.operator)));
    if !criterion.values.is_empty() {
        lines.push("values:".to_owned());
        lines.extend(
            criterion
                .values
                .iter()
                .map(|value| format!("- {}", scalar(value))),
        );
    }
    if criterion.case_sensitive {
        lines.push("case_sensitive: true".to_owned());
    }
    lines
}

/// `text` as a YAML scalar that reads back as exactly `text`, and as a string.
///
/// ```text
/// OS           -> OS
/// 10.10        -> '10.10'      (would read as a number)
/// it's         -> it's
/// a: b         -> 'a: b'
/// line\nbreak  -> "line\nbreak"
/// ```
pub(crate) fn scalar(text: &str) -> String {
    if is_plain_safe(text) {
        return text.to_owned();
    }
    if text.chars().all(|c| !needs_escape(c)) {
        return format!("'{}'", text.replace('\'', "''"));
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that are not printable in YAML, or that a YAML 1.1 reader takes as a line
/// break: written escaped, in double quotes.
fn needs_escape(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Whether `text` can be written without quotes: it reads back as this very text and as a
/// string, in YAML 1.2 and in YAML 1.1 readers alike.
fn is_plain_safe(text: &str) -> bool {
    let (Some(first), Some(last)) = (text.chars().next(), text.chars().last()) else {
        return false;
    };
    let first_is_indicator = "-?:,[]{}#&*!|>'\"%@`".contains(first);
    let looks_typed = first.is_ascii_digit()
        || matches!(first, '+' | '.' | '~' | '=' | '<')
        || matches!(
            text.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off"
        );
    !first_is_indicator
        && !looks_typed
        && !first.is_whitespace()
        && !last.is_whitespace()
        && last != ':'
        && !text.contains(": ")
        && !text.contains(" #")
        && text
            .chars()
            .all(|c| !needs_escape(c) && (c == ' ' || !c.is_whitespace()))
}

fn group(def: &GroupDef) -> Group<'_> {
    let as_where = || Group {
        name: &def.name,
        description: def.description.as_deref(),
        join: None,
        blocks: None,
        condition: Some(cohort_syntax::expr_to_text(&def.condition)),
    };
    let (join, items) = match &def.condition {
        Expr::Any { items, .. } if !items.is_empty() => (None, items),
        Expr::All { items, .. } if !items.is_empty() => (Some("all"), items),
        _ => return as_where(),
    };
    let blocks = items
        .iter()
        .map(|item| {
            let (all, criteria) = match item {
                Expr::All { items, .. } if !items.is_empty() => (true, items),
                Expr::Any { items, .. } if !items.is_empty() => (false, items),
                _ => return None,
            };
            let criteria = criteria
                .iter()
                .map(|expr| match expr {
                    Expr::Criterion(c) => Some(Criterion {
                        field: &c.field,
                        operator: c.op.phrase(),
                        values: c.values.iter().map(|v| v.text.as_str()).collect(),
                        case_sensitive: c.case_sensitive,
                    }),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(if all {
                Block::All(criteria)
            } else {
                Block::Any(criteria)
            })
        })
        .collect::<Option<Vec<_>>>();
    match blocks {
        Some(blocks) => Group {
            name: &def.name,
            description: def.description.as_deref(),
            join,
            blocks: Some(blocks),
            condition: None,
        },
        None => as_where(),
    }
}

#[cfg(test)]
mod tests {
    use super::scalar;

    #[test]
    fn scalars_read_back_as_the_same_text() {
        let cases = [
            ("OS", "OS"),
            ("Free Disk %", "Free Disk %"),
            ("10.10", "'10.10'"),
            ("2024.1.0", "'2024.1.0'"),
            ("yes", "'yes'"),
            ("it's", "it's"),
            ("a: b", "'a: b'"),
            (" padded ", "' padded '"),
            ("-1", "'-1'"),
            ("", "''"),
            ("line\nbreak", "\"line\\nbreak\""),
            ("\u{2028}", "\"\\L\""),
            ("tab\there", "\"tab\\there\""),
            ("q\"\\", "q\"\\"),
            ("N", "N"),
        ];
        for (text, written) in cases {
            assert_eq!(scalar(text), written, "{text:?}");
        }
    }
}
