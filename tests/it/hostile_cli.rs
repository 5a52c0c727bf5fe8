//! The command line against hostile files: links planted by other users, hard links, FIFOs
//! and devices named as input, oversized documents, and machines files as endpoints and odd
//! tools write them (byte-order marks, unclosed quotes, invalid UTF-8).

use crate::cli::{Run, cohort};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

const GROUP: &str = "name: Linux\nwhere: OS  equals Linux\n";
const FORMATTED: &str = "name: Linux\nwhere: OS equal Linux\n";

/// Runs the CLI on another thread and fails the test if it has not finished in 20 seconds (a
/// FIFO read would block forever).
fn cohort_within(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = sender.send(cohort(&args));
    });
    receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("the CLI finishes instead of blocking on its input")
}

fn text(path: &Path) -> String {
    path.display().to_string()
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

fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

/// A directory with `g.yaml`, a group that evaluates `OS`.
fn with_group() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("g.yaml");
    fs::write(&group, GROUP).unwrap();
    (dir, group)
}

/// `eval` of `g.yaml` over `machines` as CSV rows `group,machine`.
fn eval(group: &Path, machines: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "eval",
        "--groups",
        group.to_str().unwrap(),
        "--machines",
        machines.to_str().unwrap(),
        "--format",
        "csv",
    ];
    args.extend_from_slice(extra);
    cohort_within(&args)
}

#[test]
fn fmt_does_not_follow_a_link_planted_at_the_old_temporary_name() {
    let (dir, group) = with_group();
    let victim = dir.path().join("victim");
    fs::write(&victim, "root:secret\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    // The old writer's temporary name was predictable from the process id, and opened
    // following links; in-process, the id is the test binary's.
    for pid in [std::process::id(), std::process::id() + 1] {
        let planted = dir.path().join(format!(".g.yaml.cohort-fmt-{pid}.tmp"));
        symlink(&victim, planted).unwrap();
    }
    let run = cohort(&["fmt", &text(&group)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(fs::read_to_string(&group).unwrap(), FORMATTED);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root:secret\n");
    assert_eq!(
        fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(names(dir.path()).len(), 4, "{:?}", names(dir.path()));
}

#[test]
fn fmt_writes_through_a_symlink_and_keeps_modes() {
    let (dir, group) = with_group();
    fs::set_permissions(&group, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.yaml");
    symlink("g.yaml", &link).unwrap();
    let private = dir.path().join("private.yaml");
    fs::write(&private, GROUP).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    let run = cohort(&["fmt", &text(&link), &text(&private)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        format!(
            "reformatted {}\nreformatted {}\nok: 2 files, 2 reformatted\n",
            link.display(),
            private.display()
        )
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&group).unwrap(), FORMATTED);
    let mode = |path: &Path| fs::metadata(path).unwrap().mode() & 0o7777;
    assert_eq!((mode(&group), mode(&private)), (0o640, 0o600));
    assert_eq!(names(dir.path()), ["g.yaml", "link.yaml", "private.yaml"]);
}

#[test]
fn fmt_refuses_to_break_hard_links_unless_forced() {
    let (dir, group) = with_group();
    let other = dir.path().join("other-name.yaml");
    fs::hard_link(&group, &other).unwrap();
    let run = cohort(&["fmt", &text(&group)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with(&format!(
            "{}: not reformatted: `{}` has 2 hard links; writing it would break them",
            group.display(),
            group.display()
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("use --force"), "{}", run.stdout);
    assert_eq!(fs::read_to_string(&group).unwrap(), GROUP);
    assert_eq!(names(dir.path()), ["g.yaml", "other-name.yaml"]);

    let run = cohort(&["fmt", "--force", &text(&group)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(fs::read_to_string(&group).unwrap(), FORMATTED);
    assert_eq!(
        fs::read_to_string(&other).unwrap(),
        GROUP,
        "the other name keeps the old text"
    );
}

#[test]
fn inputs_that_are_not_regular_files_are_refused_without_blocking() {
    let (dir, group) = with_group();
    let fifo_yaml = dir.path().join("fifo.yaml");
    let fifo_json = dir.path().join("fifo.json");
    let fifo_md = dir.path().join("fifo.md");
    if !(mkfifo(&fifo_yaml) && mkfifo(&fifo_json) && mkfifo(&fifo_md)) {
        return; // no mkfifo here
    }
    let run = cohort_within(&["fmt", &text(&fifo_yaml)]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        format!(
            "cannot read `{}`: it is a FIFO, expected a regular file\nerror: 1 of 1 file not reformatted\n",
            fifo_yaml.display()
        )
    );
    let run = cohort_within(&["import", &text(&fifo_md)]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("it is a FIFO"), "{}", run.stdout);

    let run = eval(&group, &fifo_json, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot read `{}`: it is a FIFO, expected a regular file\n",
            fifo_json.display()
        )
    );
    let zero = Path::new("/dev/zero");
    for format in ["json", "ndjson", "csv", "yaml"] {
        let run = eval(&group, zero, &["--machines-format", format]);
        assert_eq!(run.code, 1, "{format}");
        assert!(
            run.stderr
                .contains("`/dev/zero`: it is a character device, expected a regular file"),
            "{format}: {}",
            run.stderr
        );
        let run = cohort_within(&["schema", "infer", "/dev/zero", "--machines-format", format]);
        assert_eq!(run.code, 1, "{format}");
        assert!(run.stderr.contains("character device"), "{}", run.stderr);
        let run = cohort_within(&[
            "explain",
            "--groups",
            &text(&group),
            "--machines",
            "/dev/zero",
            "--machines-format",
            format,
            "--machine",
            "a",
        ]);
        assert_eq!(run.code, 1, "{format}");
        assert!(run.stderr.contains("character device"), "{}", run.stderr);
    }
    // A FIFO in a directory given to fmt is reported, and the other files are formatted.
    let run = cohort_within(&["fmt", &text(dir.path())]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("it is a FIFO"), "{}", run.stdout);
    assert!(run.stdout.contains("reformatted"), "{}", run.stdout);
    assert_eq!(fs::read_to_string(&group).unwrap(), FORMATTED);
}

#[test]
fn definitions_over_16_mib_are_refused_by_fmt_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 16 * 1024 * 1024;
    let big_yaml = dir.path().join("big.yaml");
    let mut yaml = String::from(GROUP);
    yaml.push('#');
    yaml.push_str(&" ".repeat(limit + 1 - yaml.len()));
    fs::write(&big_yaml, &yaml).unwrap();
    let markdown =
        fs::read_to_string(crate::root().join("tests/data/markdown/bitlocker-key-missing.md"))
            .unwrap();
    let big_md = dir.path().join("big.md");
    fs::write(&big_md, format!("{markdown}\n{}\n", " ".repeat(limit))).unwrap();
    for (args, path, summary) in [
        (["fmt"], &big_yaml, "error: 1 of 1 file not reformatted"),
        (["import"], &big_md, "error: 1 document not imported"),
    ] {
        let run = cohort(&[args[0], &text(path)]);
        assert_eq!(run.code, 1);
        assert_eq!(
            run.stdout,
            format!(
                "`{}` is over the limit of 16777216 bytes (16 MiB) for a definitions file\n{summary}\n",
                path.display()
            )
        );
    }
    // At the limit exactly, still read.
    yaml.pop();
    fs::write(&big_yaml, &yaml).unwrap();
    let run = cohort(&["fmt", "--check", &text(&big_yaml)]);
    assert!(!run.stdout.contains("over the limit"), "{}", run.stdout);
}

#[test]
fn import_and_infer_create_new_files_safely() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let markdown = crate::root().join("tests/data/markdown/bitlocker-key-missing.md");
    let victim = dir.path().join("victim");
    fs::write(&victim, "keep\n").unwrap();
    // A link to nothing planted at the output name is not followed into a new file.
    let target = out.join("bitlocker-key-missing.yaml");
    symlink(dir.path().join("nowhere"), &target).unwrap();
    for force in [&[][..], &["--force"][..]] {
        let mut args = vec![
            "import",
            markdown.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(force);
        let run = cohort(&args);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stdout.contains("is a symbolic link to `")
                && run.stdout.contains("which does not exist"),
            "{}",
            run.stdout
        );
    }
    assert!(!dir.path().join("nowhere").exists());
    fs::remove_file(&target).unwrap();
    // A link to a file is that file: not overwritten without --force, written through with it.
    symlink(&victim, &target).unwrap();
    let args = [
        "import",
        markdown.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run = cohort(&args);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("exists; not overwritten (use --force)"),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep\n");
    let run = cohort(&[&args[..], &["--force"]].concat());
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        fs::read_to_string(&victim)
            .unwrap()
            .contains("BitLocker Key Missing")
    );
    assert!(
        fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names(&out), ["bitlocker-key-missing.yaml"]);

    let fleet = crate::root().join("examples/fleet/fleet.json");
    let schema = out.join("schema.yaml");
    let infer = |extra: &[&str]| {
        let mut args = vec![
            "schema",
            "infer",
            fleet.to_str().unwrap(),
            "--out",
            schema.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        cohort(&args)
    };
    assert_eq!(infer(&[]).code, 0);
    let mode = fs::metadata(&schema).unwrap().mode() & 0o7777;
    assert_ne!(
        mode, 0o600,
        "a new file gets the usual permissions, not the temporary's"
    );
    fs::set_permissions(&schema, fs::Permissions::from_mode(0o640)).unwrap();
    let run = infer(&[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: {}: exists; not overwritten (use --force)\n",
            schema.display()
        )
    );
    assert_eq!(infer(&["--force"]).code, 0);
    assert_eq!(fs::metadata(&schema).unwrap().mode() & 0o7777, 0o640);
    assert_eq!(names(&out), ["bitlocker-key-missing.yaml", "schema.yaml"]);
}

#[test]
fn machines_files_with_a_byte_order_mark_read_as_without() {
    let (dir, group) = with_group();
    let files: [(&str, &[u8]); 5] = [
        (
            "m.json",
            b"\xEF\xBB\xBF[{\"id\": \"a\", \"OS\": \"Linux\"}]",
        ),
        (
            "m.ndjson",
            b"\xEF\xBB\xBF{\"id\": \"a\", \"OS\": \"Linux\"}\n",
        ),
        ("m.csv", b"\xEF\xBB\xBFOS,id\nLinux,a\n"),
        ("q.csv", b"\xEF\xBB\xBF\"OS\",id\nLinux,a\n"),
        ("m.yaml", b"\xEF\xBB\xBF- id: a\n  OS: Linux\n"),
    ];
    for (name, bytes) in files {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let run = eval(&group, &path, &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, "group,machine\nLinux,a\n", "{name}");
    }
}

#[test]
fn a_csv_with_an_unclosed_quote_is_an_error_not_lost_machines() {
    let (dir, group) = with_group();
    let csv = dir.path().join("fleet.csv");
    fs::write(
        &csv,
        "id,OS\nm1,Linux\nm2,\"Windows 11\nm3,Linux\nm4,Linux\nm5,Linux\n",
    )
    .unwrap();
    let run = eval(&group, &csv, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.stderr,
        format!(
            "error: `{}`: line 3: invalid CSV: this quoted field is never closed (a `\"` is missing), so every row after it would be read as part of it\n",
            csv.display()
        )
    );
    let run = cohort_within(&["schema", "infer", &text(&csv)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("line 3 is never closed"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_utf8_and_non_objects_in_machines_are_located() {
    let (dir, group) = with_group();
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "bad.csv",
            b"id,OS\na,Linux\nb,Lin\xFFux\n",
            "1 bad record:\n  line 3: the value of `OS` is not valid UTF-8 text",
        ),
        (
            "bad.json",
            b"[{\"id\": \"a\"},\n {\"id\": \"b\xFF\"}]",
            "not valid UTF-8 text: first invalid byte at line 2, column 11 (byte offset 24)",
        ),
        (
            "bad.ndjson",
            b"{\"id\": \"a\"}\n{\"id\": \"b\xC3(\"}\n",
            "1 bad record:\n  line 2, column 10: not valid UTF-8 text",
        ),
        (
            "number.ndjson",
            b"{\"id\": \"a\"}\n\n\n42\n{\"id\": \"b\"}\n",
            "1 bad record:\n  line 4, column 2: invalid type: integer `42`, expected a machine, an object of attributes",
        ),
        (
            "syntax.ndjson",
            b"{\"id\": \"a\"}\n\n{\"id\": \"b\",}\n",
            "1 bad record:\n  line 3, column 12: invalid JSON: trailing comma",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let run = eval(&group, &path, &[]);
        assert_eq!(run.code, 1, "{name}");
        assert_eq!(
            run.stderr,
            format!("error: `{}`: {message}\n", path.display()),
            "{name}"
        );
    }
}

#[test]
fn fmt_of_a_directory_does_not_follow_links_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let outside = dir.path().join("outside");
    fs::create_dir_all(tree.join("real")).unwrap();
    fs::create_dir(&outside).unwrap();
    let inside = tree.join("real/a.yaml");
    let elsewhere = outside.join("b.yaml");
    fs::write(&inside, GROUP).unwrap();
    fs::write(&elsewhere, GROUP).unwrap();
    symlink("real/a.yaml", tree.join("inner.yaml")).unwrap();
    symlink("../outside/b.yaml", tree.join("out.yaml")).unwrap();
    symlink("../outside", tree.join("sub")).unwrap();
    let run = cohort(&["fmt", &text(&tree)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let canonical = fs::canonicalize(&outside).unwrap();
    let skipped = |name: &str, target: &Path| {
        format!(
            "{}: skipped: a symbolic link to `{}`, outside `{}`\n",
            tree.join(name).display(),
            target.display(),
            tree.display()
        )
    };
    assert!(
        run.stdout.starts_with(&format!(
            "{}{}",
            skipped("out.yaml", &canonical.join("b.yaml")),
            skipped("sub", &canonical)
        )),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_to_string(&inside).unwrap(), FORMATTED);
    assert_eq!(
        fs::read_to_string(&elsewhere).unwrap(),
        GROUP,
        "not rewritten"
    );
    assert!(
        fs::symlink_metadata(tree.join("inner.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // Named on the command line, the link is followed deliberately.
    let run = cohort(&["fmt", &text(&tree.join("out.yaml"))]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), FORMATTED);
}

#[test]
fn endpoint_text_cannot_send_terminal_escapes_to_people() {
    let (dir, group) = with_group();
    let machines = dir.path().join("m.json");
    // An endpoint that names itself with a screen-clearing escape and a title change, and
    // reports an OS string with a bidirectional override.
    fs::write(
        &machines,
        r#"[{"id": "pc\u001b[2J\u001b]0;owned\u0007", "OS": "Linux"}, {"id": "bidi", "OS": "Lin\u202eux"}]"#,
    )
    .unwrap();
    let table = cohort_within(&[
        "eval",
        "--groups",
        &text(&group),
        "--machines",
        &text(&machines),
    ]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(!table.stdout.contains('\u{1b}') && !table.stdout.contains('\u{7}'));
    assert!(
        table.stdout.contains("pc\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
        "{}",
        table.stdout
    );
    let explained = cohort_within(&[
        "explain",
        "--groups",
        &text(&group),
        "--machines",
        &text(&machines),
        "--machine",
        "bidi",
    ]);
    assert!(
        !explained.stdout.contains('\u{202e}'),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("\\u{202e}"),
        "{}",
        explained.stdout
    );
    // Output for tools keeps the data as it is (escaped by JSON itself).
    let json = cohort_within(&[
        "eval",
        "--groups",
        &text(&group),
        "--machines",
        &text(&machines),
        "--format",
        "json",
    ]);
    assert!(
        json.stdout.contains(r#""pc\u001b[2J\u001b]0;owned\u0007""#),
        "{}",
        json.stdout
    );
}

#[test]
fn an_alias_bomb_in_a_yaml_machines_file_is_an_error() {
    let (dir, group) = with_group();
    let machines = dir.path().join("m.yaml");
    // 1 MiB of text expanded 9,999 times took 10 GB and 32 s before.
    let mut text = format!("- &a {{id: x, OS: '{}'}}\n", "x".repeat(1 << 20));
    text.push_str(&"- *a\n".repeat(9_999));
    fs::write(&machines, text).unwrap();
    let run = eval(&group, &machines, &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("aliases in this file stand for more than"),
        "{}",
        run.stderr
    );
}

#[test]
fn fmt_walks_each_directory_once_whatever_links_lead_to_it() {
    let (dir, _group) = with_group();
    for name in ["a", "b", "c"] {
        symlink(".", dir.path().join(name)).unwrap();
    }
    let run = cohort_within(&["fmt", "--check", &text(dir.path())]);
    // One file, reported once (three links to `.` made 3^16 walks before).
    assert_eq!(run.stdout.matches("g.yaml").count(), 1, "{}", run.stdout);
}
