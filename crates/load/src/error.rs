//! Errors found while reading definitions.

use crate::sources::Position;
use cohort_syntax::{Loc, SourceId};
use std::path::{Path, PathBuf};

/// A problem reading definitions: the file itself, its YAML, or a definition's structure.
///
/// Every variant says where: a path for file errors, a position for YAML syntax errors, a
/// [`Loc`] (turned into line and column by [`crate::Sources::position`]) for the rest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file or directory could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`crate::Limits::max_file_bytes`].
    #[error("`{}` is {size} bytes, over the limit of {limit} bytes for a definitions file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A directory tree deeper than [`crate::Limits::max_dir_depth`].
    #[error("`{}` is nested deeper than the limit of {limit} directory levels", path.display())]
    TooDeep {
        /// The directory not entered.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// The file is not UTF-8 text.
    #[error("`{}` is not valid UTF-8 text (first invalid byte at {position})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the first invalid byte is.
        position: Position,
    },
    /// The YAML is malformed, or does not have the shape of a definition (an unknown key, a
    /// list where text belongs...). serde_yaml stops at the first such error in a file.
    #[error("{message}")]
    Yaml {
        /// The source.
        source_id: SourceId,
        /// Where the YAML reader stopped.
        position: Option<Position>,
        /// What it said, with the path of the YAML node (`groups[0].blocks[0][1]: ...`).
        message: String,
        /// The group being read, when known.
        group: Option<String>,
    },
    /// A field schema that is well-formed YAML but says something impossible (a dropdown
    /// without options, a field declared twice...).
    #[error("{message}")]
    Schema {
        /// Where.
        loc: Loc,
        /// The field's name.
        field: String,
        /// What is wrong.
        message: String,
        /// A likely fix.
        help: Option<String>,
    },
    /// An operator phrase that is not in the vocabulary.
    #[error("unknown operator `{phrase}`")]
    UnknownOperator {
        /// Where the phrase is.
        loc: Loc,
        /// The group.
        group: String,
        /// Which criterion.
        criterion: String,
        /// The phrase written.
        phrase: String,
        /// The nearest known phrase.
        suggestion: Option<&'static str>,
    },
    /// `match:` is neither `any` nor `all`.
    #[error("invalid `match` value `{value}`: expected `any` or `all`")]
    InvalidMatch {
        /// Where the value is.
        loc: Loc,
        /// The group.
        group: Option<String>,
        /// The value written.
        value: String,
    },
    /// A group without a `name`.
    #[error("group has no `name`")]
    MissingName {
        /// Where the group is.
        loc: Loc,
    },
    /// A group without blocks.
    #[error(
        "group has no blocks: expected `blocks` with at least one block of criteria, or `where`"
    )]
    NoBlocks {
        /// Where the group is.
        loc: Loc,
        /// The group.
        group: String,
    },
    /// A block without criteria.
    #[error("block {block} has no criteria")]
    EmptyBlock {
        /// Where the block is.
        loc: Loc,
        /// The group.
        group: String,
        /// Which block, from 1.
        block: usize,
    },
    /// A criterion with both `value` and `values`.
    #[error("criterion gives both `value` and `values`: expected one of them")]
    ValueAndValues {
        /// Where the criterion is.
        loc: Loc,
        /// The group.
        group: String,
        /// Which criterion.
        criterion: String,
    },
    /// A file with both a single group and a `groups:` list.
    #[error("a file holds either one group (`name`, `blocks`) or a list under `groups`, not both")]
    MixedDocument {
        /// Where the `groups` key is.
        loc: Loc,
    },
    /// A criterion or condition written as text that does not parse.
    #[error("{message}")]
    Syntax {
        /// Where: the string in the YAML, and the span inside it.
        loc: Loc,
        /// The group.
        group: String,
        /// Which criterion, for a one-line criterion.
        criterion: Option<String>,
        /// What is wrong and what was expected.
        message: String,
        /// A likely fix.
        help: Option<String>,
    },
    /// A Markdown group document that cannot be read, or a table row of it.
    #[error("{message}")]
    Markdown {
        /// The document.
        source_id: SourceId,
        /// The line.
        position: Position,
        /// What is wrong.
        message: String,
        /// A likely fix.
        help: Option<String>,
    },
    /// A group with both `where` and `blocks` (or `match`).
    #[error("a group has either `blocks` (with `match`) or `where`, not both")]
    WhereWithBlocks {
        /// Where the `where` key is.
        loc: Loc,
        /// The group.
        group: String,
    },
    /// A group inside `groups:` that itself has `groups:`.
    #[error("a group in `groups` cannot hold `groups` of its own")]
    NestedGroups {
        /// Where the inner `groups` key is.
        loc: Loc,
        /// The group.
        group: Option<String>,
    },
}

impl LoadError {
    /// Where the problem is, when it is inside a definition.
    pub fn loc(&self) -> Option<&Loc> {
        match self {
            LoadError::UnknownOperator { loc, .. }
            | LoadError::InvalidMatch { loc, .. }
            | LoadError::MissingName { loc }
            | LoadError::NoBlocks { loc, .. }
            | LoadError::EmptyBlock { loc, .. }
            | LoadError::ValueAndValues { loc, .. }
            | LoadError::MixedDocument { loc }
            | LoadError::Syntax { loc, .. }
            | LoadError::Schema { loc, .. }
            | LoadError::WhereWithBlocks { loc, .. }
            | LoadError::NestedGroups { loc, .. } => Some(loc),
            LoadError::Io { .. }
            | LoadError::TooLarge { .. }
            | LoadError::TooDeep { .. }
            | LoadError::NotUtf8 { .. }
            | LoadError::Markdown { .. }
            | LoadError::Yaml { .. } => None,
        }
    }

    /// The file, for errors about a file as a whole.
    pub fn path(&self) -> Option<&Path> {
        match self {
            LoadError::Io { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::TooDeep { path, .. }
            | LoadError::NotUtf8 { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The position, for errors whose position is known directly rather than through a
    /// [`Loc`]: YAML errors (where the reader stopped) and invalid UTF-8 (the first bad byte).
    pub fn position(&self) -> Option<Position> {
        match self {
            LoadError::Yaml { position, .. } => *position,
            LoadError::Markdown { position, .. } => Some(*position),
            LoadError::NotUtf8 { position, .. } => Some(*position),
            _ => None,
        }
    }

    /// The source of a YAML error.
    pub fn source_id(&self) -> Option<SourceId> {
        match self {
            LoadError::Yaml { source_id, .. } | LoadError::Markdown { source_id, .. } => {
                Some(*source_id)
            }
            _ => self.loc().and_then(|loc| loc.source),
        }
    }

    /// The group the problem is in, when known.
    pub fn group(&self) -> Option<&str> {
        match self {
            LoadError::UnknownOperator { group, .. }
            | LoadError::NoBlocks { group, .. }
            | LoadError::EmptyBlock { group, .. }
            | LoadError::Syntax { group, .. }
            | LoadError::WhereWithBlocks { group, .. }
            | LoadError::ValueAndValues { group, .. } => Some(group),
            LoadError::Yaml { group, .. }
            | LoadError::InvalidMatch { group, .. }
            | LoadError::NestedGroups { group, .. } => group.as_deref(),
            _ => None,
        }
    }

    /// The criterion the problem is in, when it is in one (`block 1, criterion 2 (`OS`)`).
    pub fn criterion(&self) -> Option<&str> {
        match self {
            LoadError::UnknownOperator { criterion, .. }
            | LoadError::ValueAndValues { criterion, .. } => Some(criterion),
            LoadError::Syntax { criterion, .. } => criterion.as_deref(),
            _ => None,
        }
    }

    /// A hint on how to fix it.
    pub fn help(&self) -> Option<String> {
        match self {
            LoadError::UnknownOperator {
                suggestion: Some(suggestion),
                ..
            } => Some(format!("did you mean `{suggestion}`?")),
            LoadError::Syntax { help, .. }
            | LoadError::Markdown { help, .. }
            | LoadError::Schema { help, .. } => help.clone(),
            LoadError::UnknownOperator { .. } => {
                Some("see the operator table in README.md for the accepted phrases".to_owned())
            }
            LoadError::Yaml { message, .. }
                if message.starts_with("fields") && message.contains("unknown field") =>
            {
                Some("a schema field has `name`, `type`, `level`, `options` and `description`".to_owned())
            }
            LoadError::Yaml { message, .. } if message.contains("unknown field") => Some(
                "a group has `name`, `description`, `match` and `blocks` (or `where`); a file may list groups under `groups`; a criterion has `field`, `operator`, `values` (or `value`) and `case_sensitive`, or is one line of text".to_owned(),
            ),
            _ => None,
        }
    }
}
