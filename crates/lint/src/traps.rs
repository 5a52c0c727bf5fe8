//! Traps of RMM consoles: text operators whose value also matches longer values.
//!
//! `contains any of 3` holds on `13` and `30`; `starts with 2024.1` on `2024.10.5`; with a
//! dropdown, `contains Workstation` also on the option `Windows Workstation`. Each is what
//! the operator means, and rarely what was meant; a finding names a value it also matches.

use crate::Code;
use cohort_check::ir::{Predicate, Test};
use cohort_syntax::FieldKind;

/// The shape of a value that longer values contain.
enum Shape {
    /// Digits only: `3`, `2024`.
    Number,
    /// Digits and dots, with a dot: `10.0`, `2024.1`.
    Version,
}

fn shape(value: &str) -> Option<Shape> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if !value.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if value.contains('.') {
        Shape::Version
    } else {
        Shape::Number
    })
}

/// How the operator reads its values, for the substring traps.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    Contains,
    StartsWith,
    EndsWith,
    Regex,
}

/// The traps in one criterion: `(code, message, help)`, at most one of each.
pub(crate) fn check(p: &Predicate, kind: Option<&FieldKind>) -> Vec<(Code, String, String)> {
    let (reading, values): (Reading, Vec<&str>) = match &p.test {
        Test::Contains { needles, .. } => (
            Reading::Contains,
            needles.iter().map(String::as_str).collect(),
        ),
        Test::StartsWith(values) => (
            Reading::StartsWith,
            values.iter().map(String::as_str).collect(),
        ),
        Test::EndsWith(values) => (
            Reading::EndsWith,
            values.iter().map(String::as_str).collect(),
        ),
        Test::Matches(regexes) => (Reading::Regex, regexes.iter().map(|r| r.as_str()).collect()),
        _ => return Vec::new(),
    };
    let verb = if p.negated { "excludes" } else { "matches" };
    let mut found = Vec::new();
    if let Some(FieldKind::Dropdown { options }) = kind {
        if reading != Reading::Regex
            && let Some(finding) = dropdown(p, reading, &values, options, verb)
        {
            found.push(finding);
        }
        return found;
    }
    for value in &values {
        let Some(shape) = shape(value) else { continue };
        let (first_digit, last_digit) = (
            value.bytes().next().is_some_and(|b| b.is_ascii_digit()),
            value.bytes().last().is_some_and(|b| b.is_ascii_digit()),
        );
        let longer = match reading {
            Reading::StartsWith if last_digit => format!("{value}0"),
            Reading::EndsWith if first_digit => format!("1{value}"),
            Reading::Contains | Reading::Regex if first_digit => format!("1{value}"),
            Reading::Contains | Reading::Regex if last_digit => format!("{value}0"),
            _ => continue,
        };
        let finding = match (shape, reading) {
            (Shape::Number, Reading::Regex) => (
                Code::NumberSubstring,
                format!("`{}` also {verb} `{longer}`: a regex matches anywhere in the text unless anchored", p.text),
                format!("anchor the pattern (`^{value}$`) to match the whole value"),
            ),
            (Shape::Number, _) => (
                Code::NumberSubstring,
                format!("`{}` also {verb} `{longer}`: the operator compares text, and `{value}` is part of longer numbers", p.text),
                "to match the whole value use `equal` or `is any of`; for a range, `greater than`, `less than` or `between`".to_owned(),
            ),
            (Shape::Version, Reading::Regex) => (
                Code::VersionText,
                format!("`{}` also {verb} `{longer}`: in a regex `.` matches any character, and an unanchored pattern matches anywhere", p.text),
                format!("escape the dots and anchor the pattern (`^{}$`), or compare versions with `equal`, `greater than` or `between`", value.replace('.', "\\.")),
            ),
            (Shape::Version, Reading::StartsWith) => (
                Code::VersionText,
                format!("`{}` also {verb} `{longer}`: the operator compares text, not versions", p.text),
                format!("end the prefix with a dot (`starts with {value}.`) to stop at a version segment, or compare versions with `greater than` and `less than`"),
            ),
            (Shape::Version, _) => (
                Code::VersionText,
                format!("`{}` also {verb} `{longer}`: the operator compares text, not versions", p.text),
                "compare versions with `equal`, `greater than`, `less than` or `between`".to_owned(),
            ),
        };
        found.push(finding);
        break;
    }
    found
}

/// A value that is one option of a dropdown and, read as a substring, also another option.
fn dropdown(
    p: &Predicate,
    reading: Reading,
    values: &[&str],
    options: &[String],
    verb: &str,
) -> Option<(Code, String, String)> {
    let fold = |text: &str| {
        if p.case_sensitive {
            text.to_owned()
        } else {
            text.to_lowercase()
        }
    };
    let folded: Vec<String> = options.iter().map(|o| fold(o)).collect();
    for value in values {
        let Some(own) = folded.iter().position(|o| o == value) else {
            continue;
        };
        let other = folded.iter().enumerate().find(|&(index, option)| {
            index != own
                && !values.contains(&option.as_str())
                && match reading {
                    Reading::Contains => option.contains(value),
                    Reading::StartsWith => option.starts_with(value),
                    Reading::EndsWith => option.ends_with(value),
                    Reading::Regex => false,
                }
        });
        let (Some((index, _)), Some(option)) = (other, options.get(own)) else {
            continue;
        };
        let other = options.get(index).map_or("", String::as_str);
        return Some((
            Code::DropdownSubstring,
            format!(
                "`{}` also {verb} the option `{other}` of `{}`, not only `{option}`",
                p.text, p.field
            ),
            format!(
                "to test for the option `{option}` alone, use `{}`",
                if p.negated { "not equal" } else { "equal" }
            ),
        ));
    }
    None
}
