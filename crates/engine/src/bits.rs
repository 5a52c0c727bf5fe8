//! Sets of small numbers (predicates, groups, machines) as words of bits: bit `i` is bit
//! `i % 64` of word `i / 64`. The one place that says so; every executor uses these.

/// The number of words that hold `bits` bits.
#[inline]
pub(crate) fn words_for(bits: usize) -> usize {
    bits.div_ceil(64)
}

/// The word of bit `bit`, and the mask of the bit in it.
#[inline]
pub(crate) fn locate(bit: usize) -> (usize, u64) {
    (bit / 64, 1u64 << (bit % 64))
}

/// Whether bit `bit` is set (a bit past the words is not).
#[inline]
pub(crate) fn is_set(words: &[u64], bit: usize) -> bool {
    let (word, mask) = locate(bit);
    words.get(word).is_some_and(|w| w & mask != 0)
}

/// Sets bit `bit` when `value` is true (an or: a set bit stays set).
#[inline]
pub(crate) fn set_if(words: &mut [u64], bit: usize, value: bool) {
    if let Some(word) = words.get_mut(bit / 64) {
        *word |= u64::from(value) << (bit % 64);
    }
}

/// Sets or clears bit `bit`.
#[inline]
pub(crate) fn write(words: &mut [u64], bit: usize, value: bool) {
    let (word, mask) = locate(bit);
    if let Some(word) = words.get_mut(word) {
        if value {
            *word |= mask;
        } else {
            *word &= !mask;
        }
    }
}

/// The positions of the set bits of `words`, in increasing order.
pub(crate) fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(index, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(index * 64 + bit)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_words() {
        let mut words = vec![0u64; words_for(130)];
        assert_eq!(words.len(), 3);
        for bit in [0, 63, 64, 129] {
            set_if(&mut words, bit, true);
        }
        set_if(&mut words, 5, false);
        assert_eq!(set_bits(&words).collect::<Vec<_>>(), [0, 63, 64, 129]);
        write(&mut words, 63, false);
        assert!(!is_set(&words, 63) && is_set(&words, 64));
        assert!(!is_set(&words, 10_000), "a bit past the words is not set");
        write(&mut words, 10_000, true);
        assert_eq!(set_bits(&words).count(), 3);
    }
}
