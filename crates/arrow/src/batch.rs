//! Reading one [`RecordBatch`] into a [`ColumnarBuilder`]: the plan's fields looked up by
//! name, each column read as the engine reads attributes, one machine per row.

use crate::dates;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type,
    Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};
use cohort_engine::{Attr, AttrList, ColumnarBuilder, MAX_LIST_DEPTH};

/// Why a batch could not be read. (See `tests/types.rs` for a batch with two columns of one
/// name: Arrow schemas allow it.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// Two or more columns of the batch have the name of a field the plan tests, so which one
    /// holds the field is ambiguous.
    #[error("the batch has {count} columns named `{column}`, a field the groups test")]
    DuplicateColumn {
        /// The column's name.
        column: String,
        /// How many columns have it.
        count: usize,
    },
    /// The id column's type has no text form ([`crate::Ids::append_batch`]).
    #[error("the id column `{column}` has type {data_type}, which cannot be read as text")]
    IdType {
        /// The id column.
        column: String,
        /// Its type.
        data_type: arrow_schema::DataType,
    },
}

/// Appends one machine per row of `batch` to `builder`.
///
/// Each of the builder's fields ([`ColumnarBuilder::fields`]) is looked up among the batch's
/// columns by name; a field that no column has is missing on every machine of the batch, and
/// columns that no group tests are not read at all. Values are read as the
/// [crate documentation](crate#type-mapping) says: text is borrowed from the Arrow arrays,
/// and a null is a missing attribute (as an absent key of a JSON machine is).
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
/// use cohort::{GroupSet, Timestamp};
///
/// let groups = GroupSet::from_yaml_str(
///     "name: Low Disk Servers\nwhere: '[Free Disk %] < 10 and Machine Type = Server'",
/// )?;
/// let batch = RecordBatch::try_from_iter([
///     ("Machine Type", Arc::new(StringArray::from(vec![Some("Server"), Some("Laptop"), None])) as ArrayRef),
///     ("Free Disk %", Arc::new(Float64Array::from(vec![Some(4.5), Some(3.0), Some(1.0)])) as ArrayRef),
///     ("Serial Number", Arc::new(StringArray::from(vec!["A", "B", "C"])) as ArrayRef),
/// ])?;
/// let mut builder = groups.plan().columnar_builder();
/// cohort_arrow::append_batch(&mut builder, &batch)?;
/// let members = builder.finish().evaluate(Timestamp::UNIX_EPOCH);
/// let low = members.members(groups.id("Low Disk Servers").unwrap());
/// assert_eq!(low.iter().collect::<Vec<_>>(), [0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn append_batch(
    builder: &mut ColumnarBuilder<'_>,
    batch: &RecordBatch,
) -> Result<(), BatchError> {
    let columns = plan_columns(builder.fields(), batch)?;
    let rows = batch.num_rows();
    builder.append_columns(rows, |position, writer| {
        if let Some(Some(array)) = columns.get(position) {
            write_column(writer, array, rows);
        }
    });
    Ok(())
}

/// Writes the first `rows` values of `array` (a whole column) through `writer`, as the
/// [crate documentation](crate#type-mapping) says they read.
pub(crate) fn write_column(
    writer: &mut cohort_engine::ColumnWriter<'_>,
    array: &ArrayRef,
    rows: usize,
) {
    let goal = writer.written() + rows;
    let read = Read::of(array);
    match &read {
        Read::Leaf(leaf) => write_leaf(writer, leaf, rows),
        Read::Lists { lists, leaf } if lists.len() == 1 => {
            if let Some(list) = lists.first() {
                write_lists(writer, list, leaf, rows);
            }
        }
        Read::Lists { .. } => {
            // Lists of lists: one list cell per row, read through the levels.
            let mut levels = read.empty_levels();
            let source = read.source(&mut levels);
            writer.extend((0..rows).map(|index| source.attr(index)));
        }
    }
    // Exactly `rows` values, so that columns written apart stay aligned.
    writer.extend_missing(goal.saturating_sub(writer.written()));
}

/// Writes the `rows` values of a scalar column: flags without a lookup, a dictionary by its
/// distinct values, others value by value.
fn write_leaf(writer: &mut cohort_engine::ColumnWriter<'_>, leaf: &LeafColumn<'_>, rows: usize) {
    let is_null = |index: usize| {
        leaf.nulls
            .as_ref()
            .is_some_and(|n| index >= n.len() || n.is_null(index))
    };
    match &leaf.leaf {
        Leaf::Absent => {}
        Leaf::Bool(array) => writer.extend_flags(
            (0..rows)
                .map(|index| (!is_null(index) && index < array.len()).then(|| array.value(index))),
        ),
        Leaf::Dict {
            keys,
            values,
            values_len,
        } => writer.extend_dictionary(
            (0..*values_len).map(|key| values.attr(key)),
            (0..rows).map(|index| {
                if is_null(index) {
                    None
                } else {
                    keys.get(index).copied()
                }
            }),
        ),
        _ => writer.extend((0..rows).map(|index| leaf.attr(index))),
    }
}

/// Writes the `rows` values of a list column whose elements are not lists: each list a
/// range of the elements, which are read once.
fn write_lists(
    writer: &mut cohort_engine::ColumnWriter<'_>,
    list: &Lists<'_>,
    leaf: &LeafColumn<'_>,
    rows: usize,
) {
    let ranges = list.offsets.ranges();
    let ranges = ranges.get(..rows).unwrap_or(&ranges);
    // Only the elements the rows' lists hold (a sliced array's child is longer).
    let first = ranges.iter().map(|&(start, _)| start).min().unwrap_or(0);
    let last = ranges
        .iter()
        .map(|&(_, end)| end)
        .max()
        .unwrap_or(0)
        .max(first);
    // A null element is `Attr::Null`, as `null` in a JSON array.
    let elements: Vec<Attr<'_>> = (first..last)
        .map(|at| leaf.attr(at).unwrap_or(Attr::Null))
        .collect();
    writer.extend_lists(
        &elements,
        ranges.iter().enumerate().map(|(index, &(start, end))| {
            let null = list
                .nulls
                .as_ref()
                .is_some_and(|n| index >= n.len() || n.is_null(index));
            (!null).then(|| start - first..end - first)
        }),
    );
}

/// For each field, the column of `batch` with its name (`None` when there is none).
pub(crate) fn plan_columns<'b>(
    fields: &[String],
    batch: &'b RecordBatch,
) -> Result<Vec<Option<&'b ArrayRef>>, BatchError> {
    let schema = batch.schema_ref();
    fields
        .iter()
        .map(|field| {
            let mut found = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() == field)
                .map(|(index, _)| index);
            match (found.next(), found.next()) {
                (None, _) => Ok(None),
                (Some(index), None) => Ok(batch.columns().get(index)),
                (Some(_), Some(_)) => Err(BatchError::DuplicateColumn {
                    column: field.clone(),
                    count: 2 + found.count(),
                }),
            }
        })
        .collect()
}

/// A number column of any primitive number type.
trait Numbers {
    fn number(&self, index: usize) -> Option<f64>;
}

/// A primitive Arrow type whose values read as `f64` (integers past 2^53 round to the
/// nearest `f64`, as `serde_json` reads such JSON integers).
trait AsF64: ArrowPrimitiveType {
    fn as_f64(value: Self::Native) -> f64;
}

macro_rules! as_f64 {
    ($($t:ty),*) => {$(
        impl AsF64 for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn as_f64(value: Self::Native) -> f64 {
                value as f64
            }
        }
    )*};
}
as_f64!(
    Int8Type,
    Int16Type,
    Int32Type,
    Int64Type,
    UInt8Type,
    UInt16Type,
    UInt32Type,
    UInt64Type,
    Float32Type,
    Float64Type
);

impl AsF64 for Float16Type {
    fn as_f64(value: Self::Native) -> f64 {
        value.to_f64()
    }
}

impl<T: AsF64> Numbers for PrimitiveArray<T> {
    fn number(&self, index: usize) -> Option<f64> {
        self.values().get(index).map(|&v| T::as_f64(v))
    }
}

/// A text column: `Utf8`, `LargeUtf8` or `Utf8View`.
trait Texts {
    fn text(&self, index: usize) -> Option<&str>;
}

impl<O: arrow_array::OffsetSizeTrait> Texts for arrow_array::GenericStringArray<O> {
    fn text(&self, index: usize) -> Option<&str> {
        (index < self.len()).then(|| self.value(index))
    }
}

impl Texts for arrow_array::StringViewArray {
    fn text(&self, index: usize) -> Option<&str> {
        (index < self.len()).then(|| self.value(index))
    }
}

/// A column whose values are not lists, prepared for reading row by row.
struct LeafColumn<'a> {
    nulls: Option<NullBuffer>,
    leaf: Leaf<'a>,
}

enum Leaf<'a> {
    /// Every value is missing (`DataType::Null`).
    Absent,
    Bool(&'a BooleanArray),
    Number(&'a dyn Numbers),
    Text(&'a dyn Texts),
    /// Decimals, read once per batch.
    Floats(Vec<f64>),
    /// Dates and timestamps, written as RFC 3339 text once per batch.
    Dates(dates::Texts),
    /// A dictionary: each row's key, and the values.
    Dict {
        keys: Vec<usize>,
        values: Box<LeafColumn<'a>>,
        values_len: usize,
    },
    /// Anything else: present values are [`Attr::Opaque`].
    Opaque,
}

impl<'a> LeafColumn<'a> {
    /// `array` read as scalars (`array` is not a list, or is one [`MAX_LIST_DEPTH`] deep).
    fn of(array: &'a dyn Array) -> LeafColumn<'a> {
        let nulls = array.nulls().cloned();
        let leaf = match array.data_type() {
            DataType::Null => Leaf::Absent,
            DataType::Boolean => Leaf::Bool(array.as_boolean()),
            DataType::Int8 => Leaf::Number(array.as_primitive::<Int8Type>()),
            DataType::Int16 => Leaf::Number(array.as_primitive::<Int16Type>()),
            DataType::Int32 => Leaf::Number(array.as_primitive::<Int32Type>()),
            DataType::Int64 => Leaf::Number(array.as_primitive::<Int64Type>()),
            DataType::UInt8 => Leaf::Number(array.as_primitive::<UInt8Type>()),
            DataType::UInt16 => Leaf::Number(array.as_primitive::<UInt16Type>()),
            DataType::UInt32 => Leaf::Number(array.as_primitive::<UInt32Type>()),
            DataType::UInt64 => Leaf::Number(array.as_primitive::<UInt64Type>()),
            DataType::Float16 => Leaf::Number(array.as_primitive::<Float16Type>()),
            DataType::Float32 => Leaf::Number(array.as_primitive::<Float32Type>()),
            DataType::Float64 => Leaf::Number(array.as_primitive::<Float64Type>()),
            DataType::Utf8 => Leaf::Text(array.as_string::<i32>()),
            DataType::LargeUtf8 => Leaf::Text(array.as_string::<i64>()),
            DataType::Utf8View => Leaf::Text(array.as_string_view()),
            DataType::Decimal32(_, scale) => Leaf::Floats(decimals(
                array
                    .as_primitive::<Decimal32Type>()
                    .values()
                    .iter()
                    .map(|&v| i128::from(v)),
                *scale,
            )),
            DataType::Decimal64(_, scale) => Leaf::Floats(decimals(
                array
                    .as_primitive::<Decimal64Type>()
                    .values()
                    .iter()
                    .map(|&v| i128::from(v)),
                *scale,
            )),
            DataType::Decimal128(_, scale) => Leaf::Floats(decimals(
                array
                    .as_primitive::<Decimal128Type>()
                    .values()
                    .iter()
                    .copied(),
                *scale,
            )),
            DataType::Decimal256(_, scale) => {
                let mut text = String::new();
                Leaf::Floats(
                    array
                        .as_primitive::<Decimal256Type>()
                        .values()
                        .iter()
                        .map(|v| match v.to_i128() {
                            Some(v) => decimal(v, *scale),
                            None => decimal_from_text(&mut text, v, *scale),
                        })
                        .collect(),
                )
            }
            DataType::Date32 => Leaf::Dates(dates::Texts::of_days(
                array.as_primitive::<Date32Type>().values(),
            )),
            DataType::Date64 => Leaf::Dates(dates::Texts::of_date_millis(
                array.as_primitive::<Date64Type>().values(),
            )),
            DataType::Timestamp(unit, _) => {
                let (values, per_second) = match unit {
                    TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().values(), 1),
                    TimeUnit::Millisecond => (
                        array.as_primitive::<TimestampMillisecondType>().values(),
                        1_000,
                    ),
                    TimeUnit::Microsecond => (
                        array.as_primitive::<TimestampMicrosecondType>().values(),
                        1_000_000,
                    ),
                    TimeUnit::Nanosecond => (
                        array.as_primitive::<TimestampNanosecondType>().values(),
                        1_000_000_000,
                    ),
                };
                Leaf::Dates(dates::Texts::of_instants(values, per_second))
            }
            DataType::Dictionary(_, _) => match array.as_any_dictionary_opt() {
                Some(dict) if !dict.values().is_empty() => Leaf::Dict {
                    keys: dict.normalized_keys(),
                    values: Box::new(LeafColumn::of(dict.values().as_ref())),
                    values_len: dict.values().len(),
                },
                // No values: every key is null.
                Some(_) => Leaf::Absent,
                None => Leaf::Opaque,
            },
            _ => {
                // Unions and run-end encoded arrays have no null buffer of their own.
                return LeafColumn {
                    nulls: array.logical_nulls(),
                    leaf: Leaf::Opaque,
                };
            }
        };
        LeafColumn { nulls, leaf }
    }

    /// The value at `index`: `None` when it is null (or past the end).
    #[inline]
    fn attr(&self, index: usize) -> Option<Attr<'_>> {
        if self
            .nulls
            .as_ref()
            .is_some_and(|n| index >= n.len() || n.is_null(index))
        {
            return None;
        }
        match &self.leaf {
            Leaf::Absent => None,
            Leaf::Bool(array) => (index < array.len()).then(|| Attr::Bool(array.value(index))),
            Leaf::Number(array) => array.number(index).map(Attr::Number),
            Leaf::Text(array) => array.text(index).map(Attr::Text),
            Leaf::Floats(values) => values.get(index).map(|&v| Attr::Number(v)),
            Leaf::Dates(texts) => texts.get(index).map(Attr::Text),
            Leaf::Dict { keys, values, .. } => values.attr(*keys.get(index)?),
            Leaf::Opaque => Some(Attr::Opaque),
        }
    }
}

/// Decimals (`value` times 10^-`scale`) as the nearest `f64`.
fn decimals(values: impl Iterator<Item = i128>, scale: i8) -> Vec<f64> {
    values.map(|v| decimal(v, scale)).collect()
}

/// A decimal as the nearest `f64`: exactly rounded when the digits fit 53 bits and the scale
/// is within 22 (a power of ten that `f64` holds exactly), otherwise through Rust's correctly
/// rounding parser.
#[allow(clippy::cast_precision_loss)]
fn decimal(value: i128, scale: i8) -> f64 {
    const EXACT: i128 = 1 << 53;
    if (-EXACT..=EXACT).contains(&value) && (-22..=22).contains(&scale) {
        let power = 10f64.powi(i32::from(scale.unsigned_abs()));
        if scale >= 0 {
            value as f64 / power
        } else {
            value as f64 * power
        }
    } else {
        decimal_from_text(&mut String::new(), value, scale)
    }
}

/// A decimal read from its digits: `{value}e{-scale}`, parsed (`text` is a buffer).
fn decimal_from_text(text: &mut String, value: impl std::fmt::Display, scale: i8) -> f64 {
    use std::fmt::Write;
    text.clear();
    let _ = write!(text, "{value}e{}", -i32::from(scale));
    text.parse().unwrap_or(f64::NAN)
}

/// How to read one column of a batch: a scalar column, or a list column (the
/// lists from the outermost in, and the scalar column inside the innermost).
enum Read<'a> {
    Leaf(LeafColumn<'a>),
    Lists {
        lists: Vec<Lists<'a>>,
        leaf: LeafColumn<'a>,
    },
}

/// One list array: its nulls and where each list's elements are in its child.
struct Lists<'a> {
    nulls: Option<NullBuffer>,
    offsets: Offsets<'a>,
}

enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
    Fixed { size: usize, len: usize },
}

impl Offsets<'_> {
    /// The elements of every list, as ranges of the child array.
    fn ranges(&self) -> Vec<(usize, usize)> {
        fn pairs<O: Copy + TryInto<usize>>(offsets: &[O]) -> Vec<(usize, usize)> {
            offsets
                .windows(2)
                .map(|pair| match pair {
                    [start, end] => {
                        let start = (*start).try_into().unwrap_or(0);
                        let end = (*end).try_into().unwrap_or(0);
                        (start, end.max(start))
                    }
                    _ => (0, 0),
                })
                .collect()
        }
        match self {
            Offsets::Small(offsets) => pairs(offsets),
            Offsets::Large(offsets) => pairs(offsets),
            Offsets::Fixed { size, len } => {
                (0..*len).map(|i| (i * size, i * size + size)).collect()
            }
        }
    }
}

impl<'a> Read<'a> {
    fn of(array: &'a ArrayRef) -> Read<'a> {
        let mut lists = Vec::new();
        let mut current: &'a dyn Array = array.as_ref();
        // A list at depth MAX_LIST_DEPTH or deeper reads as opaque, as in the engine.
        while lists.len() < MAX_LIST_DEPTH {
            let (offsets, child) = match current.data_type() {
                DataType::List(_) => {
                    let list = current.as_list::<i32>();
                    (Offsets::Small(list.value_offsets()), list.values().as_ref())
                }
                DataType::LargeList(_) => {
                    let list = current.as_list::<i64>();
                    (Offsets::Large(list.value_offsets()), list.values().as_ref())
                }
                DataType::FixedSizeList(_, size) => {
                    let list = current.as_fixed_size_list();
                    let size = usize::try_from(*size).unwrap_or(0);
                    (
                        Offsets::Fixed {
                            size,
                            len: list.len(),
                        },
                        list.values().as_ref(),
                    )
                }
                _ => break,
            };
            lists.push(Lists {
                nulls: current.nulls().cloned(),
                offsets,
            });
            current = child;
        }
        let leaf = LeafColumn::of(current);
        if lists.is_empty() {
            Read::Leaf(leaf)
        } else {
            Read::Lists { lists, leaf }
        }
    }

    /// Room for the list cells of this field, one level per list array (lists of lists
    /// only: a list of scalars is written from its elements, [`write_lists`]).
    fn empty_levels<'s>(&self) -> Vec<Level<'s>> {
        match self {
            Read::Lists { lists, .. } if lists.len() > 1 => {
                lists.iter().map(|_| Level::default()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The field's values, row by row; list cells are made in `levels` (from
    /// [`Read::empty_levels`]).
    fn source<'s>(&'s self, levels: &'s mut [Level<'s>]) -> Source<'s> {
        match self {
            Read::Leaf(leaf) => Source::Leaf(leaf),
            Read::Lists { lists, leaf } => match fill(lists, leaf, levels) {
                Some(level) => Source::List(level),
                None => Source::Missing,
            },
        }
    }
}

/// Makes the cells of `lists[0]` in `levels[0]`, after those of the lists inside it in the
/// rest of `levels`.
fn fill<'s>(
    lists: &'s [Lists<'s>],
    leaf: &'s LeafColumn<'s>,
    levels: &'s mut [Level<'s>],
) -> Option<&'s Level<'s>> {
    let (this, deeper_lists) = lists.split_first()?;
    let (level, deeper_levels) = levels.split_first_mut()?;
    let items = match fill(deeper_lists, leaf, deeper_levels) {
        Some(inner) => Items::Lists(inner),
        None => Items::Leaf(leaf),
    };
    level.nulls = this.nulls.as_ref();
    level.cells = this
        .offsets
        .ranges()
        .into_iter()
        .map(|(start, end)| Cell { items, start, end })
        .collect();
    Some(level)
}

/// One field's values in a batch, row by row.
enum Source<'s> {
    Missing,
    Leaf(&'s LeafColumn<'s>),
    List(&'s Level<'s>),
}

impl Source<'_> {
    #[inline]
    fn attr(&self, index: usize) -> Option<Attr<'_>> {
        match self {
            Source::Missing => None,
            Source::Leaf(leaf) => leaf.attr(index),
            Source::List(level) => level.attr(index),
        }
    }
}

/// The lists of one list array as [`AttrList`]s, one cell per list.
#[derive(Default)]
struct Level<'s> {
    nulls: Option<&'s NullBuffer>,
    cells: Vec<Cell<'s>>,
}

impl Level<'_> {
    #[inline]
    fn attr(&self, index: usize) -> Option<Attr<'_>> {
        if self
            .nulls
            .is_some_and(|n| index >= n.len() || n.is_null(index))
        {
            return None;
        }
        self.cells.get(index).map(|cell| Attr::List(cell))
    }
}

/// One list: its elements are `start..end` of the child array.
struct Cell<'s> {
    items: Items<'s>,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy)]
enum Items<'s> {
    Leaf(&'s LeafColumn<'s>),
    Lists(&'s Level<'s>),
}

impl AttrList for Cell<'_> {
    fn len(&self) -> usize {
        self.end - self.start
    }

    /// A null element is [`Attr::Null`], as `null` in a JSON array.
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        if index >= self.len() {
            return None;
        }
        let at = self.start + index;
        Some(
            match self.items {
                Items::Leaf(leaf) => leaf.attr(at),
                Items::Lists(level) => level.attr(at),
            }
            .unwrap_or(Attr::Null),
        )
    }
}
