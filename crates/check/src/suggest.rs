//! "Did you mean" for one group set, at a bounded cost.
//!
//! [`cohort_syntax::nearest`] bounds one call; a hostile set can still make many calls (4,000
//! `member of` criteria naming missing groups, each compared with 4,000 groups). So every
//! suggestion made while checking one set draws on one budget of [`SUGGESTION_BUDGET`]
//! candidates compared; when it is spent, later errors come without a suggestion.

use std::cell::Cell;
use std::collections::BTreeMap;

/// The most candidates compared for suggestions while checking one group set.
pub const SUGGESTION_BUDGET: usize = 200_000;

/// The furthest a suggestion can be from the input, in edits (as [`cohort_syntax::nearest`]).
const MAX_DISTANCE: usize = 3;

/// What remains of one set's suggestion budget.
#[derive(Debug)]
pub(crate) struct Budget {
    remaining: Cell<usize>,
}

impl Budget {
    pub(crate) fn new() -> Self {
        Budget {
            remaining: Cell::new(SUGGESTION_BUDGET),
        }
    }

    /// [`cohort_syntax::nearest`], comparing no more candidates than remain in the budget,
    /// and spending those it compares.
    pub(crate) fn nearest<'a>(
        &self,
        input: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let remaining = self.remaining.get();
        if remaining == 0 {
            return None;
        }
        let mut used = 0usize;
        let found = cohort_syntax::nearest(
            input,
            candidates
                .into_iter()
                .take(remaining)
                .inspect(|_| used += 1),
        );
        self.remaining.set(remaining.saturating_sub(used));
        found
    }
}

/// Names indexed by their length (in characters, lowercased), so that a suggestion compares
/// only the names whose length is within reach of the input's.
#[derive(Debug)]
pub(crate) struct ByLength {
    /// By length: the positions of the names of that length.
    positions: BTreeMap<usize, Vec<usize>>,
    names: Vec<String>,
}

impl ByLength {
    pub(crate) fn new(names: impl IntoIterator<Item = String>) -> Self {
        let names: Vec<String> = names.into_iter().collect();
        let mut positions: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (position, name) in names.iter().enumerate() {
            positions
                .entry(lowered_len(name))
                .or_default()
                .push(position);
        }
        ByLength { positions, names }
    }

    /// The nearest name to `input`, drawing on `budget`; the first in order of equally near.
    pub(crate) fn nearest(&self, input: &str, budget: &Budget) -> Option<&str> {
        if budget.remaining.get() == 0 {
            return None;
        }
        let length = input.to_lowercase().chars().count();
        let mut within: Vec<usize> = self
            .positions
            .range(length.saturating_sub(MAX_DISTANCE)..=length + MAX_DISTANCE)
            .flat_map(|(_, positions)| positions.iter().copied())
            .collect();
        within.sort_unstable();
        budget.nearest(
            input,
            within
                .into_iter()
                .filter_map(|position| self.names.get(position).map(String::as_str)),
        )
    }
}

fn lowered_len(name: &str) -> usize {
    name.chars().flat_map(char::to_lowercase).count()
}
