//! The fast path for one machine per line: a JSON object read by hand, the plan's fields and
//! the id built, every other value checked and skipped without being built.
//!
//! It accepts only what serde_json accepts and gives what serde_json's reading gives
//! (`json.rs`); anything it is not sure of (a line that is not valid UTF-8, a control
//! character or a surrogate escape in a string, a number other than a short integer, deep
//! nesting, an id that is not text, a list past the element budget, any syntax error) makes
//! it give up, and the line is read again by serde_json, which decides and words the error.
//! So the fast path never has to agree with serde_json on an error, only on the values of a
//! line both accept: `tests` checks that on generated lines.

use crate::json::{Item, Items, Row, Target};
use std::borrow::Cow;

/// Nesting (of skipped values, and of lists read) beyond which the line is left to
/// serde_json, whose own limit is 128.
const MAX_DEPTH: usize = 64;

/// A line that the fast path leaves to serde_json.
pub(crate) struct GiveUp;

type Scan<T> = Result<T, GiveUp>;

/// Reads `line` (one machine, without its line end) into `row`. On `Err`, `row` holds part
/// of the line and must be cleared.
pub(crate) fn read_line<'de>(row: &mut Row<'_, 'de>, line: &'de [u8]) -> Scan<()> {
    // One check of the whole line: then every slice between ASCII delimiters is text.
    let text = std::str::from_utf8(line).map_err(|_| GiveUp)?;
    let mut scanner = Scanner {
        text,
        bytes: line,
        at: 0,
    };
    scanner.object_of_attributes(row)?;
    scanner.whitespace();
    if scanner.at == line.len() {
        Ok(())
    } else {
        Err(GiveUp)
    }
}

struct Scanner<'de> {
    text: &'de str,
    bytes: &'de [u8],
    at: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` below `n` (n <= 128), as their high bits. The lowest set bit marks
/// the first such byte exactly (a false mark can only follow a true one).
fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The bytes of `word` equal to `byte`, as [`below`] marks them.
fn equal(word: u64, byte: u8) -> u64 {
    below(word ^ (ONES * u64::from(byte)), 1)
}

impl<'de> Scanner<'de> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Scan<u8> {
        let byte = self.peek().ok_or(GiveUp)?;
        self.at += 1;
        Ok(byte)
    }

    fn expect(&mut self, byte: u8) -> Scan<()> {
        if self.next()? == byte {
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Moves to the next `"`, `\` or control character of a string (or the end).
    fn skip_to_string_stop(&mut self) {
        let bytes = self.bytes;
        while let Some(chunk) = bytes.get(self.at..self.at + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let word = u64::from_le_bytes(word);
            let stops = equal(word, b'"') | equal(word, b'\\') | below(word, 0x20);
            if stops != 0 {
                self.at += (stops.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        while let Some(byte) = self.peek() {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    /// A string (after its opening `"`), borrowed when it has no escapes.
    fn string(&mut self) -> Scan<Cow<'de, str>> {
        let start = self.at;
        self.skip_to_string_stop();
        match self.next()? {
            b'"' => Ok(Cow::Borrowed(self.slice(start, self.at - 1)?)),
            b'\\' => {
                let mut owned = String::from(self.slice(start, self.at - 1)?);
                self.escape(Some(&mut owned))?;
                loop {
                    let run = self.at;
                    self.skip_to_string_stop();
                    owned.push_str(self.slice(run, self.at)?);
                    match self.next()? {
                        b'"' => return Ok(Cow::Owned(owned)),
                        b'\\' => self.escape(Some(&mut owned))?,
                        _ => return Err(GiveUp),
                    }
                }
            }
            _ => Err(GiveUp),
        }
    }

    /// Skips a string (after its opening `"`).
    fn skip_string(&mut self) -> Scan<()> {
        loop {
            self.skip_to_string_stop();
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => self.escape(None)?,
                _ => return Err(GiveUp),
            }
        }
    }

    /// An escape (after its `\`), written to `out` when there is one. A `\u` escape of a
    /// surrogate is left to serde_json (pairs, and its errors for lone ones).
    fn escape(&mut self, out: Option<&mut String>) -> Scan<()> {
        let decoded = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let mut code = 0u32;
                for _ in 0..4 {
                    let digit = char::from(self.next()?).to_digit(16).ok_or(GiveUp)?;
                    code = code * 16 + digit;
                }
                char::from_u32(code).ok_or(GiveUp)?
            }
            _ => return Err(GiveUp),
        };
        if let Some(out) = out {
            out.push(decoded);
        }
        Ok(())
    }

    fn slice(&self, start: usize, end: usize) -> Scan<&'de str> {
        self.text.get(start..end).ok_or(GiveUp)
    }

    /// `true`, `false` or `null` (after its first letter).
    fn literal(&mut self, rest: &[u8]) -> Scan<()> {
        if self.bytes.get(self.at..self.at + rest.len()) == Some(rest) {
            self.at += rest.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// A number (from its first byte), as JSON's grammar has it: the text.
    fn number_text(&mut self) -> Scan<&'de str> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(GiveUp),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        // serde_json refuses a digit after a leading zero (and so does this, by giving up).
        if let Some(b'0'..=b'9') = self.peek() {
            return Err(GiveUp);
        }
        self.slice(start, self.at)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Scan<()> {
        let start = self.at;
        self.digits();
        if self.at > start { Ok(()) } else { Err(GiveUp) }
    }

    /// A number's value as serde_json reads it into an `f64`: short integers here (exact,
    /// as serde_json's `i64`/`u64` converted), the rest by serde_json itself.
    fn number(&mut self) -> Scan<f64> {
        let text = self.number_text()?;
        let digits = text.strip_prefix('-').unwrap_or(text);
        // `-0` is serde_json's -0.0 (a float), which the integer path would make 0.0.
        if digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) && text != "-0" {
            let magnitude = digits
                .bytes()
                .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
            let value = if text.len() > digits.len() {
                -magnitude
            } else {
                magnitude
            };
            return Ok(value as f64);
        }
        serde_json::from_str::<f64>(text).map_err(|_| GiveUp)
    }

    /// Skips any value, checking it as serde_json would.
    fn skip_value(&mut self, depth: usize) -> Scan<()> {
        match self.next()? {
            b'"' => self.skip_string(),
            b'{' => {
                let depth = deeper(depth)?;
                self.elements(b'}', |scanner| {
                    scanner.expect(b'"')?;
                    scanner.skip_string()?;
                    scanner.colon()?;
                    scanner.skip_value(depth)
                })
            }
            b'[' => {
                let depth = deeper(depth)?;
                self.elements(b']', |scanner| scanner.skip_value(depth))
            }
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'n' => self.literal(b"ull"),
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.number_text().map(drop)
            }
            _ => Err(GiveUp),
        }
    }

    /// A tested value, as `json.rs`'s `ItemSeed` reads it; list elements count against the
    /// record's budget.
    fn item(&mut self, row: &Row<'_, 'de>, depth: usize) -> Scan<Item<'de>> {
        match self.peek().ok_or(GiveUp)? {
            b'"' => {
                self.at += 1;
                self.string().map(Item::Text)
            }
            b'[' => {
                self.at += 1;
                let depth = deeper(depth)?;
                let mut items = Vec::new();
                self.elements(b']', |scanner| {
                    let item = scanner.item(row, depth)?;
                    let left = row.list_budget.get().checked_sub(1).ok_or(GiveUp)?;
                    row.list_budget.set(left);
                    items.push(item);
                    Ok(())
                })?;
                Ok(Item::List(Items(items)))
            }
            b'{' => {
                self.skip_value(depth)?;
                Ok(Item::Opaque)
            }
            b't' => {
                self.at += 1;
                self.literal(b"rue").map(|()| Item::Bool(true))
            }
            b'f' => {
                self.at += 1;
                self.literal(b"alse").map(|()| Item::Bool(false))
            }
            b'n' => {
                self.at += 1;
                self.literal(b"ull").map(|()| Item::Null)
            }
            b'-' | b'0'..=b'9' => self.number().map(Item::Number),
            _ => Err(GiveUp),
        }
    }

    /// The id: text, or null for none; anything else is left to serde_json.
    fn id(&mut self) -> Scan<Option<Cow<'de, str>>> {
        match self.next()? {
            b'"' => self.string().map(Some),
            b'n' => self.literal(b"ull").map(|()| None),
            _ => Err(GiveUp),
        }
    }

    /// The machine: an object whose tested keys fill `row`.
    fn object_of_attributes(&mut self, row: &mut Row<'_, 'de>) -> Scan<()> {
        self.whitespace();
        self.expect(b'{')?;
        self.elements(b'}', |scanner| {
            scanner.expect(b'"')?;
            let key = scanner.string()?;
            scanner.colon()?;
            match row.target_of(&key) {
                Target {
                    field: None,
                    id: false,
                } => scanner.skip_value(0),
                Target {
                    field: Some(field),
                    id: false,
                } => {
                    let item = scanner.item(row, 0)?;
                    row.fill(field, item);
                    Ok(())
                }
                Target {
                    field: None,
                    id: true,
                } => {
                    row.id = scanner.id()?;
                    Ok(())
                }
                Target {
                    field: Some(_),
                    id: true,
                } => Err(GiveUp),
            }
        })
    }

    /// The elements of an array or the members of an object, after its opening bracket, up
    /// to and with its closing one, `close`: `each` reads one element (from its first byte),
    /// and the commas between them are checked.
    fn elements(&mut self, close: u8, mut each: impl FnMut(&mut Self) -> Scan<()>) -> Scan<()> {
        self.whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            each(self)?;
            self.whitespace();
            match self.next()? {
                b',' => self.whitespace(),
                byte if byte == close => return Ok(()),
                _ => return Err(GiveUp),
            }
        }
    }

    /// The `:` after a member's key, with the white space around it.
    fn colon(&mut self) -> Scan<()> {
        self.whitespace();
        self.expect(b':')?;
        self.whitespace();
        Ok(())
    }
}

fn deeper(depth: usize) -> Scan<usize> {
    if depth < MAX_DEPTH {
        Ok(depth + 1)
    } else {
        Err(GiveUp)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::json::Targets;
    use proptest::prelude::*;

    /// What a row holds, comparable: each field's value as JSON-like text, and the id.
    fn snapshot(row: &Row<'_, '_>) -> (Vec<Option<String>>, Option<String>) {
        (
            row.slots
                .iter()
                .map(|slot| slot.as_ref().map(|item| format!("{item:?}")))
                .collect(),
            row.id.as_deref().map(str::to_owned),
        )
    }

    /// Both readings of one line: the fast path's (`None` when it gives up) and serde_json's
    /// (`None` on an error).
    fn both(line: &str) -> (Option<Snapshot>, Option<Snapshot>) {
        let targets = Targets::new(&["a".into(), "b c".into(), "é".into()], "id");
        let mut fast = Row::new(&targets);
        let fast = read_line(&mut fast, line.as_bytes())
            .ok()
            .map(|()| snapshot(&fast));
        let mut slow = Row::new(&targets);
        let mut deserializer = serde_json::Deserializer::from_slice(line.as_bytes());
        let slow = slow
            .read(&mut deserializer)
            .and_then(|()| deserializer.end())
            .ok()
            .map(|()| snapshot(&slow));
        (fast, slow)
    }

    type Snapshot = (Vec<Option<String>>, Option<String>);

    #[test]
    fn reads_what_serde_json_reads() {
        for line in [
            r#"{"id":"WS-1","a":1,"b c":"x","zz":[1,{"q":null}],"é":[true,false,null,"t"]}"#,
            r#" { "a" : -12.5e3 , "id" : null , "a" : "last wins" } "#,
            r#"{"a":"esc \" \\ \/ \b\f\n\r\t \u00e9 \u20ac","id":"A\u0042"}"#,
            r#"{"a":[[1,[2,[3]]],[]],"other":{"deep":[{"x":[1e5,-0.0,0,-0]}]}}"#,
            r#"{"a":123456789012345678,"b c":1234567890123456789012,"é":-9007199254740993}"#,
            r#"{"a":0.1,"b c":1E-7,"é":2.5e+300}"#,
            r#"{"a":0,"b c":-0,"é":[0,-0,-0.0]}"#,
            r#"{}"#,
            r#"{"a":{}}"#,
        ] {
            let (fast, slow) = both(line);
            assert!(fast.is_some(), "the fast path reads {line}");
            assert_eq!(fast, slow, "{line}");
        }
    }

    #[test]
    fn gives_up_on_what_it_is_unsure_of() {
        for line in [
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":01}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"[{"a":1}]"#,
            r#"{"a":1} {"a":2}"#,
            r#"{"id":5}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":1e999}"#,
            r#"{"a":tru}"#,
            r#"{"a":"unclosed}"#,
            r#"{"a":[1,2}"#,
            r#"{"x":[1 2]}"#,
            r#"{"x":{"k":1,"k2"}}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":+1}"#,
        ] {
            let (fast, _) = both(line);
            assert!(fast.is_none(), "the fast path gives up on {line}");
        }
        let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(100), "]".repeat(100));
        assert!(both(&deep).0.is_none());
    }

    /// Invalid UTF-8 anywhere on the line is left to serde_json.
    #[test]
    fn invalid_utf8_is_left_to_serde_json() {
        let targets = Targets::new(&["a".into()], "id");
        let mut row = Row::new(&targets);
        assert!(read_line(&mut row, b"{\"x\":\"\xff\",\"a\":1}").is_err());
    }

    /// The list budget is the record's, as serde_json's reading counts it: past it the fast
    /// path gives up, and serde_json's reading words the error.
    #[test]
    fn the_list_budget_is_counted() {
        let targets = Targets::new(&["a".into()], "id");
        let mut row = Row::new(&targets);
        row.list_budget.set(3);
        assert!(read_line(&mut row, br#"{"a":[1,2,3]}"#).is_ok());
        let mut row = Row::new(&targets);
        row.list_budget.set(3);
        assert!(read_line(&mut row, br#"{"a":[1,[2,3],4]}"#).is_err());
    }

    fn json_value() -> impl Strategy<Value = String> {
        let text = prop_oneof![
            "[a-zé€ \"\\\\/]{0,6}",
            Just("\\u0041\\n\\t".to_owned()),
            Just("\\\"".to_owned()),
            // A surrogate pair, a lone surrogate and a raw control character: the fast path
            // leaves all three to serde_json (which takes the pair, and refuses the others
            // in a tested value).
            Just("\\ud83d\\ude00".to_owned()),
            Just("\\ud800".to_owned()),
            Just("a\u{1}b".to_owned()),
        ]
        .prop_map(|s| {
            let mut quoted = String::from("\"");
            let mut chars = s.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' => quoted.push_str("\\\""),
                    '\\' if chars.peek().is_some() => {
                        quoted.push('\\');
                        if let Some(next) = chars.next() {
                            quoted.push(next);
                        }
                    }
                    '\\' => quoted.push_str("\\\\"),
                    other => quoted.push(other),
                }
            }
            quoted.push('"');
            quoted
        });
        let number = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| format!("{n:e}")),
            (-1000i32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
            "-?[0-9]{1,9}\\.[0-9]{1,9}",
            any::<f64>().prop_map(|n| format!("{n}")),
            Just("-0".to_owned()),
            Just("1e400".to_owned()),
            Just("00".to_owned()),
        ];
        let leaf = prop_oneof![
            text,
            number,
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("null".to_owned()),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec(("[a-c]{1,2}|b c|id|é", inner), 0..4).prop_map(|v| {
                    let fields: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
    }

    /// A machine's line: keys (some of them tested, some repeated) with values of every
    /// kind, and sometimes one character of damage somewhere.
    fn json_line() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(("a|b c|é|id|x|[a-z]{1,3}", json_value()), 0..6),
            "[ \t]{0,2}",
            prop::option::of((0usize..200, "[,:\\]\\[{}\"\\\\ 0a\u{1}]")),
        )
            .prop_map(|(fields, spaces, damage)| {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("\"{k}\"{spaces}:{spaces}{v}"))
                    .collect();
                let mut line = format!("{spaces}{{{}}}{spaces}", body.join(&format!(",{spaces}")));
                if let Some((at, with)) = damage {
                    let mut at = at % (line.len() + 1);
                    while !line.is_char_boundary(at) {
                        at -= 1;
                    }
                    line.insert_str(at, &with);
                }
                line
            })
    }

    proptest! {
        /// Whenever the fast path reads a line, serde_json reads it to the same row.
        #[test]
        fn agrees_with_serde_json(line in json_line()) {
            let (fast, slow) = both(&line);
            if let Some(fast) = fast {
                prop_assert_eq!(Some(fast), slow, "{}", line);
            }
        }
    }

    /// The property above is not vacuous: of the generated lines serde_json accepts, the
    /// fast path reads most itself, and of those it rejects, it reads none.
    #[test]
    fn the_fast_path_reads_most_lines() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = json_line();
        let (mut accepted, mut fast_read, mut rejected) = (0, 0, 0);
        for _ in 0..2000 {
            let line = strategy.new_tree(&mut runner).unwrap().current();
            match both(&line) {
                (fast, Some(slow)) => {
                    accepted += 1;
                    if let Some(fast) = fast {
                        assert_eq!(fast, slow, "{line}");
                        fast_read += 1;
                    }
                }
                (fast, None) => {
                    rejected += 1;
                    assert!(
                        fast.is_none(),
                        "the fast path read what serde_json refuses: {line}"
                    );
                }
            }
        }
        assert!(rejected > 100, "{rejected} damaged lines");
        assert!(fast_read * 10 > accepted * 6, "{fast_read} of {accepted}");
    }
}
