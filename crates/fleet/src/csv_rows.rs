//! CSV machines: a header row of field names, then one machine per row, read in parallel
//! over chunks of whole rows. Only the columns the groups test and the id column are read;
//! an empty cell is a missing attribute and a cell holding a JSON array
//! (`["Chrome","7-Zip"]`) is a list, as everywhere in cohort.

use crate::json::{Items, MAX_LIST_ELEMENTS, list_of};
use crate::pipeline::{BadRecords, ChunkParser, Parsed};
use crate::{Ids, RecordError};
use cohort_engine::{Attr, ColumnarBuilder};

/// Which header column feeds each plan field, and which is the id.
pub(crate) struct CsvParser {
    /// By plan field position: its column (the last of that name, as a map keeps the last).
    columns: Vec<Option<usize>>,
    id: Option<usize>,
    names: Vec<String>,
}

/// A header row, read from the start of a CSV text.
pub(crate) struct Header {
    pub(crate) names: Vec<String>,
    /// The bytes the header takes, its line end included.
    pub(crate) length: usize,
}

/// Reads the header row at the start of `bytes`; `None` for a text without one (no
/// machines).
pub(crate) fn header(bytes: &[u8]) -> Result<Option<Header>, RecordError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(error) => {
            return Err(RecordError {
                line: 1,
                column: None,
                message: format!("invalid CSV header: {error}"),
            });
        }
    }
    let length = usize::try_from(reader.position().byte()).unwrap_or(bytes.len());
    if let Some(line) = unclosed_quote(bytes.get(..length).unwrap_or(bytes)) {
        return Err(RecordError {
            line,
            column: None,
            message: "invalid CSV: the header's quoted field is never closed (a `\"` is missing), so the whole file would be read as the header".to_owned(),
        });
    }
    let names = record
        .iter()
        .enumerate()
        .map(|(index, name)| {
            String::from_utf8(name.to_vec()).map_err(|_| RecordError {
                line: 1,
                column: None,
                message: format!("the name of column {} is not valid UTF-8 text", index + 1),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(message) = repeated_name(&names) {
        return Err(RecordError {
            line: 1,
            column: None,
            message,
        });
    }
    Ok(Some(Header { names, length }))
}

/// A CSV header that names a column twice is refused: which of the two a machine's value
/// would be is a guess (`the header names `OS` twice: columns 2 and 3`).
pub(crate) fn repeated_name<S: AsRef<str>>(names: &[S]) -> Option<String> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (index, name) in names.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_ref(), index) {
            return Some(format!(
                "invalid CSV: the header names `{}` twice: columns {} and {}",
                name.as_ref(),
                first + 1,
                index + 1
            ));
        }
    }
    None
}

impl CsvParser {
    pub(crate) fn new(header: &Header, fields: &[String], id_field: &str) -> CsvParser {
        let last = |name: &str| header.names.iter().rposition(|n| n == name);
        CsvParser {
            columns: fields.iter().map(|field| last(field)).collect(),
            id: last(id_field),
            names: header.names.clone(),
        }
    }
}

impl<'p> ChunkParser<'p> for CsvParser {
    fn parse(
        &self,
        bytes: &[u8],
        _sequence: usize,
        last: bool,
        builder: ColumnarBuilder<'p>,
    ) -> Parsed<'p> {
        let mut builder = builder;
        let mut ids = Ids::default();
        let mut bad = BadRecords::default();
        let mut fail = |line: u64, message: String| {
            bad.push(RecordError {
                line,
                column: None,
                message,
            })
        };
        let fatal = if last {
            unclosed_quote(bytes).map(|line| RecordError {
                line,
                column: None,
                message: "invalid CSV: this quoted field is never closed (a `\"` is missing), so every row after it would be read as part of it".to_owned(),
            })
        } else {
            None
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let mut lists: Vec<Option<Items<'static>>> = self.columns.iter().map(|_| None).collect();
        // Lines are counted by line ends before the row's first byte (the csv crate's own
        // count is one short after CRLF line ends).
        let mut counted = (0usize, 1u64);
        let mut line_at = |offset: usize| {
            let (from, line) = counted;
            let more = bytes
                .get(from..offset.max(from))
                .map_or(0, |between| memchr::memchr_iter(b'\n', between).count());
            counted = (offset.max(from), line + more as u64);
            counted.1
        };
        while fatal.is_none() {
            let before = usize::try_from(reader.position().byte()).unwrap_or(0);
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    fail(line_at(before), format!("invalid CSV: {error}"));
                    continue;
                }
            }
            let mut start = record
                .position()
                .and_then(|p| usize::try_from(p.byte()).ok())
                .unwrap_or(before);
            // After CRLF the csv crate places a row at the `\n` of the line end before it.
            while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            let line = line_at(start);
            if record.len() != self.names.len() {
                fail(
                    line,
                    format!(
                        "the row has {} fields, the header {}",
                        record.len(),
                        self.names.len()
                    ),
                );
                continue;
            }
            // Every cell read must be text; then lists are read, then the row is stored.
            // The row's cells end to end checked once: a cell is then text exactly when its
            // bounds fall between characters (a cell whose bytes are not text alone, even
            // if they join up with the next cell's, falls back to its own check).
            let whole = std::str::from_utf8(record.as_slice()).ok();
            let cell = |column: usize| -> Result<&str, ()> {
                if let Some(text) = whole
                    .zip(record.range(column))
                    .and_then(|(whole, range)| whole.get(range))
                {
                    return Ok(text);
                }
                record
                    .get(column)
                    .map_or(Ok(""), |bytes| std::str::from_utf8(bytes).map_err(drop))
            };
            let columns = self.columns.iter().chain(std::iter::once(&self.id));
            let bad = columns
                .flatten()
                .copied()
                .find(|&column| cell(column).is_err());
            if let Some(column) = bad {
                let name = self.names.get(column).map_or("", String::as_str);
                fail(
                    line,
                    format!("the value of `{name}` is not valid UTF-8 text"),
                );
                continue;
            }
            let text = |column: Option<usize>| {
                column
                    .and_then(|column| cell(column).ok())
                    .filter(|text| !text.is_empty())
            };
            let budget = std::cell::Cell::new(MAX_LIST_ELEMENTS);
            let mut too_long = None;
            for (slot, column) in lists.iter_mut().zip(&self.columns) {
                *slot = match text(*column).filter(|t| t.starts_with('[')) {
                    None => None,
                    Some(cell) => match list_of(cell, &budget) {
                        Ok(list) => list.map(Items::into_owned),
                        Err(message) => {
                            too_long = Some(message);
                            None
                        }
                    },
                };
            }
            if let Some(message) = too_long {
                fail(line, message);
                continue;
            }
            builder.push_with(|position| match lists.get(position) {
                Some(Some(items)) => Some(Attr::List(items)),
                _ => text(self.columns.get(position).copied().flatten()).map(Attr::Text),
            });
            ids.push(text(self.id));
        }
        Parsed {
            builder,
            ids,
            bad,
            newlines: memchr::memchr_iter(b'\n', bytes).count() as u64,
            field_names: Vec::new(),
            framing: crate::json::Framing::default(),
            fatal,
            layout_broken: false,
        }
    }
}

/// The length of the whole rows at the start of `block` (which starts at a row's start): up
/// to its last line end outside a quoted field, as the csv crate reads quotes (RFC 4180: a
/// quote opens a field only at its start; `""` inside one is a quote).
pub(crate) fn whole_rows(block: &[u8], _fresh: usize) -> usize {
    let mut whole = 0;
    let mut at = 0;
    while let Some(found) = block
        .get(at..)
        .and_then(|rest| memchr::memchr2(b'"', b'\n', rest))
    {
        let here = at + found;
        if block.get(here) == Some(&b'\n') {
            whole = here + 1;
            at = here + 1;
            continue;
        }
        let opens = here == 0 || matches!(block.get(here - 1), Some(b',' | b'\n' | b'\r'));
        if !opens {
            at = here + 1;
            continue;
        }
        // Inside a quoted field: to its closing quote, past `""`.
        let mut inside = here + 1;
        loop {
            match block
                .get(inside..)
                .and_then(|rest| memchr::memchr(b'"', rest))
            {
                None => return whole,
                Some(offset) => {
                    let quote = inside + offset;
                    if block.get(quote + 1) == Some(&b'"') {
                        inside = quote + 2;
                    } else {
                        at = quote + 1;
                        break;
                    }
                }
            }
        }
    }
    whole
}

/// The line on which a quoted field starts that the end of `bytes` leaves open, as the csv
/// crate reads quotes; the csv crate itself takes the rest of the text as that field's.
pub(crate) fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut line = 1;
    let mut opened_on = 1;
    for &byte in bytes {
        state = match (state, byte) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => {
                opened_on = line;
                State::Quoted
            }
            (_, b',' | b'\n' | b'\r') => State::FieldStart,
            (_, _) => State::Unquoted,
        };
        if byte == b'\n' {
            line += 1;
        }
    }
    (state == State::Quoted).then_some(opened_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cut_at_line_ends_outside_quotes() {
        let text = b"a,\"x\ny\",b\nc,\"\"\"\",d\ne,\"open\n";
        let whole = whole_rows(text, 0);
        assert_eq!(&text[..whole], b"a,\"x\ny\",b\nc,\"\"\"\",d\n");
        assert_eq!(
            whole_rows(b"say \"hi\nnext\n", 0),
            13,
            "a quote inside a field is text"
        );
        assert_eq!(whole_rows(b"no line end", 0), 0);
        assert_eq!(unclosed_quote(b"a\n\"b\"\"\n"), Some(2));
        assert_eq!(unclosed_quote(b"a\n\"b\"\"\"\n"), None);
        assert_eq!(
            unclosed_quote(b"\"a\"x\"\n"),
            None,
            "a quote after the field is text"
        );
    }
}
