//! Importing a Markdown group document never panics: every failure carries diagnostics, and
//! the YAML of an accepted document loads back as the one group it names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match cohort::import_markdown("fuzz.md", text) {
            Ok(yaml) => {
                let groups = cohort::GroupSet::from_yaml_str(&yaml)
                    .unwrap_or_else(|error| panic!("imported YAML loads: {error}\n{yaml}"));
                assert_eq!(groups.len(), 1, "{yaml}");
                let machine = std::collections::HashMap::from([
                    ("OS".to_owned(), cohort::Value::from("Windows 10")),
                    ("a".to_owned(), cohort::Value::from(5.0)),
                ]);
                let _ = groups.evaluate(&machine, cohort::Timestamp::UNIX_EPOCH);
            }
            Err(error) => {
                assert!(!error.diagnostics().is_empty());
                for diagnostic in error.diagnostics() {
                    let _ = diagnostic.to_string();
                }
            }
        }
    }
});
