//! `cohort fmt` and `cohort import`: canonical definition files, written safely.

use crate::input::{MAX_DEFINITION_BYTES, Snapshot, read_limited, utf8};
use crate::write::{Target, write_safely};
use crate::{EXIT_INVALID, EXIT_OK, Failure};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) fn run(
    paths: &[PathBuf],
    check: bool,
    force: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, out)?;
    }
    let mut failed = false;
    let mut unformatted = 0;
    for file in &files {
        let shown = file.display().to_string();
        let Some((snapshot, text, formatted)) = read_and_convert(file, out, cohort::format_yaml)?
        else {
            failed = true;
            continue;
        };
        if formatted.text == text {
            continue;
        }
        unformatted += 1;
        if check {
            writeln!(out, "would reformat {shown}")?;
            continue;
        }
        if !formatted.dropped_comments.is_empty() && !force {
            let lines: Vec<String> = formatted
                .dropped_comments
                .iter()
                .map(ToString::to_string)
                .collect();
            writeln!(
                out,
                "{shown}: not reformatted: the comments on line{} {} would be lost (only the leading comment block is kept); use --force to drop them",
                if lines.len() == 1 { "" } else { "s" },
                lines.join(", ")
            )?;
            failed = true;
            continue;
        }
        match write_safely(
            file,
            formatted.text.as_bytes(),
            Target::Replace(&snapshot),
            force,
        ) {
            Ok(_) => writeln!(out, "reformatted {shown}")?,
            Err(e) => {
                writeln!(out, "{shown}: not reformatted: {e}")?;
                failed = true;
            }
        }
    }
    if check && unformatted == 0 && !failed {
        writeln!(out, "ok: {} files in canonical form", files.len())?;
    }
    Ok(if failed || (check && unformatted > 0) {
        EXIT_INVALID
    } else {
        EXIT_OK
    })
}

/// The files `fmt` rewrites for `path`: the path itself when it is not a directory (a
/// symbolic link named on the command line is followed deliberately), else its `.yaml` and
/// `.yml` files, 16 directory levels down. Inside the directory, a symbolic link is followed
/// only when it leads to somewhere inside the directory given; a link leading out of it is
/// reported and skipped, so that a link planted in a shared tree cannot make `fmt` rewrite
/// files elsewhere.
fn collect(path: &Path, files: &mut Vec<PathBuf>, out: &mut dyn Write) -> Result<(), Failure> {
    if !path.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    let cannot_read =
        |e: std::io::Error| Failure(format!("error: cannot read `{}`: {e}", path.display()));
    let root = std::fs::canonicalize(path).map_err(cannot_read)?;
    let mut skipped = Vec::new();
    let mut visited = std::collections::HashSet::from([root.clone()]);
    walk(path, &root, files, &mut skipped, &mut visited, 0).map_err(cannot_read)?;
    for (link, target) in skipped {
        writeln!(
            out,
            "{}: skipped: a symbolic link to `{}`, outside `{}`",
            link.display(),
            target.display(),
            path.display()
        )?;
    }
    Ok(())
}

/// [`collect`] in `dir`, `depth` levels below the directory given (`root`, canonical).
fn walk(
    dir: &Path,
    root: &Path,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, PathBuf)>,
    visited: &mut std::collections::HashSet<PathBuf>,
    depth: usize,
) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for entry in entries {
        let is_dir = entry.is_dir();
        let is_definitions = matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if !is_dir && !is_definitions {
            continue;
        }
        let link = std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_symlink());
        // A link to nothing is kept, for its name to be reported as unreadable.
        if link
            && let Ok(target) = std::fs::canonicalize(&entry)
            && !target.starts_with(root)
        {
            skipped.push((entry, target));
            continue;
        }
        // Every directory and file is taken once, however many links lead to it: links to
        // `.` would otherwise make the walk exponential in its depth.
        let canonical = std::fs::canonicalize(&entry).unwrap_or_else(|_| entry.clone());
        if !visited.insert(canonical) {
            continue;
        }
        if is_dir {
            walk(&entry, root, files, skipped, visited, depth + 1)?;
        } else {
            files.push(entry);
        }
    }
    Ok(())
}

pub(crate) fn import(
    files: &[PathBuf],
    out_dir: Option<&Path>,
    force: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut failed = false;
    for (index, file) in files.iter().enumerate() {
        let Some((_, _, yaml)) = read_and_convert(file, out, cohort::import_markdown)? else {
            failed = true;
            continue;
        };
        let Some(dir) = out_dir else {
            if index > 0 {
                writeln!(out, "---")?;
            }
            write!(out, "{yaml}")?;
            continue;
        };
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "group".into());
        let target = dir.join(format!("{stem}.yaml"));
        if let Err(e) = std::fs::create_dir_all(dir) {
            writeln!(out, "{}: cannot create the directory: {e}", dir.display())?;
            failed = true;
            continue;
        }
        match write_safely(&target, yaml.as_bytes(), Target::Create, force) {
            Ok(_) => writeln!(out, "wrote {}", target.display())?,
            Err(e) => {
                writeln!(out, "{}: {e}", target.display())?;
                failed = true;
            }
        }
    }
    Ok(if failed { EXIT_INVALID } else { EXIT_OK })
}

/// Reads `file` (a regular file, at most [`MAX_DEFINITION_BYTES`]) and converts its text
/// with `convert` (given the file's name for messages); prints why either step failed and
/// returns `None` then.
fn read_and_convert<T>(
    file: &Path,
    out: &mut dyn Write,
    convert: impl FnOnce(&str, &str) -> Result<T, cohort::Error>,
) -> Result<Option<(Snapshot, String, T)>, Failure> {
    let shown = file.display().to_string();
    let read =
        read_limited(file, MAX_DEFINITION_BYTES, "a definitions file").and_then(|snapshot| {
            let text = utf8(&snapshot.bytes).map_err(|e| format!("`{shown}` is {e}"))?;
            Ok((text.to_owned(), snapshot))
        });
    let (text, snapshot) = match read {
        Ok(read) => read,
        Err(e) => {
            writeln!(out, "{e}")?;
            return Ok(None);
        }
    };
    match convert(&shown, &text) {
        Ok(converted) => Ok(Some((snapshot, text, converted))),
        Err(error) => {
            writeln!(out, "{error}")?;
            Ok(None)
        }
    }
}
