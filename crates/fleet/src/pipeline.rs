//! Reading in parallel: the calling thread reads blocks and cuts them at record boundaries,
//! worker threads parse the chunks into columnar chunks, and one thread appends the parsed
//! chunks to the store in file order.
//!
//! Memory is bounded: at most [`IN_FLIGHT`] chunks exist at once (read, being parsed, or
//! parsed and waiting for an earlier one), each about [`BLOCK`] bytes of text plus what was
//! parsed from it. A record longer than [`MAX_RECORD_BYTES`] is an error rather than a reason
//! to hold the rest of the input.

use crate::RecordError;
use cohort_engine::ColumnarBuilder;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// The bytes read at a time (a chunk is one block, cut back to its last whole record).
pub(crate) const BLOCK: usize = 4 << 20;

/// The most chunks alive at once.
const IN_FLIGHT: usize = 4;

/// The longest record by default ([`Options::max_record_bytes`](crate::Options)): a line
/// (NDJSON) or row (CSV) longer than this is refused, so that a file without line ends or
/// with a quote never closed cannot make the reader hold all of it.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// What a worker makes of a chunk.
pub(crate) struct Parsed<'p> {
    /// The chunk's machines, to be appended in order.
    pub(crate) builder: ColumnarBuilder<'p>,
    pub(crate) ids: crate::Ids,
    /// Bad records, with lines counted from the chunk's first line (1).
    pub(crate) bad: BadRecords,
    /// Line ends in the chunk: where the next chunk's lines start.
    pub(crate) newlines: u64,
    /// Field names seen (only asked of the first chunk).
    pub(crate) field_names: Vec<String>,
    /// For line-framed JSON arrays: how the chunk's lines frame the array.
    pub(crate) framing: crate::json::Framing,
    /// An error that ends the reading (lines counted from the chunk's first line).
    pub(crate) fatal: Option<RecordError>,
    /// The error is that the file stopped being one record per line (a file can then be
    /// read again another way).
    pub(crate) layout_broken: bool,
}

/// Bad records: every one counted, the first [`BadRecords::KEPT`] kept.
#[derive(Debug, Default)]
pub(crate) struct BadRecords {
    pub(crate) kept: Vec<RecordError>,
    pub(crate) count: usize,
}

impl BadRecords {
    /// Bad records kept (the rest are counted).
    pub(crate) const KEPT: usize = 100;

    pub(crate) fn push(&mut self, error: RecordError) {
        self.count += 1;
        if self.kept.len() < Self::KEPT {
            self.kept.push(error);
        }
    }

    /// Adds the bad records of a later chunk, its lines moved by `place`.
    pub(crate) fn append(&mut self, later: BadRecords, place: impl Fn(u64) -> u64) {
        self.count += later.count;
        let room = Self::KEPT.saturating_sub(self.kept.len());
        self.kept
            .extend(later.kept.into_iter().take(room).map(|error| RecordError {
                line: place(error.line),
                ..error
            }));
    }
}

impl<'p> Parsed<'p> {
    /// A chunk that could not be parsed at all: reading stops at its first line.
    pub(crate) fn failed(builder: ColumnarBuilder<'p>, message: &str) -> Parsed<'p> {
        Parsed {
            builder,
            ids: crate::Ids::default(),
            bad: BadRecords::default(),
            newlines: 0,
            field_names: Vec::new(),
            framing: crate::json::Framing::default(),
            fatal: Some(RecordError {
                line: 1,
                column: None,
                message: message.to_owned(),
            }),
            layout_broken: false,
        }
    }
}

/// Parses one chunk; shared by the worker threads.
pub(crate) trait ChunkParser<'p>: Sync {
    /// Parses `bytes` (whole records), the chunk numbered `sequence` (0 first; `last` when
    /// no chunk follows), into `builder`, an empty chunk of the store.
    fn parse(
        &self,
        bytes: &[u8],
        sequence: usize,
        last: bool,
        builder: ColumnarBuilder<'p>,
    ) -> Parsed<'p>;
}

/// Why reading stopped.
pub(crate) enum Stop {
    Io(std::io::Error),
    /// A record longer than the limit, starting after the chunks sent (lines are counted
    /// by the merger).
    RecordTooLong,
}

/// What the reading thread cuts into chunks.
pub(crate) struct Blocks<'r> {
    /// The rest of the input.
    pub(crate) reader: &'r mut dyn Read,
    /// Its first bytes, already read.
    pub(crate) start: Vec<u8>,
    /// The length of the whole records at the start of a block (0 when there is none yet),
    /// told where the bytes not yet looked at start (those before it hold no record's end
    /// when the block is a record carried over).
    pub(crate) cut: &'r mut dyn FnMut(&[u8], usize) -> usize,
    /// The most bytes of one record held while looking for its end.
    pub(crate) max_record_bytes: usize,
}

/// Reads `blocks` to the end, parses the chunks with `parser` (each into a chunk of
/// `template`) on `threads` threads and hands each parsed chunk to `merge`, in order, on a
/// thread of its own.
pub(crate) fn run<'p, P: ChunkParser<'p>>(
    blocks: Blocks<'_>,
    parser: &P,
    template: &ColumnarBuilder<'p>,
    threads: usize,
    merge: &mut (dyn FnMut(Parsed<'p>) + Send),
) -> Result<(), Stop> {
    let threads = threads.max(1);
    let (work_sender, work_receiver) = sync_channel::<(usize, bool, Vec<u8>)>(IN_FLIGHT);
    let work_receiver = Arc::new(Mutex::new(work_receiver));
    let (done_sender, done_receiver) = sync_channel::<(usize, Parsed<'p>)>(IN_FLIGHT);
    let (permit_sender, permit_receiver) = sync_channel::<()>(IN_FLIGHT);
    // Blocks parsed come back to the reading thread to be filled again: a fresh 4 MiB
    // buffer each time costs the kernel a page-zeroing pass over it.
    let (recycle_sender, recycle_receiver) = sync_channel::<Vec<u8>>(IN_FLIGHT + threads);
    for _ in 0..IN_FLIGHT {
        let _ = permit_sender.send(());
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let work_receiver = Arc::clone(&work_receiver);
            let done_sender = done_sender.clone();
            let template = template.chunk();
            let recycle = recycle_sender.clone();
            scope.spawn(move || work(&work_receiver, &done_sender, &recycle, parser, &template));
        }
        drop(done_sender);
        scope.spawn(move || merge_in_order(&done_receiver, &permit_sender, merge));
        drop(recycle_sender);
        let outcome = read_blocks(blocks, &permit_receiver, &recycle_receiver, &work_sender);
        // Without work, the workers end, then the merger; the scope waits for them.
        drop(work_sender);
        outcome
    })
}

fn work<'p, P: ChunkParser<'p>>(
    chunks: &Mutex<Receiver<(usize, bool, Vec<u8>)>>,
    done: &SyncSender<(usize, Parsed<'p>)>,
    recycle: &SyncSender<Vec<u8>>,
    parser: &P,
    template: &ColumnarBuilder<'p>,
) {
    loop {
        let next = match chunks.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((sequence, last, bytes)) = next else {
            return;
        };
        // A panic while parsing must not leave the merger waiting for this chunk forever:
        // it becomes an error that ends the reading.
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parser.parse(&bytes, sequence, last, template.chunk())
        }))
        .unwrap_or_else(|_| {
            Parsed::failed(
                template.chunk(),
                "internal error while reading these lines (please report it)",
            )
        });
        // The reader may have ended or have enough buffers: then this one is freed.
        let _ = recycle.try_send(bytes);
        if done.send((sequence, parsed)).is_err() {
            return;
        }
    }
}

fn merge_in_order<'p>(
    done: &Receiver<(usize, Parsed<'p>)>,
    permits: &SyncSender<()>,
    merge: &mut (dyn FnMut(Parsed<'p>) + Send),
) {
    let mut waiting: BTreeMap<usize, Parsed<'p>> = BTreeMap::new();
    let mut next = 0;
    while let Ok((sequence, parsed)) = done.recv() {
        waiting.insert(sequence, parsed);
        while let Some(parsed) = waiting.remove(&next) {
            merge(parsed);
            next += 1;
            let _ = permits.send(());
        }
    }
}

fn read_blocks(
    blocks: Blocks<'_>,
    permits: &Receiver<()>,
    recycled: &Receiver<Vec<u8>>,
    work: &SyncSender<(usize, bool, Vec<u8>)>,
) -> Result<(), Stop> {
    let Blocks {
        reader,
        start,
        cut,
        max_record_bytes,
    } = blocks;
    let mut carry = start;
    let mut sequence = 0;
    // How much of the carried record was already searched for its end.
    let mut searched = 0;
    loop {
        let mut block = match recycled.try_recv() {
            Ok(mut buffer) if carry.len() < buffer.capacity() => {
                buffer.clear();
                buffer.extend_from_slice(&carry);
                buffer
            }
            _ => carry,
        };
        let wanted = BLOCK.saturating_sub(block.len()).max(BLOCK / 4);
        block.reserve(wanted);
        let read = (&mut *reader)
            .take(wanted as u64)
            .read_to_end(&mut block)
            .map_err(Stop::Io)?;
        let at_end = read < wanted;
        let whole = if at_end {
            block.len()
        } else {
            cut(&block, searched)
        };
        if whole == 0 && !at_end {
            if block.len() > max_record_bytes {
                return Err(Stop::RecordTooLong);
            }
            searched = block.len();
            carry = block;
            continue;
        }
        searched = 0;
        carry = block.get(whole..).map(<[u8]>::to_vec).unwrap_or_default();
        block.truncate(whole);
        if !block.is_empty() || sequence == 0 || at_end {
            if permits.recv().is_err() {
                return Ok(());
            }
            if work.send((sequence, at_end, block)).is_err() {
                return Ok(());
            }
            sequence += 1;
        }
        if at_end {
            return Ok(());
        }
    }
}

/// The length of the whole lines at the start of `block`: up to its last line end (looked
/// for from `fresh`: the bytes before it hold none).
pub(crate) fn whole_lines(block: &[u8], fresh: usize) -> usize {
    let fresh = fresh.min(block.len());
    memchr::memrchr(b'\n', block.get(fresh..).unwrap_or_default()).map_or(0, |at| fresh + at + 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    struct PanicsOnSecond;

    impl<'p> ChunkParser<'p> for PanicsOnSecond {
        fn parse(
            &self,
            bytes: &[u8],
            sequence: usize,
            _last: bool,
            builder: ColumnarBuilder<'p>,
        ) -> Parsed<'p> {
            if sequence == 1 {
                panic!("a bug in a parser");
            }
            let mut parsed = Parsed::failed(builder, "unused");
            parsed.fatal = None;
            parsed.newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
            parsed
        }
    }

    /// A panic while parsing a chunk ends the reading with an error on that chunk; it used
    /// to leave the merger waiting for the chunk, and the process hung.
    #[test]
    fn a_panic_while_parsing_is_an_error_not_a_hang() {
        let plan = cohort_engine::Plan::compile(&cohort_check::check(&[]).unwrap());
        let template = plan.columnar_builder();
        let text = "x\n".repeat(3 * BLOCK);
        let mut reader = text.as_bytes();
        let mut fatal = Vec::new();
        let mut cut = whole_lines;
        let blocks = Blocks {
            reader: &mut reader,
            start: Vec::new(),
            cut: &mut cut,
            max_record_bytes: MAX_RECORD_BYTES,
        };
        let outcome = run(blocks, &PanicsOnSecond, &template, 2, &mut |parsed| {
            fatal.push(parsed.fatal.map(|e| e.message))
        });
        assert!(outcome.is_ok());
        assert!(fatal.len() >= 2, "every chunk is merged");
        assert_eq!(fatal[0], None);
        assert!(fatal[1].as_deref().unwrap().starts_with("internal error"));
    }
}
