//! Loading definitions never panics: every failure is an error with diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match cohort::GroupSet::from_yaml_str(text) {
            Ok(groups) => {
                let _ = groups.evaluate(&serde_json_free_machine(), cohort::Timestamp::UNIX_EPOCH);
            }
            Err(error) => assert!(!error.diagnostics().is_empty()),
        }
    }
});

fn serde_json_free_machine() -> std::collections::HashMap<String, cohort::Value> {
    std::collections::HashMap::from([
        ("OS".to_owned(), cohort::Value::from("Windows 10")),
        ("a".to_owned(), cohort::Value::from(5.0)),
    ])
}
