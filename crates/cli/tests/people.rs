//! The real `cohort` executable as a new MSP engineer meets it: no silent empty groups,
//! every member listable, every mistake told with its fix (issue 12, the CLI side).

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use support::*;

const NOW: &str = "2026-11-25T00:00:00Z";

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Four machines: two share the id `a`, one has none, one has no OS.
const MACHINES: &str = r#"[
{"id": "a", "Hostname": "WS-1", "OS": "Windows 11", "Pending Reboot": true},
{"id": "a", "Hostname": "WS-2", "OS": "Windows 10", "Pending Reboot": false},
{"Hostname": "SRV-3", "OS": "Windows Server 2022", "Pending Reboot": true},
{"id": "d", "Hostname": "MAC-4", "Pending Reboot": false, "Tags": ["x", "y"]}
]
"#;

const GROUPS: &str = "groups:
  - name: Windows
    description: Every Windows machine.
    where: OS contains windows
  - name: Lower Case
    where: os contains windows
  - name: Two Edits
    where: Agnet Verison < 2024.1.0
  - name: Reboot
    where: Pending Reboot = true
";

/// A directory with `groups.yaml` and `machines.json` ([`GROUPS`], [`MACHINES`]).
fn workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("groups.yaml"), GROUPS).unwrap();
    std::fs::write(dir.path().join("machines.json"), MACHINES).unwrap();
    let groups = text(&dir.path().join("groups.yaml")).to_owned();
    let machines = text(&dir.path().join("machines.json")).to_owned();
    (dir, groups, machines)
}

#[test]
fn fields_no_machine_has_are_warned_with_the_nearest_names_case_first() {
    let (_dir, groups, machines) = workspace();
    let lower = "warning: no machine has the field `os` that the groups test; field names are case-sensitive: did you mean `OS`?";
    let two_edits = "warning: no machine has the field `Agnet Verison` that the groups test: every machine reads it as missing";
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains(lower), "{}", run.stderr);
    assert!(run.stderr.contains(two_edits), "{}", run.stderr);

    // `check` warns the same way when given machines; the summary counts them.
    let run = cohort(&["check", &groups, "--machines", &machines]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains(lower), "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("ok: 4 groups, no problems, 2 fields that no machine has\n"),
        "{}",
        run.stdout
    );

    // Two edits away from a field machines have is still suggested.
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "name: T\nwhere: Hostnmae starts with WS\n").unwrap();
    let run = cohort(&["check", text(&typo), "--machines", &machines]);
    assert!(
        run.stdout.contains(
            "warning: no machine has the field `Hostnmae` that the groups test; did you mean `Hostname`?"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn empty_groups_and_paths_without_groups_are_warned() {
    let (dir, groups, machines) = workspace();
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert!(
        run.stderr
            .contains("warning: group `Lower Case` has no members among 4 machines\n"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("group `Windows` has no members"),
        "{}",
        run.stderr
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = cohort(&["check", text(&empty)]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout
            .starts_with(&format!("warning: no groups in `{}`", empty.display())),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ok: 0 groups"), "{}", run.stdout);
}

#[test]
fn check_says_once_that_fields_are_not_checked_without_a_schema() {
    let (_dir, groups, _machines) = workspace();
    let run = cohort(&["check", &groups]);
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout,
        "note: fields are not checked without --schema; 4 fields seen\nok: 4 groups, no problems\n"
    );
}

#[test]
fn flag_values_are_checked_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.yaml");
    std::fs::write(&schema, "fields:\n  - {name: Pending Reboot, type: flag}\n").unwrap();
    let groups = dir.path().join("reboot.yaml");
    std::fs::write(&groups, "name: Reboot\nwhere: Pending Reboot = yes\n").unwrap();
    let run = cohort(&["check", "--schema", text(&schema), text(&groups)]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("`yes` is not `true` or `false`, and `Pending Reboot` is a flag field"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("error: 1 problem found\n"),
        "{}",
        run.stdout
    );
    std::fs::write(&groups, "name: Reboot\nwhere: Pending Reboot = True\n").unwrap();
    let run = cohort(&["check", "--schema", text(&schema), text(&groups)]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "ok: 1 group, no problems\n")
    );
}

#[test]
fn eval_group_prints_every_member_with_columns_in_every_format() {
    let (_dir, groups, machines) = workspace();
    let base = [
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
        "--group",
        "Reboot",
    ];
    let run = cohort(&base);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Reboot: 2 members\n  a\n  #3\n\nok: 1 group over 4 machines\n"
    );

    let mut args = base.to_vec();
    args.extend(["--group", "Windows", "--columns", "Hostname,OS,Tags"]);
    let run = cohort(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Reboot: 2 members\n\
         \x20 MACHINE  Hostname  OS                   Tags\n\
         \x20 a        WS-1      Windows 11\n\
         \x20 #3       SRV-3     Windows Server 2022\n\
         \n\
         Windows: 3 members\n\
         \x20 MACHINE  Hostname  OS                   Tags\n\
         \x20 a        WS-1      Windows 11\n\
         \x20 a        WS-2      Windows 10\n\
         \x20 #3       SRV-3     Windows Server 2022\n\
         \n\
         ok: 2 groups over 4 machines\n"
    );

    args.extend(["--format", "json"]);
    let run = cohort(&args);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["groups"][0]["name"], "Reboot");
    assert_eq!(json["groups"][0]["count"], 2);
    assert_eq!(
        json["groups"][0]["members"][1],
        serde_json::json!({"machine": "#3", "columns": {"Hostname": "SRV-3", "OS": "Windows Server 2022", "Tags": null}})
    );

    // A column named twice is printed once (JSON would repeat the key).
    let mut twice = base.to_vec();
    twice.extend(["--columns", "OS,OS", "--format", "json"]);
    let run = cohort(&twice);
    assert!(
        run.stdout.contains(r#"{"OS":"Windows 11"}"#),
        "{}",
        run.stdout
    );

    let mut csv = base.to_vec();
    csv.extend(["--columns", "Hostname,Tags", "--format", "csv"]);
    let run = cohort(&csv);
    assert_eq!(
        run.stdout,
        "group,machine,Hostname,Tags\nReboot,a,WS-1,\nReboot,#3,SRV-3,\n"
    );

    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--group",
        "Rebot",
    ]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: no group named `Rebot`; did you mean `Reboot`?\n"
    );
}

#[test]
fn list_prints_descriptions_and_member_counts() {
    let (_dir, groups, machines) = workspace();
    let run = cohort(&["list", "--groups", &groups]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "GROUP       DESCRIPTION\nWindows     Every Windows machine.\nLower Case\nTwo Edits\nReboot\nok: 4 groups\n"
    );
    let run = cohort(&[
        "list",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert_eq!(
        run.stdout,
        "GROUP       MEMBERS  DESCRIPTION\nWindows           3  Every Windows machine.\nLower Case        0\nTwo Edits         0\nReboot            2\nok: 4 groups over 4 machines\n"
    );
    let run = cohort(&[
        "list",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["machines"], 4);
    assert_eq!(
        json["groups"][0],
        serde_json::json!({"name": "Windows", "description": "Every Windows machine.", "count": 3})
    );
    assert_eq!(json["groups"][1]["description"], serde_json::Value::Null);
    let run = cohort(&["list", "--groups", &groups, "--format", "csv"]);
    assert!(
        run.stdout
            .starts_with("group,description\nWindows,Every Windows machine.\nLower Case,\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_and_repeated_ids_are_warned_and_explain_suggests_the_id_field() {
    let (_dir, groups, machines) = workspace();
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert!(
        run.stderr.contains(
            "warning: 1 machine of 4 has no `id` field, so it is shown by position in the file (`#N`); use --id-field to name the field that identifies a machine\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "warning: 1 id is repeated (`a`): 1 machine has the id of an earlier machine; each is listed as a member, and `explain` shows the first\n"
        ),
        "{}",
        run.stderr
    );

    let explain = |machine: &str| {
        cohort(&[
            "explain",
            "--groups",
            &groups,
            "--machines",
            &machines,
            "--now",
            NOW,
            "--group",
            "Windows",
            "--machine",
            machine,
        ])
    };
    let run = explain("SRV-3");
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.ends_with(&format!(
            "error: no machine has `id` = `SRV-3` in `{machines}`\n  help: `SRV-3` is the `Hostname` of the 3rd machine in the file: use --id-field Hostname\n"
        )),
        "{}",
        run.stderr
    );
    let run = explain("a");
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr.contains(
            "warning: 2 machines have `id` = `a`; explaining the first (the 1st machine in the file)\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn import_of_several_documents_prints_one_document_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(root().join("tests/data/markdown/bitlocker-key-missing.md"))
        .unwrap();
    let first = dir.path().join("first.md");
    let second = dir.path().join("second.md");
    std::fs::write(&first, &seed).unwrap();
    std::fs::write(
        &second,
        seed.replace("BitLocker Key Missing", "Second Group"),
    )
    .unwrap();
    let run = cohort(&["import", text(&first), text(&second)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.starts_with("groups:\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("\n---"), "{}", run.stdout);
    let both = dir.path().join("both.yaml");
    std::fs::write(&both, &run.stdout).unwrap();
    let run = cohort(&["check", text(&both)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("ok: 2 groups, no problems\n"),
        "{}",
        run.stdout
    );

    // The same document twice would name one group twice: refused, not printed.
    let run = cohort(&["import", text(&first), text(&first)]);
    assert_eq!(run.code, Some(1));
    assert!(!run.stdout.starts_with("groups:"), "{}", run.stdout);

    // `--out` names each file after its document, as `--help` says.
    let out = dir.path().join("out");
    let run = cohort(&["import", text(&first), text(&second), "--out", text(&out)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(out.join("first.yaml").is_file() && out.join("second.yaml").is_file());
    assert!(
        run.stdout
            .ends_with("ok: 2 documents imported, 2 files written\n"),
        "{}",
        run.stdout
    );
    let help = cohort(&["import", "--help"]);
    assert!(
        help.stdout.contains("`a.md` becomes `DIR/a.yaml`"),
        "{}",
        help.stdout
    );
}

#[test]
fn groups_takes_several_paths_after_one_flag_and_summaries_are_pluralised() {
    let (dir, groups, machines) = workspace();
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "name: Macs\nwhere: Hostname starts with MAC\n").unwrap();
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        text(&other),
        "--machines",
        &machines,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["groups"].as_array().unwrap().len(), 5);
    // Repeating the flag works too.
    let run = cohort(&["list", "--groups", &groups, "--groups", text(&other)]);
    assert!(run.stdout.ends_with("ok: 5 groups\n"), "{}", run.stdout);

    let run = cohort(&[
        "eval",
        "--groups",
        text(&other),
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert!(
        run.stdout.ends_with("\nok: 1 group over 4 machines\n"),
        "{}",
        run.stdout
    );
    let run = cohort(&[
        "check",
        text(&other),
        "--schema",
        text(&dir.path().join("nope.yaml")),
    ]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: `{}`: no such file or directory\n",
            dir.path().join("nope.yaml").display()
        )
    );
    let run = cohort(&["eval", "--groups", "nowhere", "--machines", "nothing.json"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: `nowhere`: no such file or directory\nerror: `nothing.json`: no such file or directory\n"
    );
}

#[test]
fn fmt_keeps_indented_lists_and_check_agrees_with_fmt() {
    let dir = tempfile::tempdir().unwrap();
    let indented = dir.path().join("indented.yaml");
    std::fs::write(
        &indented,
        "groups:\n  - name: A\n    where: OS = x\n  - name: B\n    blocks:\n      - - OS = y\n",
    )
    .unwrap();
    let run = cohort(&["fmt", text(&indented)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(&indented).unwrap(),
        "groups:\n  - name: A\n    where: OS equal x\n  - name: B\n    blocks:\n      - - field: OS\n          operator: equal\n          values:\n            - y\n"
    );
    let run = cohort(&["fmt", "--check", text(&indented)]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), "ok: 1 file in canonical form\n")
    );

    // A comment `fmt` would drop: `--check` refuses it as `fmt` does, `--check --force`
    // reports what `fmt --force` does.
    let commented = dir.path().join("commented.yaml");
    let before = "name: G\nblocks:\n# why\n- - {field: OS, operator: '=', value: x}\n";
    std::fs::write(&commented, before).unwrap();
    let refused = format!(
        "{}: would not be reformatted: the comments on line 3 would be lost",
        commented.display()
    );
    let run = cohort(&["fmt", "--check", text(&commented)]);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.starts_with(&refused), "{}", run.stdout);
    let run = cohort(&["fmt", text(&commented)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("not reformatted: the comments on line 3"),
        "{}",
        run.stdout
    );
    let run = cohort(&["fmt", "--check", "--force", text(&commented)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stdout,
        format!(
            "would reformat {}\nerror: 1 of 1 file not in canonical form\n",
            commented.display()
        )
    );
    let run = cohort(&["fmt", "--force", text(&commented)]);
    assert_eq!(
        (run.code, run.stdout),
        (
            Some(0),
            format!(
                "reformatted {}\nok: 1 file, 1 reformatted\n",
                commented.display()
            )
        )
    );
}

#[test]
fn completions_and_the_manual_page_are_printed() {
    let run = cohort(&["completions", "bash"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("_cohort()"), "{}", run.stdout);
    assert!(
        run.stdout.contains("--columns"),
        "eval's flags are completed"
    );
    let run = cohort(&["completions", "zsh"]);
    assert!(run.stdout.starts_with("#compdef cohort"), "{}", run.stdout);
    let run = cohort(&["completions", "fish"]);
    assert!(run.stdout.contains("complete -c cohort"), "{}", run.stdout);
    let run = cohort(&["completions", "tcsh"]);
    assert_eq!(run.code, Some(2));

    let run = cohort(&["man"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(run.stdout.contains(".TH cohort 1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("cohort\\-eval"),
        "subcommands are listed"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_without_no_color() {
    let run = cohort(&["check", "nope.yaml", "--color", "always"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "\x1b[1;31merror:\x1b[0m `nope.yaml`: no such file or directory\n"
    );
    // Not a terminal here: `auto` (the default) adds no colour, nor does `never`.
    for extra in [&[][..], &["--color", "never"], &["--color", "auto"]] {
        let mut args = vec!["check", "nope.yaml"];
        args.extend(extra);
        let run = cohort(&args);
        assert_eq!(
            run.stderr,
            "error: `nope.yaml`: no such file or directory\n"
        );
    }
    // JSON for tools is never coloured.
    let (_dir, groups, machines) = workspace();
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--format",
        "json",
        "--color",
        "always",
    ]);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);
    assert!(
        run.stderr.contains("\x1b[1;33mwarning:\x1b[0m"),
        "{}",
        run.stderr
    );
}
