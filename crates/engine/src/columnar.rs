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
use crate::matcher::{Context, Outcome, element_contains};
use crate::plan::{Formula, GroupId, Plan};

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
        set_bits(&self.words)
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

/// The positions of the set bits of `words` (bit `i` of word `w` is position `64 * w + i`), in
/// increasing order.
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
    /// When no value is a list: the date each value reads as ([`NOT_A_DATE`] for values that
    /// are not text reading as a date), so date tests compare a flat array.
    dates: Option<Vec<i64>>,
    /// When the column holds lists of at most 64 distinct scalar elements in all: those
    /// elements, and for each value the mask of the elements it contains.
    list_items: Option<ListItems>,
    /// For high-cardinality text columns: the texts end to end.
    texts: Option<TextArena>,
}

/// A text column's distinct texts laid end to end, raw and folded, so that a test scans
/// them in order instead of following one pointer per value (which, on high-cardinality
/// columns such as hostnames, made every value a cache miss).
#[derive(Debug)]
struct TextArena {
    raw: String,
    folded: String,
    /// Per value: where its raw and folded texts end (and the previous value's end is where
    /// they start); `None` for values that are not text.
    ends: Vec<Option<(u32, u32)>>,
}

/// Columns with fewer distinct values than this are tested straight from the dictionary.
const TEXT_ARENA_MIN_VALUES: usize = 4096;

impl TextArena {
    fn of(values: &[Stored]) -> Option<TextArena> {
        if values.len() < TEXT_ARENA_MIN_VALUES {
            return None;
        }
        let mut arena = TextArena {
            raw: String::new(),
            folded: String::new(),
            ends: Vec::with_capacity(values.len()),
        };
        for value in values {
            let end = match (value.text(), value.folded()) {
                (Some(raw), Some(folded)) => {
                    arena.raw.push_str(raw);
                    arena.folded.push_str(folded);
                    Some((
                        u32::try_from(arena.raw.len()).ok()?,
                        u32::try_from(arena.folded.len()).ok()?,
                    ))
                }
                _ => None,
            };
            arena.ends.push(end);
        }
        Some(arena)
    }

    /// The text of every value (`None` for values that are not text), folded or raw.
    fn texts(&self, folded: bool) -> impl Iterator<Item = Option<&str>> + '_ {
        let text = if folded { &self.folded } else { &self.raw };
        let mut start = 0usize;
        self.ends.iter().map(move |end| {
            let (raw_end, folded_end) = (*end)?;
            let end = if folded { folded_end } else { raw_end } as usize;
            let slice = text.get(start..end);
            start = end;
            slice
        })
    }

    fn heap_bytes(&self) -> usize {
        self.raw.capacity() + self.folded.capacity() + self.ends.capacity() * 12
    }
}

/// The distinct elements of a list column, and each value's elements as a bit mask.
#[derive(Debug)]
struct ListItems {
    items: Vec<Stored>,
    masks: Vec<u64>,
}

impl ListItems {
    fn of(values: &[Stored]) -> Option<ListItems> {
        let state = foldhash::fast::RandomState::default();
        let mut keys: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::new();
        let mut items: Vec<Stored> = Vec::new();
        let mut masks = Vec::with_capacity(values.len());
        let mut any_list = false;
        for value in values {
            let mut mask = 0u64;
            if let Stored::List(elements) = value {
                any_list = true;
                for element in elements {
                    if matches!(element, Stored::List(_)) {
                        return None;
                    }
                    let hash = hash_of(element.as_attr(), &state);
                    let found = keys.find(hash, |&(_, bit)| {
                        items
                            .as_slice()
                            .get(bit as usize)
                            .is_some_and(|item| item.is(element.as_attr()))
                    });
                    let bit = match found {
                        Some(&(_, bit)) => bit,
                        None => {
                            if items.len() == 64 {
                                return None;
                            }
                            let bit = items.len() as u32;
                            keys.insert_unique(hash, (hash, bit), |&(hash, _)| hash);
                            items.push(element.clone());
                            bit
                        }
                    };
                    mask |= 1 << bit;
                }
            }
            masks.push(mask);
        }
        any_list.then_some(ListItems { items, masks })
    }
}

/// In [`Column::dates`]: the value does not read as a date.
const NOT_A_DATE: i64 = i64::MIN;

impl Column {
    fn new(values: Vec<Stored>, codes: Codes) -> Column {
        let dates = if values.iter().any(|v| matches!(v, Stored::List(_))) {
            None
        } else {
            let dates: Vec<i64> = values
                .iter()
                .map(|value| {
                    value
                        .parsed()
                        .and_then(|parsed| parsed.date())
                        .unwrap_or(NOT_A_DATE)
                })
                .collect();
            dates.iter().any(|&d| d != NOT_A_DATE).then_some(dates)
        };
        let list_items = ListItems::of(&values);
        let texts = TextArena::of(&values);
        Column {
            values,
            codes,
            dates,
            list_items,
            texts,
        }
    }
}

/// A value's hash, for dictionary encoding without copying the value (lists read
/// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep, as everywhere). The hasher is seeded at
/// random for each store, so values an endpoint chose cannot be made to collide on purpose;
/// equal hashes are told apart by comparing the values.
fn hash_of(attr: Attr<'_>, state: &foldhash::fast::RandomState) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    fn feed(attr: Attr<'_>, depth: usize, hasher: &mut impl Hasher) {
        match attr.at_depth(depth) {
            Attr::Null => 0u8.hash(hasher),
            Attr::Bool(b) => (1u8, b).hash(hasher),
            Attr::Number(n) => (2u8, n.to_bits()).hash(hasher),
            Attr::Text(t) => (3u8, t).hash(hasher),
            Attr::List(list) => {
                (4u8, list.len()).hash(hasher);
                for element in list.iter() {
                    feed(element, depth + 1, hasher);
                }
            }
            Attr::Opaque => 5u8.hash(hasher),
        }
    }
    let mut hasher = state.build_hasher();
    feed(attr, 0, &mut hasher);
    hasher.finish()
}

/// A dictionary entry: an owned copy of an attribute value, cut at
/// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH).
#[derive(Clone, Debug)]
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
        Stored::at(attr, 0)
    }

    fn at(attr: Attr<'_>, depth: usize) -> Stored {
        match attr.at_depth(depth) {
            Attr::Null => Stored::Null,
            Attr::Bool(b) => Stored::Bool(b),
            Attr::Number(n) => Stored::Number(n),
            Attr::Text(t) => {
                let folded = crate::matcher::fold_case(t);
                let folded = (folded != t).then(|| folded.into_owned());
                Stored::Text(t.to_owned(), crate::matcher::Parsed::of(t), folded)
            }
            Attr::List(list) => Stored::List(
                list.iter()
                    .map(|item| Stored::at(item, depth + 1))
                    .collect(),
            ),
            Attr::Opaque => Stored::Opaque,
        }
    }

    /// Whether this is the value `attr` (numbers by bits, as dictionary keys compare them).
    fn is(&self, attr: Attr<'_>) -> bool {
        self.is_at(attr, 0)
    }

    fn is_at(&self, attr: Attr<'_>, depth: usize) -> bool {
        match (self, attr.at_depth(depth)) {
            (Stored::Null, Attr::Null) | (Stored::Opaque, Attr::Opaque) => true,
            (Stored::Bool(a), Attr::Bool(b)) => *a == b,
            (Stored::Number(a), Attr::Number(b)) => a.to_bits() == b.to_bits(),
            (Stored::Text(a, _, _), Attr::Text(b)) => a == b,
            (Stored::List(items), Attr::List(list)) => {
                items.len() == list.len()
                    && items
                        .iter()
                        .zip(list.iter())
                        .all(|(item, element)| item.is_at(element, depth + 1))
            }
            _ => false,
        }
    }

    /// Whether two stored values are one value (as [`Stored::is`] compares them, without
    /// going through [`Attr`]; both are cut at the same depth, so this recurses no deeper).
    fn same(&self, other: &Stored) -> bool {
        match (self, other) {
            (Stored::Null, Stored::Null) | (Stored::Opaque, Stored::Opaque) => true,
            (Stored::Bool(a), Stored::Bool(b)) => a == b,
            (Stored::Number(a), Stored::Number(b)) => a.to_bits() == b.to_bits(),
            (Stored::Text(a, _, _), Stored::Text(b, _, _)) => a == b,
            (Stored::List(a), Stored::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            _ => false,
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

    /// The text, for a text value.
    fn text(&self) -> Option<&str> {
        match self {
            Stored::Text(text, _, _) => Some(text),
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

/// Builds a [`ColumnarFleet`] one machine at a time (for streaming input), or in chunks on
/// several threads that are then appended in order.
///
/// ```
/// use cohort::{Attr, GroupSet, Timestamp};
///
/// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'").unwrap();
/// let mut builder = groups.plan().columnar_builder();
/// assert_eq!(builder.fields(), ["Free Disk %"]);
/// // Values by field position, as a reader that knows the plan's fields hands them over.
/// builder.push_values(&[Some(Attr::Number(4.0))]);
/// // A chunk filled elsewhere (another thread) joins after the machines pushed so far.
/// let mut chunk = builder.chunk();
/// chunk.push_values(&[Some(Attr::Number(55.0))]);
/// chunk.push_values(&[Some(Attr::Number(7.5))]);
/// builder.append(chunk);
/// let fleet = builder.finish();
/// let members = fleet.evaluate(Timestamp::UNIX_EPOCH);
/// assert_eq!(members.members(groups.id("Low Disk").unwrap()).iter().collect::<Vec<_>>(), [0, 2]);
/// ```
#[derive(Debug)]
pub struct ColumnarBuilder<'p> {
    plan: &'p Plan,
    fields: Vec<String>,
    /// The hasher of every dictionary, shared with the chunks made by
    /// [`ColumnarBuilder::chunk`] so that appending them reuses their hashes.
    state: std::sync::Arc<foldhash::fast::RandomState>,
    columns: Vec<ColumnBuilder>,
    machines: usize,
}

/// One field's column as it is built: its distinct values, a hash table of their codes, and
/// each machine's code (0: missing).
#[derive(Debug)]
struct ColumnBuilder {
    /// `(hash, code)` of every distinct value (the value itself is in `values`, so the
    /// builder allocates nothing per distinct value but the value, and frees nothing when it
    /// finishes: freeing millions of keys made the allocator's next large request pay for
    /// merging them, about a second on a million hostnames).
    index: hashbrown::HashTable<(u64, u32)>,
    values: Vec<Stored>,
    codes: Vec<u32>,
}

impl ColumnBuilder {
    fn new() -> ColumnBuilder {
        ColumnBuilder {
            index: hashbrown::HashTable::new(),
            values: vec![Stored::Null],
            codes: Vec::new(),
        }
    }

    /// The code of `attr` (whose hash is `hash`), added to the dictionary if new; `make`
    /// makes the stored copy.
    fn code_of(&mut self, attr: Attr<'_>, hash: u64, make: impl FnOnce() -> Stored) -> u32 {
        let values = &self.values;
        let found = self.index.find(hash, |&(_, code)| {
            values
                .as_slice()
                .get(code as usize)
                .is_some_and(|value| value.is(attr))
        });
        match found {
            Some(&(_, code)) => code,
            None => {
                let code = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
                self.index
                    .insert_unique(hash, (hash, code), |&(hash, _)| hash);
                self.values.push(make());
                code
            }
        }
    }
}

impl<'p> ColumnarBuilder<'p> {
    /// A builder for the fields `plan` tests.
    pub fn new(plan: &'p Plan) -> Self {
        let fields: Vec<String> = plan.fields().into_iter().map(str::to_owned).collect();
        let columns = fields.iter().map(|_| ColumnBuilder::new()).collect();
        ColumnarBuilder {
            plan,
            fields,
            state: std::sync::Arc::new(foldhash::fast::RandomState::default()),
            columns,
            machines: 0,
        }
    }

    /// The fields stored, in the order [`ColumnarBuilder::push_values`] takes their values
    /// (the order of [`Plan::fields`]).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The number of machines pushed or appended so far.
    pub fn machine_count(&self) -> usize {
        self.machines
    }

    /// An empty builder for the same plan, to fill on another thread and then
    /// [`append`](ColumnarBuilder::append) to this one.
    pub fn chunk(&self) -> ColumnarBuilder<'p> {
        ColumnarBuilder {
            plan: self.plan,
            fields: self.fields.clone(),
            state: self.state.clone(),
            columns: self.fields.iter().map(|_| ColumnBuilder::new()).collect(),
            machines: 0,
        }
    }

    /// Appends one machine (its position is the number of machines pushed before it).
    pub fn push<M: Machine + ?Sized>(&mut self, machine: &M) {
        let state = &*self.state;
        for (column, field) in self.columns.iter_mut().zip(&self.fields) {
            let code = match machine.attr(field) {
                None => 0,
                Some(attr) => column.code_of(attr, hash_of(attr, state), || Stored::of(attr)),
            };
            column.codes.push(code);
        }
        self.machines += 1;
    }

    /// Appends one machine given by the values of [`ColumnarBuilder::fields`], in that
    /// order: `None` (or a position past the end of `values`) is a missing attribute.
    pub fn push_values(&mut self, values: &[Option<Attr<'_>>]) {
        self.push_with(|position| values.get(position).copied().flatten());
    }

    /// Appends one machine whose value of the field at each position of
    /// [`ColumnarBuilder::fields`] is `value_at(position)` (`None`: missing). Readers that
    /// keep a record's values in their own buffers use it to hand them over without
    /// collecting them first.
    ///
    /// ```
    /// use cohort::{Attr, GroupSet, Timestamp};
    ///
    /// let groups = GroupSet::from_yaml_str("name: Linux\nwhere: 'OS starts with Ubuntu'").unwrap();
    /// let mut builder = groups.plan().columnar_builder();
    /// let texts = ["Ubuntu 24.04", "Windows 11"];
    /// for text in texts {
    ///     builder.push_with(|_position| Some(Attr::Text(text)));
    /// }
    /// let members = builder.finish().evaluate(Timestamp::UNIX_EPOCH);
    /// assert_eq!(members.members(groups.id("Linux").unwrap()).count(), 1);
    /// ```
    pub fn push_with<'a>(&mut self, mut value_at: impl FnMut(usize) -> Option<Attr<'a>>) {
        let state = &*self.state;
        for (position, column) in self.columns.iter_mut().enumerate() {
            let code = match value_at(position) {
                None => 0,
                Some(attr) => column.code_of(attr, hash_of(attr, state), || Stored::of(attr)),
            };
            column.codes.push(code);
        }
        self.machines += 1;
    }

    /// Appends every machine of `chunk` after the machines of this builder, in order. The
    /// chunk is best made by [`ColumnarBuilder::chunk`]: each of its distinct values is then
    /// looked up once, by the hash it already has. A chunk for another plan contributes the
    /// fields both plans test (the others are missing on its machines).
    pub fn append(&mut self, chunk: ColumnarBuilder<'_>) {
        let same_hasher = std::sync::Arc::ptr_eq(&self.state, &chunk.state);
        let state = &*self.state;
        let machines = chunk.machines;
        let mut chunk_columns: Vec<Option<(String, ColumnBuilder)>> = chunk
            .fields
            .into_iter()
            .zip(chunk.columns)
            .map(Some)
            .collect();
        for (position, (column, field)) in self.columns.iter_mut().zip(&self.fields).enumerate() {
            let same_position = chunk_columns
                .get(position)
                .and_then(Option::as_ref)
                .is_some_and(|(name, _)| name == field);
            let taken = if same_position {
                chunk_columns.get_mut(position).and_then(Option::take)
            } else {
                chunk_columns
                    .iter_mut()
                    .find(|entry| entry.as_ref().is_some_and(|(name, _)| name == field))
                    .and_then(Option::take)
            };
            let Some((_, other)) = taken else {
                column.codes.extend(std::iter::repeat_n(0, machines));
                continue;
            };
            let mut hashes = vec![0u64; other.values.len()];
            if same_hasher {
                for &(hash, code) in other.index.iter() {
                    if let Some(slot) = hashes.get_mut(code as usize) {
                        *slot = hash;
                    }
                }
            }
            // The chunk's code 0 is "missing", as here.
            let mut remap = Vec::with_capacity(other.values.len());
            for (code, value) in other.values.into_iter().enumerate() {
                if code == 0 {
                    remap.push(0);
                    continue;
                }
                let hash = match hashes.get(code) {
                    Some(&hash) if same_hasher => hash,
                    _ => hash_of(value.as_attr(), state),
                };
                let attr_owner = value;
                let global = {
                    let values = &column.values;
                    column
                        .index
                        .find(hash, |&(_, existing)| {
                            values
                                .as_slice()
                                .get(existing as usize)
                                .is_some_and(|v| v.same(&attr_owner))
                        })
                        .map(|&(_, existing)| existing)
                };
                let global = global.unwrap_or_else(|| {
                    let code = u32::try_from(column.values.len()).unwrap_or(u32::MAX);
                    column
                        .index
                        .insert_unique(hash, (hash, code), |&(hash, _)| hash);
                    column.values.push(attr_owner);
                    code
                });
                remap.push(global);
            }
            column.codes.extend(
                other
                    .codes
                    .iter()
                    .map(|&code| remap.get(code as usize).copied().unwrap_or(0)),
            );
        }
        self.machines += machines;
    }

    /// The finished store.
    pub fn finish(self) -> ColumnarFleet<'p> {
        let columns = self
            .columns
            .into_iter()
            .map(|ColumnBuilder { values, codes, .. }| {
                let codes = if values.len() <= 1 << 8 {
                    Codes::U8(codes.into_iter().map(|c| c as u8).collect())
                } else if values.len() <= 1 << 16 {
                    Codes::U16(codes.into_iter().map(|c| c as u16).collect())
                } else {
                    Codes::U32(codes)
                };
                Column::new(values, codes)
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

/// The table of a predicate over a list column: a list value holds when `list_holds` says so
/// of the mask of its elements; other values are tested as they are.
fn list_table(
    column: &Column,
    items: &ListItems,
    predicate: &crate::plan::CompiledPredicate,
    now: Timestamp,
    buffer: &mut String,
    list_holds: impl Fn(u64) -> bool,
) -> Vec<bool> {
    column
        .values
        .iter()
        .zip(&items.masks)
        .enumerate()
        .map(|(code, (value, &mask))| match value {
            Stored::List(_) => list_holds(mask),
            _ if code == 0 => held_on(predicate, None, now, buffer),
            value => held_on(predicate, Some(value), now, buffer),
        })
        .collect()
}

/// Whether `predicate` holds on a dictionary value (`None`: missing), using the value's
/// text, folded text and parsed forms prepared once.
fn held_on(
    predicate: &crate::plan::CompiledPredicate,
    value: Option<&Stored>,
    now: Timestamp,
    buffer: &mut String,
) -> bool {
    let attr = value.map(Stored::as_attr);
    if let (Some(attr), Some(value)) = (attr, value) {
        let text = if predicate.fold {
            value.folded()
        } else {
            value.text()
        };
        if let Some(held) = predicate.kernel.try_run(attr, text) {
            return held;
        }
    }
    let mut ctx = Context {
        now: now.unix_millis(),
        fold: predicate.fold,
        buffer,
        parsed: value.and_then(Stored::parsed),
        folded: value.and_then(Stored::folded),
    };
    predicate.matcher.run(attr, &mut ctx) == Outcome::Held
}

/// Below this many machines, evaluation stays on one thread.
const PARALLEL_THRESHOLD: usize = 1 << 16;

impl Plan {
    /// A builder that stores machines column by column for this plan's fields, one at a
    /// time or in chunks.
    pub fn columnar_builder(&self) -> ColumnarBuilder<'_> {
        ColumnarBuilder::new(self)
    }

    /// Stores `machines` column by column for this plan's fields.
    pub fn columnar<M: Machine>(&self, machines: impl IntoIterator<Item = M>) -> ColumnarFleet<'_> {
        let mut builder = self.columnar_builder();
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
                    + column.texts.as_ref().map_or(0, TextArena::heap_bytes)
            })
            .sum()
    }

    /// Heap bytes used by one field's column (codes and dictionary), if the plan tests it.
    pub fn column_bytes(&self, field: &str) -> Option<usize> {
        let index = self.plan.fields().iter().position(|f| *f == field)?;
        let column = self.columns.get(index)?;
        Some(
            column.codes.heap_bytes()
                + column.values.iter().map(Stored::heap_bytes).sum::<usize>()
                + column.texts.as_ref().map_or(0, TextArena::heap_bytes),
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
        // Groups in evaluation order, so `member of` finds its group already combined.
        let mut groups: Vec<Bitset> = vec![Bitset::default(); self.plan.groups.len()];
        for id in &self.plan.evaluation_order {
            if let Some(group) = self.plan.groups.get(id.index()) {
                let set = self.combine(&group.formula, &predicates, &groups);
                if let Some(slot) = groups.get_mut(id.index()) {
                    *slot = set;
                }
            }
        }
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
            if let (Some((start, end)), Some(dates)) = (
                predicate.matcher.date_range(now.unix_millis()),
                &column.dates,
            ) {
                let table = dates
                    .iter()
                    .map(|&d| d != NOT_A_DATE && d >= start && d < end)
                    .collect();
                return (column_index, table);
            }
            if let (Some(items), Some(needles)) =
                (&column.list_items, predicate.matcher.contains_all_needles())
            {
                // `contains all of` on lists: each substring in some element.
                let needle_masks: Vec<u64> = needles
                    .iter()
                    .map(|needle| {
                        let mut mask = 0u64;
                        for (bit, item) in items.items.iter().enumerate() {
                            let mut ctx = Context {
                                now: now.unix_millis(),
                                fold: predicate.fold,
                                buffer: &mut buffer,
                                parsed: None,
                                folded: item.folded(),
                            };
                            if element_contains(item.as_attr(), needle, &mut ctx) {
                                mask |= 1 << bit;
                            }
                        }
                        mask
                    })
                    .collect();
                let table = list_table(column, items, predicate, now, &mut buffer, |mask| {
                    needle_masks.iter().all(|needle| mask & needle != 0)
                });
                return (column_index, table);
            }
            if let Some(items) = &column.list_items
                && predicate.matcher.holds_on_any_element()
            {
                // Lists: the test runs once per distinct element; a list holds when one of
                // its elements does.
                let mut held_items = 0u64;
                for (bit, item) in items.items.iter().enumerate() {
                    if held_on(predicate, Some(item), now, &mut buffer) {
                        held_items |= 1 << bit;
                    }
                }
                let table = list_table(column, items, predicate, now, &mut buffer, |mask| {
                    mask & held_items != 0
                });
                return (column_index, table);
            }
            if let Some(arena) = &column.texts
                && predicate.kernel.reads_text_only()
            {
                let table = arena
                    .texts(predicate.fold)
                    .zip(&column.values)
                    .enumerate()
                    .map(|(code, (text, value))| match text {
                        Some(text) if code != 0 => predicate
                            .kernel
                            .try_run(Attr::Text(text), Some(text))
                            .unwrap_or_else(|| held_on(predicate, Some(value), now, &mut buffer)),
                        _ => held_on(predicate, (code != 0).then_some(value), now, &mut buffer),
                    })
                    .collect();
                return (column_index, table);
            }
            let table = column
                .values
                .iter()
                .enumerate()
                .map(|(code, value)| {
                    let value = if code == 0 { None } else { Some(value) };
                    held_on(predicate, value, now, &mut buffer)
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

    fn combine(&self, formula: &Formula, predicates: &[Bitset], groups: &[Bitset]) -> Bitset {
        match formula {
            Formula::All(items) => {
                let mut set = Bitset::full(self.machines);
                for item in items {
                    set.and(&self.combine(item, predicates, groups));
                }
                set
            }
            Formula::Any(items) => {
                let mut set = Bitset::empty(self.machines);
                for item in items {
                    set.or(&self.combine(item, predicates, groups));
                }
                set
            }
            Formula::Not(item) => {
                let mut set = self.combine(item, predicates, groups);
                set.not();
                set
            }
            Formula::Member { group, negated, .. } => {
                let mut set = groups
                    .get(group.index())
                    .cloned()
                    .unwrap_or_else(|| Bitset::empty(self.machines));
                if *negated {
                    set.not();
                }
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

#[cfg(all(test, feature = "serde_json"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
    use serde_json::json;

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
        let (a, b, c) = (&a, &b, &c);
        fn list(value: &serde_json::Value) -> Attr<'_> {
            match value {
                serde_json::Value::Array(items) => Attr::List(items),
                _ => Attr::Null,
            }
        }
        let state = foldhash::fast::RandomState::default();
        assert_eq!(hash_of(list(a), &state), hash_of(list(b), &state));
        assert_ne!(hash_of(list(a), &state), hash_of(list(c), &state));
        let stored = Stored::of(list(a));
        assert!(stored.is(list(b)));
        assert!(!stored.is(list(c)));
        let mut levels = 0;
        let mut at = &stored;
        while let Stored::List(items) = at {
            levels += 1;
            at = &items[0];
        }
        assert_eq!(levels, crate::MAX_LIST_DEPTH);
        assert!(matches!(at, Stored::Opaque));
    }

    fn os_plan() -> Plan {
        let group = GroupDef {
            name: "G".into(),
            description: None,
            condition: Expr::Criterion(Criterion::new(
                "OS",
                Op::positive(Operator::Equal),
                vec![Literal::new("Linux")],
            )),
            loc: Loc::default(),
        };
        Plan::compile(&cohort_check::check(&[group]).unwrap())
    }

    /// Two values with one hash (forced here; a random-seeded hash makes it rare in
    /// practice) still get codes of their own.
    #[test]
    fn values_whose_hashes_collide_keep_codes_of_their_own() {
        let mut column = ColumnBuilder::new();
        let windows = column.code_of(Attr::Text("Windows"), 7, || {
            Stored::of(Attr::Text("Windows"))
        });
        let linux = column.code_of(Attr::Text("Linux"), 7, || Stored::of(Attr::Text("Linux")));
        assert_ne!(windows, linux);
        assert_eq!(
            column.code_of(Attr::Text("Linux"), 7, || Stored::Null),
            linux
        );
        assert_eq!(
            column.code_of(Attr::Text("Windows"), 7, || Stored::Null),
            windows
        );
        assert_eq!(column.values.len(), 3, "missing, Windows, Linux");
    }

    /// Chunks filled apart and appended in order store what pushing every machine into one
    /// builder stores, whichever builder each chunk came from.
    #[test]
    fn appended_chunks_equal_one_builder() {
        let plan = os_plan();
        let machines: Vec<serde_json::Value> = (0..500)
            .map(|i| match i % 4 {
                0 => json!({"OS": "Linux"}),
                1 => json!({"OS": format!("Windows {}", i % 7)}),
                2 => json!({}),
                _ => json!({"OS": ["Linux", i]}),
            })
            .collect();
        let whole = plan.columnar(&machines).evaluate(Timestamp::UNIX_EPOCH);
        for size in [1, 7, 64, 499] {
            let mut builder = plan.columnar_builder();
            let stranger = ColumnarBuilder::new(&plan);
            for (index, part) in machines.chunks(size).enumerate() {
                let mut chunk = if index % 2 == 0 {
                    builder.chunk()
                } else {
                    stranger.chunk()
                };
                for machine in part {
                    chunk.push(machine);
                }
                builder.append(chunk);
            }
            assert_eq!(builder.machine_count(), machines.len());
            let distinct = builder.columns[0].values.len();
            assert_eq!(distinct, 1 + 1 + 7 + 125, "each value once, size {size}");
            let fleet = builder.finish();
            assert_eq!(fleet.evaluate(Timestamp::UNIX_EPOCH), whole, "size {size}");
        }
    }

    /// A chunk of another plan gives the fields both plans test; the others are missing.
    #[test]
    fn a_chunk_of_another_plan_gives_the_shared_fields() {
        let plan = os_plan();
        let other = Plan::compile(
            &cohort_check::check(&[GroupDef {
                name: "H".into(),
                description: None,
                condition: Expr::Criterion(Criterion::new(
                    "Site",
                    Op::positive(Operator::Equal),
                    vec![Literal::new("HQ")],
                )),
                loc: Loc::default(),
            }])
            .unwrap(),
        );
        let mut builder = plan.columnar_builder();
        let mut chunk = other.columnar_builder();
        chunk.push(&json!({"OS": "Linux", "Site": "HQ"}));
        builder.push(&json!({"OS": "Linux"}));
        builder.append(chunk);
        let members: Vec<usize> = builder
            .finish()
            .evaluate(Timestamp::UNIX_EPOCH)
            .members(GroupId(0))
            .iter()
            .collect();
        assert_eq!(members, [0]);
    }

    #[test]
    fn stored_values_know_the_attributes_they_copy() {
        let list = vec![crate::Value::from("a"), crate::Value::from(1.0)];
        let attrs = [
            Attr::Null,
            Attr::Bool(true),
            Attr::Number(-0.0),
            Attr::Number(0.0),
            Attr::Text("x"),
            Attr::List(&list),
            Attr::Opaque,
        ];
        for (i, a) in attrs.iter().enumerate() {
            for (j, b) in attrs.iter().enumerate() {
                assert_eq!(Stored::of(*a).is(*b), i == j, "{a:?} against {b:?}");
                let state = foldhash::fast::RandomState::default();
                assert_eq!(
                    hash_of(*a, &state) == hash_of(*b, &state),
                    i == j,
                    "{a:?} against {b:?}"
                );
            }
        }
    }
}
