//! The texts the loader read, and turning locations into lines and columns.

use crate::index::{TextIndex, ceil_char_boundary, floor_char_boundary};
use cohort_syntax::{Loc, SourceId};
use std::fmt;

/// A line and column in a source, both counted from 1; columns count characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the end of the text).
    ///
    /// ```
    /// use cohort_load::Position;
    /// assert_eq!(Position::of_offset("ab\ncd", 4), Position { line: 2, column: 2 });
    /// ```
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let mut line = 1;
        let mut column = 1;
        for (index, c) in text.char_indices() {
            if index >= offset {
                break;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One text the loader read.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file's path as given, or the name given with the string.
    pub name: String,
    /// The whole text (without a leading byte-order mark).
    pub text: String,
    /// Its lines and characters, indexed once.
    index: TextIndex,
    /// The byte offsets of its comments, for a YAML text that was read.
    comments: Vec<usize>,
}

impl Source {
    /// The byte offsets of the `#` of every comment of this YAML text (a `#` outside every
    /// scalar), in order; empty for other texts and for YAML that could not be read.
    ///
    /// ```
    /// let mut loader = cohort_load::Loader::new();
    /// let id = loader.add_str("g.yaml", "# kept\nname: 'a # b' # note\nblocks: [[OS is x]]\n");
    /// let loaded = loader.finish();
    /// assert_eq!(loaded.sources.get(id).unwrap().comments(), [0, 21]);
    /// ```
    pub fn comments(&self) -> &[usize] {
        &self.comments
    }
}

/// A window of one source line around a location, for showing under a diagnostic: the
/// whole line when it is short, otherwise about [`Excerpt::WINDOW`] bytes on each side of the
/// location, marked `…` where cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// The text shown.
    pub text: String,
    /// The column (characters, from 1) in `text` where the location starts.
    pub column: usize,
    /// How many characters from `column` the location covers (at least 1).
    pub width: usize,
}

impl Excerpt {
    /// Bytes shown on each side of a location in a long line.
    pub const WINDOW: usize = 60;
}

/// Every text the loader read, indexed by [`SourceId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    sources: Vec<Source>,
}

impl Sources {
    pub(crate) fn add(&mut self, name: &str, text: &str) -> SourceId {
        let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
        self.sources.push(Source {
            name: name.to_owned(),
            text: text.to_owned(),
            index: TextIndex::new(text),
            comments: Vec::new(),
        });
        id
    }

    pub(crate) fn set_comments(&mut self, id: SourceId, comments: Vec<usize>) {
        if let Some(source) = self
            .sources
            .get_mut(usize::try_from(id.0).unwrap_or(usize::MAX))
        {
            source.comments = comments;
        }
    }

    /// The source with this id.
    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(usize::try_from(id.0).ok()?)
    }

    /// The source with this id and its index, for the loader.
    pub(crate) fn indexed(&self, id: SourceId) -> Option<(&str, &TextIndex)> {
        let source = self.get(id)?;
        Some((&source.text, &source.index))
    }

    /// The name of the source of `loc`.
    pub fn name(&self, loc: &Loc) -> Option<&str> {
        Some(self.get(loc.source?)?.name.as_str())
    }

    /// The line and column of the node at `loc`. `None` when the location has no source.
    ///
    /// ```
    /// use cohort_load::{Loader, Position};
    ///
    /// let mut loader = Loader::new();
    /// loader.add_str("g.yaml", "name: G\nblocks:\n  - - field: OS\n      operator: nope\n");
    /// let loaded = loader.finish();
    /// let error = &loaded.errors[0];
    /// assert_eq!(loaded.sources.position(error.loc().unwrap()), Some(Position { line: 4, column: 17 }));
    /// ```
    pub fn position(&self, loc: &Loc) -> Option<Position> {
        self.locate(loc).map(|(position, _)| position)
    }

    /// The line and column of `loc`, and how many characters wide it is there (for carets).
    /// A location inside a YAML string (a one-line criterion, a `where` condition) points
    /// into the YAML file.
    pub fn locate(&self, loc: &Loc) -> Option<(Position, usize)> {
        let (offset, width) = self.offset(loc)?;
        let source = self.get(loc.source?)?;
        Some((source.index.position(&source.text, offset), width))
    }

    /// The byte offset of `loc` in its source, and its width in characters.
    fn offset(&self, loc: &Loc) -> Option<(usize, usize)> {
        let source = self.get(loc.source?)?;
        let text = &source.text;
        let width_of = |offset: usize, len: usize| {
            text.get(offset..offset + len)
                .map_or(1, |t| t.chars().count().max(1))
        };
        match (loc.node, loc.span) {
            (Some(node), span) => {
                match span.and_then(|span| inside_scalar(text, node.start, span)) {
                    Some((offset, len)) => Some((offset, width_of(offset, len))),
                    None => match text.get(node.start..node.end) {
                        // A node on one line (a scalar, a flow collection): all of it.
                        Some(one_line)
                            if !one_line.is_empty()
                                && one_line.len() <= Excerpt::WINDOW
                                && !one_line.contains(['\n', '\r']) =>
                        {
                            Some((node.start, width_of(node.start, one_line.len())))
                        }
                        _ => Some((node.start, token_width(text, node.start))),
                    },
                }
            }
            // A node of a text document (Markdown): the span is in the whole text.
            (None, Some(span)) => Some((span.start, width_of(span.start, span.len()))),
            (None, None) => Some((0, 1)),
        }
    }

    /// The text of line `line` (from 1) of the source of `loc`.
    pub fn line_text(&self, loc_source: SourceId, line: usize) -> Option<&str> {
        let source = self.get(loc_source)?;
        let (start, end) = source.index.line_range(&source.text, line)?;
        source.text.get(start..end)
    }

    /// The line of `loc` cut to a window around it, for showing under a message.
    pub fn excerpt(&self, loc: &Loc) -> Option<Excerpt> {
        let (offset, width) = self.offset(loc)?;
        self.excerpt_at(loc.source?, offset, width)
    }

    /// The line holding `position` cut to a window around it.
    pub fn excerpt_at_position(
        &self,
        source: SourceId,
        position: Position,
        width: usize,
    ) -> Option<Excerpt> {
        let text = &self.get(source)?.text;
        let (start, end) = self.get(source)?.index.line_range(text, position.line)?;
        let offset = text
            .get(start..end)?
            .char_indices()
            .nth(position.column.saturating_sub(1))
            .map_or(end, |(at, _)| start + at);
        self.excerpt_at(source, offset, width)
    }

    fn excerpt_at(&self, source: SourceId, offset: usize, width: usize) -> Option<Excerpt> {
        let source = self.get(source)?;
        let text = &source.text;
        let position = source.index.position(text, offset);
        let (line_start, line_end) = source.index.line_range(text, position.line)?;
        let offset = offset.clamp(line_start, line_end);
        if line_end - line_start <= 3 * Excerpt::WINDOW {
            return Some(Excerpt {
                text: text.get(line_start..line_end)?.to_owned(),
                column: position.column,
                width: width.max(1),
            });
        }
        let from =
            floor_char_boundary(text, offset.saturating_sub(Excerpt::WINDOW).max(line_start));
        let to = ceil_char_boundary(text, (offset + Excerpt::WINDOW).min(line_end));
        let before = if from > line_start { "…" } else { "" };
        let after = if to < line_end { "…" } else { "" };
        let shown = text.get(from..to)?;
        let column = before.chars().count() + text.get(from..offset)?.chars().count() + 1;
        let room = text.get(offset..to)?.chars().count().max(1);
        Some(Excerpt {
            text: format!("{before}{shown}{after}"),
            column,
            width: width.clamp(1, room),
        })
    }
}

/// Where the bytes `span` of the string scalar at `index` are in `text`, and how wide they
/// are there: exact when the scalar is written as its value (plain, or quoted without
/// escapes, on one line); otherwise `None`.
fn inside_scalar(text: &str, index: usize, span: cohort_syntax::Span) -> Option<(usize, usize)> {
    let raw = text.get(index..)?;
    let (content, escape): (usize, Option<&str>) = match raw.chars().next()? {
        '"' => (index + 1, Some("\\")),
        '\'' => (index + 1, Some("''")),
        '|' | '>' => return None,
        _ => (index, None),
    };
    let covered = text.get(content..content.checked_add(span.end)?)?;
    let escaped = escape.is_some_and(|e| covered.contains(e));
    if escaped || covered.contains(['\n', '\r']) {
        return None;
    }
    Some((content + span.start, span.len()))
}

/// The width of the scalar token at `index`, for carets: a quoted string to its closing
/// quote, a plain scalar to the end of its value on that line (at most a window's width).
fn token_width(text: &str, index: usize) -> usize {
    let Some(raw) = text.get(index..) else {
        return 1;
    };
    let line = raw.split(['\n', '\r']).next().unwrap_or_default();
    let line = line
        .get(..ceil_char_boundary(line, Excerpt::WINDOW))
        .unwrap_or(line);
    let width = match line.chars().next() {
        Some(quote @ ('"' | '\'')) => line[1..].find(quote).map_or(line.len(), |end| end + 2),
        Some('{' | '[' | '-') | None => 1,
        Some(_) => line
            .find([',', '}', ']'])
            .or_else(|| line.find(": "))
            .or_else(|| line.find(" #"))
            .unwrap_or(line.len()),
    };
    line[..width.min(line.len())]
        .trim_end()
        .chars()
        .count()
        .max(1)
}
