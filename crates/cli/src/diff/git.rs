//! Group definitions at a git revision: `git:REV:PATH`, listed with `git ls-tree` and read
//! with `git cat-file` (the `git` program, no git library). The revision and the path are
//! checked, then passed to git as arguments of their own after `--end-of-options`, never
//! through a shell.

use std::process::Command;

/// The prefix of a definitions path at a git revision.
pub(crate) const PREFIX: &str = "git:";

/// The most a file read from git may hold, as for files on disk.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most definition files read from one revision.
const MAX_FILES: usize = 10_000;

/// `git:REV:PATH`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GitPath {
    /// The revision (`HEAD~1`, `main`, a commit).
    pub(crate) rev: String,
    /// The path from the repository's top directory (empty: all of it), without a trailing
    /// `/`.
    pub(crate) path: String,
}

/// Why a `git:` path cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GitPathError {
    /// No `:` between the revision and the path.
    #[error(
        "`{0}` has no `:` between the revision and the path (write `git:REV:PATH`, such as `git:HEAD~1:groups/`)"
    )]
    MissingColon(String),
    /// An empty revision.
    #[error("`{0}` names no revision (write `git:REV:PATH`, such as `git:HEAD~1:groups/`)")]
    EmptyRevision(String),
    /// A revision git could take for an option, or with characters no revision has.
    #[error(
        "`{0}` is not a revision cohort passes to git (a revision may not start with `-` or hold spaces or control characters)"
    )]
    BadRevision(String),
    /// A path that leaves the repository or could be taken for an option.
    #[error(
        "`{0}` is not a path inside the repository (no `..`, no leading `/` or `-`, no control characters)"
    )]
    BadPath(String),
}

impl GitPath {
    /// Parses the text after `git:`.
    pub(crate) fn parse(spec: &str) -> Result<GitPath, GitPathError> {
        let Some((rev, path)) = spec.split_once(':') else {
            return Err(GitPathError::MissingColon(format!("{PREFIX}{spec}")));
        };
        if rev.is_empty() {
            return Err(GitPathError::EmptyRevision(format!("{PREFIX}{spec}")));
        }
        if rev.starts_with('-')
            || rev
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(GitPathError::BadRevision(rev.to_owned()));
        }
        let trimmed = path.trim_end_matches('/');
        let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
        let bad = path.starts_with('/')
            || path.starts_with('-')
            || path.chars().any(char::is_control)
            || trimmed
                .split('/')
                .any(|part| part == ".." || (part.is_empty() && !trimmed.is_empty()));
        if bad {
            return Err(GitPathError::BadPath(path.to_owned()));
        }
        Ok(GitPath {
            rev: rev.to_owned(),
            path: if trimmed == "." {
                String::new()
            } else {
                trimmed.to_owned()
            },
        })
    }

    /// How it was written.
    pub(crate) fn shown(&self) -> String {
        format!("{PREFIX}{}:{}", self.rev, self.path)
    }

    /// `REV:PATH` as git names an object.
    fn object(&self, path: &str) -> String {
        format!("{}:{path}", self.rev)
    }

    /// Every definitions file at the revision, `(name, text)` in path order: the file named,
    /// or every `*.yaml` / `*.yml` file below the directory named (as `cohort eval` reads a
    /// directory on disk).
    pub(crate) fn read(&self) -> Result<Vec<(String, String)>, String> {
        let kind = git(&[
            "cat-file",
            "-t",
            "--end-of-options",
            &self.object(&self.path),
        ])
        .map_err(|error| format!("`{}`: {error}", self.shown()))?;
        let files: Vec<String> = match kind.trim() {
            "blob" => vec![self.path.clone()],
            "tree" => {
                let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", "--name-only"];
                args.extend(["--end-of-options", &self.rev]);
                if !self.path.is_empty() {
                    args.extend(["--", &self.path]);
                }
                let listing = git(&args).map_err(|error| format!("`{}`: {error}", self.shown()))?;
                let mut files: Vec<String> = listing
                    .split('\0')
                    .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
                    .map(str::to_owned)
                    .collect();
                files.sort();
                files
            }
            other => {
                return Err(format!(
                    "`{}` is a {other}, not a file or directory",
                    self.shown()
                ));
            }
        };
        if files.len() > MAX_FILES {
            return Err(format!(
                "`{}` holds {} definition files, over the limit of {MAX_FILES}",
                self.shown(),
                files.len()
            ));
        }
        files
            .into_iter()
            .map(|file| {
                let object = self.object(&file);
                let name = format!("{PREFIX}{object}");
                let size = git(&["cat-file", "-s", "--end-of-options", &object])
                    .map_err(|error| format!("`{name}`: {error}"))?;
                if size.trim().parse::<u64>().map_or(true, |size| size > MAX_FILE_BYTES) {
                    return Err(format!(
                        "`{name}`: larger than the limit of {MAX_FILE_BYTES} bytes for a definitions file"
                    ));
                }
                let text = git(&["cat-file", "blob", "--end-of-options", &object])
                    .map_err(|error| format!("`{name}`: {error}"))?;
                Ok((name, text))
            })
            .collect()
    }
}

/// Runs `git` with `args` in the current directory; its standard output as text, or what
/// went wrong (git's own message when it says one).
fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr);
        let message = message.trim();
        return Err(if message.is_empty() {
            format!("git failed ({})", output.status)
        } else {
            format!("git says: {}", message.lines().next().unwrap_or(message))
        });
    }
    String::from_utf8(output.stdout).map_err(|_| "git gave text that is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(spec: &str) -> Result<(String, String), GitPathError> {
        GitPath::parse(spec).map(|p| (p.rev, p.path))
    }

    #[test]
    fn revisions_and_paths_are_split_at_the_first_colon() {
        assert_eq!(
            parsed("HEAD~1:groups/"),
            Ok(("HEAD~1".into(), "groups".into()))
        );
        assert_eq!(
            parsed("main:groups/a.yaml"),
            Ok(("main".into(), "groups/a.yaml".into()))
        );
        assert_eq!(parsed("HEAD:"), Ok(("HEAD".into(), String::new())));
        assert_eq!(parsed("HEAD:./"), Ok(("HEAD".into(), String::new())));
        assert_eq!(
            parsed("origin/main:a:b.yaml"),
            Ok(("origin/main".into(), "a:b.yaml".into()))
        );
    }

    #[test]
    fn hostile_forms_are_refused() {
        assert!(matches!(
            parsed("--upload-pack=x:path"),
            Err(GitPathError::BadRevision(_))
        ));
        assert!(matches!(parsed("-c:x"), Err(GitPathError::BadRevision(_))));
        assert!(matches!(
            parsed("HEAD groups"),
            Err(GitPathError::MissingColon(_))
        ));
        assert!(matches!(
            parsed("HEAD;rm -rf /:x"),
            Err(GitPathError::BadRevision(_))
        ));
        assert!(matches!(
            parsed(":groups"),
            Err(GitPathError::EmptyRevision(_))
        ));
        assert!(matches!(parsed("HEAD:../x"), Err(GitPathError::BadPath(_))));
        assert!(matches!(
            parsed("HEAD:groups/../../etc"),
            Err(GitPathError::BadPath(_))
        ));
        assert!(matches!(parsed("HEAD:a/.."), Err(GitPathError::BadPath(_))));
        assert!(matches!(parsed("HEAD:/etc"), Err(GitPathError::BadPath(_))));
        assert!(matches!(
            parsed("HEAD:--output=x"),
            Err(GitPathError::BadPath(_))
        ));
        assert!(matches!(parsed("HEAD:a\nb"), Err(GitPathError::BadPath(_))));
        assert!(matches!(parsed("HEAD:a//b"), Err(GitPathError::BadPath(_))));
    }

    #[test]
    fn messages_say_what_to_write() {
        assert_eq!(
            GitPathError::MissingColon("git:HEAD".into()).to_string(),
            "`git:HEAD` has no `:` between the revision and the path (write `git:REV:PATH`, such as `git:HEAD~1:groups/`)"
        );
    }
}
