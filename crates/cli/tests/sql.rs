//! `cohort db load`, `cohort eval --db` and `cohort sql`, through the real executable: the
//! database gives the output the machines file gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Run, cohort};

fn ok(run: &Run) -> String {
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout.clone()
}

const NOW: &str = "2026-11-25T00:00:00Z";
const FLEET: &str = "examples/fleet/fleet.json";

fn in_memory(format: &str) -> String {
    ok(&cohort(&[
        "eval",
        "--groups",
        "examples/groups",
        "--machines",
        FLEET,
        "--now",
        NOW,
        "--format",
        format,
    ]))
}

fn in_database(db: &str, format: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "eval",
        "--groups",
        "examples/groups",
        "--db",
        db,
        "--now",
        NOW,
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    cohort(&args)
}

#[test]
fn sqlite_gives_what_the_machines_file_gives_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("fleet.db").display());
    let loaded = ok(&cohort(&["db", "load", "--machines", FLEET, "--db", &db]));
    assert_eq!(
        loaded.trim(),
        format!("loaded 1000 machines into the table `machines` of `{db}`")
    );
    for format in ["json", "csv", "table"] {
        assert_eq!(
            ok(&in_database(&db, format, &[])),
            in_memory(format),
            "--format {format}"
        );
    }
    let one = |source: &[&str]| {
        let mut args = vec![
            "eval",
            "--groups",
            "examples/groups",
            "--now",
            NOW,
            "--group",
            "Servers Pending Reboot",
        ];
        args.extend_from_slice(source);
        ok(&cohort(&args))
    };
    assert_eq!(one(&["--db", &db]), one(&["--machines", FLEET]));
}

#[test]
fn membership_is_written_back_in_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("fleet.db").display());
    ok(&cohort(&["db", "load", "--machines", FLEET, "--db", &db]));
    let output = in_database(&db, "csv", &["--write-membership", "members"]);
    let csv = ok(&output);
    let rows = csv.lines().count() - 1;
    let stderr = output.stderr;
    assert!(
        stderr.contains(&format!(
            "wrote {rows} membership rows to the table `members`"
        )),
        "{stderr}"
    );
    // Written again, the table holds the new rows only.
    ok(&in_database(&db, "csv", &["--write-membership", "members"]));
    let connection = cohort_sql::sqlite::open(&dir.path().join("fleet.db")).unwrap();
    let count: i64 = connection
        .query_row("SELECT count(*) FROM members", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(count).unwrap(), rows);
}

#[test]
fn postgres_gives_what_the_machines_file_gives() {
    let Ok(settings) = std::env::var("COHORT_TEST_POSTGRES") else {
        eprintln!(
            "notice: COHORT_TEST_POSTGRES is not set; skipping the PostgreSQL tests (.ci/postgres starts a server)"
        );
        return;
    };
    let mut client = cohort_sql::postgres::connect(&settings).unwrap();
    let database = format!("cohort_cli_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let db = format!("postgres:{settings} dbname={database}");
    ok(&cohort(&["db", "load", "--machines", FLEET, "--db", &db]));
    for format in ["json", "csv"] {
        assert_eq!(
            ok(&in_database(&db, format, &[])),
            in_memory(format),
            "--format {format}"
        );
    }
    let output = in_database(&db, "json", &["--write-membership", "members"]);
    ok(&output);
    client
        .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .unwrap();
}

#[test]
fn sql_prints_values_as_parameters_never_in_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let groups = dir.path().join("g.yaml");
    std::fs::write(
        &groups,
        "name: Quote\nwhere: \"OS contains \\\"it's'; DROP TABLE machines; --\\\"\"\n",
    )
    .unwrap();
    for dialect in ["sqlite", "postgres"] {
        let text = ok(&cohort(&[
            "sql",
            "--groups",
            groups.to_str().unwrap(),
            "--dialect",
            dialect,
        ]));
        let sql: String = text.lines().filter(|l| !l.starts_with("--")).collect();
        assert!(!sql.contains("drop table"), "{text}");
        assert!(
            text.contains(r#"= "it's'; drop table machines; --""#),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(
            &cohort(&[
                "sql",
                "--groups",
                groups.to_str().unwrap(),
                "--dialect",
                dialect,
                "--format",
                "json",
            ])
            .stdout,
        )
        .unwrap();
        assert_eq!(json["groups"], serde_json::json!(["Quote"]));
        assert!(
            json["params"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("it's'; drop table machines; --"))
        );
    }
}

#[test]
fn what_a_dialect_cannot_do_is_an_error_naming_the_criterion() {
    let dir = tempfile::tempdir().unwrap();
    let groups = dir.path().join("g.yaml");
    std::fs::write(
        &groups,
        "name: DCs\nblocks: [[{field: Hostname, operator: matches, value: '^DC\\d+-\\d+$'}]]\n",
    )
    .unwrap();
    let output = cohort(&[
        "sql",
        "--groups",
        groups.to_str().unwrap(),
        "--dialect",
        "postgres",
    ]);
    assert_eq!(output.code, Some(1));
    let stderr = output.stderr;
    assert!(stderr.starts_with("error: group `DCs`, "), "{stderr}");
    assert!(
        stderr.contains(r"the regex `^DC\d+-\d+$` in PostgreSQL"),
        "{stderr}"
    );
    // SQLite runs the engine's own regexes.
    ok(&cohort(&[
        "sql",
        "--groups",
        groups.to_str().unwrap(),
        "--dialect",
        "sqlite",
    ]));
}

#[test]
fn bad_databases_and_arguments_are_clear_errors() {
    let output = cohort(&["eval", "--groups", "examples/groups", "--db", "mysql://x"]);
    assert_eq!(output.code, Some(1));
    assert!(output.stderr.contains(
        "`mysql://x` is not a database: give `sqlite:FILE` or `postgres://USER@HOST/DB`"
    ));
    let dir = tempfile::tempdir().unwrap();
    let empty = format!("sqlite:{}", dir.path().join("empty.db").display());
    let output = cohort(&["eval", "--groups", "examples/groups", "--db", &empty]);
    assert!(
        output.stderr.contains("has no table `machines`"),
        "{}",
        output.stderr
    );
    let output = cohort(&[
        "eval",
        "--groups",
        "examples/groups",
        "--db",
        &empty,
        "--machines",
        FLEET,
    ]);
    assert_eq!(
        output.code,
        Some(2),
        "--db and --machines together are bad usage"
    );
    let output = cohort(&[
        "explain",
        "--groups",
        "examples/groups",
        "--db",
        &empty,
        "--machine",
        "M00001",
    ]);
    assert!(
        output
            .stderr
            .contains("this command reads a machines file: give `--machines`")
    );
}

/// `db load` reads a machines file one machine at a time (twice: the columns and keys, then
/// the rows): from standard input and from CSV too, with the same members; a repeated id is
/// refused before anything is written.
#[test]
fn db_load_reads_stdin_and_csv_and_refuses_a_repeated_id() {
    let dir = tempfile::tempdir().unwrap();
    let fleet: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(support::root().join(FLEET)).unwrap())
            .unwrap();
    let ndjson: String = fleet
        .as_array()
        .unwrap()
        .iter()
        .map(|machine| format!("{machine}\n"))
        .collect();
    let stdin_db = format!("sqlite:{}", dir.path().join("stdin.db").display());
    let loaded = ok(&support::cohort_with_input(
        &[
            "db",
            "load",
            "--machines",
            "-",
            "--machines-format",
            "ndjson",
            "--db",
            &stdin_db,
        ],
        ndjson.as_bytes(),
    ));
    assert!(loaded.starts_with("loaded 1000 machines"), "{loaded}");
    assert_eq!(ok(&in_database(&stdin_db, "json", &[])), in_memory("json"));

    let csv = dir.path().join("fleet.csv");
    std::fs::write(
        &csv,
        "id,OS,Free Disk %\nA,Windows 11,5\nB,Ubuntu 22.04,50\n",
    )
    .unwrap();
    let csv_db = format!("sqlite:{}", dir.path().join("csv.db").display());
    let loaded = ok(&cohort(&[
        "db",
        "load",
        "--machines",
        csv.to_str().unwrap(),
        "--db",
        &csv_db,
    ]));
    assert!(loaded.starts_with("loaded 2 machines"), "{loaded}");

    let twice = dir.path().join("twice.ndjson");
    std::fs::write(&twice, "{\"id\":\"A\"}\n{\"id\":\"B\"}\n{\"id\":\"A\"}\n").unwrap();
    let twice_db = dir.path().join("twice.db");
    let output = cohort(&[
        "db",
        "load",
        "--machines",
        twice.to_str().unwrap(),
        "--db",
        &format!("sqlite:{}", twice_db.display()),
    ]);
    assert_ne!(output.code, Some(0));
    let stderr = output.stderr;
    assert!(
        stderr.contains("machine `A`, field `cohort_id`: several machines have this id"),
        "{stderr}"
    );
}
