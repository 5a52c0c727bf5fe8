//! Reads group definitions into syntax trees.
//!
//! This is the only library crate that touches the file system or YAML: everything
//! downstream sees [`cohort_syntax`] trees. A file holds one group, a list of groups, or
//! several under `groups:`, in one or more `---` documents; a directory is read recursively (`*.yaml`, `*.yml`, in name order).
//!
//! ```
//! use cohort_load::Loader;
//!
//! let mut loader = Loader::new();
//! loader.add_str("bitlocker.yaml", r#"
//! name: BitLocker Key Missing
//! blocks:
//!   - - field: BitLocker Key Backup Status
//!       operator: Contains any of
//!       values: [Not Available]
//! "#);
//! let loaded = loader.finish();
//! assert!(loaded.errors.is_empty());
//! assert_eq!(loaded.groups[0].name, "BitLocker Key Missing");
//! ```
//!
//! # Errors and positions
//!
//! A file is read into a YAML tree whose every node knows its bytes in the text, and then
//! lowered to syntax trees. After a YAML syntax error the file is read again group by group
//! (each `---` document, and each item of a group list, as YAML of its own), so each broken
//! group gives its own error (at most 100 a file) and the others are read; every other problem (an unknown key, a list where text belongs, an
//! unknown operator, a missing name) is reported for every occurrence, each with its
//! location, which [`Sources::position`] turns into line and column without reading the text
//! again. See `ARCHITECTURE.md`, "Locations".
//!
//! # Limits
//!
//! Definitions come from many people and tenants, so every input is bounded ([`Limits`]):
//! the bytes read from a file (counted as read, not as the file system reports them), how
//! deep directories are followed, how deeply YAML lists and mappings nest, and how many bytes
//! YAML aliases may stand for. Only regular files and directories are read: a FIFO or a
//! device is refused, never waited on.

mod data;
mod error;
mod group_tests;
mod index;
mod lower;
mod markdown;
mod print;
mod recover;
mod schema;
mod sources;
mod yaml;

pub use data::{YamlData, YamlDataError, read_yaml_data};
pub use error::LoadError;
pub use group_tests::{
    Named, TestCase, TestFile, TestFileError, TestFiles, TestProblem, is_test_file, read_test_file,
    read_test_paths,
};
pub use markdown::{MarkdownError, MarkdownLimit, import_markdown};
/// The limits on Markdown group documents (see [`import_markdown`]).
pub mod markdown_limits {
    pub use crate::markdown::{MAX_CELLS, MAX_ERRORS, MAX_ROWS, MAX_TEXT_BYTES, MAX_VALUES};
}
pub use print::{PrintError, to_yaml};
pub use schema::schema_to_yaml;
pub use sources::{Excerpt, Position, Source, Sources};

use cohort_syntax::{GroupDef, SourceId};
use std::path::Path;

/// Limits that protect the loader from huge or hostile input.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// The largest definitions or schema file read, in bytes (16 MiB).
    pub max_file_bytes: u64,
    /// How deep a directory tree is followed (16 levels).
    pub max_dir_depth: usize,
    /// How deeply YAML lists and mappings may nest (64 levels; a definitions file needs 8).
    pub max_yaml_depth: usize,
    /// How many bytes the YAML aliases of one text may stand for, counted as if each alias
    /// were a copy of its anchor's node (16 MiB).
    pub max_alias_bytes: u64,
    /// How many bytes one loader reads in all (32 MiB): every file and string added, and
    /// every criterion or condition parsed from a YAML string, each time an alias repeats it.
    /// Loading takes roughly 100 to 150 bytes of memory per byte of definitions, so this
    /// bounds the memory a set of hostile files can claim to a few GiB.
    pub max_total_bytes: u64,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 16 * 1024 * 1024,
            max_dir_depth: 16,
            max_yaml_depth: 64,
            max_alias_bytes: 16 * 1024 * 1024,
            max_total_bytes: 32 * 1024 * 1024,
        }
    }
}

impl Limits {
    fn yaml(&self) -> yaml::YamlLimits {
        yaml::YamlLimits {
            max_depth: self.max_yaml_depth,
            max_expanded_bytes: usize::try_from(self.max_alias_bytes).unwrap_or(usize::MAX),
        }
    }
}

/// What a [`Loader`] produced: the sources it read, the groups it understood, and every error.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every source read, to turn locations into file, line and column.
    pub sources: Sources,
    /// The groups, in the order read.
    pub groups: Vec<GroupDef>,
    /// Every problem found; a group with an error is left out, the others are kept.
    pub errors: Vec<LoadError>,
    /// The field schema, when one was added ([`Loader::add_schema_str`]).
    pub schema: Option<cohort_syntax::SchemaDef>,
}

/// Reads definitions from strings, files and directories, collecting every error.
#[derive(Debug)]
pub struct Loader {
    limits: Limits,
    loaded: Loaded,
    budget: lower::Budget,
}

impl Loader {
    /// A loader with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A loader with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Loader {
            budget: lower::Budget {
                remaining: limits.max_total_bytes,
                limit: limits.max_total_bytes,
                reported: false,
            },
            limits,
            loaded: Loaded::default(),
        }
    }

    /// Reads definitions from `text` (one or more YAML documents, each a group or a list of
    /// groups under `groups`); `name` stands for the source in error messages.
    ///
    /// A YAML syntax error does not hide the rest of the text: the text is then read group
    /// by group (each document, and each item of a group list, on its own), every broken
    /// group gives its own error, and the others are read (see `recover.rs`).
    pub fn add_str(&mut self, name: &str, text: &str) -> SourceId {
        let (id, read) = self.read_yaml(name, text, true);
        let pieces = match read {
            Read::Nothing => return id,
            Read::Whole(tree) => vec![Ok(recover::Piece {
                kind: recover::PieceKind::Document,
                tree,
            })],
            Read::Pieces(pieces) => pieces,
        };
        for piece in pieces {
            let piece = match piece {
                Ok(piece) => piece,
                Err(error) => {
                    self.loaded.errors.push(*error);
                    continue;
                }
            };
            let mut reader = lower::Reader {
                tree: &piece.tree,
                source: id,
                errors: &mut self.loaded.errors,
                budget: &mut self.budget,
            };
            match &piece.kind {
                recover::PieceKind::Document => {
                    let groups = lower::groups(&mut reader);
                    self.loaded.groups.extend(groups);
                }
                recover::PieceKind::Item(path) => {
                    self.loaded
                        .groups
                        .extend(lower::list_item(&mut reader, path));
                }
            }
        }
        id
    }

    /// Adds `text` to the sources and reads it as YAML. A YAML limit is recorded and gives
    /// nothing; a syntax error is recorded and, when `recover` is set, the pieces of the text
    /// that are YAML are read on.
    fn read_yaml(&mut self, name: &str, text: &str, recover: bool) -> (SourceId, Read) {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let id = self.loaded.sources.add(name, text);
        let at = cohort_syntax::Loc::new(id, cohort_syntax::NodePath::root());
        if !self
            .budget
            .take(text.len(), &mut self.loaded.errors, Some(at))
        {
            return (id, Read::Nothing);
        }
        let Some((text, index)) = self.loaded.sources.indexed(id) else {
            return (id, Read::Nothing);
        };
        let limits = self.limits.yaml();
        match yaml::read(text, index, limits) {
            Ok(tree) => {
                let comments = tree.comments(text);
                self.loaded.sources.set_comments(id, comments);
                (id, Read::Whole(tree))
            }
            Err(error) if recover && error.syntax => {
                let recovered = recover::recover(text, index, limits, error);
                let mut pieces: Vec<Result<recover::Piece, Box<LoadError>>> = recovered
                    .pieces
                    .into_iter()
                    .map(|piece| {
                        piece.map_err(|broken| {
                            Box::new(LoadError::Yaml {
                                source_id: id,
                                position: Some(index.position(text, broken.error.offset)),
                                message: broken.error.message,
                                help: broken.error.help,
                                group: broken.group,
                            })
                        })
                    })
                    .collect();
                if recovered.stopped {
                    pieces.push(Err(Box::new(LoadError::Yaml {
                        source_id: id,
                        position: None,
                        message: format!(
                            "reading stopped after {} YAML errors in this file",
                            recover::MAX_YAML_ERRORS
                        ),
                        help: Some("fix these first: the rest of the file was not read".to_owned()),
                        group: None,
                    })));
                }
                (id, Read::Pieces(pieces))
            }
            Err(error) => {
                let position = index.position(text, error.offset);
                self.loaded.errors.push(LoadError::Yaml {
                    source_id: id,
                    position: Some(position),
                    message: error.message,
                    help: error.help,
                    group: None,
                });
                (id, Read::Nothing)
            }
        }
    }

    /// Reads a field schema from `text` (several schemas add up); `name` stands for the
    /// source in error messages.
    ///
    /// ```
    /// let mut loader = cohort_load::Loader::new();
    /// loader.add_schema_str("schema.yaml", "fields:\n- {name: Exclude Windows 11 Installation, type: flag, level: site}\n");
    /// let loaded = loader.finish();
    /// assert!(loaded.errors.is_empty());
    /// assert_eq!(loaded.schema.unwrap().fields[0].key(), "site:Exclude Windows 11 Installation");
    /// ```
    pub fn add_schema_str(&mut self, name: &str, text: &str) -> SourceId {
        let (id, read) = self.read_yaml(name, text, false);
        let schema = match read {
            Read::Whole(tree) => {
                schema::parse_schema(&tree, id, &mut self.loaded.errors, &mut self.budget)
            }
            Read::Nothing | Read::Pieces(_) => cohort_syntax::SchemaDef::default(),
        };
        self.loaded
            .schema
            .get_or_insert_with(Default::default)
            .fields
            .extend(schema.fields);
        id
    }

    /// Reads a field schema file.
    pub fn add_schema_path(&mut self, path: &Path) {
        if let Some(text) = self.read_text(path) {
            self.add_schema_str(&path.display().to_string(), &text);
        }
    }

    /// Reads a group document written in Markdown (see [`import_markdown`]); `name` stands
    /// for it in error messages.
    pub fn add_markdown(&mut self, name: &str, text: &str) -> SourceId {
        let id = self.loaded.sources.add(name, text);
        let at = cohort_syntax::Loc::new(id, cohort_syntax::NodePath::root());
        if !self
            .budget
            .take(text.len(), &mut self.loaded.errors, Some(at))
        {
            return id;
        }
        match import_markdown(text) {
            Ok(mut group) => {
                let at = cohort_syntax::Loc::new(id, cohort_syntax::NodePath::root());
                lower::place(&mut group.condition, &at);
                group.loc = cohort_syntax::Loc::new(id, cohort_syntax::NodePath::root());
                self.loaded.groups.push(group);
            }
            Err(errors) => {
                self.loaded
                    .errors
                    .extend(errors.into_iter().map(|error| LoadError::Markdown {
                        source_id: id,
                        position: Position {
                            line: error.line,
                            column: 1,
                        },
                        message: error.message,
                        help: error.help,
                    }));
            }
        }
        id
    }

    /// Reads a definitions file, or every `*.yaml` / `*.yml` file below a directory.
    pub fn add_path(&mut self, path: &Path) {
        let mut walk = Walk {
            root: None,
            visited: std::collections::HashSet::new(),
        };
        self.add_path_at_depth(path, 0, &mut walk);
    }

    /// Reads `path`: named by the user when `walk.root` is `None`, otherwise found in the
    /// directory `walk.root`. Inside a directory, a symbolic link is followed only when it
    /// leads inside that directory (a link to `/etc/shadow` named `x.yaml` is an error, not
    /// read), and a directory already read is not read again (links to `.` cannot loop).
    fn add_path_at_depth(&mut self, path: &Path, depth: usize, walk: &mut Walk) {
        let named_by_user = walk.root.is_none();
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(source) => {
                self.loaded.errors.push(LoadError::Io {
                    path: path.to_owned(),
                    source,
                });
                return;
            }
        };
        if !named_by_user && (metadata.is_dir() || is_definitions_file(path)) {
            let is_link = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if is_link {
                let inside = match (std::fs::canonicalize(path), &walk.root) {
                    (Ok(target), Some(root)) => target.starts_with(root),
                    _ => false,
                };
                if !inside {
                    self.loaded.errors.push(LoadError::LinkOutside {
                        path: path.to_owned(),
                        root: walk.root.clone().unwrap_or_default(),
                    });
                    return;
                }
            }
        }
        if metadata.is_dir() {
            if depth >= self.limits.max_dir_depth {
                self.loaded.errors.push(LoadError::TooDeep {
                    path: path.to_owned(),
                    limit: self.limits.max_dir_depth,
                });
                return;
            }
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
            if !walk.visited.insert(canonical.clone()) {
                return;
            }
            let mut inner = Walk {
                root: Some(walk.root.clone().unwrap_or(canonical)),
                visited: std::mem::take(&mut walk.visited),
            };
            let mut entries = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .collect::<Vec<_>>(),
                Err(source) => {
                    self.loaded.errors.push(LoadError::Io {
                        path: path.to_owned(),
                        source,
                    });
                    walk.visited = inner.visited;
                    return;
                }
            };
            entries.sort();
            for entry in entries {
                self.add_path_at_depth(&entry, depth + 1, &mut inner);
            }
            walk.visited = inner.visited;
        } else if !metadata.is_file() {
            // A FIFO, socket or device: reading it could block forever or never end.
            if named_by_user || is_definitions_file(path) {
                self.loaded.errors.push(LoadError::NotAFile {
                    path: path.to_owned(),
                });
            }
        } else if named_by_user || is_definitions_file(path) {
            self.add_file(path);
        }
    }

    fn add_file(&mut self, path: &Path) {
        if let Some(text) = self.read_text(path) {
            self.add_str(&path.display().to_string(), &text);
        }
    }

    /// A regular file's text, within the size limit (counted in bytes read) and in UTF-8;
    /// otherwise an error is recorded.
    fn read_text(&mut self, path: &Path) -> Option<String> {
        let limit = self.limits.max_file_bytes;
        let bytes = match read_bounded(path, limit) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.loaded.errors.push(LoadError::TooLarge {
                    path: path.to_owned(),
                    limit,
                });
                return None;
            }
            Err(ReadError::NotAFile) => {
                self.loaded.errors.push(LoadError::NotAFile {
                    path: path.to_owned(),
                });
                return None;
            }
            Err(ReadError::Io(source)) => {
                self.loaded.errors.push(LoadError::Io {
                    path: path.to_owned(),
                    source,
                });
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(error) => {
                let valid_up_to = error.utf8_error().valid_up_to();
                let bytes = error.into_bytes();
                let prefix = String::from_utf8_lossy(bytes.get(..valid_up_to).unwrap_or_default());
                self.loaded.errors.push(LoadError::NotUtf8 {
                    path: path.to_owned(),
                    position: Position::of_offset(&prefix, valid_up_to),
                });
                None
            }
        }
    }

    /// Ends loading.
    pub fn finish(self) -> Loaded {
        self.loaded
    }
}

/// What reading a text as YAML gave.
enum Read {
    /// Nothing (an error was recorded).
    Nothing,
    /// The whole text.
    Whole(yaml::Tree),
    /// The pieces of a text with a syntax error: read, or the error of a broken one.
    Pieces(Vec<Result<recover::Piece, Box<LoadError>>>),
}

/// Where a directory walk is.
struct Walk {
    /// The directory the user named (canonical), once inside it.
    root: Option<std::path::PathBuf>,
    /// The directories read so far (canonical).
    visited: std::collections::HashSet<std::path::PathBuf>,
}

/// Why [`read_bounded`] read nothing.
#[derive(Debug)]
pub enum ReadError {
    /// The path is not a regular file (a directory, a FIFO, a device, a socket).
    NotAFile,
    /// The operating system's error.
    Io(std::io::Error),
}

/// The bytes of the regular file at `path`, or `Ok(None)` when it holds more than `limit`
/// bytes (counted as they are read, so a file that grows, or lies about its size, is still
/// cut off). A path that is not a regular file is refused before it is opened for reading.
///
/// ```
/// let dir = std::env::temp_dir();
/// let path = dir.join(format!("cohort-read-bounded-{}.yaml", std::process::id()));
/// std::fs::write(&path, "name: G\n").unwrap();
/// assert_eq!(cohort_load::read_bounded(&path, 100).unwrap(), Some(b"name: G\n".to_vec()));
/// assert_eq!(cohort_load::read_bounded(&path, 3).unwrap(), None);
/// assert!(matches!(cohort_load::read_bounded(&dir, 100), Err(cohort_load::ReadError::NotAFile)));
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, ReadError> {
    use std::io::Read;
    let metadata = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile);
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len().min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Ok(None);
    }
    Ok(Some(bytes))
}

fn is_definitions_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|ext| ext.to_str()),
        Some("yaml" | "yml")
    )
}
