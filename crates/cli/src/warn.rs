//! Warnings about definitions and machines that load and evaluate without error but most
//! likely do not mean what was written: criterion fields that no machine has, groups with
//! no members, machines without an id or sharing one.
//!
//! Field names stay case-sensitive (`OS` is not `Os`): machine records, CSV headers and an
//! embedder's `Machine::attr` look names up exactly, and two fields may differ only in
//! case. The warning names the field that differs only in case first, so the fix is one
//! edit away without changing what a name means.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

/// Warnings of one kind printed before "... and N more".
pub(crate) const SHOWN: usize = 20;

/// Edit-distance comparisons allowed for all the suggestions of one run: a hostile file
/// could otherwise ask for billions (10,000 fields each compared with 10,000 names).
const SUGGESTION_BUDGET: usize = 200_000;

/// The field names some machine has, indexed to suggest the nearest to a name none has.
pub(crate) struct KnownFields<'k> {
    exact: HashSet<&'k str>,
    /// Lowercased name → the names that lowercase to it.
    folded: HashMap<String, Vec<&'k str>>,
    /// Length in characters (lowercased) → names of that length, in name order.
    by_length: BTreeMap<usize, Vec<&'k str>>,
    /// Comparisons left for suggestions.
    budget: usize,
}

impl<'k> KnownFields<'k> {
    /// An index of `names`.
    pub(crate) fn new(names: impl IntoIterator<Item = &'k str>) -> Self {
        let mut known = KnownFields {
            exact: HashSet::new(),
            folded: HashMap::new(),
            by_length: BTreeMap::new(),
            budget: SUGGESTION_BUDGET,
        };
        for name in names {
            if !known.exact.insert(name) {
                continue;
            }
            let lower = name.to_lowercase();
            known
                .by_length
                .entry(lower.chars().count())
                .or_default()
                .push(name);
            known.folded.entry(lower).or_default().push(name);
        }
        known
    }

    /// Whether some machine has the field `name`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.exact.contains(name)
    }

    /// The known names nearest to `name`: those equal to it ignoring case, else the nearest
    /// within a few edits (ignoring case), drawing on the run's budget.
    pub(crate) fn nearest(&mut self, name: &str) -> Vec<&'k str> {
        let lower = name.to_lowercase();
        if let Some(same) = self.folded.get(&lower) {
            return same.clone();
        }
        if self.budget == 0
            || lower
                .chars()
                .nth(cohort::engine::syntax::MAX_SUGGESTION_INPUT)
                .is_some()
        {
            return Vec::new();
        }
        let length = lower.chars().count();
        // `nearest` allows at most 3 edits (a third of the length), so only names within 3
        // characters of the length are compared.
        let candidates: Vec<&'k str> = self
            .by_length
            .range(length.saturating_sub(3)..=length + 3)
            .flat_map(|(_, names)| names.iter().copied())
            .take(
                self.budget
                    .min(cohort::engine::syntax::MAX_SUGGESTION_CANDIDATES),
            )
            .collect();
        self.budget = self.budget.saturating_sub(candidates.len());
        cohort::engine::syntax::nearest(name, candidates)
            .into_iter()
            .collect()
    }

    /// Whether suggestions stopped because the budget was spent.
    pub(crate) fn exhausted(&self) -> bool {
        self.budget == 0
    }
}

/// `` `a` `` or `` `a` or `b` ``.
fn alternatives(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The machines' field names `names`, after warning (see [`missing_fields`]) for every
/// field the plan's groups test that none of them is; with how many were warned.
pub(crate) fn missing_tested_fields<'k>(
    plan: &cohort::engine::Plan,
    names: impl IntoIterator<Item = &'k str>,
    out: &mut dyn Write,
) -> (KnownFields<'k>, usize) {
    let mut known = KnownFields::new(names);
    let missing = missing_fields(&plan.fields(), &mut known, "the groups test", out);
    (known, missing)
}

/// Warns, for every field of `fields` that no machine has, with the nearest names that
/// machines have (names differing only in case first). `what` names the fields in the
/// message: "the groups test", "--columns asks for". Returns how many fields were missing.
pub(crate) fn missing_fields(
    fields: &[&str],
    known: &mut KnownFields<'_>,
    what: &str,
    out: &mut dyn Write,
) -> usize {
    let mut missing = 0;
    for field in fields {
        if known.contains(field) {
            continue;
        }
        missing += 1;
        if missing > SHOWN {
            continue;
        }
        let nearest = known.nearest(field);
        let hint = match nearest.first() {
            None => ": every machine reads it as missing".to_owned(),
            Some(first) if first.to_lowercase() == field.to_lowercase() => format!(
                "; field names are case-sensitive: did you mean {}?",
                alternatives(&nearest)
            ),
            Some(_) => format!("; did you mean {}?", alternatives(&nearest)),
        };
        let _ = writeln!(
            out,
            "warning: no machine has the field `{field}` that {what}{hint}"
        );
    }
    if missing > SHOWN {
        let _ = writeln!(
            out,
            "warning: ... and {} more fields that no machine has",
            missing - SHOWN
        );
    }
    if known.exhausted() {
        let _ = writeln!(
            out,
            "warning: too many field names to suggest the nearest for all; some got no suggestion"
        );
    }
    missing
}

/// Warns for every group without members (the first [`SHOWN`], then how many more).
pub(crate) fn empty_groups<'g>(
    empty: impl IntoIterator<Item = &'g str>,
    machines: usize,
    out: &mut dyn Write,
) {
    let mut count = 0;
    for name in empty {
        count += 1;
        if count <= SHOWN {
            let _ = writeln!(
                out,
                "warning: group `{name}` has no members among {}",
                crate::output::counted(machines, "machine")
            );
        }
    }
    if count > SHOWN {
        let _ = writeln!(
            out,
            "warning: ... and {} more groups without members",
            count - SHOWN
        );
    }
}

/// Warns when machines have no id (they are shown as `#N`, their position) and when ids are
/// repeated (with the first few repeated ids). `id_of(p)` is `None` for a machine without an
/// id.
pub(crate) fn ids<'i>(
    machines: usize,
    id_of: impl Fn(usize) -> Option<std::borrow::Cow<'i, str>>,
    id_field: &str,
    out: &mut dyn Write,
) {
    /// Repeated ids named in the warning.
    const NAMED: usize = 5;
    let mut without = 0;
    // Seeded per process (ids come from endpoints), and sized once: a million ids hashed
    // with SipHash into a growing table cost a tenth of a second after the reading.
    let mut seen: HashMap<std::borrow::Cow<'i, str>, usize, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(machines, foldhash::fast::RandomState::default());
    let mut repeated: Vec<std::borrow::Cow<'i, str>> = Vec::new();
    let mut repeated_machines = 0;
    for position in 0..machines {
        let Some(id) = id_of(position) else {
            without += 1;
            continue;
        };
        let times = seen.entry(id.clone()).or_insert(0);
        *times += 1;
        if *times == 2 {
            repeated.push(id);
        }
        if *times >= 2 {
            repeated_machines += 1;
        }
    }
    if without > 0 {
        let _ = writeln!(
            out,
            "warning: {} of {machines} {} no `{id_field}` field, so {} shown by position in the file (`#N`); use --id-field to name the field that identifies a machine",
            crate::output::counted(without, "machine"),
            if without == 1 { "has" } else { "have" },
            if without == 1 { "it is" } else { "they are" },
        );
    }
    if !repeated.is_empty() {
        let named: Vec<String> = repeated
            .iter()
            .take(NAMED)
            .map(|id| format!("`{id}`"))
            .collect();
        let _ = writeln!(
            out,
            "warning: {} {} repeated ({}{}): {} the id of an earlier machine; each is listed as a member, and `explain` shows the first",
            crate::output::counted(repeated.len(), "id"),
            if repeated.len() == 1 { "is" } else { "are" },
            named.join(", "),
            if repeated.len() > NAMED { ", ..." } else { "" },
            if repeated_machines == 1 {
                "1 machine has".to_owned()
            } else {
                format!("{repeated_machines} machines have")
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_only_matches_come_first_then_near_names() {
        let mut known = KnownFields::new(["OS", "Agent Version", "Os Build", "Hostname"]);
        assert_eq!(known.nearest("os"), ["OS"]);
        assert_eq!(known.nearest("agent version"), ["Agent Version"]);
        assert_eq!(known.nearest("Agnet Verison"), ["Agent Version"]);
        assert!(known.nearest("Serial Number").is_empty());
    }

    #[test]
    fn missing_fields_are_each_warned() {
        let mut known = KnownFields::new(["OS", "Hostname"]);
        let mut out = Vec::new();
        let count = missing_fields(
            &["os", "OS", "Hostnam", "Zzz"],
            &mut known,
            "the groups test",
            &mut out,
        );
        assert_eq!(count, 3);
        let text = String::from_utf8(out).unwrap_or_default();
        assert_eq!(
            text,
            "warning: no machine has the field `os` that the groups test; field names are case-sensitive: did you mean `OS`?\n\
             warning: no machine has the field `Hostnam` that the groups test; did you mean `Hostname`?\n\
             warning: no machine has the field `Zzz` that the groups test: every machine reads it as missing\n"
        );
    }
}
