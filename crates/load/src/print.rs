//! Printing groups back as canonical YAML.

use cohort_syntax::{Expr, GroupDef};
use serde::Serialize;

/// Why groups cannot be printed as YAML.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The YAML writer failed.
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Document<'a> {
    One(Group<'a>),
    Many { groups: Vec<Group<'a>> },
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    join: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<Vec<Block<'a>>>,
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Block<'a> {
    All(Vec<Criterion<'a>>),
    Any {
        #[serde(rename = "match")]
        join: &'static str,
        criteria: Vec<Criterion<'a>>,
    },
}

#[derive(Serialize)]
struct Criterion<'a> {
    /// Empty for `member of`, which names a group instead.
    #[serde(skip_serializing_if = "str::is_empty")]
    field: &'a str,
    operator: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    case_sensitive: bool,
}

/// Prints groups as one canonical YAML document: a `groups:` list (or a single group when
/// `single` is set and there is one group), canonical operator phrases, values as lists of
/// strings; a group that is not a list of blocks gets `where:` and its condition as text.
/// Loading the output gives back the same trees (conditions under `where:` normalized, see
/// `Expr::normalized`).
///
/// ```
/// use cohort_load::{Loader, to_yaml};
///
/// let mut loader = Loader::new();
/// loader.add_str("g.yaml", "name: G\nblocks: [[{field: OS, operator: Equals, value: '10.10'}]]");
/// let groups = loader.finish().groups;
/// let yaml = to_yaml(&groups, false).unwrap();
/// assert_eq!(yaml, "groups:\n- name: G\n  blocks:\n  - - field: OS\n      operator: equal\n      values:\n      - '10.10'\n");
/// ```
pub fn to_yaml(groups: &[GroupDef], single: bool) -> Result<String, PrintError> {
    let mut groups: Vec<Group<'_>> = groups.iter().map(group).collect();
    let document = match groups.pop() {
        Some(only) if single && groups.is_empty() => Document::One(only),
        Some(last) => {
            groups.push(last);
            Document::Many { groups }
        }
        None => Document::Many { groups },
    };
    serde_yaml::to_string(&document).map_err(|e| PrintError::Yaml(e.to_string()))
}

fn group(def: &GroupDef) -> Group<'_> {
    let as_where = || Group {
        name: &def.name,
        description: def.description.as_deref(),
        join: None,
        blocks: None,
        condition: Some(cohort_syntax::expr_to_text(&def.condition)),
    };
    let (join, items) = match &def.condition {
        Expr::Any { items, .. } if !items.is_empty() => (None, items),
        Expr::All { items, .. } if !items.is_empty() => (Some("all"), items),
        _ => return as_where(),
    };
    let blocks = items
        .iter()
        .map(|item| {
            let (all, criteria) = match item {
                Expr::All { items, .. } if !items.is_empty() => (true, items),
                Expr::Any { items, .. } if !items.is_empty() => (false, items),
                _ => return None,
            };
            let criteria = criteria
                .iter()
                .map(|expr| match expr {
                    Expr::Criterion(c) => Some(Criterion {
                        field: &c.field,
                        operator: c.op.phrase(),
                        values: c.values.iter().map(|v| v.text.as_str()).collect(),
                        case_sensitive: c.case_sensitive,
                    }),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(if all {
                Block::All(criteria)
            } else {
                Block::Any {
                    join: "any",
                    criteria,
                }
            })
        })
        .collect::<Option<Vec<_>>>();
    match blocks {
        Some(blocks) => Group {
            name: &def.name,
            description: def.description.as_deref(),
            join,
            blocks: Some(blocks),
            condition: None,
        },
        None => as_where(),
    }
}
