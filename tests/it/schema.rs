//! Field schemas: validation of groups against declared types and levels, errors with their
//! positions, level-prefixed fields in records, and `cohort schema infer`.

use cohort::{GroupSet, Schema, Timestamp};
use serde_json::json;

fn schema() -> Schema {
    Schema::load(crate::root().join("tests/data/schema/schema.yaml")).unwrap()
}

#[test]
fn the_example_groups_validate_against_the_example_schema() {
    let schema = Schema::load(crate::root().join("examples/schema.yaml")).unwrap();
    let groups = GroupSet::builder()
        .path(crate::root().join("examples/groups"))
        .schema(&schema)
        .build()
        .unwrap();
    assert_eq!(groups.len(), 33);
}

#[test]
fn every_schema_problem_is_reported_at_once_with_its_position() {
    let path = crate::root().join("tests/data/schema/invalid-groups.yaml");
    let error = GroupSet::builder()
        .path(&path)
        .schema(&schema())
        .build()
        .unwrap_err();
    let found: Vec<(usize, usize, &str, &str, Option<&str>)> = error
        .diagnostics()
        .iter()
        .map(|d| {
            (
                d.line().unwrap(),
                d.column().unwrap(),
                d.group().unwrap(),
                d.message(),
                d.help(),
            )
        })
        .collect();
    let expected: Vec<(usize, usize, &str, &str, Option<&str>)> = vec![
        (
            5,
            11,
            "Typos",
            "unknown field `Free Disk`: the schema declares no such field",
            Some("did you mean `Free Disk %`?"),
        ),
        (
            10,
            18,
            "Typos",
            "`Not Availble` is not an option of the dropdown `BitLocker Key Backup Status`",
            Some("did you mean `Not Available`?"),
        ),
        (
            12,
            30,
            "Wrong operators",
            "`greater than` does not apply to `Pending Reboot`, a flag field",
            Some("on a flag field use `equal`, `is blank`"),
        ),
        (
            12,
            63,
            "Wrong operators",
            "`contains any of` does not apply to `Free Disk %`, a number field",
            Some(
                "on a number field use `equal`, `is any of`, `greater than`, `greater than or equal`, `less than`, `less than or equal`, `between`, `is blank`",
            ),
        ),
        (
            15,
            60,
            "Wrong values",
            "`ten` is not a number such as `10` or `2.5`, and `Free Disk %` is a number field",
            None,
        ),
        (
            16,
            61,
            "Wrong values",
            "`yesterday` is not a date such as `2024-05-01`, and `Last Seen` is a date field",
            None,
        ),
        (
            17,
            62,
            "Wrong values",
            "`latest` is not a version such as `10.0.19045`, and `Agent Version` is a version field",
            None,
        ),
        (
            18,
            59,
            "Wrong values",
            "`maybe` is not `true` or `false`, and `Pending Reboot` is a flag field",
            None,
        ),
        (
            21,
            11,
            "Levels",
            "field `Exclude Windows 11 Installation` is ambiguous: it is declared as a site and endpoint field",
            Some(
                "name the level: `site:Exclude Windows 11 Installation` or `endpoint:Exclude Windows 11 Installation`",
            ),
        ),
        (
            24,
            11,
            "Levels",
            "unknown field `company:Exclude Windows 11 Installation`: the schema declares no such field",
            Some("did you mean `site:Exclude Windows 11 Installation`?"),
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{error}");
    for (found, expected) in found.iter().zip(&expected) {
        assert_eq!(found, expected);
    }
    assert!(
        error
            .to_string()
            .contains("invalid-groups.yaml:5:11: unknown field `Free Disk`")
    );
}

#[test]
fn schema_files_are_checked_too() {
    let path = crate::root().join("tests/data/schema/invalid-schema.yaml");
    let error = Schema::load(&path).unwrap_err();
    let found: Vec<(usize, &str)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.line().unwrap(), d.message()))
        .collect();
    assert_eq!(
        found,
        [
            (3, "dropdown field `Status` lists no options"),
            (6, "field `Free Disk %` has options but is not a dropdown"),
            (7, "field name `site:Region` has a level prefix"),
            (
                11,
                "endpoint field `OS` is declared twice (first as field 4)"
            ),
        ]
    );
    let unknown_type =
        Schema::from_yaml_named("s.yaml", "fields:\n  - name: A\n    type: numbr\n").unwrap_err();
    let diagnostic = &unknown_type.diagnostics()[0];
    assert_eq!(
        (diagnostic.line(), diagnostic.column()),
        (Some(3), Some(11))
    );
    assert!(
        diagnostic.message().contains("unknown field type `numbr`"),
        "{diagnostic}"
    );
}

#[test]
fn level_prefixed_fields_read_level_prefixed_keys() {
    let groups = GroupSet::builder().text("<string>", r#"
groups:
  - name: Upgrade
    where: "OS contains 'Windows 10' and 'site:Exclude Windows 11 Installation' not equal true and 'endpoint:Exclude Windows 11 Installation' not equal true"
"#).schema(&schema()).build()
    .unwrap();
    let now = Timestamp::UNIX_EPOCH;
    let names = |machine: serde_json::Value| {
        groups
            .evaluate(&machine, now)
            .names()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(json!({"OS": "Windows 10 Pro"})), ["Upgrade"]);
    assert!(
        names(json!({"OS": "Windows 10 Pro", "site:Exclude Windows 11 Installation": true}))
            .is_empty()
    );
    assert!(
        names(json!({"OS": "Windows 10 Pro", "Exclude Windows 11 Installation": true})).is_empty()
    );
    // Without a schema the same text means the same: `endpoint:` is the bare name.
    let plain = GroupSet::from_yaml_str(
        "name: U\nwhere: \"'endpoint:Exclude Windows 11 Installation' equal true\"",
    )
    .unwrap();
    assert_eq!(plain.plan().fields(), ["Exclude Windows 11 Installation"]);
}

#[test]
fn cli_checks_against_a_schema_and_infers_one() {
    let root = crate::root();
    let run = |args: &[&str]| {
        let run = crate::cli::cohort(args);
        (run.code, run.stdout, run.stderr)
    };
    let schema = root.join("tests/data/schema/schema.yaml");
    let invalid = root.join("tests/data/schema/invalid-groups.yaml");
    let (code, out, _) = run(&[
        "check",
        "--schema",
        schema.to_str().unwrap(),
        invalid.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.ends_with("error: 10 problems found\n"), "{out}");

    let fleet = root.join("examples/fleet/fleet.json");
    let (code, inferred, _) = run(&["schema", "infer", fleet.to_str().unwrap()]);
    assert_eq!(code, 0);
    let inferred = Schema::from_yaml_str(&inferred).unwrap();
    let shipped = Schema::load(root.join("examples/schema.yaml")).unwrap();
    let kinds = |schema: &Schema| {
        schema
            .fields()
            .iter()
            .map(|f| (f.key(), f.kind.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kinds(&inferred),
        kinds(&shipped),
        "examples/schema.yaml is the inferred schema, reviewed"
    );

    let dir = std::env::temp_dir().join(format!("cohort-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("schema.yaml");
    std::fs::write(&out_path, "keep me").unwrap();
    let (code, _, err) = run(&[
        "schema",
        "infer",
        fleet.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("exists; not overwritten (use --force)"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "keep me");
    let (code, _, _) = run(&[
        "schema",
        "infer",
        fleet.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(code, 0);
    assert!(Schema::load(&out_path).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
