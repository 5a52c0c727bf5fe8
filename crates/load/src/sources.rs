//! The texts the loader read, and turning locations into lines and columns.

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
    /// The whole text.
    pub text: String,
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
        });
        id
    }

    /// The source with this id.
    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(usize::try_from(id.0).ok()?)
    }

    /// The name of the source of `loc`.
    pub fn name(&self, loc: &Loc) -> Option<&str> {
        Some(self.get(loc.source?)?.name.as_str())
    }

    /// The line and column of the node at `loc`, found by walking its source to the node's
    /// path. `None` when the location has no source or the path leads nowhere.
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
        let source = self.get(loc.source?)?;
        let text = &source.text;
        if loc.path.segments().is_empty()
            && let Some(span) = loc.span
        {
            // A node of a text document (Markdown): the span is in the whole text.
            let width = text
                .get(span.start..span.end)
                .map_or(1, |t| t.chars().count().max(1));
            return Some((Position::of_offset(text, span.start), width));
        }
        let (scalar, index) = crate::locate::node(text, &loc.path)?;
        let exact = loc
            .span
            .and_then(|span| crate::locate::inside_scalar(text, index, span));
        match exact {
            Some((offset, len)) => {
                let width = text
                    .get(offset..offset + len)
                    .map_or(1, |t| t.chars().count().max(1));
                Some((Position::of_offset(text, offset), width))
            }
            None => Some((scalar, crate::locate::token_width(text, index))),
        }
    }

    /// The text of line `line` (from 1) of the source of `loc`.
    pub fn line_text(&self, loc_source: SourceId, line: usize) -> Option<&str> {
        self.get(loc_source)?.text.lines().nth(line.checked_sub(1)?)
    }
}
