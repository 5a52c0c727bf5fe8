//! Arrow data from Python (a `pyarrow.Table` or `RecordBatchReader`, or anything with
//! `__arrow_c_stream__`: polars, DuckDB results...) read through the Arrow C stream
//! interface: the batches are handed over as Arrow memory and read column by column by
//! `cohort-arrow`, with no Python object per row.

use arrow_array::RecordBatch;
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use cohort::engine::ColumnarFleet;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// Whether `object` exports an Arrow C stream.
pub(crate) fn is_arrow(object: &Bound<'_, PyAny>) -> bool {
    object.hasattr("__arrow_c_stream__").unwrap_or(false)
}

/// Takes the Arrow C stream `object` exports.
fn stream(object: &Bound<'_, PyAny>) -> PyResult<FFI_ArrowArrayStream> {
    let capsule = object.call_method0("__arrow_c_stream__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("`__arrow_c_stream__()` did not return a PyCapsule"))?;
    let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the Arrow PyCapsule interface: a capsule named `arrow_array_stream` holds an
    // `ArrowArrayStream`, alive as long as the capsule (held here). `from_raw` moves the
    // stream out and marks the capsule's copy released, so the capsule's destructor does
    // not release it a second time.
    Ok(unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) })
}

/// The batches of the stream `object` exports, read into `plan`'s columns, and the ids
/// from the `id_field` column when one is given. The GIL is released while the batches are
/// read.
pub(crate) fn read<'p>(
    py: Python<'_>,
    object: &Bound<'_, PyAny>,
    plan: &'p cohort::engine::Plan,
    id_field: Option<&str>,
) -> PyResult<(ColumnarFleet<'p>, cohort_arrow::Ids)> {
    let stream = stream(object)?;
    let read = py.detach(move || -> Result<_, String> {
        let reader = RecordBatchStreamReader::try_new(stream).map_err(|e| e.to_string())?;
        let mut builder = plan.columnar_builder();
        let mut ids = cohort_arrow::Ids::default();
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| e.to_string())?;
            cohort_arrow::append_batch(&mut builder, &batch).map_err(|e| e.to_string())?;
            if let Some(id_field) = id_field {
                ids.append_batch(&batch, id_field)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok((builder.finish(), ids))
    });
    read.map_err(|message| PyValueError::new_err(format!("Arrow data: {message}")))
}
