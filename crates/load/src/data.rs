//! YAML read as plain data, under the same limits as definitions: for machines files and
//! other inputs that are data rather than definitions.

use crate::Position;
use crate::index::TextIndex;
use crate::yaml::{self, Kind, NodeId, Style, Tree, YamlLimits};

/// A YAML value, with plain scalars resolved as YAML 1.2's core schema reads them (`~` is
/// null, `true` a flag, `12` an integer, `1.5` a number; quoted scalars are always text).
#[derive(Clone, Debug, PartialEq)]
pub enum YamlData {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// Text.
    Text(String),
    /// A sequence.
    List(Vec<YamlData>),
    /// A mapping, in the order written; keys are text.
    Map(Vec<(String, YamlData)>),
}

/// Why a YAML data text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct YamlDataError {
    /// Where.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

/// Reads the first document of `text` as data. Lists and mappings nest at most 64 deep, and
/// aliases may stand for at most as many bytes as the text itself (or 16 MiB, whichever is
/// more): an alias-expansion bomb is an error, not gigabytes of copies.
///
/// ```
/// use cohort_load::{YamlData, read_yaml_data};
///
/// let data = read_yaml_data("- {id: a, Disk: 12, Quoted: '12', Tags: [x, y]}\n").unwrap();
/// let YamlData::List(machines) = data else { panic!() };
/// assert_eq!(machines[0], YamlData::Map(vec![
///     ("id".into(), YamlData::Text("a".into())),
///     ("Disk".into(), YamlData::Int(12)),
///     ("Quoted".into(), YamlData::Text("12".into())),
///     ("Tags".into(), YamlData::List(vec![YamlData::Text("x".into()), YamlData::Text("y".into())])),
/// ]));
/// let bomb = format!("- &a '{}'\n{}", "x".repeat(1000), "- *a\n".repeat(100_000));
/// assert!(read_yaml_data(&bomb).unwrap_err().message.contains("aliases"));
/// ```
pub fn read_yaml_data(text: &str) -> Result<YamlData, YamlDataError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let index = TextIndex::new(text);
    let limits = YamlLimits {
        max_depth: 64,
        max_expanded_bytes: text.len().max(16 * 1024 * 1024),
    };
    let tree = yaml::read(text, &index, limits).map_err(|error| YamlDataError {
        position: index.position(text, error.offset),
        message: match error.help {
            Some(help) => format!("{} ({help})", error.message),
            None => error.message,
        },
    })?;
    let Some(&root) = tree.documents.first() else {
        return Ok(YamlData::Null);
    };
    convert(&tree, root).map_err(|offset| YamlDataError {
        position: index.position(text, offset),
        message: "a mapping key must be text".to_owned(),
    })
}

/// The data of node `id`; `Err` with the offset of a key that is not a scalar.
fn convert(tree: &Tree, id: NodeId) -> Result<YamlData, usize> {
    let node = tree.node(id);
    Ok(match &node.kind {
        Kind::Scalar {
            text,
            style: Style::Text,
        } => YamlData::Text(text.clone()),
        Kind::Scalar {
            text,
            style: Style::Plain,
        } => resolve(text),
        Kind::Seq(items) => YamlData::List(
            items
                .iter()
                .map(|&item| convert(tree, item))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Map(entries) => YamlData::Map(
            entries
                .iter()
                .map(|&(key, value)| {
                    let key_node = tree.node(key);
                    let key_text = key_node.as_scalar().ok_or(key_node.span.start)?;
                    Ok::<_, usize>((key_text.to_owned(), convert(tree, value)?))
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A plain scalar as YAML 1.2's core schema reads it.
pub(crate) fn resolve(text: &str) -> YamlData {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return YamlData::Null,
        "true" | "True" | "TRUE" => return YamlData::Bool(true),
        "false" | "False" | "FALSE" => return YamlData::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(int) = text.parse::<i64>()
    {
        return YamlData::Int(int);
    }
    let numeric = !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if numeric && let Ok(float) = text.parse::<f64>() {
        return YamlData::Float(float);
    }
    YamlData::Text(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_yaml_1_2() {
        let cases = [
            ("~", YamlData::Null),
            ("TRUE", YamlData::Bool(true)),
            ("-12", YamlData::Int(-12)),
            ("1.5e3", YamlData::Float(1500.0)),
            ("99999999999999999999", YamlData::Float(1e20)),
            ("10.0.9", YamlData::Text("10.0.9".into())),
            ("inf", YamlData::Text("inf".into())),
            ("yes", YamlData::Text("yes".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve(text), expected, "{text}");
        }
    }

    #[test]
    fn errors_have_positions() {
        let error = read_yaml_data("- a\n- [b\n").unwrap_err();
        assert_eq!(error.position.line, 3);
        let error = read_yaml_data("- {[a]: b}\n").unwrap_err();
        assert_eq!(error.message, "a mapping key must be text");
        assert_eq!(read_yaml_data("").unwrap(), YamlData::Null);
    }
}
