//! Reads group definitions into syntax trees.
//!
//! This is the only library crate that touches the file system or YAML: everything
//! downstream sees [`cohort_syntax`] trees. A file holds one group, or several under
//! `groups:`; a directory is read recursively (`*.yaml`, `*.yml`, in name order).
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
//! Structural YAML errors (bad syntax, an unknown key, a list where a string belongs) come
//! from serde_yaml with their line and column; serde_yaml stops at the first one in a file.
//! Everything found after the structure is read (an unknown operator, a missing name) is
//! reported for every occurrence, and [`Sources::position`] finds its line and column from the
//! node's path. See `ARCHITECTURE.md`, "Locations".

mod error;
mod locate;
mod markdown;
mod print;
mod raw;
mod schema;
mod sources;

pub use error::LoadError;
pub use markdown::{MarkdownError, import_markdown};
pub use print::{PrintError, to_yaml};
pub use schema::schema_to_yaml;
pub use sources::{Position, Source, Sources};

use cohort_syntax::{GroupDef, SourceId};
use std::path::Path;

/// Limits that protect the loader from huge or hostile input.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Limits {
    /// The largest definitions file read, in bytes.
    pub max_file_bytes: u64,
    /// How deep a directory tree is followed.
    pub max_dir_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 16 * 1024 * 1024,
            max_dir_depth: 16,
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
    /// Every problem found; groups from a file with a structural error are left out.
    pub errors: Vec<LoadError>,
    /// The field schema, when one was added ([`Loader::add_schema_str`]).
    pub schema: Option<cohort_syntax::SchemaDef>,
}

/// Reads definitions from strings, files and directories, collecting every error.
#[derive(Debug, Default)]
pub struct Loader {
    limits: Limits,
    loaded: Loaded,
}

impl Loader {
    /// A loader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A loader with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Loader {
            limits,
            loaded: Loaded::default(),
        }
    }

    /// Reads definitions from `text`; `name` stands for the source in error messages.
    pub fn add_str(&mut self, name: &str, text: &str) -> SourceId {
        let id = self.loaded.sources.add(name, text);
        let groups = raw::parse(text, id, &mut self.loaded.errors);
        self.loaded.groups.extend(groups);
        id
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
        let id = self.loaded.sources.add(name, text);
        let schema = schema::parse_schema(text, id, &mut self.loaded.errors);
        self.loaded
            .schema
            .get_or_insert_with(Default::default)
            .fields
            .extend(schema.fields);
        id
    }

    /// Reads a field schema file.
    pub fn add_schema_path(&mut self, path: &Path) {
        let size = match std::fs::metadata(path) {
            Ok(metadata) => metadata.len(),
            Err(source) => {
                self.loaded.errors.push(LoadError::Io {
                    path: path.to_owned(),
                    source,
                });
                return;
            }
        };
        if let Some(text) = self.read_text(path, size) {
            self.add_schema_str(&path.display().to_string(), &text);
        }
    }

    /// Reads a group document written in Markdown (see [`import_markdown`]); `name` stands
    /// for it in error messages.
    pub fn add_markdown(&mut self, name: &str, text: &str) -> SourceId {
        let id = self.loaded.sources.add(name, text);
        match import_markdown(text) {
            Ok(mut group) => {
                raw::place(&mut group.condition, id, &cohort_syntax::NodePath::root());
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
        self.add_path_at_depth(path, 0, true);
    }

    fn add_path_at_depth(&mut self, path: &Path, depth: usize, named_by_user: bool) {
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
        if metadata.is_dir() {
            if depth >= self.limits.max_dir_depth {
                self.loaded.errors.push(LoadError::TooDeep {
                    path: path.to_owned(),
                    limit: self.limits.max_dir_depth,
                });
                return;
            }
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
                    return;
                }
            };
            entries.sort();
            for entry in entries {
                self.add_path_at_depth(&entry, depth + 1, false);
            }
        } else if named_by_user || is_definitions_file(path) {
            self.add_file(path, metadata.len());
        }
    }

    fn add_file(&mut self, path: &Path, size: u64) {
        if let Some(text) = self.read_text(path, size) {
            self.add_str(&path.display().to_string(), &text);
        }
    }

    /// A file's text, within the size limit and in UTF-8; otherwise an error is recorded.
    fn read_text(&mut self, path: &Path, size: u64) -> Option<String> {
        if size > self.limits.max_file_bytes {
            self.loaded.errors.push(LoadError::TooLarge {
                path: path.to_owned(),
                size,
                limit: self.limits.max_file_bytes,
            });
            return None;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(source) => {
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

fn is_definitions_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|ext| ext.to_str()),
        Some("yaml" | "yml")
    )
}
