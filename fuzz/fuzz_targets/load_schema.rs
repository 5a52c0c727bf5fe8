//! Reading a field schema never panics: every failure carries diagnostics, and groups checked
//! against an accepted schema load or fail with diagnostics too.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Groups over fields of every type, validated against whatever schema the input declares.
const GROUPS: &str = r#"
groups:
  - name: Windows
    where: "OS contains windows and 'Free Disk %' < 10"
  - name: Old agent
    blocks: [[{field: Agent Version, operator: less than, value: 2024.1.0}]]
  - name: Seen
    blocks: [[{field: Last Seen, operator: within last, value: 30 days}]]
  - name: Excluded
    blocks: [[{field: "site:Exclude Windows 11 Installation", operator: equal, value: "true"}]]
  - name: Tagged
    blocks: [[{field: Tags, operator: contains any of, values: [a, b]}, {field: Antivirus, operator: is any of, values: [Sophos Endpoint]}]]
"#;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match cohort::Schema::from_yaml_str(text) {
            Ok(schema) => {
                for field in schema.fields() {
                    let _ = field.key();
                }
                if let Err(error) = cohort::GroupSet::builder().text("<string>", GROUPS).schema(&schema).build() {
                    assert!(!error.diagnostics().is_empty());
                }
            }
            Err(error) => assert!(!error.diagnostics().is_empty()),
        }
    }
});
