//! Reading fleets: machine files into cohort's columnar store, at the speed of the disk.
//!
//! [`read`] takes a [`Plan`] and a [`Source`] (a file, standard input or any reader; gzip and
//! zstd are recognised by their first bytes and taken off) and returns a [`Fleet`]: the
//! columns of the fields the plan tests, ready to evaluate, and every machine's id.
//!
//! - **Only the plan's fields are built.** Every other value is skipped as it is read: no
//!   map per machine, no value that no group tests.
//! - **In parallel.** NDJSON, JSON arrays written one machine per line, and CSV are cut
//!   into chunks of whole records, parsed on every core into chunks of the store, and
//!   appended in file order. Memory is the columns plus a bounded number of chunks.
//! - **Bad records** are reported with their true line (and column where there is one);
//!   with [`OnError::Skip`] they are left out and counted, with [`OnError::Fail`] (the
//!   default) every one is reported and nothing is returned.
//!
//! ```
//! use cohort::{GroupSet, Timestamp};
//! use cohort_fleet::{Format, Options, Source};
//!
//! let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'").unwrap();
//! let ndjson = "{\"id\": \"WS-01\", \"Free Disk %\": 4}\n{\"id\": \"WS-02\", \"Free Disk %\": 55}\n";
//! let source = Source::Reader { name: "inline".into(), reader: Box::new(ndjson.as_bytes()) };
//! let fleet = cohort_fleet::read(groups.plan(), source, &Options::new(Format::Ndjson)).unwrap();
//! let members = fleet.columns().evaluate(Timestamp::UNIX_EPOCH);
//! let low: Vec<_> = members
//!     .members(groups.id("Low Disk").unwrap())
//!     .iter()
//!     .filter_map(|position| fleet.ids().get(position))
//!     .collect();
//! assert_eq!(low, ["WS-01"]);
//! ```
//!
//! JSON in another layout (a whole array on one line, pretty-printed objects, a
//! `{"machines": [...]}` wrapper) and YAML are read on one thread, whole values at a time;
//! [`records`] reads any machines file as JSON objects with every attribute, for tools that
//! show machines rather than evaluate them.

mod csv_rows;
mod ids;
mod json;
mod pipeline;
mod records;
mod scan;
mod source;

pub use ids::Ids;
pub use json::MAX_LIST_ELEMENTS;
pub use pipeline::MAX_RECORD_BYTES;
pub use records::{MachineRecord, position, records, utf8};
pub use source::{Compression, Source, not_regular};

use cohort_engine::{ColumnarBuilder, ColumnarFleet, Plan};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// The format of a machines file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of objects, JSON objects one after another, or `{"machines": [...]}`.
    Json,
    /// One JSON object per line (read as [`Format::Json`] is: the layout decides).
    Ndjson,
    /// A header row of field names, then one machine per row.
    Csv,
    /// A YAML list of mappings.
    Yaml,
}

impl Format {
    /// The format a file's name says, looking through `.gz` and `.zst`: `.json`,
    /// `.ndjson`/`.jsonl`, `.csv`, `.yaml`/`.yml`.
    ///
    /// ```
    /// use cohort_fleet::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::of_path(Path::new("fleet.ndjson.zst")), Some(Format::Ndjson));
    /// assert_eq!(Format::of_path(Path::new("fleet.csv")), Some(Format::Csv));
    /// assert_eq!(Format::of_path(Path::new("fleet.gz")), None);
    /// ```
    pub fn of_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let name = name
            .strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".zst"))
            .unwrap_or(name);
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// What to do with a record that cannot be read (not an object, invalid JSON on its line, a
/// CSV row with the wrong number of fields, text that is not UTF-8 in a field read, more
/// than [`MAX_LIST_ELEMENTS`] list elements). Layouts read whole (JSON that is not one
/// machine per line, YAML) stop at their first bad record, whatever this says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Read on to report every bad record, then fail ([`ReadError::BadRecords`]).
    #[default]
    Fail,
    /// Leave bad records out, and report them in [`Fleet::skipped`].
    Skip,
}

/// How to read a fleet.
#[derive(Clone, Debug)]
pub struct Options {
    /// The file's format.
    pub format: Format,
    /// The attribute that identifies a machine (default `id`).
    pub id_field: String,
    /// What to do with bad records.
    pub on_error: OnError,
    /// Parsing threads (default: the machine's cores).
    pub threads: usize,
    /// The longest line or row ([`MAX_RECORD_BYTES`] by default): once the reader holds
    /// more than this of one record without finding its end, reading stops with an error,
    /// so that a file without line ends cannot make it hold all of it. (It is checked as
    /// blocks of 4 MiB are read, so it is exact only above 4 MiB.)
    pub max_record_bytes: usize,
    /// Told how far reading has got, as the source is read (none by default).
    pub progress: Option<Progress>,
}

/// A callback told, as a source is read, how many of its bytes have been read so far (of a
/// compressed file: compressed bytes) and its size when that is known (a regular file). It
/// is called on the reading thread, often (every 64 KiB): a display should print at most a
/// few times a second. A source read twice (a JSON file whose layout changes partway is read
/// again whole) counts from 0 again.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
///
/// let seen = Arc::new(AtomicU64::new(0));
/// let counter = Arc::clone(&seen);
/// let mut options = cohort_fleet::Options::new(cohort_fleet::Format::Ndjson);
/// options.progress = Some(cohort_fleet::Progress::new(move |read, _size| {
///     counter.store(read, Ordering::Relaxed);
/// }));
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("m.ndjson");
/// std::fs::write(&path, "{\"id\": \"a\", \"OS\": \"Linux\"}\n").unwrap();
/// let groups = cohort::GroupSet::from_yaml_str("name: L\nwhere: 'OS = Linux'").unwrap();
/// cohort_fleet::read(groups.plan(), cohort_fleet::Source::Path(&path), &options).unwrap();
/// assert_eq!(seen.load(Ordering::Relaxed), std::fs::metadata(&path).unwrap().len());
/// ```
#[derive(Clone)]
pub struct Progress(std::sync::Arc<dyn Fn(u64, Option<u64>) + Send + Sync>);

impl Progress {
    /// A callback given the bytes read so far and the source's size when known.
    pub fn new(report: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Progress {
        Progress(std::sync::Arc::new(report))
    }

    pub(crate) fn report(&self, read: u64, size: Option<u64>) {
        (self.0)(read, size);
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Options {
    /// Options for `format`: ids from `id`, failing on bad records, on every core.
    pub fn new(format: Format) -> Options {
        Options {
            format,
            id_field: "id".to_owned(),
            on_error: OnError::Fail,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            max_record_bytes: MAX_RECORD_BYTES,
            progress: None,
        }
    }
}

/// A record that could not be read, where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// Its line, from 1; 0 when the message says where itself or there is no line to name.
    pub line: u64,
    /// Its column (in bytes, from 1), where known.
    pub column: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (0, _) => f.write_str(&self.message),
            (line, Some(column)) => write!(f, "line {line}, column {column}: {}", self.message),
            (line, None) => write!(f, "line {line}: {}", self.message),
        }
    }
}

/// Why a fleet could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The source could not be read.
    #[error("cannot read `{name}`: {source}")]
    Io {
        /// The source.
        name: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A path that is not a regular file.
    #[error("cannot read `{}`: it is {kind}, expected a regular file", path.display())]
    NotAFile {
        /// The path.
        path: std::path::PathBuf,
        /// What it is instead: `a FIFO`, `a directory`...
        kind: &'static str,
    },
    /// The file cannot be read on: its structure is broken (a CSV header, the frame of an
    /// array, a quote never closed, invalid JSON in a layout read whole, a record longer
    /// than [`MAX_RECORD_BYTES`]).
    #[error("`{name}`: {error}")]
    Invalid {
        /// The source.
        name: String,
        /// Where and what.
        error: RecordError,
    },
    /// Some records could not be read (with [`OnError::Fail`]).
    #[error("`{name}`: {}", bad_records(errors, *count))]
    BadRecords {
        /// The source.
        name: String,
        /// The first bad records, in file order.
        errors: Vec<RecordError>,
        /// How many there were in all.
        count: usize,
    },
}

/// `N bad records:` and one line each (the first [`SHOWN`]), `... and N more`.
fn bad_records(errors: &[RecordError], count: usize) -> String {
    let mut text = if count == 1 {
        "1 bad record:".to_owned()
    } else {
        format!("{count} bad records:")
    };
    for error in errors.iter().take(SHOWN) {
        text.push_str(&format!("\n  {error}"));
    }
    let shown = errors.len().min(SHOWN);
    if count > shown {
        text.push_str(&format!("\n  ... and {} more", count - shown));
    }
    text
}

/// Bad records an error lists (the rest are counted).
pub const SHOWN: usize = 20;

/// A fleet as read: its columns, ids, and the records left out.
#[derive(Debug)]
pub struct Fleet<'p> {
    columns: ColumnarFleet<'p>,
    ids: Ids,
    field_names: BTreeSet<String>,
    skipped: Vec<RecordError>,
    skipped_count: usize,
    compression: Compression,
}

impl<'p> Fleet<'p> {
    /// The columns of the fields the plan tests, to evaluate.
    pub fn columns(&self) -> &ColumnarFleet<'p> {
        &self.columns
    }

    /// Every machine's id, by position.
    pub fn ids(&self) -> &Ids {
        &self.ids
    }

    /// The number of machines read.
    pub fn machine_count(&self) -> usize {
        self.ids.len()
    }

    /// Field names seen: a CSV file's header, or the keys of the first JSON records (of
    /// the first chunk, at most 10,000 records and 10,000 names).
    pub fn field_names(&self) -> &BTreeSet<String> {
        &self.field_names
    }

    /// The first bad records left out (with [`OnError::Skip`]), in file order.
    pub fn skipped(&self) -> &[RecordError] {
        &self.skipped
    }

    /// How many bad records were left out in all.
    pub fn skipped_count(&self) -> usize {
        self.skipped_count
    }

    /// How the source was compressed.
    pub fn compression(&self) -> Compression {
        self.compression
    }
}

/// Reads the fleet of `source` for `plan`: the columns of the fields it tests, and the ids.
///
/// Errors name the source, and for records the line (and column where there is one).
pub fn read<'p>(
    plan: &'p Plan,
    source: Source<'_>,
    options: &Options,
) -> Result<Fleet<'p>, ReadError> {
    let path = match &source {
        Source::Path(path) => Some(*path),
        Source::Stdin | Source::Reader { .. } => None,
    };
    match read_with(plan, source, options, false) {
        // A file whose first lines hold one machine each but later ones do not is read
        // again, whole; a stream cannot be, and its error says why.
        Err(Failure::LayoutBroken(error)) => match path {
            Some(path) => {
                read_with(plan, Source::Path(path), options, true).map_err(Failure::into_error)
            }
            None => Err(error),
        },
        other => other.map_err(Failure::into_error),
    }
}

/// Why [`read_with`] stopped.
enum Failure {
    Error(ReadError),
    /// The file stopped being one machine per line.
    LayoutBroken(ReadError),
}

impl Failure {
    fn into_error(self) -> ReadError {
        match self {
            Failure::Error(error) | Failure::LayoutBroken(error) => error,
        }
    }
}

impl From<ReadError> for Failure {
    fn from(error: ReadError) -> Failure {
        Failure::Error(error)
    }
}

/// Reads as [`read`] does; `whole` reads JSON whole, one value at a time, whatever its layout.
fn read_with<'p>(
    plan: &'p Plan,
    source: Source<'_>,
    options: &Options,
    whole: bool,
) -> Result<Fleet<'p>, Failure> {
    let source::Opened {
        name,
        mut reader,
        compression,
    } = source::open(source, options.progress.as_ref())?;
    let io = |source| ReadError::Io {
        name: name.clone(),
        source,
    };
    let mut start = Vec::new();
    (&mut reader)
        .take(pipeline::BLOCK as u64)
        .read_to_end(&mut start)
        .map_err(io)
        .map_err(Failure::Error)?;
    if start.starts_with(records::BOM) {
        start.drain(..records::BOM.len());
    }
    let mut merged = Merged::new(plan, options, name.clone());
    match options.format {
        Format::Csv => read_csv(&mut reader, start, options, &mut merged)?,
        Format::Yaml => {
            let mut bytes = start;
            reader
                .read_to_end(&mut bytes)
                .map_err(io)
                .map_err(Failure::Error)?;
            let text = utf8(&bytes).map_err(|message| merged.invalid(0, message))?;
            let machines =
                records::read_yaml(text).map_err(|message| merged.invalid(0, message))?;
            for machine in &machines {
                merged.push_record(machine);
            }
        }
        Format::Json | Format::Ndjson => match json_layout(&start).filter(|_| !whole) {
            Some(array) => {
                let targets = json::Targets::new(merged.target.fields(), &options.id_field);
                let parser = json::LineParser {
                    targets: &targets,
                    array,
                };
                merged.array = array;
                run(
                    &mut reader,
                    start,
                    &mut pipeline::whole_lines,
                    &parser,
                    options,
                    &mut merged,
                )?;
            }
            None => {
                let chained = std::io::Cursor::new(start).chain(reader);
                let buffered = std::io::BufReader::with_capacity(1 << 20, chained);
                records::stream_json(buffered, 0, &mut |machine| merged.push_record(&machine))
                    .map_err(|message| merged.invalid(0, message))?;
            }
        },
    }
    merged.finish(compression)
}

/// The bytes of `source`, with gzip or zstd taken off (a UTF-8 byte-order mark is left for
/// the reader of the format).
///
/// ```
/// use std::io::Read;
/// let source = cohort_fleet::Source::Reader { name: "inline".into(), reader: Box::new(&b"id\nWS-01\n"[..]) };
/// let mut text = String::new();
/// cohort_fleet::open(source).unwrap().read_to_string(&mut text).unwrap();
/// assert_eq!(text, "id\nWS-01\n");
/// ```
pub fn open(source: Source<'_>) -> Result<Box<dyn Read + '_>, ReadError> {
    Ok(source::open(source, None)?.reader)
}

/// Calls `each` with every machine of `source` as a JSON object with all its attributes, in
/// file order, holding one machine at a time: JSON objects one after another (NDJSON) as a
/// stream; a JSON array and CSV from their whole text, element by element and row by row;
/// YAML read whole first.
pub fn for_each_record(
    source: Source<'_>,
    format: Format,
    each: &mut dyn FnMut(MachineRecord),
) -> Result<(), ReadError> {
    let source::Opened { name, reader, .. } = source::open(source, None)?;
    let invalid = |message: String| ReadError::Invalid {
        name: name.clone(),
        error: RecordError {
            line: 0,
            column: None,
            message,
        },
    };
    match format {
        Format::Json | Format::Ndjson => {
            let buffered = std::io::BufReader::with_capacity(1 << 20, reader);
            records::stream_json(buffered, 0, each).map_err(invalid)
        }
        Format::Csv | Format::Yaml => {
            let mut bytes = Vec::new();
            let mut reader = reader;
            reader
                .read_to_end(&mut bytes)
                .map_err(|source| ReadError::Io {
                    name: name.clone(),
                    source,
                })?;
            records::each_record(&bytes, format, each).map_err(invalid)
        }
    }
}

/// `Some(array)` when the JSON text starting with `start` is written one machine per line:
/// NDJSON (`false`: its first line is one whole object, not a `{"machines": ...}` wrapper),
/// or an array whose first line is `[` alone and whose next is one whole machine or the `]`
/// (`true`). `None` for other layouts.
fn json_layout(start: &[u8]) -> Option<bool> {
    let mut lines = start
        .split(|&b| b == b'\n')
        .map(json::trim_json_whitespace)
        .filter(|line| !line.is_empty());
    let first = lines.next()?;
    let whole_object = |line: &[u8]| {
        serde_json::from_slice::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(line)
            .ok()
    };
    if first == b"[" {
        let second = lines.next()?;
        if second == b"]" {
            return Some(true);
        }
        let element = second
            .strip_suffix(b",")
            .or_else(|| second.strip_suffix(b"]"))
            .unwrap_or(second);
        return whole_object(element).map(|_| true);
    }
    let keys = whole_object(first)?;
    let wrapper = keys.len() == 1 && keys.contains_key("machines");
    (!wrapper).then_some(false)
}

fn read_csv(
    reader: &mut dyn Read,
    start: Vec<u8>,
    options: &Options,
    merged: &mut Merged<'_>,
) -> Result<(), ReadError> {
    let mut start = start;
    if !start.contains(&b'\n') && start.contains(&b'\r') {
        // Rows ended by CR alone (old Mac files): the csv crate reads them, but they cannot
        // be cut into chunks at line ends; read whole, on one thread.
        let mut bytes = start;
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| ReadError::Io {
                name: merged.name.clone(),
                source,
            })?;
        let machines =
            records(&bytes, Format::Csv).map_err(|message| merged.invalid(0, message))?;
        for machine in &machines {
            merged.push_record(machine);
        }
        return Ok(());
    }
    let Some(header) = csv_rows::header(&start).map_err(|error| merged.stop(error))? else {
        return Ok(());
    };
    if header.length >= start.len() && start.len() >= pipeline::BLOCK {
        return Err(merged.invalid(1, "the CSV header is longer than 4 MiB".to_owned()));
    }
    let header_bytes = start.get(..header.length).unwrap_or_default();
    merged.line_base += memchr::memchr_iter(b'\n', header_bytes).count() as u64;
    merged.field_names.extend(header.names.iter().cloned());
    let parser = csv_rows::CsvParser::new(&header, merged.target.fields(), &options.id_field);
    start.drain(..header.length.min(start.len()));
    run(
        reader,
        start,
        &mut csv_rows::whole_rows,
        &parser,
        options,
        merged,
    )
}

fn run<'p, P: pipeline::ChunkParser<'p>>(
    reader: &mut dyn Read,
    start: Vec<u8>,
    cut: &mut dyn FnMut(&[u8], usize) -> usize,
    parser: &P,
    options: &Options,
    merged: &mut Merged<'p>,
) -> Result<(), ReadError> {
    let template = merged.target.chunk();
    let blocks = pipeline::Blocks {
        reader,
        start,
        cut,
        max_record_bytes: options.max_record_bytes,
    };
    let outcome = pipeline::run(blocks, parser, &template, options.threads, &mut |parsed| {
        merged.absorb(parsed)
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(pipeline::Stop::Io(source)) => Err(ReadError::Io {
            name: merged.name.clone(),
            source,
        }),
        Err(pipeline::Stop::RecordTooLong) => Err(merged.invalid(
            merged.line_base,
            format!(
                "a record longer than {} bytes, the limit (a line end or a closing quote is missing?)",
                options.max_record_bytes
            ),
        )),
    }
}

/// The store being filled, and what was learnt of the records so far.
struct Merged<'p> {
    target: ColumnarBuilder<'p>,
    ids: Ids,
    name: String,
    id_field: String,
    on_error: OnError,
    /// The line the next chunk starts on.
    line_base: u64,
    bad: pipeline::BadRecords,
    fatal: Option<RecordError>,
    field_names: BTreeSet<String>,
    /// Reading a line-framed array: its `[`, its last machine and whether a comma followed
    /// it, and its `]`.
    array: bool,
    opened: bool,
    last_element: Option<(u64, bool)>,
    closed: Option<u64>,
    /// What stopped the reading is that the file stopped being one machine per line.
    layout_broken: bool,
    /// Machines read whole so far whose field names were collected.
    sampled: usize,
}

impl<'p> Merged<'p> {
    fn new(plan: &'p Plan, options: &Options, name: String) -> Merged<'p> {
        Merged {
            target: plan.columnar_builder(),
            ids: Ids::default(),
            name,
            id_field: options.id_field.clone(),
            on_error: options.on_error,
            line_base: 1,
            bad: pipeline::BadRecords::default(),
            fatal: None,
            field_names: BTreeSet::new(),
            array: false,
            opened: false,
            last_element: None,
            closed: None,
            layout_broken: false,
            sampled: 0,
        }
    }

    /// An error that ends the reading, on line `line` (0: the message says where, or there
    /// is no line to name).
    fn invalid(&self, line: u64, message: String) -> ReadError {
        self.stop(RecordError {
            line,
            column: None,
            message,
        })
    }

    fn stop(&self, error: RecordError) -> ReadError {
        ReadError::Invalid {
            name: self.name.clone(),
            error,
        }
    }

    /// A whole machine read as a JSON object (YAML, JSON layouts read whole).
    fn push_record(&mut self, machine: &MachineRecord) {
        if self.sampled < json::FIELD_SAMPLE {
            self.sampled += 1;
            for name in machine.keys() {
                if self.field_names.len() < json::MAX_FIELD_NAMES
                    && !self.field_names.contains(name)
                {
                    self.field_names.insert(name.clone());
                }
            }
        }
        self.target.push(machine);
        let id = match machine.get(&self.id_field) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(other) => Some(other.to_string()),
        };
        self.ids.push(id.as_deref());
    }

    /// Appends a parsed chunk, the next in file order.
    fn absorb(&mut self, parsed: pipeline::Parsed<'p>) {
        let base = self.line_base;
        let at = |line: u64| base + line - 1;
        self.line_base += parsed.newlines;
        if self.fatal.is_some() {
            return;
        }
        if let Some(error) = parsed.fatal {
            self.fatal = Some(RecordError {
                line: at(error.line),
                ..error
            });
            self.layout_broken = parsed.layout_broken;
            return;
        }
        if self.array
            && let Some(error) = self.frame(&parsed.framing, at)
        {
            self.fatal = Some(error);
            return;
        }
        self.target.append(parsed.builder);
        self.ids.append(&parsed.ids);
        self.bad.append(parsed.bad, at);
        self.field_names.extend(parsed.field_names);
    }

    /// Checks how a chunk's lines continue the array of the chunks before it.
    fn frame(&mut self, framing: &json::Framing, at: impl Fn(u64) -> u64) -> Option<RecordError> {
        let error = |line: u64, message: &str| {
            Some(RecordError {
                line,
                column: None,
                message: message.to_owned(),
            })
        };
        if let Some(line) = framing.opening {
            if self.opened {
                return error(
                    at(line),
                    "a second `[`: the array of machines is already open",
                );
            }
            self.opened = true;
        }
        if let Some(first) = framing.first_element {
            if let Some(closed) = self.closed {
                return error(
                    at(first),
                    &format!("a machine after the `]` on line {closed} that closes the array"),
                );
            }
            if let Some((line, false)) = self.last_element {
                return error(line, "expected a `,` after this machine");
            }
        }
        if let Some((line, comma)) = framing.last_element {
            self.last_element = Some((at(line), comma));
        }
        if let Some(line) = framing.closing {
            if let Some(closed) = self.closed {
                return error(
                    at(line),
                    &format!("a second `]`: the array of machines was closed on line {closed}"),
                );
            }
            self.closed = Some(at(line));
        }
        None
    }

    fn finish(mut self, compression: Compression) -> Result<Fleet<'p>, Failure> {
        if self.fatal.is_none() && self.array {
            if self.closed.is_none() {
                self.fatal = Some(RecordError {
                    line: self.line_base,
                    column: None,
                    message: "the array of machines is never closed (a `]` line is missing)"
                        .to_owned(),
                });
            } else if let Some((line, true)) = self.last_element {
                self.fatal = Some(RecordError {
                    line,
                    column: None,
                    message: "a `,` after the last machine".to_owned(),
                });
            }
        }
        if let Some(error) = self.fatal {
            let error = ReadError::Invalid {
                name: self.name,
                error,
            };
            return Err(if self.layout_broken {
                Failure::LayoutBroken(error)
            } else {
                Failure::Error(error)
            });
        }
        if self.bad.count > 0 && self.on_error == OnError::Fail {
            return Err(Failure::Error(ReadError::BadRecords {
                name: self.name,
                errors: self.bad.kept,
                count: self.bad.count,
            }));
        }
        Ok(Fleet {
            columns: self.target.finish(),
            ids: self.ids,
            field_names: self.field_names,
            skipped: self.bad.kept,
            skipped_count: self.bad.count,
            compression,
        })
    }
}
