//! The cohort criteria language as a user writes it.
//!
//! This crate is the first stage of cohort's one-way pipeline:
//!
//! ```text
//! YAML / text ─► syntax tree (this crate) ─► checked IR ─► plan ─► membership
//! ```
//!
//! It owns three things and nothing else:
//!
//! * [`ast`]: the syntax tree of a group definition ([`GroupDef`], [`Expr`], [`Criterion`],
//!   [`Literal`]). Literals are kept as the text the user wrote; what they mean (a number, a
//!   date, a version, a regex) is decided later, by `cohort-check`.
//! * [`operator`]: the operator vocabulary: every phrase consoles and documents use
//!   (`Contains any of`, `Not Equal`, `!=`, `IsBlank`...) resolved to an [`Op`], with
//!   suggestions for near misses.
//! * [`loc`]: where each node came from ([`Loc`]). Locations never take part in equality, so
//!   two trees that say the same thing compare equal wherever they were written.
//!
//! It knows nothing of YAML, files, field schemas or evaluation, and it never panics.
//!
//! ```
//! use cohort_syntax::{Op, Operator};
//!
//! let op = Op::from_phrase("Does Not Contain any of").unwrap();
//! assert_eq!(op, Op::negative(Operator::ContainsAnyOf));
//! assert_eq!(op.phrase(), "does not contain");
//! ```

pub mod ast;
pub mod loc;
pub mod operator;
pub mod parse;
pub mod print;
pub mod schema;
mod suggest;

pub use ast::{Criterion, Expr, GroupDef, Literal};
pub use loc::{Loc, NodePath, PathSeg, SourceId, Span};
pub use operator::{Arity, Op, Operator};
pub use parse::{
    Limits, ParseError, parse_condition, parse_condition_with, parse_criterion,
    parse_criterion_with,
};
pub use print::{condition_to_text, criterion_to_text, expr_to_text};
pub use schema::{FieldDef, FieldKind, Level, SchemaDef};
pub use suggest::{
    MAX_SUGGESTION_CANDIDATES, MAX_SUGGESTION_INPUT, edit_distance, nearest, within_edits,
};

/// The units a relative duration may be written in (`30 days`, `12h`, `90 minutes`), each
/// with its length in milliseconds: the one list the text form's grammar and the checker's
/// reading of durations share. Longer spellings come before their prefixes, so a parser that
/// tries them in order takes the whole word.
pub const DURATION_UNITS: [(&str, i64); 16] = [
    ("minutes", 60_000),
    ("minute", 60_000),
    ("mins", 60_000),
    ("min", 60_000),
    ("m", 60_000),
    ("hours", 3_600_000),
    ("hour", 3_600_000),
    ("hrs", 3_600_000),
    ("hr", 3_600_000),
    ("h", 3_600_000),
    ("days", 86_400_000),
    ("day", 86_400_000),
    ("d", 86_400_000),
    ("weeks", 7 * 86_400_000),
    ("week", 7 * 86_400_000),
    ("w", 7 * 86_400_000),
];
