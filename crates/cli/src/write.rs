//! Writing files safely, for `cohort fmt`, `cohort import --out` and `cohort schema infer
//! --out`. The CLI may run as root over directories other users can write, so:
//!
//! * the temporary file is created exclusively (`O_CREAT|O_EXCL`, which never follows a
//!   link) with an unpredictable name in the target's own directory, written, given the
//!   original's owner, group and permission bits, synced, then renamed over the target, and
//!   the directory synced: a failure at any point leaves the original as it was and no
//!   temporary file behind;
//! * a target that is a symbolic link is written at the file it finally points to, and the
//!   link stays a link; a link to nothing is refused rather than followed into a new file;
//! * a target with several hard links is refused unless forced (a rename would give this
//!   name new contents and leave the others with the old ones);
//! * a file rewritten from what was read (`fmt`) is refused when it changed since: its bytes,
//!   size, times or inode differ just before the rename.

use crate::input::{Snapshot, Stamp, not_regular, read_at_most};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What is expected at the path written.
pub(crate) enum Target<'a> {
    /// An existing file rewritten from its contents as read: it must still hold them.
    Replace(&'a Snapshot),
    /// A new file. An existing file at the path is replaced only with `force`.
    Create,
}

/// Why a file was not written. Each message reads after the file's name (`x.yaml: ...`).
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The path exists and `force` was not given.
    Exists,
    /// The path is a symbolic link to nothing.
    DanglingLink {
        /// What the link says.
        points_to: PathBuf,
    },
    /// The path (or the file a link points to) is not a regular file.
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead: `a FIFO`...
        kind: &'static str,
    },
    /// The file has more than one name, and `force` was not given.
    HardLinks {
        /// The file.
        path: PathBuf,
        /// Its number of names.
        links: u64,
    },
    /// The file is not as it was read.
    Changed {
        /// The file.
        path: PathBuf,
        /// What differs.
        what: &'static str,
    },
    /// The operating system refused a step.
    Io {
        /// What was being done, naming the file: ``create a temporary file in `dir` ``.
        doing: String,
        /// Why not.
        source: std::io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Exists => f.write_str("exists; not overwritten (use --force)"),
            WriteError::DanglingLink { points_to } => write!(
                f,
                "is a symbolic link to `{}`, which does not exist; not written (remove the link or point it at a file)",
                points_to.display()
            ),
            WriteError::NotRegular { path, kind } => write!(
                f,
                "`{}` is {kind}, expected a regular file; not written",
                path.display()
            ),
            WriteError::HardLinks { path, links } => write!(
                f,
                "`{}` has {links} hard links; writing it would break them (this name would get the new text, the other {} the old): use --force to write this name only",
                path.display(),
                links - 1
            ),
            WriteError::Changed { path, what } => write!(
                f,
                "`{}` changed after it was read ({what}); not written, run again",
                path.display()
            ),
            WriteError::Io { doing, source } => write!(f, "cannot {doing}: {source}"),
        }
    }
}

fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> WriteError {
    let doing = doing.into();
    move |source| WriteError::Io { doing, source }
}

/// Writes `contents` at `path` as described in the module documentation; returns the path of
/// the file written (the final target when `path` is a symbolic link).
pub(crate) fn write_safely(
    path: &Path,
    contents: &[u8],
    target: Target<'_>,
    force: bool,
) -> Result<PathBuf, WriteError> {
    write_with_hook(path, contents, target, force, || {})
}

/// [`write_safely`], calling `before_commit` once the temporary file is written and synced,
/// just before the target is checked for changes and replaced (tests change the file there).
pub(crate) fn write_with_hook(
    path: &Path,
    contents: &[u8],
    target: Target<'_>,
    force: bool,
    before_commit: impl FnOnce(),
) -> Result<PathBuf, WriteError> {
    let (final_path, existing) = resolve(path, &target, force)?;
    let dir = match final_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    // The target's name starts the temporary's, shortened so that the whole stays within
    // the 255 bytes a file name may have.
    let name: String = final_path
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(64).collect())
        .unwrap_or_default();
    // A new file gets the permissions `File::create` would give (0666 less the umask); an
    // existing one is created private, then given the original's owner and mode.
    let mode = if existing.is_some() { 0o600 } else { 0o666 };
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(io(format!(
            "create a temporary file in `{}`",
            dir.display()
        )))?;
    let shown_temporary = temporary.path().display().to_string();
    temporary
        .write_all(contents)
        .map_err(io(format!("write `{shown_temporary}`")))?;
    if let Some(original) = &existing {
        copy_owner_and_mode(temporary.as_file(), original).map_err(io(format!(
            "give `{shown_temporary}` the original's owner and mode"
        )))?;
    }
    temporary
        .as_file()
        .sync_all()
        .map_err(io(format!("sync `{shown_temporary}`")))?;
    before_commit();
    if let Target::Replace(snapshot) = target {
        unchanged(&final_path, snapshot)?;
    }
    let shown_final = final_path.display().to_string();
    if existing.is_none() && !force {
        temporary
            .persist_noclobber(&final_path)
            .map_err(|e| match e.error.kind() {
                std::io::ErrorKind::AlreadyExists => WriteError::Exists,
                _ => io(format!("create `{shown_final}`"))(e.error),
            })?;
    } else {
        temporary
            .persist(&final_path)
            .map_err(|e| io(format!("rename `{shown_temporary}` over `{shown_final}`"))(e.error))?;
    }
    // Make the rename itself durable where the platform allows syncing a directory.
    if let Ok(directory) = std::fs::File::open(&dir) {
        let _ = directory.sync_all();
    }
    Ok(final_path)
}

/// The file to write (a link's final target) and, when it exists, its metadata; refuses what
/// must not be written.
fn resolve(
    path: &Path,
    target: &Target<'_>,
    force: bool,
) -> Result<(PathBuf, Option<std::fs::Metadata>), WriteError> {
    let shown = path.display().to_string();
    let link = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata.file_type().is_symlink(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match target {
                Target::Create => Ok((path.to_owned(), None)),
                Target::Replace(_) => Err(WriteError::Changed {
                    path: path.to_owned(),
                    what: "it no longer exists",
                }),
            };
        }
        Err(e) => return Err(io(format!("inspect `{shown}`"))(e)),
    };
    let final_path = if link {
        std::fs::canonicalize(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => WriteError::DanglingLink {
                points_to: std::fs::read_link(path).unwrap_or_default(),
            },
            _ => io(format!("resolve the symbolic link `{shown}`"))(e),
        })?
    } else {
        path.to_owned()
    };
    let metadata = std::fs::metadata(&final_path)
        .map_err(io(format!("inspect `{}`", final_path.display())))?;
    if let Some(kind) = not_regular(&metadata) {
        return Err(WriteError::NotRegular {
            path: final_path,
            kind,
        });
    }
    if matches!(target, Target::Create) && !force {
        return Err(WriteError::Exists);
    }
    if metadata.nlink() > 1 && !force {
        return Err(WriteError::HardLinks {
            path: final_path,
            links: metadata.nlink(),
        });
    }
    Ok((final_path, Some(metadata)))
}

/// Gives `file` the owner and group of `original` (only root may give away a file: an
/// unprivileged user keeps what it can) and then its permission bits (after the owner, since
/// changing the owner clears set-id bits).
fn copy_owner_and_mode(file: &std::fs::File, original: &std::fs::Metadata) -> std::io::Result<()> {
    let mine = file.metadata()?;
    if (mine.uid(), mine.gid()) != (original.uid(), original.gid()) {
        let as_root = mine.uid() == 0;
        match std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid())) {
            Ok(()) => {}
            Err(e) if !as_root && e.kind() == std::io::ErrorKind::PermissionDenied => {
                // Not root: at least the group, when this user belongs to it.
                let _ = std::os::unix::fs::fchown(file, None, Some(original.gid()));
            }
            Err(e) => return Err(e),
        }
    }
    file.set_permissions(std::fs::Permissions::from_mode(original.mode() & 0o7777))
}

/// Refuses when the file at `path` is not the one read into `snapshot`, byte for byte.
fn unchanged(path: &Path, snapshot: &Snapshot) -> Result<(), WriteError> {
    let changed = |what| WriteError::Changed {
        path: path.to_owned(),
        what,
    };
    let differ = "its size, modification time, status or inode differ";
    // Inspected before it is opened, without following a link: a FIFO put in its place
    // must not block the open.
    let metadata =
        std::fs::symlink_metadata(path).map_err(|_| changed("it can no longer be inspected"))?;
    if Stamp::of(&metadata) != snapshot.stamp {
        return Err(changed(differ));
    }
    let file = std::fs::File::open(path).map_err(|_| changed("it can no longer be opened"))?;
    let metadata = file
        .metadata()
        .map_err(|_| changed("it can no longer be inspected"))?;
    if Stamp::of(&metadata) != snapshot.stamp {
        return Err(changed(differ));
    }
    let bytes = read_at_most(&file, snapshot.bytes.len() as u64)
        .map_err(|_| changed("it can no longer be read"))?;
    if bytes != snapshot.bytes {
        return Err(changed("its contents differ"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
