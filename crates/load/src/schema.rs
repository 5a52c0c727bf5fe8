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
use crate::lower::Reader;
use crate::yaml::Tree;
use cohort_syntax::{FieldDef, FieldKind, Level, NodePath, SchemaDef, SourceId};
use std::collections::HashMap;

/// The keys of a schema document.
const SCHEMA_KEYS: &[&str] = &["fields"];
/// The keys of a schema field.
const FIELD_KEYS: &[&str] = &["name", "type", "level", "options", "description"];
/// The field types, as written.
const TYPES: &[&str] = &[
    "text", "number", "flag", "dropdown", "date", "version", "list",
];
/// The levels, as written.
const LEVELS: &[&str] = &["company", "site", "endpoint"];

/// Lowers every document of a schema's YAML tree; every problem goes to `errors`.
pub(crate) fn parse_schema(
    tree: &Tree,
    source: SourceId,
    errors: &mut Vec<LoadError>,
    budget: &mut crate::lower::Budget,
) -> SchemaDef {
    let mut reader = Reader {
        tree,
        source,
        errors,
        budget,
    };
    let mut fields = Vec::new();
    let mut seen: HashMap<(String, Level), usize> = HashMap::new();
    for &root in &tree.documents {
        if tree.node(root).is_null() {
            continue;
        }
        let path = NodePath::root();
        let Some(entries) = reader.entries(root, &path, "a schema", SCHEMA_KEYS, None) else {
            continue;
        };
        let Some((list, list_path)) = entries.get("fields") else {
            let loc = reader.loc(root, &path);
            reader.errors.push(LoadError::Schema {
                loc,
                field: String::new(),
                message: "schema has no `fields`".to_owned(),
                help: Some(
                    "a schema is `fields:` then a list of `{name, type}` mappings".to_owned(),
                ),
            });
            continue;
        };
        let Some(items) = reader.items(list, &list_path, "`fields`", "a list of fields", None)
        else {
            continue;
        };
        for (index, &item) in items.iter().enumerate() {
            let path = list_path.index(index);
            if let Some(field) = field(&mut reader, item, &path, index, &mut seen) {
                fields.push(field);
            }
        }
    }
    SchemaDef { fields }
}

/// One field of a schema, or `None` when it has a problem (reported).
fn field(
    reader: &mut Reader<'_>,
    id: crate::yaml::NodeId,
    path: &NodePath,
    index: usize,
    seen: &mut HashMap<(String, Level), usize>,
) -> Option<FieldDef> {
    let entries = reader.entries(id, path, "a schema field", FIELD_KEYS, None)?;
    let loc = reader.loc(id, path);
    let name = reader.text_at(&entries, "name", None).unwrap_or_default();
    let problem = |reader: &mut Reader<'_>, key: &str, message: String, help: Option<String>| {
        let loc = entries
            .get(key)
            .map_or_else(|| loc.clone(), |(id, path)| reader.loc(id, &path));
        reader.errors.push(LoadError::Schema {
            loc,
            field: name.clone(),
            message,
            help,
        });
    };
    let (prefix, bare) = Level::split(&name);
    if prefix.is_some() {
        problem(
            reader,
            "name",
            format!("field name `{name}` has a level prefix"),
            Some(format!(
                "write `name: {bare}` and `level: {}`",
                prefix.map_or("", Level::name)
            )),
        );
        return None;
    }
    if name.trim().is_empty() {
        problem(reader, "name", "field has an empty name".to_owned(), None);
        return None;
    }
    let level_text = reader.text_at(&entries, "level", Some(&name));
    let level = match level_text.as_deref() {
        None | Some("endpoint") => Level::Endpoint,
        Some("company") => Level::Company,
        Some("site") => Level::Site,
        Some(other) => {
            let help = one_of(other, LEVELS);
            problem(
                reader,
                "level",
                format!("unknown level `{other}`"),
                Some(help),
            );
            return None;
        }
    };
    let kind_text = reader.text_at(&entries, "type", Some(&name));
    let options = match entries.get("options") {
        Some((list, list_path)) => {
            let items = reader.items(
                list,
                &list_path,
                "`options`",
                "a list of options",
                Some(&name),
            )?;
            let mut options = Vec::with_capacity(items.len());
            for (index, &item) in items.iter().enumerate() {
                let text = reader.text(item, &list_path.index(index), "an option", Some(&name))?;
                options.push(text);
            }
            Some(options)
        }
        None => None,
    };
    let kind = match (kind_text.as_deref(), options) {
        (None, _) => {
            problem(
                reader,
                "type",
                format!("field `{name}` has no `type`"),
                Some(one_of("", TYPES)),
            );
            return None;
        }
        (Some("dropdown"), Some(options)) if !options.is_empty() => FieldKind::Dropdown { options },
        (Some("dropdown"), _) => {
            problem(
                reader,
                "type",
                format!("dropdown field `{name}` lists no options"),
                Some("add `options: [First, Second, ...]`".to_owned()),
            );
            return None;
        }
        (Some(kind), Some(_)) if TYPES.contains(&kind) => {
            problem(
                reader,
                "options",
                format!("field `{name}` has options but is not a dropdown"),
                Some("options belong to `type: dropdown`".to_owned()),
            );
            return None;
        }
        (Some("text"), None) => FieldKind::Text,
        (Some("number"), None) => FieldKind::Number,
        (Some("flag"), None) => FieldKind::Flag,
        (Some("date"), None) => FieldKind::Date,
        (Some("version"), None) => FieldKind::Version,
        (Some("list"), None) => FieldKind::List,
        (Some(other), _) => {
            let help = one_of(other, TYPES);
            problem(
                reader,
                "type",
                format!("unknown field type `{other}`"),
                Some(help),
            );
            return None;
        }
    };
    if let Some(first) = seen.insert((name.clone(), level), index) {
        problem(
            reader,
            "name",
            format!(
                "{level} field `{name}` is declared twice (first as field {})",
                first + 1
            ),
            None,
        );
        return None;
    }
    let description = reader.text_at(&entries, "description", Some(&name));
    Some(FieldDef {
        name,
        kind,
        level,
        description,
        loc,
    })
}

/// "did you mean `x`? expected one of ..." for a word that is not one of `words`.
fn one_of(written: &str, words: &[&str]) -> String {
    let list: Vec<String> = words.iter().map(|word| format!("`{word}`")).collect();
    match cohort_syntax::nearest(written, words.iter().copied()) {
        Some(word) if !written.is_empty() => {
            format!("did you mean `{word}`? expected one of {}", list.join(", "))
        }
        _ => format!("expected one of {}", list.join(", ")),
    }
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
