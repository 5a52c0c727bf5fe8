//! Reading Parquet and Arrow IPC files: only the plan's columns and the id column, split
//! between threads by row group or record batch, appended in order.

use crate::batch::{BatchError, append_batch};
use crate::ids::{self, Ids, IdsPart};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Schema};
use cohort_engine::{ColumnarBuilder, ColumnarFleet, Plan};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
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
    let columns = projection(path, metadata.schema(), builder.fields(), id_field)?;
    let mask = ProjectionMask::roots(metadata.parquet_schema(), columns);
    let rows: Vec<u64> = metadata
        .metadata()
        .row_groups()
        .iter()
        .map(|group| u64::try_from(group.num_rows()).unwrap_or(0))
        .collect();
    let shares = parquet_shares(&rows, options.thread_count());
    in_parallel(builder, shares, |share, (mut chunk, mut ids)| {
        // A file of its own: clones of one `File` share its offset, which the Parquet
        // reader seeks.
        let file = File::open(path).map_err(io)?;
        let mut reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
            .with_projection(mask.clone())
            .with_row_groups(share.row_groups)
            .with_batch_size(options.batch_size);
        if let Some(selection) = share.selection {
            reader = reader.with_row_selection(selection);
        }
        let reader = reader.build().map_err(parquet)?;
        for batch in reader {
            let batch = batch.map_err(|source| Error::Decode {
                path: path.to_owned(),
                format: Format::Parquet,
                source,
            })?;
            append_batch(&mut chunk, &batch).map_err(|source| Error::Batch {
                path: path.to_owned(),
                source,
            })?;
            batch_ids(path, &batch, id_field, &mut ids)?;
        }
        Ok((chunk, ids))
    })
}

/// One thread's share of a Parquet file: whole row groups, or rows of some.
struct ParquetShare {
    row_groups: Vec<usize>,
    /// The rows to read of those row groups (all when `None`).
    selection: Option<RowSelection>,
}

/// Shares out row groups of `rows` rows each between `threads` threads: whole row groups
/// when that is even enough, otherwise equal runs of rows (a thread then
/// decodes the pages of a row group that it skips rows of, but the rows it skips cost no
/// work in the store, which is most of the work).
fn parquet_shares(rows: &[u64], threads: usize) -> Vec<ParquetShare> {
    let total: u64 = rows.iter().sum();
    let whole = split(rows, threads);
    let largest = whole
        .iter()
        .map(|range| rows.get(range.clone()).map_or(0, |r| r.iter().sum::<u64>()))
        .max()
        .unwrap_or(0);
    // Whole row groups when that shares the rows out evenly enough (the largest share at
    // most a quarter above an even one).
    if whole.len() == threads.min(rows.len()).max(1) && largest * 4 * threads as u64 <= total * 5
        || rows.len() <= 1 && threads <= 1
    {
        return whole
            .into_iter()
            .map(|range| ParquetShare {
                row_groups: range.collect(),
                selection: None,
            })
            .collect();
    }
    let threads = threads
        .min(usize::try_from(total).unwrap_or(usize::MAX))
        .max(1) as u64;
    // Where each row group starts.
    let starts: Vec<u64> = rows
        .iter()
        .scan(0u64, |start, &n| {
            let this = *start;
            *start += n;
            Some(this)
        })
        .collect();
    (0..threads)
        .map(|t| {
            let (from, to) = (total * t / threads, total * (t + 1) / threads);
            let row_groups: Vec<usize> = (0..rows.len())
                .filter(|&g| {
                    let start = starts.get(g).copied().unwrap_or(0);
                    let end = start + rows.get(g).copied().unwrap_or(0);
                    start < to && end > from
                })
                .collect();
            let first = row_groups
                .first()
                .and_then(|&g| starts.get(g).copied())
                .unwrap_or(0);
            let skip = usize::try_from(from - first.min(from)).unwrap_or(0);
            let select = usize::try_from(to - from).unwrap_or(0);
            ParquetShare {
                row_groups,
                selection: Some(RowSelection::from(vec![
                    RowSelector::skip(skip),
                    RowSelector::select(select),
                ])),
            }
        })
        .collect()
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
    let read_batch = |batch: RecordBatch, chunk: &mut ColumnarBuilder<'p>, ids: &mut IdsPart| {
        append_batch(chunk, &batch).map_err(|source| Error::Batch {
            path: path.to_owned(),
            source,
        })?;
        batch_ids(path, &batch, id_field, ids)
    };
    if !is_file_format {
        let schema = StreamReader::try_new_buffered(open()?, None)
            .map_err(decode)?
            .schema();
        let columns = projection(path, &schema, builder.fields(), id_field)?;
        let reader = StreamReader::try_new_buffered(open()?, Some(columns)).map_err(decode)?;
        let mut chunk = builder.chunk();
        let mut ids = IdsPart::default();
        for batch in reader {
            read_batch(batch.map_err(decode)?, &mut chunk, &mut ids)?;
        }
        let mut builder = builder;
        builder.append(chunk);
        let mut all = Ids::default();
        all.append(ids);
        return Ok((builder.finish(), all));
    }
    let first = FileReader::try_new_buffered(open()?, None).map_err(decode)?;
    let columns = projection(path, &first.schema(), builder.fields(), id_field)?;
    let batches = first.num_batches();
    drop(first);
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
    use super::split;

    #[test]
    fn few_row_groups_are_shared_out_by_rows() {
        let shares = super::parquet_shares(&[100], 2);
        assert_eq!(shares.len(), 2);
        assert_eq!(shares[0].row_groups, [0]);
        assert_eq!(shares[1].row_groups, [0]);
        let selected = |s: &super::ParquetShare| -> Vec<(bool, usize)> {
            s.selection
                .iter()
                .flat_map(|s| s.iter())
                .map(|s| (s.skip, s.row_count))
                .collect()
        };
        assert_eq!(selected(&shares[0]), [(false, 50)]);
        assert_eq!(selected(&shares[1]), [(true, 50), (false, 50)]);
        let shares = super::parquet_shares(&[10, 30], 3);
        assert_eq!(shares.len(), 3);
        assert_eq!(shares[0].row_groups, [0, 1]);
        assert_eq!(selected(&shares[0]), [(false, 13)]);
        assert_eq!(shares[1].row_groups, [1]);
        assert_eq!(selected(&shares[1]), [(true, 3), (false, 13)]);
        assert_eq!(shares[2].row_groups, [1]);
        assert_eq!(selected(&shares[2]), [(true, 16), (false, 14)]);
        // Whole row groups when they share out evenly, rows otherwise.
        let shares = super::parquet_shares(&[10, 30], 2);
        assert_eq!(shares.len(), 2);
        assert!(shares[0].selection.is_some());
        let shares = super::parquet_shares(&[10, 10, 10, 10, 10], 2);
        assert_eq!(shares.len(), 2);
        assert!(shares.iter().all(|s| s.selection.is_none()));
        assert_eq!(shares[0].row_groups, [0, 1, 2]);
        assert_eq!(super::parquet_shares(&[], 2).len(), 1);
        assert_eq!(super::parquet_shares(&[10], 1).len(), 1);
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
