//! The lint configuration file: findings allowed where they are intended.
//!
//! ```yaml
//! allow:
//!   - code: L008                 # every finding of this code...
//!     group: Windows 10 Machines # ...in this group (optional: in every group)
//!   - code: L105
//! ```

use crate::{Code, Finding};
use serde::Deserialize;

/// A lint configuration: which findings are allowed.
///
/// ```
/// use cohort_lint::{Code, Config};
///
/// let config = Config::from_yaml_str("allow:\n  - {code: L006, group: Low Disk}\n  - code: l105\n").unwrap();
/// assert_eq!(config.allow.len(), 2);
/// assert_eq!(config.allow[0].code, Code::SubsumedBlock);
/// assert!(config.allows(Code::FleetMostlyBlank, "any group"));
/// assert!(!config.allows(Code::SubsumedBlock, "Other"));
///
/// let error = Config::from_yaml_str("allow:\n  - code: L999\n").unwrap_err();
/// assert!(error.to_string().contains("unknown lint code `L999`"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The allowed findings.
    pub allow: Vec<Allow>,
}

/// One allowed kind of finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    /// The code allowed.
    pub code: Code,
    /// Only in this group (its exact name); `None`: everywhere.
    pub group: Option<String>,
}

/// Why a configuration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`Config::MAX_BYTES`].
    #[error("`{path}` is larger than the limit of {limit} bytes for a lint configuration")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The text is not a configuration.
    #[error("invalid lint configuration: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    code: String,
    #[serde(default)]
    group: Option<String>,
}

impl Config {
    /// The largest configuration file read (1 MiB).
    pub const MAX_BYTES: u64 = 1 << 20;

    /// Reads a configuration from YAML text.
    pub fn from_yaml_str(text: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let file: File =
            serde_yaml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut allow = Vec::with_capacity(file.allow.len());
        for entry in file.allow {
            let code = Code::parse(&entry.code).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "unknown lint code `{}` (codes are L001 to L013 and L101 to L105)",
                    entry.code
                ))
            })?;
            allow.push(Allow {
                code,
                group: entry.group,
            });
        }
        Ok(Config { allow })
    }

    /// Reads a configuration file (a regular file of at most [`Config::MAX_BYTES`]).
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let io = |source| ConfigError::Io {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(ConfigError::Invalid(format!(
                "`{shown}` is not a regular file"
            )));
        }
        let mut text = String::new();
        file.take(Self::MAX_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if u64::try_from(text.len()).unwrap_or(u64::MAX) > Self::MAX_BYTES {
            return Err(ConfigError::TooLarge {
                path: shown,
                limit: Self::MAX_BYTES,
            });
        }
        Self::from_yaml_str(&text)
    }

    /// Whether findings of `code` in `group` are allowed.
    pub fn allows(&self, code: Code, group: &str) -> bool {
        self.allow
            .iter()
            .any(|a| a.code == code && a.group.as_deref().is_none_or(|g| g == group))
    }

    /// The findings not allowed, and how many were.
    pub fn filter(&self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let before = findings.len();
        let kept: Vec<Finding> = findings
            .into_iter()
            .filter(|f| !self.allows(f.code, &f.group))
            .collect();
        let allowed = before - kept.len();
        (kept, allowed)
    }
}
