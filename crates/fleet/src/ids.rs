//! Machine ids, end to end in one text.

use std::borrow::Cow;

/// The id of every machine of a fleet, in fleet order: one text holding them end to end and
/// where each ends, instead of a `String` per machine.
///
/// A machine without an id (the id field missing or null) reads as `#N`, its 1-based
/// position in the fleet.
///
/// ```
/// let mut ids = cohort_fleet::Ids::default();
/// ids.push(Some("WS-01"));
/// ids.push(None);
/// assert_eq!(ids.len(), 2);
/// assert_eq!(ids.get(0).as_deref(), Some("WS-01"));
/// assert_eq!(ids.get(1).as_deref(), Some("#2"));
/// assert_eq!(ids.position("WS-01"), Some(0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    text: String,
    /// Per machine: where its id ends in `text` (it starts where the previous one ends), with
    /// [`MISSING`] set when it has none.
    ends: Vec<u64>,
}

/// In [`Ids::ends`]: the machine has no id.
const MISSING: u64 = 1 << 63;

impl Ids {
    /// The number of machines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no machines.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends the id of the next machine (`None`: it has none).
    pub fn push(&mut self, id: Option<&str>) {
        match id {
            Some(id) => {
                self.text.push_str(id);
                self.ends.push(self.text.len() as u64);
            }
            None => self.ends.push(self.text.len() as u64 | MISSING),
        }
    }

    /// The id of the machine at `position`: its own, or `#N` when it has none.
    pub fn get(&self, position: usize) -> Option<Cow<'_, str>> {
        let end = *self.ends.get(position)?;
        if end & MISSING != 0 {
            return Some(Cow::Owned(format!("#{}", position + 1)));
        }
        let start = match position.checked_sub(1) {
            Some(previous) => self.ends.get(previous).map_or(0, |&e| e & !MISSING),
            None => 0,
        };
        self.text
            .get(start as usize..end as usize)
            .map(Cow::Borrowed)
    }

    /// The machine's own id: `None` when it has none (where [`Ids::get`] gives `#N`) or
    /// when there is no machine at `position`.
    ///
    /// ```
    /// let mut ids = cohort_fleet::Ids::default();
    /// ids.push(None);
    /// ids.push(Some("WS-02"));
    /// assert_eq!(ids.own(0), None);
    /// assert_eq!(ids.own(1), Some("WS-02"));
    /// ```
    pub fn own(&self, position: usize) -> Option<&str> {
        let end = *self.ends.get(position)?;
        if end & MISSING != 0 {
            return None;
        }
        let start = match position.checked_sub(1) {
            Some(previous) => self.ends.get(previous).map_or(0, |&e| e & !MISSING),
            None => 0,
        };
        self.text.get(start as usize..end as usize)
    }

    /// The position of the first machine whose id is `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        (0..self.len()).find(|&position| self.get(position).is_some_and(|own| own == id))
    }

    /// Every id, in fleet order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        (0..self.len()).filter_map(|position| self.get(position))
    }

    /// Appends the ids of `other` after these.
    pub fn append(&mut self, other: &Ids) {
        let base = self.text.len() as u64;
        self.text.push_str(&other.text);
        self.ends.extend(
            other
                .ends
                .iter()
                .map(|&end| (end & MISSING) | ((end & !MISSING) + base)),
        );
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_ids_keep_their_texts_and_positions() {
        let mut first = Ids::default();
        first.push(Some("a"));
        first.push(None);
        let mut second = Ids::default();
        second.push(Some(""));
        second.push(Some("bc"));
        second.push(None);
        first.append(&second);
        let all: Vec<String> = first.iter().map(Cow::into_owned).collect();
        assert_eq!(all, ["a", "#2", "", "bc", "#5"]);
        assert_eq!(first.get(5), None);
        assert_eq!(first.position("bc"), Some(3));
        assert_eq!(first.position("#2"), Some(1), "a missing id reads as #N");
    }
}
