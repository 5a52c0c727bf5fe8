//! Machine ids: one text arena and its offsets.

use crate::dates;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};
use std::fmt::Write;

/// The id of every machine read from a file, by position: the id column's value as text, or
/// `#N` (the machine's 1-based position) when the value is null or the file has no such
/// column, as `cohort eval` names machines. Stored as one text with the end of each id.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("fleet.arrow");
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, RecordBatch, StringArray};
///
/// let batch = RecordBatch::try_from_iter([(
///     "id",
///     Arc::new(StringArray::from(vec![Some("M1"), None])) as ArrayRef,
/// )])?;
/// let mut writer = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&path)?, &batch.schema())?;
/// writer.write(&batch)?;
/// writer.finish()?;
///
/// let groups = cohort::GroupSet::from_yaml_str("name: Any\nwhere: OS is not blank")?;
/// let (_fleet, ids) = cohort_arrow::read_ipc(&path, groups.plan(), "id")?;
/// assert_eq!(ids.len(), 2);
/// assert_eq!(ids.get(0), Some("M1"));
/// assert_eq!(ids.get(1), Some("#2"));
/// assert_eq!(ids.get(2), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    text: String,
    ends: Vec<usize>,
}

impl Ids {
    /// The number of machines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no machine.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id of the machine at `position` (0-based), `None` past the end.
    pub fn get(&self, position: usize) -> Option<&str> {
        let end = *self.ends.get(position)?;
        let start = match position.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// Every id, in machine order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let id = self.text.get(start..end).unwrap_or_default();
            start = end;
            id
        })
    }

    /// Appends the ids of `batch`'s rows, as [`crate::read_ipc`] reads them from a file: the
    /// `id_field` column's values as text, `#N` (the machine's 1-based position among all
    /// appended so far) for a null or when the batch has no such column. For embedders that
    /// hold their own batches ([`crate::append_batch`] reads the machines).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    ///
    /// let batch = RecordBatch::try_from_iter([(
    ///     "id",
    ///     Arc::new(Int64Array::from(vec![Some(7), None])) as ArrayRef,
    /// )])?;
    /// let mut ids = cohort_arrow::Ids::default();
    /// ids.append_batch(&batch, "id")?;
    /// ids.append_batch(&batch, "serial")?;
    /// assert_eq!(ids.iter().collect::<Vec<_>>(), ["7", "#2", "#3", "#4"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_batch(
        &mut self,
        batch: &arrow_array::RecordBatch,
        id_field: &str,
    ) -> Result<(), crate::BatchError> {
        let mut part = IdsPart::default();
        match batch.schema_ref().column_with_name(id_field) {
            Some((index, field)) => match batch.columns().get(index) {
                Some(column) => {
                    part.push_column(column.as_ref())
                        .map_err(|_| crate::BatchError::IdType {
                            column: id_field.to_owned(),
                            data_type: field.data_type().clone(),
                        })?
                }
                None => part.push_absent(batch.num_rows()),
            },
            None => part.push_absent(batch.num_rows()),
        }
        self.append(part);
        Ok(())
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }

    /// Appends the ids of `part`, whose first machine is at position `self.len()`.
    pub(crate) fn append(&mut self, part: IdsPart) {
        if part.missing.is_empty() && self.ends.is_empty() {
            self.text = part.text;
            self.ends = part.ends;
            return;
        }
        self.text.reserve(part.text.len());
        self.ends.reserve(part.ends.len());
        let mut missing = part.missing.iter().copied().peekable();
        let mut start = 0;
        for (index, &end) in part.ends.iter().enumerate() {
            if missing.peek() == Some(&index) {
                missing.next();
                let _ = write!(self.text, "#{}", self.ends.len() + 1);
            } else {
                self.text
                    .push_str(part.text.get(start..end).unwrap_or_default());
            }
            start = end;
            self.ends.push(self.text.len());
        }
    }
}

/// The ids of some machines, read on one thread, whose positions are not known yet.
#[derive(Debug, Default)]
pub(crate) struct IdsPart {
    text: String,
    ends: Vec<usize>,
    /// The indices (in this part) of the machines without an id, in increasing order.
    missing: Vec<usize>,
}

impl IdsPart {
    fn push_text(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    fn push_missing(&mut self) {
        self.missing.push(self.ends.len());
        self.ends.push(self.text.len());
    }

    fn get(&self, index: usize) -> Option<&str> {
        if self.missing.binary_search(&index).is_ok() {
            return None;
        }
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// Appends `rows` machines without an id (the file has no id column).
    pub(crate) fn push_absent(&mut self, rows: usize) {
        for _ in 0..rows {
            self.push_missing();
        }
    }

    /// Appends the id of every row of `array`.
    pub(crate) fn push_column(&mut self, array: &dyn Array) -> Result<(), UnsupportedId> {
        let rows = array.len();
        let nulls = array.logical_nulls();
        let is_null = |index: usize| nulls.as_ref().is_some_and(|n| n.is_null(index));
        macro_rules! each {
            (|$index:ident| $write:expr) => {
                for $index in 0..rows {
                    if is_null($index) {
                        self.push_missing();
                    } else {
                        $write;
                        self.ends.push(self.text.len());
                    }
                }
            };
        }
        macro_rules! displayed {
            ($t:ty) => {{
                let array: &PrimitiveArray<$t> = array.as_primitive();
                each!(|index| {
                    let _ = write!(self.text, "{}", array.value(index));
                })
            }};
        }
        match array.data_type() {
            DataType::Null => self.push_absent(rows),
            DataType::Utf8 => {
                let array = array.as_string::<i32>();
                each!(|index| self.text.push_str(array.value(index)))
            }
            DataType::LargeUtf8 => {
                let array = array.as_string::<i64>();
                each!(|index| self.text.push_str(array.value(index)))
            }
            DataType::Utf8View => {
                let array = array.as_string_view();
                each!(|index| self.text.push_str(array.value(index)))
            }
            DataType::Boolean => {
                let array = array.as_boolean();
                each!(|index| self
                    .text
                    .push_str(if array.value(index) { "true" } else { "false" }))
            }
            DataType::Int8 => displayed!(Int8Type),
            DataType::Int16 => displayed!(Int16Type),
            DataType::Int32 => displayed!(Int32Type),
            DataType::Int64 => displayed!(Int64Type),
            DataType::UInt8 => displayed!(UInt8Type),
            DataType::UInt16 => displayed!(UInt16Type),
            DataType::UInt32 => displayed!(UInt32Type),
            DataType::UInt64 => displayed!(UInt64Type),
            DataType::Float16 => displayed!(Float16Type),
            DataType::Float32 => displayed!(Float32Type),
            DataType::Float64 => displayed!(Float64Type),
            DataType::Decimal32(..) => {
                let array = array.as_primitive::<Decimal32Type>();
                each!(|index| self.text.push_str(&array.value_as_string(index)))
            }
            DataType::Decimal64(..) => {
                let array = array.as_primitive::<Decimal64Type>();
                each!(|index| self.text.push_str(&array.value_as_string(index)))
            }
            DataType::Decimal128(..) => {
                let array = array.as_primitive::<Decimal128Type>();
                each!(|index| self.text.push_str(&array.value_as_string(index)))
            }
            DataType::Decimal256(..) => {
                let array = array.as_primitive::<Decimal256Type>();
                each!(|index| self.text.push_str(&array.value_as_string(index)))
            }
            DataType::Date32 => {
                let array = array.as_primitive::<Date32Type>();
                each!(|index| dates::push_date(&mut self.text, i64::from(array.value(index))))
            }
            DataType::Date64 => {
                let array = array.as_primitive::<Date64Type>();
                each!(|index| dates::push_date_millis(&mut self.text, array.value(index)))
            }
            DataType::Timestamp(unit, _) => {
                fn values<T: ArrowPrimitiveType<Native = i64>>(array: &dyn Array) -> &[i64] {
                    array.as_primitive::<T>().values()
                }
                let (values, per_second) = match unit {
                    TimeUnit::Second => (values::<TimestampSecondType>(array), 1),
                    TimeUnit::Millisecond => (values::<TimestampMillisecondType>(array), 1_000),
                    TimeUnit::Microsecond => (values::<TimestampMicrosecondType>(array), 1_000_000),
                    TimeUnit::Nanosecond => {
                        (values::<TimestampNanosecondType>(array), 1_000_000_000)
                    }
                };
                each!(|index| dates::push_instant(
                    &mut self.text,
                    values.get(index).copied().unwrap_or_default(),
                    per_second
                ))
            }
            DataType::Dictionary(_, _) => {
                let Some(dict) = array.as_any_dictionary_opt() else {
                    return Err(UnsupportedId);
                };
                if dict.values().is_empty() {
                    self.push_absent(rows);
                    return Ok(());
                }
                let mut values = IdsPart::default();
                values.push_column(dict.values().as_ref())?;
                let keys = dict.normalized_keys();
                for (index, key) in keys.into_iter().enumerate() {
                    match values.get(key) {
                        Some(text) if !is_null(index) => self.push_text(text),
                        _ => self.push_missing(),
                    }
                }
            }
            _ => return Err(UnsupportedId),
        }
        Ok(())
    }
}

/// The id column's type cannot be read as text (a list, struct, map, binary...).
#[derive(Debug)]
pub(crate) struct UnsupportedId;

/// Whether an id column of type `data_type` can be read as text.
pub(crate) fn supported(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => supported(values),
        DataType::Null
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Boolean
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..)
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => true,
        other => other.is_numeric(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ids_are_numbered_by_their_position_in_the_whole_fleet() {
        let mut ids = Ids::default();
        let mut first = IdsPart::default();
        first.push_text("a");
        first.push_missing();
        let mut second = IdsPart::default();
        second.push_missing();
        second.push_text("");
        second.push_text("d");
        ids.append(first);
        ids.append(second);
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["a", "#2", "#3", "", "d"]);
        assert_eq!(ids.len(), 5);
        assert_eq!(ids.get(4), Some("d"));
    }
}
