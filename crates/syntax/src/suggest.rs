//! "Did you mean" suggestions: the nearest candidate by edit distance.

/// Levenshtein distance between two strings, counted in `char`s.
///
/// ```
/// assert_eq!(cohort_syntax::edit_distance("contans any of", "contains any of"), 1);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
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
    }

    #[test]
    fn nearest_ignores_case_and_rejects_far_candidates() {
        assert_eq!(nearest("EQUAL", ["equal", "not equal"]), Some("equal"));
        assert_eq!(nearest("zzzzzzzz", ["equal", "not equal"]), None);
        assert_eq!(nearest("x", std::iter::empty()), None);
    }
}
