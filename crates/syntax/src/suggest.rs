//! "Did you mean" suggestions: the nearest candidate by edit distance.

/// Edit distance between two strings, counted in `char`s: insertions, deletions,
/// substitutions and transpositions of neighbours each count one (optimal string alignment),
/// so the common typo `Verison` is one edit from `Version`.
///
/// ```
/// assert_eq!(cohort_syntax::edit_distance("contans any of", "contains any of"), 1);
/// assert_eq!(cohort_syntax::edit_distance("Agent Verison", "Agent Version"), 1);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows are kept.
    let mut before: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

/// The candidate nearest to `input` (ignoring case), if it is close enough to be a likely typo:
/// at most a third of the input's length away, and at most 3 edits.
///
/// ```
/// let fields = ["Operating System", "Agent Version", "Last Seen"];
/// assert_eq!(cohort_syntax::nearest("Agent Verison", fields), Some("Agent Version"));
/// assert_eq!(cohort_syntax::nearest("Serial", fields), None);
/// ```
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_lowercase();
    let limit = (input.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&input, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
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

    #[test]
    fn nearest_ignores_case_and_rejects_far_candidates() {
        assert_eq!(nearest("EQUAL", ["equal", "not equal"]), Some("equal"));
        assert_eq!(nearest("zzzzzzzz", ["equal", "not equal"]), None);
        assert_eq!(nearest("x", std::iter::empty()), None);
    }
}
