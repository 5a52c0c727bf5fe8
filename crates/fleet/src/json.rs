//! JSON machines one object per line (NDJSON, and arrays written one machine per line), read
//! in parallel chunks. Other layouts (a whole array on one line, pretty-printed objects, a
//! `{"machines": [...]}` wrapper) are read whole on one thread by `records.rs`; so is a file
//! whose later lines stop being one machine each (a stream cannot be read again: that is an
//! error).
//!
//! A line is read by the scanner of `scan.rs` first, and when it gives up, with serde_json
//! (which decides, and words the error); either way only the plan's fields and the id are
//! built: every other value is skipped as it is tokenised (serde's `IgnoredAny` here), and no
//! map is made.
//! Values mean what they mean to the engine's `serde_json::Value` machines: numbers are
//! `f64`, objects are opaque, arrays are lists, a repeated key keeps its last value.

use crate::pipeline::{BadRecords, ChunkParser, Parsed};
use crate::{Ids, RecordError};
use cohort_engine::{Attr, AttrList, ColumnarBuilder};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The most list elements one machine's tested values may hold in all: each costs the store
/// about 80 bytes, so one long line of a list of millions would cost gigabytes.
pub const MAX_LIST_ELEMENTS: usize = 100_000;

/// How many records' field names are collected (from the first chunk), for the
/// misspelled-field warning.
pub(crate) const FIELD_SAMPLE: usize = 10_000;

/// The most field names collected: one record with millions of keys must not cost their
/// copies.
pub(crate) const MAX_FIELD_NAMES: usize = 10_000;

/// What reading a key leads to: the plan field it fills and whether it is the id.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Target {
    pub(crate) field: Option<usize>,
    pub(crate) id: bool,
}

/// The keys a record is read for: the plan's fields and the id field.
pub(crate) struct Targets {
    by_key: HashMap<Box<str>, Target, foldhash::fast::FixedState>,
    fields: usize,
}

impl Targets {
    pub(crate) fn new(fields: &[String], id_field: &str) -> Targets {
        let mut by_key: HashMap<Box<str>, Target, _> = HashMap::default();
        for (index, field) in fields.iter().enumerate() {
            by_key.entry(field.as_str().into()).or_default().field = Some(index);
        }
        by_key.entry(id_field.into()).or_default().id = true;
        Targets {
            by_key,
            fields: fields.len(),
        }
    }
}

/// An element of a list value; text is borrowed from the input when it has no escapes.
#[derive(Debug)]
pub(crate) enum Item<'de> {
    Null,
    Bool(bool),
    Number(f64),
    Text(Cow<'de, str>),
    List(Items<'de>),
    Opaque,
}

/// The elements of a list value.
#[derive(Debug, Default)]
pub(crate) struct Items<'de>(pub(crate) Vec<Item<'de>>);

impl AttrList for Items<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.0.get(index).map(Item::as_attr)
    }
}

impl Item<'_> {
    fn as_attr(&self) -> Attr<'_> {
        match self {
            Item::Null => Attr::Null,
            Item::Bool(b) => Attr::Bool(*b),
            Item::Number(n) => Attr::Number(*n),
            Item::Text(t) => Attr::Text(t),
            Item::List(items) => Attr::List(items),
            Item::Opaque => Attr::Opaque,
        }
    }
}

/// The record being read: its plan fields' values (by field position) and its id, borrowed
/// from the input where they can be.
pub(crate) struct Row<'t, 'de> {
    targets: &'t Targets,
    pub(crate) slots: Vec<Option<Item<'de>>>,
    pub(crate) id: Option<Cow<'de, str>>,
    /// Field names seen, when they are being collected.
    names: Option<HashSet<String>>,
    /// List elements the record may still hold.
    pub(crate) list_budget: Cell<usize>,
}

impl<'t, 'de> Row<'t, 'de> {
    pub(crate) fn new(targets: &'t Targets) -> Row<'t, 'de> {
        Row {
            targets,
            slots: (0..targets.fields).map(|_| None).collect(),
            id: None,
            names: None,
            list_budget: Cell::new(MAX_LIST_ELEMENTS),
        }
    }

    /// What the key `key` leads to (collected, when names are being collected).
    pub(crate) fn target_of(&mut self, key: &str) -> Target {
        target_of(self.targets, self.names.as_mut(), key)
    }

    /// The value of the plan field `field` (a repeated key keeps its last value).
    pub(crate) fn fill(&mut self, field: usize, item: Item<'de>) {
        if let Some(place) = self.slots.get_mut(field) {
            *place = Some(item);
        }
    }

    fn clear(&mut self) {
        self.slots.iter_mut().for_each(|slot| *slot = None);
        self.id = None;
        self.list_budget.set(MAX_LIST_ELEMENTS);
    }

    /// Appends the record read to `builder` and its id to `ids`.
    fn push(&mut self, builder: &mut ColumnarBuilder<'_>, ids: &mut Ids) {
        let slots = &self.slots;
        builder.push_with(|position| slots.get(position)?.as_ref().map(Item::as_attr));
        ids.push(self.id.as_deref());
        self.clear();
    }

    /// Reads one record from `deserializer` into this row (which the caller then pushes or,
    /// on error, clears).
    pub(crate) fn read<D: Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(RecordVisitor { row: self })
    }
}

struct RecordVisitor<'r, 't, 'de> {
    row: &'r mut Row<'t, 'de>,
}

impl<'de> Visitor<'de> for RecordVisitor<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a machine, an object of attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let row = self.row;
        while let Some(target) = access.next_key_seed(KeySeed {
            targets: row.targets,
            names: row.names.as_mut(),
        })? {
            match target {
                Target {
                    field: None,
                    id: false,
                } => {
                    access.next_value::<IgnoredAny>()?;
                }
                Target {
                    field: Some(field),
                    id: false,
                } => {
                    let item = access.next_value_seed(ItemSeed {
                        budget: &row.list_budget,
                    })?;
                    if let Some(place) = row.slots.get_mut(field) {
                        *place = Some(item);
                    }
                }
                Target {
                    field: None,
                    id: true,
                } => {
                    row.id = access.next_value_seed(IdSeed)?;
                }
                Target {
                    field: Some(field),
                    id: true,
                } => {
                    // The id is tested too (rare): read it whole, then both ways.
                    let value: serde_json::Value = access.next_value()?;
                    row.id = id_text(&value).map(Cow::Owned);
                    if let Some(place) = row.slots.get_mut(field) {
                        *place = Some(item_of(&value));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A machine's id from its JSON value: text as it is, null as none, anything else as its
/// JSON text.
fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn item_of(value: &serde_json::Value) -> Item<'static> {
    use serde_json::Value;
    match value {
        Value::Null => Item::Null,
        Value::Bool(b) => Item::Bool(*b),
        Value::Number(n) => n.as_f64().map_or(Item::Opaque, Item::Number),
        Value::String(s) => Item::Text(Cow::Owned(s.clone())),
        Value::Array(items) => Item::List(Items(items.iter().map(item_of).collect())),
        Value::Object(_) => Item::Opaque,
    }
}

/// Reads a key and looks up what it leads to, without keeping it.
struct KeySeed<'a> {
    targets: &'a Targets,
    names: Option<&'a mut HashSet<String>>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Target;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Target, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Target;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute name")
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Target, E> {
        Ok(target_of(self.targets, self.names, key))
    }
}

/// What `key` leads to, collecting it into `names` when they are being collected.
fn target_of(targets: &Targets, names: Option<&mut HashSet<String>>, key: &str) -> Target {
    if let Some(names) = names
        && names.len() < MAX_FIELD_NAMES
        && !names.contains(key)
    {
        names.insert(key.to_owned());
    }
    targets.by_key.get(key).copied().unwrap_or_default()
}

/// Reads the id: text borrowed when it can be; other values as their JSON text.
struct IdSeed;

impl<'de> DeserializeSeed<'de> for IdSeed {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IdSeed {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id")
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(value.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(id_text(&serde_json::Value::from(value)).map(Cow::Owned))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(id_text(&serde_json::Value::from(value)).map(Cow::Owned))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(id_text(&serde_json::Value::from(value)).map(Cow::Owned))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(id_text(&serde_json::Value::from(value)).map(Cow::Owned))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let value =
            serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(access))?;
        Ok(id_text(&value).map(Cow::Owned))
    }
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let value =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(access))?;
        Ok(id_text(&value).map(Cow::Owned))
    }
}

/// Reads a list's elements, within what is left of the record's [`MAX_LIST_ELEMENTS`].
struct ItemsVisitor<'b> {
    budget: &'b Cell<usize>,
}

impl<'de> Visitor<'de> for ItemsVisitor<'_> {
    type Value = Items<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Items<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(ItemSeed {
            budget: self.budget,
        })? {
            let Some(left) = self.budget.get().checked_sub(1) else {
                return Err(serde::de::Error::custom(format_args!(
                    "more than {MAX_LIST_ELEMENTS} list elements in one machine's tested values"
                )));
            };
            self.budget.set(left);
            items.push(item);
        }
        Ok(Items(items))
    }
}

/// Reads a value: a plan field's, or a list element.
struct ItemSeed<'b> {
    budget: &'b Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = Item<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Item<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = Item<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }
    fn visit_unit<E>(self) -> Result<Item<'de>, E> {
        Ok(Item::Null)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Item<'de>, E> {
        Ok(Item::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Item<'de>, E> {
        Ok(Item::Number(value as f64))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Item<'de>, E> {
        Ok(Item::Number(value as f64))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Item<'de>, E> {
        Ok(Item::Number(value))
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Item<'de>, E> {
        Ok(Item::Text(Cow::Borrowed(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Item<'de>, E> {
        Ok(Item::Text(Cow::Owned(value.to_owned())))
    }
    fn visit_string<E>(self, value: String) -> Result<Item<'de>, E> {
        Ok(Item::Text(Cow::Owned(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<Item<'de>, A::Error> {
        ItemsVisitor {
            budget: self.budget,
        }
        .visit_seq(access)
        .map(Item::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Item<'de>, A::Error> {
        while access.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Item::Opaque)
    }
}

/// A list read from text (a CSV cell such as `["Chrome","7-Zip"]`), or `None` when the text
/// is not exactly one JSON array.
///
/// `budget` is what is left of the row's [`MAX_LIST_ELEMENTS`]: a longer list is `Err`.
pub(crate) fn list_of<'t>(
    text: &'t str,
    budget: &Cell<usize>,
) -> Result<Option<Items<'t>>, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let items = match deserializer.deserialize_seq(ItemsVisitor { budget }) {
        Ok(items) => items,
        Err(error) if budget.get() == 0 => return Err(error.to_string()),
        Err(_) => return Ok(None),
    };
    Ok(deserializer.end().ok().map(|()| items))
}

/// Whether a record's error says it continues past its line (the line ended inside the
/// value) or shares its line with another value.
fn spans_lines(error: &serde_json::Error) -> bool {
    error.classify() == serde_json::error::Category::Eof
        || error.to_string().starts_with("trailing characters")
}

/// A serde_json error as a record error on the line `line` of the file, `column` counted
/// from `column_base` on the record's first line.
fn record_error(error: &serde_json::Error, line: u64, column_base: Option<u64>) -> RecordError {
    use serde_json::error::Category;
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let bare = text.strip_suffix(&suffix).unwrap_or(&text);
    let message = match error.classify() {
        Category::Syntax if bare.starts_with("invalid unicode code point") => {
            "not valid UTF-8 text".to_owned()
        }
        Category::Syntax | Category::Eof => format!("invalid JSON: {bare}"),
        Category::Data | Category::Io => bare.to_owned(),
    };
    let error_line = error.line().max(1) as u64;
    let column = match (error_line, column_base) {
        (1, Some(base)) => Some(base + error.column() as u64),
        (1, None) => None,
        (_, _) => Some(error.column() as u64),
    };
    RecordError {
        line: line + error_line - 1,
        column: column.filter(|&c| c > 0),
        message,
    }
}

/// How the lines of a chunk of a line-framed array frame it: the array's `[` and `]` lines,
/// and whether each machine is followed by a comma.
#[derive(Clone, Debug, Default)]
pub(crate) struct Framing {
    /// The line (in the chunk) of its first machine, if it has any.
    pub(crate) first_element: Option<u64>,
    /// The line of its last machine, and whether a comma followed it.
    pub(crate) last_element: Option<(u64, bool)>,
    /// The line of a `[` line.
    pub(crate) opening: Option<u64>,
    /// The line of a `]` line, or of a machine followed by `]`.
    pub(crate) closing: Option<u64>,
    /// A structural error (lines in the chunk), which ends the reading.
    pub(crate) error: Option<RecordError>,
}

impl Framing {
    /// Takes the structural error out, to be reported as what ended the reading.
    pub(crate) fn take_error(&mut self) -> Option<RecordError> {
        self.error.take()
    }
}

/// Parses chunks of lines, each line one machine: NDJSON, or (with `array`) the lines of an
/// array written one machine per line between a `[` line and a `]` line.
pub(crate) struct LineParser<'t> {
    pub(crate) targets: &'t Targets,
    pub(crate) array: bool,
}

impl<'p> ChunkParser<'p> for LineParser<'_> {
    fn parse(
        &self,
        bytes: &[u8],
        sequence: usize,
        last: bool,
        builder: ColumnarBuilder<'p>,
    ) -> Parsed<'p> {
        let mut builder = builder;
        let mut row = Row::new(self.targets);
        if sequence == 0 {
            row.names = Some(HashSet::new());
        }
        let mut collected = None;
        let mut ids = Ids::default();
        let mut bad = BadRecords::default();
        let mut framing = Framing::default();
        let mut records = 0;
        let mut layout_broken = None;
        let newlines = memchr::memchr_iter(b'\n', bytes).count();
        let line_count = newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
        for (index, line) in lines(bytes).enumerate() {
            let line_number = index as u64 + 1;
            let content = trim_json_whitespace(line);
            if content.is_empty() {
                continue;
            }
            let record = if self.array {
                match frame_line(content, line_number, &mut framing) {
                    Some(element) => element,
                    None => continue,
                }
            } else {
                content
            };
            let outcome = match crate::scan::read_line(&mut row, record) {
                Ok(()) => Ok(()),
                Err(crate::scan::GiveUp) => {
                    // Left to serde_json: it reads the line again from the start, and decides.
                    row.clear();
                    let mut deserializer = serde_json::Deserializer::from_slice(record);
                    row.read(&mut deserializer)
                        .and_then(|()| deserializer.end())
                }
            };
            match outcome {
                Ok(()) => row.push(&mut builder, &mut ids),
                Err(error) => {
                    row.clear();
                    let last_line = last && index + 1 == line_count;
                    if spans_lines(&error) && !last_line {
                        // Not a bad record: the file is not one machine per line after all.
                        layout_broken = Some(RecordError {
                            line: line_number,
                            column: None,
                            message: "this machine does not end on its line (or shares it with another), though the first lines hold one machine each: a file read in parallel must keep that layout".to_owned(),
                        });
                        break;
                    }
                    let indent = line.len() - trim_json_start(line).len();
                    bad.push(record_error(&error, line_number, Some(indent as u64)));
                }
            }
            records += 1;
            if records == FIELD_SAMPLE {
                collected = row.names.take();
            }
        }
        let field_names = collected
            .or(row.names.take())
            .into_iter()
            .flatten()
            .collect();
        Parsed {
            builder,
            ids,
            bad,
            newlines: newlines as u64,
            field_names,
            fatal: layout_broken.clone().or_else(|| framing.take_error()),
            layout_broken: layout_broken.is_some(),
            framing,
        }
    }
}

/// The lines of `bytes`, each with its line end (the last may have none), found with
/// `memchr` rather than a byte at a time.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |at| at + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

/// `bytes` without JSON whitespace at either end.
pub(crate) fn trim_json_whitespace(bytes: &[u8]) -> &[u8] {
    let start = trim_json_start(bytes);
    let end = start
        .iter()
        .rposition(|b| !is_json_whitespace(*b))
        .map_or(0, |at| at + 1);
    start.get(..end).unwrap_or_default()
}

fn trim_json_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !is_json_whitespace(*b))
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn is_json_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Reads one non-blank line of a line-framed array into `framing`: the `[` or `]` line, or
/// a machine with its `,` (returned without it).
fn frame_line<'a>(content: &'a [u8], line: u64, framing: &mut Framing) -> Option<&'a [u8]> {
    let fail = |framing: &mut Framing, line: u64, message: &str| {
        if framing.error.is_none() {
            framing.error = Some(RecordError {
                line,
                column: None,
                message: message.to_owned(),
            });
        }
    };
    if content == b"[" {
        if framing.opening.is_some() || framing.first_element.is_some() {
            fail(
                framing,
                line,
                "a second `[`: the array of machines is already open",
            );
        } else {
            framing.opening = Some(line);
        }
        return None;
    }
    if framing.closing.is_some() {
        fail(
            framing,
            line,
            "text after the `]` that closes the array of machines",
        );
        return None;
    }
    if content == b"]" {
        framing.closing = Some(line);
        return None;
    }
    let (element, comma, closes) = if let Some(element) = content.strip_suffix(b",") {
        (element, true, false)
    } else if let Some(element) = content
        .strip_suffix(b"]")
        .filter(|_| content.starts_with(b"{"))
    {
        (element, false, true)
    } else {
        (content, false, false)
    };
    if let Some((previous, false)) = framing.last_element {
        fail(framing, previous, "expected a `,` after this machine");
    }
    framing.first_element.get_or_insert(line);
    framing.last_element = Some((line, comma));
    if closes {
        framing.closing = Some(line);
    }
    Some(trim_json_whitespace(element))
}

impl Items<'_> {
    /// The list with every text owned, to outlive the text it was read from.
    pub(crate) fn into_owned(self) -> Items<'static> {
        Items(self.0.into_iter().map(Item::into_owned).collect())
    }
}

impl Item<'_> {
    fn into_owned(self) -> Item<'static> {
        match self {
            Item::Null => Item::Null,
            Item::Bool(b) => Item::Bool(b),
            Item::Number(n) => Item::Number(n),
            Item::Text(t) => Item::Text(Cow::Owned(t.into_owned())),
            Item::List(items) => Item::List(items.into_owned()),
            Item::Opaque => Item::Opaque,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lines_are_split_as_split_inclusive_splits_them() {
        for text in ["", "\n", "a", "a\n", "a\nb", "a\n\nb\n", "\n\nx"] {
            let ours: Vec<&[u8]> = lines(text.as_bytes()).collect();
            let std: Vec<&[u8]> = text.as_bytes().split_inclusive(|&b| b == b'\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }
}
