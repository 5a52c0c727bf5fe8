//! Reading Parquet and Arrow IPC files: only the plan's columns and the id column, split
//! between threads by row group or record batch, appended in order.

use crate::batch::{BatchError, append_batch, write_column};
use crate::ids::{self, Ids, IdsPart};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Schema};
use cohort_engine::{ColumnWriter, ColumnarBuilder, ColumnarFleet, Plan};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A file format this crate reads, as errors name it.
///
/// ```
/// assert_eq!(cohort_arrow::Format::Ipc.to_string(), "Arrow IPC");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// The Arrow IPC file format (`.arrow`, Feather v2) or stream format (`.arrows`).
    Ipc,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Parquet => "Parquet",
            Format::Ipc => "Arrow IPC",
        })
    }
}

/// Why a file could not be read. Every error names the file, and the column where one is to
/// blame.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("fleet.parquet");
/// std::fs::write(&path, b"not parquet")?;
/// let groups = cohort::GroupSet::from_yaml_str("name: Any\nwhere: OS is not blank")?;
/// let error = cohort_arrow::read_parquet(&path, groups.plan(), "id").unwrap_err();
/// assert_eq!(error.path(), path);
/// assert!(matches!(error, cohort_arrow::Error::Parquet { .. }));
/// assert!(error.to_string().starts_with(&format!("`{}` is not a readable Parquet file", path.display())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid Parquet: not Parquet at all, truncated, corrupt, or compressed
    /// with a codec this build does not include.
    #[error("`{}` is not a readable Parquet file: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        #[source]
        source: ParquetError,
    },
    /// The file's data could not be decoded: not Arrow IPC, truncated, corrupt, or
    /// compressed with a codec this build does not include.
    #[error("`{}` is not a readable {format} file: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// What the Arrow reader said.
        #[source]
        source: ArrowError,
    },
    /// A record batch of the file could not be read into the store.
    #[error("`{}`: {source}", path.display())]
    Batch {
        /// The file.
        path: PathBuf,
        /// Why (it names the column).
        #[source]
        source: BatchError,
    },
    /// The id column's type has no text form.
    #[error(
        "`{}`: the id column `{column}` has type {data_type}, which cannot be read as text",
        path.display()
    )]
    IdType {
        /// The file.
        path: PathBuf,
        /// The id column.
        column: String,
        /// Its type.
        data_type: DataType,
    },
    /// The Parquet or Arrow reader panicked on this file (a bug of that reader, on a
    /// corrupt file): caught and reported rather than passed on to the caller.
    #[error("`{}` is not a readable {format} file: its reader failed on it", path.display())]
    ReaderPanicked {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
}

impl Error {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. }
            | Error::Parquet { path, .. }
            | Error::Decode { path, .. }
            | Error::Batch { path, .. }
            | Error::IdType { path, .. }
            | Error::ReaderPanicked { path, .. } => path,
        }
    }

    /// The column the error is about, if it is about one.
    pub fn column(&self) -> Option<&str> {
        match self {
            Error::IdType { column, .. } => Some(column),
            Error::Batch {
                source: BatchError::DuplicateColumn { column, .. },
                ..
            } => Some(column),
            _ => None,
        }
    }
}

/// How files are read.
///
/// ```
/// let options = cohort_arrow::Options::default().threads(1);
/// assert_eq!(options.thread_count(), 1);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    threads: usize,
    batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 0,
            batch_size: 8192,
        }
    }
}

impl Options {
    /// Reads on at most `threads` threads (0, the default: one per core). Results do not
    /// depend on it.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Rows per record batch decoded from Parquet (default 8,192).
    #[must_use]
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// The number of threads reading will use at most.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }
    }
}

/// Reads the machines of the Parquet file at `path` for `plan`: one machine per row, reading
/// only the columns of the plan's fields and the column `id_field` (whose values become the
/// [`Ids`]). Row groups are shared out between the cores.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("fleet.parquet");
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
/// use cohort::{GroupSet, Timestamp};
///
/// let batch = RecordBatch::try_from_iter([
///     ("id", Arc::new(StringArray::from(vec!["M1", "M2"])) as ArrayRef),
///     ("Free Disk %", Arc::new(Float64Array::from(vec![4.0, 55.0])) as ArrayRef),
/// ])?;
/// let mut writer = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path)?, batch.schema(), None)?;
/// writer.write(&batch)?;
/// writer.close()?;
///
/// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'")?;
/// let (fleet, ids) = cohort_arrow::read_parquet(&path, groups.plan(), "id")?;
/// let members = fleet.evaluate(Timestamp::UNIX_EPOCH);
/// let low: Vec<&str> = members
///     .members(groups.id("Low Disk").unwrap())
///     .iter()
///     .filter_map(|position| ids.get(position))
///     .collect();
/// assert_eq!(low, ["M1"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_parquet<'p>(
    path: impl AsRef<Path>,
    plan: &'p Plan,
    id_field: &str,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    read_parquet_with(path, plan, id_field, &Options::default())
}

/// [`read_parquet`] with [`Options`].
///
/// ```no_run
/// let groups = cohort::GroupSet::from_yaml_str("name: Any\nwhere: OS is not blank")?;
/// let options = cohort_arrow::Options::default().threads(1).batch_size(65_536);
/// let (fleet, ids) = cohort_arrow::read_parquet_with("fleet.parquet", groups.plan(), "id", &options)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_parquet_with<'p>(
    path: impl AsRef<Path>,
    plan: &'p Plan,
    id_field: &str,
    options: &Options,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    let path = path.as_ref();
    guarded(path, Format::Parquet, || {
        parquet_file(path, plan, id_field, options)
    })
}

/// Reads the machines of the Arrow IPC file at `path` for `plan`, in the file format (record
/// batches shared out between the cores) or the stream format (read in order on one thread):
/// one machine per row, decoding only the columns of the plan's fields and the column
/// `id_field` (whose values become the [`Ids`]). See [`Ids`] for an example.
pub fn read_ipc<'p>(
    path: impl AsRef<Path>,
    plan: &'p Plan,
    id_field: &str,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    read_ipc_with(path, plan, id_field, &Options::default())
}

/// [`read_ipc`] with [`Options`].
///
/// ```no_run
/// let groups = cohort::GroupSet::from_yaml_str("name: Any\nwhere: OS is not blank")?;
/// let options = cohort_arrow::Options::default().threads(1);
/// let (fleet, ids) = cohort_arrow::read_ipc_with("fleet.arrow", groups.plan(), "id", &options)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_ipc_with<'p>(
    path: impl AsRef<Path>,
    plan: &'p Plan,
    id_field: &str,
    options: &Options,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    let path = path.as_ref();
    guarded(path, Format::Ipc, || {
        ipc_file(path, plan, id_field, options)
    })
}

/// Runs `read`, turning a panic of the Parquet or Arrow reader into an error.
fn guarded<T>(
    path: &Path,
    format: Format,
    read: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(Error::ReaderPanicked {
            path: path.to_owned(),
            format,
        })
    })
}

/// What a reader needs of a file's schema: the top-level columns to decode (the plan's
/// fields and the id column), checked.
fn projection(
    path: &Path,
    schema: &Schema,
    fields: &[String],
    id_field: &str,
) -> Result<Vec<usize>, Error> {
    for field in fields {
        let count = schema.fields().iter().filter(|f| f.name() == field).count();
        if count > 1 {
            return Err(Error::Batch {
                path: path.to_owned(),
                source: BatchError::DuplicateColumn {
                    column: field.clone(),
                    count,
                },
            });
        }
    }
    let mut columns = Vec::new();
    for (index, field) in schema.fields().iter().enumerate() {
        let name = field.name();
        let is_id = name == id_field;
        if is_id && !ids::supported(field.data_type()) {
            return Err(Error::IdType {
                path: path.to_owned(),
                column: name.clone(),
                data_type: field.data_type().clone(),
            });
        }
        if is_id || fields.iter().any(|f| f == name) {
            columns.push(index);
        }
    }
    Ok(columns)
}

/// Reads the ids of `batch`'s rows into `ids`.
fn batch_ids(
    path: &Path,
    batch: &RecordBatch,
    id_field: &str,
    ids: &mut IdsPart,
) -> Result<(), Error> {
    match batch.schema_ref().column_with_name(id_field) {
        None => {
            ids.push_absent(batch.num_rows());
            Ok(())
        }
        Some((index, field)) => match batch.columns().get(index) {
            Some(column) => ids.push_column(column.as_ref()).map_err(|_| Error::IdType {
                path: path.to_owned(),
                column: id_field.to_owned(),
                data_type: field.data_type().clone(),
            }),
            None => {
                ids.push_absent(batch.num_rows());
                Ok(())
            }
        },
    }
}

/// A piece of reading a file by columns: a whole column, every row of it.
#[derive(Debug, Default)]
struct Share {
    /// Positions of the plan's fields (in [`ColumnarBuilder::fields`]) that it writes.
    fields: Vec<usize>,
    /// Whether it reads the ids (and so counts the rows).
    ids: bool,
}

/// One task per column of `weights` (a field's position, or `None` for the id column, and
/// its weight), the heaviest first, so that threads taking them in turn end together. One
/// task reads the ids even when the file has no id column (it numbers the machines).
fn column_tasks(mut weights: Vec<(Option<usize>, u64)>) -> Vec<Share> {
    weights.sort_by_key(|&(column, weight)| (std::cmp::Reverse(weight), column));
    let mut tasks: Vec<Share> = weights
        .into_iter()
        .map(|(column, _)| Share {
            fields: column.into_iter().collect(),
            ids: column.is_none(),
        })
        .collect();
    if !tasks.iter().any(|task| task.ids) {
        tasks.push(Share {
            fields: Vec::new(),
            ids: true,
        });
    }
    tasks
}

/// What a task of [`by_columns`] read: the number of rows and (for the task that reads
/// them) the ids.
type TaskResult = Result<(usize, IdsPart), Error>;

/// Reads a file by columns: `tasks` are taken in turn by up to `threads` threads (one of
/// them the calling thread); `read` writes a task's columns of every row through their
/// writers and returns the number of rows (and fills the ids, for the task that reads
/// them). Every column's dictionary is built once, by one thread, with nothing to merge.
fn by_columns<'p, F>(
    mut builder: ColumnarBuilder<'p>,
    tasks: &[Share],
    threads: usize,
    read: F,
) -> Result<(ColumnarFleet<'p>, Ids), Error>
where
    F: for<'w> Fn(&Share, &mut [(usize, ColumnWriter<'w>)], &mut IdsPart) -> Result<usize, Error>
        + Sync,
{
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let read = &read;
    let result = builder.append_by_column(|writers| {
        let mut writers: Vec<Option<ColumnWriter<'_>>> = writers.into_iter().map(Some).collect();
        // Each task's writers, taken by the thread that takes the task.
        let slots: Vec<Mutex<Vec<(usize, ColumnWriter<'_>)>>> = tasks
            .iter()
            .map(|task| {
                Mutex::new(
                    task.fields
                        .iter()
                        .filter_map(|&position| {
                            Some((position, writers.get_mut(position)?.take()?))
                        })
                        .collect(),
                )
            })
            .collect();
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done: Vec<(usize, TaskResult)> = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let (Some(task), Some(slot)) = (tasks.get(index), slots.get(index)) else {
                    return done;
                };
                let mut writers = slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut ids = IdsPart::default();
                let result = read(task, &mut writers, &mut ids).map(|rows| (rows, ids));
                done.push((index, result));
            }
        };
        let threads = threads.clamp(1, tasks.len().max(1));
        let mut results = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut results = work();
            for handle in handles {
                results.extend(
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            results
        });
        // The first error in task order, as one thread reading them all would meet.
        results.sort_by_key(|(index, _)| *index);
        let mut rows = 0;
        let mut ids = IdsPart::default();
        for (index, result) in results {
            match result {
                Ok((task_rows, task_ids)) => {
                    rows = rows.max(task_rows);
                    if tasks.get(index).is_some_and(|task| task.ids) {
                        ids = task_ids;
                    }
                }
                Err(error) => return (0, Err(error)),
            }
        }
        (rows, Ok(ids))
    });
    let part = result?;
    let mut ids = Ids::default();
    ids.append(part);
    Ok((builder.finish(), ids))
}

/// One thread's share of a file: its machines and their ids.
type Part<'p> = (ColumnarBuilder<'p>, IdsPart);

/// Reads `ranges` (of row groups or batches) with `read`: the first into `builder` on
/// the calling thread, each other one into a chunk of `builder` on a thread of its own; then
/// appends the chunks in order. (Reading the first range into the builder itself spares
/// appending it: appending costs a lookup per distinct value of the chunk.)
fn in_parallel<'p, W: Send, F>(
    builder: ColumnarBuilder<'p>,
    ranges: Vec<W>,
    read: F,
) -> Result<(ColumnarFleet<'p>, Ids), Error>
where
    F: Fn(W, Part<'p>) -> Result<Part<'p>, Error> + Sync,
{
    let mut ranges = ranges.into_iter();
    let first = ranges.next();
    let rest: Vec<(W, ColumnarBuilder<'p>)> =
        ranges.map(|range| (range, builder.chunk())).collect();
    let read = &read;
    let (first, rest) = std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .into_iter()
            .map(|(range, chunk)| scope.spawn(move || read(range, (chunk, IdsPart::default()))))
            .collect();
        let first = match first {
            Some(range) => read(range, (builder, IdsPart::default())),
            None => Ok((builder, IdsPart::default())),
        };
        let rest: Vec<Result<Part<'p>, Error>> = handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        (first, rest)
    });
    let (mut builder, first_ids) = first?;
    let mut ids = Ids::default();
    ids.append(first_ids);
    for part in rest {
        let (chunk, part_ids) = part?;
        builder.append(chunk);
        ids.append(part_ids);
    }
    Ok((builder.finish(), ids))
}

/// Splits `weights.len()` units into at most `threads` contiguous ranges of about equal total
/// weight (no empty range).
fn split(weights: &[u64], threads: usize) -> Vec<Range<usize>> {
    let total: u64 = weights.iter().sum();
    let threads = threads.clamp(1, weights.len().max(1));
    let mut ranges = Vec::with_capacity(threads);
    let mut start = 0;
    let mut sum = 0u64;
    for (index, &weight) in weights.iter().enumerate() {
        sum += weight;
        let done = ranges.len() as u64 + 1;
        // Close this range once it reaches its share of the total.
        if ranges.len() + 1 < threads && sum * threads as u64 >= total * done {
            ranges.push(start..index + 1);
            start = index + 1;
        }
    }
    if start < weights.len() {
        ranges.push(start..weights.len());
    }
    ranges
}

/// Writes the columns of `writers` (each a field's position and its writer) from `batch`,
/// and its ids when `share` reads them; returns the batch's rows.
fn write_batch(
    path: &Path,
    batch: &RecordBatch,
    fields: &[String],
    id_field: &str,
    share: &Share,
    writers: &mut [(usize, ColumnWriter<'_>)],
    ids: &mut IdsPart,
) -> Result<usize, Error> {
    let rows = batch.num_rows();
    for (position, writer) in writers.iter_mut() {
        match fields
            .get(*position)
            .and_then(|field| batch.column_by_name(field))
        {
            Some(array) => write_column(writer, array, rows),
            None => writer.extend_missing(rows),
        }
    }
    if share.ids {
        batch_ids(path, batch, id_field, ids)?;
    }
    Ok(rows)
}

fn parquet_file<'p>(
    path: &Path,
    plan: &'p Plan,
    id_field: &str,
    options: &Options,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let parquet = |source| Error::Parquet {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(parquet)?;
    let builder = plan.columnar_builder();
    let fields = builder.fields().to_vec();
    let columns = projection(path, metadata.schema(), &fields, id_field)?;
    let metadata = with_dictionaries(metadata, &columns);
    // Each projected column's weight: its bytes, uncompressed, in every row group.
    let descriptor = metadata.parquet_schema();
    let mut root_bytes = vec![0u64; metadata.schema().fields().len()];
    for group in metadata.metadata().row_groups() {
        for (leaf, chunk) in group.columns().iter().enumerate() {
            let root = descriptor.get_column_root_idx(leaf);
            if let Some(bytes) = root_bytes.get_mut(root) {
                *bytes += u64::try_from(chunk.uncompressed_size()).unwrap_or(0);
            }
        }
    }
    let schema = metadata.schema().clone();
    let weights = columns
        .iter()
        .filter_map(|&root| {
            let name = schema.fields().get(root)?.name();
            let weight = root_bytes.get(root).copied().unwrap_or(0).max(1);
            Some(match fields.iter().position(|f| f == name) {
                Some(position) => (Some(position), weight),
                None => (None, weight),
            })
        })
        .collect();
    let root_of = |name: &str| {
        columns
            .iter()
            .copied()
            .find(|&root| schema.fields().get(root).is_some_and(|f| f.name() == name))
    };
    let tasks = column_tasks(weights);
    by_columns(
        builder,
        &tasks,
        options.thread_count(),
        |share, writers, ids| {
            let mut roots: Vec<usize> = share
                .fields
                .iter()
                .filter_map(|&position| root_of(fields.get(position)?))
                .collect();
            if share.ids {
                roots.extend(root_of(id_field));
            }
            roots.sort_unstable();
            // A file of its own: clones of one `File` share its offset, which the Parquet
            // reader seeks.
            let file = File::open(path).map_err(io)?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
                .with_projection(ProjectionMask::roots(descriptor, roots))
                .with_batch_size(options.batch_size)
                .build()
                .map_err(parquet)?;
            let mut rows = 0;
            for batch in reader {
                let batch = batch.map_err(|source| Error::Decode {
                    path: path.to_owned(),
                    format: Format::Parquet,
                    source,
                })?;
                rows += write_batch(path, &batch, &fields, id_field, share, writers, ids)?;
            }
            Ok(rows)
        },
    )
}

/// `metadata` reading as Arrow dictionaries the text columns among `roots` whose pages are
/// all dictionary-encoded in every row group: each batch then hands over the Parquet
/// dictionary and the keys, so the store looks up each distinct value once per batch rather
/// than every row's text (and the texts are not copied out per row). The values read are
/// the same. When the reader refuses the hint, `metadata` as it was.
fn with_dictionaries(metadata: ArrowReaderMetadata, roots: &[usize]) -> ArrowReaderMetadata {
    use parquet::basic::Encoding;
    let descriptor = metadata.parquet_schema();
    let all_dictionary = |leaf: usize| {
        metadata.metadata().row_groups().iter().all(|group| {
            group.columns().get(leaf).is_some_and(|chunk| {
                chunk.dictionary_page_offset().is_some()
                    && chunk.page_encoding_stats_mask().is_some_and(|mask| {
                        mask.is_only(Encoding::PLAIN_DICTIONARY)
                            || mask.is_only(Encoding::RLE_DICTIONARY)
                    })
            })
        })
    };
    let schema = metadata.schema();
    let mut hinted = false;
    let fields: Vec<arrow_schema::FieldRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(root, field)| {
            let value_type = match field.data_type() {
                DataType::Utf8 => DataType::Utf8,
                DataType::LargeUtf8 => DataType::LargeUtf8,
                _ => return field.clone(),
            };
            let mut leaves = (0..descriptor.num_columns())
                .filter(|&leaf| descriptor.get_column_root_idx(leaf) == root);
            let dictionary = match (leaves.next(), leaves.next()) {
                (Some(leaf), None) => roots.contains(&root) && all_dictionary(leaf),
                _ => false,
            };
            if !dictionary {
                return field.clone();
            }
            hinted = true;
            std::sync::Arc::new(field.as_ref().clone().with_data_type(DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(value_type),
            )))
        })
        .collect();
    if !hinted {
        return metadata;
    }
    let schema = std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        metadata.metadata().clone(),
        ArrowReaderOptions::new().with_schema(schema),
    )
    .unwrap_or(metadata)
}

/// The first bytes of an Arrow IPC file (the stream format has none).
const IPC_FILE_MAGIC: &[u8; 6] = b"ARROW1";

fn ipc_file<'p>(
    path: &Path,
    plan: &'p Plan,
    id_field: &str,
    options: &Options,
) -> Result<(ColumnarFleet<'p>, Ids), Error> {
    use arrow_ipc::reader::{FileReader, StreamReader};
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let decode = |source| Error::Decode {
        path: path.to_owned(),
        format: Format::Ipc,
        source,
    };
    let open = || File::open(path).map_err(io);
    let mut magic = Vec::with_capacity(IPC_FILE_MAGIC.len());
    open()?
        .take(IPC_FILE_MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(io)?;
    let is_file_format = magic == IPC_FILE_MAGIC;
    let builder = plan.columnar_builder();
    let fields = builder.fields().to_vec();
    if !is_file_format {
        let schema = StreamReader::try_new_buffered(open()?, None)
            .map_err(decode)?
            .schema();
        let columns = projection(path, &schema, &fields, id_field)?;
        let reader = std::sync::Mutex::new(
            StreamReader::try_new_buffered(open()?, Some(columns)).map_err(decode)?,
        );
        // One thread, in order: a stream cannot be read twice at once.
        let all: Vec<usize> = (0..fields.len()).collect();
        let share = Share {
            fields: all,
            ids: true,
        };
        return by_columns(
            builder,
            std::slice::from_ref(&share),
            1,
            |share, writers, ids| {
                let mut rows = 0;
                let mut reader = reader
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for batch in reader.by_ref() {
                    let batch = batch.map_err(decode)?;
                    rows += write_batch(path, &batch, &fields, id_field, share, writers, ids)?;
                }
                Ok(rows)
            },
        );
    }
    // By batches, not by columns: a reader of some columns still reads each batch whole.
    let first = FileReader::try_new_buffered(open()?, None).map_err(decode)?;
    let columns = projection(path, &first.schema(), &fields, id_field)?;
    let batches = first.num_batches();
    drop(first);
    let read_batch = |batch: RecordBatch, chunk: &mut ColumnarBuilder<'p>, ids: &mut IdsPart| {
        append_batch(chunk, &batch).map_err(|source| Error::Batch {
            path: path.to_owned(),
            source,
        })?;
        batch_ids(path, &batch, id_field, ids)
    };
    let ranges = split(&vec![1; batches], options.thread_count());
    in_parallel(builder, ranges, |range, (mut chunk, mut ids)| {
        let mut reader =
            FileReader::try_new_buffered(open()?, Some(columns.clone())).map_err(decode)?;
        if range.is_empty() {
            return Ok((chunk, ids));
        }
        reader.set_index(range.start).map_err(decode)?;
        for batch in reader.take(range.len()) {
            read_batch(batch.map_err(decode)?, &mut chunk, &mut ids)?;
        }
        Ok((chunk, ids))
    })
}

#[cfg(test)]
mod tests {
    use super::{column_tasks, split};

    #[test]
    fn column_tasks_come_heaviest_first_and_one_reads_the_ids() {
        let tasks = column_tasks(vec![(Some(0), 10), (Some(1), 50), (None, 5), (Some(2), 30)]);
        let order: Vec<(Vec<usize>, bool)> =
            tasks.iter().map(|t| (t.fields.clone(), t.ids)).collect();
        assert_eq!(
            order,
            [
                (vec![1], false),
                (vec![2], false),
                (vec![0], false),
                (vec![], true)
            ]
        );
        // No id column: a task of its own numbers the machines.
        let tasks = column_tasks(vec![(Some(0), 1)]);
        assert_eq!(tasks.len(), 2);
        assert!(!tasks[0].ids && tasks[1].ids && tasks[1].fields.is_empty());
        assert_eq!(column_tasks(Vec::new()).len(), 1);
    }

    /// Text columns whose pages are all dictionary-encoded are read as dictionaries; others,
    /// and columns not projected, as they are.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn dictionary_encoded_text_columns_are_read_as_dictionaries() {
        use arrow_array::{ArrayRef, RecordBatch, StringArray};
        use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
        use std::sync::Arc;
        let kinds: Vec<&str> = (0..1000).map(|i| ["Server", "Laptop"][i % 2]).collect();
        let hosts: Vec<String> = (0..1000).map(|i| format!("host-{i}")).collect();
        let batch = RecordBatch::try_from_iter([
            (
                "Kind",
                Arc::new(StringArray::from(kinds.clone())) as ArrayRef,
            ),
            ("Other", Arc::new(StringArray::from(kinds)) as ArrayRef),
            ("Host", Arc::new(StringArray::from(hosts)) as ArrayRef),
        ])
        .unwrap();
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_column_dictionary_enabled("Host".into(), false)
            .build();
        let file = tempfile::tempfile().unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            file.try_clone().unwrap(),
            batch.schema(),
            Some(properties),
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
        let hinted = super::with_dictionaries(metadata, &[0, 2]);
        let types: Vec<String> = hinted
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(types, ["Dictionary(Int32, Utf8)", "Utf8", "Utf8"]);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn units_are_split_into_contiguous_ranges_of_about_equal_weight() {
        assert_eq!(split(&[10, 10, 10, 10], 2), [0..2, 2..4]);
        assert_eq!(split(&[100], 2), [0..1]);
        assert_eq!(split(&[], 2), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(split(&[1, 1, 1], 8), [0..1, 1..2, 2..3]);
        assert_eq!(split(&[90, 5, 5], 2), [0..1, 1..3]);
        assert_eq!(split(&[5, 5, 90], 2), [0..3]);
        assert_eq!(split(&[1, 1, 1], 1), [0..3]);
    }
}
