//! Finding the line and column of a node from its path.
//!
//! serde_yaml reports positions only for errors, and stamps an error raised while a node is
//! visited with that node's position. So to find a node, we walk the document with a seed
//! that follows the path and raises an error at the node; the error's location is the
//! answer. This costs one parse per error reported, and nothing when there is no error.

use crate::sources::Position;
use cohort_syntax::{NodePath, PathSeg};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

const FOUND: &str = "cohort: node found";

/// The position and byte index of the node at `path` in the YAML `text`.
pub(crate) fn node(text: &str, path: &NodePath) -> Option<(Position, usize)> {
    let seed = Seek {
        rest: path.segments(),
        key_itself: path.is_key_itself(),
    };
    let error = seed
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .err()?;
    if !error.to_string().contains(FOUND) {
        return None;
    }
    let location = error.location()?;
    let position = Position {
        line: location.line(),
        column: location.column(),
    };
    Some((position, location.index()))
}

/// Where the bytes `span` of the string scalar at `index` are in `text`, and how wide they
/// are there: exact when the scalar is written as its value (plain, or quoted without
/// escapes, on one line); otherwise the scalar's start.
pub(crate) fn inside_scalar(
    text: &str,
    index: usize,
    span: cohort_syntax::Span,
) -> Option<(usize, usize)> {
    let raw = text.get(index..)?;
    let (content, escape): (usize, Option<&str>) = match raw.chars().next()? {
        '"' => (index + 1, Some("\\")),
        '\'' => (index + 1, Some("''")),
        '|' | '>' => return None,
        _ => (index, None),
    };
    let covered = text.get(content..content + span.end)?;
    let escaped = escape.is_some_and(|e| covered.contains(e));
    if escaped || covered.contains(['\n', '\r']) {
        return None;
    }
    Some((content + span.start, span.len()))
}

/// The width of the scalar token at `index`, for carets: a quoted string to its closing
/// quote, a plain scalar to the end of its value on that line.
pub(crate) fn token_width(text: &str, index: usize) -> usize {
    let Some(raw) = text.get(index..) else {
        return 1;
    };
    let line = raw.lines().next().unwrap_or_default();
    let width = match line.chars().next() {
        Some(quote @ ('"' | '\'')) => line[1..].find(quote).map_or(line.len(), |end| end + 2),
        Some('{' | '[' | '-') | None => 1,
        Some(_) => line
            .find([',', '}', ']'])
            .or_else(|| line.find(": "))
            .or_else(|| line.find(" #"))
            .unwrap_or(line.len()),
    };
    line[..width.min(line.len())]
        .trim_end()
        .chars()
        .count()
        .max(1)
}

struct Seek<'p> {
    rest: &'p [PathSeg],
    key_itself: bool,
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.rest.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.rest.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        let mut index = 0;
        loop {
            let more = if matches!(first, PathSeg::Index(i) if *i == index) {
                seq.next_element_seed(Seek {
                    rest,
                    key_itself: self.key_itself,
                })?
                .is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.rest.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        let wanted = match first {
            PathSeg::Key(key) => Some(key.as_str()),
            PathSeg::Index(_) => None,
        };
        let key_is_target = rest.is_empty() && self.key_itself;
        while let Some(key) = map.next_key_seed(KeySeek {
            wanted: if key_is_target { wanted } else { None },
        })? {
            if wanted.is_some() && wanted == Some(key.as_str()) {
                map.next_value_seed(Seek {
                    rest,
                    key_itself: self.key_itself,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Reads a mapping key as text, raising the "found" error when it is the wanted key.
struct KeySeek<'p> {
    wanted: Option<&'p str>,
}

impl<'de> DeserializeSeed<'de> for KeySeek<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeek<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if self.wanted == Some(key) {
            Err(E::custom(FOUND))
        } else {
            Ok(key.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
name: x
groups:
  - name: a
    blocks:
      - - field: OS
          operator: 'Contains any of'
          values: [Windows, 10.10]
";

    fn at(path: NodePath) -> Option<(usize, usize)> {
        node(DOC, &path).map(|(p, _)| (p.line, p.column))
    }

    #[test]
    fn finds_values_keys_and_sequence_elements() {
        let criterion = NodePath::root()
            .key("groups")
            .index(0)
            .key("blocks")
            .index(0)
            .index(0);
        assert_eq!(at(criterion.clone()), Some((5, 11)));
        assert_eq!(at(criterion.key("operator")), Some((6, 21)));
        assert_eq!(at(criterion.key_itself("operator")), Some((6, 11)));
        assert_eq!(at(criterion.key("values").index(1)), Some((7, 29)));
        assert_eq!(at(NodePath::root()), Some((1, 1)));
    }

    #[test]
    fn a_path_that_leads_nowhere_has_no_position() {
        assert_eq!(at(NodePath::root().key("missing")), None);
        assert_eq!(at(NodePath::root().key("groups").index(7)), None);
        assert_eq!(node("a: [\nb: 1", &NodePath::root().key("b")), None);
        let deep = format!("a: {}{}\nb: 1\n", "[".repeat(1_000), "]".repeat(1_000));
        assert_eq!(node(&deep, &NodePath::root().key("c")), None);
    }
}
