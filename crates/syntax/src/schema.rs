//! The field schema as written: which custom fields exist, their types and levels.
//!
//! RMM custom fields are typed (text, number, flag, dropdown, date...) and live at a level:
//! the same name can be a company, a site and an endpoint field. A machine record carries the
//! values of every level; fields above the endpoint are keyed with their level as a prefix
//! (`site:Exclude Windows 11 Installation`), and criteria name a level the same way when a
//! name alone would be ambiguous.

use crate::loc::Loc;
use std::fmt;

/// Every declared field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaDef {
    /// The fields, in the order declared.
    pub fields: Vec<FieldDef>,
}

/// One declared field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// The field's name, without level prefix.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// Its level.
    pub level: Level,
    /// What it holds.
    pub description: Option<String>,
    /// Where it was declared.
    pub loc: Loc,
}

impl FieldDef {
    /// The key of the field in a machine record (see [`Level::key`]).
    pub fn key(&self) -> String {
        self.level.key(&self.name)
    }
}

/// The type of a field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// A checkbox: `true` or `false`.
    Flag,
    /// One of fixed options.
    Dropdown {
        /// The options, as the console lists them.
        options: Vec<String>,
    },
    /// A date (ISO 8601).
    Date,
    /// A dotted version (`10.0.19045`).
    Version,
    /// Several texts, such as installed software.
    List,
}

impl FieldKind {
    /// The type's name as the schema file writes it.
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Flag => "flag",
            FieldKind::Dropdown { .. } => "dropdown",
            FieldKind::Date => "date",
            FieldKind::Version => "version",
            FieldKind::List => "list",
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a custom field lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Set once per company (client).
    Company,
    /// Set once per site.
    Site,
    /// Set per machine (the default).
    Endpoint,
}

impl Level {
    /// Every level, from the top.
    pub const ALL: [Level; 3] = [Level::Company, Level::Site, Level::Endpoint];

    /// The level's name: `company`, `site` or `endpoint`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Company => "company",
            Level::Site => "site",
            Level::Endpoint => "endpoint",
        }
    }

    /// The key of field `name` of this level in a machine record: endpoint fields by their
    /// name, the others prefixed with their level.
    ///
    /// ```
    /// use cohort_syntax::Level;
    /// assert_eq!(Level::Site.key("Exclude Windows 11 Installation"), "site:Exclude Windows 11 Installation");
    /// assert_eq!(Level::Endpoint.key("Exclude Windows 11 Installation"), "Exclude Windows 11 Installation");
    /// ```
    pub fn key(self, name: &str) -> String {
        match self {
            Level::Endpoint => name.to_owned(),
            level => format!("{}:{name}", level.name()),
        }
    }

    /// Splits a level prefix off a field name as criteria and records write it
    /// (`site:Name`, `company:Name`, `endpoint:Name`; case-insensitive).
    ///
    /// ```
    /// use cohort_syntax::Level;
    /// assert_eq!(Level::split("Site:Exclude Windows 11"), (Some(Level::Site), "Exclude Windows 11"));
    /// assert_eq!(Level::split("OS"), (None, "OS"));
    /// ```
    pub fn split(field: &str) -> (Option<Level>, &str) {
        if let Some((prefix, rest)) = field.split_once(':') {
            for level in Level::ALL {
                if prefix.trim().eq_ignore_ascii_case(level.name()) {
                    return (Some(level), rest.trim_start());
                }
            }
        }
        (None, field)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
