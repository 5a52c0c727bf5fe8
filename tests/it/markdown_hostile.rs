//! Markdown import of hostile or unusual documents: pipes in code spans, CRLF line endings, a
//! byte-order mark, very long tables and the size limit.

use cohort::{GroupSet, Timestamp};

const HEAD: &str = "---\ntitle: 'Servers'\n---\n\n## Group Criteria\n\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n";

#[test]
fn a_pipe_inside_a_code_span_stays_in_the_value() {
    let doc = format!(
        "{HEAD}| 1 | Hostname | Matches regex | `^DC-|^SRV-` |\n| 1 | Site | Equal | `A \\| B` |\n"
    );
    let yaml = cohort::import_markdown("servers.md", &doc).unwrap();
    let groups = GroupSet::from_yaml_str(&yaml).unwrap();
    let now = Timestamp::UNIX_EPOCH;
    for (hostname, member) in [("SRV-01", true), ("DC-02", true), ("WS-03", false)] {
        let machine = serde_json::json!({"Hostname": hostname, "Site": "A | B"});
        assert_eq!(
            groups.evaluate(&machine, now).contains("Servers"),
            member,
            "{hostname}: {yaml}"
        );
    }
}

#[test]
fn errors_in_a_crlf_document_name_the_right_line() {
    // Line 10 holds the bad value; the check stage locates it by byte offset.
    let doc = format!(
        "{HEAD}| 1 | OS | Contains any of | `Windows` |\n| 1 | Agent Version | Less than | `soon` |\n"
    )
    .replace('\n', "\r\n");
    let error = cohort::import_markdown("crlf.md", &doc).unwrap_err();
    let found: Vec<(Option<usize>, Option<&str>)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.line(), d.line_text()))
        .collect();
    assert_eq!(
        found,
        [(Some(10), Some("| 1 | Agent Version | Less than | `soon` |"))]
    );
    // A row the importer cannot read is reported on its line too.
    let doc = format!("{HEAD}| 1 | OS | Contains any of | `Windows` |\n| x | OS | Equal | `a` |\n")
        .replace('\n', "\r\n");
    let error = cohort::import_markdown("crlf.md", &doc).unwrap_err();
    assert_eq!(error.diagnostics()[0].line(), Some(10));
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let doc = format!("\u{feff}{HEAD}| 1 | OS | Contains any of | `Windows` |\n");
    let yaml = cohort::import_markdown("bom.md", &doc).unwrap();
    assert!(yaml.starts_with("name: Servers\n"), "{yaml}");
    let doc =
        format!("\u{feff}{HEAD}| 1 | Agent Version | Less than | `soon` |\n").replace('\n', "\r\n");
    let error = cohort::import_markdown("bom.md", &doc).unwrap_err();
    assert_eq!(error.diagnostics()[0].line(), Some(9));
}

#[test]
fn a_table_of_100_000_rows_imports() {
    let rows = 100_000;
    let mut doc = String::from(HEAD);
    for i in 0..rows {
        doc.push_str(&format!("| {} | Field {i} | Equal | `v{i}` |\n", i + 1));
    }
    doc.push_str("\n**Logic:** A machine matches if it meets ALL criteria in any block.\n");
    let group = cohort_load::import_markdown(&doc).unwrap();
    let criteria: Vec<_> = group.condition.criteria().collect();
    assert_eq!(criteria.len(), rows);
    assert_eq!(
        (
            criteria[0].field.as_str(),
            criteria[0].values[0].text.as_str()
        ),
        ("Field 0", "v0")
    );
    assert_eq!(criteria[rows - 1].field, format!("Field {}", rows - 1));
    let last = criteria[rows - 1].loc.span.unwrap();
    assert_eq!(
        &doc[last.start..last.end],
        format!("| {rows} | Field {} | Equal | `v{}` |", rows - 1, rows - 1)
    );
}

#[test]
fn a_document_over_16_mib_is_refused_naming_the_limit() {
    let mut doc = format!("{HEAD}| 1 | OS | Contains any of | `Windows` |\n");
    doc.push_str(&" ".repeat(16 * 1024 * 1024 + 1 - doc.len()));
    let error = cohort::import_markdown("big.md", &doc).unwrap_err();
    let messages: Vec<&str> = error.diagnostics().iter().map(|d| d.message()).collect();
    assert_eq!(
        messages,
        [
            "the document is 16777217 bytes, over the limit of 16777216 bytes (16 MiB) for a Markdown group document"
        ]
    );
    assert!(cohort::import_markdown("big.md", &doc[..doc.len() - 1]).is_ok());
}
