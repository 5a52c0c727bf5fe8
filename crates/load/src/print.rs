//! Printing groups back as canonical YAML.

use cohort_syntax::{Expr, GroupDef};
use serde::Serialize;

/// Why a group cannot be printed as YAML blocks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The condition is not a list of blocks of criteria (it nests `not`, or lists deeper).
    #[error("group `{group}` is not a list of blocks of criteria, so it has no YAML block form")]
    NotBlockShaped {
        /// The group.
        group: String,
    },
    /// The YAML writer failed.
    #[error("cannot write YAML: {0}")]
    Yaml(String),
}

#[derive(Serialize)]
struct Document<'a> {
    groups: Vec<Group<'a>>,
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    join: Option<&'static str>,
    blocks: Vec<Block<'a>>,
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
    field: &'a str,
    operator: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    case_sensitive: bool,
}

/// Prints groups as one canonical YAML document (`groups:` list, canonical operator phrases,
/// values always as lists of strings). Loading the output gives back equal syntax trees.
///
/// ```
/// use cohort_load::{Loader, to_yaml};
///
/// let mut loader = Loader::new();
/// loader.add_str("g.yaml", "name: G\nblocks: [[{field: OS, operator: Equals, value: '10.10'}]]");
/// let groups = loader.finish().groups;
/// let yaml = to_yaml(&groups).unwrap();
/// assert_eq!(yaml, "groups:\n- name: G\n  blocks:\n  - - field: OS\n      operator: equal\n      values:\n      - '10.10'\n");
/// ```
pub fn to_yaml(groups: &[GroupDef]) -> Result<String, PrintError> {
    let groups = groups.iter().map(group).collect::<Result<Vec<_>, _>>()?;
    serde_yaml::to_string(&Document { groups }).map_err(|e| PrintError::Yaml(e.to_string()))
}

fn group(def: &GroupDef) -> Result<Group<'_>, PrintError> {
    let not_block_shaped = || PrintError::NotBlockShaped {
        group: def.name.clone(),
    };
    let (join, items) = match &def.condition {
        Expr::Any { items, .. } => (None, items),
        Expr::All { items, .. } => (Some("all"), items),
        _ => return Err(not_block_shaped()),
    };
    let blocks = items
        .iter()
        .map(|item| {
            let (all, criteria) = match item {
                Expr::All { items, .. } => (true, items),
                Expr::Any { items, .. } => (false, items),
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
        .collect::<Option<Vec<_>>>()
        .ok_or_else(not_block_shaped)?;
    Ok(Group {
        name: &def.name,
        description: def.description.as_deref(),
        join,
        blocks,
    })
}
