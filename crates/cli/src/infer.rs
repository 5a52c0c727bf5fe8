//! `cohort schema infer`: proposes a field schema from the machines seen.
//!
//! For every attribute, the values seen decide the type: flags, numbers, lists, dates,
//! versions; text with few distinct values that repeat becomes a dropdown with those options;
//! anything else is text. Keys with a level prefix (`site:Name`) become fields of that level.

use cohort::engine::syntax::{FieldDef, FieldKind, Level, Loc, SchemaDef};
use cohort_check::literal::{Version, parse_date, parse_flag, parse_number};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// What was seen of one attribute.
#[derive(Default)]
struct Seen {
    present: usize,
    flags: usize,
    numbers: usize,
    lists: usize,
    texts: usize,
    text_flags: usize,
    text_numbers: usize,
    text_dates: usize,
    text_versions: usize,
    /// Distinct texts, up to one more than the dropdown limit.
    distinct: BTreeSet<String>,
    too_many: bool,
}

/// Collects what a fleet's attributes look like.
pub(crate) struct Inference {
    order: Vec<String>,
    seen: HashMap<String, Seen>,
    max_options: usize,
}

impl Inference {
    pub(crate) fn new(max_options: usize) -> Self {
        Inference {
            order: Vec::new(),
            seen: HashMap::new(),
            max_options,
        }
    }

    pub(crate) fn observe(&mut self, machine: &Map<String, Value>) {
        for (key, value) in machine {
            if value.is_null() || value.as_str().is_some_and(|t| t.trim().is_empty()) {
                continue;
            }
            let seen = match self.seen.get_mut(key) {
                Some(seen) => seen,
                None => {
                    self.order.push(key.clone());
                    self.seen.entry(key.clone()).or_default()
                }
            };
            seen.present += 1;
            match value {
                Value::Bool(_) => seen.flags += 1,
                Value::Number(_) => seen.numbers += 1,
                Value::Array(_) => seen.lists += 1,
                Value::String(text) => {
                    seen.texts += 1;
                    let lower = text.trim().to_lowercase();
                    if parse_flag(text).is_some() && matches!(lower.as_str(), "true" | "false") {
                        seen.text_flags += 1;
                    }
                    if parse_number(text).is_some() {
                        seen.text_numbers += 1;
                    }
                    if parse_date(text).is_some() {
                        seen.text_dates += 1;
                    }
                    if text.contains('.') && Version::parse(text).is_some() {
                        seen.text_versions += 1;
                    }
                    if !seen.too_many {
                        seen.distinct.insert(text.clone());
                        seen.too_many = seen.distinct.len() > self.max_options;
                    }
                }
                Value::Null | Value::Object(_) => {}
            }
        }
    }

    /// The proposed schema, fields in first-seen order.
    pub(crate) fn schema(self) -> SchemaDef {
        let mut fields = Vec::new();
        for key in self.order {
            let Some(seen) = self.seen.get(&key) else {
                continue;
            };
            let (level, name) = Level::split(&key);
            fields.push(FieldDef {
                name: name.to_owned(),
                kind: kind_of(seen),
                level: level.unwrap_or(Level::Endpoint),
                description: Some(format!("seen on {} machines", seen.present)),
                loc: Loc::default(),
            });
        }
        SchemaDef { fields }
    }
}

fn kind_of(seen: &Seen) -> FieldKind {
    let all = seen.present;
    let texts = seen.texts;
    if seen.lists == all {
        FieldKind::List
    } else if seen.flags + seen.text_flags == all {
        FieldKind::Flag
    } else if seen.numbers + seen.text_numbers == all {
        FieldKind::Number
    } else if texts == all && seen.text_dates == all {
        FieldKind::Date
    } else if texts == all && seen.text_versions == all {
        FieldKind::Version
    } else if texts == all && !seen.too_many && seen.distinct.len() * 2 <= all {
        FieldKind::Dropdown {
            options: seen.distinct.iter().cloned().collect(),
        }
    } else {
        FieldKind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_come_from_the_values_seen() {
        let mut inference = Inference::new(5);
        for i in 0..10 {
            let status = ["Success", "Not Available"][i % 2];
            let machine = json!({
                "Hostname": format!("WS-{i}"),
                "Free Disk %": i * 10,
                "RAM GB": format!("{}", 4 * (i % 3 + 1)),
                "Pending Reboot": i % 2 == 0,
                "site:Exclude Windows 11 Installation": if i % 2 == 0 { "true" } else { "false" },
                "Last Seen": "2026-11-24T10:00:00Z",
                "Agent Version": format!("2024.{}.1", i % 4),
                "BitLocker Key Backup Status": status,
                "Installed Software": ["Chrome"],
                "Notes": null,
            });
            inference.observe(machine.as_object().unwrap());
        }
        let schema = inference.schema();
        let kinds: Vec<(String, &str, Level)> = schema
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.kind.name(), f.level))
            .collect();
        let expected = [
            ("Agent Version", "version", Level::Endpoint),
            ("BitLocker Key Backup Status", "dropdown", Level::Endpoint),
            ("Free Disk %", "number", Level::Endpoint),
            ("Hostname", "text", Level::Endpoint),
            ("Installed Software", "list", Level::Endpoint),
            ("Last Seen", "date", Level::Endpoint),
            ("Pending Reboot", "flag", Level::Endpoint),
            ("RAM GB", "number", Level::Endpoint),
            ("Exclude Windows 11 Installation", "flag", Level::Site),
        ];
        let expected: Vec<(String, &str, Level)> = expected
            .iter()
            .map(|(n, k, l)| ((*n).to_owned(), *k, *l))
            .collect();
        assert_eq!(kinds, expected);
        let FieldKind::Dropdown { options } = &schema.fields[1].kind else {
            panic!("dropdown")
        };
        assert_eq!(options, &["Not Available", "Success"]);
    }
}
