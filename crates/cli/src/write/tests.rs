use super::*;
use crate::input::read_limited;
use std::fs;
use std::os::unix::fs::symlink;

/// The file read as `fmt` reads it.
fn snapshot(path: &Path) -> Snapshot {
    read_limited(path, 1 << 20, "a test file").unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_link_planted_at_the_old_temporary_name_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "secret\n").unwrap();
    set_mode(&victim, 0o600);
    let group = dir.path().join("g.yaml");
    fs::write(&group, "name: G\n").unwrap();
    // What the old writer would have opened, following the link.
    let planted = dir
        .path()
        .join(format!(".g.yaml.cohort-fmt-{}.tmp", std::process::id()));
    symlink(&victim, &planted).unwrap();
    let read = snapshot(&group);
    write_safely(&group, b"name: New\n", Target::Replace(&read), false).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "secret\n");
    assert_eq!(mode(&victim), 0o600);
    assert_eq!(fs::read_to_string(&group).unwrap(), "name: New\n");
    assert!(
        fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names(dir.path()).len(), 3, "{:?}", names(dir.path()));
}

#[test]
fn a_symlinked_file_is_written_through_the_link_which_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real/g.yaml");
    fs::write(&real, "name: G\n").unwrap();
    let link = dir.path().join("link.yaml");
    symlink("real/g.yaml", &link).unwrap();
    let read = snapshot(&link);
    let written = write_safely(&link, b"name: New\n", Target::Replace(&read), false).unwrap();
    assert_eq!(written, fs::canonicalize(&real).unwrap());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/g.yaml"));
    assert_eq!(fs::read_to_string(&real).unwrap(), "name: New\n");
    assert_eq!(names(&dir.path().join("real")), ["g.yaml"]);
}

#[test]
fn permission_bits_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    for bits in [0o600, 0o640, 0o644, 0o660] {
        let path = dir.path().join(format!("g{bits:o}.yaml"));
        fs::write(&path, "name: G\n").unwrap();
        set_mode(&path, bits);
        let read = snapshot(&path);
        write_safely(&path, b"name: New\n", Target::Replace(&read), false).unwrap();
        assert_eq!(mode(&path), bits, "{bits:o}");
    }
}

#[test]
fn the_owner_and_group_are_kept_when_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.yaml");
    fs::write(&path, "name: G\n").unwrap();
    if fs::metadata(&path).unwrap().uid() != 0 {
        return; // only root can give a file away
    }
    std::os::unix::fs::chown(&path, Some(4321), Some(4322)).unwrap();
    set_mode(&path, 0o640);
    let read = snapshot(&path);
    write_safely(&path, b"name: New\n", Target::Replace(&read), false).unwrap();
    let metadata = fs::metadata(&path).unwrap();
    assert_eq!((metadata.uid(), metadata.gid()), (4321, 4322));
    assert_eq!(mode(&path), 0o640);
}

#[test]
fn a_file_with_hard_links_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.yaml");
    let other = dir.path().join("other.yaml");
    fs::write(&path, "name: G\n").unwrap();
    fs::hard_link(&path, &other).unwrap();
    let read = snapshot(&path);
    let error = write_safely(&path, b"name: New\n", Target::Replace(&read), false).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("g.yaml` has 2 hard links; writing it would break them (this name would get the new text, the other 1 the old): use --force to write this name only"),
        "{error}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "name: G\n");
    write_safely(&path, b"name: New\n", Target::Replace(&read), true).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "name: New\n");
    assert_eq!(fs::read_to_string(&other).unwrap(), "name: G\n");
    assert_eq!(fs::metadata(&other).unwrap().nlink(), 1);
    assert_eq!(names(dir.path()), ["g.yaml", "other.yaml"]);
}

#[test]
fn a_file_changed_between_reading_and_writing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.yaml");
    fs::write(&path, "name: G\n").unwrap();
    let read = snapshot(&path);
    let append = || {
        let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"# added while formatting\n").unwrap();
    };
    let error =
        write_with_hook(&path, b"name: New\n", Target::Replace(&read), true, append).unwrap_err();
    assert!(matches!(error, WriteError::Changed { .. }), "{error}");
    assert!(
        error.to_string().contains("changed after it was read"),
        "{error}"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "name: G\n# added while formatting\n",
        "the appended line is kept"
    );
    assert_eq!(names(dir.path()), ["g.yaml"], "no temporary file left");

    // Same length, same times cannot be told apart by the stamp: the bytes are compared.
    let read = snapshot(&path);
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let same_size = || {
        fs::write(&path, "name: H\n# added while formatting\n").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    };
    let error = write_with_hook(
        &path,
        b"name: New\n",
        Target::Replace(&read),
        true,
        same_size,
    )
    .unwrap_err();
    assert!(matches!(error, WriteError::Changed { .. }), "{error}");

    // Replaced by another file, or removed.
    let read = snapshot(&path);
    let replace = || {
        let other = dir.path().join("other");
        fs::write(&other, "name: G\n# added while formatting\n").unwrap();
        fs::rename(&other, &path).unwrap();
    };
    let error =
        write_with_hook(&path, b"name: New\n", Target::Replace(&read), true, replace).unwrap_err();
    assert!(matches!(error, WriteError::Changed { .. }), "{error}");
    let read = snapshot(&path);
    let remove = || fs::remove_file(&path).unwrap();
    let error =
        write_with_hook(&path, b"name: New\n", Target::Replace(&read), true, remove).unwrap_err();
    assert!(error.to_string().contains("no longer"), "{error}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn new_files_are_created_without_following_planted_links() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "secret\n").unwrap();
    let path = dir.path().join("new.yaml");
    write_safely(&path, b"one\n", Target::Create, false).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "one\n");
    assert!(matches!(
        write_safely(&path, b"two\n", Target::Create, false),
        Err(WriteError::Exists)
    ));
    write_safely(&path, b"two\n", Target::Create, true).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");

    // A link planted while the file is being written: not followed, not replaced.
    let late = dir.path().join("late.yaml");
    let plant = || symlink(&victim, &late).unwrap();
    let error = write_with_hook(&late, b"x\n", Target::Create, false, plant).unwrap_err();
    assert!(matches!(error, WriteError::Exists), "{error}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "secret\n");

    // A link to nothing is refused, forced or not; a link to a file is that file.
    let dangling = dir.path().join("dangling.yaml");
    symlink(dir.path().join("nowhere"), &dangling).unwrap();
    for force in [false, true] {
        let error = write_safely(&dangling, b"x\n", Target::Create, force).unwrap_err();
        assert!(
            error.to_string().contains("nowhere`, which does not exist"),
            "{error}"
        );
    }
    assert!(!dir.path().join("nowhere").exists());
    let error = write_safely(&late, b"x\n", Target::Create, false).unwrap_err();
    assert!(matches!(error, WriteError::Exists), "{error}");
    write_safely(&late, b"x\n", Target::Create, true).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "x\n");
    assert!(
        fs::symlink_metadata(&late)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        names(dir.path()),
        ["dangling.yaml", "late.yaml", "new.yaml", "victim"]
    );
}

#[test]
fn what_is_not_a_regular_file_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let error = write_safely(&fifo, b"x\n", Target::Create, true).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("fifo.yaml` is a FIFO, expected a regular file; not written"),
        "{error}"
    );
    let error = write_safely(dir.path(), b"x\n", Target::Create, true).unwrap_err();
    assert!(error.to_string().contains("is a directory"), "{error}");
    assert_eq!(names(dir.path()), ["fifo.yaml"]);
}

#[test]
fn a_long_name_still_gets_a_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // 255 bytes, the most a name may have: `.NAME.XXXXXX.tmp` would be too long.
    let path = dir.path().join(format!("{}.yaml", "é".repeat(125)));
    fs::write(&path, "name: G\n").unwrap();
    let read = snapshot(&path);
    write_safely(&path, b"name: New\n", Target::Replace(&read), false).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "name: New\n");
    assert_eq!(names(dir.path()).len(), 1);
}
