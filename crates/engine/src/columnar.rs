//! Columnar evaluation: a fleet stored column by column, and membership as bitsets.
//!
//! Every column is dictionary-encoded: each distinct value of a field is stored once (with
//! its number and date read in advance; a nearly unique column, "plain", stores values as
//! they come instead), and each machine holds a small code (`u8`, `u16` or
//! `u32`, whichever the dictionary needs). A predicate is therefore evaluated once per
//! *distinct value*, and each machine then costs one table lookup. Groups combine predicate
//! bitsets with word-wide AND, OR and NOT, so the cost grows with distinct predicates, not
//! with groups. Large fleets are split between the cores at 64-machine boundaries; results
//! are identical whatever the split.

use crate::Timestamp;
use crate::bits;
use crate::dictionary::{Dictionary, Interner, Needs, Prepared, hash_at, hash_of};
use crate::machine::OwnedAttr;
use crate::machine::{Attr, Machine};
use crate::matcher::ValueView;
use crate::matcher::{Context, element_contains};
use crate::plan::{FieldIndex, Formula, GroupId, Plan};

/// A set of machine positions, one bit each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
    len: usize,
}

impl Bitset {
    fn empty(len: usize) -> Self {
        Bitset {
            words: vec![0; bits::words_for(len)],
            len,
        }
    }

    fn full(len: usize) -> Self {
        let mut set = Bitset {
            words: vec![u64::MAX; bits::words_for(len)],
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
        position < self.len && bits::is_set(&self.words, position)
    }

    /// How many positions are in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The positions in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        bits::set_bits(&self.words)
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
            // `range` is within the machines stored.
            Codes::U8(c) => run(&c[range], table, out),
            Codes::U16(c) => run(&c[range], table, out),
            Codes::U32(c) => run(&c[range], table, out),
        }
    }
}

/// One field of every machine: its distinct values and each machine's code. Code 0 stands
/// for "missing".
#[derive(Debug)]
struct Column {
    dictionary: Dictionary,
    /// The folded text and parsed forms of every value of the dictionary.
    prepared: Prepared,
    codes: Codes,
    /// When no value is a list: the date each value reads as ([`NOT_A_DATE`] for values that
    /// are not text reading as a date), so date tests compare a flat array.
    dates: Option<Vec<i64>>,
    /// When the column holds lists of at most 64 distinct scalar elements in all: those
    /// elements, and for each value the mask of the elements it contains.
    list_items: Option<ListItems>,
}

/// The distinct elements of a list column, and each value's elements as a bit mask.
#[derive(Debug)]
struct ListItems {
    items: Vec<OwnedAttr>,
    /// Per item: its folded text and what it reads as, when it is a text.
    prepared: Vec<Option<(String, crate::matcher::Parsed)>>,
    masks: Vec<u64>,
}

impl ListItems {
    fn of(dictionary: &Dictionary) -> Option<ListItems> {
        if !dictionary.has_lists() {
            return None;
        }
        let state = foldhash::fast::RandomState::default();
        let mut keys: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::new();
        let mut items: Vec<OwnedAttr> = Vec::new();
        let mut masks = Vec::with_capacity(dictionary.len());
        for code in 0..dictionary.len() {
            let mut mask = 0u64;
            for element in dictionary.list(code).unwrap_or_default() {
                if matches!(element, OwnedAttr::List(_)) {
                    return None;
                }
                let hash = hash_of(element.as_attr(), &state);
                let found = keys.find(hash, |&(_, bit)| {
                    items
                        .as_slice()
                        .get(bit as usize)
                        .is_some_and(|item| item.same(element))
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
            masks.push(mask);
        }
        let prepared = items
            .iter()
            .map(|item| {
                item.text().map(|text| {
                    (
                        crate::matcher::fold_case(text).into_owned(),
                        crate::matcher::Parsed::of(text),
                    )
                })
            })
            .collect();
        Some(ListItems {
            items,
            prepared,
            masks,
        })
    }

    /// Item `bit` as a predicate reads it.
    fn item(&self, bit: usize) -> Option<ValueView<'_>> {
        let item = self.items.get(bit)?;
        let prepared = self.prepared.get(bit).and_then(Option::as_ref);
        Some(ValueView {
            attr: item.as_attr(),
            text: item.text(),
            folded: prepared.map(|(folded, _)| folded.as_str()),
            parsed: prepared.map(|&(_, parsed)| parsed),
        })
    }
}

/// In [`Column::dates`]: the value does not read as a date.
const NOT_A_DATE: i64 = i64::MIN;

impl Column {
    fn new(dictionary: Dictionary, codes: Codes, threads: usize, needs: Needs) -> Column {
        let prepared = Prepared::of(&dictionary, threads, needs);
        let dates = if dictionary.has_lists() || !needs.parsed {
            None
        } else {
            let dates: Vec<i64> = (0..dictionary.len())
                .map(|code| {
                    ValueView::of(&dictionary, &prepared, code)
                        .and_then(|value| value.parsed)
                        .and_then(|parsed| parsed.date())
                        .unwrap_or(NOT_A_DATE)
                })
                .collect();
            dates.iter().any(|&d| d != NOT_A_DATE).then_some(dates)
        };
        let list_items = ListItems::of(&dictionary);
        Column {
            dictionary,
            prepared,
            codes,
            dates,
            list_items,
        }
    }

    /// The value of `code` as a predicate reads it (`None`: code 0, missing).
    fn value(&self, code: usize) -> Option<ValueView<'_>> {
        ValueView::of(&self.dictionary, &self.prepared, code)
    }

    fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes()
            + self.dictionary.heap_bytes()
            + self.prepared.heap_bytes()
            + self.dates.as_ref().map_or(0, |d| d.capacity() * 8)
            + self
                .list_items
                .as_ref()
                .map_or(0, |l| l.masks.capacity() * 8)
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

/// One field's column as it is built: its distinct values with their codes, and each
/// machine's code (0: missing).
#[derive(Debug)]
struct ColumnBuilder {
    values: Interner,
    codes: Vec<u32>,
    /// The codes of `false` and `true` once given (0: not yet), so flags skip the lookup.
    flags: [u32; 2],
    /// Values given that are neither flags nor lists, until the column is judged.
    scalars: usize,
    judgement: Judgement,
    /// Whether the column was judged nearly unique, shared with the chunks of its builder
    /// (made by [`ColumnarBuilder::chunk`]), which are then plain from the start.
    plain: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Values of a column (not flags or lists) after which it is judged: when more than 15 in
/// 16 of them were distinct (host names, serial numbers), its interner becomes plain (see
/// [`Interner`]). Timestamps that repeat across the fleet, percentages, names of software
/// keep their dictionary. The unit tests judge after fewer values, so that their small
/// fleets have plain columns.
const PLAIN_JUDGED_AT: usize = if cfg!(test) { 1 << 9 } else { 1 << 16 };

/// Where a column stands with the judgement of [`PLAIN_JUDGED_AT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judgement {
    /// It counts its values and judges once it has enough.
    Pending,
    /// A chunk's column: it counts its values for the builder it is appended to, which
    /// judges.
    Counting,
    /// Judged (or made plain from the start): it counts no more.
    Done,
}

impl ColumnBuilder {
    fn new() -> ColumnBuilder {
        ColumnBuilder {
            values: Interner::new(),
            codes: Vec::new(),
            flags: [0; 2],
            scalars: 0,
            judgement: Judgement::Pending,
            plain: std::sync::Arc::default(),
        }
    }

    /// An empty column for a chunk of this one's builder: plain from the start when this
    /// column was judged plain.
    fn for_chunk(&self) -> ColumnBuilder {
        let mut column = ColumnBuilder {
            plain: self.plain.clone(),
            ..ColumnBuilder::new()
        };
        // A chunk holds too few machines to judge: the builder it is appended to judges.
        column.judgement = Judgement::Counting;
        if self.plain.load(std::sync::atomic::Ordering::Relaxed) {
            column.values.become_plain();
            column.judgement = Judgement::Done;
        }
        column
    }

    /// The code of `attr`, given before or new.
    #[inline]
    fn code_of(&mut self, attr: Attr<'_>, state: &foldhash::fast::RandomState) -> u32 {
        if let Attr::Bool(flag) = attr {
            return self.flag_code(flag, state);
        }
        self.count(attr);
        self.values.code_of(attr, state)
    }

    /// Counts a value given towards the judgement (flags and lists do not count).
    #[inline]
    fn count(&mut self, attr: Attr<'_>) {
        if !matches!(attr, Attr::List(_) | Attr::Bool(_)) {
            self.count_scalars(1);
        }
    }

    /// Counts `count` values that are neither flags nor lists; judges when the column does
    /// and has enough.
    #[inline]
    fn count_scalars(&mut self, count: usize) {
        if self.judgement == Judgement::Done {
            return;
        }
        self.scalars += count;
        if self.judgement == Judgement::Pending && self.scalars >= PLAIN_JUDGED_AT {
            self.judge();
        }
    }

    /// Makes the column plain when nearly every value given so far was distinct.
    fn judge(&mut self) {
        self.judgement = Judgement::Done;
        if self.values.distinct_scalars() * 16 > self.scalars * 15 {
            self.values.become_plain();
            self.plain.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[inline]
    fn flag_code(&mut self, flag: bool, state: &foldhash::fast::RandomState) -> u32 {
        let slot = usize::from(flag);
        match self.flags.get(slot).copied() {
            Some(code) if code != 0 => code,
            _ => {
                let code = self.values.code_of(Attr::Bool(flag), state);
                if let Some(cached) = self.flags.get_mut(slot) {
                    *cached = code;
                }
                code
            }
        }
    }

    /// Moves the values and codes of `other` (another builder's column of `machines`
    /// machines, `None` when it has no such column) after this column's.
    fn absorb(
        &mut self,
        other: Option<ColumnBuilder>,
        machines: usize,
        same_hasher: bool,
        state: &foldhash::fast::RandomState,
    ) {
        let Some(other) = other else {
            self.codes.extend(std::iter::repeat_n(0, machines));
            return;
        };
        let remap = self.values.absorb(other.values, same_hasher, state);
        self.count_scalars(other.scalars);
        self.codes.extend(
            other
                .codes
                .iter()
                .map(|&code| remap.get(code as usize).copied().unwrap_or(0)),
        );
    }
}

/// One field's values for the rows given to [`ColumnarBuilder::append_columns`], written a
/// column at a time: values one by one ([`ColumnWriter::push`], [`ColumnWriter::extend`]),
/// flags without a lookup, dictionary-encoded data by its distinct values
/// ([`ColumnWriter::extend_dictionary`]), lists from their elements
/// ([`ColumnWriter::extend_lists`]). Every way stores the same values: a value given as a
/// dictionary key or list range gets the code the value given by itself would (in a plain
/// column, where every value gets a code of its own, the same value under another code).
///
/// At most [`ColumnWriter::remaining`] values are taken (more are ignored); rows left
/// unwritten are missing.
#[derive(Debug)]
pub struct ColumnWriter<'c> {
    column: &'c mut ColumnBuilder,
    state: &'c foldhash::fast::RandomState,
    /// The number of codes of the column once every row is written.
    end: usize,
    /// The number of codes it had when the writer was made.
    start: usize,
    /// Element hashes of the list being written.
    hashes: Vec<u64>,
}

impl ColumnWriter<'_> {
    /// How many rows have been written through this writer.
    pub fn written(&self) -> usize {
        self.column.codes.len() - self.start
    }

    /// How many rows are still to be written.
    pub fn remaining(&self) -> usize {
        self.end.saturating_sub(self.column.codes.len())
    }

    /// Writes the next row's value (`None`: missing).
    #[inline]
    pub fn push(&mut self, value: Option<Attr<'_>>) {
        if self.column.codes.len() < self.end {
            let code = match value {
                None => 0,
                Some(attr) => self.column.code_of(attr, self.state),
            };
            self.column.codes.push(code);
        }
    }

    /// Writes the next rows' values, in order.
    pub fn extend<'v>(&mut self, values: impl IntoIterator<Item = Option<Attr<'v>>>) {
        let remaining = self.remaining();
        let state = self.state;
        let column = &mut *self.column;
        for value in values.into_iter().take(remaining) {
            let code = match value {
                None => 0,
                Some(attr) => column.code_of(attr, state),
            };
            column.codes.push(code);
        }
    }

    /// Writes `count` missing values.
    pub fn extend_missing(&mut self, count: usize) {
        let count = count.min(self.remaining());
        self.column.codes.extend(std::iter::repeat_n(0, count));
    }

    /// Writes the next rows' flags (`None`: missing), each stored as [`Attr::Bool`] without
    /// a dictionary lookup.
    pub fn extend_flags(&mut self, flags: impl IntoIterator<Item = Option<bool>>) {
        let remaining = self.remaining();
        let state = self.state;
        let column = &mut *self.column;
        let codes = [
            column.flag_code(false, state),
            column.flag_code(true, state),
        ];
        column
            .codes
            .extend(flags.into_iter().take(remaining).map(|flag| match flag {
                None => 0,
                Some(flag) => codes[usize::from(flag)],
            }));
    }

    /// Writes dictionary-encoded rows: `values` are the distinct values (`None`: a value
    /// that reads as missing), each looked up once, and each of `keys` is the next row's
    /// value as an index into them (`None`, or an index past the end: missing).
    pub fn extend_dictionary<'v>(
        &mut self,
        values: impl IntoIterator<Item = Option<Attr<'v>>>,
        keys: impl IntoIterator<Item = Option<usize>>,
    ) {
        let state = self.state;
        let remaining = self.remaining();
        let column = &mut *self.column;
        // Only the values some key uses are stored, as when rows are given one by one.
        let values: Vec<Option<Attr<'v>>> = values.into_iter().collect();
        let mut codes: Vec<u32> = vec![u32::MAX; values.len()];
        for key in keys.into_iter().take(remaining) {
            let code = match key.and_then(|key| Some((key, *values.get(key)?))) {
                None | Some((_, None)) => 0,
                Some((key, Some(attr))) => match codes.get(key).copied() {
                    Some(code) if code != u32::MAX => {
                        // A repeat counts towards the judgement as it would row by row.
                        column.count(attr);
                        code
                    }
                    _ => {
                        let code = column.code_of(attr, state);
                        if let Some(slot) = codes.get_mut(key) {
                            *slot = code;
                        }
                        code
                    }
                },
            };
            column.codes.push(code);
        }
    }

    /// Writes rows whose values are lists: each of `lists` is the next row's list as a range
    /// of `elements` (`None`, or a range past the end of `elements`: missing). Elements are
    /// hashed once each and read [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep, as
    /// everywhere.
    pub fn extend_lists<'v>(
        &mut self,
        elements: &[Attr<'v>],
        lists: impl IntoIterator<Item = Option<std::ops::Range<usize>>>,
    ) {
        let state = self.state;
        let remaining = self.remaining();
        let column = &mut *self.column;
        let hashes = &mut self.hashes;
        for list in lists.into_iter().take(remaining) {
            let code = match list.and_then(|range| elements.get(range)) {
                None => 0,
                Some(items) => {
                    hashes.clear();
                    hashes.extend(items.iter().map(|&item| hash_at(item, 1, state)));
                    column.values.code_of_list(items, hashes, state)
                }
            };
            column.codes.push(code);
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
            columns: self.columns.iter().map(ColumnBuilder::for_chunk).collect(),
            machines: 0,
        }
    }

    /// Appends one machine (its position is the number of machines pushed before it).
    pub fn push<M: Machine + ?Sized>(&mut self, machine: &M) {
        let state = &*self.state;
        for (column, field) in self.columns.iter_mut().zip(&self.fields) {
            let code = match machine.attr(field) {
                None => 0,
                Some(attr) => column.code_of(attr, state),
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
                Some(attr) => column.code_of(attr, state),
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
        let mut jobs: Vec<(&mut ColumnBuilder, Option<ColumnBuilder>)> = Vec::new();
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
            jobs.push((column, taken.map(|(_, other)| other)));
        }
        let threads = if machines >= APPEND_PARALLEL_MIN && jobs.len() > 1 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            1
        };
        if threads <= 1 {
            for (column, other) in jobs {
                column.absorb(other, machines, same_hasher, state);
            }
        } else {
            // Columns are merged apart on every core, the largest dictionaries first, each
            // to the least loaded thread.
            let weight = |other: &Option<ColumnBuilder>| {
                other.as_ref().map_or(0, |o| o.values.distinct()) + machines / 8
            };
            let shares = share_out(jobs, threads, |(_, other)| weight(other));
            std::thread::scope(|scope| {
                let mut shares = shares.into_iter();
                let own = shares.next();
                for share in shares {
                    scope.spawn(move || {
                        for (column, other) in share {
                            column.absorb(other, machines, same_hasher, state);
                        }
                    });
                }
                for (column, other) in own.unwrap_or_default() {
                    column.absorb(other, machines, same_hasher, state);
                }
            });
        }
        self.machines += machines;
    }

    /// Appends `rows` machines given a column at a time: `fill(position, writer)` is called
    /// once for each field of [`ColumnarBuilder::fields`], in order, and writes that field's
    /// values of the rows through `writer`; the rows it leaves unwritten are missing. Readers
    /// of columnar data (Arrow, Parquet) use it to store a column without handing over a
    /// row at a time, and dictionary-encoded data by its distinct values.
    ///
    /// ```
    /// use cohort::{Attr, GroupSet, Timestamp};
    ///
    /// let groups = GroupSet::from_yaml_str(
    ///     "name: Rebooting Servers\nwhere: Machine Type = Server and Pending Reboot = true",
    /// ).unwrap();
    /// let mut builder = groups.plan().columnar_builder();
    /// let fields = builder.fields().to_vec();
    /// builder.append_columns(3, |position, writer| match fields[position].as_str() {
    ///     "Machine Type" => writer.extend_dictionary(
    ///         [Some(Attr::Text("Server")), Some(Attr::Text("Laptop"))],
    ///         [Some(0), Some(1), Some(0)],
    ///     ),
    ///     _ => writer.extend_flags([Some(true), Some(true), None]),
    /// });
    /// let members = builder.finish().evaluate(Timestamp::UNIX_EPOCH);
    /// let id = groups.id("Rebooting Servers").unwrap();
    /// assert_eq!(members.members(id).iter().collect::<Vec<_>>(), [0]);
    /// ```
    pub fn append_columns(
        &mut self,
        rows: usize,
        mut fill: impl FnMut(usize, &mut ColumnWriter<'_>),
    ) {
        let state = &*self.state;
        let end = self.machines + rows;
        for (position, column) in self.columns.iter_mut().enumerate() {
            column.codes.reserve(rows);
            let start = column.codes.len();
            let mut writer = ColumnWriter {
                column,
                state,
                end,
                start,
                hashes: Vec::new(),
            };
            fill(position, &mut writer);
            let ColumnWriter { column, .. } = writer;
            column.codes.resize(end, 0);
        }
        self.machines = end;
    }

    /// Appends machines whose columns are written apart, on threads of their own if the
    /// caller likes: `fill` gets one writer per field of [`ColumnarBuilder::fields`], in
    /// that order, to share out, and returns how many machines it gave (with a result of
    /// its own). Each column is then cut or padded to that many values: the rows a column
    /// was not given are missing. Reading a file by columns rather than by rows this way
    /// builds each column's dictionary once, with nothing to merge.
    ///
    /// ```
    /// use cohort::{Attr, GroupSet, Timestamp};
    ///
    /// let groups = GroupSet::from_yaml_str(
    ///     "name: Low Disk Servers\nwhere: '[Free Disk %] < 10 and Machine Type = Server'",
    /// ).unwrap();
    /// let mut builder = groups.plan().columnar_builder();
    /// let fields = builder.fields().to_vec();
    /// builder.append_by_column(|writers| {
    ///     std::thread::scope(|scope| {
    ///         for (field, mut writer) in fields.iter().zip(writers) {
    ///             scope.spawn(move || match field.as_str() {
    ///                 "Machine Type" => writer.extend([Some(Attr::Text("Server")); 2]),
    ///                 _ => writer.extend([Some(Attr::Number(4.0)), Some(Attr::Number(50.0))]),
    ///             });
    ///         }
    ///     });
    ///     (2, ())
    /// });
    /// let members = builder.finish().evaluate(Timestamp::UNIX_EPOCH);
    /// let id = groups.id("Low Disk Servers").unwrap();
    /// assert_eq!(members.members(id).iter().collect::<Vec<_>>(), [0]);
    /// ```
    pub fn append_by_column<R>(
        &mut self,
        fill: impl FnOnce(Vec<ColumnWriter<'_>>) -> (usize, R),
    ) -> R {
        let state = &*self.state;
        let writers = self
            .columns
            .iter_mut()
            .map(|column| {
                let start = column.codes.len();
                ColumnWriter {
                    column,
                    state,
                    end: usize::MAX,
                    start,
                    hashes: Vec::new(),
                }
            })
            .collect();
        let (rows, result) = fill(writers);
        let end = self.machines + rows;
        for column in &mut self.columns {
            column.codes.resize(end, 0);
        }
        self.machines = end;
        result
    }

    /// The finished store: each column's codes narrowed to what its dictionary needs, and
    /// what predicates read of its values (folded text, numbers, dates) prepared once per
    /// distinct value, on every core for large dictionaries.
    pub fn finish(self) -> ColumnarFleet<'p> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let plan = self.plan;
        let finish_column =
            |position: usize, ColumnBuilder { values, codes, .. }: ColumnBuilder, threads| {
                let dictionary = values.into_dictionary();
                let codes = if dictionary.len() <= 1 << 8 {
                    Codes::U8(codes.into_iter().map(|c| c as u8).collect())
                } else if dictionary.len() <= 1 << 16 {
                    Codes::U16(codes.into_iter().map(|c| c as u16).collect())
                } else {
                    Codes::U32(codes)
                };
                Column::new(
                    dictionary,
                    codes,
                    threads,
                    plan.needs(FieldIndex(position as u32)),
                )
            };
        let machines = self.machines;
        let weight = |column: &ColumnBuilder| column.values.distinct() + machines / 8;
        let total: usize = self.columns.iter().map(weight).sum();
        let largest = self.columns.iter().map(weight).max().unwrap_or(0);
        // Column by column (each prepared on every core) when one column is most of the
        // work, or there is little of it.
        let columns = if threads <= 1
            || self.columns.len() < 2
            || machines < APPEND_PARALLEL_MIN
            || largest * 2 > total
        {
            self.columns
                .into_iter()
                .enumerate()
                .map(|(position, column)| finish_column(position, column, threads))
                .collect()
        } else {
            // Columns are finished apart on every core, the largest dictionaries first, each
            // to the least loaded thread; then put back in field order.
            let jobs: Vec<(usize, ColumnBuilder)> = self.columns.into_iter().enumerate().collect();
            let shares = share_out(jobs, threads, |(_, column)| weight(column));
            let finish_share = |share: Vec<(usize, ColumnBuilder)>| {
                share
                    .into_iter()
                    .map(|(position, column)| (position, finish_column(position, column, 1)))
                    .collect::<Vec<_>>()
            };
            let mut finished: Vec<(usize, Column)> = std::thread::scope(|scope| {
                let mut shares = shares.into_iter();
                let own = shares.next();
                let handles: Vec<_> = shares
                    .map(|share| {
                        let finish_share = &finish_share;
                        scope.spawn(move || finish_share(share))
                    })
                    .collect();
                let mut finished = finish_share(own.unwrap_or_default());
                for handle in handles {
                    // A panic in a worker is a bug: re-raise it.
                    finished.extend(
                        handle
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    );
                }
                finished
            });
            finished.sort_by_key(|(position, _)| *position);
            finished.into_iter().map(|(_, column)| column).collect()
        };
        ColumnarFleet {
            plan: self.plan,
            columns,
            machines,
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
    items
        .masks
        .iter()
        .enumerate()
        .map(|(code, &mask)| {
            if column.dictionary.list(code).is_some() {
                list_holds(mask)
            } else {
                predicate.holds(column.value(code), now.unix_millis(), buffer)
            }
        })
        .collect()
}

/// `jobs` shared out between `threads` threads: the heaviest first, each to the least
/// loaded share.
fn share_out<T>(mut jobs: Vec<T>, threads: usize, weight: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    jobs.sort_by_key(|job| std::cmp::Reverse(weight(job)));
    let mut shares: Vec<(usize, Vec<T>)> = (0..threads.max(1)).map(|_| (0, Vec::new())).collect();
    for job in jobs {
        let job_weight = weight(&job);
        if let Some(share) = shares.iter_mut().min_by_key(|(load, _)| *load) {
            share.0 += job_weight;
            share.1.push(job);
        }
    }
    shares.into_iter().map(|(_, share)| share).collect()
}

/// Below this many machines in a chunk, [`ColumnarBuilder::append`] merges on one thread.
const APPEND_PARALLEL_MIN: usize = 1 << 14;

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

    /// Heap bytes used by the columns: codes, dictionaries and the forms prepared from them.
    pub fn heap_bytes(&self) -> usize {
        self.columns.iter().map(Column::heap_bytes).sum()
    }

    /// Heap bytes used by one field's column (codes and dictionary), if the plan tests it.
    pub fn column_bytes(&self, field: &str) -> Option<usize> {
        let index = self.plan.fields().iter().position(|f| *f == field)?;
        self.columns.get(index).map(Column::heap_bytes)
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
        let table = |predicate: &crate::plan::CompiledPredicate| {
            let mut buffer = String::new();
            // The plan's fields are the store's columns, in the same order.
            let column_index = predicate.field.index();
            let column = &self.columns[column_index];
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
                        for bit in 0..items.items.len() {
                            let Some(item) = items.item(bit) else {
                                continue;
                            };
                            let mut ctx =
                                Context::new(now.unix_millis(), predicate.fold, &mut buffer);
                            ctx.folded = item.folded;
                            if element_contains(item.attr, needle, &mut ctx) {
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
                for bit in 0..items.items.len() {
                    if predicate.holds(items.item(bit), now.unix_millis(), &mut buffer) {
                        held_items |= 1 << bit;
                    }
                }
                let table = list_table(column, items, predicate, now, &mut buffer, |mask| {
                    mask & held_items != 0
                });
                return (column_index, table);
            }
            let table = (0..column.dictionary.len())
                .map(|code| predicate.holds(column.value(code), now.unix_millis(), &mut buffer))
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
        let words = bits::words_for(self.machines);
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

    /// A group of one criterion: `field operator value`.
    fn group(name: &str, field: &str, operator: Operator, value: &str) -> GroupDef {
        GroupDef {
            name: name.into(),
            description: None,
            condition: Expr::Criterion(Criterion::new(
                field,
                Op::positive(operator),
                vec![Literal::new(value)],
            )),
            loc: Loc::default(),
        }
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

    /// A column is judged plain by its rows, not by its distinct keys or lists: a dictionary
    /// whose values each repeat, given by keys, and unique lists beside a repeated text keep
    /// their dictionary; unique texts do not.
    #[test]
    fn plain_is_judged_by_rows() {
        let plan = os_plan();
        let names: Vec<String> = (0..600).map(|i| format!("OS {i}")).collect();
        let mut keyed = plan.columnar_builder();
        keyed.append_columns(60_000, |_, writer| {
            writer.extend_dictionary(
                names.iter().map(|n| Some(Attr::Text(n))),
                (0..60_000).map(|row| Some(row / 100)),
            );
        });
        assert!(
            !keyed.columns[0].values.is_plain(),
            "600 values, 100 rows each"
        );
        let lists: Vec<Vec<serde_json::Value>> = (0..2_000)
            .map(|i| vec![json!(format!("item {i}"))])
            .collect();
        let mut mixed = plan.columnar_builder();
        for list in &lists {
            mixed.push_values(&[Some(Attr::Text("n/a"))]);
            mixed.push_values(&[Some(Attr::List(list))]);
        }
        assert!(
            !mixed.columns[0].values.is_plain(),
            "one text, unique lists"
        );
        let mut unique = plan.columnar_builder();
        for name in &names {
            unique.push_values(&[Some(Attr::Text(name))]);
        }
        assert!(unique.columns[0].values.is_plain());
        let fleet = unique.finish();
        assert_eq!(
            fleet
                .evaluate(Timestamp::UNIX_EPOCH)
                .members(GroupId(0))
                .count(),
            0
        );
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

    /// Dictionaries large enough to be prepared on several threads evaluate as the row path
    /// does, in one builder and in appended chunks (text, case folding and dates).
    #[test]
    fn large_dictionaries_evaluate_as_the_row_path() {
        let groups = [
            group("Host", "Hostname", Operator::StartsWith, "host-1"),
            group("Seen", "Last Seen", Operator::GreaterThan, "2026-01-15"),
        ];
        let plan = Plan::compile(&cohort_check::check(&groups).unwrap());
        let machines: Vec<serde_json::Value> = (0..40_000)
            .map(|i| match i % 7 {
                0 => json!({}),
                1 => json!({"Hostname": ["host-1", i]}),
                _ => json!({
                    "Hostname": format!("HOST-{}", i % 30_000),
                    "Last Seen": format!("2026-01-{:02}T{:02}:00:00Z", 1 + i % 28, i % 24),
                }),
            })
            .collect();
        let mut scratch = crate::Scratch::new();
        let row: Vec<Vec<usize>> = [GroupId(0), GroupId(1)]
            .iter()
            .map(|&group| {
                machines
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| {
                        plan.memberships(*m, Timestamp::UNIX_EPOCH, &mut scratch)
                            .contains(group)
                    })
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        assert!(row.iter().all(|members| members.len() > 1000));
        let mut one = plan.columnar_builder();
        for machine in &machines {
            one.push(machine);
        }
        // Nearly unique host names: stored as they come, repeats under codes of their own;
        // dates that repeat keep their dictionary.
        assert!(one.columns[0].values.is_plain());
        assert!(!one.columns[1].values.is_plain());
        assert!(
            one.columns[1].values.distinct() <= 168,
            "28 days x 24 hours at most"
        );
        let whole = one.finish().evaluate(Timestamp::UNIX_EPOCH);
        for (group, expected) in row.iter().enumerate() {
            let members: Vec<usize> = whole.members(GroupId(group as u32)).iter().collect();
            assert_eq!(&members, expected, "group {group}");
        }
        // Chunks never judge: the builder judges once it holds enough values, and the
        // chunks made after that are plain from the start.
        let mut builder = plan.columnar_builder();
        let (first, rest) = machines.split_at(300);
        for (index, part) in std::iter::once(first).chain(rest.chunks(3_000)).enumerate() {
            let mut chunk = builder.chunk();
            for machine in part {
                chunk.push(machine);
            }
            assert_eq!(
                chunk.columns[0].values.is_plain(),
                index >= 2,
                "chunk {index}"
            );
            builder.append(chunk);
            assert_eq!(
                builder.columns[0].values.is_plain(),
                index >= 1,
                "after {index}"
            );
            assert!(!builder.columns[1].values.is_plain());
        }
        assert_eq!(builder.finish().evaluate(Timestamp::UNIX_EPOCH), whole);
    }

    /// Every way of writing a column (value by value, flags, dictionary keys, list ranges,
    /// columns written apart on threads) stores what pushing the machines one by one does.
    #[test]
    fn columns_written_whole_equal_machines_pushed_one_by_one() {
        let groups = [
            group("A", "Flag", Operator::Equal, "true"),
            group("B", "Kind", Operator::StartsWith, "ser"),
            group("C", "Apps", Operator::ContainsAnyOf, "Slack"),
            group("D", "Free", Operator::LessThan, "10"),
        ];
        let plan = Plan::compile(&cohort_check::check(&groups).unwrap());
        let kinds = [Some("Server"), None, Some("Laptop"), Some("server 2")];
        let apps = ["Slack", "Zoom", "Google Chrome"];
        let rows = 70_000usize;
        let machines: Vec<serde_json::Value> = (0..rows)
            .map(|i| {
                let mut machine = serde_json::Map::new();
                if i % 5 != 0 {
                    machine.insert("Flag".into(), json!(i % 3 == 0));
                }
                if let Some(kind) = kinds[i % 4] {
                    machine.insert("Kind".into(), json!(kind));
                }
                if i % 7 != 0 {
                    let list: Vec<&str> = (0..i % 4).map(|k| apps[(i + k) % 3]).collect();
                    machine.insert("Apps".into(), json!(list));
                }
                machine.insert("Free".into(), json!((i % 40) as f64 / 2.0));
                serde_json::Value::Object(machine)
            })
            .collect();
        let expected = plan.columnar(&machines).evaluate(Timestamp::UNIX_EPOCH);
        let write = |field: &str, range: std::ops::Range<usize>, writer: &mut ColumnWriter<'_>| {
            let part = &machines[range];
            match field {
                "Flag" => writer.extend_flags(part.iter().map(|m| m["Flag"].as_bool())),
                "Kind" => writer.extend_dictionary(
                    kinds.iter().map(|kind| kind.map(Attr::Text)),
                    part.iter().map(|m| {
                        let kind = m.get("Kind").and_then(serde_json::Value::as_str);
                        kind.and_then(|kind| kinds.iter().position(|k| *k == Some(kind)))
                    }),
                ),
                "Apps" => {
                    let mut elements: Vec<Attr<'_>> = Vec::new();
                    let mut ranges = Vec::new();
                    for machine in part {
                        match machine.get("Apps").and_then(serde_json::Value::as_array) {
                            Some(list) => {
                                let start = elements.len();
                                elements
                                    .extend(list.iter().filter_map(|v| v.as_str().map(Attr::Text)));
                                ranges.push(Some(start..elements.len()));
                            }
                            None => ranges.push(None),
                        }
                    }
                    writer.extend_lists(&elements, ranges);
                }
                _ => writer.extend(part.iter().map(|m| m.attr(field))),
            }
        };
        // A row at a time's worth of columns, in two appends.
        let mut builder = plan.columnar_builder();
        let fields = builder.fields().to_vec();
        for range in [0..1_000, 1_000..rows] {
            let length = range.len();
            builder.append_columns(length, |position, writer| {
                write(&fields[position], range.clone(), writer);
                assert_eq!(writer.remaining(), 0);
            });
        }
        assert_eq!(builder.finish().evaluate(Timestamp::UNIX_EPOCH), expected);
        // Columns written apart, on threads of their own.
        let mut builder = plan.columnar_builder();
        builder.append_by_column(|writers| {
            std::thread::scope(|scope| {
                for (field, mut writer) in fields.iter().zip(writers) {
                    let write = &write;
                    scope.spawn(move || write(field, 0..rows, &mut writer));
                }
            });
            (rows, ())
        });
        assert_eq!(builder.machine_count(), rows);
        assert_eq!(builder.finish().evaluate(Timestamp::UNIX_EPOCH), expected);
        // Chunks written whole and appended (merged on several threads).
        let mut builder = plan.columnar_builder();
        for range in [0..30_000, 30_000..rows] {
            let mut chunk = builder.chunk();
            chunk.append_columns(range.len(), |position, writer| {
                write(&fields[position], range.clone(), writer)
            });
            builder.append(chunk);
        }
        assert_eq!(builder.finish().evaluate(Timestamp::UNIX_EPOCH), expected);
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
}
