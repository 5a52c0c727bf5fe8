//! The YAML shape of definitions (serde), and its lowering to syntax trees.

use crate::error::LoadError;
use crate::sources::Position;
use cohort_syntax::{
    Criterion, Expr, GroupDef, Literal, Loc, NodePath, Op, SourceId, parse_condition,
    parse_criterion,
};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A group, or (at the top of a file) a list of groups under `groups`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "match")]
    join: Option<String>,
    blocks: Option<Vec<RawBlock>>,
    #[serde(rename = "where")]
    condition: Option<String>,
    groups: Option<Vec<RawGroup>>,
}

/// A block: a plain list of criteria (all must hold), or `{match, criteria}`.
struct RawBlock {
    join: Option<String>,
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlockMap {
    #[serde(rename = "match")]
    join: Option<String>,
    criteria: Vec<RawCriterion>,
}

/// A criterion: the `field`/`operator`/`values` map, or one line of text
/// (`OS contains any of "Windows 10"`).
enum RawCriterion {
    Map(RawCriterionMap),
    Text(String),
}

impl<'de> Deserialize<'de> for RawCriterion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CriterionVisitor;
        impl<'de> Visitor<'de> for CriterionVisitor {
            type Value = RawCriterion;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a criterion: a map with `field`, `operator` and `values`, or one line of text",
                )
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawCriterion, E> {
                Ok(RawCriterion::Text(text.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawCriterion, A::Error> {
                RawCriterionMap::deserialize(MapAccessDeserializer::new(map)).map(RawCriterion::Map)
            }
        }
        deserializer.deserialize_any(CriterionVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterionMap {
    /// Absent for `member of`, which names a group instead of a field.
    #[serde(default)]
    field: String,
    operator: String,
    values: Option<RawValues>,
    value: Option<RawValue>,
    #[serde(default)]
    case_sensitive: bool,
}

/// A value, as the exact text written (an unquoted `10.10` stays `10.10`).
pub(crate) struct RawValue(pub(crate) String);

/// `values:` as a list, or as a single scalar.
struct RawValues {
    items: Vec<String>,
    is_list: bool,
}

impl<'de> Deserialize<'de> for RawBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlockVisitor;
        impl<'de> Visitor<'de> for BlockVisitor {
            type Value = RawBlock;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a block: a list of criteria, or a map with `match` and `criteria`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawBlock, A::Error> {
                let criteria = Vec::<RawCriterion>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(RawBlock {
                    join: None,
                    criteria,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawBlock, A::Error> {
                let block = RawBlockMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RawBlock {
                    join: block.join,
                    criteria: block.criteria,
                })
            }
        }
        deserializer.deserialize_any(BlockVisitor)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(RawValue)
    }
}

impl<'de> Deserialize<'de> for RawValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;
        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = RawValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawValues, A::Error> {
                let items = Vec::<RawValue>::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(RawValues {
                    items: items.into_iter().map(|RawValue(text)| text).collect(),
                    is_list: true,
                })
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawValues, E> {
                Ok(RawValues::single(value.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<RawValues, E> {
                Ok(RawValues::single(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawValues, E> {
                Ok(RawValues::single(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawValues, E> {
                Ok(RawValues::single(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<RawValues, E> {
                // serde_yaml has already read `10.10` as 10.1 here; the text is lost. Values
                // written as a list, or under `value:`, keep their exact text.
                Ok(RawValues::single(value.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawValues, E> {
                Ok(RawValues {
                    items: Vec::new(),
                    is_list: true,
                })
            }
        }
        deserializer.deserialize_any(ValuesVisitor)
    }
}

impl RawValues {
    fn single(text: String) -> RawValues {
        RawValues {
            items: vec![text],
            is_list: false,
        }
    }
}

/// Parses one YAML text into groups. Every problem is pushed to `errors`: a structural YAML
/// error leaves the whole file out, a problem in a group's content leaves that group out.
pub(crate) fn parse(text: &str, source: SourceId, errors: &mut Vec<LoadError>) -> Vec<GroupDef> {
    if is_blank_document(text) {
        return Vec::new();
    }
    match serde_yaml::from_str::<RawGroup>(text) {
        Ok(document) => Lowering { source, errors }.document(document),
        Err(error) => {
            errors.push(yaml_error(text, source, &error));
            Vec::new()
        }
    }
}

/// A file with nothing but blank lines, comments and document markers holds no groups.
pub(crate) fn is_blank_document(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

pub(crate) fn yaml_error(text: &str, source: SourceId, error: &serde_yaml::Error) -> LoadError {
    let position = error.location().map(|location| Position {
        line: location.line(),
        column: location.column(),
    });
    let mut message = error.to_string();
    if let Some(location) = error.location() {
        // The position is reported apart; drop serde_yaml's copy of it from the text.
        let at = format!(" at line {} column {}", location.line(), location.column());
        message = message.replacen(&at, "", 1);
    }
    LoadError::Yaml {
        source_id: source,
        position,
        group: group_name_for_message(text, &message),
        message,
    }
}

/// The name of the group an error message's YAML path (`groups[2].blocks...: ...`) points
/// into, read from the document as plain YAML when that still parses.
fn group_name_for_message(text: &str, message: &str) -> Option<String> {
    let document: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let group = match message.strip_prefix("groups[") {
        Some(rest) => {
            let index: usize = rest.split(']').next()?.parse().ok()?;
            document.get("groups")?.get(index)?
        }
        None => &document,
    };
    group.get("name")?.as_str().map(str::to_owned)
}

struct Lowering<'e> {
    source: SourceId,
    errors: &'e mut Vec<LoadError>,
}

impl Lowering<'_> {
    fn loc(&self, path: NodePath) -> Loc {
        Loc::new(self.source, path)
    }

    fn document(mut self, document: RawGroup) -> Vec<GroupDef> {
        let root = NodePath::root();
        let Some(list) = document.groups else {
            return self.group(document, root).into_iter().collect();
        };
        if document.name.is_some()
            || document.blocks.is_some()
            || document.condition.is_some()
            || document.join.is_some()
        {
            let loc = self.loc(root.key_itself("groups"));
            self.errors.push(LoadError::MixedDocument { loc });
            return Vec::new();
        }
        let list_path = root.key("groups");
        list.into_iter()
            .enumerate()
            .filter_map(|(index, group)| self.group(group, list_path.index(index)))
            .collect()
    }

    fn group(&mut self, raw: RawGroup, path: NodePath) -> Option<GroupDef> {
        if raw.groups.is_some() {
            let loc = self.loc(path.key_itself("groups"));
            self.errors.push(LoadError::NestedGroups {
                loc,
                group: raw.name.clone(),
            });
            return None;
        }
        let Some(name) = raw.name.filter(|name| !name.trim().is_empty()) else {
            let loc = self.loc(path);
            self.errors.push(LoadError::MissingName { loc });
            return None;
        };
        let errors_before = self.errors.len();
        if let Some(text) = raw.condition {
            return self.where_group(
                name,
                raw.description,
                text,
                raw.blocks.is_some() || raw.join.is_some(),
                path,
            );
        }
        let group_join = self.join(raw.join.as_deref(), &path, &name);
        let blocks_path = path.key("blocks");
        let blocks = raw.blocks.unwrap_or_default();
        if blocks.is_empty() {
            let loc = self.loc(path.clone());
            self.errors.push(LoadError::NoBlocks {
                loc,
                group: name.clone(),
            });
        }
        let mut items = Vec::with_capacity(blocks.len());
        for (index, block) in blocks.into_iter().enumerate() {
            items.extend(self.block(block, blocks_path.index(index), index + 1, &name));
        }
        if self.errors.len() > errors_before {
            return None;
        }
        Some(GroupDef {
            condition: group_join.build(items, self.loc(blocks_path)),
            name,
            description: raw.description,
            loc: self.loc(path),
        })
    }

    /// A group given as `where: <condition text>`.
    fn where_group(
        &mut self,
        name: String,
        description: Option<String>,
        text: String,
        with_blocks: bool,
        path: NodePath,
    ) -> Option<GroupDef> {
        let where_path = path.key("where");
        if with_blocks {
            let loc = self.loc(path.key_itself("where"));
            self.errors
                .push(LoadError::WhereWithBlocks { loc, group: name });
            return None;
        }
        match parse_condition(&text) {
            Ok(mut condition) => {
                place(&mut condition, self.source, &where_path);
                Some(GroupDef {
                    name,
                    description,
                    condition,
                    loc: self.loc(path),
                })
            }
            Err(error) => {
                self.errors.push(LoadError::Syntax {
                    loc: Loc::at(error.span).placed(self.source, &where_path),
                    group: name,
                    criterion: None,
                    message: error.message,
                    help: error.help,
                });
                None
            }
        }
    }

    fn join(&mut self, value: Option<&str>, path: &NodePath, group: &str) -> Join {
        match value.map(|v| v.trim().to_lowercase()).as_deref() {
            None | Some("any" | "or") => Join::Any,
            Some("all" | "and") => Join::All,
            Some(_) => {
                let loc = self.loc(path.key("match"));
                self.errors.push(LoadError::InvalidMatch {
                    loc,
                    group: Some(group.to_owned()),
                    value: value.unwrap_or_default().to_owned(),
                });
                Join::Any
            }
        }
    }

    fn block(
        &mut self,
        block: RawBlock,
        path: NodePath,
        number: usize,
        group: &str,
    ) -> Option<Expr> {
        let join = match block.join {
            Some(_) => self.join(block.join.as_deref(), &path, group),
            None => Join::All,
        };
        if block.criteria.is_empty() {
            let loc = self.loc(path);
            self.errors.push(LoadError::EmptyBlock {
                loc,
                group: group.to_owned(),
                block: number,
            });
            return None;
        }
        let criteria_path = if block.join.is_some() {
            path.key("criteria")
        } else {
            path.clone()
        };
        let items = block
            .criteria
            .into_iter()
            .enumerate()
            .filter_map(|(index, criterion)| {
                let label = format!("block {number}, criterion {}", index + 1);
                self.criterion(criterion, criteria_path.index(index), group, label)
            })
            .collect();
        Some(join.build(items, self.loc(path)))
    }

    fn criterion(
        &mut self,
        raw: RawCriterion,
        path: NodePath,
        group: &str,
        label: String,
    ) -> Option<Expr> {
        let raw = match raw {
            RawCriterion::Map(map) => map,
            RawCriterion::Text(text) => return self.text_criterion(&text, path, group, label),
        };
        let label = format!("{label} (`{}`)", raw.field);
        let op_path = path.key("operator");
        let op = Op::from_phrase(&raw.operator);
        if op.is_none() {
            let loc = self.loc(op_path.clone());
            self.errors.push(LoadError::UnknownOperator {
                loc,
                group: group.to_owned(),
                criterion: label.clone(),
                suggestion: Op::suggest(&raw.operator),
                phrase: raw.operator,
            });
        }
        let values = match (raw.values, raw.value) {
            (Some(_), Some(_)) => {
                let loc = self.loc(path.key_itself("value"));
                self.errors.push(LoadError::ValueAndValues {
                    loc,
                    group: group.to_owned(),
                    criterion: label,
                });
                return None;
            }
            (Some(values), None) => {
                let values_path = path.key("values");
                values
                    .items
                    .into_iter()
                    .enumerate()
                    .map(|(index, text)| Literal {
                        text,
                        loc: self.loc(if values.is_list {
                            values_path.index(index)
                        } else {
                            values_path.clone()
                        }),
                    })
                    .collect()
            }
            (None, Some(RawValue(text))) => vec![Literal {
                text,
                loc: self.loc(path.key("value")),
            }],
            (None, None) => Vec::new(),
        };
        Some(Expr::Criterion(Criterion {
            field: raw.field,
            op: op?,
            values,
            case_sensitive: raw.case_sensitive,
            loc: self.loc(path),
            op_loc: self.loc(op_path),
        }))
    }
}

impl Lowering<'_> {
    /// A criterion written as one line of text.
    fn text_criterion(
        &mut self,
        text: &str,
        path: NodePath,
        group: &str,
        label: String,
    ) -> Option<Expr> {
        match parse_criterion(text) {
            Ok(criterion) => {
                let mut expr = Expr::Criterion(criterion);
                place(&mut expr, self.source, &path);
                Some(expr)
            }
            Err(error) => {
                self.errors.push(LoadError::Syntax {
                    loc: Loc::at(error.span).placed(self.source, &path),
                    group: group.to_owned(),
                    criterion: Some(label),
                    message: error.message,
                    help: error.help,
                });
                None
            }
        }
    }
}

/// Puts every node of a condition parsed from the string at `path` in `source`.
pub(crate) fn place(expr: &mut Expr, source: SourceId, path: &NodePath) {
    let put = |loc: &mut Loc| *loc = loc.placed(source, path);
    match expr {
        Expr::All { items, loc } | Expr::Any { items, loc } => {
            put(loc);
            for item in items {
                place(item, source, path);
            }
        }
        Expr::Not { item, loc } => {
            put(loc);
            place(item, source, path);
        }
        Expr::Criterion(criterion) => {
            put(&mut criterion.loc);
            put(&mut criterion.op_loc);
            for value in &mut criterion.values {
                put(&mut value.loc);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Join {
    Any,
    All,
}

impl Join {
    fn build(self, items: Vec<Expr>, loc: Loc) -> Expr {
        match self {
            Join::Any => Expr::Any { items, loc },
            Join::All => Expr::All { items, loc },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{LoadError, Loaded, Loader, Position};
    use cohort_syntax::{Expr, Op, Operator};

    fn load(text: &str) -> Loaded {
        let mut loader = Loader::new();
        loader.add_str("test.yaml", text);
        loader.finish()
    }

    #[track_caller]
    fn position_of(loaded: &Loaded, error: &LoadError) -> (usize, usize) {
        let position = error
            .position()
            .or_else(|| loaded.sources.position(error.loc()?))
            .expect("error has a position");
        (position.line, position.column)
    }

    #[test]
    fn reads_the_seed_group() {
        let loaded = load(
            "name: BitLocker Key Missing\n\
             description: Group of machines where BitLocker Key was not found.\n\
             blocks:\n  - - field: BitLocker Key Backup Status\n      operator: Contains any of\n      values: [Not Available]\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let group = &loaded.groups[0];
        assert_eq!(group.name, "BitLocker Key Missing");
        let Expr::Any { items, .. } = &group.condition else {
            panic!("blocks are ORed");
        };
        let Expr::All { items, .. } = &items[0] else {
            panic!("a plain block is ANDed");
        };
        let Expr::Criterion(criterion) = &items[0] else {
            panic!("criterion");
        };
        assert_eq!(criterion.op, Op::positive(Operator::ContainsAnyOf));
        assert_eq!(criterion.values[0].text, "Not Available");
        assert!(!criterion.case_sensitive);
    }

    #[test]
    fn reads_group_lists_block_maps_and_joins() {
        let loaded = load(
            "groups:\n\
             - name: A\n  match: all\n  blocks:\n  - match: any\n    criteria:\n    - {field: OS, operator: is, value: Windows}\n    - {field: OS, operator: is, value: Linux}\n\
             - name: B\n  blocks:\n  - - {field: Tags, operator: is blank}\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.groups.len(), 2);
        let Expr::All { items, .. } = &loaded.groups[0].condition else {
            panic!("match: all");
        };
        assert!(matches!(&items[0], Expr::Any { items, .. } if items.len() == 2));
    }

    #[test]
    fn values_keep_their_exact_text() {
        let loaded = load(
            "name: V\nblocks:\n- - {field: Agent Version, operator: '>', value: 10.10}\n  - {field: Agent Version, operator: '<', values: [10.20, 'x y', true, 7]}\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let texts: Vec<&str> = loaded.groups[0]
            .condition
            .criteria()
            .flat_map(|c| c.values.iter().map(|v| v.text.as_str()))
            .collect();
        assert_eq!(texts, ["10.10", "10.20", "x y", "true", "7"]);
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let loaded = load("name: G\nblocks:\n  - - field: OS\n      operatr: is\n");
        let [error] = loaded.errors.as_slice() else {
            panic!("{:?}", loaded.errors);
        };
        assert!(
            error.to_string().contains("unknown field `operatr`"),
            "{error}"
        );
        assert_eq!(error.group(), Some("G"));
        assert_eq!(position_of(&loaded, error), (4, 7));
        assert!(error.help().is_some());
    }

    #[test]
    fn every_unknown_operator_is_reported_with_its_position_and_a_suggestion() {
        let loaded = load(
            "groups:\n- name: A\n  blocks:\n  - - {field: OS, operator: contans any of, value: x}\n- name: B\n  blocks:\n  - - {field: OS, operator: frobs, value: x}\n",
        );
        assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);
        let first = &loaded.errors[0];
        assert_eq!(first.to_string(), "unknown operator `contans any of`");
        assert_eq!(first.group(), Some("A"));
        assert_eq!(first.criterion(), Some("block 1, criterion 1 (`OS`)"));
        assert_eq!(
            first.help().as_deref(),
            Some("did you mean `contains any of`?")
        );
        assert_eq!(position_of(&loaded, first), (4, 29));
        assert_eq!(position_of(&loaded, &loaded.errors[1]), (7, 29));
        assert!(loaded.groups.is_empty());
    }

    #[test]
    fn structural_mistakes_are_errors() {
        let cases = [
            (
                "blocks:\n- - {field: a, operator: is, value: b}\n",
                "group has no `name`",
            ),
            ("name: G\n", "group has no blocks"),
            ("name: G\nblocks:\n- []\n", "block 1 has no criteria"),
            (
                "name: G\nmatch: sometimes\nblocks:\n- - {field: a, operator: is, value: b}\n",
                "invalid `match` value `sometimes`",
            ),
            (
                "name: G\nblocks:\n- - {field: a, operator: is, value: b, values: [c]}\n",
                "both `value` and `values`",
            ),
            ("name: G\ngroups: []\n", "either one group"),
            ("groups:\n- name: G\n  groups: []\n", "cannot hold `groups`"),
            (
                "name: G\nblocks:\n- - {field: [a], operator: is}\n",
                "invalid type: sequence",
            ),
            ("name: G\nblocks: [\n", "did not find expected"),
        ];
        for (text, expected) in cases {
            let loaded = load(text);
            assert_eq!(loaded.errors.len(), 1, "{text}: {:?}", loaded.errors);
            let error = &loaded.errors[0];
            assert!(error.to_string().contains(expected), "{text}: {error}");
            let position = error
                .position()
                .or_else(|| loaded.sources.position(error.loc()?));
            assert!(position.is_some(), "{text}: {error} has no position");
        }
    }

    #[test]
    fn blank_documents_hold_no_groups() {
        for text in ["", "\n\n", "# only a comment\n---\n"] {
            let loaded = load(text);
            assert!(
                loaded.errors.is_empty() && loaded.groups.is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn hostile_yaml_is_an_error_not_a_hang() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for level in 0..9 {
            let previous = if level == 0 {
                "a".to_owned()
            } else {
                format!("l{level}")
            };
            bomb.push_str(&format!("l{}: &l{} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n", level + 1, level + 1));
        }
        bomb.push_str("name: *l9\nblocks: []\n");
        let loaded = load(&bomb);
        assert_eq!(loaded.errors.len(), 1);

        for deep in [
            format!(
                "name: G\nblocks: {}{}\n",
                "[".repeat(1_000),
                "]".repeat(1_000)
            ),
            format!(
                "name: G\nblocks: []\nextra: {}{}\n",
                "{a: ".repeat(1_000),
                "}".repeat(1_000)
            ),
        ] {
            let loaded = load(&deep);
            assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
        }
    }

    #[test]
    fn files_that_are_not_utf8_or_too_large_are_errors() {
        let dir = std::env::temp_dir().join(format!("cohort-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let latin1 = dir.join("latin1.yaml");
        std::fs::write(&latin1, b"name: caf\xe9\n").unwrap();
        let mut loader = Loader::with_limits(crate::Limits {
            max_file_bytes: 64,
            ..crate::Limits::default()
        });
        loader.add_path(&latin1);
        let big = dir.join("big.yaml");
        std::fs::write(&big, "#".repeat(100)).unwrap();
        loader.add_path(&big);
        loader.add_path(&dir.join("missing.yaml"));
        let loaded = loader.finish();
        std::fs::remove_dir_all(&dir).unwrap();
        let messages: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("not valid UTF-8"));
        assert_eq!(
            loaded.errors[0].position(),
            Some(Position {
                line: 1,
                column: 10
            })
        );
        assert!(messages[1].contains("over the limit of 64 bytes"));
        assert!(messages[2].starts_with("cannot read"));
    }
}
