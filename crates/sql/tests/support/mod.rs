//! What the SQL test files share: the number of generated cases, the test server, and the
//! comparison of SQL members with the engine's.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use cohort::{GroupSet, Timestamp};
use cohort_syntax::{Expr, GroupDef, Loc};
use cohort_testkit::strategies::NOW;
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

/// `groups`, then for each its negation (`not NAME`), in the same order: the second half's
/// members must be the complement of the first's.
pub fn with_negations(groups: Vec<GroupDef>) -> Vec<GroupDef> {
    let negations: Vec<GroupDef> = groups
        .iter()
        .map(|g| GroupDef {
            name: format!("not {}", g.name),
            description: None,
            condition: Expr::not(g.condition.clone()),
            loc: Loc::default(),
        })
        .collect();
    groups.into_iter().chain(negations).collect()
}

/// The engine's members of each group of `groups` (loaded as `set`), each machine named by
/// `key` of its position: the columnar executor, at the tests' `NOW`.
pub fn engine_members(
    set: &GroupSet,
    groups: &[GroupDef],
    machines: &[Map<String, Value>],
    key: impl Fn(usize) -> String,
) -> Vec<Vec<String>> {
    let bitsets = set
        .plan()
        .columnar(machines)
        .evaluate_with_threads(Timestamp::from_unix_millis(NOW), 1);
    groups
        .iter()
        .map(|g| {
            let id = set.id(&g.name).unwrap();
            (0..machines.len())
                .filter(|&m| bitsets.members(id).contains(m))
                .map(&key)
                .collect()
        })
        .collect()
}
