//! "Did you mean" suggestions: the nearest candidate by edit distance.
//!
//! Suggestions are for typos, so their cost is bounded whatever the input: an input longer
//! than [`MAX_SUGGESTION_INPUT`] characters gets none, a candidate whose length differs from
//! the input's by more than the distance allowed is skipped before any distance is computed,
//! the distance is computed in a band around the diagonal and abandoned as soon as it exceeds
//! the best so far, and one call compares at most [`MAX_SUGGESTION_CANDIDATES`] candidates.

/// Inputs longer than this many characters get no suggestion (a typo of a name is not that
/// long, and comparing long texts costs time proportional to their lengths).
pub const MAX_SUGGESTION_INPUT: usize = 128;

/// The most candidates one call of [`nearest`] compares; later candidates are not considered.
pub const MAX_SUGGESTION_CANDIDATES: usize = 10_000;

/// Edit distance between two strings, counted in `char`s: insertions, deletions,
/// substitutions and transpositions of neighbours each count one (optimal string alignment),
/// so the common typo `Verison` is one edit from `Version`.
///
/// Its cost is the product of the lengths: use [`nearest`] to compare untrusted input.
///
/// ```
/// assert_eq!(cohort_syntax::edit_distance("contans any of", "contains any of"), 1);
/// assert_eq!(cohort_syntax::edit_distance("Agent Verison", "Agent Version"), 1);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = a.len().max(b.len());
    distance_within(&a, &b, max).unwrap_or(max)
}

/// Whether `a` and `b` are at most `max` edits apart (as [`edit_distance`] counts them). Costs
/// time in proportion to the shorter length times `max`, so it is safe on long inputs.
///
/// ```
/// assert!(cohort_syntax::within_edits("Agent Verison", "Agent Version", 1));
/// assert!(!cohort_syntax::within_edits(&"a".repeat(100_000), &"b".repeat(100_000), 1));
/// let long = "x".repeat(100_000);
/// assert!(cohort_syntax::within_edits(&long, &format!("{long}y"), 1));
/// ```
pub fn within_edits(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_within(&a, &b, max).is_some()
}

/// The edit distance of [`edit_distance`] between `a` and `b` when it is at most `max`, else
/// `None`. Only cells within `max` of the diagonal are computed, and the computation stops as
/// soon as a whole row exceeds `max`.
fn distance_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let outside = max.saturating_add(1);
    // rows[i][j]: distance between a[..i] and b[..j] (capped at `outside`); three rows kept.
    let mut before: Vec<usize> = vec![outside; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| j.min(outside)).collect();
    let mut current: Vec<usize> = vec![outside; b.len() + 1];
    for i in 1..=a.len() {
        let low = i.saturating_sub(max).max(1);
        let high = (i + max).min(b.len());
        // Only the band and its two neighbours are ever read: reset just those, so a row
        // costs O(max), not O(b.len()) (this row still holds row i - 3's values elsewhere).
        let reset_to = (high + 1).min(b.len());
        if let Some(cells) = current.get_mut(low - 1..=reset_to) {
            cells.fill(outside);
        }
        if let Some(first) = current.first_mut() {
            *first = i.min(outside);
        }
        let mut row_min = current.first().copied().unwrap_or(outside);
        for j in low..=high {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(outside);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut best = (at(&previous, j) + 1)
                .min(at(&current, j - 1) + 1)
                .min(at(&previous, j - 1) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                best = best.min(at(&before, j - 2) + 1);
            }
            let best = best.min(outside);
            if let Some(cell) = current.get_mut(j) {
                *cell = best;
            }
            row_min = row_min.min(best);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous.get(b.len()).copied().filter(|&d| d <= max)
}

/// The candidate nearest to `input` (ignoring case), if it is close enough to be a likely typo:
/// at most a third of the input's length away, and at most 3 edits. The first of equally
/// near candidates wins.
///
/// Bounded for hostile input: an input of more than [`MAX_SUGGESTION_INPUT`] characters gets
/// no suggestion, and at most [`MAX_SUGGESTION_CANDIDATES`] candidates are compared, each in
/// time proportional to the input's length.
///
/// ```
/// let fields = ["Operating System", "Agent Version", "Last Seen"];
/// assert_eq!(cohort_syntax::nearest("Agent Verison", fields), Some("Agent Version"));
/// assert_eq!(cohort_syntax::nearest("Serial", fields), None);
/// ```
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if input.chars().nth(MAX_SUGGESTION_INPUT).is_some() {
        return None;
    }
    let input: Vec<char> = input.to_lowercase().chars().collect();
    let limit = (input.len() / 3).clamp(1, 3);
    // Candidates longer than this (once lowercased) are too far to be read in full.
    let longest = input.len() + limit;
    let mut lowered: Vec<char> = Vec::with_capacity(longest + 1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates.into_iter().take(MAX_SUGGESTION_CANDIDATES) {
        lowered.clear();
        lowered.extend(
            candidate
                .chars()
                .flat_map(char::to_lowercase)
                .take(longest + 1),
        );
        // Only strictly nearer candidates than the best so far can replace it.
        let max = best.map_or(limit, |(distance, _)| distance.saturating_sub(1));
        if best.is_some_and(|(distance, _)| distance == 0) {
            break;
        }
        if let Some(distance) = distance_within(&input, &lowered, max) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("équal", "equal"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("abc", "ca"), 3);
    }

    /// The banded distance agrees with a plain full-table computation whenever it answers,
    /// and answers exactly when the distance is within the bound.
    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        fn full(a: &[char], b: &[char]) -> usize {
            let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for (i, row) in d.iter_mut().enumerate() {
                row[0] = i;
            }
            for (j, cell) in d[0].iter_mut().enumerate() {
                *cell = j;
            }
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    let mut best = (d[i - 1][j] + 1)
                        .min(d[i][j - 1] + 1)
                        .min(d[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        best = best.min(d[i - 2][j - 2] + 1);
                    }
                    d[i][j] = best;
                }
            }
            d[a.len()][b.len()]
        }
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "ca",
            "kitten",
            "sitting",
            "equal",
            "équal",
            "Verison",
            "Version",
            "contains any of",
            "contans any of",
            "aaaa",
            "abab",
            "baba",
        ];
        for a in words {
            for b in words {
                let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let expected = full(&a, &b);
                for max in 0..6 {
                    let got = distance_within(&a, &b, max);
                    assert_eq!(
                        got,
                        (expected <= max).then_some(expected),
                        "{a:?} {b:?} {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn nearest_ignores_case_and_rejects_far_candidates() {
        assert_eq!(nearest("EQUAL", ["equal", "not equal"]), Some("equal"));
        assert_eq!(nearest("zzzzzzzz", ["equal", "not equal"]), None);
        assert_eq!(nearest("x", std::iter::empty()), None);
        assert_eq!(
            nearest("Agent Versoin", ["Agent Version", "Agent Versions"]),
            Some("Agent Version")
        );
        // The first of equally near candidates.
        assert_eq!(nearest("abcd", ["abce", "abcf"]), Some("abce"));
    }

    /// A 100,000-character input gets no suggestion (at once), even when a candidate equals it.
    #[test]
    fn long_inputs_get_no_suggestion() {
        let long = "a".repeat(100_000);
        assert_eq!(nearest(&long, [long.as_str(), "a"]), None);
        let just_over = "b".repeat(MAX_SUGGESTION_INPUT + 1);
        assert_eq!(nearest(&just_over, [just_over.as_str()]), None);
        let at_cap = "b".repeat(MAX_SUGGESTION_INPUT);
        assert_eq!(nearest(&at_cap, [at_cap.as_str()]), Some(at_cap.as_str()));
    }

    /// A 100,000-character candidate is read only as far as a near one could reach.
    #[test]
    fn long_candidates_are_skipped() {
        let long = format!("Agent Version{}", "x".repeat(100_000));
        assert_eq!(nearest("Agent Verison", [long.as_str()]), None);
        assert_eq!(
            nearest("Agent Verison", [long.as_str(), "Agent Version"]),
            Some("Agent Version")
        );
    }

    /// Only the first `MAX_SUGGESTION_CANDIDATES` candidates are compared.
    #[test]
    fn candidates_past_the_cap_are_not_compared() {
        let mut candidates = vec!["zzzzzzzzzz"; MAX_SUGGESTION_CANDIDATES];
        candidates.push("Agent Version");
        assert_eq!(nearest("Agent Verison", candidates.iter().copied()), None);
        candidates.insert(0, "Agent Version");
        assert_eq!(
            nearest("Agent Verison", candidates.iter().copied()),
            Some("Agent Version")
        );
    }
}
