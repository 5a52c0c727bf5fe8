//! Python values into what the engine reads: a machine (a `dict`) becomes the JSON object
//! its `json.dumps` would be (`serde_json::Map`), so a group means over a dict exactly what
//! it means over the same machine in a JSON file. Only the fields the groups test are
//! converted. Evaluation times come from `datetime`s or RFC 3339 text.

use cohort::Attr;
use cohort::Timestamp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// How deeply lists and dicts may nest in one value: the recursion limit of the JSON
/// parser (`serde_json`) that reads machines files, so a dict is refused where the same
/// JSON would be (and a list that holds itself is an error, not endless recursion).
pub(crate) const MAX_DEPTH: usize = 128;

/// Why a value cannot be read.
pub(crate) enum Problem {
    /// Not a kind of value a machine attribute can be.
    Type(String),
    /// The right kind, but not a value JSON can hold, or over a limit.
    Value(String),
}

impl Problem {
    /// The Python exception, `context` saying where the value is.
    pub(crate) fn into_err(self, context: &str) -> PyErr {
        match self {
            Problem::Type(message) => PyTypeError::new_err(format!("{context}: {message}")),
            Problem::Value(message) => PyValueError::new_err(format!("{context}: {message}")),
        }
    }
}

/// `object` as the JSON value `json.dumps` would write (tuples as lists, `datetime`, `date`
/// and `time` as their `isoformat()` text); `budget` is what is left of the machine's
/// `cohort_fleet::MAX_LIST_ELEMENTS` list elements.
pub(crate) fn value(
    object: &Bound<'_, PyAny>,
    depth: usize,
    budget: &mut usize,
) -> Result<Value, Problem> {
    // Text first: most attributes are text.
    if let Ok(text) = object.cast::<PyString>() {
        return text
            .to_str()
            .map(|s| Value::String(s.to_owned()))
            .map_err(|_| {
                Problem::Value("text that is not valid Unicode (a lone surrogate)".to_owned())
            });
    }
    let nested = |depth: usize| {
        if depth >= MAX_DEPTH {
            Err(Problem::Value(format!(
                "lists and dicts nested more than {MAX_DEPTH} deep"
            )))
        } else {
            Ok(())
        }
    };
    let element = |item: Bound<'_, PyAny>, budget: &mut usize| {
        *budget = budget.checked_sub(1).ok_or_else(|| {
            Problem::Value(format!(
                "more than {} list elements in one machine's tested values",
                cohort_fleet::MAX_LIST_ELEMENTS
            ))
        })?;
        value(&item, depth + 1, budget)
    };
    if let Ok(list) = object.cast::<PyList>() {
        nested(depth)?;
        let mut items = Vec::with_capacity(list.len().min(*budget));
        for item in list.iter() {
            items.push(element(item, budget)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(tuple) = object.cast::<PyTuple>() {
        nested(depth)?;
        let mut items = Vec::with_capacity(tuple.len().min(*budget));
        for item in tuple.iter() {
            items.push(element(item, budget)?);
        }
        return Ok(Value::Array(items));
    }
    if object.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = object.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if object.is_instance_of::<PyInt>() {
        if let Ok(n) = object.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = object.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        // As the JSON reader reads an integer past 64 bits: the nearest float.
        let n: f64 = object
            .extract()
            .map_err(|_| Problem::Value("an integer past a float's range".to_owned()))?;
        return finite(n);
    }
    if object.is_instance_of::<PyFloat>() {
        let n: f64 = object
            .extract()
            .map_err(|_| Problem::Type("a float that cannot be read".to_owned()))?;
        return finite(n);
    }
    if let Ok(dict) = object.cast::<PyDict>() {
        nested(depth)?;
        let mut map = Map::new();
        for (key, item) in dict.iter() {
            let key = key
                .cast::<PyString>()
                .ok()
                .and_then(|key| key.to_str().ok().map(str::to_owned))
                .ok_or_else(|| Problem::Type("a dict with a key that is not text".to_owned()))?;
            map.insert(key, value(&item, depth + 1, budget)?);
        }
        return Ok(Value::Object(map));
    }
    if object.hasattr("isoformat").unwrap_or(false) {
        let text = object
            .call_method0("isoformat")
            .and_then(|text| text.extract::<String>())
            .map_err(|_| Problem::Type("an `isoformat()` that gives no text".to_owned()))?;
        return Ok(Value::String(text));
    }
    let kind = object
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "value".to_owned());
    Err(Problem::Type(format!(
        "a `{kind}` cannot be an attribute (expected str, int, float, bool, None, list, tuple, dict, datetime or date)"
    )))
}

fn finite(n: f64) -> Result<Value, Problem> {
    Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| Problem::Value(format!("{n} is not a number JSON can hold")))
}

/// A converted value as the engine reads it: what `cohort`'s own `Machine` implementation
/// for `serde_json` objects gives (a number that is no `f64` and a nested object are
/// opaque). `tests/test_cohort.py` holds the fleet path, which reads values this way, to
/// the one-machine path, which goes through that implementation.
pub(crate) fn attr(value: &Value) -> Attr<'_> {
    match value {
        Value::Null => Attr::Null,
        Value::Bool(flag) => Attr::Bool(*flag),
        Value::Number(n) => n.as_f64().map_or(Attr::Opaque, Attr::Number),
        Value::String(text) => Attr::Text(text),
        Value::Array(items) => Attr::List(items),
        Value::Object(_) => Attr::Opaque,
    }
}

/// The fields the groups test, as interned Python strings: looked up in every machine's
/// dict without building a key each time.
pub(crate) fn keys(py: Python<'_>, fields: &[String]) -> Vec<Py<PyString>> {
    fields
        .iter()
        .map(|field| PyString::intern(py, field).unbind())
        .collect()
}

/// A fleet's tested values, by machine then by field position (`None`: the machine has no
/// such key), and the ids.
pub(crate) struct Rows {
    pub(crate) width: usize,
    pub(crate) values: Vec<Option<Value>>,
    pub(crate) ids: Vec<Option<String>>,
    pub(crate) count: usize,
}

/// Reads every machine of `machines` (an iterable of dicts): the values of `fields` (whose
/// interned names are `keys`), and the ids from `id_field` when one is given.
pub(crate) fn rows(
    machines: &Bound<'_, PyAny>,
    fields: &[String],
    keys: &[Py<PyString>],
    id_field: Option<&str>,
) -> PyResult<Rows> {
    let py = machines.py();
    let id_key = id_field.map(|field| PyString::intern(py, field));
    let mut rows = Rows {
        width: fields.len(),
        values: Vec::new(),
        ids: Vec::new(),
        count: 0,
    };
    for (position, machine) in machines.try_iter()?.enumerate() {
        let machine = machine?;
        let dict = as_dict(&machine, Some(position))?;
        let mut budget = cohort_fleet::MAX_LIST_ELEMENTS;
        for (field, key) in fields.iter().zip(keys) {
            let converted = match dict.get_item(key.bind(py))? {
                Some(item) => Some(
                    value(&item, 0, &mut budget)
                        .map_err(|p| p.into_err(&format!("machine {position}, field `{field}`")))?,
                ),
                None => None,
            };
            rows.values.push(converted);
        }
        if let (Some(key), Some(field)) = (&id_key, id_field) {
            rows.ids.push(match dict.get_item(key)? {
                Some(item) => id_text(&item, field, position)?,
                None => None,
            });
        }
        rows.count += 1;
    }
    Ok(rows)
}

fn as_dict<'a, 'py>(
    machine: &'a Bound<'py, PyAny>,
    position: Option<usize>,
) -> PyResult<&'a Bound<'py, PyDict>> {
    machine.cast::<PyDict>().map_err(|_| {
        let kind = machine
            .get_type()
            .name()
            .map(|name| name.to_string())
            .unwrap_or_default();
        let at = position.map_or_else(|| "machine".to_owned(), |p| format!("machine {p}"));
        PyTypeError::new_err(format!("{at}: a `{kind}`, expected a dict of attributes"))
    })
}

/// The object `machine` (a dict) holds for `fields` (whose interned names are `keys`): only
/// those keys, converted.
pub(crate) fn machine(
    machine: &Bound<'_, PyAny>,
    fields: &[String],
    keys: &[Py<PyString>],
    position: Option<usize>,
) -> PyResult<Map<String, Value>> {
    let at = |field: Option<&str>| {
        let machine = position.map_or_else(|| "machine".to_owned(), |p| format!("machine {p}"));
        match field {
            Some(field) => format!("{machine}, field `{field}`"),
            None => machine,
        }
    };
    let dict = as_dict(machine, position)?;
    let mut map = Map::new();
    let mut budget = cohort_fleet::MAX_LIST_ELEMENTS;
    for (field, key) in fields.iter().zip(keys) {
        if let Some(item) = dict.get_item(key.bind(machine.py()))? {
            let converted =
                value(&item, 0, &mut budget).map_err(|p| p.into_err(&at(Some(field))))?;
            map.insert(field.clone(), converted);
        }
    }
    Ok(map)
}

/// An id as `cohort eval` reads it: text as it is, a number as its JSON text, `None` for
/// `None`.
fn id_text(item: &Bound<'_, PyAny>, id_field: &str, position: usize) -> PyResult<Option<String>> {
    let mut budget = cohort_fleet::MAX_LIST_ELEMENTS;
    match value(item, 0, &mut budget)
        .map_err(|p| p.into_err(&format!("machine {position}, id field `{id_field}`")))?
    {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        other => Ok(Some(other.to_string())),
    }
}

/// The id of `machine` (a dict): the `id_field` value as text (a number as its JSON text),
/// `None` when it has none or it is `None`, as `cohort eval` reads ids.
pub(crate) fn id(
    machine: &Bound<'_, PyAny>,
    id_field: &str,
    position: usize,
) -> PyResult<Option<String>> {
    let Ok(dict) = machine.cast::<PyDict>() else {
        return Ok(None);
    };
    match dict.get_item(id_field)? {
        Some(item) => id_text(&item, id_field, position),
        None => Ok(None),
    }
}

/// The evaluation time: `None` is the system clock's now; a `datetime` (a naive one is
/// read as UTC, as a date-time without offset in a machine's attribute is); a `date`
/// (midnight UTC); or RFC 3339 text.
pub(crate) fn now(now: Option<&Bound<'_, PyAny>>) -> PyResult<Timestamp> {
    let Some(now) = now.filter(|now| !now.is_none()) else {
        return Ok(Timestamp::now());
    };
    let text: String = if let Ok(text) = now.cast::<PyString>() {
        text.to_str()?.to_owned()
    } else if now.hasattr("timestamp")? && now.hasattr("tzinfo")? {
        let aware = if now.getattr("tzinfo")?.is_none() {
            let utc = now
                .py()
                .import("datetime")?
                .getattr("timezone")?
                .getattr("utc")?;
            let kwargs = PyDict::new(now.py());
            kwargs.set_item("tzinfo", utc)?;
            now.call_method("replace", (), Some(&kwargs))?
        } else {
            now.clone()
        };
        let seconds: f64 = aware.call_method0("timestamp")?.extract()?;
        let millis = (seconds * 1000.0).round();
        if !millis.is_finite() || millis.abs() > 9.0e15 {
            return Err(PyValueError::new_err(format!(
                "`now` is out of range: {seconds} s"
            )));
        }
        // In range (checked above), so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Timestamp::from_unix_millis(millis as i64));
    } else if now.hasattr("isoformat")? {
        now.call_method0("isoformat")?.extract()?
    } else {
        return Err(PyTypeError::new_err(
            "`now` must be a datetime, a date, RFC 3339 text or None",
        ));
    };
    Timestamp::parse(&text).ok_or_else(|| {
        PyValueError::new_err(format!(
            "`{text}` is not an RFC 3339 time such as 2026-11-25T12:00:00Z"
        ))
    })
}
