//! The real `cohort` executable: exit codes, stdout and stderr.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cohort(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the cohort binary runs")
}

#[test]
fn eval_prints_the_bitlocker_group_as_json() {
    let output = cohort(&[
        "eval",
        "--groups",
        "examples/groups/bitlocker/bitlocker-key-missing.yaml",
        "--machines",
        "examples/fleet/fleet.json",
        "--format",
        "json",
        "--now",
        "2026-11-25T00:00:00Z",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["machines"], 1000);
    assert_eq!(json["groups"][0]["name"], "BitLocker Key Missing");
    let count = json["groups"][0]["count"].as_u64().unwrap();
    assert!(count > 50 && count < 500, "{count}");
    assert_eq!(
        json["groups"][0]["members"].as_array().unwrap().len() as u64,
        count
    );
}

#[test]
fn check_exits_1_on_bad_definitions_and_2_on_bad_usage() {
    let dir = std::env::temp_dir().join(format!("cohort-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "name: G\nblocks: [[{field: OS, operator: is blank, value: maybe}]]\n",
    )
    .unwrap();
    let output = cohort(&["check", bad.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("{}:2:", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("`is blank` takes no value or `true`/`false`, found `maybe`"),
        "{stdout}"
    );

    let output = cohort(&["check", "examples/groups"]);
    assert_eq!(output.status.code(), Some(0));

    let output = cohort(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognized subcommand"));
}

fn cohort_with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the cohort binary runs");
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&bytes));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

/// `--machines -` reads standard input (its format from `--machines-format`, plain or
/// compressed) and gives what the file gives.
#[test]
fn machines_from_standard_input_and_compressed_read_as_the_file() {
    let args = |machines: &str, format: &str| {
        [
            "eval",
            "--groups",
            "examples/groups",
            "--machines",
            machines,
            "--machines-format",
            format,
            "--format",
            "csv",
            "--now",
            "2026-11-25T00:00:00Z",
        ]
        .map(str::to_owned)
    };
    let from_file = cohort(
        &args("examples/fleet/fleet.json", "auto")
            .each_ref()
            .map(String::as_str),
    );
    assert!(from_file.status.success());
    assert!(from_file.stdout.len() > 1000);
    let fleet = std::fs::read(root().join("examples/fleet/fleet.json")).unwrap();
    let mut gzip = Vec::new();
    {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(&mut gzip, flate2::Compression::fast());
        encoder.write_all(&fleet).unwrap();
        encoder.finish().unwrap();
    }
    for (name, bytes) in [("plain", fleet.clone()), ("gzip", gzip.clone())] {
        let run = cohort_with_stdin(&args("-", "json").each_ref().map(String::as_str), &bytes);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(run.stdout, from_file.stdout, "{name}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.json.gz");
    std::fs::write(&path, &gzip).unwrap();
    let run = cohort(
        &args(path.to_str().unwrap(), "auto")
            .each_ref()
            .map(String::as_str),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.stdout, from_file.stdout, "a .json.gz file");
    let run = cohort_with_stdin(&args("-", "auto").each_ref().map(String::as_str), b"");
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("use --machines-format"));
}

/// With `--on-error skip`, bad records are left out and counted, and the exit code says so.
#[test]
fn skipped_records_are_counted_and_exit_3() {
    let ndjson = b"{\"id\": \"a\", \"OS\": \"Ubuntu 22.04\", \"Machine Type\": \"Server\"}\n{oops\n\n12\n{\"id\": \"b\", \"OS\": \"Ubuntu 22.04\", \"Machine Type\": \"Server\"}\n";
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("ubuntu.yaml");
    std::fs::write(&group, "name: Ubuntu\nwhere: 'OS starts with Ubuntu'\n").unwrap();
    let args = [
        "eval",
        "--groups",
        group.to_str().unwrap(),
        "--machines",
        "-",
        "--machines-format",
        "ndjson",
        "--format",
        "csv",
    ];
    let failed = cohort_with_stdin(&args, ndjson);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.starts_with(
            "error: `standard input`: 2 bad records:\n  line 2, column 2: invalid JSON: "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  line 4, column 2: invalid type: integer `12`"),
        "{stderr}"
    );
    let mut skip = args.to_vec();
    skip.extend(["--on-error", "skip"]);
    let skipped = cohort_with_stdin(&skip, ndjson);
    assert_eq!(skipped.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(
        stderr.starts_with("warning: skipped 2 bad records of the machines file:\n  line 2"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&skipped.stdout);
    assert!(
        stdout.contains(",a\n") && stdout.contains(",b\n"),
        "{stdout}"
    );
}
