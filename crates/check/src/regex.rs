//! Regular expressions for `matches`, compiled under one memory budget per group set.
//!
//! A regex costs memory twice: once compiled (its automata), and again while it matches (the
//! caches of the lazy DFA, the PikeVM and the bounded backtracker). One regex is limited to
//! [`REGEX_SIZE_LIMIT`](crate::REGEX_SIZE_LIMIT) compiled, and every regex of a group set
//! together to [`REGEX_SET_BUDGET`], compiled size and matching caches counted together:
//!
//! * a regex compiles with an automaton size limit of the smaller of `REGEX_SIZE_LIMIT` and
//!   what remains of the set's budget;
//! * its lazy DFA's cache may hold twice its compiled size, at least 4 KiB and at most
//!   2 MiB (`cache`); the bounded backtracker, whose visited set would add up to 256 KiB, is
//!   off (the PikeVM answers when the lazy DFA gives up);
//! * it is charged `2 × compiled + 2 × cache` (the compiled automata; the PikeVM and one-pass
//!   caches, which grow with the automata; the forward and reverse lazy DFA caches), and
//!   refused when that is more than remains;
//! * a pattern written again with the same case-sensitivity is compiled once and shares the
//!   compiled automata, but is charged its matching caches again (`compiled + 2 × cache`),
//!   since each criterion may search with caches of its own;
//! * once one regex is refused, the set is over its budget: every later regex is only parsed
//!   (so invalid ones are still reported as such) and refused without being compiled;
//! * parsing is bounded too: a pattern longer than [`MAX_PATTERN_BYTES`] is refused unread,
//!   a pattern refused once is refused again without any work, and the distinct patterns of a
//!   set are parsed up to [`MAX_PATTERN_TOTAL`] bytes, past which they are refused unread;
//!   a pattern refused for its compiled size is charged the size limit it was built up to;
//!   so a hostile set costs at most its budget in memory and a bounded amount of work.
//!
//! The charge covers one search at a time; each further thread searching at once has its own
//! caches. Semantics are those of the `regex` crate (Unicode, leftmost-first, case folded
//! unless case-sensitive): `regex::Regex` is this same meta engine.

use regex_automata::meta;
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The most memory all the regexes of one group set may use, compiled and matching together,
/// in bytes (64 MiB).
pub const REGEX_SET_BUDGET: usize = 64 << 20;

/// The longest pattern compiled, in bytes (16 KiB): parsing alone can be costly (a
/// case-insensitive `\pL` is folded over all of Unicode), so length is checked first.
pub const MAX_PATTERN_BYTES: usize = 16 << 10;

/// The most bytes of distinct patterns one group set may have parsed (128 KiB): a pattern
/// written again, or refused before, costs nothing more.
pub const MAX_PATTERN_TOTAL: usize = 128 << 10;

/// The smallest and largest cache of the lazy DFA of one regex, in bytes.
const CACHE_MIN: usize = 4 << 10;
const CACHE_MAX: usize = 2 << 20;

/// A compiled regular expression.
#[derive(Clone)]
pub struct Regex {
    meta: meta::Regex,
    pattern: Arc<str>,
    cost: usize,
}

impl Regex {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the regex matches somewhere in `text`.
    #[inline]
    pub fn is_match(&self, text: &str) -> bool {
        self.meta.is_match(text)
    }

    /// The bytes charged to the set's budget for it: compiled size and matching caches, or
    /// only the caches for a pattern compiled before.
    pub fn cost(&self) -> usize {
        self.cost
    }
}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Regex").field(&&*self.pattern).finish()
    }
}

/// Why a pattern was not compiled.
#[derive(Clone, Debug)]
pub(crate) enum RegexError {
    /// Longer than [`MAX_PATTERN_BYTES`].
    TooLong(usize),
    /// Not a valid regex: the compiler's message.
    Syntax(String),
    /// Larger compiled than one regex may be.
    TooBig(usize),
    /// More than remains of the set's budget.
    OverBudget,
}

/// What remains of one set's regex budget, and the patterns compiled so far.
#[derive(Debug)]
pub(crate) struct RegexBudget {
    remaining: usize,
    /// Whether a regex was refused for the budget.
    exhausted: bool,
    compiled: HashMap<(String, bool), Regex>,
    /// Patterns refused, and why: a pattern written again is refused again at once.
    refused: HashMap<(String, bool), RegexError>,
    /// Bytes of distinct patterns parsed so far.
    parsed: usize,
}

impl RegexBudget {
    pub(crate) fn new() -> Self {
        RegexBudget {
            remaining: REGEX_SET_BUDGET,
            exhausted: false,
            compiled: HashMap::new(),
            refused: HashMap::new(),
            parsed: 0,
        }
    }

    /// Compiles `pattern` (case-insensitive unless `case_sensitive`) and charges it.
    pub(crate) fn compile(
        &mut self,
        pattern: &str,
        case_sensitive: bool,
    ) -> Result<Regex, RegexError> {
        let key = (pattern.to_owned(), case_sensitive);
        if let Some(regex) = self.compiled.get(&key) {
            // The automata are shared; the caches of another search are not.
            let cost = regex.cost.saturating_sub(regex.meta.memory_usage());
            if self.exhausted || cost > self.remaining {
                self.exhausted = true;
                return Err(RegexError::OverBudget);
            }
            self.remaining -= cost;
            let mut again = regex.clone();
            again.cost = cost;
            return Ok(again);
        }
        if let Some(error) = self.refused.get(&key) {
            return Err(error.clone());
        }
        let result = if pattern.len() > MAX_PATTERN_BYTES {
            Err(RegexError::TooLong(MAX_PATTERN_BYTES))
        } else if self.parsed.saturating_add(pattern.len()) > MAX_PATTERN_TOTAL {
            // Not even parsed: the set has had its share of regex work.
            Err(RegexError::OverBudget)
        } else {
            self.parsed += pattern.len();
            self.build(pattern, case_sensitive)
        };
        match &result {
            Ok(regex) => {
                self.remaining -= regex.cost;
                self.compiled.insert(key, regex.clone());
            }
            Err(error) => {
                match error {
                    RegexError::OverBudget => self.exhausted = true,
                    // Finding that a pattern is too big took building it up to the limit:
                    // that work is charged, so that many such patterns exhaust the budget.
                    RegexError::TooBig(limit) => {
                        self.remaining = self.remaining.saturating_sub(*limit);
                    }
                    RegexError::TooLong(_) | RegexError::Syntax(_) => {}
                }
                self.refused.insert(key, error.clone());
            }
        }
        result
    }

    fn build(&self, pattern: &str, case_sensitive: bool) -> Result<Regex, RegexError> {
        let syntax = syntax::Config::new().case_insensitive(!case_sensitive);
        if self.exhausted || self.remaining < 2 * CACHE_MIN {
            return match syntax::parse_with(pattern, &syntax) {
                Ok(_) => Err(RegexError::OverBudget),
                Err(error) => Err(RegexError::Syntax(error.to_string())),
            };
        }
        // A regex is charged at least twice its compiled size.
        let size_limit = crate::REGEX_SIZE_LIMIT.min(self.remaining / 2);
        let build = |cache: usize| {
            meta::Builder::new()
                .configure(
                    meta::Config::new()
                        .match_kind(regex_automata::MatchKind::LeftmostFirst)
                        .utf8_empty(true)
                        .which_captures(WhichCaptures::Implicit)
                        .nfa_size_limit(Some(size_limit))
                        .onepass_size_limit(Some(size_limit))
                        .hybrid_cache_capacity(cache)
                        // Its visited set would be up to 256 KiB more per regex; the PikeVM
                        // answers in its place when the lazy DFA gives up.
                        .backtrack(false),
                )
                .syntax(syntax)
                .build(pattern)
                .map_err(|error| {
                    if let Some(limit) = error.size_limit() {
                        if limit < crate::REGEX_SIZE_LIMIT {
                            RegexError::OverBudget
                        } else {
                            RegexError::TooBig(limit)
                        }
                    } else if let Some(syntax) = error.syntax_error() {
                        RegexError::Syntax(syntax.to_string())
                    } else {
                        RegexError::Syntax(error.to_string())
                    }
                })
        };
        // Built once to learn its size, then again with a cache to match.
        let sized = build(CACHE_MAX)?;
        let cache = (2 * sized.memory_usage()).clamp(CACHE_MIN, CACHE_MAX);
        let meta = if cache == CACHE_MAX {
            sized
        } else {
            build(cache)?
        };
        let cost = 2 * meta.memory_usage() + 2 * cache;
        if cost > self.remaining {
            return Err(RegexError::OverBudget);
        }
        Ok(Regex {
            meta,
            pattern: Arc::from(pattern),
            cost,
        })
    }
}
