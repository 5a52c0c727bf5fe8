//! Reading the files named on the command line: regular files only (a FIFO or a device named
//! as input must not hang the CLI or feed it forever), within a limit counted in the bytes
//! actually read rather than in the size the file system reports.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The largest definitions file (group YAML for `fmt`, a Markdown document for `import`) the
/// CLI reads: 16 MiB, the loader's limit.
pub(crate) const MAX_DEFINITION_BYTES: u64 = 16 * 1024 * 1024;

/// A file as read: its bytes, and what identified its contents then.
pub(crate) struct Snapshot {
    /// Every byte read.
    pub(crate) bytes: Vec<u8>,
    /// The file's identity and times when it was read.
    pub(crate) stamp: Stamp,
}

/// What tells whether a file changed: device and inode (replaced), size, modification and
/// status-change times (written, truncated, chmod, linked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    pub(crate) fn of(metadata: &Metadata) -> Stamp {
        Stamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            len: metadata.len(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

pub(crate) use cohort_fleet::{not_regular, utf8};

/// Opens `path` for reading when it is a regular file (checked before opening, following
/// symbolic links, and again on the open file). Errors name the file.
pub(crate) fn open_regular(path: &Path) -> Result<File, String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if let Some(kind) = not_regular(&metadata) {
        return Err(format!(
            "cannot read `{shown}`: it is {kind}, expected a regular file"
        ));
    }
    let file = File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let opened = file
        .metadata()
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if let Some(kind) = not_regular(&opened) {
        return Err(format!(
            "cannot read `{shown}`: it is {kind}, expected a regular file"
        ));
    }
    Ok(file)
}

/// Reads the regular file `path` whole, refusing it when it holds more than `limit` bytes
/// (counted while reading); `what` names the kind of file in that error.
pub(crate) fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Snapshot, String> {
    let shown = path.display();
    let file = open_regular(path)?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let bytes = read_at_most(file, limit).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "`{shown}` is over the limit of {limit} bytes ({}) for {what}",
            human(limit)
        ));
    }
    Ok(Snapshot {
        bytes,
        stamp: Stamp::of(&metadata),
    })
}

/// Up to `limit + 1` bytes of `reader`: one more than the limit tells that it was exceeded.
pub(crate) fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A byte count for people: `16 MiB`, `512 KiB`, `100 bytes`.
fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_the_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.yaml");
        std::fs::write(&path, "x".repeat(10)).unwrap();
        assert_eq!(read_limited(&path, 10, "a test").unwrap().bytes.len(), 10);
        let error = read_limited(&path, 9, "a definitions file").err().unwrap();
        assert!(
            error
                .ends_with("g.yaml` is over the limit of 9 bytes (9 bytes) for a definitions file"),
            "{error}"
        );
        assert_eq!(human(MAX_DEFINITION_BYTES), "16 MiB");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_limited(dir.path(), 10, "a test").err().unwrap();
        assert!(
            error.contains("it is a directory, expected a regular file"),
            "{error}"
        );
        let error = read_limited(Path::new("/dev/zero"), 10, "a test")
            .err()
            .unwrap();
        assert!(
            error.contains("`/dev/zero`: it is a character device"),
            "{error}"
        );
        let fifo = dir.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let error = read_limited(&fifo, 10, "a test").err().unwrap();
            assert!(
                error.contains("it is a FIFO, expected a regular file"),
                "{error}"
            );
        }
    }
}
