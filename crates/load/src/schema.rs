//! Reads field schemas (YAML) into [`SchemaDef`].
//!
//! ```yaml
//! fields:
//!   - name: BitLocker Key Backup Status
//!     type: dropdown
//!     options: [Success, Failed, Not Available]
//!   - name: Exclude Windows 11 Installation
//!     type: flag
//!     level: site
//!     description: Set on sites that stay on Windows 10.
//! ```

use crate::error::LoadError;
use crate::raw::{RawValue, is_blank_document, yaml_error};
use cohort_syntax::{FieldDef, FieldKind, Level, Loc, NodePath, SchemaDef, SourceId};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    kind: RawKind,
    #[serde(default)]
    level: Option<RawLevel>,
    #[serde(default)]
    options: Option<Vec<RawValue>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    Text,
    Number,
    Flag,
    Dropdown,
    Date,
    Version,
    List,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawLevel {
    Company,
    Site,
    Endpoint,
}

/// Parses one schema document; every problem goes to `errors`.
pub(crate) fn parse_schema(text: &str, source: SourceId, errors: &mut Vec<LoadError>) -> SchemaDef {
    if is_blank_document(text) {
        return SchemaDef::default();
    }
    let raw = match serde_yaml::from_str::<RawSchema>(text) {
        Ok(raw) => raw,
        Err(error) => {
            errors.push(yaml_error(text, source, &error));
            return SchemaDef::default();
        }
    };
    let mut fields = Vec::new();
    let mut seen: HashMap<(String, Level), usize> = HashMap::new();
    for (index, field) in raw.fields.into_iter().enumerate() {
        let path = NodePath::root().key("fields").index(index);
        let loc = Loc::new(source, path.clone());
        let mut problem = |key: &str, message: String, help: Option<String>| {
            errors.push(LoadError::Schema {
                loc: Loc::new(source, path.key(key)),
                field: field.name.clone(),
                message,
                help,
            });
        };
        let (prefix, bare) = Level::split(&field.name);
        if prefix.is_some() {
            problem(
                "name",
                format!("field name `{}` has a level prefix", field.name),
                Some(format!(
                    "write `name: {bare}` and `level: {}`",
                    prefix.map_or("", Level::name)
                )),
            );
            continue;
        }
        if field.name.trim().is_empty() {
            problem("name", "field has an empty name".to_owned(), None);
            continue;
        }
        let level = match field.level {
            Some(RawLevel::Company) => Level::Company,
            Some(RawLevel::Site) => Level::Site,
            Some(RawLevel::Endpoint) | None => Level::Endpoint,
        };
        let kind = match (field.kind, field.options) {
            (RawKind::Dropdown, Some(options)) if !options.is_empty() => FieldKind::Dropdown {
                options: options.into_iter().map(|RawValue(text)| text).collect(),
            },
            (RawKind::Dropdown, _) => {
                problem(
                    "type",
                    format!("dropdown field `{}` lists no options", field.name),
                    Some("add `options: [First, Second, ...]`".to_owned()),
                );
                continue;
            }
            (_, Some(_)) => {
                problem(
                    "options",
                    format!("field `{}` has options but is not a dropdown", field.name),
                    Some("options belong to `type: dropdown`".to_owned()),
                );
                continue;
            }
            (RawKind::Text, None) => FieldKind::Text,
            (RawKind::Number, None) => FieldKind::Number,
            (RawKind::Flag, None) => FieldKind::Flag,
            (RawKind::Date, None) => FieldKind::Date,
            (RawKind::Version, None) => FieldKind::Version,
            (RawKind::List, None) => FieldKind::List,
        };
        if let Some(first) = seen.insert((field.name.clone(), level), index) {
            problem(
                "name",
                format!(
                    "{level} field `{}` is declared twice (first as field {})",
                    field.name,
                    first + 1
                ),
                None,
            );
            continue;
        }
        fields.push(FieldDef {
            name: field.name,
            kind,
            level,
            description: field.description,
            loc,
        });
    }
    SchemaDef { fields }
}

/// Prints a schema as YAML, in the form [`parse_schema`] reads.
///
/// ```
/// use cohort_syntax::{FieldDef, FieldKind, Level, Loc, SchemaDef};
///
/// let schema = SchemaDef { fields: vec![FieldDef {
///     name: "Exclude Windows 11 Installation".into(),
///     kind: FieldKind::Flag,
///     level: Level::Site,
///     description: None,
///     loc: Loc::default(),
/// }] };
/// assert_eq!(
///     cohort_load::schema_to_yaml(&schema).unwrap(),
///     "fields:\n- name: Exclude Windows 11 Installation\n  type: flag\n  level: site\n"
/// );
/// ```
pub fn schema_to_yaml(schema: &SchemaDef) -> Result<String, crate::PrintError> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        fields: Vec<OutField<'a>>,
    }
    #[derive(serde::Serialize)]
    struct OutField<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        level: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        options: Option<&'a [String]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
    }
    let out = Out {
        fields: schema
            .fields
            .iter()
            .map(|field| OutField {
                name: &field.name,
                kind: field.kind.name(),
                level: (field.level != Level::Endpoint).then(|| field.level.name()),
                options: match &field.kind {
                    FieldKind::Dropdown { options } => Some(options),
                    _ => None,
                },
                description: field.description.as_deref(),
            })
            .collect(),
    };
    serde_yaml::to_string(&out).map_err(|e| crate::PrintError::Yaml(e.to_string()))
}
