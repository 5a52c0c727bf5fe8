//! cohort's integration tests: one binary, one module per area.
//!
//! * `bitlocker`: the seed group end to end through the library.
//! * `cli`: the `cohort` command line, run in-process through `cohort_cli::run`.
//! * `corpus`: 50+ criterion lines in the styles people write, with their expected trees.
//! * `deep`: attribute lists nested 100,000 deep, on every path.
//! * `differential`: proptest, the compiled engine against the reference evaluator.
//! * `diagnostics`: every kind of bad definition gives a located, named error.
//! * `examples`: the shipped groups and fleet are valid, reproducible and meaningful.
//! * `explain_words`: the reasons of `explain`, operator by operator, and how values compared.
//! * `hostile_cli`: the command line against planted links, hard links, FIFOs, devices,
//!   oversized documents and malformed machines files.
//! * `hostile_load`: hostile definitions (aliases, nesting, comments, huge errors) through the library.
//! * `markdown`: importing group documents written in Markdown.
//! * `markdown_hostile`: pipes in code spans, CRLF, a byte-order mark, long tables, limits.
//! * `operators`: the README's operator table, row by row.
//! * `roundtrip`: proptest, printing YAML and loading it back gives the same tree.
//! * `vectors`: `tests/vectors/*.yaml` and the README's operator table, every case through
//!   every executor.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bitlocker;
mod cli;
mod corpus;
mod deep;
mod diagnostics;
mod differential;
mod examples;
mod explain_words;
mod hostile_cli;
mod hostile_load;
mod live;
mod markdown;
mod markdown_hostile;
mod operators;
mod replace;
mod roundtrip;
mod schema;
mod vectors;

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
