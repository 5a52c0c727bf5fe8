//! Loading a whole fleet into the live tracker's columns
//! ([`MembershipTracker::from_fleet`](crate::MembershipTracker::from_fleet)).
//!
//! Reading a machine's fields (through [`Machine::attr`]) and putting them into the
//! dictionaries (lookups in tables of up to a million entries, mostly cache misses) cost
//! about as much. On a large fleet the calling thread reads each machine, hashes its id and
//! values (with copies of the tables' seeded hashers) and copies them into a chunk of owned
//! values; a second thread puts the chunks into the ids and columns. Machines never leave
//! the calling thread, so they need not be `Send`. Small fleets, or one core, are loaded on
//! the calling thread alone; the result is the same either way.

use crate::live_columns::{
    FieldColumn, IdHasher, ListView, MachineIds, PackedItem, ValueHasher, pack,
};
use crate::machine::{Attr, Machine};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// From this many machines (as the fleet's size hint says), loading uses a second thread.
const PIPELINED_MACHINES: usize = 1 << 16;

/// Machines a chunk holds.
const CHUNK_MACHINES: usize = 1024;

/// Chunks read ahead of the encoding thread.
const CHUNKS_AHEAD: usize = 4;

/// After this many machines, the columns whose values look unique to each machine make room
/// for the rest of the fleet (a smaller sample takes columns of a few thousand values, such
/// as percentages or lists of software, for unique ones, and their tables made too large
/// then cost a cache miss a machine).
///
/// The unit tests judge after far fewer machines, so that their small fleets have plain
/// columns (see [`FieldColumn::become_plain`]).
const SAMPLE_MACHINES: usize = if cfg!(test) { 1 << 9 } else { 1 << 16 };

/// Loads `machines` into `ids` and `columns` (by field, `fields` naming them). A repeated
/// id keeps its last machine. The columns' uses are counted at the end
/// ([`FieldColumn::finish_load`]).
pub(crate) fn load_fleet<I, M>(
    machines: I,
    fields: &[&str],
    ids: &mut MachineIds,
    columns: &mut [FieldColumn],
) where
    I: IntoIterator<Item = (String, M)>,
    M: Machine,
{
    let machines = machines.into_iter();
    let expected = machines.size_hint().0;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pipelined = expected >= PIPELINED_MACHINES && cores >= 2;
    load_fleet_on(machines, fields, ids, columns, pipelined);
}

/// [`load_fleet`], with a second thread to encode when `pipelined`.
pub(crate) fn load_fleet_on<I, M>(
    machines: I,
    fields: &[&str],
    ids: &mut MachineIds,
    columns: &mut [FieldColumn],
    pipelined: bool,
) where
    I: IntoIterator<Item = (String, M)>,
    M: Machine,
{
    let machines = machines.into_iter();
    let expected = machines.size_hint().0;
    ids.reserve(expected);
    for column in columns.iter_mut() {
        column.reserve_slots(expected);
    }
    let plain: Vec<AtomicBool> = columns.iter().map(|_| AtomicBool::new(false)).collect();
    let mut encoder = Encoder {
        ids,
        columns,
        expected,
        loaded: 0,
        plain: &plain,
    };
    if !pipelined {
        for (id, machine) in machines {
            let Some(slot) = encoder.slot(&id) else {
                continue;
            };
            for (index, name) in fields.iter().enumerate() {
                encoder.set(slot, index, machine.attr(name));
            }
            encoder.loaded_one();
        }
    } else {
        std::thread::scope(|scope| {
            let (sender, chunks) = mpsc::sync_channel::<Chunk>(CHUNKS_AHEAD);
            let (give_back, given_back) = mpsc::channel::<Chunk>();
            let field_count = fields.len();
            // The reading thread hashes what it reads, with copies of the tables' hashers.
            let hashers = Hashers {
                ids: encoder.ids.id_hasher(),
                values: encoder
                    .columns
                    .iter()
                    .map(FieldColumn::value_hasher)
                    .collect(),
                plain: &plain,
            };
            let worker = scope.spawn(move || {
                for mut chunk in chunks {
                    encoder.encode(&chunk, field_count);
                    chunk.clear();
                    // The reader may be gone already: then the chunk is just dropped.
                    let _ = give_back.send(chunk);
                }
            });
            let mut chunk = Chunk::default();
            for (id, machine) in machines {
                chunk.stage(&id, &machine, fields, &hashers);
                if chunk.ids.len() == CHUNK_MACHINES {
                    let next = given_back.try_recv().unwrap_or_default();
                    if sender.send(std::mem::replace(&mut chunk, next)).is_err() {
                        // The encoding thread stopped (a bug): its panic is raised below.
                        break;
                    }
                }
            }
            let _ = sender.send(chunk);
            drop(sender);
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        });
    }
    ids.finish_load();
    for column in columns.iter_mut() {
        column.finish_load();
    }
}

/// Puts machines into the ids and columns.
struct Encoder<'a> {
    ids: &'a mut MachineIds,
    columns: &'a mut [FieldColumn],
    /// The number of machines the fleet announced.
    expected: usize,
    loaded: usize,
    /// By column: whether it became plain, for the reading thread, which then stops
    /// hashing its values.
    plain: &'a [AtomicBool],
}

impl Encoder<'_> {
    /// The slot of `id` (`None`: every slot number is taken, the machine cannot be tracked).
    fn slot(&mut self, id: &str) -> Option<u32> {
        self.ids.find_or_insert(id)
    }

    fn set(&mut self, slot: u32, field: usize, value: Option<Attr<'_>>) {
        if let Some(column) = self.columns.get_mut(field) {
            column.set_uncounted(slot, value);
        }
    }

    /// Counts one machine loaded; after the first [`SAMPLE_MACHINES`], a column where most
    /// had a value of their own (host names, timestamps) will have about as many values as
    /// machines: it becomes plain (values stored as they come, with no index to find them
    /// by: building the tracker is bound by these lookups, while one change re-evaluates a
    /// single value) and makes room at once.
    fn loaded_one(&mut self) {
        self.loaded += 1;
        if self.loaded != SAMPLE_MACHINES {
            return;
        }
        let remaining = self.expected.saturating_sub(SAMPLE_MACHINES);
        for (column, plain) in self.columns.iter_mut().zip(self.plain) {
            let distinct = column.code_count().saturating_sub(1);
            if distinct * 4 > SAMPLE_MACHINES * 3 {
                column.become_plain(remaining / SAMPLE_MACHINES * distinct);
                plain.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Encodes a chunk of machines, each with `field_count` values.
    fn encode(&mut self, chunk: &Chunk, field_count: usize) {
        for (machine, (id, hash)) in chunk.ids.iter().enumerate() {
            let slot = chunk
                .text
                .get(id.clone())
                .and_then(|id| self.ids.find_or_insert_hashed(id, *hash));
            let Some(slot) = slot else {
                continue;
            };
            let first = machine * field_count;
            // Every staged machine has `field_count` values.
            let values = &chunk.values[first..first + field_count];
            for ((value, hash), column) in values.iter().zip(self.columns.iter_mut()) {
                match value {
                    Staged::List { start, end } => {
                        let list = chunk.list(*start, *end);
                        let list = list.as_ref().map(|list| Attr::List(list));
                        column.set_uncounted_hashed(slot, list, *hash);
                    }
                    scalar => column.set_uncounted_hashed(slot, chunk.scalar(scalar), *hash),
                }
            }
            self.loaded_one();
        }
    }
}

/// Copies of the hashers of the ids and of each column (by field), and which columns
/// became plain.
struct Hashers<'a> {
    ids: IdHasher,
    values: Vec<ValueHasher>,
    plain: &'a [AtomicBool],
}

/// Machines read but not encoded yet: their ids and values, owned, so that another thread
/// can encode them.
#[derive(Debug, Default)]
struct Chunk {
    /// The ids and the texts of the values, end to end.
    text: String,
    /// By machine: where its id is in `text`, and its hash.
    ids: Vec<(std::ops::Range<usize>, u64)>,
    /// By machine, then field: its value and the value's hash (0 when missing).
    values: Vec<(Staged, u64)>,
    /// The elements of the list values, end to end (their texts in `text`).
    list_items: Vec<PackedItem>,
}

/// A value in a [`Chunk`].
#[derive(Debug)]
enum Staged {
    Missing,
    Null,
    Bool(bool),
    Number(f64),
    /// Its text: `text[start..end]` of the chunk.
    Text {
        start: usize,
        end: usize,
    },
    /// Its elements: `list_items[start..end]` of the chunk.
    List {
        start: usize,
        end: usize,
    },
    Opaque,
}

impl Chunk {
    /// Reads machine `id`'s `fields` into the chunk, hashing each.
    fn stage<M: Machine>(&mut self, id: &str, machine: &M, fields: &[&str], hashers: &Hashers<'_>) {
        let start = self.text.len();
        self.text.push_str(id);
        self.ids
            .push((start..self.text.len(), hashers.ids.hash(id)));
        for ((name, hasher), plain) in fields.iter().zip(&hashers.values).zip(hashers.plain) {
            let attr = machine.attr(name);
            // A plain column looks nothing up: its values need no hash.
            let hash = match attr {
                Some(attr) if !plain.load(Ordering::Relaxed) => hasher.hash(attr),
                _ => 0,
            };
            let staged = match attr {
                None => Staged::Missing,
                Some(Attr::Null) => Staged::Null,
                Some(Attr::Bool(b)) => Staged::Bool(b),
                Some(Attr::Number(n)) => Staged::Number(n),
                Some(Attr::Text(text)) => {
                    let start = self.text.len();
                    self.text.push_str(text);
                    Staged::Text {
                        start,
                        end: self.text.len(),
                    }
                }
                Some(Attr::List(list)) => {
                    let start = self.list_items.len();
                    pack(list, 0, &mut self.text, &mut self.list_items);
                    Staged::List {
                        start,
                        end: self.list_items.len(),
                    }
                }
                Some(Attr::Opaque) => Staged::Opaque,
            };
            self.values.push((staged, hash));
        }
    }

    /// The value `staged` stands for, but a list (see [`Chunk::list`]).
    fn scalar(&self, staged: &Staged) -> Option<Attr<'_>> {
        match staged {
            Staged::Missing | Staged::List { .. } => None,
            Staged::Null => Some(Attr::Null),
            Staged::Bool(b) => Some(Attr::Bool(*b)),
            Staged::Number(n) => Some(Attr::Number(*n)),
            Staged::Text { start, end } => self.text.get(*start..*end).map(Attr::Text),
            Staged::Opaque => Some(Attr::Opaque),
        }
    }

    /// The list value made of `list_items[start..end]`.
    fn list(&self, start: usize, end: usize) -> Option<ListView<'_>> {
        Some(ListView {
            text: &self.text,
            items: self.list_items.get(start..end)?,
        })
    }

    /// Empties the chunk, keeping its buffers.
    fn clear(&mut self) {
        self.text.clear();
        self.ids.clear();
        self.values.clear();
        self.list_items.clear();
    }
}
