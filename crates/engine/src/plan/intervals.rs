//! Every interval test on one number field decided at once.

/// Interval tests on one number field, decided together: the finite interval ends, sorted,
/// cut the number line into segments (each end alone, and the open gaps between ends) on
/// which every test is constant; each segment has the predicate bits that hold on it. A
/// number costs a binary search and an OR of one pattern, however many tests there are.
#[derive(Debug, Default)]
pub(super) struct IntervalTable {
    pub(super) ends: Vec<f64>,
    /// `2 * ends.len() + 1` patterns of `words` words: segment `2i` is the gap below
    /// `ends[i]`, segment `2i + 1` is `ends[i]` itself.
    pub(super) patterns: Vec<u64>,
    pub(super) words: usize,
    /// For whole numbers from `first_integer` on: their segment, looked up directly (counts,
    /// percentages, gigabytes are mostly whole). Empty when the ends span too wide a range.
    pub(super) integer_segments: Vec<u32>,
    pub(super) first_integer: i64,
}

/// The widest range of whole numbers [`IntervalTable`] looks up directly.
pub(super) const MAX_INTEGER_SEGMENTS: i64 = 4096;

impl IntervalTable {
    pub(super) fn new(intervals: &[(u32, f64, f64)], words: usize) -> IntervalTable {
        let mut ends: Vec<f64> = intervals
            .iter()
            .flat_map(|&(_, low, high)| [low, high])
            .filter(|end| end.is_finite())
            .collect();
        ends.sort_by(f64::total_cmp);
        ends.dedup_by(|a, b| a == b);
        let segments = 2 * ends.len() + 1;
        let mut patterns = vec![0u64; segments * words];
        for segment in 0..segments {
            let index = segment / 2;
            // The segment as [from, to] when it is an end, (from, to) when it is a gap.
            let (from, to) = if segment % 2 == 1 {
                let end = ends.get(index).copied().unwrap_or(f64::NAN);
                (end, end)
            } else {
                let below = index.checked_sub(1).and_then(|i| ends.get(i)).copied();
                (
                    below.unwrap_or(f64::NEG_INFINITY),
                    ends.get(index).copied().unwrap_or(f64::INFINITY),
                )
            };
            for &(predicate, low, high) in intervals {
                if low <= from
                    && to <= high
                    && let Some(word) = patterns.get_mut(segment * words + predicate as usize / 64)
                {
                    *word |= 1 << (predicate % 64);
                }
            }
        }
        let mut table = IntervalTable {
            ends,
            patterns,
            words: if intervals.is_empty() { 0 } else { words },
            integer_segments: Vec::new(),
            first_integer: 0,
        };
        // Whole numbers from one below the lowest end to one above the highest: below and
        // above that, the segment is the first or the last.
        if let (Some(&low), Some(&high)) = (table.ends.first(), table.ends.last()) {
            let first = (low.floor() as i64).saturating_sub(1);
            let last = (high.ceil() as i64).saturating_add(1);
            if last
                .checked_sub(first)
                .is_some_and(|span| span < MAX_INTEGER_SEGMENTS)
            {
                table.first_integer = first;
                table.integer_segments = (first..=last)
                    .map(|k| table.segment_of(k as f64) as u32)
                    .collect();
            }
        }
        table
    }

    /// Sets the bits of the tests that hold on `n` (not NaN).
    #[inline]
    /// The segment `n` (not NaN) lies in.
    pub(super) fn segment_of(&self, n: f64) -> usize {
        let index = self.ends.partition_point(|&end| end < n);
        if self.ends.get(index) == Some(&n) {
            2 * index + 1
        } else {
            2 * index
        }
    }

    pub(super) fn or_into(&self, n: f64, bits: &mut [u64]) {
        if self.words == 0 {
            return;
        }
        // A whole number (within a float's exact integers; `fract` would call libm's `trunc`
        // on the baseline x86_64 target) is looked up directly.
        let whole = n.abs() < 9_007_199_254_740_992.0 && (n as i64) as f64 == n;
        let direct = whole
            .then(|| (n as i64).checked_sub(self.first_integer))
            .flatten()
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| self.integer_segments.get(offset));
        let segment = match direct {
            Some(&segment) => segment as usize,
            None => self.segment_of(n),
        };
        let start = segment * self.words;
        if let Some(pattern) = self.patterns.get(start..start + self.words) {
            for (word, add) in bits.iter_mut().zip(pattern) {
                *word |= add;
            }
        }
    }
}

#[cfg(test)]
mod interval_tests {
    #![allow(clippy::unwrap_used)]

    use super::IntervalTable;

    /// The table answers what each interval says, for whole numbers (looked up directly),
    /// fractions, ends, numbers outside every end, and extremes.
    #[test]
    fn interval_tables_agree_with_the_intervals_they_hold() {
        let narrow = vec![
            (0u32, f64::NEG_INFINITY, 4.999_999_999_999_999),
            (1, 5.0, f64::INFINITY),
            (2, 8.0, 16.0),
            (3, -3.5, 2.25),
            (4, 10f64.next_up(), f64::INFINITY),
            (65, 100.0, 100.0),
        ];
        let mut wide = narrow.clone();
        wide.push((70, -1e300, 1e300));
        let mut numbers = vec![
            0.0,
            -0.0,
            4.0,
            5.0,
            4.5,
            7.0,
            8.0,
            16.0,
            16.5,
            17.0,
            -3.5,
            -4.0,
            2.25,
            2.0,
            10.0,
            11.0,
            100.0,
            99.0,
            101.0,
            -1e300,
            1e300,
            1e301,
            -1e301,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e18,
            -1e18,
            9.3e18,
            -9.3e18,
        ];
        numbers.extend((-10..120).map(f64::from));
        for (intervals, direct) in [(narrow, true), (wide, false)] {
            let table = IntervalTable::new(&intervals, 2);
            // Whole numbers are looked up directly when the ends span a narrow range.
            assert_eq!(!table.integer_segments.is_empty(), direct);
            for &n in &numbers {
                let mut bits = [0u64; 2];
                table.or_into(n, &mut bits);
                for &(bit, low, high) in &intervals {
                    let held = bits[bit as usize / 64] >> (bit % 64) & 1 == 1;
                    assert_eq!(held, low <= n && n <= high, "{n} in [{low}, {high}]");
                }
            }
        }
    }
}
