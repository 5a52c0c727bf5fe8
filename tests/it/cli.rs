//! The `cohort` command line, run in-process through `cohort_cli::run` (the binary's
//! `main` only forwards to it; `crates/cli/tests/binary.rs` runs the real executable).

use std::path::Path;

pub(crate) struct Run {
    pub(crate) code: u8,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the CLI in-process with `args` (without the program name).
pub(crate) fn cohort(args: &[&str]) -> Run {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let code = cohort_cli::run(
        std::iter::once("cohort").chain(args.iter().copied()),
        &mut stdout,
        &mut stderr,
    );
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn path(relative: &str) -> String {
    crate::root().join(relative).display().to_string()
}

const NOW: &str = "2026-11-25T00:00:00Z";

#[test]
fn eval_json_lists_every_group_in_definition_order_with_members_in_input_order() {
    let groups = path("examples/groups");
    let machines = path("examples/fleet/fleet.json");
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let output: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(output["machines"], 1000);
    let library = cohort::GroupSet::load(&groups).unwrap();
    let names: Vec<&str> = output["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, library.names().collect::<Vec<_>>());
    for group in output["groups"].as_array().unwrap() {
        let members: Vec<&str> = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(group["count"], members.len());
        let mut sorted = members.clone();
        sorted.sort();
        assert_eq!(members, sorted, "ids are M00001... in input order");
    }
    let bitlocker = output["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "BitLocker Key Missing")
        .unwrap();
    assert_eq!(bitlocker["members"][0], "M00004");
}

#[test]
fn eval_reads_csv_ndjson_and_yaml_machines_alike() {
    let dir = std::env::temp_dir().join(format!("cohort-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ndjson = dir.join("fleet.ndjson");
    let yaml = dir.join("fleet.yaml");
    std::fs::write(
        &ndjson,
        "{\"id\": \"a\", \"BitLocker Key Backup Status\": \"Not Available\"}\n{\"id\": \"b\"}\n",
    )
    .unwrap();
    std::fs::write(
        &yaml,
        "- id: a\n  BitLocker Key Backup Status: Not Available\n- id: b\n",
    )
    .unwrap();
    let groups = path("examples/groups/bitlocker/bitlocker-key-missing.yaml");
    let mut outputs = Vec::new();
    for machines in [ndjson.display().to_string(), yaml.display().to_string()] {
        let run = cohort(&[
            "eval",
            "--groups",
            &groups,
            "--machines",
            &machines,
            "--format",
            "csv",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs.push(run.stdout);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(outputs[0], "group,machine\nBitLocker Key Missing,a\n");
    assert_eq!(outputs[0], outputs[1]);

    let csv = path("examples/fleet/fleet.csv");
    let json = path("examples/fleet/fleet.json");
    let all = path("examples/groups");
    let from_csv = cohort(&[
        "eval",
        "--groups",
        &all,
        "--machines",
        &csv,
        "--format",
        "csv",
        "--now",
        NOW,
    ]);
    let from_json = cohort(&[
        "eval",
        "--groups",
        &all,
        "--machines",
        &json,
        "--format",
        "csv",
        "--now",
        NOW,
    ]);
    assert_eq!(from_csv.code, 0);
    assert_eq!(from_csv.stdout, from_json.stdout);
}

#[test]
fn eval_table_is_for_people() {
    let groups = path("examples/groups/bitlocker");
    let machines = path("examples/fleet/fleet.json");
    let run = cohort(&[
        "eval",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("GROUP"), "{}", run.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("BitLocker Key Missing") && l.contains("M00004, ")),
        "{}",
        run.stdout
    );
    assert_eq!(lines.last(), Some(&"ok: 6 groups over 1000 machines"));
    assert!(
        run.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn check_accepts_the_examples_and_reports_every_problem_with_its_place() {
    let run = cohort(&["check", &path("examples/groups")]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "note: fields are not checked without --schema; 24 fields seen\nok: 33 groups, no problems\n"
        )
    );

    let dir = std::env::temp_dir().join(format!("cohort-check-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(
        dir.join("a.yaml"),
        "name: A\nblocks:\n  - - field: OS\n      operator: contans any of\n      value: Windows\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("nested/b.yml"),
        "name: B\nblocks:\n  - - {field: Agent Version, operator: less than, value: soon}\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a definition").unwrap();
    let run = cohort(&["check", &dir.display().to_string()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, 1);
    let a = Path::new(&dir).join("a.yaml").display().to_string();
    let b = Path::new(&dir).join("nested/b.yml").display().to_string();
    let expected = format!(
        "{a}:4:17: unknown operator `contans any of`\n  in group `A`, block 1, criterion 1 (`OS`)\n    |\n  4 |       operator: contans any of\n    |                 ^^^^^^^^^^^^^^\n  help: did you mean `contains any of`?\n\
         {b}:3:58: `less than` compares numbers, dates and versions, but `soon` is none of these\n  in group `B`, block 1, criterion 1 (`Agent Version`)\n    |\n  3 |   - - {{field: Agent Version, operator: less than, value: soon}}\n    |                                                          ^^^^\n  help: write numbers like `10` or `2.5`, dates like `2024-05-01` or `2024-05-01T10:00:00Z`, versions like `10.0.19045`\n\
         error: 2 problems found\n"
    );
    assert_eq!(run.stdout, expected);
}

#[test]
fn explain_shows_each_criterion_for_one_machine() {
    let groups = path("examples/groups");
    let machines = path("examples/fleet/fleet.json");
    let run = cohort(&[
        "explain",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--machine",
        "M00004",
        "--group",
        "BitLocker Key Missing",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "machine M00004\n\nBitLocker Key Missing: member\n  pass  block 1 (all of)\n    pass  block 1, criterion 1: \"BitLocker Key Backup Status\" contains any of \"Not Available\"\n          `BitLocker Key Backup Status` contains \"not available\" (\"Not Available\")\n"
    );
    let run = cohort(&[
        "explain",
        "--groups",
        &groups,
        "--machines",
        &machines,
        "--machine",
        "M00004",
        "--now",
        NOW,
    ]);
    assert_eq!(
        run.stdout.matches(": member\n").count() + run.stdout.matches(": not a member\n").count(),
        33
    );
}

/// The README's `cohort explain` example, word for word.
#[test]
fn explain_says_what_was_found_and_how_it_was_compared() {
    let dir = std::env::temp_dir().join(format!("cohort-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("groups.yaml"),
        "groups:\n  - name: Old Windows Agents\n    blocks:\n      - - field: OS\n          operator: does not contain\n          values: [Server]\n        - field: Agent Version\n          operator: less than\n          value: 2024.1.0\n        - field: Last Seen\n          operator: within last\n          value: 30 days\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("fleet.json"),
        r#"[{"id": "WS-01", "OS": "Windows Server 2022", "Agent Version": "2023.6.1", "Last Seen": "2026-11-01T00:00:00Z"}]"#,
    )
    .unwrap();
    let (groups, machines) = (dir.join("groups.yaml"), dir.join("fleet.json"));
    let run = cohort(&[
        "explain",
        "--groups",
        &groups.display().to_string(),
        "--machines",
        &machines.display().to_string(),
        "--machine",
        "WS-01",
        "--now",
        NOW,
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        concat!(
            "machine WS-01\n\nOld Windows Agents: not a member\n",
            "  FAIL  block 1 (all of)\n",
            "    FAIL  block 1, criterion 1: OS does not contain Server\n",
            "          `OS` contains \"server\" (\"Windows Server 2022\"), so `does not contain` fails\n",
            "    pass  block 1, criterion 2: \"Agent Version\" less than 2024.1.0\n",
            "          `Agent Version` \"2023.6.1\" is below 2024.1.0, compared as versions\n",
            "    pass  block 1, criterion 3: \"Last Seen\" within last 30 days\n",
            "          `Last Seen` \"2026-11-01T00:00:00Z\" is no more than 30 days before now (2026-11-25T00:00:00Z)\n",
        )
    );
}

#[test]
fn usage_and_input_errors_have_exit_codes_and_messages() {
    let groups = path("examples/groups");
    let machines = path("examples/fleet/fleet.json");
    let readme = path("README.md");
    let nowhere = path("nowhere");
    let (g, m) = (groups.as_str(), machines.as_str());
    let cases: [(&[&str], u8, &str); 6] = [
        (&["eval", "--groups", g], 2, "--machines"),
        (
            &["eval", "--groups", g, "--machines", m, "--now", "yesterday"],
            2,
            "`yesterday` is not an RFC 3339 time",
        ),
        (
            &[
                "explain",
                "--groups",
                g,
                "--machines",
                m,
                "--machine",
                "nope",
            ],
            1,
            "no machine has `id` = `nope`",
        ),
        (
            &[
                "explain",
                "--groups",
                g,
                "--machines",
                m,
                "--machine",
                "M00001",
                "--group",
                "Laptop",
            ],
            1,
            "no group named `Laptop`; did you mean `Laptops`?",
        ),
        (
            &["eval", "--groups", g, "--machines", &readme],
            1,
            "cannot tell the format",
        ),
        (
            &["eval", "--groups", &nowhere, "--machines", m],
            1,
            "no such file or directory",
        ),
    ];
    for (args, code, message) in cases {
        let run = cohort(args);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let run = cohort(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("Evaluate, check and explain RMM dynamic groups")
    );
}

#[test]
fn fmt_rewrites_safely_keeps_meaning_and_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("cohort-fmt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let messy = dir.join("messy.yaml");
    std::fs::write(
        &messy,
        "# Team groups\nname: Windows Laptops\nwhere: OS  CONTAINS windows and Hostname ends with '-LT' or (Tags is blank true)\n",
    )
    .unwrap();
    let commented = dir.join("commented.yaml");
    let commented_text =
        "name: G\nblocks:\n  # why this block exists\n  - - {field: OS, operator: '=', value: x}\n";
    std::fs::write(&commented, commented_text).unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "name: G\nblocks: [[{field: OS, operator: frobs}]]\n",
    )
    .unwrap();
    let dir_arg = dir.display().to_string();

    let run = cohort(&["fmt", "--check", &dir_arg]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains(&format!("would reformat {}", messy.display())),
        "{}",
        run.stdout
    );

    let run = cohort(&["fmt", &dir_arg]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("unknown operator `frobs`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the comments on line 3 would be lost"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&commented).unwrap(),
        commented_text,
        "refused files are untouched"
    );
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "# Team groups\nname: Windows Laptops\nwhere: OS contains any of windows and Hostname ends with -LT or Tags is blank true\n"
    );
    std::fs::remove_file(&broken).unwrap();
    let run = cohort(&["fmt", "--force", &dir_arg]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = cohort(&["fmt", "--check", &dir_arg]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "ok: 2 files in canonical form\n")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fmt_of_the_examples_keeps_every_membership() {
    let dir = std::env::temp_dir().join(format!("cohort-fmt-examples-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for group_file in [
        "health.yaml",
        "inventory.yaml",
        "organisation.yaml",
        "operating-systems.yaml",
    ] {
        std::fs::copy(
            crate::root().join("examples/groups").join(group_file),
            dir.join(group_file),
        )
        .unwrap();
    }
    let machines = path("examples/fleet/fleet.json");
    let dir_arg = dir.display().to_string();
    let eval = || {
        let args = [
            "eval",
            "--groups",
            &dir_arg,
            "--machines",
            &machines,
            "--format",
            "json",
            "--now",
            NOW,
        ];
        cohort(&args).stdout
    };
    let before = eval();
    assert_eq!(cohort(&["fmt", &dir_arg]).code, 0);
    let after = eval();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(before, after);
}

#[test]
fn a_field_one_edit_from_a_machine_field_is_flagged() {
    let dir = std::env::temp_dir().join(format!("cohort-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let groups = dir.join("typo.yaml");
    std::fs::write(
        &groups,
        "name: T\nblocks: [[\"Agent Verison < 2024.1.0\", \"Custom Thing is blank\"]]\n",
    )
    .unwrap();
    let machines = path("examples/fleet/fleet.json");
    let run = cohort(&[
        "eval",
        "--groups",
        &groups.display().to_string(),
        "--machines",
        &machines,
        "--now",
        NOW,
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        "warning: no machine has the field `Agent Verison` that the groups test; did you mean `Agent Version`?\n\
         warning: no machine has the field `Custom Thing` that the groups test: every machine reads it as missing\n\
         warning: group `T` has no members among 1000 machines\n"
    );
}
