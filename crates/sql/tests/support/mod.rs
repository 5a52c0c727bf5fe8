//! What the SQL test files share: the number of generated cases, the test server, and the
//! comparison of SQL members with the engine's.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use cohort_syntax::GroupDef;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// The number of generated cases: `default`, or `COHORT_SQL_CASES` for a longer run.
pub fn cases(default: u32) -> u32 {
    std::env::var("COHORT_SQL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A connection to the test server named by `COHORT_TEST_POSTGRES`, with cohort's functions
/// installed, or `None` (and a notice) when none is configured.
pub fn postgres() -> Option<postgres::Client> {
    let Ok(settings) = std::env::var("COHORT_TEST_POSTGRES") else {
        eprintln!(
            "notice: COHORT_TEST_POSTGRES is not set; skipping the PostgreSQL tests (.ci/postgres starts a server)"
        );
        return None;
    };
    let mut client =
        cohort_sql::postgres::connect(&settings).expect("the server COHORT_TEST_POSTGRES names");
    cohort_sql::postgres::install(&mut client).unwrap();
    Some(client)
}

/// Each group's SQL members `got` against the engine's `expected`, the group's condition and
/// the machines named when they differ.
pub fn compare(
    what: &str,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
    expected: &[Vec<String>],
    got: &[Vec<String>],
) -> Result<(), TestCaseError> {
    for (g, group) in groups.iter().enumerate() {
        prop_assert_eq!(
            &expected[g],
            &got[g],
            "{}: group `{}` = {}\nmachines: {}",
            what,
            group.name,
            cohort_syntax::expr_to_text(&group.condition),
            serde_json::to_string(machines).unwrap()
        );
    }
    Ok(())
}
