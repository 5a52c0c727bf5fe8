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
    #[error("`{}` is over the limit of {limit} bytes for a definitions file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// More definitions than one loader reads in all ([`crate::Limits::max_total_bytes`]).
    #[error(
        "the definitions read exceed the limit of {limit} bytes in all (files, and criteria written as text, counted each time an alias repeats them)"
    )]
    TotalTooLarge {
        /// The limit.
        limit: u64,
        /// Where reading stopped, when inside a file.
        loc: Option<Loc>,
    },
    /// A symbolic link found in a directory that leads outside it.
    #[error("`{}` is a link that leads outside `{}`: not read", path.display(), root.display())]
    LinkOutside {
        /// The link.
        path: PathBuf,
        /// The directory named by the user.
        root: PathBuf,
    },
    /// The path is neither a regular file nor a directory (a FIFO, a device, a socket).
    #[error("`{}` is not a regular file: only files and directories of definitions are read", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
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
    /// The text is not YAML (a syntax error stops the file there), or it is over one of the
    /// YAML limits (nesting depth, the size that aliases stand for).
    #[error("{message}")]
    Yaml {
        /// The source.
        source_id: SourceId,
        /// Where the YAML reader stopped.
        position: Option<Position>,
        /// What is wrong.
        message: String,
        /// A likely fix.
        help: Option<String>,
        /// The group the error is in, when its `name:` line can be seen.
        group: Option<String>,
    },
    /// A key that a group, block, criterion or schema field does not have.
    #[error("unknown key `{key}` in {what}")]
    UnknownKey {
        /// Where the key is.
        loc: Loc,
        /// The key written.
        key: String,
        /// What holds it: "a group", "a criterion"...
        what: &'static str,
        /// The keys it may have.
        allowed: &'static [&'static str],
        /// The nearest allowed key.
        suggestion: Option<&'static str>,
        /// The group, when known.
        group: Option<String>,
    },
    /// A key written twice in one mapping.
    #[error("key `{key}` is given twice")]
    DuplicateKey {
        /// Where the second one is.
        loc: Loc,
        /// The key.
        key: &'static str,
        /// The group, when known.
        group: Option<String>,
    },
    /// A node of the wrong kind: a list where text belongs, text where a list belongs...
    #[error("{what} must be {expected}, found {found}")]
    WrongType {
        /// Where the node is.
        loc: Loc,
        /// What the node is for (`` `blocks` ``, "block 2"...).
        what: String,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
        /// The group, when known.
        group: Option<String>,
    },
    /// A criterion mapping without `operator`.
    #[error("criterion has no `operator`")]
    MissingOperator {
        /// Where the criterion is.
        loc: Loc,
        /// The group.
        group: String,
        /// Which criterion.
        criterion: String,
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
    /// A key of a criterion (`operator`, `value`...) found in a group: most often a line
    /// indented as if it belonged to the group rather than to the criterion above it.
    #[error("`{key}` is a key of a criterion, but its indentation puts it in the group")]
    MisplacedKey {
        /// Where the key is.
        loc: Loc,
        /// The key.
        key: String,
        /// The group, when known.
        group: Option<String>,
        /// The criterion just above the key (`block 1, criterion 1 (`OS`)`), when there is one.
        criterion: Option<String>,
    },
    /// A block written as one criterion mapping (`- field: OS` directly under `blocks:`).
    #[error("block {block} is a single criterion, not a list of criteria")]
    BlockIsCriterion {
        /// Where the block is.
        loc: Loc,
        /// The group.
        group: String,
        /// Which block, from 1.
        block: usize,
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
            | LoadError::NestedGroups { loc, .. }
            | LoadError::MisplacedKey { loc, .. }
            | LoadError::BlockIsCriterion { loc, .. }
            | LoadError::UnknownKey { loc, .. }
            | LoadError::DuplicateKey { loc, .. }
            | LoadError::WrongType { loc, .. }
            | LoadError::MissingOperator { loc, .. } => Some(loc),
            LoadError::TotalTooLarge { loc, .. } => loc.as_ref(),
            LoadError::Io { .. }
            | LoadError::TooLarge { .. }
            | LoadError::NotAFile { .. }
            | LoadError::LinkOutside { .. }
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
            | LoadError::NotAFile { path }
            | LoadError::LinkOutside { path, .. }
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
            | LoadError::ValueAndValues { group, .. }
            | LoadError::BlockIsCriterion { group, .. }
            | LoadError::MissingOperator { group, .. } => Some(group),
            LoadError::UnknownKey { group, .. }
            | LoadError::DuplicateKey { group, .. }
            | LoadError::WrongType { group, .. }
            | LoadError::InvalidMatch { group, .. }
            | LoadError::MisplacedKey { group, .. }
            | LoadError::Yaml { group, .. }
            | LoadError::NestedGroups { group, .. } => group.as_deref(),
            _ => None,
        }
    }

    /// The criterion the problem is in, when it is in one (`block 1, criterion 2 (`OS`)`).
    pub fn criterion(&self) -> Option<&str> {
        match self {
            LoadError::UnknownOperator { criterion, .. }
            | LoadError::ValueAndValues { criterion, .. }
            | LoadError::MissingOperator { criterion, .. } => Some(criterion),
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
            LoadError::Yaml { help, .. } => help.clone(),
            LoadError::UnknownKey {
                what,
                allowed,
                suggestion,
                ..
            } => {
                let keys: Vec<String> = allowed.iter().map(|key| format!("`{key}`")).collect();
                let has = format!("{what} has {}", keys.join(", "));
                Some(match suggestion {
                    Some(key) => format!("did you mean `{key}`? {has}"),
                    None if *what == "a criterion" => {
                        format!("{has}, or is one line of text")
                    }
                    None => has,
                })
            }
            LoadError::TotalTooLarge { .. } => Some(
                "split the groups into several sets, or write conditions once instead of through aliases".to_owned(),
            ),
            LoadError::LinkOutside { .. } => Some(
                "links in a groups directory are followed only inside it; name the file on the command line to read it".to_owned(),
            ),
            LoadError::MissingOperator { .. } => Some(
                "add `operator:` with a phrase such as `contains any of` (see the operator table in README.md); check the indentation if it is there".to_owned(),
            ),
            LoadError::MisplacedKey {
                key,
                criterion: Some(criterion),
                ..
            } => Some(format!(
                "indent `{key}` like the other keys of the criterion above it ({criterion}): keys of one mapping start in the same column"
            )),
            LoadError::MisplacedKey { .. } => Some(
                "a criterion's keys go in a block under `blocks:`, as in `blocks:` / `  - - field: OS` / `      operator: contains`".to_owned(),
            ),
            LoadError::BlockIsCriterion { .. } => Some(
                "a block is a list of criteria: start the criterion with `- - ` under `blocks:` (the first `-` starts the block, the second the criterion), or put it under `criteria:`".to_owned(),
            ),
            LoadError::WrongType { expected, .. } if expected.starts_with("text") => Some(
                "quote the value if it is meant as text, or check the indentation".to_owned(),
            ),
            _ => None,
        }
    }
}
