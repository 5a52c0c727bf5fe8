//! `cohort fmt` and `cohort import`: canonical definition files, written safely.

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
        collect(path, &mut files, 0)
            .map_err(|e| Failure(format!("error: cannot read `{}`: {e}", path.display())))?;
    }
    let mut failed = false;
    let mut unformatted = 0;
    for file in &files {
        let shown = file.display().to_string();
        let Some((text, formatted)) = read_and_convert(file, out, cohort::format_yaml)? else {
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
        match write_safely(file, &formatted.text) {
            Ok(()) => writeln!(out, "reformatted {shown}")?,
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

fn collect(path: &Path, files: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if !path.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files, depth + 1)?;
        } else if matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(entry);
        }
    }
    Ok(())
}

/// Writes `text` to a temporary file beside `path` with `path`'s permissions, then renames it
/// over `path`: a failure at any point leaves the original as it was.
pub(crate) fn write_safely(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.cohort-fmt-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

pub(crate) fn import(
    files: &[PathBuf],
    out_dir: Option<&Path>,
    force: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut failed = false;
    for (index, file) in files.iter().enumerate() {
        let Some((_, yaml)) = read_and_convert(file, out, cohort::import_markdown)? else {
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
        if target.exists() && !force {
            writeln!(
                out,
                "{}: exists; not overwritten (use --force)",
                target.display()
            )?;
            failed = true;
            continue;
        }
        match std::fs::create_dir_all(dir).and_then(|()| write_safely(&target, &yaml)) {
            Ok(()) => writeln!(out, "wrote {}", target.display())?,
            Err(e) => {
                writeln!(out, "{}: cannot write: {e}", target.display())?;
                failed = true;
            }
        }
    }
    Ok(if failed { EXIT_INVALID } else { EXIT_OK })
}

/// Reads `file` and converts its text with `convert` (given the file's name for messages);
/// prints why either step failed and returns `None` then.
fn read_and_convert<T>(
    file: &Path,
    out: &mut dyn Write,
    convert: impl FnOnce(&str, &str) -> Result<T, cohort::Error>,
) -> Result<Option<(String, T)>, Failure> {
    let shown = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            writeln!(out, "{shown}: cannot read: {e}")?;
            return Ok(None);
        }
    };
    match convert(&shown, &text) {
        Ok(converted) => Ok(Some((text, converted))),
        Err(error) => {
            writeln!(out, "{error}")?;
            Ok(None)
        }
    }
}
