//! Importing group documents written in Markdown, in the style of RMM solution docs:
//! YAML front matter (`title`, `description`), a "Group Criteria" table
//! (`Block | Criteria Name | Operator | Value(s)`, values in backticks) and a logic sentence.

use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Span};

/// A row or part of a document that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MarkdownError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// A likely fix.
    pub help: Option<String>,
}

/// Reads one group document. Every row that cannot be read is reported with its line; a
/// group is returned only when nothing was wrong.
///
/// ```
/// let doc = "---\ntitle: 'Low Disk'\n---\n## Group Criteria\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n| 1 | Free Disk % | Less Than | `10` |\n";
/// let group = cohort_load::import_markdown(doc).unwrap();
/// assert_eq!(group.name, "Low Disk");
/// assert_eq!(group.condition.criteria().next().unwrap().values[0].text, "10");
/// ```
pub fn import_markdown(text: &str) -> Result<GroupDef, Vec<MarkdownError>> {
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let front = front_matter(&lines, &mut errors);
    let name = summary_value(&lines, "Group Name").or_else(|| front.get("title").cloned());
    let description = front
        .get("description")
        .cloned()
        .or_else(|| summary_value(&lines, "Description"));
    let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
        errors.push(MarkdownError {
            line: 1,
            message: "no group name: expected `title:` in the front matter or `**Group Name:**` in the text".into(),
            help: None,
        });
        return Err(errors);
    };
    let blocks = criteria_table(&lines, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let logic = lines
        .iter()
        .map(|l| l.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let items = blocks
        .into_iter()
        .map(|(number, criteria)| {
            let items = criteria.into_iter().map(Expr::Criterion).collect();
            let any = logic.contains(&format!("any criteria in block {number}"))
                || logic.contains(&format!("any of the criteria in block {number}"));
            if any {
                Expr::any(items)
            } else {
                Expr::all(items)
            }
        })
        .collect();
    let condition = if logic.contains("all blocks") || logic.contains("every block") {
        Expr::all(items)
    } else {
        Expr::any(items)
    };
    Ok(GroupDef {
        name,
        description,
        condition,
        loc: Loc::default(),
    })
}

/// `key: value` pairs of the front matter (values unquoted).
fn front_matter(
    lines: &[&str],
    errors: &mut Vec<MarkdownError>,
) -> std::collections::HashMap<String, String> {
    let mut values = std::collections::HashMap::new();
    if lines.first().map(|l| l.trim()) != Some("---") {
        return values;
    }
    let Some(end) = lines.iter().skip(1).position(|l| l.trim() == "---") else {
        errors.push(MarkdownError {
            line: 1,
            message: "the front matter is not closed: expected a `---` line".into(),
            help: None,
        });
        return values;
    };
    let yaml = lines[1..=end].join("\n");
    match serde_yaml::from_str::<std::collections::HashMap<String, serde_yaml::Value>>(&yaml) {
        Ok(map) => {
            for (key, value) in map {
                if let serde_yaml::Value::String(text) = value {
                    values.insert(key, text);
                }
            }
        }
        Err(error) => errors.push(MarkdownError {
            line: 1 + error.location().map_or(1, |l| l.line()),
            message: format!("invalid front matter: {error}"),
            help: None,
        }),
    }
    values
}

/// The value after `**Label:**` on a line, without backticks.
fn summary_value(lines: &[&str], label: &str) -> Option<String> {
    let marker = format!("**{label}:**");
    lines.iter().find_map(|line| {
        let rest = line.split_once(&marker)?.1.trim();
        let value = rest.trim_matches('`').trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

fn cells(line: &str) -> Vec<String> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// The values of a cell: each backticked span, or the whole cell when it has none.
fn cell_values(cell: &str) -> Vec<String> {
    if cell.contains('`') {
        cell.split('`')
            .enumerate()
            .filter(|(index, _)| index % 2 == 1)
            .map(|(_, value)| value.to_owned())
            .collect()
    } else if cell.is_empty() {
        Vec::new()
    } else {
        vec![cell.to_owned()]
    }
}

/// The criteria of each block, in block order, from the "Group Criteria" table.
fn criteria_table(lines: &[&str], errors: &mut Vec<MarkdownError>) -> Vec<(u32, Vec<Criterion>)> {
    let section = lines.iter().position(|l| {
        l.trim_start().starts_with('#') && l.to_lowercase().contains("group criteria")
    });
    let start = section.map_or(0, |s| s + 1);
    let header = lines
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, l)| {
            let lower = l.to_lowercase();
            l.trim_start().starts_with('|')
                && lower.contains("criteria")
                && lower.contains("operator")
        })
        .map(|(index, _)| index);
    let Some(header) = header else {
        errors.push(MarkdownError {
            line: start + 1,
            message: "no criteria table: expected a table with the columns `Block | Criteria Name | Operator | Value(s)`".into(),
            help: None,
        });
        return Vec::new();
    };
    let columns: Vec<String> = cells(lines[header])
        .iter()
        .map(|c| c.to_lowercase())
        .collect();
    let column = |names: &[&str]| {
        columns
            .iter()
            .position(|c| names.iter().any(|n| c.contains(n)))
    };
    let (Some(block_col), Some(field_col), Some(op_col)) = (
        column(&["block"]),
        column(&["criteria", "field", "name"]),
        column(&["operator"]),
    ) else {
        errors.push(MarkdownError {
            line: header + 1,
            message: "the criteria table needs the columns `Block`, `Criteria Name` and `Operator`"
                .into(),
            help: None,
        });
        return Vec::new();
    };
    let value_col = column(&["value"]);
    let mut blocks: Vec<(u32, Vec<Criterion>)> = Vec::new();
    for (index, line) in lines.iter().enumerate().skip(header + 2) {
        if !line.trim_start().starts_with('|') {
            break;
        }
        let number = index + 1;
        let row = cells(line);
        let get = |col: usize| row.get(col).map(String::as_str).unwrap_or_default();
        if row.len() < columns.len() {
            errors.push(MarkdownError {
                line: number,
                message: format!("row has {} cells, expected {}", row.len(), columns.len()),
                help: None,
            });
            continue;
        }
        let Ok(block) = get(block_col).parse::<u32>() else {
            errors.push(MarkdownError {
                line: number,
                message: format!("block `{}` is not a number", get(block_col)),
                help: None,
            });
            continue;
        };
        let field = get(field_col).trim_matches('`').trim();
        if field.is_empty() {
            errors.push(MarkdownError {
                line: number,
                message: "row has no criteria name".into(),
                help: None,
            });
            continue;
        }
        let phrase = get(op_col);
        let Some(op) = Op::from_phrase(phrase) else {
            errors.push(MarkdownError {
                line: number,
                message: format!("unknown operator `{phrase}`"),
                help: Op::suggest(phrase).map(|s| format!("did you mean `{s}`?")),
            });
            continue;
        };
        let values = value_col
            .map(|col| cell_values(get(col)))
            .unwrap_or_default();
        let row_start: usize = lines[..index].iter().map(|l| l.len() + 1).sum();
        let row = Loc::at(Span::new(row_start, row_start + line.len()));
        let mut criterion = Criterion::new(
            field,
            op,
            values
                .into_iter()
                .map(|text| Literal {
                    text,
                    loc: row.clone(),
                })
                .collect(),
        );
        criterion.loc = row.clone();
        criterion.op_loc = row;
        match blocks.iter_mut().find(|(n, _)| *n == block) {
            Some((_, criteria)) => criteria.push(criterion),
            None => blocks.push((block, vec![criterion])),
        }
    }
    if blocks.is_empty() && errors.is_empty() {
        errors.push(MarkdownError {
            line: header + 1,
            message: "the criteria table has no rows".into(),
            help: None,
        });
    }
    blocks.sort_by_key(|(n, _)| *n);
    blocks
}
