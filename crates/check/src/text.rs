//! A one-line rendering of a criterion, for explanations and messages.

use cohort_syntax::Criterion;

/// The criterion as one line: `"BitLocker Key Backup Status" contains any of "Not Available"`.
///
/// ```
/// use cohort_syntax::{Criterion, Literal, Op, Operator};
/// let c = Criterion::new("OS", Op::positive(Operator::StartsWith), vec![Literal::new("Windows"), Literal::new("Mac \"OS\"")]);
/// assert_eq!(cohort_check::criterion_text(&c), r#"OS starts with "Windows", "Mac \"OS\"""#);
/// ```
pub fn criterion_text(criterion: &Criterion) -> String {
    let mut text = quote_field(&criterion.field);
    text.push(' ');
    text.push_str(criterion.op.phrase());
    for (index, value) in criterion.values.iter().enumerate() {
        text.push_str(if index == 0 { " " } else { ", " });
        text.push('"');
        for c in value.text.chars() {
            if matches!(c, '"' | '\\') {
                text.push('\\');
            }
            text.push(c);
        }
        text.push('"');
    }
    if criterion.case_sensitive {
        text.push_str(" (case-sensitive)");
    }
    text
}

fn quote_field(field: &str) -> String {
    let plain = !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '%'));
    if plain {
        field.to_owned()
    } else {
        format!("\"{}\"", field.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
