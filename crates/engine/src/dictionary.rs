//! A column's dictionary: each distinct value of one field, stored once (or, in a plain
//! column, each value as it came).
//!
//! Texts are laid end to end in one arena per dictionary (a value is a span of it), so
//! storing a distinct value allocates nothing of its own and dropping a dictionary frees a
//! handful of buffers, not one per value; lists are owned copies cut at
//! [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH). An [`Interner`] gives each value its code (0
//! stands for "missing") through a hash table of codes keyed by a random-seeded hash, and
//! merges the interner of a chunk filled on another thread. What predicates need besides the
//! raw value (its folded text, the number and date it reads as) is prepared once, when a
//! column is finished ([`Prepared`]), for the distinct values that survived merging, on
//! every core.

use crate::machine::{Attr, AttrList, OwnedAttr};
use crate::matcher::{Parsed, ValueView};

/// One distinct value; texts and lists live in the [`Dictionary`] that holds the entry.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Null,
    Bool(bool),
    Number(f64),
    /// Bytes `start..start + len` of the dictionary's text arena (16 bytes an entry: a text
    /// of 4 GiB or more is a [`Entry::LongText`]).
    Text {
        len: u32,
        start: usize,
    },
    /// The dictionary's long text span at this index.
    LongText(usize),
    /// The dictionary's list at this index.
    List(usize),
    Opaque,
}

/// The distinct values of one field, by code. Code 0 is "missing" (stored as a null that no
/// machine's value is compared with).
#[derive(Debug)]
pub(crate) struct Dictionary {
    entries: Vec<Entry>,
    text: String,
    /// The spans of [`Entry::LongText`]s in `text`.
    long_texts: Vec<std::ops::Range<usize>>,
    lists: Vec<Vec<OwnedAttr>>,
    /// The texts of the lists' elements, while values are added.
    elements: ElementTexts,
}

impl Dictionary {
    fn new() -> Dictionary {
        Dictionary {
            entries: vec![Entry::Null],
            text: String::new(),
            long_texts: Vec::new(),
            lists: Vec::new(),
            elements: ElementTexts::default(),
        }
    }

    /// The number of codes, "missing" included.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether some value is a list.
    pub(crate) fn has_lists(&self) -> bool {
        !self.lists.is_empty()
    }

    /// The value of `code` as an attribute (code 0 reads as null).
    pub(crate) fn attr(&self, code: usize) -> Option<Attr<'_>> {
        Some(match *self.entries.get(code)? {
            Entry::Null => Attr::Null,
            Entry::Bool(b) => Attr::Bool(b),
            Entry::Number(n) => Attr::Number(n),
            Entry::Text { .. } | Entry::LongText(_) => Attr::Text(self.text(code)?),
            Entry::List(index) => Attr::List(self.lists.get(index)?),
            Entry::Opaque => Attr::Opaque,
        })
    }

    /// The text of `code`, when it is a text.
    pub(crate) fn text(&self, code: usize) -> Option<&str> {
        match *self.entries.get(code)? {
            Entry::Text { len, start } => self.text.get(start..start + len as usize),
            Entry::LongText(index) => self.text.get(self.long_texts.get(index)?.clone()),
            _ => None,
        }
    }

    /// The elements of `code`, when it is a list.
    pub(crate) fn list(&self, code: usize) -> Option<&[OwnedAttr]> {
        match *self.entries.get(code)? {
            Entry::List(index) => self.lists.get(index).map(Vec::as_slice),
            _ => None,
        }
    }

    /// Whether `code` is the value `attr` (numbers by bits, as codes are given).
    fn is(&self, code: usize, attr: Attr<'_>) -> bool {
        match (self.entries.get(code), attr) {
            (Some(Entry::Null), Attr::Null) | (Some(Entry::Opaque), Attr::Opaque) => true,
            (Some(Entry::Bool(a)), Attr::Bool(b)) => *a == b,
            (Some(Entry::Number(a)), Attr::Number(b)) => a.to_bits() == b.to_bits(),
            (Some(Entry::Text { .. } | Entry::LongText(_)), Attr::Text(b)) => {
                self.text(code) == Some(b)
            }
            (Some(Entry::List(index)), Attr::List(_)) => self
                .lists
                .get(*index)
                .is_some_and(|items| OwnedAttr::list_is(items, attr, 0)),
            _ => false,
        }
    }

    /// Whether `code` here and `other_code` in `other` are one value.
    fn same(&self, code: usize, other: &Dictionary, other_code: usize) -> bool {
        match (self.entries.get(code), other.entries.get(other_code)) {
            (
                Some(Entry::Text { .. } | Entry::LongText(_)),
                Some(Entry::Text { .. } | Entry::LongText(_)),
            ) => self.text(code) == other.text(other_code),
            (Some(Entry::List(a)), Some(Entry::List(b))) => {
                match (self.lists.get(*a), other.lists.get(*b)) {
                    (Some(a), Some(b)) => {
                        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
                    }
                    _ => false,
                }
            }
            (Some(_), Some(_)) => other
                .attr(other_code)
                .is_some_and(|attr| self.is(code, attr)),
            _ => false,
        }
    }

    /// Stores a copy of `attr` (cut at the list depth) under the next code.
    fn push(&mut self, attr: Attr<'_>) {
        let entry = match attr {
            Attr::Null => Entry::Null,
            Attr::Bool(b) => Entry::Bool(b),
            Attr::Number(n) => Entry::Number(n),
            Attr::Text(text) => self.push_text(text),
            Attr::List(list) => {
                let elements = &mut self.elements;
                let items = list
                    .iter()
                    .map(|item| OwnedAttr::at_with(item, 1, &mut |text| elements.get(text)))
                    .collect();
                self.lists.push(items);
                Entry::List(self.lists.len() - 1)
            }
            Attr::Opaque => Entry::Opaque,
        };
        self.entries.push(entry);
    }

    /// Moves the value of `code` in `other` here, under the next code (a list is taken out
    /// of `other`, a text copied).
    fn push_from(&mut self, other: &mut Dictionary, code: usize) {
        // `code` is a code of `other`.
        let entry = match other.entries[code] {
            Entry::Text { .. } | Entry::LongText(_) => {
                self.push_text(other.text(code).unwrap_or_default())
            }
            Entry::List(index) => {
                let items = std::mem::take(&mut other.lists[index]);
                self.lists.push(items);
                Entry::List(self.lists.len() - 1)
            }
            entry => entry,
        };
        self.entries.push(entry);
    }

    /// Copies `text` to the end of the arena: its entry.
    fn push_text(&mut self, text: &str) -> Entry {
        let start = self.text.len();
        self.text.push_str(text);
        match u32::try_from(text.len()) {
            Ok(len) => Entry::Text { len, start },
            Err(_) => {
                self.long_texts.push(start..self.text.len());
                Entry::LongText(self.long_texts.len() - 1)
            }
        }
    }

    /// Moves every value of `other` (but its "missing") here, in order, under the next
    /// codes; returns the code its code 1 now has.
    fn append(&mut self, other: Dictionary) -> u32 {
        let first = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let (text_base, list_base, long_base) =
            (self.text.len(), self.lists.len(), self.long_texts.len());
        self.text.push_str(&other.text);
        self.lists.extend(other.lists);
        self.long_texts.extend(
            other
                .long_texts
                .into_iter()
                .map(|span| span.start + text_base..span.end + text_base),
        );
        self.entries
            .extend(other.entries.iter().skip(1).map(|&entry| match entry {
                Entry::Text { len, start } => Entry::Text {
                    len,
                    start: start + text_base,
                },
                Entry::LongText(index) => Entry::LongText(index + long_base),
                Entry::List(index) => Entry::List(index + list_base),
                entry => entry,
            }));
        first
    }

    /// Heap bytes: entries, text and lists.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.text.capacity()
            + self.long_texts.capacity() * std::mem::size_of::<std::ops::Range<usize>>()
            + self.lists.capacity() * std::mem::size_of::<Vec<OwnedAttr>>()
            + self
                .lists
                .iter()
                .flatten()
                .map(OwnedAttr::heap_bytes)
                .sum::<usize>()
    }
}

/// A value's hash, for dictionary encoding without copying the value (lists read
/// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep, as everywhere). The hasher is seeded at
/// random for each store, so values an endpoint chose cannot be made to collide on purpose;
/// equal hashes are told apart by comparing the values. A list's hash is made of its length
/// and its elements' own hashes ([`hash_at`] one level deeper), so a reader that has hashed
/// the elements of a list column once ([`Interner::code_of_list`]) hashes each list from them.
pub(crate) fn hash_of(attr: Attr<'_>, state: &foldhash::fast::RandomState) -> u64 {
    hash_at(attr, 0, state)
}

/// The hash of `attr` read `depth` lists deep.
pub(crate) fn hash_at(attr: Attr<'_>, depth: usize, state: &foldhash::fast::RandomState) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = state.build_hasher();
    match attr.at_depth(depth) {
        Attr::Null => 0u8.hash(&mut hasher),
        Attr::Bool(b) => (1u8, b).hash(&mut hasher),
        Attr::Number(n) => (2u8, n.to_bits()).hash(&mut hasher),
        Attr::Text(t) => (3u8, t).hash(&mut hasher),
        Attr::List(list) => {
            (4u8, list.len()).hash(&mut hasher);
            for element in list.iter() {
                hasher.write_u64(hash_at(element, depth + 1, state));
            }
        }
        Attr::Opaque => 5u8.hash(&mut hasher),
    }
    hasher.finish()
}

/// The hash of a list (at depth 0) whose elements have the hashes `element_hashes` (each
/// [`hash_at`] depth 1): what [`hash_of`] gives for that list.
fn list_hash(element_hashes: &[u64], state: &foldhash::fast::RandomState) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = state.build_hasher();
    (4u8, element_hashes.len()).hash(&mut hasher);
    for &hash in element_hashes {
        hasher.write_u64(hash);
    }
    hasher.finish()
}

/// A list given as a slice of its elements.
struct SliceList<'s, 'v>(&'s [Attr<'v>]);

impl AttrList for SliceList<'_, '_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.0.get(index).copied()
    }
}

/// The texts of list elements stored in one dictionary, each once: lists that share an
/// element share its text.
#[derive(Debug, Default)]
struct ElementTexts {
    state: foldhash::fast::RandomState,
    texts: hashbrown::HashTable<std::sync::Arc<str>>,
}

impl ElementTexts {
    fn get(&mut self, text: &str) -> std::sync::Arc<str> {
        use std::hash::BuildHasher;
        let state = &self.state;
        let hash = state.hash_one(text);
        match self
            .texts
            .entry(hash, |t| **t == *text, |t| state.hash_one(&**t))
        {
            hashbrown::hash_table::Entry::Occupied(entry) => entry.get().clone(),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let shared: std::sync::Arc<str> = text.into();
                entry.insert(shared.clone());
                shared
            }
        }
    }
}

/// A dictionary that gives each distinct value a code as values arrive: a hash table of
/// codes (the values themselves are in the dictionary, so nothing is allocated per value but
/// its text, and nothing is freed one by one when it is dropped).
///
/// A column whose values are nearly all different (host names, serial numbers) is not worth
/// the table: its interner is made *plain* ([`Interner::become_plain`], when the store judges
/// the column) and stores each value as it comes, under a code of its own, without looking
/// for an equal one (a lookup in a table as large as the column is a cache miss that finds
/// nothing). A value repeated in a plain column then has several codes; every executor reads
/// a code's value, never compares codes, so the answers are the same.
#[derive(Debug)]
pub(crate) struct Interner {
    /// `(hash, code)` of every distinct value (empty once plain).
    index: hashbrown::HashTable<(u64, u32)>,
    dictionary: Dictionary,
    plain: bool,
}

impl Interner {
    pub(crate) fn new() -> Interner {
        Interner {
            index: hashbrown::HashTable::new(),
            dictionary: Dictionary::new(),
            plain: false,
        }
    }

    /// Whether values are stored without looking for an equal one (see [`Interner`]).
    #[cfg(test)]
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// From now on, values are stored as they come.
    pub(crate) fn become_plain(&mut self) {
        self.plain = true;
        self.index = hashbrown::HashTable::new();
    }

    /// The number of codes, "missing" included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.dictionary.len()
    }

    /// The number of distinct values.
    pub(crate) fn distinct(&self) -> usize {
        self.dictionary.len() - 1
    }

    /// The number of distinct values that are not lists.
    pub(crate) fn distinct_scalars(&self) -> usize {
        self.distinct() - self.dictionary.lists.len()
    }

    /// The code of `attr`: the code of an equal value given before (hashed with `state`),
    /// or a new one under which `attr` is copied in.
    pub(crate) fn code_of(&mut self, attr: Attr<'_>, state: &foldhash::fast::RandomState) -> u32 {
        if self.plain {
            return self.push(attr);
        }
        self.code_hashed(attr, hash_of(attr, state))
    }

    /// The code of the list whose elements are `elements`, given their hashes
    /// ([`hash_at`] depth 1, one per element): [`Interner::code_of`] of that list, without
    /// hashing the elements again.
    pub(crate) fn code_of_list(
        &mut self,
        elements: &[Attr<'_>],
        element_hashes: &[u64],
        state: &foldhash::fast::RandomState,
    ) -> u32 {
        debug_assert_eq!(elements.len(), element_hashes.len());
        let list = Attr::List(&SliceList(elements));
        if self.plain {
            return self.push(list);
        }
        // The elements compared as the slice they are (not through `AttrList`).
        self.code_hashed_by(
            list,
            list_hash(element_hashes, state),
            |dictionary, code| {
                dictionary
                    .list(code)
                    .is_some_and(|items| OwnedAttr::elements_are(items, elements))
            },
        )
    }

    /// Stores `attr` under the next code.
    fn push(&mut self, attr: Attr<'_>) -> u32 {
        let code = u32::try_from(self.dictionary.len()).unwrap_or(u32::MAX);
        self.dictionary.push(attr);
        code
    }

    /// [`Interner::code_of`] with the hash given.
    fn code_hashed(&mut self, attr: Attr<'_>, hash: u64) -> u32 {
        self.code_hashed_by(attr, hash, |dictionary, code| dictionary.is(code, attr))
    }

    /// The code of a value given before that `holds(dictionary, code)` says is `attr` (whose
    /// hash is `hash`), or a new one under which `attr` is copied in; in a plain interner
    /// always a new one.
    fn code_hashed_by(
        &mut self,
        attr: Attr<'_>,
        hash: u64,
        holds: impl Fn(&Dictionary, usize) -> bool,
    ) -> u32 {
        if self.plain {
            return self.push(attr);
        }
        let dictionary = &self.dictionary;
        let found = self
            .index
            // The whole hash first: told apart in the table, without reading the values.
            .find(hash, |&(known, code)| {
                known == hash && holds(dictionary, code as usize)
            });
        if let Some(&(_, code)) = found {
            return code;
        }
        let code = self.push(attr);
        self.index
            .insert_unique(hash, (hash, code), |&(hash, _)| hash);
        code
    }

    /// Moves every value of `other` in (those not here yet get the next codes, in order) and
    /// returns, for each code of `other`, its code here (0 stays 0). `hashes_agree` says
    /// that `other` hashed with `state` too, so its hashes are reused.
    pub(crate) fn absorb(
        &mut self,
        other: Interner,
        hashes_agree: bool,
        state: &foldhash::fast::RandomState,
    ) -> Vec<u32> {
        if self.plain || other.plain {
            // Nearly unique on one side: the values are moved in whole, each under a code of
            // its own.
            self.become_plain();
            let count = other.dictionary.len() as u32 - 1;
            let first = self.dictionary.append(other.dictionary);
            return std::iter::once(0)
                .chain((0..count).map(|offset| first + offset))
                .collect();
        }
        let Interner {
            index: other_index,
            dictionary: mut other_dictionary,
            ..
        } = other;
        let mut hashes = vec![0u64; other_dictionary.len()];
        if hashes_agree {
            for &(hash, code) in other_index.iter() {
                if let Some(slot) = hashes.get_mut(code as usize) {
                    *slot = hash;
                }
            }
        } else {
            for (code, slot) in hashes.iter_mut().enumerate().skip(1) {
                if let Some(attr) = other_dictionary.attr(code) {
                    *slot = hash_of(attr, state);
                }
            }
        }
        drop(other_index);
        let mut remap = Vec::with_capacity(hashes.len());
        remap.push(0);
        for (code, &hash) in hashes.iter().enumerate().skip(1) {
            let dictionary = &self.dictionary;
            let found = self
                .index
                .find(hash, |&(known, existing)| {
                    known == hash && dictionary.same(existing as usize, &other_dictionary, code)
                })
                .map(|&(_, existing)| existing);
            let global = match found {
                Some(existing) => existing,
                None => {
                    let global = u32::try_from(self.dictionary.len()).unwrap_or(u32::MAX);
                    self.index
                        .insert_unique(hash, (hash, global), |&(hash, _)| hash);
                    self.dictionary.push_from(&mut other_dictionary, code);
                    global
                }
            };
            remap.push(global);
        }
        remap
    }

    /// The dictionary, its codes final.
    pub(crate) fn into_dictionary(self) -> Dictionary {
        let mut dictionary = self.dictionary;
        // The lists keep their elements' texts; the table that shared them out is done.
        dictionary.elements = ElementTexts::default();
        // Grown by doubling (a large one in place, by the allocator's remapping).
        dictionary.entries.shrink_to_fit();
        dictionary.text.shrink_to_fit();
        dictionary
    }
}

/// What predicates read of each text value besides the text: its folded form and the number
/// and date it reads as, prepared once per distinct value.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// The folded texts end to end.
    folded: String,
    /// Per code: where its folded text ends (it starts where the previous code's ends; codes
    /// that are not texts have an empty span).
    folded_ends: Vec<usize>,
    /// Per code: what its text reads as (nothing for codes that are not texts).
    parsed: Vec<Parsed>,
}

/// Which forms the predicates on a column read (see [`Prepared`]): the others are not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Some predicate compares the text without case.
    pub(crate) folded: bool,
    /// Some predicate reads the text as a number or a date.
    pub(crate) parsed: bool,
}

impl Needs {
    /// Every form.
    #[cfg(test)]
    pub(crate) const ALL: Needs = Needs {
        folded: true,
        parsed: true,
    };
}

/// Below this many codes, a dictionary is prepared on the calling thread.
const PREPARE_PARALLEL_MIN: usize = 1 << 14;

impl Prepared {
    /// Prepares every value of `dictionary`, on up to `threads` threads: the forms `needs`
    /// names (a form not made reads as absent, and a predicate then makes it itself).
    pub(crate) fn of(dictionary: &Dictionary, threads: usize, needs: Needs) -> Prepared {
        if !needs.folded && !needs.parsed {
            return Prepared::default();
        }
        let codes = dictionary.len();
        let threads = if codes < PREPARE_PARALLEL_MIN {
            1
        } else {
            threads.max(1)
        };
        let part = |range: std::ops::Range<usize>| {
            let mut folded = String::new();
            let mut ends = Vec::with_capacity(if needs.folded { range.len() } else { 0 });
            let mut parsed = Vec::with_capacity(if needs.parsed { range.len() } else { 0 });
            for code in range {
                let text = dictionary.text(code);
                if needs.folded {
                    if let Some(text) = text {
                        crate::matcher::fold_case_into(text, &mut folded);
                    }
                    ends.push(folded.len());
                }
                if needs.parsed {
                    parsed.push(text.map_or(Parsed::NOTHING, Parsed::of));
                }
            }
            (folded, ends, parsed)
        };
        if threads == 1 {
            let (mut folded, folded_ends, parsed) = part(0..codes);
            // Grown by doubling: keep only what it holds, as the parts joined below do.
            folded.shrink_to_fit();
            return Prepared {
                folded,
                folded_ends,
                parsed,
            };
        }
        let per_thread = codes.div_ceil(threads);
        let parts: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let start = (thread * per_thread).min(codes);
                    let end = (start + per_thread).min(codes);
                    let part = &part;
                    scope.spawn(move || part(start..end))
                })
                .collect();
            handles
                .into_iter()
                // A panic in a worker is a bug: re-raise it.
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut prepared = Prepared {
            folded: String::with_capacity(parts.iter().map(|(f, _, _)| f.len()).sum()),
            folded_ends: Vec::with_capacity(if needs.folded { codes } else { 0 }),
            parsed: Vec::with_capacity(if needs.parsed { codes } else { 0 }),
        };
        for (folded, ends, parsed) in parts {
            let offset = prepared.folded.len();
            prepared.folded.push_str(&folded);
            prepared
                .folded_ends
                .extend(ends.into_iter().map(|end| end + offset));
            prepared.parsed.extend(parsed);
        }
        prepared
    }

    /// The folded text of `code`, when it is a text.
    fn folded(&self, code: usize) -> Option<&str> {
        let end = *self.folded_ends.get(code)?;
        let start = match code.checked_sub(1) {
            Some(previous) => *self.folded_ends.get(previous)?,
            None => 0,
        };
        self.folded.get(start..end)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.folded.capacity()
            + self.folded_ends.capacity() * std::mem::size_of::<usize>()
            + self.parsed.capacity() * std::mem::size_of::<Parsed>()
    }
}

impl<'c> ValueView<'c> {
    /// The value of `code` (`None` for code 0, "missing").
    pub(crate) fn of(
        dictionary: &'c Dictionary,
        prepared: &'c Prepared,
        code: usize,
    ) -> Option<ValueView<'c>> {
        if code == 0 {
            return None;
        }
        let attr = dictionary.attr(code)?;
        let text = dictionary.text(code);
        Some(ValueView {
            attr,
            text,
            folded: text.and(prepared.folded(code)),
            parsed: text.and(prepared.parsed.get(code).copied()),
        })
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn list(value: &serde_json::Value) -> Attr<'_> {
        match value {
            serde_json::Value::Array(items) => Attr::List(items),
            _ => Attr::Null,
        }
    }

    /// Lists that differ only deeper than `MAX_LIST_DEPTH` are one dictionary value (they
    /// read the same), whose stored copy is cut at that depth; hashing and comparing agree on
    /// it.
    #[test]
    fn lists_differing_only_past_the_depth_share_one_cut_entry() {
        let nested = |depth: usize, leaf: &str| {
            let mut value = json!(leaf);
            for _ in 0..depth {
                value = serde_json::Value::Array(vec![value]);
            }
            value
        };
        let depth = crate::MAX_LIST_DEPTH + 3;
        let (a, b, c) = (nested(depth, "a"), nested(depth, "b"), nested(5, "a"));
        let state = foldhash::fast::RandomState::default();
        assert_eq!(hash_of(list(&a), &state), hash_of(list(&b), &state));
        assert_ne!(hash_of(list(&a), &state), hash_of(list(&c), &state));
        let mut interner = Interner::new();
        let code_a = interner.code_of(list(&a), &state);
        assert_eq!(interner.code_of(list(&b), &state), code_a);
        assert_ne!(interner.code_of(list(&c), &state), code_a);
        let dictionary = interner.into_dictionary();
        let mut levels = 1;
        let mut at = dictionary.list(code_a as usize).unwrap().first().unwrap();
        while let OwnedAttr::List(items) = at {
            levels += 1;
            at = &items[0];
        }
        assert_eq!(levels, crate::MAX_LIST_DEPTH);
        assert!(matches!(at, OwnedAttr::Opaque));
    }

    /// A plain interner gives each value a code of its own, repeated or not, and every code
    /// reads back as its value; merging a plain interner into one that is not makes it
    /// plain, and keeps every value.
    #[test]
    fn a_plain_interner_stores_values_as_they_come() {
        let state = foldhash::fast::RandomState::default();
        let name = |i: u32| format!("host-{i}");
        let mut store = Interner::new();
        let early = store.code_of(Attr::Text("early"), &state);
        assert_eq!(store.code_of(Attr::Text("early"), &state), early);
        let mut chunk = Interner::new();
        let mut given = vec![(chunk.code_of(Attr::Text(&name(0)), &state), name(0))];
        assert_eq!(chunk.code_of(Attr::Text(&name(0)), &state), given[0].0);
        chunk.become_plain();
        for i in 0..100 {
            given.push((chunk.code_of(Attr::Text(&name(i)), &state), name(i)));
        }
        assert_ne!(given[1].0, given[0].0, "a repeat is not looked up");
        let list = [Attr::Text("a")];
        let lists = (
            chunk.code_of_list(&list, &[hash_at(list[0], 1, &state)], &state),
            chunk.code_of_list(&list, &[hash_at(list[0], 1, &state)], &state),
        );
        assert_ne!(lists.0, lists.1);
        let remap = store.absorb(chunk, true, &state);
        assert!(store.is_plain());
        let dictionary = store.into_dictionary();
        assert_eq!(dictionary.text(early as usize), Some("early"));
        for (code, text) in &given {
            let code = remap[*code as usize] as usize;
            assert_eq!(dictionary.text(code), Some(text.as_str()));
        }
        for code in [lists.0, lists.1] {
            let items = dictionary.list(remap[code as usize] as usize).unwrap();
            assert!(OwnedAttr::elements_are(items, &list));
        }
    }

    /// An entry is 16 bytes: a dictionary of a million texts holds 16 MB of them.
    #[test]
    fn entries_are_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    /// Two values with one hash (forced here; a random-seeded hash makes it rare in
    /// practice) still get codes of their own.
    #[test]
    fn values_whose_hashes_collide_keep_codes_of_their_own() {
        let mut interner = Interner::new();
        let windows = interner.code_hashed(Attr::Text("Windows"), 7);
        let linux = interner.code_hashed(Attr::Text("Linux"), 7);
        assert_ne!(windows, linux);
        assert_eq!(interner.code_hashed(Attr::Text("Linux"), 7), linux);
        assert_eq!(interner.code_hashed(Attr::Text("Windows"), 7), windows);
        assert_eq!(interner.len(), 3, "missing, Windows, Linux");
    }

    /// Every kind of value is told apart from every other by the interner, by hash and by
    /// comparison, and merging interners keeps them apart.
    #[test]
    fn interned_values_know_the_attributes_they_copy() {
        let items = vec![crate::Value::from("a"), crate::Value::from(1.0)];
        let attrs = [
            Attr::Null,
            Attr::Bool(true),
            Attr::Number(-0.0),
            Attr::Number(0.0),
            Attr::Text("x"),
            Attr::Text(""),
            Attr::List(&items),
            Attr::Opaque,
        ];
        let state = foldhash::fast::RandomState::default();
        for (i, a) in attrs.iter().enumerate() {
            for (j, b) in attrs.iter().enumerate() {
                assert_eq!(
                    hash_of(*a, &state) == hash_of(*b, &state),
                    i == j,
                    "{a:?} against {b:?}"
                );
                let mut interner = Interner::new();
                let code = interner.code_hashed(*a, 1);
                assert_eq!(interner.dictionary.is(code as usize, *b), i == j);
            }
        }
        let mut whole = Interner::new();
        let codes: Vec<u32> = attrs.iter().map(|a| whole.code_of(*a, &state)).collect();
        assert_eq!(codes, (1..=attrs.len() as u32).collect::<Vec<_>>());
        let mut merged = Interner::new();
        let mut part = Interner::new();
        for a in attrs.iter().rev() {
            part.code_of(*a, &state);
        }
        let remap = merged.absorb(part, true, &state);
        assert_eq!(remap.len(), attrs.len() + 1);
        for (a, code) in attrs.iter().rev().zip(remap.iter().skip(1)) {
            assert!(merged.dictionary.is(*code as usize, *a), "{a:?}");
        }
    }

    /// A list hashed from its elements' hashes is the list `hash_of` hashes, so a list given
    /// as a range of elements gets the code of the same list given whole; its elements'
    /// texts are stored once for all the lists holding them.
    #[test]
    fn lists_from_element_hashes_are_the_lists_given_whole() {
        let state = foldhash::fast::RandomState::default();
        let nested = vec![crate::Value::from("b")];
        let elements = [
            Attr::Text("Slack"),
            Attr::Null,
            Attr::Number(2.0),
            Attr::List(&nested),
            Attr::Bool(false),
        ];
        let whole: Vec<crate::Value> = vec![
            "Slack".into(),
            crate::Value::Null,
            2.0.into(),
            crate::Value::List(vec!["b".into()]),
            false.into(),
        ];
        let hashes: Vec<u64> = elements.iter().map(|&e| hash_at(e, 1, &state)).collect();
        assert_eq!(
            list_hash(&hashes, &state),
            hash_of(Attr::List(&whole), &state)
        );
        let mut interner = Interner::new();
        let code = interner.code_of_list(&elements, &hashes, &state);
        assert_eq!(interner.code_of(Attr::List(&whole), &state), code);
        assert_ne!(
            interner.code_of_list(&elements[..4], &hashes[..4], &state),
            code
        );
        let again = vec![crate::Value::from("Slack")];
        let other = interner.code_of(Attr::List(&again), &state);
        let dictionary = interner.into_dictionary();
        let (Some(OwnedAttr::Text(a)), Some(OwnedAttr::Text(b))) = (
            dictionary
                .list(code as usize)
                .and_then(<[OwnedAttr]>::first),
            dictionary
                .list(other as usize)
                .and_then(<[OwnedAttr]>::first),
        ) else {
            panic!("lists of texts");
        };
        assert!(std::sync::Arc::ptr_eq(a, b), "one text for both lists");
    }

    /// Prepared forms are the same on one thread and on several.
    #[test]
    fn prepared_forms_do_not_depend_on_threads() {
        let mut interner = Interner::new();
        let state = foldhash::fast::RandomState::default();
        let texts: Vec<String> = (0..PREPARE_PARALLEL_MIN + 5)
            .map(|i| match i % 3 {
                0 => format!("HOST-{i}"),
                1 => format!("2026-01-{:02}T00:00:00Z", 1 + i % 28),
                _ => format!("{i}.5"),
            })
            .collect();
        for text in &texts {
            interner.code_of(Attr::Text(text), &state);
        }
        interner.code_of(Attr::Number(3.0), &state);
        let dictionary = interner.into_dictionary();
        let one = Prepared::of(&dictionary, 1, Needs::ALL);
        let three = Prepared::of(&dictionary, 3, Needs::ALL);
        assert_eq!(one.folded, three.folded);
        assert_eq!(one.folded_ends, three.folded_ends);
        for code in 0..dictionary.len() {
            let (a, b) = (
                ValueView::of(&dictionary, &one, code),
                ValueView::of(&dictionary, &three, code),
            );
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        let host = ValueView::of(&dictionary, &one, 1).unwrap();
        assert_eq!((host.text, host.folded), (Some("HOST-0"), Some("host-0")));
        let last = ValueView::of(&dictionary, &one, dictionary.len() - 1).unwrap();
        assert!(last.folded.is_none() && last.parsed.is_none());
    }
}
