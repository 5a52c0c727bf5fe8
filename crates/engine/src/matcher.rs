//! Compiled tests: one predicate evaluated on one attribute value.
//!
//! The semantics are stated once, in README.md ("Operators"), and checked by
//! `tests/it/operators.rs` against this code, the explain path and the reference evaluator.

use crate::explain::ComparedAs;
use crate::machine::{Attr, AttrList};
use aho_corasick::AhoCorasick;
use cohort_check::ir::{Bound, Comparison, Scalar, Test};
use cohort_check::literal::{Version, compare_decimal, parse_date, parse_number, write_number};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Above this many values, `equal`/`is any of` uses a hash set.
const HASH_SET_THRESHOLD: usize = 8;
/// From this many needles, `contains any of` uses an Aho-Corasick automaton.
const AHO_CORASICK_THRESHOLD: usize = 3;

/// A positive test, ready to run.
#[derive(Debug)]
pub(crate) enum Matcher {
    EqualsFew(Vec<Scalar>),
    EqualsMany {
        texts: HashSet<String>,
        /// The values that read as numbers.
        numbers: Vec<Scalar>,
    },
    ContainsAnyFew(Vec<String>),
    ContainsAnyAutomaton(AhoCorasick),
    ContainsAll(Vec<String>),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Matches(Vec<cohort_check::ir::Regex>),
    Compare(Comparison, Bound),
    Between(Bound, Bound),
    IsBlank,
    WithinLast(i64),
    OlderThan(i64),
}

/// What executors may do with a test besides running it (see [`Matcher::capabilities`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Capabilities {
    /// It holds on a list exactly when it holds on one of the list's elements, so an
    /// executor may test each distinct element once and combine the results.
    pub(crate) any_element: bool,
    /// Its result on a value does not depend on the evaluation time, so it may be
    /// remembered per distinct value.
    pub(crate) timeless: bool,
    /// It reads text as a number or a date, so reading the text once for several tests pays.
    pub(crate) parses: bool,
    /// Its result may depend on letter case, so a case-insensitive criterion needs the text
    /// folded; `false` lets an executor skip folding for it.
    pub(crate) reads_case: bool,
}

/// A shortcut for the commonest tests on the commonest values, decided without the general
/// matcher: a number against number bounds, text equal to or containing constants, a flag.
/// [`Kernel::try_run`] answers exactly what [`Matcher::run`] would, or `None` to defer to it.
#[derive(Debug)]
pub(crate) enum Kernel {
    None,
    NumberCompare(Comparison, f64),
    NumberBetween(f64, f64),
    /// `equal` to texts none of which reads as a number; whether a flag's text (`true`,
    /// `false`) is one of them, decided once.
    TextEquals {
        values: Vec<String>,
        on_true: bool,
        on_false: bool,
    },
    /// `is blank`, on a scalar.
    IsBlank,
    /// `contains any of` a few substrings.
    TextContains(Vec<memchr::memmem::Finder<'static>>),
    /// `starts with` one of the texts.
    TextStartsWith(Vec<String>),
    /// `ends with` one of the texts.
    TextEndsWith(Vec<String>),
}

impl Kernel {
    pub(crate) fn of(matcher: &Matcher) -> Kernel {
        match matcher {
            Matcher::Compare(
                comparison,
                Bound {
                    number: Some(n), ..
                },
            ) => Kernel::NumberCompare(*comparison, *n),
            Matcher::Between(
                Bound {
                    number: Some(low), ..
                },
                Bound {
                    number: Some(high), ..
                },
            ) => Kernel::NumberBetween(*low, *high),
            Matcher::EqualsFew(values) if values.iter().all(|v| v.number.is_none()) => {
                Kernel::TextEquals {
                    values: values.iter().map(|v| v.text.clone()).collect(),
                    on_true: values.iter().any(|v| v.text == "true"),
                    on_false: values.iter().any(|v| v.text == "false"),
                }
            }
            Matcher::IsBlank => Kernel::IsBlank,
            Matcher::ContainsAnyFew(needles) => Kernel::TextContains(
                needles
                    .iter()
                    .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
                    .collect(),
            ),
            Matcher::StartsWith(values) => Kernel::TextStartsWith(values.clone()),
            Matcher::EndsWith(values) => Kernel::TextEndsWith(values.clone()),
            _ => Kernel::None,
        }
    }

    /// When the shortcut is a few byte comparisons (equality, prefix, suffix), how many:
    /// a few are cheaper than looking a remembered result up, many are not.
    pub(crate) fn comparisons(&self) -> Option<usize> {
        match self {
            Kernel::TextEquals { values, .. }
            | Kernel::TextStartsWith(values)
            | Kernel::TextEndsWith(values) => Some(values.len()),
            _ => None,
        }
    }

    /// For a test on numbers: the closed interval of the (non-NaN) numbers it holds on.
    pub(crate) fn number_interval(&self) -> Option<(f64, f64)> {
        match self {
            Kernel::NumberCompare(comparison, bound) if bound.is_finite() => {
                Some(match comparison {
                    Comparison::Greater => (bound.next_up(), f64::INFINITY),
                    Comparison::GreaterOrEqual => (*bound, f64::INFINITY),
                    Comparison::Less => (f64::NEG_INFINITY, bound.next_down()),
                    Comparison::LessOrEqual => (f64::NEG_INFINITY, *bound),
                })
            }
            Kernel::NumberBetween(low, high) if !low.is_nan() && !high.is_nan() => {
                Some((*low, *high))
            }
            _ => None,
        }
    }

    /// The outcome on a present value, when the shortcut applies. `text` is the value's text
    /// as the test compares it (folded to lowercase unless case-sensitive), for text values.
    #[inline]
    pub(crate) fn try_run(&self, attr: Attr<'_>, text: Option<&str>) -> Option<bool> {
        match (self, attr) {
            (Kernel::NumberCompare(comparison, bound), Attr::Number(n)) => {
                Some(comparison.holds(n.partial_cmp(bound)?))
            }
            (Kernel::NumberBetween(low, high), Attr::Number(n)) if !n.is_nan() => {
                Some(n >= *low && n <= *high)
            }
            (Kernel::TextEquals { values, .. }, Attr::Text(_)) => {
                let text = text?;
                Some(values.iter().any(|v| v == text))
            }
            (
                Kernel::TextEquals {
                    on_true, on_false, ..
                },
                Attr::Bool(flag),
            ) => Some(if flag { *on_true } else { *on_false }),
            // White space has no case: the text as given (`text` may be folded).
            (Kernel::IsBlank, Attr::Text(raw)) => Some(raw.trim().is_empty()),
            (Kernel::IsBlank, Attr::Bool(_) | Attr::Number(_)) => Some(false),
            (Kernel::TextContains(finders), Attr::Text(_)) => {
                let text = text?;
                Some(finders.iter().any(|f| f.find(text.as_bytes()).is_some()))
            }
            (Kernel::TextStartsWith(values), Attr::Text(_)) => {
                let text = text?;
                Some(values.iter().any(|v| text.starts_with(v.as_str())))
            }
            (Kernel::TextEndsWith(values), Attr::Text(_)) => {
                let text = text?;
                Some(values.iter().any(|v| text.ends_with(v.as_str())))
            }
            _ => None,
        }
    }
}

/// Why a test did not simply run on text: for explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Held,
    Failed,
    /// The attribute is missing (or null).
    Missing,
    /// The attribute cannot be read as what the test needs.
    Unreadable,
}

/// What an explanation learns from a run besides its outcome: how the value was compared
/// and which list element decided. Executors pass `()`, which records nothing (and, as
/// [`Observer::RECORDS`] is `false`, skips the work of finding out).
pub(crate) trait Observer {
    /// Whether the observer records anything.
    const RECORDS: bool;
    /// The kind in which the value was compared with the criterion's values.
    fn compared(&mut self, _kind: ComparedAs) {}
    /// The position of the element of a (top-level) list on which the test held.
    fn element(&mut self, _index: usize) {}
}

impl Observer for () {
    const RECORDS: bool = false;
}

impl Matcher {
    pub(crate) fn compile(test: &Test) -> Matcher {
        match test {
            Test::Equals(values) if values.len() > HASH_SET_THRESHOLD => Matcher::EqualsMany {
                texts: values.iter().map(|v| v.text.clone()).collect(),
                numbers: values
                    .iter()
                    .filter(|v| v.number.is_some())
                    .cloned()
                    .collect(),
            },
            Test::Equals(values) => Matcher::EqualsFew(values.clone()),
            Test::Contains { needles, all: true } => Matcher::ContainsAll(needles.clone()),
            Test::Contains { needles, .. } if needles.len() >= AHO_CORASICK_THRESHOLD => {
                match AhoCorasick::new(needles) {
                    Ok(automaton) => Matcher::ContainsAnyAutomaton(automaton),
                    Err(_) => Matcher::ContainsAnyFew(needles.clone()),
                }
            }
            Test::Contains { needles, .. } => Matcher::ContainsAnyFew(needles.clone()),
            Test::StartsWith(values) => Matcher::StartsWith(values.clone()),
            Test::EndsWith(values) => Matcher::EndsWith(values.clone()),
            Test::Matches(regexes) => Matcher::Matches(regexes.clone()),
            Test::Compare { ordering, bound } => Matcher::Compare(*ordering, bound.clone()),
            Test::Between { low, high } => Matcher::Between(low.clone(), high.clone()),
            Test::IsBlank => Matcher::IsBlank,
            Test::WithinLast { millis } => Matcher::WithinLast(*millis),
            Test::OlderThan { millis } => Matcher::OlderThan(*millis),
        }
    }

    /// The facts about this test that executors' shortcuts rely on. Every operator is
    /// named here, with no wildcard: an operator added to [`Matcher`] does not compile until
    /// it declares what executors may do with it. Each fact is a permission, so `false` is
    /// always correct (only slower).
    pub(crate) fn capabilities(&self) -> Capabilities {
        let reads_bound = |bound: &Bound| bound.number.is_some() || bound.date.is_some();
        let (any_element, timeless, parses, reads_case) = match self {
            Matcher::EqualsFew(values) => {
                (true, true, values.iter().any(|v| v.number.is_some()), true)
            }
            Matcher::EqualsMany { numbers, .. } => (true, true, !numbers.is_empty(), true),
            Matcher::ContainsAnyFew(_)
            | Matcher::ContainsAnyAutomaton(_)
            | Matcher::StartsWith(_)
            | Matcher::EndsWith(_)
            | Matcher::Matches(_) => (true, true, false, true),
            // On a list: every substring in some element, not all in one.
            Matcher::ContainsAll(_) => (false, true, false, true),
            // Versions and dates read from text whatever their case, but text that reads
            // as neither may be compared as text.
            Matcher::Compare(_, bound) => (true, true, reads_bound(bound), true),
            Matcher::Between(low, _) => (true, true, reads_bound(low), true),
            // On a list: the list is empty, not some element blank. White space has no case.
            Matcher::IsBlank => (false, true, false, false),
            // Only the date a text reads as, which is read whatever its case.
            Matcher::WithinLast(_) | Matcher::OlderThan(_) => (true, false, true, false),
        };
        Capabilities {
            any_element,
            timeless,
            parses,
            reads_case,
        }
    }

    /// Whether the test reads text as a number or a date (so a field with several such tests
    /// parses its text once for all of them).
    pub(crate) fn reads_number_or_date(&self) -> bool {
        self.capabilities().parses
    }

    /// For a test that holds on a text value exactly when the date it reads as lies in a
    /// range: that range (inclusive start, exclusive end). On any other scalar the test
    /// fails. Lets columnar evaluation compare a column of dates read in advance.
    pub(crate) fn date_range(&self, now: i64) -> Option<(i64, i64)> {
        match self {
            Matcher::WithinLast(millis) => Some((now.saturating_sub(*millis), i64::MAX)),
            Matcher::OlderThan(millis) => Some((i64::MIN, now.saturating_sub(*millis))),
            _ => None,
        }
    }

    /// Whether the test holds on a list exactly when it holds on one of its elements (every
    /// test but `is blank` and `contains all of`).
    pub(crate) fn holds_on_any_element(&self) -> bool {
        self.capabilities().any_element
    }

    /// The substrings of `contains all of`.
    pub(crate) fn contains_all_needles(&self) -> Option<&[String]> {
        match self {
            Matcher::ContainsAll(needles) => Some(needles),
            _ => None,
        }
    }

    /// Whether the result may depend on letter case (every test but `is blank`).
    pub(crate) fn reads_case(&self) -> bool {
        self.capabilities().reads_case
    }

    /// Whether the result depends on the evaluation time (relative dates).
    pub(crate) fn reads_the_time(&self) -> bool {
        !self.capabilities().timeless
    }

    /// Runs the positive test on an attribute (`None` = missing).
    pub(crate) fn run(&self, attr: Option<Attr<'_>>, ctx: &mut Context) -> Outcome {
        self.run_observed(attr, ctx, &mut ())
    }

    /// [`Matcher::run`], telling `observer` how it decided (for explanations: the same code
    /// decides, so an explanation cannot disagree with evaluation).
    pub(crate) fn run_observed<O: Observer>(
        &self,
        attr: Option<Attr<'_>>,
        ctx: &mut Context,
        observer: &mut O,
    ) -> Outcome {
        let Some(attr) = attr else {
            return self.on_missing();
        };
        self.run_at(attr, 0, ctx, observer)
    }

    /// Runs the positive test on a value `depth` lists deep in an attribute (lists are read
    /// [`MAX_LIST_DEPTH`](crate::MAX_LIST_DEPTH) deep, so this recurses no deeper).
    fn run_at<O: Observer>(
        &self,
        attr: Attr<'_>,
        depth: usize,
        ctx: &mut Context,
        observer: &mut O,
    ) -> Outcome {
        match attr.at_depth(depth) {
            Attr::Null => self.on_missing(),
            Attr::List(list) => self.on_list(list, depth, ctx, observer),
            Attr::Opaque => match self {
                Matcher::IsBlank => Outcome::Failed,
                _ => Outcome::Unreadable,
            },
            scalar => self.on_scalar(scalar, ctx, observer),
        }
    }

    fn on_missing(&self) -> Outcome {
        match self {
            Matcher::IsBlank => Outcome::Held,
            _ => Outcome::Missing,
        }
    }

    fn on_list<O: Observer>(
        &self,
        list: &dyn AttrList,
        depth: usize,
        ctx: &mut Context,
        observer: &mut O,
    ) -> Outcome {
        match self {
            Matcher::IsBlank => held(list.is_empty()),
            Matcher::ContainsAll(needles) => {
                ctx.folded = None;
                let all_found = needles
                    .iter()
                    .all(|needle| list.iter().any(|item| element_contains(item, needle, ctx)));
                held(all_found)
            }
            _ => {
                let mut outcome = Outcome::Failed;
                let mut any_readable = list.is_empty();
                ctx.parsed = None;
                ctx.folded = None;
                for (index, item) in list.iter().enumerate() {
                    let item_outcome = self.run_at(item, depth + 1, ctx, observer);
                    match item_outcome {
                        Outcome::Held => {
                            observer.element(index);
                            return Outcome::Held;
                        }
                        Outcome::Failed => any_readable = true,
                        Outcome::Missing | Outcome::Unreadable => {}
                    }
                    outcome = item_outcome;
                }
                if any_readable {
                    Outcome::Failed
                } else {
                    outcome
                }
            }
        }
    }

    fn on_scalar<O: Observer>(
        &self,
        attr: Attr<'_>,
        ctx: &mut Context,
        observer: &mut O,
    ) -> Outcome {
        let text_kind = ComparedAs::text(!ctx.fold);
        let outcome = match self {
            Matcher::IsBlank => held(matches!(attr, Attr::Text(t) if t.trim().is_empty())),
            Matcher::EqualsFew(values) => {
                let number = as_number(attr, ctx.parsed);
                let by_number = std::cell::Cell::new(false);
                let outcome = held(ctx.with_text(attr, |text| {
                    values.iter().any(|v| {
                        v.text == text || {
                            let equal = equal_numbers(attr, number, v);
                            by_number.set(equal);
                            equal
                        }
                    })
                }));
                if O::RECORDS {
                    let numbers = number.is_some() && values.iter().any(|v| v.number.is_some());
                    observer.compared(equals_kind(outcome, by_number.get(), numbers, text_kind));
                }
                outcome
            }
            Matcher::EqualsMany { texts, numbers } => {
                let number = as_number(attr, ctx.parsed);
                let by_number =
                    number.is_some_and(|_| numbers.iter().any(|v| equal_numbers(attr, number, v)));
                let outcome = held(by_number || ctx.with_text(attr, |text| texts.contains(text)));
                if O::RECORDS {
                    let numbers = number.is_some() && !numbers.is_empty();
                    observer.compared(equals_kind(outcome, by_number, numbers, text_kind));
                }
                outcome
            }
            Matcher::ContainsAnyFew(needles) => held(ctx.with_text(attr, |text| {
                needles.iter().any(|n| text.contains(n.as_str()))
            })),
            Matcher::ContainsAnyAutomaton(automaton) => {
                held(ctx.with_text(attr, |text| automaton.is_match(text)))
            }
            Matcher::ContainsAll(needles) => held(ctx.with_text(attr, |text| {
                needles.iter().all(|n| text.contains(n.as_str()))
            })),
            Matcher::StartsWith(values) => held(ctx.with_text(attr, |text| {
                values.iter().any(|v| text.starts_with(v.as_str()))
            })),
            Matcher::EndsWith(values) => held(ctx.with_text(attr, |text| {
                values.iter().any(|v| text.ends_with(v.as_str()))
            })),
            Matcher::Matches(regexes) => {
                held(ctx.with_raw_text(attr, |text| regexes.iter().any(|r| r.is_match(text))))
            }
            // Fast path: a number against a number bound (the common case).
            Matcher::Compare(comparison, bound)
                if let (Attr::Number(n), Some(b)) = (attr, bound.number)
                    && let Some(ordering) = n.partial_cmp(&b) =>
            {
                observer.compared(ComparedAs::Number);
                held(comparison.holds(ordering))
            }
            Matcher::Between(low, high)
                if let (Attr::Number(n), Some(l), Some(h)) = (attr, low.number, high.number)
                    && !n.is_nan() =>
            {
                observer.compared(ComparedAs::Number);
                held(n >= l && n <= h)
            }
            Matcher::Compare(comparison, bound) => {
                match [Kind::Number, Kind::Date, Kind::Version]
                    .into_iter()
                    .filter(|kind| kind.in_bound(bound))
                    .find_map(|kind| Some((kind, compare(attr, bound, kind, ctx)?)))
                {
                    Some((kind, ordering)) => {
                        observer.compared(kind.compared_as());
                        held(comparison.holds(ordering))
                    }
                    None => Outcome::Unreadable,
                }
            }
            Matcher::Between(low, high) => {
                let orderings = [Kind::Number, Kind::Date, Kind::Version]
                    .into_iter()
                    .filter(|kind| kind.in_bound(low) && kind.in_bound(high))
                    .find_map(|kind| {
                        Some((
                            kind,
                            compare(attr, low, kind, ctx)?,
                            compare(attr, high, kind, ctx)?,
                        ))
                    });
                match orderings {
                    Some((kind, to_low, to_high)) => {
                        observer.compared(kind.compared_as());
                        held(to_low.is_ge() && to_high.is_le())
                    }
                    None => Outcome::Unreadable,
                }
            }
            Matcher::WithinLast(millis) => match as_date(attr, ctx.parsed) {
                Some(date) => {
                    observer.compared(ComparedAs::Date);
                    held(date >= ctx.now.saturating_sub(*millis))
                }
                None => Outcome::Unreadable,
            },
            Matcher::OlderThan(millis) => match as_date(attr, ctx.parsed) {
                Some(date) => {
                    observer.compared(ComparedAs::Date);
                    held(date < ctx.now.saturating_sub(*millis))
                }
                None => Outcome::Unreadable,
            },
        };
        // Text tests compare text, as the criterion says about case.
        if matches!(
            self,
            Matcher::ContainsAnyFew(_)
                | Matcher::ContainsAnyAutomaton(_)
                | Matcher::ContainsAll(_)
                | Matcher::StartsWith(_)
                | Matcher::EndsWith(_)
                | Matcher::Matches(_)
        ) {
            observer.compared(text_kind);
        }
        outcome
    }
}

/// For `contains all of` on a list: whether one element contains `needle` (`ctx.folded`, when
/// set, is the element's folded text).
pub(crate) fn element_contains(item: Attr<'_>, needle: &str, ctx: &mut Context) -> bool {
    matches!(item, Attr::Bool(_) | Attr::Number(_) | Attr::Text(_))
        && ctx.with_text(item, |text| text.contains(needle))
}

fn held(yes: bool) -> Outcome {
    if yes { Outcome::Held } else { Outcome::Failed }
}

/// How `equal` compared: as numbers when they made it hold, as numbers and text when it
/// failed with numbers on both sides, else as text.
fn equals_kind(outcome: Outcome, by_number: bool, numbers: bool, text: ComparedAs) -> ComparedAs {
    let case_sensitive = matches!(
        text,
        ComparedAs::Text {
            case_sensitive: true
        }
    );
    match outcome {
        Outcome::Held if by_number => ComparedAs::Number,
        Outcome::Failed if numbers => ComparedAs::NumberOrText { case_sensitive },
        _ => text,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Date,
    Version,
}

impl Kind {
    fn compared_as(self) -> ComparedAs {
        match self {
            Kind::Number => ComparedAs::Number,
            Kind::Date => ComparedAs::Date,
            Kind::Version => ComparedAs::Version,
        }
    }

    fn in_bound(self, bound: &Bound) -> bool {
        match self {
            Kind::Number => bound.number.is_some(),
            Kind::Date => bound.date.is_some(),
            Kind::Version => bound.version.is_some(),
        }
    }
}

/// Whether the attribute (read as `number`) equals the value as numbers: equal floats, and
/// for a text attribute equal digits too (exact beyond a float's precision).
fn equal_numbers(attr: Attr<'_>, number: Option<f64>, value: &Scalar) -> bool {
    match (number, value.number) {
        (Some(a), Some(b)) if a == b => match attr {
            Attr::Text(text) => compare_decimal(text, &value.text).is_none_or(Ordering::is_eq),
            _ => true,
        },
        _ => false,
    }
}

/// How the attribute compares with the bound, read as `kind`; `None` when it cannot be read so.
///
/// Numbers compare as floats; a text attribute whose float equals the bound's is compared
/// again digit by digit (rounding to a float never reverses an order, so only ties can hide
/// a difference), which keeps texts such as `9007199254740993` exact.
fn compare(attr: Attr<'_>, bound: &Bound, kind: Kind, ctx: &mut Context) -> Option<Ordering> {
    match kind {
        Kind::Number => {
            let ordering = as_number(attr, ctx.parsed)?.partial_cmp(&bound.number?)?;
            match attr {
                Attr::Text(text) if ordering.is_eq() => {
                    Some(compare_decimal(text, &bound.text).unwrap_or(ordering))
                }
                _ => Some(ordering),
            }
        }
        Kind::Date => Some(as_date(attr, ctx.parsed)?.cmp(&bound.date?)),
        Kind::Version => {
            let version: &Version = bound.version.as_ref()?;
            ctx.with_raw_text(attr, |text| version.compare_text(text))
        }
    }
}

fn as_number(attr: Attr<'_>, parsed: Option<Parsed>) -> Option<f64> {
    match (attr, parsed) {
        (Attr::Number(n), _) => Some(n),
        (Attr::Text(_), Some(parsed)) => parsed.number(),
        (Attr::Text(text), None) => parse_number(text),
        _ => None,
    }
}

fn as_date(attr: Attr<'_>, parsed: Option<Parsed>) -> Option<i64> {
    match (attr, parsed) {
        (Attr::Text(_), Some(parsed)) => parsed.date(),
        (Attr::Text(text), None) => parse_date(text),
        _ => None,
    }
}

/// What one evaluation needs besides the machine: the time, whether text is folded, a
/// buffer reused for folding and number formatting, and (for a text value read once for many
/// predicates, as columnar evaluation does) its number and date read in advance.
/// A value as the predicates on its field read it, prepared once for all of them: the
/// attribute, and for a text its raw and folded forms and what it reads as. Every executor
/// hands predicates this (the row path per machine, the columnar path per distinct value).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ValueView<'c> {
    pub(crate) attr: Attr<'c>,
    pub(crate) text: Option<&'c str>,
    pub(crate) folded: Option<&'c str>,
    pub(crate) parsed: Option<Parsed>,
}

/// What a matcher needs besides the value: the evaluation time, the predicate's case rule,
/// a buffer to fold text into, and what the caller prepared once (see [`Context::new`]).
pub(crate) struct Context<'b> {
    pub(crate) now: i64,
    pub(crate) fold: bool,
    pub(crate) buffer: &'b mut String,
    pub(crate) parsed: Option<Parsed>,
    /// The top-level text attribute already folded to lowercase, when the caller folded it
    /// once for every predicate on its field.
    pub(crate) folded: Option<&'b str>,
}

impl<'b> Context<'b> {
    /// A context for a predicate with case rule `fold` at `now` (Unix milliseconds), with
    /// nothing prepared.
    pub(crate) fn new(now: i64, fold: bool, buffer: &'b mut String) -> Context<'b> {
        Context {
            now,
            fold,
            buffer,
            parsed: None,
            folded: None,
        }
    }

    /// A context with what was prepared for `value` (its folded text and parsed forms).
    pub(crate) fn prepared(
        now: i64,
        fold: bool,
        buffer: &'b mut String,
        value: Option<ValueView<'b>>,
    ) -> Context<'b> {
        Context {
            now,
            fold,
            buffer,
            parsed: value.and_then(|value| value.parsed),
            folded: value.and_then(|value| value.folded),
        }
    }
}

/// A text value read as a number and as a date, once. Kept in 16 bytes (one per distinct
/// value of a column): a number that is not there is NaN (numbers read from text are always
/// finite) and a date that is not there is `i64::MIN` (no date reads as that instant).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parsed {
    number: f64,
    date: i64,
}

impl Parsed {
    /// What a value that is not text reads as: nothing.
    pub(crate) const NOTHING: Parsed = Parsed {
        number: f64::NAN,
        date: i64::MIN,
    };

    pub(crate) fn of(text: &str) -> Parsed {
        Parsed {
            number: parse_number(text).unwrap_or(f64::NAN),
            date: parse_date(text).unwrap_or(i64::MIN),
        }
    }

    /// The number the text reads as.
    pub(crate) fn number(self) -> Option<f64> {
        (!self.number.is_nan()).then_some(self.number)
    }

    /// The date the text reads as.
    pub(crate) fn date(self) -> Option<i64> {
        (self.date != i64::MIN).then_some(self.date)
    }
}

impl Context<'_> {
    /// Runs `f` on the attribute's text, folded to lowercase unless case-sensitive. ASCII
    /// text is folded into the reusable buffer; only non-ASCII text with capitals allocates.
    fn with_text<R: Default>(&mut self, attr: Attr<'_>, f: impl FnOnce(&str) -> R) -> R {
        if !self.fold {
            return self.with_raw_text(attr, f);
        }
        if let (Attr::Text(_), Some(folded)) = (attr, self.folded) {
            return f(folded);
        }
        match attr {
            Attr::Text(text) if text.is_ascii() => {
                if !text.bytes().any(|b| b.is_ascii_uppercase()) {
                    return f(text);
                }
                self.buffer.clear();
                fold_case_into(text, self.buffer);
                f(self.buffer)
            }
            Attr::Text(text) => f(&fold_case(text)),
            Attr::Number(number) => {
                self.buffer.clear();
                let _ = write_number(number, self.buffer);
                self.buffer.make_ascii_lowercase();
                f(self.buffer)
            }
            _ => self.with_raw_text(attr, f),
        }
    }

    /// Runs `f` on the attribute's text as it is (numbers and flags in their text form).
    fn with_raw_text<R: Default>(&mut self, attr: Attr<'_>, f: impl FnOnce(&str) -> R) -> R {
        match attr {
            Attr::Text(text) => f(text),
            Attr::Number(number) => {
                self.buffer.clear();
                let _ = write_number(number, self.buffer);
                f(self.buffer)
            }
            Attr::Bool(flag) => f(if flag { "true" } else { "false" }),
            Attr::Null | Attr::List(_) | Attr::Opaque => R::default(),
        }
    }
}

/// Appends `text` folded to lowercase to `out`, reusing `out`'s allocation for ASCII text.
/// With [`fold_case`], the one definition of case folding (`str::to_lowercase`).
pub(crate) fn fold_case_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        if let Some(appended) = out.get_mut(start..) {
            appended.make_ascii_lowercase();
        }
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// Lowercase text, borrowing when it already is (the common case for ASCII data).
pub(crate) fn fold_case(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        let lowered = text.to_lowercase();
        if lowered == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(lowered)
        }
    }
}
