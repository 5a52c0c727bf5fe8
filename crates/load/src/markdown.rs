//! Importing group documents written in Markdown, in the style of RMM solution docs:
//! YAML front matter (`title`, `description`), a "Group Criteria" table
//! (`Block | Criteria Name | Operator | Value(s)`, values in backticks) and a logic sentence.
//!
//! Documents come from many tenants and may be hostile: the text is read in one pass over its
//! lines (every line's byte offset is known as it is read, blocks are kept in a map, the logic
//! sentence is read once), and sizes are bounded by the limits below.

use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Span};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The largest text [`import_markdown`] reads, in bytes (16 MiB, as for a definitions file).
pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// The most rows the criteria table may have.
pub const MAX_ROWS: usize = 100_000;
/// The most cells a row (or the header) of the criteria table may have.
pub const MAX_CELLS: usize = 64;
/// The most values (code spans of the `Value(s)` column) in the whole table.
pub const MAX_VALUES: usize = 1_000_000;
/// The most errors reported for one document; reading stops after them.
pub const MAX_ERRORS: usize = 100;

/// A limit of [`import_markdown`] that a document went past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkdownLimit {
    /// The text is longer than [`MAX_TEXT_BYTES`].
    TextBytes,
    /// The criteria table has more than [`MAX_ROWS`] rows.
    Rows,
    /// A row has more than [`MAX_CELLS`] cells.
    Cells,
    /// The table has more than [`MAX_VALUES`] values.
    Values,
    /// The document has more than [`MAX_ERRORS`] errors.
    Errors,
}

impl MarkdownLimit {
    /// The number the limit allows.
    pub fn limit(self) -> usize {
        match self {
            MarkdownLimit::TextBytes => MAX_TEXT_BYTES,
            MarkdownLimit::Rows => MAX_ROWS,
            MarkdownLimit::Cells => MAX_CELLS,
            MarkdownLimit::Values => MAX_VALUES,
            MarkdownLimit::Errors => MAX_ERRORS,
        }
    }
}

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
    /// The limit the document went past, when that is what is wrong.
    pub limit: Option<MarkdownLimit>,
}

impl MarkdownError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        MarkdownError {
            line,
            message: message.into(),
            help: None,
            limit: None,
        }
    }

    fn over(line: usize, limit: MarkdownLimit, message: String) -> Self {
        MarkdownError {
            limit: Some(limit),
            ..MarkdownError::new(line, message)
        }
    }
}

/// Reads one group document. Every row that cannot be read is reported with its line; a
/// group is returned only when nothing was wrong.
///
/// The criteria table is a GitHub table: cells are split on `|` outside code spans, so a
/// value such as `` `^DC-|^SRV-` `` keeps its pipe, and `\|` is a pipe in the text of a
/// cell (inside code spans too, as GitHub shows it). The values of a cell are its code
/// spans (one leading and one trailing space are stripped when both are there, as in
/// Markdown), or the whole cell when it has none. Lines end with `\n` or `\r\n`, and a
/// UTF-8 byte-order mark at the start is skipped; locations are byte offsets in `text` as
/// given, so lines and columns are right for either.
///
/// # Limits
///
/// Reading is linear in the size of the text, and bounded:
///
/// * the text: at most [`MAX_TEXT_BYTES`] (16 MiB); a longer text is refused with one error
///   before anything is read;
/// * rows of the criteria table: at most [`MAX_ROWS`] (100,000);
/// * cells of a row or of the header: at most [`MAX_CELLS`] (64); a longer row is reported
///   and skipped;
/// * values in the whole table: at most [`MAX_VALUES`] (1,000,000);
/// * errors: at most [`MAX_ERRORS`] (100), then one more saying that reading stopped.
///
/// An error for a limit names it in its message and in [`MarkdownError::limit`].
///
/// ```
/// let doc = "---\ntitle: 'Low Disk'\n---\n## Group Criteria\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n| 1 | Free Disk % | Less Than | `10` |\n";
/// let group = cohort_load::import_markdown(doc).unwrap();
/// assert_eq!(group.name, "Low Disk");
/// assert_eq!(group.condition.criteria().next().unwrap().values[0].text, "10");
/// ```
pub fn import_markdown(text: &str) -> Result<GroupDef, Vec<MarkdownError>> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(vec![MarkdownError::over(
            1,
            MarkdownLimit::TextBytes,
            format!(
                "the document is {} bytes, over the limit of {MAX_TEXT_BYTES} bytes (16 MiB) for a Markdown group document",
                text.len()
            ),
        )]);
    }
    let mut errors = Errors::default();
    let front = front_matter(text, &mut errors);
    let name = summary_value(text, "Group Name").or_else(|| front.get("title").cloned());
    let description = front
        .get("description")
        .cloned()
        .or_else(|| summary_value(text, "Description"));
    let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
        errors.push(MarkdownError::new(
            1,
            "no group name: expected `title:` in the front matter or `**Group Name:**` in the text",
        ));
        return Err(errors.list);
    };
    let blocks = criteria_table(text, &mut errors);
    if !errors.list.is_empty() {
        return Err(errors.list);
    }
    let logic = Logic::read(text);
    let items = blocks
        .into_iter()
        .map(|(number, criteria)| {
            let items = criteria.into_iter().map(Expr::Criterion).collect();
            if logic.any_blocks.contains(&number) {
                Expr::any(items)
            } else {
                Expr::all(items)
            }
        })
        .collect();
    let condition = if logic.all_blocks {
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

/// The errors of a document, at most [`MAX_ERRORS`] and one saying that reading stopped.
#[derive(Default)]
struct Errors {
    list: Vec<MarkdownError>,
}

impl Errors {
    fn push(&mut self, error: MarkdownError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        } else if self.list.len() == MAX_ERRORS {
            let line = error.line;
            self.list.push(MarkdownError::over(
                line,
                MarkdownLimit::Errors,
                format!("too many errors: reading stopped at line {line}, after the limit of {MAX_ERRORS} errors"),
            ));
        }
    }

    fn full(&self) -> bool {
        self.list.len() > MAX_ERRORS
    }
}

/// A line of the document: its text without the line ending, and where it starts in the text.
#[derive(Clone, Copy, Debug)]
struct Line<'t> {
    start: usize,
    text: &'t str,
}

impl Line<'_> {
    fn trim(&self) -> &str {
        self.text.trim()
    }
}

/// The lines of `text` as [`str::lines`] splits them (on `\n` and `\r\n`), each with its
/// byte offset in `text`; a byte-order mark at the start is not part of the first line.
/// Each pass over the document walks the text again rather than keeping a list of lines
/// (a text of empty lines would make that list many times larger than the text).
fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let bom = text
        .strip_prefix('\u{feff}')
        .map_or(0, |_| '\u{feff}'.len_utf8());
    let mut start = bom;
    text[bom..].split_inclusive('\n').map(move |piece| {
        let line = match piece.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => piece,
        };
        let line = Line { start, text: line };
        start += piece.len();
        line
    })
}

/// `key: value` pairs of the front matter (values unquoted).
fn front_matter(text: &str, errors: &mut Errors) -> HashMap<String, String> {
    let mut values = HashMap::new();
    if lines(text).next().as_ref().map(Line::trim) != Some("---") {
        return values;
    }
    let Some(end) = lines(text).skip(1).position(|l| l.trim() == "---") else {
        errors.push(MarkdownError::new(
            1,
            "the front matter is not closed: expected a `---` line",
        ));
        return values;
    };
    let yaml = lines(text)
        .skip(1)
        .take(end)
        .map(|l| l.text)
        .collect::<Vec<_>>()
        .join("\n");
    match serde_yaml::from_str::<HashMap<String, serde_yaml::Value>>(&yaml) {
        Ok(map) => {
            for (key, value) in map {
                if let serde_yaml::Value::String(text) = value {
                    values.insert(key, text);
                }
            }
        }
        Err(error) => errors.push(MarkdownError::new(
            1 + error.location().map_or(1, |l| l.line()),
            format!("invalid front matter: {error}"),
        )),
    }
    values
}

/// The value after `**Label:**` on a line, without backticks: the first line with the label
/// and a value. The label is searched in the whole text (not line by line: a pattern search
/// per line costs more than the line itself when lines are short).
fn summary_value(text: &str, label: &str) -> Option<String> {
    let marker = format!("**{label}:**");
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at + marker.len()..];
        let line = after.find('\n').map_or(after, |end| &after[..end]);
        let value = line.trim().trim_matches('`').trim();
        if !value.is_empty() {
            return Some(value.to_owned());
        }
        rest = &after[line.len()..];
    }
    None
}

/// What the logic sentence says: the blocks whose criteria are alternatives ("ANY criteria
/// in Block 2"), and whether every block must match ("ALL blocks").
struct Logic {
    any_blocks: HashSet<u32>,
    all_blocks: bool,
}

impl Logic {
    /// Reads the whole document once (line endings read as spaces, so a sentence may wrap).
    fn read(text: &str) -> Logic {
        let text = text
            .strip_prefix('\u{feff}')
            .unwrap_or(text)
            .to_lowercase()
            .replace("\r\n", " ")
            .replace('\n', " ");
        let mut any_blocks = HashSet::new();
        for phrase in ["any criteria in block ", "any of the criteria in block "] {
            for (at, _) in text.match_indices(phrase) {
                let rest = &text[at + phrase.len()..];
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                if let Ok(number) = rest[..digits].parse::<u32>() {
                    any_blocks.insert(number);
                }
            }
        }
        Logic {
            any_blocks,
            all_blocks: text.contains("all blocks") || text.contains("every block"),
        }
    }
}

/// One cell of a table row: its text (trimmed, `\|` read as `|`) and its code spans.
#[derive(Debug, Default, PartialEq, Eq)]
struct Cell {
    text: String,
    /// The text of each code span, as Markdown shows it.
    spans: Vec<String>,
    /// Whether a backtick opened no code span (nothing closes it).
    stray_backtick: bool,
}

/// The cells of a table row: split on `|` outside code spans, without the leading and
/// trailing pipes. `None` when the row has more than `MAX_CELLS` cells. Linear in the length
/// of the line: each backtick run knows the next run of the same length.
fn cells(line: &str) -> Option<Vec<Cell>> {
    let line = line.trim();
    let bytes = line.as_bytes();
    // Backtick runs (start, length), and for each the index of the next run of its length.
    let mut runs = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'`' {
            let start = index;
            while index < bytes.len() && bytes[index] == b'`' {
                index += 1;
            }
            runs.push((start, index - start));
        } else {
            index += 1;
        }
    }
    let mut closer = vec![None; runs.len()];
    let mut next_of_length: HashMap<usize, usize> = HashMap::new();
    for (run, &(_, length)) in runs.iter().enumerate().rev() {
        closer[run] = next_of_length.insert(length, run);
    }

    let mut cells = Vec::new();
    let mut cell = Cell::default();
    let mut piece_start = 0;
    let mut index = 0;
    let mut run = 0;
    // A leading pipe opens the first cell rather than ending an empty one.
    if bytes.first() == Some(&b'|') {
        index = 1;
        piece_start = 1;
    }
    let mut ended_by_pipe = false;
    while index < bytes.len() {
        ended_by_pipe = false;
        match bytes[index] {
            b'\\' if bytes.get(index + 1) == Some(&b'|') => {
                cell.text.push_str(&line[piece_start..index]);
                cell.text.push('|');
                index += 2;
                piece_start = index;
            }
            b'`' => {
                let (start, length) = runs[run];
                match closer[run] {
                    Some(close) => {
                        let (close_start, close_length) = runs[close];
                        let end = close_start + close_length;
                        let content = line[start + length..close_start].replace("\\|", "|");
                        cell.text.push_str(&line[piece_start..start + length]);
                        cell.text.push_str(&content);
                        cell.text.push_str(&line[close_start..end]);
                        cell.spans.push(code_span_text(content));
                        run = close + 1;
                        index = end;
                        piece_start = end;
                    }
                    None => {
                        cell.stray_backtick = true;
                        run += 1;
                        index = start + length;
                    }
                }
            }
            b'|' => {
                cell.text.push_str(&line[piece_start..index]);
                cells.push(finish_cell(cell));
                if cells.len() > MAX_CELLS {
                    return None;
                }
                cell = Cell::default();
                index += 1;
                piece_start = index;
                ended_by_pipe = true;
            }
            _ => index += 1,
        }
    }
    cell.text.push_str(&line[piece_start..]);
    // A trailing pipe closes the last cell rather than opening an empty one.
    if !ended_by_pipe || !cell.text.trim().is_empty() || cells.is_empty() {
        cells.push(finish_cell(cell));
    }
    (cells.len() <= MAX_CELLS).then_some(cells)
}

fn finish_cell(mut cell: Cell) -> Cell {
    let trimmed = cell.text.trim();
    if trimmed.len() != cell.text.len() {
        cell.text = trimmed.to_owned();
    }
    cell
}

/// The text of a code span as Markdown shows it: one leading and one trailing space are
/// stripped when both are there and the span is not only spaces.
fn code_span_text(content: String) -> String {
    if content.len() >= 2
        && content.starts_with(' ')
        && content.ends_with(' ')
        && !content.bytes().all(|b| b == b' ')
    {
        content[1..content.len() - 1].to_owned()
    } else {
        content
    }
}

/// The values of a cell: each code span, or the whole cell when it has none.
fn cell_values(cell: &Cell) -> Vec<String> {
    if !cell.spans.is_empty() {
        cell.spans.clone()
    } else if cell.text.is_empty() {
        Vec::new()
    } else {
        vec![cell.text.clone()]
    }
}

/// The criteria of each block, in block order, from the "Group Criteria" table.
fn criteria_table(text: &str, errors: &mut Errors) -> BTreeMap<u32, Vec<Criterion>> {
    let mut blocks: BTreeMap<u32, Vec<Criterion>> = BTreeMap::new();
    let section = lines(text).position(|l| {
        l.text.trim_start().starts_with('#') && l.text.to_lowercase().contains("group criteria")
    });
    let start = section.map_or(0, |s| s + 1);
    let header = lines(text).enumerate().skip(start).find(|(_, l)| {
        l.text.trim_start().starts_with('|') && {
            let lower = l.text.to_lowercase();
            lower.contains("criteria") && lower.contains("operator")
        }
    });
    let Some((header, header_line)) = header else {
        errors.push(MarkdownError::new(
            start + 1,
            "no criteria table: expected a table with the columns `Block | Criteria Name | Operator | Value(s)`",
        ));
        return blocks;
    };
    let Some(header_cells) = cells(header_line.text) else {
        errors.push(too_many_cells(header + 1));
        return blocks;
    };
    let columns: Vec<String> = header_cells.iter().map(|c| c.text.to_lowercase()).collect();
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
        errors.push(MarkdownError::new(
            header + 1,
            "the criteria table needs the columns `Block`, `Criteria Name` and `Operator`",
        ));
        return blocks;
    };
    let value_col = column(&["value"]);
    let mut rows = 0;
    let mut value_count = 0;
    for (index, line) in lines(text).enumerate().skip(header + 2) {
        if !line.text.trim_start().starts_with('|') || errors.full() {
            break;
        }
        let number = index + 1;
        rows += 1;
        if rows > MAX_ROWS {
            errors.push(MarkdownError::over(
                number,
                MarkdownLimit::Rows,
                format!(
                    "the criteria table has more than the limit of {MAX_ROWS} rows: expected at most {MAX_ROWS}"
                ),
            ));
            break;
        }
        let Some(row) = cells(line.text) else {
            errors.push(too_many_cells(number));
            continue;
        };
        let get = |col: usize| row.get(col).map(|c| c.text.as_str()).unwrap_or_default();
        if row.len() < columns.len() {
            errors.push(MarkdownError::new(
                number,
                format!("row has {} cells, expected {}", row.len(), columns.len()),
            ));
            continue;
        }
        let Ok(block) = get(block_col).parse::<u32>() else {
            errors.push(MarkdownError::new(
                number,
                format!("block `{}` is not a number", shown(get(block_col))),
            ));
            continue;
        };
        let field = get(field_col).trim_matches('`').trim();
        if field.is_empty() {
            errors.push(MarkdownError::new(number, "row has no criteria name"));
            continue;
        }
        let phrase = get(op_col);
        let Some(op) = Op::from_phrase(phrase) else {
            errors.push(MarkdownError {
                help: Op::suggest(phrase).map(|s| format!("did you mean `{s}`?")),
                ..MarkdownError::new(number, format!("unknown operator `{}`", shown(phrase)))
            });
            continue;
        };
        let values = match value_col.and_then(|col| row.get(col)) {
            Some(cell) if cell.stray_backtick => {
                errors.push(MarkdownError {
                    help: Some("write each value in backticks, such as `` `Windows` ``".into()),
                    ..MarkdownError::new(
                        number,
                        format!(
                            "a backtick in the value cell `{}` opens no code span: expected a closing backtick",
                            shown(&cell.text)
                        ),
                    )
                });
                continue;
            }
            Some(cell) => cell_values(cell),
            None => Vec::new(),
        };
        value_count += values.len();
        if value_count > MAX_VALUES {
            errors.push(MarkdownError::over(
                number,
                MarkdownLimit::Values,
                format!(
                    "the criteria table has more than the limit of {MAX_VALUES} values: expected at most {MAX_VALUES}"
                ),
            ));
            break;
        }
        let row = Loc::at(Span::new(line.start, line.start + line.text.len()));
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
        blocks.entry(block).or_default().push(criterion);
    }
    if blocks.is_empty() && errors.list.is_empty() {
        errors.push(MarkdownError::new(
            header + 1,
            "the criteria table has no rows",
        ));
    }
    blocks
}

/// A cell's text as error messages quote it: at most 80 characters.
fn shown(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

fn too_many_cells(line: usize) -> MarkdownError {
    MarkdownError::over(
        line,
        MarkdownLimit::Cells,
        format!("row has more than the limit of {MAX_CELLS} cells: expected at most {MAX_CELLS}"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const HEAD: &str = "---\ntitle: T\n---\n## Group Criteria\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n";

    fn texts(line: &str) -> Vec<String> {
        cells(line).unwrap().into_iter().map(|c| c.text).collect()
    }

    fn values(doc: &str) -> Vec<Vec<String>> {
        let group = import_markdown(doc).unwrap();
        group
            .condition
            .criteria()
            .map(|c| c.values.iter().map(|v| v.text.clone()).collect())
            .collect()
    }

    #[test]
    fn cells_split_on_pipes_outside_code_spans_only() {
        assert_eq!(
            texts("| 1 | OS | Equal | `a` |"),
            ["1", "OS", "Equal", "`a`"]
        );
        assert_eq!(
            texts("| 1 | Hostname | Matches regex | `^DC-|^SRV-` |"),
            ["1", "Hostname", "Matches regex", "`^DC-|^SRV-`"]
        );
        assert_eq!(texts(r"| a \| b | c |"), ["a | b", "c"]);
        assert_eq!(texts(r"| `a\|b` | c |"), ["`a|b`", "c"]);
        assert_eq!(texts("| ``a|`b`` | c |"), ["``a|`b``", "c"]);
        // A backtick that nothing closes is text, and the pipes after it split.
        assert_eq!(texts("| `a | b |"), ["`a", "b"]);
        assert!(cells("| `a | b |").unwrap()[0].stray_backtick);
        // No leading or trailing pipe; an empty last cell before a trailing pipe.
        assert_eq!(texts("1 | 2"), ["1", "2"]);
        assert_eq!(texts("| 1 | |"), ["1", ""]);
        assert_eq!(texts("|"), [""]);
    }

    #[test]
    fn code_spans_are_values_as_markdown_shows_them() {
        let doc = format!(
            "{HEAD}| 1 | Hostname | Matches regex | `^DC-|^SRV-` |\n| 1 | OS | Contains any of | `Windows`, `Linux` |\n| 1 | Name | Equal | `` a`b `` |\n| 1 | Name | Equal | ` x ` |\n| 1 | Name | Equal | plain \\| text |\n"
        );
        assert_eq!(
            values(&doc),
            [
                vec!["^DC-|^SRV-"],
                vec!["Windows", "Linux"],
                vec!["a`b"],
                vec!["x"],
                vec!["plain | text"],
            ]
        );
    }

    #[test]
    fn a_stray_backtick_in_a_value_cell_is_an_error_on_its_line() {
        let doc = format!("{HEAD}| 1 | OS | Equal | `Windows |\n");
        let errors = import_markdown(&doc).unwrap_err();
        assert_eq!(errors[0].line, 7);
        assert!(
            errors[0].message.contains("expected a closing backtick"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn crlf_and_a_byte_order_mark_keep_offsets_in_the_text() {
        let lf = format!("{HEAD}| 1 | OS | Equal | `a` |\n| 2 | Site | Equal | `b` |\n");
        for doc in [
            lf.replace('\n', "\r\n"),
            format!("\u{feff}{lf}"),
            format!("\u{feff}{}", lf.replace('\n', "\r\n")),
        ] {
            let group = import_markdown(&doc).unwrap();
            assert_eq!(group.name, "T");
            let spans: Vec<&str> = group
                .condition
                .criteria()
                .map(|c| {
                    let span = c.loc.span.unwrap();
                    &doc[span.start..span.end]
                })
                .collect();
            assert_eq!(
                spans,
                ["| 1 | OS | Equal | `a` |", "| 2 | Site | Equal | `b` |"]
            );
        }
        let broken = format!("{HEAD}| 1 | OS | Equal | `a` |\n| x | OS | Equal | `b` |\n")
            .replace('\n', "\r\n");
        assert_eq!(import_markdown(&broken).unwrap_err()[0].line, 8);
    }

    #[test]
    fn the_logic_sentence_names_blocks_exactly() {
        let doc = format!(
            "{HEAD}| 1 | A | Equal | `a` |\n| 1 | B | Equal | `b` |\n| 10 | C | Equal | `c` |\n| 10 | D | Equal | `d` |\n\nA machine matches if it meets ANY criteria in Block 10 and ALL criteria in\nBlock 1, in all blocks.\n"
        );
        let group = import_markdown(&doc).unwrap();
        let Expr::All { items: blocks, .. } = &group.condition else {
            panic!("{:?}", group.condition)
        };
        assert!(matches!(blocks[0], Expr::All { .. }), "{:?}", blocks[0]);
        assert!(matches!(blocks[1], Expr::Any { .. }), "{:?}", blocks[1]);
    }

    #[test]
    fn summary_values_are_the_first_label_with_a_value() {
        let text =
            "- **Group Name:**\r\n- **Group Name:** `Servers`  \r\n- **Group Name:** `Other`\n";
        assert_eq!(
            summary_value(text, "Group Name").as_deref(),
            Some("Servers")
        );
        assert_eq!(summary_value(text, "Description"), None);
        assert_eq!(
            summary_value("**Description:** x", "Description").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn error_messages_quote_long_cells_shortened() {
        let doc = format!("{HEAD}| {} | OS | Equal | `a` |\n", "x".repeat(10_000));
        let errors = import_markdown(&doc).unwrap_err();
        assert_eq!(
            errors[0].message,
            format!("block `{}...` is not a number", "x".repeat(80))
        );
    }

    #[test]
    fn limits_are_named_in_typed_errors() {
        let big = format!("{HEAD}{}", " ".repeat(MAX_TEXT_BYTES));
        let errors = import_markdown(&big).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].limit, Some(MarkdownLimit::TextBytes));
        assert!(errors[0].message.contains("16777216 bytes (16 MiB)"));

        let wide = format!("{HEAD}|{}\n", " 1 |".repeat(MAX_CELLS + 1));
        let errors = import_markdown(&wide).unwrap_err();
        assert_eq!(
            (errors[0].line, errors[0].limit),
            (7, Some(MarkdownLimit::Cells))
        );
        assert_eq!(MarkdownLimit::Cells.limit(), 64);

        let mut many = HEAD.to_owned();
        for _ in 0..MAX_ROWS + 1 {
            many.push_str("|1|A|Equal|`a`|\n");
        }
        let errors = import_markdown(&many).unwrap_err();
        assert_eq!(
            (errors[0].line, errors[0].limit),
            (7 + MAX_ROWS, Some(MarkdownLimit::Rows))
        );
        assert!(errors[0].message.contains("100000 rows"));

        let values = format!("{HEAD}|1|A|Is any of|{}|\n", "`v`, ".repeat(MAX_VALUES + 1));
        let errors = import_markdown(&values).unwrap_err();
        assert_eq!(errors[0].limit, Some(MarkdownLimit::Values));

        let mut broken = HEAD.to_owned();
        for _ in 0..MAX_ERRORS + 50 {
            broken.push_str("|x|A|Equal|`a`|\n");
        }
        let errors = import_markdown(&broken).unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[MAX_ERRORS].limit, Some(MarkdownLimit::Errors));
        assert_eq!(errors[MAX_ERRORS].line, 7 + MAX_ERRORS);
    }
}
