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
