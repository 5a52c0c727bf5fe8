//! The live tracker's storage: machine ids and field values, dictionary-encoded, changed in
//! place.
//!
//! Ids are laid end to end in one [`TextArena`] and found through a table of slot numbers
//! keyed by the id's hash ([`MachineIds`]). Each field the plan reads is a [`FieldColumn`]:
//! every distinct value stored once, or in a plain column each slot's value under a code of
//! its own (one word per entry: flags inline, texts in an arena,
//! numbers and lists beside, each list packed in two allocations), and each machine's slot
//! holds a small code (`u8`, `u16` or `u32`, widened when the dictionary outgrows it). Codes are counted by the machines holding them:
//! a value no machine holds any more is dropped at once and its code reused, and an arena is
//! rewritten when its dead texts outweigh its live ones, so a stream of ever-new values
//! costs no more than the values held at the time.
//!
//! Hashes are seeded at random for each table (ids and values come from endpoints, which may
//! be hostile); a value is always compared in full after its hash matches.

use crate::machine::{Attr, AttrList};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash, Hasher};

/// Texts laid end to end in one `String`, each after its length. A text is named by the
/// offset of its length. The length is written in ASCII bytes (six bits each, the next bit
/// saying that another byte follows), so the arena stays valid UTF-8 and every text slices
/// out on character boundaries; texts under 64 bytes take one byte more.
///
/// Released texts stay where they are, counted as dead, until [`TextArena::compact`] moves
/// the live ones into a new arena.
#[derive(Debug, Default)]
pub(crate) struct TextArena {
    text: String,
    /// Bytes (lengths included) of the texts released since the last compaction.
    dead: usize,
}

/// Bits of a length that one prefix byte holds.
const LENGTH_BITS: u32 = 6;
/// In a prefix byte: another byte of the length follows.
const LENGTH_CONTINUES: u8 = 1 << LENGTH_BITS;
/// In a prefix byte: its bits of the length.
const LENGTH_MASK: u8 = LENGTH_CONTINUES - 1;

/// An arena is compacted only once it holds at least this many dead bytes (and more dead
/// than live), so that small arenas are not rewritten over and over.
const MIN_DEAD_BYTES_TO_COMPACT: usize = 64 * 1024;

impl TextArena {
    /// Appends `text`; returns the name (offset) it is found by.
    pub(crate) fn push(&mut self, text: &str) -> u64 {
        let start = self.text.len() as u64;
        let mut length = text.len();
        loop {
            let low = (length & usize::from(LENGTH_MASK)) as u8;
            length >>= LENGTH_BITS;
            if length == 0 {
                self.text.push(char::from(low));
                break;
            }
            self.text.push(char::from(low | LENGTH_CONTINUES));
        }
        self.text.push_str(text);
        start
    }

    /// The text named `start`, and the bytes it takes with its length.
    fn entry(&self, start: u64) -> Option<(&str, usize)> {
        let start = usize::try_from(start).ok()?;
        let bytes = self.text.as_bytes();
        let (mut length, mut shift, mut at) = (0usize, 0u32, start);
        loop {
            let byte = *bytes.get(at)?;
            at += 1;
            length |= usize::from(byte & LENGTH_MASK).checked_shl(shift)?;
            if byte & LENGTH_CONTINUES == 0 {
                break;
            }
            shift += LENGTH_BITS;
        }
        let end = at.checked_add(length)?;
        Some((self.text.get(at..end)?, end - start))
    }

    /// The text named `start` (empty for a name this arena never gave).
    pub(crate) fn get(&self, start: u64) -> &str {
        self.entry(start).map_or("", |(text, _)| text)
    }

    /// Counts the text named `start` as dead: no one will ask for it again.
    pub(crate) fn release(&mut self, start: u64) {
        if let Some((_, size)) = self.entry(start) {
            self.dead += size;
        }
    }

    /// Whether the dead texts outweigh the live ones (and are worth a rewrite).
    pub(crate) fn wants_compaction(&self) -> bool {
        self.dead >= MIN_DEAD_BYTES_TO_COMPACT && self.dead * 2 > self.text.len()
    }

    /// Moves the live texts, named by `starts`, into a new arena, renaming each.
    pub(crate) fn compact<'a>(&mut self, starts: impl Iterator<Item = &'a mut u64>) {
        let mut arena = TextArena {
            text: String::with_capacity(self.text.len().saturating_sub(self.dead)),
            dead: 0,
        };
        for start in starts {
            *start = arena.push(self.get(*start));
        }
        *self = arena;
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity()
    }
}

/// Slots are numbered in a `u32`; one number is kept back so that a column's codes (one per
/// distinct value held, plus "missing", plus a new value before the old one is dropped)
/// always fit a `u32` too.
const MAX_SLOTS: usize = u32::MAX as usize - 1;

/// In [`MachineIds::starts`]: the slot is free.
const VACANT: u64 = u64::MAX;

/// The tracker's machines: each id in a slot (a position in every column and membership
/// bitset), found by its text.
#[derive(Debug, Default)]
pub(crate) struct MachineIds {
    texts: TextArena,
    /// By slot: the name of its id in `texts`, [`VACANT`] for a free slot.
    starts: Vec<u64>,
    /// The occupied slots, by the hash of their id.
    slots: HashTable<u32>,
    /// Free slots, reused before new ones are made.
    free: Vec<u32>,
    hasher: RandomState,
}

impl MachineIds {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The slot of machine `id`.
    pub(crate) fn slot(&self, id: &str) -> Option<u32> {
        let MachineIds {
            texts,
            starts,
            slots,
            ..
        } = self;
        slots
            .find(self.hash(id), |&slot| {
                starts
                    .get(slot as usize)
                    .is_some_and(|&start| texts.get(start) == id)
            })
            .copied()
    }

    /// The id in `slot`, `None` for a free slot.
    pub(crate) fn id(&self, slot: u32) -> Option<&str> {
        match self.starts.get(slot as usize) {
            Some(&start) if start != VACANT => Some(self.texts.get(start)),
            _ => None,
        }
    }

    /// The id in `slot`, which holds a machine (a member, or a machine just evaluated): a
    /// free slot here is a bug, and fails.
    pub(crate) fn occupied(&self, slot: u32) -> &str {
        let start = self.starts[slot as usize];
        assert!(start != VACANT, "slot {slot} holds no machine");
        self.texts.get(start)
    }

    /// The number of machines.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The number of slots, free ones included: every slot is below it.
    pub(crate) fn slot_count(&self) -> usize {
        self.starts.len()
    }

    /// The occupied slots among `64 * word .. 64 * word + 64`, one bit each.
    pub(crate) fn occupied_word(&self, word: usize) -> u64 {
        let first = word.saturating_mul(64);
        self.starts
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take(64)
            .enumerate()
            .fold(0, |bits, (bit, &start)| {
                bits | u64::from(start != VACANT) << bit
            })
    }

    /// Whether `slot` holds a machine.
    pub(crate) fn is_occupied(&self, slot: u32) -> bool {
        self.starts
            .get(slot as usize)
            .is_some_and(|&start| start != VACANT)
    }

    /// Makes room for `additional` more machines, if memory allows (a hint: nothing fails
    /// without it).
    pub(crate) fn reserve(&mut self, additional: usize) {
        let _ = self.starts.try_reserve(additional);
        let MachineIds {
            texts,
            starts,
            slots,
            hasher,
            ..
        } = self;
        let _ = slots.try_reserve(additional, |&slot| {
            hasher.hash_one(
                starts
                    .get(slot as usize)
                    .map_or("", |&start| texts.get(start)),
            )
        });
    }

    /// Gives `id`, which the tracker does not have, a slot: a free one, or a new one at the
    /// end (`Some((slot, true))`). `None` when every slot number is taken.
    pub(crate) fn insert(&mut self, id: &str) -> Option<(u32, bool)> {
        let (slot, new) = self.next_slot()?;
        let hash = self.hash(id);
        let MachineIds {
            texts,
            starts,
            slots,
            hasher,
            ..
        } = self;
        slots.insert_unique(hash, slot, |&slot| {
            hasher.hash_one(
                starts
                    .get(slot as usize)
                    .map_or("", |&start| texts.get(start)),
            )
        });
        self.occupy(slot, new, id);
        Some((slot, new))
    }

    /// The hash of ids, for [`MachineIds::find_or_insert_hashed`] (a copy of the table's
    /// seeded hasher, so that another thread can hash ids).
    pub(crate) fn id_hasher(&self) -> IdHasher {
        IdHasher(self.hasher.clone())
    }

    /// The slot of machine `id`, given one as [`MachineIds::insert`] does if it has none (one
    /// lookup for both).
    pub(crate) fn find_or_insert(&mut self, id: &str) -> Option<u32> {
        self.find_or_insert_hashed(id, self.hash(id))
    }

    /// [`MachineIds::find_or_insert`], `hash` being `id`'s by [`MachineIds::id_hasher`].
    pub(crate) fn find_or_insert_hashed(&mut self, id: &str, hash: u64) -> Option<u32> {
        let next = self.next_slot();
        let MachineIds {
            texts,
            starts,
            slots,
            hasher,
            ..
        } = self;
        let text_of = |slot: u32| {
            starts
                .get(slot as usize)
                .map_or("", |&start| texts.get(start))
        };
        let (slot, new) = match slots.entry(
            hash,
            |&slot| text_of(slot) == id,
            |&slot| hasher.hash_one(text_of(slot)),
        ) {
            hashbrown::hash_table::Entry::Occupied(found) => return Some(*found.get()),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let (slot, new) = next?;
                vacant.insert(slot);
                (slot, new)
            }
        };
        self.occupy(slot, new, id);
        Some(slot)
    }

    /// The slot a new machine would take: the last freed one, or a new one at the end
    /// (`true`); `None` when every slot number is taken.
    fn next_slot(&self) -> Option<(u32, bool)> {
        match self.free.last() {
            Some(&slot) => Some((slot, false)),
            None if self.starts.len() < MAX_SLOTS => {
                Some((u32::try_from(self.starts.len()).ok()?, true))
            }
            None => None,
        }
    }

    /// Puts `id` in `slot`, the one [`MachineIds::next_slot`] gave.
    fn occupy(&mut self, slot: u32, new: bool, id: &str) {
        let start = self.texts.push(id);
        if new {
            self.starts.push(start);
        } else {
            self.free.pop();
            if let Some(entry) = self.starts.get_mut(slot as usize) {
                *entry = start;
            }
        }
    }

    /// Ends a load of many machines: gives back the room reserved beyond what is held.
    pub(crate) fn finish_load(&mut self) {
        self.texts.text.shrink_to_fit();
        self.starts.shrink_to_fit();
    }

    /// Frees the slot of machine `id`; returns it.
    pub(crate) fn remove(&mut self, id: &str) -> Option<u32> {
        let hash = self.hash(id);
        let MachineIds {
            texts,
            starts,
            slots,
            free,
            ..
        } = self;
        let entry = slots
            .find_entry(hash, |&slot| {
                starts
                    .get(slot as usize)
                    .is_some_and(|&start| texts.get(start) == id)
            })
            .ok()?;
        let (slot, _) = entry.remove();
        if let Some(start) = starts.get_mut(slot as usize) {
            texts.release(*start);
            *start = VACANT;
        }
        free.push(slot);
        if texts.wants_compaction() {
            texts.compact(starts.iter_mut().filter(|start| **start != VACANT));
        }
        Some(slot)
    }

    /// Heap bytes held: the id texts, the slot table and the lists of slots.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.texts.heap_bytes()
            + self.starts.capacity() * size_of::<u64>()
            + self.slots.allocation_size()
            + self.free.capacity() * size_of::<u32>()
    }
}

/// The hash of a [`MachineIds`] table, to hash ids ahead of their lookup.
#[derive(Clone, Debug)]
pub(crate) struct IdHasher(RandomState);

impl IdHasher {
    pub(crate) fn hash(&self, id: &str) -> u64 {
        self.0.hash_one(id)
    }
}

/// The hash of a [`FieldColumn`]'s dictionary, to hash values ahead of their lookup.
#[derive(Clone, Debug)]
pub(crate) struct ValueHasher(RandomState);

impl ValueHasher {
    pub(crate) fn hash(&self, attr: Attr<'_>) -> u64 {
        FieldColumn::hash(&self.0, attr)
    }
}

/// Each slot's code into a column's dictionary, as narrow as the dictionary allows.
#[derive(Debug)]
pub(crate) enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Codes {
    fn get(&self, slot: u32) -> u32 {
        let slot = slot as usize;
        match self {
            Codes::U8(codes) => codes.get(slot).map_or(0, |&c| u32::from(c)),
            Codes::U16(codes) => codes.get(slot).map_or(0, |&c| u32::from(c)),
            Codes::U32(codes) => codes.get(slot).copied().unwrap_or(0),
        }
    }

    fn len(&self) -> usize {
        match self {
            Codes::U8(codes) => codes.len(),
            Codes::U16(codes) => codes.len(),
            Codes::U32(codes) => codes.len(),
        }
    }

    /// Makes room for codes up to `code`, widening every code if need be.
    fn widen_for(&mut self, code: u32) {
        match self {
            Codes::U8(codes) if code > u32::from(u8::MAX) => {
                let widened = codes.iter().map(|&c| u16::from(c)).collect();
                *self = Codes::U16(widened);
                self.widen_for(code);
            }
            Codes::U16(codes) if code > u32::from(u16::MAX) => {
                *self = Codes::U32(codes.iter().map(|&c| u32::from(c)).collect());
            }
            _ => {}
        }
    }

    /// Sets the code of `slot`, appending it when `slot` is the next slot.
    fn set(&mut self, slot: u32, code: u32) {
        self.widen_for(code);
        fn put<C>(codes: &mut Vec<C>, slot: usize, code: C) {
            if slot == codes.len() {
                codes.push(code);
            } else if let Some(entry) = codes.get_mut(slot) {
                *entry = code;
            }
        }
        let slot = slot as usize;
        // `widen_for` made every code fit.
        match self {
            Codes::U8(codes) => put(codes, slot, code as u8),
            Codes::U16(codes) => put(codes, slot, code as u16),
            Codes::U32(codes) => put(codes, slot, code),
        }
    }

    /// Writes into `out` (one word per 64 slots, from slot `64 * first_word` on) the bit of
    /// every slot whose code's entry in `table` is set.
    pub(crate) fn gather(&self, table: &[bool], first_word: usize, out: &mut [u64]) {
        fn run<C: Copy + Into<u32>>(codes: &[C], table: &[bool], out: &mut [u64]) {
            for (chunk, word) in codes.chunks(64).zip(out.iter_mut()) {
                let mut bits = 0u64;
                for (bit, &code) in chunk.iter().enumerate() {
                    let hit = table.get(code.into() as usize).copied().unwrap_or(false);
                    bits |= u64::from(hit) << bit;
                }
                *word = bits;
            }
        }
        let start = first_word.saturating_mul(64);
        match self {
            Codes::U8(codes) => run(codes.get(start..).unwrap_or_default(), table, out),
            Codes::U16(codes) => run(codes.get(start..).unwrap_or_default(), table, out),
            Codes::U32(codes) => run(codes.get(start..).unwrap_or_default(), table, out),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(codes) => codes.capacity(),
            Codes::U16(codes) => codes.capacity() * 2,
            Codes::U32(codes) => codes.capacity() * 4,
        }
    }
}

/// Feeds a value to a hasher as the dictionary compares it: numbers by their bits, lists
/// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep, element by element (never recursing
/// deeper).
fn feed(attr: Attr<'_>, depth: usize, hasher: &mut impl Hasher) {
    match attr.at_depth(depth) {
        Attr::Null => hasher.write_u8(0),
        Attr::Bool(b) => hasher.write_u8(if b { 2 } else { 1 }),
        Attr::Number(n) => {
            hasher.write_u8(3);
            hasher.write_u64(n.to_bits());
        }
        Attr::Text(text) => {
            hasher.write_u8(4);
            text.hash(hasher);
        }
        Attr::List(list) => {
            hasher.write_u8(5);
            for element in list.iter() {
                feed(element, depth + 1, hasher);
            }
            hasher.write_u8(6);
        }
        Attr::Opaque => hasher.write_u8(7),
    }
}

/// Whether two values read the same at `depth` (numbers compared by their bits).
fn same(a: Attr<'_>, b: Attr<'_>, depth: usize) -> bool {
    match (a.at_depth(depth), b.at_depth(depth)) {
        (Attr::Null, Attr::Null) | (Attr::Opaque, Attr::Opaque) => true,
        (Attr::Bool(a), Attr::Bool(b)) => a == b,
        (Attr::Number(a), Attr::Number(b)) => a.to_bits() == b.to_bits(),
        (Attr::Text(a), Attr::Text(b)) => a == b,
        (Attr::List(a), Attr::List(b)) => {
            let (mut a, mut b) = (a.iter(), b.iter());
            loop {
                match (a.next(), b.next()) {
                    (None, None) => return true,
                    (Some(x), Some(y)) if same(x, y, depth + 1) => {}
                    _ => return false,
                }
            }
        }
        _ => false,
    }
}

/// What a dictionary entry is; its payload depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// Code 0: the machine does not have the field. No payload.
    Missing,
    /// A code no machine holds, waiting to be reused. No payload.
    Free,
    Null,
    /// Payload 0 or 1.
    Bool,
    /// Payload: the number's position in [`FieldColumn::numbers`].
    Number,
    /// Payload: the text's name in [`FieldColumn::texts`].
    Text,
    /// Payload: the list's position in [`FieldColumn::lists`].
    List,
    Opaque,
}

/// A dictionary entry in one word (one memory access when a value is looked up): its
/// [`Kind`] in the top byte, its payload in the other 56 bits (an arena of texts or a table
/// of values never reaches 2^56 bytes or places).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry(u64);

const PAYLOAD_BITS: u32 = 56;

impl Entry {
    const MISSING: Entry = Entry::new(Kind::Missing, 0);
    const FREE: Entry = Entry::new(Kind::Free, 0);

    const fn new(kind: Kind, payload: u64) -> Entry {
        Entry((kind as u64) << PAYLOAD_BITS | (payload & ((1 << PAYLOAD_BITS) - 1)))
    }

    fn kind(self) -> Kind {
        const KINDS: [Kind; 8] = [
            Kind::Missing,
            Kind::Free,
            Kind::Null,
            Kind::Bool,
            Kind::Number,
            Kind::Text,
            Kind::List,
            Kind::Opaque,
        ];
        KINDS
            .get((self.0 >> PAYLOAD_BITS) as usize)
            .copied()
            .unwrap_or(Kind::Free)
    }

    fn payload(self) -> u64 {
        self.0 & ((1 << PAYLOAD_BITS) - 1)
    }

    fn position(self) -> usize {
        usize::try_from(self.payload()).unwrap_or(usize::MAX)
    }
}

/// Values kept beside the entries (numbers, lists), each with the code that names it, so
/// that the last one can move into the place of one removed.
#[derive(Debug)]
struct SideTable<T> {
    items: Vec<(u32, T)>,
}

impl<T> Default for SideTable<T> {
    fn default() -> Self {
        SideTable { items: Vec::new() }
    }
}

impl<T> SideTable<T> {
    fn get(&self, position: usize) -> Option<&T> {
        self.items.get(position).map(|(_, item)| item)
    }

    /// Adds `item`, named by `code`; returns its position.
    fn push(&mut self, code: u32, item: T) -> u64 {
        self.items.push((code, item));
        self.items.len() as u64 - 1
    }

    /// Removes the item at `position`; the last item moves there, and `entries` is told.
    fn remove(&mut self, position: usize, entries: &mut [Entry]) {
        if position >= self.items.len() {
            return;
        }
        self.items.swap_remove(position);
        if let Some(&(moved, _)) = self.items.get(position)
            && let Some(entry) = entries.get_mut(moved as usize)
        {
            *entry = Entry::new(entry.kind(), position as u64);
        }
    }
}

/// A list value as a dictionary keeps it: the texts of its elements end to end in one
/// allocation, so that comparing a list with a machine's reads two allocations, not one per
/// element. Built [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep (a list deeper is
/// [`Attr::Opaque`], as everywhere), so dropping it recurses no deeper.
#[derive(Debug)]
pub(crate) struct PackedList {
    text: Box<str>,
    items: Box<[PackedItem]>,
}

/// One element of a [`PackedList`].
#[derive(Debug)]
pub(crate) enum PackedItem {
    Null,
    Bool(bool),
    Number(f64),
    /// The element's text: `text[start..end]` of its list.
    Text {
        start: usize,
        end: usize,
    },
    List(Box<PackedList>),
    Opaque,
}

impl PackedList {
    /// The list `list`, read at `depth` (its elements at `depth + 1`).
    pub(crate) fn of(list: &dyn AttrList, depth: usize) -> PackedList {
        let (mut text, mut items) = (String::new(), Vec::new());
        pack(list, depth, &mut text, &mut items);
        PackedList {
            text: text.into_boxed_str(),
            items: items.into_boxed_slice(),
        }
    }

    fn view(&self) -> ListView<'_> {
        ListView {
            text: &self.text,
            items: &self.items,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.text.len()
            + self.items.len() * size_of::<PackedItem>()
            + self
                .items
                .iter()
                .map(|item| match item {
                    PackedItem::List(nested) => size_of::<PackedList>() + nested.heap_bytes(),
                    _ => 0,
                })
                .sum::<usize>()
    }
}

/// Appends the elements of `list`, read at `depth`, to `items`, and their texts to `text`
/// (each text item names its place in `text`); a nested list is packed on its own.
pub(crate) fn pack(
    list: &dyn AttrList,
    depth: usize,
    text: &mut String,
    items: &mut Vec<PackedItem>,
) {
    items.extend(
        list.iter()
            .map(|element| match element.at_depth(depth + 1) {
                Attr::Null => PackedItem::Null,
                Attr::Bool(b) => PackedItem::Bool(b),
                Attr::Number(n) => PackedItem::Number(n),
                Attr::Text(t) => {
                    let start = text.len();
                    text.push_str(t);
                    PackedItem::Text {
                        start,
                        end: text.len(),
                    }
                }
                Attr::List(nested) => PackedItem::List(Box::new(PackedList::of(nested, depth + 1))),
                Attr::Opaque => PackedItem::Opaque,
            }),
    );
}

/// Packed list items, with the text their text items name: a [`PackedList`], or a list
/// packed among others (as a chunk of the loader holds them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListView<'a> {
    pub(crate) text: &'a str,
    pub(crate) items: &'a [PackedItem],
}

impl ListView<'_> {
    /// Whether these are the elements of `list` read at `depth` (numbers compared by their
    /// bits), as [`same`] says.
    fn is(&self, list: &dyn AttrList, depth: usize) -> bool {
        let mut elements = list.iter();
        for item in self.items {
            let Some(element) = elements.next() else {
                return false;
            };
            let equal = match (item, element.at_depth(depth + 1)) {
                (PackedItem::Null, Attr::Null) | (PackedItem::Opaque, Attr::Opaque) => true,
                (PackedItem::Bool(a), Attr::Bool(b)) => *a == b,
                (PackedItem::Number(a), Attr::Number(b)) => a.to_bits() == b.to_bits(),
                (PackedItem::Text { start, end }, Attr::Text(b)) => {
                    self.text.get(*start..*end) == Some(b)
                }
                (PackedItem::List(nested), Attr::List(b)) => nested.view().is(b, depth + 1),
                _ => false,
            };
            if !equal {
                return false;
            }
        }
        elements.next().is_none()
    }
}

impl AttrList for ListView<'_> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn get(&self, index: usize) -> Option<Attr<'_>> {
        Some(match self.items.get(index)? {
            PackedItem::Null => Attr::Null,
            PackedItem::Bool(b) => Attr::Bool(*b),
            PackedItem::Number(n) => Attr::Number(*n),
            PackedItem::Text { start, end } => Attr::Text(self.text.get(*start..*end)?),
            PackedItem::List(nested) => Attr::List(&**nested),
            PackedItem::Opaque => Attr::Opaque,
        })
    }
}

impl AttrList for PackedList {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn get(&self, index: usize) -> Option<Attr<'_>> {
        match self.items.get(index)? {
            PackedItem::Text { start, end } => self.text.get(*start..*end).map(Attr::Text),
            PackedItem::List(nested) => Some(Attr::List(&**nested)),
            PackedItem::Null => Some(Attr::Null),
            PackedItem::Bool(b) => Some(Attr::Bool(*b)),
            PackedItem::Number(n) => Some(Attr::Number(*n)),
            PackedItem::Opaque => Some(Attr::Opaque),
        }
    }
}

/// One field of every slot: a dictionary of distinct values and each slot's code.
#[derive(Debug)]
pub(crate) struct FieldColumn {
    codes: Codes,
    /// By code: the value.
    entries: Vec<Entry>,
    /// By code: how many slots hold it (unused for code 0).
    uses: Vec<u32>,
    /// Codes no slot holds, reused before new ones are made.
    free: Vec<u32>,
    texts: TextArena,
    numbers: SideTable<f64>,
    lists: SideTable<PackedList>,
    /// The codes in use (but 0), by the hash of their value (empty when `plain`).
    index: HashTable<u32>,
    hasher: RandomState,
    /// Whether values are stored as they come, without looking for an equal one held by
    /// another slot: for columns where nearly every machine has a value of its own (host
    /// names, timestamps), which would otherwise cost an index as large as the column and a
    /// cache miss in it per value. A value held by several slots then has several codes,
    /// each held once; every reader reads a code's value and never compares codes.
    plain: bool,
}

impl Default for FieldColumn {
    fn default() -> Self {
        FieldColumn {
            codes: Codes::U8(Vec::new()),
            entries: vec![Entry::MISSING],
            uses: vec![0],
            free: Vec::new(),
            texts: TextArena::default(),
            numbers: SideTable::default(),
            lists: SideTable::default(),
            index: HashTable::new(),
            hasher: RandomState::default(),
            plain: false,
        }
    }
}

/// A column's values, apart from its index and codes (so that they can be read while those
/// change).
struct Values<'a> {
    entries: &'a [Entry],
    texts: &'a TextArena,
    numbers: &'a SideTable<f64>,
    lists: &'a SideTable<PackedList>,
}

impl<'a> Values<'a> {
    /// The value of `code`, `None` for "missing" (and free codes).
    fn get(&self, code: u32) -> Option<Attr<'a>> {
        let entry = *self.entries.get(code as usize)?;
        match entry.kind() {
            Kind::Missing | Kind::Free => None,
            Kind::Null => Some(Attr::Null),
            Kind::Bool => Some(Attr::Bool(entry.payload() != 0)),
            Kind::Number => self.numbers.get(entry.position()).map(|&n| Attr::Number(n)),
            Kind::Text => Some(Attr::Text(self.texts.get(entry.payload()))),
            Kind::List => {
                let list = self.lists.get(entry.position())?;
                Some(Attr::List(list as &dyn AttrList))
            }
            Kind::Opaque => Some(Attr::Opaque),
        }
    }

    /// Whether `code` holds the value `attr`.
    fn holds(&self, code: u32, attr: Attr<'_>) -> bool {
        let Some(&entry) = self.entries.get(code as usize) else {
            return false;
        };
        match (entry.kind(), attr) {
            (Kind::Text, Attr::Text(text)) => self.texts.get(entry.payload()) == text,
            (Kind::List, Attr::List(list)) => self
                .lists
                .get(entry.position())
                .is_some_and(|stored| stored.view().is(list, 0)),
            _ => self.get(code).is_some_and(|stored| same(stored, attr, 0)),
        }
    }
}

impl FieldColumn {
    fn hash(hasher: &RandomState, attr: Attr<'_>) -> u64 {
        let mut state = hasher.build_hasher();
        feed(attr, 0, &mut state);
        state.finish()
    }

    fn values(&self) -> Values<'_> {
        Values {
            entries: &self.entries,
            texts: &self.texts,
            numbers: &self.numbers,
            lists: &self.lists,
        }
    }

    /// The value of `code`, `None` for "missing" (and free codes).
    pub(crate) fn value(&self, code: u32) -> Option<Attr<'_>> {
        self.values().get(code)
    }

    /// The value of `slot`, `None` when it does not have the field.
    pub(crate) fn get(&self, slot: u32) -> Option<Attr<'_>> {
        self.value(self.codes.get(slot))
    }

    /// The number of codes, free ones included: every code is below it.
    pub(crate) fn code_count(&self) -> usize {
        self.entries.len()
    }

    /// The slots' codes.
    pub(crate) fn codes(&self) -> &Codes {
        &self.codes
    }

    /// Makes room for `additional` more slots, if memory allows (a hint: nothing fails
    /// without it).
    pub(crate) fn reserve_slots(&mut self, additional: usize) {
        let _ = match &mut self.codes {
            Codes::U8(codes) => codes.try_reserve(additional),
            Codes::U16(codes) => codes.try_reserve(additional),
            Codes::U32(codes) => codes.try_reserve(additional),
        };
    }

    /// Sets the value of `slot` (the next slot appends one); whether it changed.
    pub(crate) fn set(&mut self, slot: u32, attr: Option<Attr<'_>>) -> bool {
        let old = self.codes.get(slot);
        let appending = slot as usize >= self.codes.len();
        let new = match attr {
            None => 0,
            // A plain column finds no equal value held elsewhere: the slot's own is kept
            // when it is the same.
            Some(attr) if self.plain && !appending && self.values().holds(old, attr) => old,
            Some(attr) => self.code_for(attr),
        };
        if new == old && !appending {
            return false;
        }
        if new != 0
            && let Some(uses) = self.uses.get_mut(new as usize)
        {
            *uses = uses.saturating_add(1);
        }
        self.codes.set(slot, new);
        if !appending {
            self.release(old);
        }
        new != old
    }

    /// Sets the value of `slot` (the next slot appends one) without counting who holds which
    /// code, for loading many slots at once (one memory access fewer per value);
    /// [`FieldColumn::count_uses`] must follow before any other change.
    pub(crate) fn set_uncounted(&mut self, slot: u32, attr: Option<Attr<'_>>) {
        let code = match attr {
            None => 0,
            Some(attr) => self.code_for(attr),
        };
        self.codes.set(slot, code);
    }

    /// The hash of values, for [`FieldColumn::set_uncounted_hashed`] (a copy of the
    /// dictionary's seeded hasher, so that another thread can hash values).
    pub(crate) fn value_hasher(&self) -> ValueHasher {
        ValueHasher(self.hasher.clone())
    }

    /// [`FieldColumn::set_uncounted`], `hash` being `attr`'s by
    /// [`FieldColumn::value_hasher`].
    pub(crate) fn set_uncounted_hashed(&mut self, slot: u32, attr: Option<Attr<'_>>, hash: u64) {
        let code = match attr {
            None => 0,
            Some(attr) => self.code_for_hashed(attr, hash),
        };
        self.codes.set(slot, code);
    }

    /// From now on, values are stored as they come (see [`FieldColumn::plain`]), with room
    /// for `additional` more, if memory allows.
    pub(crate) fn become_plain(&mut self, additional: usize) {
        self.plain = true;
        self.index = HashTable::new();
        let _ = self.entries.try_reserve(additional);
        let _ = self.uses.try_reserve(additional);
    }

    /// Whether values are stored as they come (see [`FieldColumn::plain`]).
    #[cfg(test)]
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// Ends a load of many slots with [`FieldColumn::set_uncounted`]: counts who holds which
    /// code, drops the values no slot holds (those replaced while loading) and gives back
    /// the room reserved beyond what is held.
    pub(crate) fn finish_load(&mut self) {
        self.count_uses();
        self.texts.text.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.uses.shrink_to_fit();
        match &mut self.codes {
            Codes::U8(codes) => codes.shrink_to_fit(),
            Codes::U16(codes) => codes.shrink_to_fit(),
            Codes::U32(codes) => codes.shrink_to_fit(),
        }
        if self.index.capacity() > 2 * self.index.len() {
            let values = Values {
                entries: &self.entries,
                texts: &self.texts,
                numbers: &self.numbers,
                lists: &self.lists,
            };
            let hasher = &self.hasher;
            self.index.shrink_to_fit(|&code| {
                values
                    .get(code)
                    .map_or(0, |value| Self::hash(hasher, value))
            });
        }
    }

    /// Counts who holds which code after [`FieldColumn::set_uncounted`], and drops the
    /// values no slot holds.
    fn count_uses(&mut self) {
        self.uses.iter_mut().for_each(|uses| *uses = 0);
        fn count<C: Copy + Into<u32>>(codes: &[C], uses: &mut [u32]) {
            for &code in codes {
                if let Some(count) = uses.get_mut(code.into() as usize) {
                    *count = count.saturating_add(1);
                }
            }
        }
        match &self.codes {
            Codes::U8(codes) => count(codes, &mut self.uses),
            Codes::U16(codes) => count(codes, &mut self.uses),
            Codes::U32(codes) => count(codes, &mut self.uses),
        }
        let unused: Vec<u32> = (1..self.entries.len() as u32)
            .filter(|&code| {
                self.uses.get(code as usize) == Some(&0)
                    && self
                        .entries
                        .get(code as usize)
                        .is_some_and(|entry| entry.kind() != Kind::Free)
            })
            .collect();
        for code in unused {
            self.drop_value(code);
        }
    }

    /// The code of `attr`, a new one (held by no slot yet) if no slot holds it.
    fn code_for(&mut self, attr: Attr<'_>) -> u32 {
        let hash = if self.plain {
            0
        } else {
            Self::hash(&self.hasher, attr)
        };
        self.code_for_hashed(attr, hash)
    }

    /// [`FieldColumn::code_for`], `hash` being `attr`'s.
    fn code_for_hashed(&mut self, attr: Attr<'_>, hash: u64) -> u32 {
        let values = Values {
            entries: &self.entries,
            texts: &self.texts,
            numbers: &self.numbers,
            lists: &self.lists,
        };
        if !self.plain
            && let Some(&code) = self.index.find(hash, |&code| values.holds(code, attr))
        {
            return code;
        }
        // Codes always fit a `u32` (see `MAX_SLOTS`).
        let code = self
            .free
            .pop()
            .unwrap_or_else(|| u32::try_from(self.entries.len()).unwrap_or(u32::MAX));
        let entry = match attr {
            Attr::Null => Entry::new(Kind::Null, 0),
            Attr::Bool(b) => Entry::new(Kind::Bool, u64::from(b)),
            Attr::Number(n) => Entry::new(Kind::Number, self.numbers.push(code, n)),
            Attr::Text(text) => Entry::new(Kind::Text, self.texts.push(text)),
            Attr::List(list) => {
                Entry::new(Kind::List, self.lists.push(code, PackedList::of(list, 0)))
            }
            Attr::Opaque => Entry::new(Kind::Opaque, 0),
        };
        let at = code as usize;
        if at == self.entries.len() {
            self.entries.push(entry);
            self.uses.push(0);
        } else if let (Some(slot), Some(uses)) = (self.entries.get_mut(at), self.uses.get_mut(at)) {
            (*slot, *uses) = (entry, 0);
        }
        let values = Values {
            entries: &self.entries,
            texts: &self.texts,
            numbers: &self.numbers,
            lists: &self.lists,
        };
        let hasher = &self.hasher;
        if !self.plain {
            self.index.insert_unique(hash, code, |&code| {
                values
                    .get(code)
                    .map_or(0, |value| Self::hash(hasher, value))
            });
        }
        code
    }

    /// One slot fewer holds `code`: the last one drops its value.
    fn release(&mut self, code: u32) {
        if code == 0 {
            return;
        }
        let Some(uses) = self.uses.get_mut(code as usize) else {
            return;
        };
        *uses = uses.saturating_sub(1);
        if *uses == 0 {
            self.drop_value(code);
        }
    }

    /// Drops the value of `code`, which no slot holds, and frees the code.
    fn drop_value(&mut self, code: u32) {
        if !self.plain
            && let Some(value) = self.value(code)
        {
            let hash = Self::hash(&self.hasher, value);
            if let Ok(found) = self.index.find_entry(hash, |&c| c == code) {
                found.remove();
            }
        }
        let Some(&entry) = self.entries.get(code as usize) else {
            return;
        };
        match entry.kind() {
            Kind::Text => self.texts.release(entry.payload()),
            Kind::Number => self.numbers.remove(entry.position(), &mut self.entries),
            Kind::List => self.lists.remove(entry.position(), &mut self.entries),
            _ => {}
        }
        if let Some(slot) = self.entries.get_mut(code as usize) {
            *slot = Entry::FREE;
        }
        self.free.push(code);
        if self.texts.wants_compaction() {
            let mut starts: Vec<u64> = Vec::new();
            let texts: Vec<usize> = (0..self.entries.len())
                .filter(|&at| {
                    self.entries
                        .get(at)
                        .is_some_and(|entry| entry.kind() == Kind::Text)
                })
                .collect();
            for &at in &texts {
                starts.extend(self.entries.get(at).map(|entry| entry.payload()));
            }
            self.texts.compact(starts.iter_mut());
            for (&at, &start) in texts.iter().zip(&starts) {
                if let Some(entry) = self.entries.get_mut(at) {
                    *entry = Entry::new(Kind::Text, start);
                }
            }
        }
    }

    /// The number of distinct values held by some slot (in a plain column: of codes held).
    #[cfg(test)]
    pub(crate) fn live_values(&self) -> usize {
        if self.plain {
            self.uses.iter().skip(1).filter(|&&uses| uses > 0).count()
        } else {
            self.index.len()
        }
    }

    /// Heap bytes held: codes, dictionary and its index.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes()
            + self.entries.capacity() * size_of::<Entry>()
            + self.uses.capacity() * size_of::<u32>()
            + self.free.capacity() * size_of::<u32>()
            + self.texts.heap_bytes()
            + self.numbers.items.capacity() * size_of::<(u32, f64)>()
            + self.lists.items.capacity() * size_of::<(u32, PackedList)>()
            + self
                .lists
                .items
                .iter()
                .map(|(_, list)| list.heap_bytes())
                .sum::<usize>()
            + self.index.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::Value;

    #[test]
    fn texts_of_any_length_come_back_and_the_arena_stays_ascii_around_them() {
        let mut arena = TextArena::default();
        let texts: Vec<String> = [0, 1, 63, 64, 65, 4095, 4096, 262_144, 300_000]
            .iter()
            .map(|&n| "é".repeat(n / 2) + &"x".repeat(n % 2))
            .chain(["", "Ünïcödé ✓", "\u{0}\u{7f}"].map(String::from))
            .collect();
        let starts: Vec<u64> = texts.iter().map(|t| arena.push(t)).collect();
        for (text, &start) in texts.iter().zip(&starts) {
            assert_eq!(arena.get(start), text);
            // The length before the text is ASCII, so the text starts on a character boundary.
            let (_, size) = arena.entry(start).unwrap();
            assert!(size > text.len());
            assert!(
                arena.text.as_bytes()[start as usize..start as usize + size - text.len()]
                    .iter()
                    .all(u8::is_ascii)
            );
        }
        assert_eq!(arena.get(u64::MAX), "");
    }

    #[test]
    fn compaction_keeps_the_live_texts_under_their_new_names() {
        let mut arena = TextArena::default();
        let big = "x".repeat(MIN_DEAD_BYTES_TO_COMPACT);
        let dead = arena.push(&big);
        let mut kept = [arena.push("kept"), arena.push("also kept")];
        arena.release(dead);
        assert!(arena.wants_compaction());
        arena.compact(kept.iter_mut());
        assert_eq!(arena.get(kept[0]), "kept");
        assert_eq!(arena.get(kept[1]), "also kept");
        assert!(arena.heap_bytes() < 64);
        assert!(!arena.wants_compaction());
    }

    #[test]
    fn ids_find_their_slots_and_free_slots_are_reused() {
        let mut ids = MachineIds::default();
        assert_eq!(ids.insert("a"), Some((0, true)));
        assert_eq!(ids.find_or_insert("b"), Some(1));
        assert_eq!(ids.find_or_insert("a"), Some(0));
        assert_eq!((ids.slot("b"), ids.slot("c")), (Some(1), None));
        assert_eq!(ids.remove("a"), Some(0));
        assert_eq!(
            (ids.remove("a"), ids.slot("a"), ids.id(0)),
            (None, None, None)
        );
        assert!(!ids.is_occupied(0) && ids.is_occupied(1));
        assert_eq!(ids.occupied_word(0), 0b10);
        assert_eq!(ids.insert("c"), Some((0, false)));
        assert_eq!((ids.id(0), ids.id(1), ids.len()), (Some("c"), Some("b"), 2));
    }

    #[test]
    fn a_stream_of_new_ids_costs_the_ids_held_not_every_id_seen() {
        let mut ids = MachineIds::default();
        let mut churn = 0;
        ids.insert("stays");
        for round in 0..20_000 {
            let id = format!("machine-{round}-{}", "x".repeat(40));
            ids.insert(&id);
            if round >= 10 {
                let old = format!("machine-{}-{}", round - 10, "x".repeat(40));
                assert!(ids.remove(&old).is_some());
                churn += 1;
            }
        }
        assert_eq!(ids.len(), 11);
        assert_eq!(ids.slot_count(), 12);
        assert_eq!(ids.id(ids.slot("stays").unwrap()), Some("stays"));
        assert!(churn > 19_000);
        // Dead id text is reclaimed once it outweighs the live text.
        assert!(ids.texts.heap_bytes() < 4 * MIN_DEAD_BYTES_TO_COMPACT);
    }

    fn column_with(values: &[Option<Attr<'_>>]) -> FieldColumn {
        let mut column = FieldColumn::default();
        for (slot, value) in values.iter().enumerate() {
            column.set(slot as u32, *value);
        }
        column
    }

    /// A plain column stores each value under a code of its own, keeps a slot's code when
    /// its value is set again unchanged, reads every slot's value back, and frees the codes
    /// no slot holds.
    #[test]
    fn a_plain_column_keeps_every_value_under_a_code_of_its_own() {
        let mut column = FieldColumn::default();
        column.set(0, Some(Attr::Text("shared")));
        column.become_plain(4);
        assert!(column.is_plain());
        assert!(column.set(1, Some(Attr::Text("shared"))));
        assert!(column.set(2, Some(Attr::Text("own"))));
        assert_ne!(column.codes.get(0), column.codes.get(1), "not looked up");
        let kept = column.codes.get(1);
        assert!(!column.set(1, Some(Attr::Text("shared"))), "unchanged");
        assert_eq!(column.codes.get(1), kept);
        assert!(column.set(1, Some(Attr::Number(2.5))));
        assert!(column.set(2, None));
        assert!(matches!(column.get(0), Some(Attr::Text("shared"))));
        assert!(matches!(column.get(1), Some(Attr::Number(n)) if n == 2.5));
        assert!(column.get(2).is_none());
        assert_eq!(column.live_values(), 2);
        // The two freed codes (of `own`, and of slot 1's first text) are used again.
        let before = column.code_count();
        assert!(column.set(3, Some(Attr::Text("again"))));
        assert!(column.set(4, Some(Attr::Text("again"))));
        assert_eq!(column.code_count(), before, "both codes reused");
        assert!(column.set(5, Some(Attr::Text("again"))));
        assert_eq!(column.code_count(), before + 1);
        assert_eq!(column.live_values(), 5);
    }

    #[test]
    fn equal_values_share_a_code_and_others_do_not() {
        let list = vec![Value::from("a"), Value::from(1.0)];
        let same_list = list.clone();
        let values = [
            None,
            Some(Attr::Null),
            Some(Attr::Bool(true)),
            Some(Attr::Bool(false)),
            Some(Attr::Number(1.0)),
            Some(Attr::Number(0.0)),
            Some(Attr::Number(-0.0)),
            Some(Attr::Number(f64::NAN)),
            Some(Attr::Text("1")),
            Some(Attr::Text("")),
            Some(Attr::List(&list)),
            Some(Attr::Opaque),
            // Repeats: the same codes as above.
            Some(Attr::Number(f64::NAN)),
            Some(Attr::List(&same_list)),
            Some(Attr::Text("1")),
        ];
        let column = column_with(&values);
        let codes: Vec<u32> = (0..values.len() as u32)
            .map(|slot| column.codes.get(slot))
            .collect();
        assert_eq!(codes[..12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(codes[12..], [7, 10, 8]);
        for (slot, value) in values.iter().enumerate() {
            let stored = column.get(slot as u32);
            match (stored, value) {
                (None, None) => {}
                (Some(a), Some(b)) => assert!(same(a, *b, 0), "{a:?} against {b:?}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(column.live_values(), 11);
    }

    #[test]
    fn a_value_no_slot_holds_is_dropped_and_its_code_reused() {
        let mut column = column_with(&[Some(Attr::Text("a")), Some(Attr::Text("b"))]);
        assert!(column.set(0, Some(Attr::Text("b"))));
        assert!(!column.set(0, Some(Attr::Text("b"))));
        assert_eq!(column.live_values(), 1);
        // "a"'s code is free and taken by the next new value.
        assert!(column.set(1, Some(Attr::Number(7.0))));
        assert_eq!(column.codes.get(1), 1);
        assert_eq!(
            column.get(1).map(|a| format!("{a:?}")),
            Some("Number(7)".into())
        );
        assert!(column.set(0, None));
        assert!(column.set(1, None));
        assert_eq!(column.live_values(), 0);
        assert!(column.numbers.items.is_empty());
    }

    #[test]
    fn codes_widen_as_the_dictionary_grows() {
        let mut column = FieldColumn::default();
        for slot in 0..70_000u32 {
            column.set(slot, Some(Attr::Number(f64::from(slot))));
        }
        assert!(matches!(column.codes, Codes::U32(_)));
        for slot in [0, 255, 256, 65_535, 65_536, 69_999u32] {
            assert_eq!(
                column.get(slot).map(|a| format!("{a:?}")),
                Some(format!("Number({slot})"))
            );
        }
    }

    #[test]
    fn a_stream_of_new_values_costs_the_values_held_not_every_value_seen() {
        let mut column = column_with(&[Some(Attr::Text("stays")), None]);
        let long = "x".repeat(1000);
        let list_items: Vec<Value> = vec![Value::from("a")];
        for round in 0..2_000 {
            let text = format!("{round}{long}");
            column.set(1, Some(Attr::Text(&text)));
            let mut items = list_items.clone();
            items.push(Value::from(f64::from(round)));
            column.set(2, Some(Attr::List(&items)));
            column.set(3, Some(Attr::Number(f64::from(round))));
        }
        assert_eq!(column.live_values(), 4);
        assert_eq!(column.code_count(), 6);
        assert_eq!(
            column.get(0).map(|a| format!("{a:?}")),
            Some("Text(\"stays\")".into())
        );
        assert!(
            column
                .get(1)
                .is_some_and(|a| same(a, Attr::Text(&format!("1999{long}")), 0))
        );
        assert!(column.heap_bytes() < 8 * MIN_DEAD_BYTES_TO_COMPACT);
    }

    #[test]
    fn lists_compare_and_hash_as_they_read_to_the_list_depth() {
        fn nested(depth: usize, leaf: Value) -> Value {
            (0..depth).fold(leaf, |value, _| Value::List(vec![value]))
        }
        let deep = crate::MAX_LIST_DEPTH + 3;
        let (a, b, c) = (
            nested(deep, Value::from("a")),
            nested(deep, Value::from("b")),
            nested(5, Value::from("a")),
        );
        let mixed = Value::List(vec![
            Value::Null,
            Value::from(true),
            Value::from(2.5),
            Value::from("é"),
            Value::List(vec![Value::from("x"), Value::List(vec![])]),
        ]);
        let column = column_with(&[
            Some(a.as_attr()),
            Some(b.as_attr()),
            Some(c.as_attr()),
            Some(mixed.as_attr()),
        ]);
        // Lists differing only past the depth are one value; the others are not.
        assert_eq!(column.codes.get(0), column.codes.get(1));
        assert_ne!(column.codes.get(0), column.codes.get(2));
        let hasher = &column.hasher;
        for (slot, value) in [&a, &b, &c, &mixed].into_iter().enumerate() {
            let stored = column.get(slot as u32).unwrap();
            assert!(same(stored, value.as_attr(), 0));
            assert_eq!(
                FieldColumn::hash(hasher, stored),
                FieldColumn::hash(hasher, value.as_attr())
            );
        }
        assert!(!same(
            column.get(3).unwrap(),
            Value::List(vec![Value::Null]).as_attr(),
            0
        ));
    }
}
