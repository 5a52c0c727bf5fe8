//! Hostile definitions through the library: every case asserts the error (or the result) it
//! must give. Nothing here is timed; scaling is shown by `benches/load.rs`, which doubles the
//! input.

use cohort::{GroupSet, Schema, format_yaml};

fn messages(error: &cohort::Error) -> Vec<String> {
    error
        .diagnostics()
        .iter()
        .map(|d| d.message().to_owned())
        .collect()
}

#[test]
fn alias_expansion_is_budgeted_in_bytes() {
    // A 1 MiB string expanded 9,999 times used to abort the process (memory allocation
    // failed); now it is refused before anything is copied.
    let mut text = format!(
        "name: G\ndescription: &big '{}'\nblocks:\n- - field: OS\n    operator: contains any of\n    values:\n",
        "x".repeat(1 << 20)
    );
    for _ in 0..9_999 {
        text.push_str("    - *big\n");
    }
    let error = GroupSet::from_yaml_str(&text).unwrap_err();
    let [message] = messages(&error).try_into().unwrap();
    assert!(
        message.contains("aliases in this file stand for more than 16777216 bytes"),
        "{message}"
    );
    // The 16th alias is the first past the budget.
    assert_eq!(error.diagnostics()[0].line(), Some(22));

    // A few aliases are fine.
    let groups = GroupSet::from_yaml_str(
        "groups:\n- name: A\n  blocks: &b [[OS is Windows]]\n- name: B\n  blocks: *b\n",
    )
    .unwrap();
    assert_eq!(groups.len(), 2);
}

#[test]
fn deep_nesting_is_refused_early_in_every_form() {
    for text in [
        format!("name: G\nblocks: {}", "[".repeat(80_000)),
        format!("name: G\nblocks: {}", "{a: ".repeat(80_000)),
        format!("name: G\nblocks:\n{}", "- ".repeat(80_000)),
    ] {
        let error = GroupSet::from_yaml_str(&text).unwrap_err();
        let [message] = messages(&error).try_into().unwrap();
        assert!(message.contains("nested"), "{message}");
    }
    let schema = format!("fields: {}", "[".repeat(80_000));
    assert!(Schema::from_yaml_str(&schema).is_err());
}

#[test]
fn a_byte_order_mark_is_accepted_in_groups_and_schemas() {
    let groups = GroupSet::from_yaml_str("\u{FEFF}name: G\nblocks: [[OS is Windows]]\n").unwrap();
    assert_eq!(groups.len(), 1);
    let schema = Schema::from_yaml_str("\u{FEFF}fields:\n- {name: OS, type: text}\n").unwrap();
    assert_eq!(schema.fields().len(), 1);
    let formatted = format_yaml("g.yaml", "\u{FEFF}name: G\nblocks: [[OS is Windows]]\n").unwrap();
    assert!(formatted.text.starts_with("name: G\n"));
}

#[test]
fn a_single_scalar_under_values_keeps_its_exact_text() {
    let formatted = format_yaml(
        "g.yaml",
        "name: G\nblocks:\n- - {field: Agent Version, operator: equal, values: 10.10}\n  - {field: Code, operator: equal, values: 0x1F}\n",
    )
    .unwrap();
    assert!(formatted.text.contains("- '10.10'"), "{}", formatted.text);
    assert!(formatted.text.contains("- 0x1F") || formatted.text.contains("- '0x1F'"));
}

#[test]
fn fmt_refuses_to_lose_a_comment_in_any_position() {
    let cases = [
        (
            "name: G\nblocks:\n- - field: OS\n    operator: is\n    value: Windows\t# owner\n",
            5,
        ),
        ("name: G # the name\nblocks: [[OS is Windows]]\n", 1),
        ("name: G\nblocks: [[OS is Windows]] # trailing\n", 2),
        ("name: G\n# between\nblocks: [[OS is Windows]]\n", 2),
        ("name: G\nblocks:\n- - 'OS is Windows' # after a quote\n", 3),
        (
            "name: G\nblocks:\n  # inside a list\n  - - OS is Windows\n",
            3,
        ),
        ("name: G\nblocks: [[OS is Windows]]\n# at the end\n", 3),
    ];
    for (text, line) in cases {
        let formatted = format_yaml("g.yaml", text).unwrap();
        assert_eq!(formatted.dropped_comments, [line], "{text:?}");
    }
    // A `#` inside a value is not a comment; the leading block is kept.
    let formatted = format_yaml(
        "g.yaml",
        "# Disk groups\n# owner: ops\nname: 'G # 1'\nblocks: [['Tag is \"a # b\"']]\n",
    )
    .unwrap();
    assert!(formatted.dropped_comments.is_empty());
    assert!(
        formatted
            .text
            .starts_with("# Disk groups\n# owner: ops\nname: 'G # 1'\n")
    );
    // A comment glued to a closing quote is not YAML: fmt refuses the file, it does not drop
    // the comment.
    let error = format_yaml("g.yaml", "name: \"G\"# note\nblocks: [[OS is x]]\n").unwrap_err();
    assert!(messages(&error)[0].contains("comments must be separated"));
}

#[test]
fn fmt_does_not_expand_aliases_past_the_file_limit() {
    // 15 aliases of a 1 MiB value are within the alias budget, but written out they would
    // make a file the loader refuses.
    let mut text = format!(
        "groups:\n- name: G0\n  description: &d '{}'\n  blocks: [[OS is x]]\n",
        "x".repeat(1 << 20)
    );
    for i in 1..16 {
        text.push_str(&format!(
            "- name: G{i}\n  description: *d\n  blocks: [[OS is x]]\n"
        ));
    }
    let error = format_yaml("g.yaml", &text).unwrap_err();
    assert!(
        messages(&error)[0].contains("over the limit of 16777216 bytes"),
        "{}",
        messages(&error)[0]
    );
}

#[test]
fn many_errors_are_all_collected_and_shown_up_to_a_cap() {
    let mut text = String::from("groups:\n");
    for i in 0..1_000 {
        text.push_str(&format!(
            "- name: G{i}\n  blocks: [[{{field: OS, operator: frobs, value: x}}]]\n"
        ));
    }
    let error = GroupSet::from_yaml_str(&text).unwrap_err();
    assert_eq!(error.diagnostics().len(), 1_000);
    assert_eq!(error.diagnostics()[999].line(), Some(2_001));
    let shown = error.to_string();
    assert!(
        shown.ends_with("... and 900 more problems (fix these first)"),
        "{shown}"
    );
    assert_eq!(shown.matches("unknown operator").count(), 100);
}

#[test]
fn a_very_long_line_is_shown_as_a_window_around_the_caret() {
    let values: Vec<String> = (0..20_000).map(|i| format!("v{i}")).collect();
    let text = format!(
        "name: G\nblocks: [[{{field: OS, operator: is any of, values: [{}]}}, {{field: OS, operator: frobs}}]]\n",
        values.join(", ")
    );
    let error = GroupSet::from_yaml_str(&text).unwrap_err();
    let diagnostic = &error.diagnostics()[0];
    assert_eq!(diagnostic.message(), "unknown operator `frobs`");
    let line = diagnostic.line_text().unwrap();
    assert!(line.chars().count() < 200, "{} characters", line.len());
    assert!(line.starts_with('…') && line.contains("frobs"), "{line}");
    let shown = diagnostic.to_string();
    let caret_line = shown.lines().find(|l| l.contains('^')).unwrap();
    let text_line = shown.lines().find(|l| l.contains("frobs}")).unwrap();
    // Count characters: the `…` that marks the cut is one character of three bytes.
    let caret = caret_line.chars().position(|c| c == '^').unwrap();
    let under: String = text_line.chars().skip(caret).take(5).collect();
    assert_eq!(under, "frobs", "{shown}");
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_as_group_files() {
    let error = GroupSet::load("/dev/zero").unwrap_err();
    assert!(
        messages(&error)[0].contains("not a regular file"),
        "{error}"
    );
    let dir = std::env::temp_dir().join(format!("cohort-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.yaml"), "name: A\nblocks: [[OS is x]]\n").unwrap();
    let fifo = dir.join("b.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let result = GroupSet::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    if made.is_ok_and(|s| s.success()) {
        let error = result.unwrap_err();
        assert!(
            messages(&error)[0].contains("b.yaml` is not a regular file"),
            "{error}"
        );
    }
}

#[cfg(unix)]
#[test]
fn links_in_a_groups_directory_stay_inside_it_and_cannot_loop() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, "root:*:20228:0:99999:7:::\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.yaml"), "name: G\nblocks: [[OS is x]]\n").unwrap();
    for name in ["a", "b", "c"] {
        symlink(".", dir.path().join(name)).unwrap();
    }
    // Loops through `.` are read once: one group, not 3^16 copies.
    let groups = GroupSet::load(dir.path()).unwrap();
    assert_eq!(groups.len(), 1);
    // A link out of the directory is refused, and nothing of its target is quoted.
    symlink(&secret, dir.path().join("evil.yaml")).unwrap();
    let error = GroupSet::load(dir.path()).unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.contains("evil.yaml` is a link that leads outside"),
        "{shown}"
    );
    assert!(!shown.contains("root:"), "{shown}");
    // Named on the command line, a link is followed as the user asked.
    let named = dir.path().join("named.yaml");
    symlink(dir.path().join("g.yaml"), &named).unwrap();
    assert!(GroupSet::load(&named).is_ok());
}

#[test]
fn regex_work_is_bounded_however_patterns_are_repeated() {
    // One refused pattern written 10,000 times (through an alias): refused once, then
    // remembered (it took 40 s).
    let text = format!(
        "name: G\nblocks: [[{{field: H, operator: matches, values: [&r '\\w{{100}}x', {}]}}]]\n",
        vec!["*r"; 9_999].join(", ")
    );
    let error = GroupSet::from_yaml_str(&text).unwrap_err();
    assert!(!error.diagnostics().is_empty());
    // A very long pattern is refused before it is parsed (100,000 `\pL` took 3 GB).
    let long = format!(
        "name: G\nblocks: [[{{field: H, operator: matches, value: '{}'}}]]\n",
        "\\pL".repeat(100_000)
    );
    let error = GroupSet::from_yaml_str(&long).unwrap_err();
    assert!(
        messages(&error)[0].contains("longer than the limit of 16384 bytes"),
        "{}",
        messages(&error)[0]
    );
    // Many distinct patterns: parsing stops at the set's share, every one is an error or a
    // regex, and the messages stay short.
    let values: Vec<String> = (0..2_000)
        .map(|i| format!("'\\w{{{}}}'", 100 + i))
        .collect();
    let many = format!(
        "name: G\nblocks: [[{{field: H, operator: matches, values: [{}]}}]]\n",
        values.join(", ")
    );
    let error = GroupSet::from_yaml_str(&many).unwrap_err();
    assert!(error.diagnostics().len() > 1_900);
    assert!(
        error
            .diagnostics()
            .iter()
            .all(|d| d.message().chars().count() <= 301)
    );
}
