//! `cohort lint` through the real binary: findings, exit codes for CI, JSON, the allow
//! configuration, and the shipped examples (which must lint clean).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

const NOW: &str = "2026-11-25T00:00:00Z";

const BAD: &str = "groups:\n  - name: Low Disk\n    blocks:\n      - ['[Free Disk %] is blank', '[Free Disk %] < 10']\n  - name: Builds\n    blocks:\n      - - OS Build contains 3\n";

#[test]
fn the_shipped_examples_lint_clean() {
    let run = cohort(&[
        "lint",
        "--groups",
        "examples/groups",
        "--schema",
        "examples/schema.yaml",
    ]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "ok: 33 groups, no findings\n");
    let run = cohort(&["lint", "--groups", "examples/groups"]);
    assert_eq!(run.stdout, "ok: 33 groups, no findings\n");
}

#[test]
fn the_shipped_examples_over_the_shipped_fleet_have_notes_only() {
    let args = [
        "lint",
        "--groups",
        "examples/groups",
        "--schema",
        "examples/schema.yaml",
        "--machines",
        "examples/fleet/fleet.json",
        "--now",
        NOW,
    ];
    let run = cohort(&args);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .lines()
            .all(|line| !line.contains("warning[") && !line.contains("error[")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("note[L105]: `Roles` is blank on 87% of the fleet (872 of 1000 machines)"),
        "{}",
        run.stdout
    );
    // Notes fail the run with `--deny note`; the example configuration allows the intended ones.
    let mut strict = args.to_vec();
    strict.extend(["--deny", "note"]);
    assert_eq!(cohort(&strict).code, Some(1));
    strict.extend(["--config", "examples/cohort-lint.yaml"]);
    let run = cohort(&strict);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .ends_with("ok: 33 groups, no findings (6 allowed by the configuration)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn findings_are_located_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let groups = write(dir.path(), "g.yaml", BAD);
    let run = cohort(&["lint", "--groups", &groups]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let expected = format!(
        "{groups}:2:5: error[L002]: group can never have members: `\"Free Disk %\" is blank` holds only when `Free Disk %` has no value, and `\"Free Disk %\" less than 10` needs one\n  in group `Low Disk`, block 1, criterion 1 (`\"Free Disk %\" is blank`)\n  help: put them in separate blocks to match either, or remove `is blank`\n"
    );
    assert!(run.stdout.starts_with(&expected), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "{groups}:7:11: warning[L011]: `\"OS Build\" contains any of 3` also matches `13`"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("error: 2 groups: 1 error, 1 warning at or above `warning`\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn deny_sets_the_severity_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let groups = write(
        dir.path(),
        "g.yaml",
        "name: Builds\nwhere: OS Build contains 3\n",
    );
    assert_eq!(cohort(&["lint", "--groups", &groups]).code, Some(1));
    let run = cohort(&["lint", "--groups", &groups, "--deny", "error"]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout
            .ends_with("ok: 1 group, 1 warning (below `error`)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn json_for_tools() {
    let dir = tempfile::tempdir().unwrap();
    let groups = write(dir.path(), "g.yaml", BAD);
    let run = cohort(&["lint", "--groups", &groups, "--format", "json"]);
    assert_eq!(run.code, Some(1));
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["groups"], 2);
    assert_eq!(value["machines"], serde_json::Value::Null);
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0]["code"], "L002");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["group"], "Low Disk");
    assert_eq!(findings[1]["code"], "L011");
}

#[test]
fn the_config_allows_findings_where_intended() {
    let dir = tempfile::tempdir().unwrap();
    let groups = write(dir.path(), "g.yaml", BAD);
    let config = write(
        dir.path(),
        "lint.yaml",
        "allow:\n  - {code: L011, group: Builds}\n  - code: L002\n",
    );
    let run = cohort(&["lint", "--groups", &groups, "--config", &config]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "ok: 2 groups, no findings (2 allowed by the configuration)\n"
    );
    let other = write(
        dir.path(),
        "other.yaml",
        "allow:\n  - {code: L011, group: Other}\n",
    );
    assert_eq!(
        cohort(&["lint", "--groups", &groups, "--config", &other]).code,
        Some(1)
    );
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let invalid = write(dir.path(), "bad.yaml", "name: G\nwhere: OS contans x\n");
    let run = cohort(&["lint", "--groups", &invalid]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("error: 1 problem found (lint runs on valid definitions)"),
        "{}",
        run.stderr
    );
    let run = cohort(&["lint", "--groups", "no/such/dir"]);
    assert_eq!(run.code, Some(2));
    assert_eq!(
        run.stderr,
        "error: `no/such/dir`: no such file or directory\n"
    );
    let config = write(dir.path(), "lint.yaml", "allow:\n  - code: L999\n");
    let run = cohort(&["lint", "--groups", "examples/groups", "--config", &config]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("unknown lint code `L999`"),
        "{}",
        run.stderr
    );
    let machines = write(dir.path(), "m.json", "[{\"id\": 1,\n");
    let run = cohort(&[
        "lint",
        "--groups",
        "examples/groups",
        "--machines",
        &machines,
    ]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(cohort(&["lint"]).code, Some(2));
}

#[test]
fn fleet_findings() {
    let dir = tempfile::tempdir().unwrap();
    let groups = write(
        dir.path(),
        "g.yaml",
        "groups:\n  - name: Servers\n    where: Type equal Server\n  - name: Everyone\n    where: Type is not blank\n",
    );
    let machines = write(
        dir.path(),
        "m.ndjson",
        "{\"id\": \"a\", \"Type\": \"Laptop\"}\n{\"id\": \"b\", \"Type\": \"Desktop\"}\n",
    );
    let run = cohort(&[
        "lint",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["machines"], 2);
    let codes: Vec<(&str, &str)> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["group"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("L101", "Servers"),
            ("L103", "Servers"),
            ("L102", "Everyone"),
            ("L104", "Everyone")
        ]
    );
}
