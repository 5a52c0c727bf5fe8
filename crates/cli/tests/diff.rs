//! `cohort diff`, the real executable: directories and `git:REV:PATH` in a temporary git
//! repository, the table, JSON, reasons and exit codes.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

const NOW: &str = "2026-11-25T00:00:00Z";

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

const BEFORE: &str = "groups:
  - name: Old Agents
    where: \"'Agent Version' < 2024.1.0\"
  - name: Old Servers
    where: \"member of 'Old Agents' and OS contains Server\"
  - name: Low Disk
    where: \"'Free Disk %' < 10\"
  - name: Legacy
    where: \"OS contains 'Windows 7'\"
";

const AFTER: &str = "groups:
  - name: Old Agents
    where: \"'Agent Version' < 2023.1.0\"
  - name: Old Servers
    where: \"member of 'Old Agents' and OS contains Server\"
  - name: Low Disk
    description: a description changes no member
    where: \"'Free Disk %' < 10\"
  - name: Servers
    where: \"OS contains Server\"
";

const MACHINES: &str = r#"{"id": "a", "Agent Version": "2022.5.0", "OS": "Windows Server 2019", "Free Disk %": 5}
{"id": "b", "Agent Version": "2023.6.0", "OS": "Windows Server 2022", "Free Disk %": 50}
{"id": "c", "Agent Version": "2023.9.0", "OS": "Windows 11", "Free Disk %": 50}
{"id": "d", "Agent Version": "2024.5.0", "OS": "Windows 7", "Free Disk %": 50}
"#;

/// A repository with the groups of `BEFORE` committed, then those of `AFTER`, also left in
/// the work tree; and the machines file.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    git(path, &["init", "-q", "-b", "main"]);
    git(path, &["config", "user.name", "Test"]);
    git(path, &["config", "user.email", "test@example.invalid"]);
    std::fs::create_dir(path.join("groups")).unwrap();
    std::fs::write(path.join("groups/groups.yaml"), BEFORE).unwrap();
    std::fs::write(path.join("groups/notes.txt"), "not definitions").unwrap();
    std::fs::write(path.join("machines.ndjson"), MACHINES).unwrap();
    git(path, &["add", "."]);
    git(path, &["commit", "-q", "-m", "before"]);
    std::fs::write(path.join("groups/groups.yaml"), AFTER).unwrap();
    git(path, &["commit", "-q", "-am", "after"]);
    dir
}

fn diff(dir: &Path, before: &str, after: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "diff",
        "--before",
        before,
        "--after",
        after,
        "--machines",
        "machines.ndjson",
        "--now",
        NOW,
    ];
    args.extend(extra);
    cohort_in(dir, &args)
}

#[test]
fn a_revision_against_the_work_tree_shows_every_join_and_leave_with_its_reason() {
    let repo = repository();
    let run = diff(
        repo.path(),
        "git:HEAD~1:groups/",
        "groups",
        &["--exit-code"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "changed `Old Agents`: 3 -> 1 members (+0 -2)
  leaves b: `\"Agent Version\" less than 2023.1.0` no longer holds (\"2023.6.0\")
  leaves c: `\"Agent Version\" less than 2023.1.0` no longer holds (\"2023.9.0\")
changed through member of `Old Servers`: 2 -> 1 members (+0 -1)
  leaves b: `member of \"Old Agents\"` no longer holds (the machine is not a member of `Old Agents`)
removed `Legacy`: 1 -> - members (+0 -1)
  leaves d: the group is removed
added `Servers`: - -> 2 members (+2 -0)
  joins a: `OS contains any of Server` now holds (\"Windows Server 2019\")
  joins b: `OS contains any of Server` now holds (\"Windows Server 2022\")
4 groups change (1 added, 1 removed, 1 changed, 1 changed through member of), 1 unchanged, over 4 machines
"
    );
}

#[test]
fn json_lists_every_machine_for_tools() {
    let repo = repository();
    let run = diff(
        repo.path(),
        "git:HEAD~1:groups",
        "git:HEAD:groups/groups.yaml",
        &["--format", "json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["machines"], 4);
    assert_eq!(report["changed"], true);
    assert_eq!(report["unchanged"], 1);
    let groups = report["groups"].as_array().unwrap();
    let summary: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_owned(),
                g["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Old Agents".to_owned(), "changed".to_owned()),
            ("Old Servers".to_owned(), "member_of".to_owned()),
            ("Legacy".to_owned(), "removed".to_owned()),
            ("Servers".to_owned(), "added".to_owned()),
        ]
    );
    assert_eq!(groups[0]["before"], 3);
    assert_eq!(groups[0]["after"], 1);
    assert_eq!(groups[0]["leaves"][0]["machine"], "b");
    assert_eq!(groups[2]["after"], serde_json::Value::Null);
    assert_eq!(groups[3]["joins"].as_array().unwrap().len(), 2);
}

#[test]
fn no_change_exits_zero_with_exit_code() {
    let repo = repository();
    let run = diff(repo.path(), "git:HEAD:groups/", "groups/", &["--exit-code"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "ok: no change: 4 groups over 4 machines\n");
}

#[test]
fn the_table_is_bounded_and_all_shows_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(
        path.join("a.yaml"),
        "name: Low Disk\nwhere: \"'Free Disk %' < 10\"\n",
    )
    .unwrap();
    std::fs::write(
        path.join("b.yaml"),
        "name: Low Disk\nwhere: \"'Free Disk %' < 90\"\n",
    )
    .unwrap();
    let machines: String = (0..25)
        .map(|i| format!("{{\"id\": \"m{i:02}\", \"Free Disk %\": 50}}\n"))
        .collect();
    std::fs::write(path.join("machines.ndjson"), machines).unwrap();
    let run = diff(path, "a.yaml", "b.yaml", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("  joins"))
            .count(),
        10
    );
    assert!(
        run.stdout
            .contains("  ... and 15 more joins (--all shows every machine)\n"),
        "{}",
        run.stdout
    );
    let run = diff(path, "a.yaml", "b.yaml", &["--all"]);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("  joins"))
            .count(),
        25
    );
}

#[test]
fn errors_are_clear_and_exit_two_with_exit_code() {
    let repo = repository();
    let run = diff(
        repo.path(),
        "git:--upload-pack=x:groups",
        "groups",
        &["--exit-code"],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("`--upload-pack=x` is not a revision cohort passes to git"),
        "{}",
        run.stderr
    );
    let run = diff(repo.path(), "git:HEAD~5:groups", "groups", &["--exit-code"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .starts_with("error: --before: `git:HEAD~5:groups`: git says: "),
        "{}",
        run.stderr
    );
    let run = diff(repo.path(), "git:HEAD:missing/", "groups", &["--exit-code"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .starts_with("error: --before: `git:HEAD:missing`: git says: "),
        "{}",
        run.stderr
    );
    let run = diff(repo.path(), "git:HEAD:../x", "groups", &["--exit-code"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("`../x` is not a path inside the repository"),
        "{}",
        run.stderr
    );
    let run = diff(repo.path(), "git:HEAD", "groups", &[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("has no `:` between the revision and the path"),
        "{}",
        run.stderr
    );
    let run = diff(repo.path(), "nowhere", "groups", &["--exit-code"]);
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stderr, "error: `nowhere`: no such file or directory\n");
    std::fs::write(
        repo.path().join("bad.yaml"),
        "name: Bad\nwhere: \"OS contans x\"\n",
    )
    .unwrap();
    let run = diff(repo.path(), "groups", "bad.yaml", &["--exit-code"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("bad.yaml:2:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("(in --after `bad.yaml`)"),
        "{}",
        run.stderr
    );
}
