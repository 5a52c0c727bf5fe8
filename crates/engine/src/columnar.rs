//! Columnar evaluation: a fleet stored column by column, and membership as bitsets.
//!
//! Every column is dictionary-encoded: each distinct value of a field is stored once (with
//! its number and date read in advance), and each machine holds a small code (`u8`, `u16` or
//! `u32`, whichever the dictionary needs). A predicate is therefore evaluated once per
//! *distinct value*, and each machine then costs one table lookup. Groups combine predicate
//! bitsets with word-wide AND, OR and NOT, so the cost grows with distinct predicates, not
//! with groups. Large fleets are split between the cores at 64-machine boundaries; results
//! are identical whatever the split.

use crate::Timestamp;
use crate::machine::{Attr, AttrList, Machine};
use crate::matcher::{Context, Outcome};
use crate::plan::{Formula, GroupId, Plan};
use std::collections::HashMap;

/// A set of machine positions, one bit each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
    len: usize,
}

impl Bitset {
    fn empty(len: usize) -> Self {
        Bitset {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    fn full(len: usize) -> Self {
        let mut set = Bitset {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        set.trim();
        set
    }

    /// Clears the bits past `len` in the last word.
    fn trim(&mut self) {
        let extra = self.words.len() * 64 - self.len;
        if extra > 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= u64::MAX >> extra;
        }
    }

    /// The number of positions the set ranges over.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set ranges over no position.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `position` is in the set.
    pub fn contains(&self, position: usize) -> bool {
        position < self.len
            && self
                .words
                .get(position / 64)
                .is_some_and(|w| w >> (position % 64) & 1 == 1)
    }

    /// How many positions are in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The positions in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, &word)| {
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

    fn and(&mut self, other: &Bitset) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    fn or(&mut self, other: &Bitset) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    fn not(&mut self) {
        for word in &mut self.words {
            *word = !*word;
        }
        self.trim();
    }
}

/// Machine codes into a column's dictionary, as narrow as the dictionary allows.
#[derive(Debug)]
enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Codes {
    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(c) => c.capacity(),
            Codes::U16(c) => c.capacity() * 2,
            Codes::U32(c) => c.capacity() * 4,
        }
    }

    /// Writes the bits of the machines in `range` (which starts at a multiple of 64) into
    /// `out`, one word per 64 machines: bit set when `table[code]` is.
    fn gather(&self, table: &[bool], range: std::ops::Range<usize>, out: &mut [u64]) {
        fn run<C: Copy + Into<u32>>(codes: &[C], table: &[bool], out: &mut [u64]) {
            for (chunk, slot) in codes.chunks(64).zip(out.iter_mut()) {
                let mut word = 0u64;
                for (bit, &code) in chunk.iter().enumerate() {
                    let hit = table.get(code.into() as usize).copied().unwrap_or(false);
                    word |= u64::from(hit) << bit;
                }
                *slot = word;
            }
        }
        match self {
            Codes::U8(c) => run(c.get(range).unwrap_or_default(), table, out),
            Codes::U16(c) => run(c.get(range).unwrap_or_default(), table, out),
            Codes::U32(c) => run(c.get(range).unwrap_or_default(), table, out),
        }
    }
}

/// One field of every machine: its distinct values and each machine's code. Code 0 stands
/// for "missing".
#[derive(Debug)]
struct Column {
    values: Vec<Stored>,
    codes: Codes,
}

/// A hashable identity of a value, for dictionary encoding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Bool(bool),
    Number(u64),
    Text(String),
    List(Vec<Key>),
    Opaque,
}

fn key(attr: Attr<'_>) -> Key {
    match attr {
        Attr::Null => Key::Null,
        Attr::Bool(b) => Key::Bool(b),
        Attr::Number(n) => Key::Number(n.to_bits()),
        Attr::Text(t) => Key::Text(t.to_owned()),
        Attr::List(list) => Key::List(list.iter().map(key).collect()),
        Attr::Opaque => Key::Opaque,
    }
}

/// A dictionary entry: an owned copy of an attribute value.
#[derive(Debug)]
enum Stored {
    Null,
    Bool(bool),
    Number(f64),
    /// Text, with the number and date it reads as and its lowercase form when that differs
    /// (all computed once, for every predicate on the value).
    Text(String, crate::matcher::Parsed, Option<String>),
    List(Vec<Stored>),
    Opaque,
}

impl Stored {
    fn of(attr: Attr<'_>) -> Stored {
        match attr {
            Attr::Null => Stored::Null,
            Attr::Bool(b) => Stored::Bool(b),
            Attr::Number(n) => Stored::Number(n),
            Attr::Text(t) => {
                let folded = crate::matcher::fold_case(t);
                let folded = (folded != t).then(|| folded.into_owned());
                Stored::Text(t.to_owned(), crate::matcher::Parsed::of(t), folded)
            }
            Attr::List(list) => Stored::List(list.iter().map(Stored::of).collect()),
            Attr::Opaque => Stored::Opaque,
        }
    }

    fn as_attr(&self) -> Attr<'_> {
        match self {
            Stored::Null => Attr::Null,
            Stored::Bool(b) => Attr::Bool(*b),
            Stored::Number(n) => Attr::Number(*n),
            Stored::Text(t, _, _) => Attr::Text(t),
            Stored::List(items) => Attr::List(items),
            Stored::Opaque => Attr::Opaque,
        }
    }

    /// The text folded to lowercase, for a text value.
    fn folded(&self) -> Option<&str> {
        match self {
            Stored::Text(text, _, folded) => Some(folded.as_deref().unwrap_or(text)),
            _ => None,
        }
    }

    /// The number and date the value reads as, read once for every predicate on it.
    fn parsed(&self) -> Option<crate::matcher::Parsed> {
        match self {
            Stored::Text(_, parsed, _) => Some(*parsed),
            _ => None,
        }
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Stored>()
            + match self {
                Stored::Text(t, _, folded) => {
                    t.capacity() + folded.as_ref().map_or(0, String::capacity)
                }
                Stored::List(items) => items.iter().map(Stored::heap_bytes).sum(),
                _ => 0,
            }
    }
}

impl AttrList for Vec<Stored> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.as_slice().get(index).map(Stored::as_attr)
    }
}

/// Builds a [`ColumnarFleet`] one machine at a time (for streaming input).
#[derive(Debug)]
pub struct ColumnarBuilder<'p> {
    plan: &'p Plan,
    fields: Vec<String>,
    dictionaries: Vec<HashMap<Key, u32>>,
    /// Text values by themselves, looked up without allocating.
    texts: Vec<HashMap<String, u32>>,
    values: Vec<Vec<Stored>>,
    codes: Vec<Vec<u32>>,
    machines: usize,
}

impl<'p> ColumnarBuilder<'p> {
    /// A builder for the fields `plan` tests.
    pub fn new(plan: &'p Plan) -> Self {
        let fields: Vec<String> = plan.fields().into_iter().map(str::to_owned).collect();
        let count = fields.len();
        ColumnarBuilder {
            plan,
            fields,
            dictionaries: vec![HashMap::new(); count],
            texts: vec![HashMap::new(); count],
            values: (0..count).map(|_| vec![Stored::Null]).collect(),
            codes: vec![Vec::new(); count],
            machines: 0,
        }
    }

    /// Appends one machine (its position is the number of machines pushed before it).
    pub fn push<M: Machine + ?Sized>(&mut self, machine: &M) {
        for (index, field) in self.fields.iter().enumerate() {
            let code = match machine.attr(field) {
                None => 0,
                Some(attr) => {
                    let (Some(dictionary), Some(texts), Some(values)) = (
                        self.dictionaries.get_mut(index),
                        self.texts.get_mut(index),
                        self.values.get_mut(index),
                    ) else {
                        continue;
                    };
                    let next = u32::try_from(values.len()).unwrap_or(u32::MAX);
                    if let Attr::Text(text) = attr {
                        match texts.get(text) {
                            Some(code) => *code,
                            None => {
                                texts.insert(text.to_owned(), next);
                                values.push(Stored::of(attr));
                                next
                            }
                        }
                    } else {
                        *dictionary.entry(key(attr)).or_insert_with(|| {
                            values.push(Stored::of(attr));
                            next
                        })
                    }
                }
            };
            if let Some(codes) = self.codes.get_mut(index) {
                codes.push(code);
            }
        }
        self.machines += 1;
    }

    /// The finished store.
    pub fn finish(self) -> ColumnarFleet<'p> {
        let columns = self
            .values
            .into_iter()
            .zip(self.codes)
            .map(|(values, codes)| {
                let codes = if values.len() <= 1 << 8 {
                    Codes::U8(codes.into_iter().map(|c| c as u8).collect())
                } else if values.len() <= 1 << 16 {
                    Codes::U16(codes.into_iter().map(|c| c as u16).collect())
                } else {
                    Codes::U32(codes)
                };
                Column { values, codes }
            })
            .collect();
        ColumnarFleet {
            plan: self.plan,
            columns,
            machines: self.machines,
        }
    }
}

/// A fleet stored column by column for the fields a [`Plan`] tests.
///
/// ```
/// use cohort::{GroupSet, Timestamp};
/// use serde_json::json;
///
/// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'").unwrap();
/// let machines = vec![json!({"Free Disk %": 4}), json!({"Free Disk %": 55}), json!({})];
/// let fleet = groups.plan().columnar(&machines);
/// let members = fleet.evaluate(Timestamp::UNIX_EPOCH);
/// assert_eq!(members.members(groups.id("Low Disk").unwrap()).iter().collect::<Vec<_>>(), [0]);
/// ```
#[derive(Debug)]
pub struct ColumnarFleet<'p> {
    plan: &'p Plan,
    columns: Vec<Column>,
    machines: usize,
}

/// The members of every group, as bitsets over machine positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupBitsets {
    groups: Vec<Bitset>,
}

impl GroupBitsets {
    /// The members of group `id`.
    pub fn members(&self, id: GroupId) -> &Bitset {
        static EMPTY: Bitset = Bitset {
            words: Vec::new(),
            len: 0,
        };
        self.groups.get(id.index()).unwrap_or(&EMPTY)
    }
}

/// Below this many machines, evaluation stays on one thread.
const PARALLEL_THRESHOLD: usize = 1 << 16;

impl Plan {
    /// Stores `machines` column by column for this plan's fields.
    pub fn columnar<M: Machine>(&self, machines: impl IntoIterator<Item = M>) -> ColumnarFleet<'_> {
        let mut builder = ColumnarBuilder::new(self);
        for machine in machines {
            builder.push(&machine);
        }
        builder.finish()
    }
}

impl ColumnarFleet<'_> {
    /// The number of machines.
    pub fn machine_count(&self) -> usize {
        self.machines
    }

    /// Heap bytes used by the columns: codes and dictionaries (dictionary text counted by
    /// length).
    pub fn heap_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|column| {
                column.codes.heap_bytes()
                    + column.values.iter().map(Stored::heap_bytes).sum::<usize>()
            })
            .sum()
    }

    /// Heap bytes used by one field's column (codes and dictionary), if the plan tests it.
    pub fn column_bytes(&self, field: &str) -> Option<usize> {
        let index = self.plan.fields().iter().position(|f| *f == field)?;
        let column = self.columns.get(index)?;
        Some(
            column.codes.heap_bytes() + column.values.iter().map(Stored::heap_bytes).sum::<usize>(),
        )
    }

    /// Evaluates every group over every machine, on all cores for large fleets.
    pub fn evaluate(&self, now: Timestamp) -> GroupBitsets {
        let threads = if self.machines >= PARALLEL_THRESHOLD {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            1
        };
        self.evaluate_with_threads(now, threads)
    }

    /// Evaluates every group over every machine on `threads` threads (1 for the calling
    /// thread only). The result does not depend on `threads`.
    pub fn evaluate_with_threads(&self, now: Timestamp, threads: usize) -> GroupBitsets {
        let tables = self.predicate_tables(now, threads.max(1));
        let predicates = self.predicate_bitsets(&tables, threads.max(1));
        let groups = self
            .plan
            .groups
            .iter()
            .map(|group| self.combine(&group.formula, &predicates))
            .collect();
        GroupBitsets { groups }
    }

    /// For each predicate, its result on each distinct value of its field (index = code).
    /// Predicates are shared out between `threads` threads.
    fn predicate_tables(&self, now: Timestamp, threads: usize) -> Vec<(usize, Vec<bool>)> {
        let fields = self.plan.fields();
        let table = |predicate: &crate::plan::CompiledPredicate| {
            let mut buffer = String::new();
            let column_index = fields
                .iter()
                .position(|f| *f == &*predicate.field)
                .unwrap_or(usize::MAX);
            let Some(column) = self.columns.get(column_index) else {
                return (column_index, Vec::new());
            };
            let table = column
                .values
                .iter()
                .enumerate()
                .map(|(code, value)| {
                    let attr = if code == 0 {
                        None
                    } else {
                        Some(value.as_attr())
                    };
                    let mut ctx = Context {
                        now: now.unix_millis(),
                        fold: predicate.fold,
                        buffer: &mut buffer,
                        parsed: value.parsed(),
                        folded: value.folded(),
                    };
                    predicate.matcher.run(attr, &mut ctx) == Outcome::Held
                })
                .collect();
            (column_index, table)
        };
        let predicates = &self.plan.predicates;
        if threads <= 1 || predicates.len() < 2 {
            return predicates.iter().map(table).collect();
        }
        let per_thread = predicates.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = predicates
                .chunks(per_thread)
                .map(|chunk| {
                    let table = &table;
                    scope.spawn(move || chunk.iter().map(table).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                // A panic in a worker is a bug: re-raise it rather than lose its tables.
                .flat_map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    }

    fn predicate_bitsets(&self, tables: &[(usize, Vec<bool>)], threads: usize) -> Vec<Bitset> {
        let mut bitsets: Vec<Bitset> = tables
            .iter()
            .map(|_| Bitset::empty(self.machines))
            .collect();
        // Whole words per thread, so threads never share a word.
        let words = self.machines.div_ceil(64);
        let words_per_thread = words.div_ceil(threads).max(1);
        let fill = |bitsets: &mut [&mut [u64]], first_word: usize| {
            let start = first_word * 64;
            let end =
                ((first_word + bitsets.first().map_or(0, |b| b.len())) * 64).min(self.machines);
            for ((column_index, table), out) in tables.iter().zip(bitsets.iter_mut()) {
                if let Some(column) = self.columns.get(*column_index) {
                    column.codes.gather(table, start..end, out);
                }
            }
        };
        if threads == 1 || words <= words_per_thread {
            let mut slices: Vec<&mut [u64]> =
                bitsets.iter_mut().map(|b| b.words.as_mut_slice()).collect();
            fill(&mut slices, 0);
        } else {
            // Split every predicate's words into the same chunks, one chunk list per thread.
            let mut per_thread: Vec<Vec<&mut [u64]>> = (0..threads).map(|_| Vec::new()).collect();
            for bitset in &mut bitsets {
                for (chunk, slot) in bitset
                    .words
                    .chunks_mut(words_per_thread)
                    .zip(per_thread.iter_mut())
                {
                    slot.push(chunk);
                }
            }
            std::thread::scope(|scope| {
                for (thread, mut chunks) in per_thread.into_iter().enumerate() {
                    let fill = &fill;
                    scope.spawn(move || fill(&mut chunks, thread * words_per_thread));
                }
            });
        }
        bitsets
    }

    fn combine(&self, formula: &Formula, predicates: &[Bitset]) -> Bitset {
        match formula {
            Formula::All(items) => {
                let mut set = Bitset::full(self.machines);
                for item in items {
                    set.and(&self.combine(item, predicates));
                }
                set
            }
            Formula::Any(items) => {
                let mut set = Bitset::empty(self.machines);
                for item in items {
                    set.or(&self.combine(item, predicates));
                }
                set
            }
            Formula::Not(item) => {
                let mut set = self.combine(item, predicates);
                set.not();
                set
            }
            Formula::Criterion {
                predicate, negated, ..
            } => {
                let mut set = predicates
                    .get(predicate.0 as usize)
                    .cloned()
                    .unwrap_or_else(|| Bitset::empty(self.machines));
                if *negated {
                    set.not();
                }
                set
            }
        }
    }
}
