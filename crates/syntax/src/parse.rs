//! The text form of criteria and conditions, parsed with nom.
//!
//! ```text
//! criterion  := field operator [values] ["(case-sensitive)"]
//! field      := "quoted name" | [bracketed name] | bare words up to the operator
//! values     := value ("," value)*            between: value ("and" | ",") value
//! value      := "quoted \"text\"" | bare-token            (30 days for relative dates)
//! expression := or;  or := and ("or" and)*;  and := unary ("and" unary)*
//! unary      := "not" unary | "(" expression ")" | criterion
//! blocks     := ("block N:" NEWLINE (criterion NEWLINE)+)+     (OR between blocks, AND inside)
//! ```
//!
//! nom parses the tokens (strings with escapes, names, values, durations, keywords,
//! operator phrases); a small recursive-descent driver strings them together so that every
//! error carries the exact byte span and what was expected there. Nesting, the number of
//! values and the length of the text are limited ([`Limits`]), and the driver never recurses
//! deeper than [`Limits::max_depth`], so hostile input cannot overflow the stack.

use crate::ast::{Criterion, Expr, Literal};
use crate::loc::{Loc, Span};
use crate::operator::{Op, Operator};
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{digit1, multispace0, space0};
use std::fmt;

type NomResult<'a, T> = nom::IResult<&'a str, T, nom::error::Error<&'a str>>;

/// Limits that keep hostile text from using unbounded time, memory or stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The deepest nesting of `not` and parentheses.
    pub max_depth: usize,
    /// The most values one criterion may list.
    pub max_values: usize,
    /// The longest text parsed, in bytes.
    pub max_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_values: 10_000,
            max_len: 1 << 20,
        }
    }
}

/// A text that is not a valid criterion or condition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where, in bytes of the text parsed.
    pub span: Span,
    /// What is wrong and what was expected.
    pub message: String,
    /// A likely fix.
    pub help: Option<String>,
}

/// Parses one criterion, such as `"BitLocker Key Backup Status" contains any of "Not Available"`.
///
/// ```
/// use cohort_syntax::{parse_criterion, Op, Operator};
///
/// let c = parse_criterion("Agent Version less than 2024.1.0").unwrap();
/// assert_eq!(c.field, "Agent Version");
/// assert_eq!(c.op, Op::positive(Operator::LessThan));
/// assert_eq!(c.values[0].text, "2024.1.0");
///
/// let c = parse_criterion("Last Seen more than 30 days ago").unwrap();
/// assert_eq!((c.op.operator, c.values[0].text.as_str()), (Operator::OlderThan, "30 days"));
///
/// let error = parse_criterion("OS contans any of \"Windows\"").unwrap_err();
/// assert_eq!(error.to_string(), "unknown operator `contans any of`");
/// assert_eq!(error.help.as_deref(), Some("did you mean `contains any of`?"));
/// assert_eq!((error.span.start, error.span.end), (3, 17));
/// ```
pub fn parse_criterion(text: &str) -> Result<Criterion, ParseError> {
    parse_criterion_with(text, Limits::default())
}

/// [`parse_criterion`] with explicit limits.
pub fn parse_criterion_with(text: &str, limits: Limits) -> Result<Criterion, ParseError> {
    let mut driver = Driver::new(text, limits)?;
    let criterion = driver.criterion()?;
    driver.end("the end of the criterion", Context::Criterion)?;
    Ok(criterion)
}

/// Parses a condition: `block 1:` headers followed by criteria (OR between blocks, AND
/// inside), or an expression of criteria with `and`, `or`, `not` and parentheses.
///
/// ```
/// use cohort_syntax::{parse_condition, Expr};
///
/// let blocks = parse_condition("block 1:\n  OS contains Windows\n  Tags is blank\nblock 2:\n  [Free Disk %] < 10\n").unwrap();
/// let Expr::Any { items, .. } = &blocks else { panic!() };
/// assert_eq!(items.len(), 2);
///
/// let expression = parse_condition("(OS contains Windows and not Tags is blank) or [Free Disk %] < 10").unwrap();
/// assert!(matches!(expression, Expr::Any { .. }));
/// ```
pub fn parse_condition(text: &str) -> Result<Expr, ParseError> {
    parse_condition_with(text, Limits::default())
}

/// [`parse_condition`] with explicit limits.
pub fn parse_condition_with(text: &str, limits: Limits) -> Result<Expr, ParseError> {
    let mut driver = Driver::new(text, limits)?;
    if driver.at_block_header() {
        return driver.blocks();
    }
    let expr = driver.expr()?;
    driver.end(
        "`and`, `or` or the end of the condition",
        Context::Condition,
    )?;
    Ok(expr)
}

/// Every operator phrase, split into words, longest first.
fn phrases() -> &'static [(Vec<&'static str>, Op)] {
    static PHRASES: std::sync::OnceLock<Vec<(Vec<&'static str>, Op)>> = std::sync::OnceLock::new();
    PHRASES.get_or_init(|| {
        let mut all: Vec<(Vec<&'static str>, Op)> = Op::canonical_phrases()
            .chain(Op::aliases())
            .filter(|(phrase, _)| !phrase.contains("..."))
            .map(|(phrase, op)| (phrase.split(' ').collect(), op))
            .collect();
        all.sort_by_key(|(words, _)| {
            std::cmp::Reverse(words.iter().map(|w| w.len() + 1).sum::<usize>())
        });
        all
    })
}

/// The positions in [`phrases`] of the phrases starting with each character, longest first:
/// an operator is looked for at every word of a criterion, so trying only the phrases that
/// can match there keeps long conditions fast.
fn phrases_by_first_char() -> &'static std::collections::HashMap<char, Vec<usize>> {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<char, Vec<usize>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: std::collections::HashMap<char, Vec<usize>> =
            std::collections::HashMap::new();
        for (position, (words, _)) in phrases().iter().enumerate() {
            if let Some(first) = words.first().and_then(|w| w.chars().next()) {
                index.entry(first).or_default().push(position);
            }
        }
        index
    })
}

fn is_symbol(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>' | '~')
}

pub(crate) fn is_field_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '#' | '%' | '&' | '@' | '\'')
}

pub(crate) fn is_value_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ',' | '(' | ')' | '"' | '`')
}

/// Matches `word` case-insensitively, followed by a word boundary.
fn word<'a>(word: &'static str) -> impl Fn(&'a str) -> NomResult<'a, &'a str> {
    move |input| {
        let (rest, matched) = tag_no_case(word)(input)?;
        let symbolic = word.chars().all(is_symbol);
        let boundary = match rest.chars().next() {
            None => true,
            Some(c) if symbolic => !is_symbol(c),
            Some(c) => !c.is_alphanumeric() && c != '_',
        };
        if boundary {
            Ok((rest, matched))
        } else {
            Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Tag,
            )))
        }
    }
}

/// Whether `text` starts with `and`, `or` or `not` as a word (so `or!` does, `order` does not).
pub(crate) fn starts_with_keyword(text: &str) -> bool {
    ["and", "or", "not"].iter().any(|k| word(k)(text).is_ok())
}

/// The longest operator phrase at the start of `input`: its op and the length matched.
pub(crate) fn operator(input: &str) -> Option<(Op, usize)> {
    let first = input.chars().next()?.to_ascii_lowercase();
    let phrases = phrases();
    phrases_by_first_char()
        .get(&first)?
        .iter()
        .find_map(|&index| {
            let (words, op) = phrases.get(index)?;
            let mut rest = input;
            for (index, w) in words.iter().enumerate() {
                if index > 0 {
                    let (after, spaces) =
                        multispace0::<&str, nom::error::Error<&str>>(rest).ok()?;
                    if spaces.is_empty() {
                        return None;
                    }
                    rest = after;
                }
                rest = word(w)(rest).ok()?.0;
            }
            Some((*op, input.len() - rest.len()))
        })
}

/// Whether `input` starts with a `member of` phrase (a criterion with no field).
pub(crate) fn is_member_of(input: &str) -> bool {
    operator(input).is_some_and(|(op, _)| op.operator == Operator::MemberOf)
}

/// A duration token: digits, optional spaces, a unit word (`30 days`, `12h`).
pub(crate) fn duration(input: &str) -> NomResult<'_, &str> {
    let (rest, _) = digit1(input)?;
    let (rest, _) = space0(rest)?;
    let (rest, _) = crate::DURATION_UNITS
        .iter()
        .find_map(|(unit, _)| word(unit)(rest).ok())
        .ok_or_else(|| nom::Err::Error(nom::error::Error::new(rest, nom::error::ErrorKind::Tag)))?;
    Ok((rest, &input[..input.len() - rest.len()]))
}

/// A double-quoted string with escapes `\"`, `\\`, `\n`, `\r`, `\t`, `\u{...}`; returns the
/// decoded text, or the offset and message of the first problem.
fn quoted(input: &str) -> Result<(&str, String), (usize, String)> {
    let quote = if input.starts_with('\'') { '\'' } else { '"' };
    let body =
        tag::<&str, &str, nom::error::Error<&str>>(if quote == '"' { "\"" } else { "'" })(input)
            .map_err(|_| (0, "expected `\"`".to_owned()))?
            .0;
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((&body[index + 1..], text)),
            '\\' => {
                let escaped = chars.next().map(|(_, e)| e);
                match escaped {
                    Some('"') => text.push('"'),
                    Some('\'') => text.push('\''),
                    Some('\\') => text.push('\\'),
                    Some('n') => text.push('\n'),
                    Some('r') => text.push('\r'),
                    Some('t') => text.push('\t'),
                    Some('u') => {
                        let rest = &body[index + 2..];
                        let decoded = rest
                            .strip_prefix('{')
                            .and_then(|r| r.split_once('}'))
                            .and_then(|(hex, _)| {
                                u32::from_str_radix(hex, 16).ok().map(|n| (hex.len(), n))
                            })
                            .and_then(|(len, n)| char::from_u32(n).map(|c| (len, c)));
                        let Some((len, c)) = decoded else {
                            return Err((
                                index + 1,
                                "invalid escape: expected `\\u{hex digits}`".to_owned(),
                            ));
                        };
                        text.push(c);
                        for _ in 0..len + 2 {
                            chars.next();
                        }
                    }
                    Some(other) => {
                        return Err((
                            index + 1,
                            format!(
                                "invalid escape `\\{other}`: expected one of `\\\"`, `\\'`, `\\\\`, `\\n`, `\\r`, `\\t`, `\\u{{...}}`"
                            ),
                        ));
                    }
                    None => break,
                }
            }
            other => text.push(other),
        }
    }
    Err((
        0,
        format!("unterminated string: expected a closing `{quote}`"),
    ))
}

struct Driver<'a> {
    text: &'a str,
    rest: &'a str,
    depth: usize,
    limits: Limits,
    /// The last criterion read: its operator, the operator's span and its last value's span
    /// (for hints on what follows it).
    last: Option<(Op, Span, Option<Span>)>,
}

/// What the text being parsed is, for hints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// One criterion (a line of a block).
    Criterion,
    /// A whole condition (`where:`), with `and`, `or` and `not`.
    Condition,
}

type Parsed<T> = Result<T, ParseError>;

impl<'a> Driver<'a> {
    fn new(text: &'a str, limits: Limits) -> Parsed<Self> {
        if text.len() > limits.max_len {
            return Err(ParseError {
                span: Span::new(0, 0),
                message: format!(
                    "the text is {} bytes, over the limit of {} bytes",
                    text.len(),
                    limits.max_len
                ),
                help: None,
            });
        }
        Ok(Driver {
            text,
            rest: text,
            depth: 0,
            limits,
            last: None,
        })
    }

    fn offset(&self) -> usize {
        self.text.len() - self.rest.len()
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn error<T>(&self, span: Span, message: impl Into<String>, help: Option<String>) -> Parsed<T> {
        Err(ParseError {
            span,
            message: message.into(),
            help,
        })
    }

    /// The next token for messages: up to white space, at most 30 characters.
    fn next_token(&self) -> (Span, String) {
        let token: String = self
            .rest
            .split(char::is_whitespace)
            .next()
            .unwrap_or_default()
            .chars()
            .take(30)
            .collect();
        let start = self.offset();
        (Span::new(start, start + token.len()), token)
    }

    fn unexpected<T>(&self, expected: &str) -> Parsed<T> {
        let (span, token) = self.next_token();
        if token.is_empty() {
            self.error(
                Span::new(self.text.len(), self.text.len()),
                format!("unexpected end of text: expected {expected}"),
                None,
            )
        } else {
            self.error(
                span,
                format!("unexpected `{token}`: expected {expected}"),
                None,
            )
        }
    }

    fn end(&mut self, expected: &str, context: Context) -> Parsed<()> {
        self.skip_ws();
        if self.rest.is_empty() {
            Ok(())
        } else {
            self.unexpected_after_criterion(expected, context)
        }
    }

    /// The error for a token that cannot follow the criterion just read, with a hint for the
    /// likely mistake: `&&`/`||`, a relative date without `ago`, a value of several words
    /// without quotes.
    fn unexpected_after_criterion<T>(&self, expected: &str, context: Context) -> Parsed<T> {
        let mut error = self.unexpected::<T>(expected);
        if let Err(error) = &mut error {
            error.help = self.hint_after_criterion(context);
        }
        error
    }

    fn hint_after_criterion(&self, context: Context) -> Option<String> {
        let rest = self.rest.trim_start();
        let joiner = if rest.starts_with("&&") {
            Some(("&&", "and"))
        } else if rest.starts_with("||") {
            Some(("||", "or"))
        } else {
            None
        };
        if let Some((written, word)) = joiner {
            return Some(match context {
                Context::Condition => format!("write `{word}` instead of `{written}`"),
                Context::Criterion => format!(
                    "write `{word}` instead of `{written}`; but a line of a block holds one criterion: put the next one on a line of its own (criteria of a block must all hold), or write the condition under `where:`"
                ),
            });
        }
        if context == Context::Criterion && starts_with_keyword(rest) {
            return Some("a line of a block holds one criterion: put the next one on a line of its own (criteria of a block must all hold), or write the condition under `where:`".to_owned());
        }
        let (op, op_span, last_value) = self.last?;
        let value = last_value?;
        let value_text = self.text.get(value.start..value.end)?;
        let gap = self.text.get(value.end..self.offset())?;
        if !gap.trim().is_empty() || value_text.starts_with(['"', '\'', '`']) {
            return None;
        }
        // `more than 30 days`: a number, then a unit, and no `ago`.
        if !op.negated
            && matches!(op.operator, Operator::GreaterThan | Operator::LessThan)
            && value_text.chars().all(|c| c.is_ascii_digit())
            && let Ok((_, duration)) = duration(self.text.get(value.start..)?)
        {
            let phrase = self.text.get(op_span.start..op_span.end)?;
            let instead = if op.operator == Operator::GreaterThan {
                ("older than", "more")
            } else {
                ("within last", "less")
            };
            return Some(format!(
                "`{phrase} {duration}` would compare with the number {value_text}; for a date {} than {duration} ago write `{} {duration}` or `{phrase} {duration} ago`",
                instead.1, instead.0
            ));
        }
        // A value of several words: quote it.
        let words_end = self.words_end(value.end);
        let words = self.text.get(value.start..words_end)?.trim_end();
        if words.len() > value_text.len() {
            let quoted = format!("\"{}\"", words.replace('\\', "\\\\").replace('"', "\\\""));
            return Some(format!(
                "a value of several words must be quoted: `{quoted}`"
            ));
        }
        None
    }

    /// Where a run of bare words starting at `from` ends: at a `,`, `(`, `)`, a quote, the
    /// end, or a keyword (`and`, `or`, `not`).
    fn words_end(&self, from: usize) -> usize {
        let mut at = from;
        let bytes = self.text.as_bytes();
        loop {
            let rest = self.text.get(at..).unwrap_or_default();
            let trimmed = rest.trim_start();
            let token_start = at + (rest.len() - trimmed.len());
            if trimmed.is_empty()
                || trimmed.starts_with([',', '(', ')', '"', '`'])
                || starts_with_keyword(trimmed)
                || trimmed.starts_with("(case-sensitive)")
            {
                return at;
            }
            let token_len = trimmed
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')'))
                .unwrap_or(trimmed.len());
            at = token_start + token_len;
            if at >= bytes.len() {
                return bytes.len();
            }
        }
    }

    fn keyword(&mut self, keyword: &'static str) -> bool {
        self.skip_ws();
        match word(keyword)(self.rest) {
            Ok((rest, _)) => {
                self.rest = rest;
                true
            }
            Err(_) => false,
        }
    }

    fn peek_keyword(&self) -> bool {
        starts_with_keyword(self.rest.trim_start())
    }

    fn expr(&mut self) -> Parsed<Expr> {
        let start = self.offset();
        let first = self.and()?;
        let mut items = vec![first];
        while self.keyword("or") {
            items.push(self.and()?);
        }
        Ok(self.list(items, start, false))
    }

    fn and(&mut self) -> Parsed<Expr> {
        let start = self.offset();
        let first = self.unary()?;
        let mut items = vec![first];
        while self.keyword("and") {
            items.push(self.unary()?);
        }
        Ok(self.list(items, start, true))
    }

    fn list(&self, mut items: Vec<Expr>, start: usize, all: bool) -> Expr {
        if items.len() == 1
            && let Some(only) = items.pop()
        {
            return only;
        }
        let loc = Loc::at(Span::new(start, self.offset()));
        if all {
            Expr::All { items, loc }
        } else {
            Expr::Any { items, loc }
        }
    }

    fn deeper(&mut self, start: usize) -> Parsed<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return self.error(
                Span::new(start, start + 1),
                format!(
                    "nesting deeper than the limit of {} levels of `not` and parentheses",
                    self.limits.max_depth
                ),
                None,
            );
        }
        Ok(())
    }

    fn unary(&mut self) -> Parsed<Expr> {
        self.skip_ws();
        let start = self.offset();
        // `not member of "G"` is one criterion, not the negation of one.
        if is_member_of(self.rest) {
            return self.criterion().map(Expr::Criterion);
        }
        if self.keyword("not") {
            self.deeper(start)?;
            let item = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not {
                item: Box::new(item),
                loc: Loc::at(Span::new(start, self.offset())),
            });
        }
        if let Some(rest) = self.rest.strip_prefix('(') {
            self.deeper(start)?;
            self.rest = rest;
            let inner = self.expr()?;
            self.skip_ws();
            match self.rest.strip_prefix(')') {
                Some(rest) => self.rest = rest,
                None if self.rest.is_empty() => {
                    return self.error(
                        Span::new(start, start + 1),
                        "this `(` is never closed: expected `)`",
                        None,
                    );
                }
                None => {
                    return self
                        .unexpected_after_criterion("`and`, `or` or `)`", Context::Condition);
                }
            }
            self.depth -= 1;
            return Ok(inner);
        }
        self.criterion().map(Expr::Criterion)
    }

    fn field(&mut self) -> Parsed<(String, Span)> {
        self.skip_ws();
        let start = self.offset();
        if self.rest.starts_with(['"', '\'']) {
            let (rest, name) = quoted(self.rest).or_else(|(at, message)| {
                self.error(Span::new(start + at, start + at + 1), message, None)
            })?;
            self.rest = rest;
            return Ok((name, Span::new(start, self.offset())));
        }
        if self.rest.starts_with('`') {
            let (rest, name) = self.backticked(start)?;
            self.rest = rest;
            return Ok((name, Span::new(start, self.offset())));
        }
        if let Some(body) = self.rest.strip_prefix('[') {
            let (after, name) = take_while::<_, &str, nom::error::Error<&str>>(|c| c != ']')(body)
                .unwrap_or((body, ""));
            let Some(rest) = after.strip_prefix(']') else {
                return self.error(
                    Span::new(start, start + 1),
                    "unterminated field name: expected a closing `]`",
                    None,
                );
            };
            self.rest = rest;
            return Ok((name.to_owned(), Span::new(start, self.offset())));
        }
        let mut end = start;
        let mut words = Vec::new();
        loop {
            match take_while1::<_, &str, nom::error::Error<&str>>(is_field_char)(self.rest) {
                Ok((rest, w)) => {
                    words.push((self.offset(), w));
                    self.rest = rest;
                    end = self.offset();
                }
                Err(_) if words.is_empty() => {
                    return self.unexpected(
                        "a field name: a word, a `\"quoted name\"` or a `[bracketed name]`",
                    );
                }
                Err(_) => break,
            }
            let (after_spaces, _) =
                space0::<&str, nom::error::Error<&str>>(self.rest).unwrap_or((self.rest, ""));
            if operator(after_spaces).is_some() || !after_spaces.starts_with(is_field_char) {
                break;
            }
            self.rest = after_spaces;
        }
        let name = self.text[start..end].to_owned();
        self.skip_ws();
        if operator(self.rest).is_none() {
            return self.no_operator(&words, &name);
        }
        Ok((name, Span::new(start, end)))
    }

    /// A Markdown code span, `` `text` ``, taken verbatim (documents and chats quote values so).
    fn backticked(&self, start: usize) -> Parsed<(&'a str, String)> {
        let body = &self.rest[1..];
        match body.find('`') {
            Some(end) => Ok((&body[end + 1..], body[..end].to_owned())),
            None => self.error(
                Span::new(start, start + 1),
                "unterminated code span: expected a closing `` ` ``",
                None,
            ),
        }
    }

    /// The error for a field not followed by an operator: an unknown operator among the
    /// words (with a suggestion) when there is a likely one.
    fn no_operator<T>(&self, words: &[(usize, &str)], field: &str) -> Parsed<T> {
        for first in 1..words.len() {
            for last in (first..words.len().min(first + 4)).rev() {
                let (start, _) = words[first];
                let (end_start, end_word) = words[last];
                let end = end_start + end_word.len();
                let phrase = &self.text[start..end];
                if let Some(suggestion) = Op::suggest(phrase) {
                    return self.error(
                        Span::new(start, end),
                        format!("unknown operator `{phrase}`"),
                        Some(format!("did you mean `{suggestion}`?")),
                    );
                }
            }
        }
        let (span, token) = self.next_token();
        let found = if token.is_empty() {
            "the end".to_owned()
        } else {
            format!("`{token}`")
        };
        self.error(
            if token.is_empty() { Span::new(self.text.len(), self.text.len()) } else { span },
            format!("expected an operator after the field name `{field}`, found {found}"),
            Some("operators are phrases such as `equal`, `contains any of`, `less than`, `is blank`; quote a field name that contains one: `\"Name\"` or `[Name]`".to_owned()),
        )
    }

    fn criterion(&mut self) -> Parsed<Criterion> {
        self.skip_ws();
        let start = self.offset();
        // A group reference has no field: `member of "G"`.
        let field = if is_member_of(self.rest) {
            String::new()
        } else {
            self.field()?.0
        };
        self.skip_ws();
        let op_start = self.offset();
        let Some((mut op, len)) = operator(self.rest) else {
            return self.unexpected("an operator");
        };
        let phrase_end = op_start + len;
        self.rest = &self.text[phrase_end..];
        let mut values = Vec::new();
        // `more than 30 days ago` / `less than 30 days ago`: relative dates said the console way.
        if !op.negated
            && matches!(op.operator, Operator::GreaterThan | Operator::LessThan)
            && let Some(literal) = self.relative_duration()
        {
            op.operator = if op.operator == Operator::GreaterThan {
                Operator::OlderThan
            } else {
                Operator::WithinLast
            };
            values.push(literal);
        }
        let op_loc = Loc::at(Span::new(op_start, phrase_end));
        if values.is_empty() {
            values = self.values(op)?;
        }
        self.last = Some((
            op,
            Span::new(op_start, phrase_end),
            values.last().and_then(|v| v.loc.span),
        ));
        let mut case_sensitive = false;
        self.skip_ws();
        if let Ok((rest, _)) =
            tag_no_case::<&str, &str, nom::error::Error<&str>>("(case-sensitive)")(self.rest)
        {
            self.rest = rest;
            case_sensitive = true;
        }
        Ok(Criterion {
            field,
            op,
            values,
            case_sensitive,
            loc: Loc::at(Span::new(start, self.offset())),
            op_loc,
        })
    }

    /// `30 days ago` after `more than` / `less than`.
    fn relative_duration(&mut self) -> Option<Literal> {
        let rest = self.rest.trim_start();
        let (after, text) = duration(rest).ok()?;
        let (after, _) = multispace0::<&str, nom::error::Error<&str>>(after).ok()?;
        let (after, _) = word("ago")(after).ok()?;
        let start = self.text.len() - rest.len();
        self.rest = after;
        Some(Literal {
            text: text.to_owned(),
            loc: Loc::at(Span::new(start, start + text.len())),
        })
    }

    fn values(&mut self, op: Op) -> Parsed<Vec<Literal>> {
        let mut values = Vec::new();
        self.skip_ws();
        // Values are optional here (the check stage counts them): none when the text ends, or
        // goes on with `)`, `(case-sensitive)` or a keyword (`Tags is blank and ...`).
        let starts_value =
            self.rest.starts_with(is_value_char) || self.rest.starts_with(['"', '`']);
        if !starts_value || self.peek_keyword() {
            return Ok(values);
        }
        loop {
            values.push(self.value(op)?);
            if values.len() > self.limits.max_values {
                let at = self.offset();
                return self.error(
                    Span::new(at, at),
                    format!(
                        "more than {} values: that is the limit for one criterion",
                        self.limits.max_values
                    ),
                    None,
                );
            }
            self.skip_ws();
            if let Some(rest) = self.rest.strip_prefix(',') {
                self.rest = rest;
                continue;
            }
            if op.operator == Operator::Between && values.len() == 1 && self.keyword("and") {
                continue;
            }
            return Ok(values);
        }
    }

    fn value(&mut self, op: Op) -> Parsed<Literal> {
        self.skip_ws();
        let start = self.offset();
        if self.rest.starts_with(['"', '\'']) {
            let (rest, text) = quoted(self.rest).or_else(|(at, message)| {
                self.error(Span::new(start + at, start + at + 1), message, None)
            })?;
            self.rest = rest;
            return Ok(Literal {
                text,
                loc: Loc::at(Span::new(start, self.offset())),
            });
        }
        if self.rest.starts_with('`') {
            let (rest, text) = self.backticked(start)?;
            self.rest = rest;
            return Ok(Literal {
                text,
                loc: Loc::at(Span::new(start, self.offset())),
            });
        }
        if matches!(op.operator, Operator::WithinLast | Operator::OlderThan)
            && let Ok((rest, text)) = duration(self.rest)
        {
            self.rest = rest;
            let literal = Literal {
                text: text.to_owned(),
                loc: Loc::at(Span::new(start, self.offset())),
            };
            if let Ok((rest, _)) = multispace0::<&str, nom::error::Error<&str>>(self.rest)
                .and_then(|(r, _)| word("ago")(r))
            {
                self.rest = rest;
            }
            return Ok(literal);
        }
        match take_while1::<_, &str, nom::error::Error<&str>>(is_value_char)(self.rest) {
            Ok((rest, text)) => {
                self.rest = rest;
                Ok(Literal {
                    text: text.to_owned(),
                    loc: Loc::at(Span::new(start, self.offset())),
                })
            }
            Err(_) => self
                .unexpected("a value: a `\"quoted text\"`, a number, a date, a version or a word"),
        }
    }

    fn at_block_header(&self) -> bool {
        let first_line = self.rest.trim_start().lines().next().unwrap_or_default();
        block_header(first_line).is_some()
    }

    fn blocks(&mut self) -> Parsed<Expr> {
        let mut blocks: Vec<Expr> = Vec::new();
        let mut current: Option<(usize, Vec<Expr>)> = None;
        let mut line_start = 0;
        for line in self.text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim();
            let indent = content.len() - content.trim_start().len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                line_start += line.len();
                continue;
            }
            if block_header(trimmed).is_some() {
                if let Some((start, criteria)) = current.take() {
                    blocks.push(self.block(start, line_start, criteria)?);
                }
                current = Some((line_start + indent, Vec::new()));
            } else if let Some((_, criteria)) = current.as_mut() {
                let mut criterion =
                    parse_criterion_with(content, self.limits).map_err(|e| ParseError {
                        span: e.span.shifted(line_start),
                        ..e
                    })?;
                shift(&mut criterion, line_start);
                criteria.push(Expr::Criterion(criterion));
            }
            line_start += line.len();
        }
        if let Some((start, criteria)) = current.take() {
            blocks.push(self.block(start, self.text.len(), criteria)?);
        }
        self.rest = "";
        Ok(Expr::Any {
            items: blocks,
            loc: Loc::at(Span::new(0, self.text.len())),
        })
    }

    fn block(&self, start: usize, end: usize, criteria: Vec<Expr>) -> Parsed<Expr> {
        if criteria.is_empty() {
            let header_end = self.text[start..]
                .find('\n')
                .map_or(self.text.len(), |n| start + n);
            return self.error(
                Span::new(start, header_end),
                "block has no criteria: expected criteria on the lines after the header",
                None,
            );
        }
        Ok(Expr::All {
            items: criteria,
            loc: Loc::at(Span::new(start, end)),
        })
    }
}

/// `block 1:` (case-insensitive, any number): the number.
fn block_header(line: &str) -> Option<&str> {
    let (rest, _) = word("block")(line).ok()?;
    let (rest, _) = space0::<&str, nom::error::Error<&str>>(rest).ok()?;
    let (rest, number) = digit1::<&str, nom::error::Error<&str>>(rest).ok()?;
    let (rest, _) = space0::<&str, nom::error::Error<&str>>(rest).ok()?;
    let rest = rest.strip_prefix(':')?;
    rest.trim().is_empty().then_some(number)
}

fn shift(criterion: &mut Criterion, offset: usize) {
    let move_loc = |loc: &mut Loc| loc.span = loc.span.map(|s| s.shifted(offset));
    move_loc(&mut criterion.loc);
    move_loc(&mut criterion.op_loc);
    for value in &mut criterion.values {
        move_loc(&mut value.loc);
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nesting {} levels, {} values per criterion, {} bytes of text",
            self.max_depth, self.max_values, self.max_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn error(text: &str) -> (String, usize, usize) {
        let e = parse_condition(text).unwrap_err();
        (e.message, e.span.start, e.span.end)
    }

    #[test]
    fn spans_cover_each_part_of_a_criterion() {
        let c = parse_criterion("  [Free Disk %]  <  10, \"x y\"").unwrap();
        assert_eq!(c.loc.span, Some(Span::new(2, 29)));
        assert_eq!(c.op_loc.span, Some(Span::new(17, 18)));
        assert_eq!(c.values[0].loc.span, Some(Span::new(20, 22)));
        assert_eq!(c.values[1].loc.span, Some(Span::new(24, 29)));
    }

    #[test]
    fn errors_point_at_the_mistake_and_say_what_was_expected() {
        assert_eq!(
            error("OS"),
            (
                "expected an operator after the field name `OS`, found the end".into(),
                2,
                2
            )
        );
        assert_eq!(
            error("OS equal \"x"),
            ("unterminated string: expected a closing `\"`".into(), 9, 10)
        );
        assert_eq!(error("OS equal \"\\q\""), ("invalid escape `\\q`: expected one of `\\\"`, `\\'`, `\\\\`, `\\n`, `\\r`, `\\t`, `\\u{...}`".into(), 10, 11));
        assert_eq!(error("OS equal x,"), ("unexpected end of text: expected a value: a `\"quoted text\"`, a number, a date, a version or a word".into(), 11, 11));
        assert_eq!(error("a is blank and"), ("unexpected end of text: expected a field name: a word, a `\"quoted name\"` or a `[bracketed name]`".into(), 14, 14));
        assert_eq!(
            error("(a is blank"),
            ("this `(` is never closed: expected `)`".into(), 0, 1)
        );
        assert_eq!(
            error("a is blank)"),
            (
                "unexpected `)`: expected `and`, `or` or the end of the condition".into(),
                10,
                11
            )
        );
        assert_eq!(
            error("[Free Disk % < 10"),
            (
                "unterminated field name: expected a closing `]`".into(),
                0,
                1
            )
        );
        assert_eq!(
            error("block 1:\nblock 2:\n  a is blank\n"),
            (
                "block has no criteria: expected criteria on the lines after the header".into(),
                0,
                8
            )
        );
        assert_eq!(
            error("block 1:\n  a is blank\n  b frobs c\n"),
            (
                "expected an operator after the field name `b frobs c`, found the end".into(),
                33,
                33
            )
        );
    }

    #[track_caller]
    fn help(text: &str) -> Option<String> {
        parse_condition(text).unwrap_err().help
    }

    #[test]
    fn relative_dates_without_ago_suggest_the_accepted_forms() {
        let e = parse_condition("Last Seen more than 30 days").unwrap_err();
        assert_eq!(
            e.message,
            "unexpected `days`: expected `and`, `or` or the end of the condition"
        );
        assert_eq!(
            e.help.as_deref(),
            Some(
                "`more than 30 days` would compare with the number 30; for a date more than 30 days ago write `older than 30 days` or `more than 30 days ago`"
            )
        );
        assert_eq!(
            help("Last Seen less than 2 weeks and OS is x").as_deref(),
            Some(
                "`less than 2 weeks` would compare with the number 2; for a date less than 2 weeks ago write `within last 2 weeks` or `less than 2 weeks ago`"
            )
        );
        // Both suggested forms are accepted, and mean the same.
        let older = parse_criterion("Last Seen older than 30 days").unwrap();
        let ago = parse_criterion("Last Seen more than 30 days ago").unwrap();
        assert_eq!(older, ago);
    }

    #[test]
    fn values_of_several_words_suggest_quotes() {
        assert_eq!(
            help("OS contains Microsoft Windows 10 and Tags is blank").as_deref(),
            Some("a value of several words must be quoted: `\"Microsoft Windows 10\"`")
        );
        assert_eq!(
            help("OS is any of Windows 10, Linux").as_deref(),
            Some("a value of several words must be quoted: `\"Windows 10\"`")
        );
        let e = parse_criterion("OS = Microsoft Windows").unwrap_err();
        assert_eq!(
            e.message,
            "unexpected `Windows`: expected the end of the criterion"
        );
        assert_eq!(
            e.help.as_deref(),
            Some("a value of several words must be quoted: `\"Microsoft Windows\"`")
        );
        // A quoted value followed by a word is not a value to quote again.
        assert_eq!(help("OS = \"Microsoft\" Windows"), None);
    }

    #[test]
    fn c_style_operators_suggest_words() {
        let e = parse_condition("OS contains x && Hostname starts with y").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span.start, e.span.end),
            (
                "unexpected `&&`: expected `and`, `or` or the end of the condition",
                14,
                16
            )
        );
        assert_eq!(e.help.as_deref(), Some("write `and` instead of `&&`"));
        assert_eq!(
            help("(OS contains x || Hostname starts with y)").as_deref(),
            Some("write `or` instead of `||`")
        );
        let e = parse_criterion("OS contains x && Tags is blank").unwrap_err();
        assert!(
            e.help.as_deref().unwrap().starts_with(
                "write `and` instead of `&&`; but a line of a block holds one criterion"
            ),
            "{e:?}"
        );
        let e = parse_criterion("OS contains x and Tags is blank").unwrap_err();
        assert!(
            e.help
                .as_deref()
                .unwrap()
                .starts_with("a line of a block holds one criterion")
        );
    }

    #[test]
    fn limits_are_errors_that_name_the_limit() {
        let limits = Limits {
            max_depth: 3,
            max_values: 2,
            max_len: 40,
        };
        let deep = parse_condition_with("((((a is blank))))", limits).unwrap_err();
        assert_eq!(
            deep.message,
            "nesting deeper than the limit of 3 levels of `not` and parentheses"
        );
        let nots = parse_condition_with("not not not not a is blank", limits).unwrap_err();
        assert_eq!(nots.span, Span::new(12, 13));
        let many = parse_criterion_with("a in 1, 2, 3", limits).unwrap_err();
        assert_eq!(
            many.message,
            "more than 2 values: that is the limit for one criterion"
        );
        let long = parse_criterion_with(&"a".repeat(41), limits).unwrap_err();
        assert_eq!(
            long.message,
            "the text is 41 bytes, over the limit of 40 bytes"
        );
    }

    #[test]
    fn hostile_input_fails_fast_without_exhausting_the_stack() {
        let parens = format!("{}a is blank{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(
            parse_condition(&parens)
                .unwrap_err()
                .message
                .contains("limit of 64 levels")
        );
        let nots = "not ".repeat(200_000) + "a is blank";
        assert!(
            parse_condition(&nots)
                .unwrap_err()
                .message
                .contains("limit of 64 levels")
        );
        let list = format!("a is any of {}", "1, ".repeat(20_000));
        assert!(
            parse_criterion(&list)
                .unwrap_err()
                .message
                .contains("more than 10000 values")
        );
        let long = "x".repeat(2 << 20);
        assert!(
            parse_condition(&long)
                .unwrap_err()
                .message
                .contains("over the limit of 1048576 bytes")
        );
        let chain = vec!["a is blank"; 5_000].join(" and ");
        assert!(
            matches!(parse_condition(&chain), Ok(Expr::All { items, .. }) if items.len() == 5_000)
        );
    }

    #[test]
    fn keywords_and_phrases_need_word_boundaries() {
        let c = parse_criterion("Order isblank").unwrap();
        assert_eq!(c.field, "Order");
        let e = parse_condition("android is blank or notes is blank").unwrap();
        let fields: Vec<&str> = e.criteria().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["android", "notes"]);
        assert!(parse_criterion("OS =~ ^win").is_ok());
        assert_eq!(
            parse_criterion("RAM>=16").unwrap().op,
            Op::positive(Operator::GreaterOrEqual)
        );
    }
}
