//! `cohort fmt` and `cohort import`: canonical definition files, written safely.

use crate::input::{MAX_DEFINITION_BYTES, Snapshot, read_limited, utf8};
use crate::write::{Target, write_safely};
use crate::{EXIT_INVALID, EXIT_OK, Failure};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `cohort fmt`: rewrites every file not in canonical form, or with `check` only says which
/// would be rewritten. `--check` refuses (and reports) exactly what a rewrite would refuse,
/// with or without `--force`, so that `fmt --check [--force]` agrees with `fmt [--force]`.
pub(crate) fn run(
    paths: &[PathBuf],
    check: bool,
    force: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    use std::os::unix::fs::MetadataExt;
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, out)?;
    }
    let mut failed = 0;
    let mut unformatted = 0;
    for file in &files {
        let shown = file.display().to_string();
        let Some((snapshot, text, formatted)) = read_and_convert(file, out, cohort::format_yaml)?
        else {
            failed += 1;
            continue;
        };
        let formatted = cohort::Formatted {
            text: restyle(&shown, &text, &formatted.text).unwrap_or(formatted.text),
            dropped_comments: formatted.dropped_comments,
        };
        if formatted.text == text {
            continue;
        }
        let not = if check {
            "would not be reformatted"
        } else {
            "not reformatted"
        };
        if !formatted.dropped_comments.is_empty() && !force {
            let lines: Vec<String> = formatted
                .dropped_comments
                .iter()
                .map(ToString::to_string)
                .collect();
            writeln!(
                out,
                "{shown}: {not}: the comments on line{} {} would be lost (only the leading comment block is kept); use --force to drop them",
                if lines.len() == 1 { "" } else { "s" },
                lines.join(", ")
            )?;
            failed += 1;
            continue;
        }
        if check {
            let links = std::fs::metadata(file).map_or(1, |metadata| metadata.nlink());
            if links > 1 && !force {
                writeln!(
                    out,
                    "{shown}: {not}: it has {links} hard links; use --force to write this name only"
                )?;
                failed += 1;
                continue;
            }
            unformatted += 1;
            writeln!(out, "would reformat {shown}")?;
            continue;
        }
        match write_safely(
            file,
            formatted.text.as_bytes(),
            Target::Replace(&snapshot),
            force,
        ) {
            Ok(_) => {
                unformatted += 1;
                writeln!(out, "reformatted {shown}")?;
            }
            Err(e) => {
                writeln!(out, "{shown}: not reformatted: {e}")?;
                failed += 1;
            }
        }
    }
    let total = crate::output::counted(files.len(), "file");
    if failed > 0 {
        writeln!(
            out,
            "error: {} of {total} {}",
            failed,
            if check {
                "would not be reformatted or could not be read"
            } else {
                "not reformatted"
            }
        )?;
    } else if check && unformatted > 0 {
        writeln!(out, "error: {unformatted} of {total} not in canonical form")?;
    } else if check {
        writeln!(out, "ok: {total} in canonical form")?;
    } else {
        writeln!(out, "ok: {total}, {unformatted} reformatted")?;
    }
    Ok(if failed > 0 || (check && unformatted > 0) {
        EXIT_INVALID
    } else {
        EXIT_OK
    })
}

/// How a file indents a block list that is the value of a key: `None` when the list starts
/// in the key's column (`blocks:` then `- ...`, the canonical style), else by how many
/// columns more. Only the first such list of the file is looked at.
fn list_indent(text: &str) -> Option<usize> {
    let mut lines = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
    let mut previous = lines.next()?;
    for line in lines {
        if let Some(key_column) = opens_block(previous) {
            let column = line.len() - line.trim_start().len();
            if line.trim_start().starts_with("- ") || line.trim_start() == "-" {
                return column.checked_sub(key_column).filter(|&more| more > 0);
            }
        }
        previous = line;
    }
    None
}

/// The column of the key when `line` is `key:` with nothing after it (possibly inside list
/// items: `- - key:`).
fn opens_block(line: &str) -> Option<usize> {
    let mut column = line.len() - line.trim_start().len();
    let mut rest = line.trim_start();
    while let Some(after) = rest.strip_prefix("- ") {
        column += 2 + (after.len() - after.trim_start().len());
        rest = after.trim_start();
    }
    let key = rest.strip_suffix(':')?;
    (!key.is_empty() && !key.contains(": ") && !key.starts_with(['"', '\'', '[', '{']))
        .then_some(column)
}

/// The canonical text `canonical` with its block lists indented by `indent` columns under
/// their keys.
fn indent_lists(canonical: &str, indent: usize) -> String {
    let lines: Vec<&str> = canonical.lines().collect();
    // The key columns whose list the current line is in (each shifts it by `indent`).
    let mut open: Vec<usize> = Vec::new();
    let mut out = String::with_capacity(canonical.len() + canonical.len() / 4);
    for (index, line) in lines.iter().enumerate() {
        let column = line.len() - line.trim_start().len();
        let content = line.trim_start();
        let item = content.starts_with("- ") || content == "-";
        while open
            .last()
            .is_some_and(|&key| !(column > key || (column == key && item)))
        {
            open.pop();
        }
        if !content.is_empty() {
            out.push_str(&" ".repeat(column + indent * open.len()));
            out.push_str(content);
        }
        out.push('\n');
        if let Some(key) = opens_block(line)
            && let Some(next) = lines.get(index + 1)
        {
            let next_column = next.len() - next.trim_start().len();
            if next_column == key && next.trim_start().starts_with('-') {
                open.push(key);
            }
        }
    }
    if !canonical.ends_with('\n') {
        out.pop();
    }
    out
}

/// `canonical` (what `cohort::format_yaml` made of `original`) in the list indentation of
/// `original`, when it uses indented lists; `None` when it does not, or when the restyled
/// text would not format back to `canonical` exactly (then the canonical text is written).
fn restyle(name: &str, original: &str, canonical: &str) -> Option<String> {
    let indent = list_indent(original)?;
    let restyled = indent_lists(canonical, indent);
    let back = cohort::format_yaml(name, &restyled).ok()?;
    (back.text == canonical).then_some(restyled)
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

/// `cohort import`: each Markdown document converted to YAML. Printed, one document in
/// all (a single group as it is, several under one `groups:` list, so that the output loads
/// as one file); or written to `out_dir` as `<document>.yaml`, named after the Markdown file.
pub(crate) fn import(
    files: &[PathBuf],
    out_dir: Option<&Path>,
    force: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut failed = 0;
    let mut written = 0;
    // Printed: every group, read back from each document's YAML, printed once at the end.
    let mut printed: Vec<String> = Vec::new();
    for file in files {
        let Some((_, _, yaml)) = read_and_convert(file, out, cohort::import_markdown)? else {
            failed += 1;
            continue;
        };
        let Some(dir) = out_dir else {
            printed.push(yaml);
            continue;
        };
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "group".into());
        let target = dir.join(format!("{stem}.yaml"));
        if let Err(e) = std::fs::create_dir_all(dir) {
            writeln!(out, "{}: cannot create the directory: {e}", dir.display())?;
            failed += 1;
            continue;
        }
        match write_safely(&target, yaml.as_bytes(), Target::Create, force) {
            Ok(_) => {
                writeln!(out, "wrote {}", target.display())?;
                written += 1;
            }
            Err(e) => {
                writeln!(out, "{}: {e}", target.display())?;
                failed += 1;
            }
        }
    }
    match printed.as_slice() {
        [] => {}
        [one] => write!(out, "{one}")?,
        several => match combine(several) {
            Ok(yaml) => write!(out, "{yaml}")?,
            Err(error) => {
                writeln!(out, "{error}")?;
                failed += several.len();
            }
        },
    }
    if failed > 0 {
        if out_dir.is_some() || printed.is_empty() {
            writeln!(
                out,
                "error: {} not imported",
                crate::output::counted(failed, "document")
            )?;
        }
        return Ok(EXIT_INVALID);
    }
    if out_dir.is_some() {
        writeln!(
            out,
            "ok: {} imported, {} written",
            crate::output::counted(files.len(), "document"),
            crate::output::counted(written, "file")
        )?;
    }
    Ok(EXIT_OK)
}

/// The groups of several imported documents as one `groups:` document, checked to load as
/// one set (two documents may name the same group).
fn combine(documents: &[String]) -> Result<String, String> {
    let mut loader = cohort_load::Loader::new();
    for (index, yaml) in documents.iter().enumerate() {
        loader.add_str(&format!("imported document {}", index + 1), yaml);
    }
    let groups = loader.finish().groups;
    let yaml = cohort_load::to_yaml(&groups, false)
        .map_err(|error| format!("error: cannot print the imported groups: {error}"))?;
    cohort::GroupSet::builder()
        .text("the imported groups", &yaml)
        .build()
        .map_err(|error| format!("{error}\nerror: the documents do not make one set of groups"))?;
    Ok(yaml)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indented_lists_are_kept_and_mean_the_same() {
        let original =
            "groups:\n  - name: A\n    blocks:\n      - - {field: OS, operator: '=', value: x}\n";
        assert_eq!(list_indent(original), Some(2));
        assert_eq!(list_indent("blocks:\n- - x\n"), None);
        let canonical = cohort::format_yaml("a.yaml", original)
            .map(|f| f.text)
            .unwrap_or_default();
        assert!(canonical.starts_with("groups:\n- name: A\n"), "{canonical}");
        let restyled = restyle("a.yaml", original, &canonical).unwrap_or_default();
        assert_eq!(
            restyled,
            "groups:\n  - name: A\n    blocks:\n      - - field: OS\n          operator: equal\n          values:\n            - x\n"
        );
    }
}
