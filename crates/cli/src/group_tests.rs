//! `cohort test`: group unit tests, printed like `cargo test`, with JUnit XML for CI.
//!
//! Exit codes: 0 every test passed, 1 a test failed, 2 the groups or the tests could not be
//! loaded (or the JUnit report could not be written).

use crate::{EXIT_INVALID, EXIT_OK, EXIT_USAGE, Failure, output, parse_now, write};
use cohort::{Expected, GroupSet, GroupTests, TestOutcome, TestReport, Timestamp};
use std::io::Write;
use std::path::PathBuf;

/// `cohort test`'s arguments.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Test files (`*.test.yaml`), or directories read recursively for them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Definition files or directories (several after one flag, or the flag repeated).
    #[arg(long, required = true, num_args = 1..)]
    groups: Vec<PathBuf>,
    /// The evaluation time of tests whose file gives no `now` (RFC 3339); default: now.
    #[arg(long, value_parser = parse_now)]
    now: Option<Timestamp>,
    /// Also write the results as JUnit XML to this file (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// Runs the tests; see the module documentation for the exit codes.
pub(crate) fn run(
    args: &Args,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Failure> {
    let groups = match GroupSet::builder().paths(&args.groups).build() {
        Ok(groups) => groups,
        Err(error) => return problems(stderr, &error, " in the groups"),
    };
    let tests = match GroupTests::load_all(&args.paths) {
        Ok(tests) => tests,
        Err(error) => return problems(stderr, &error, " in the tests"),
    };
    if tests.is_empty() {
        let named: Vec<String> = args
            .paths
            .iter()
            .map(|path| format!("`{}`", path.display()))
            .collect();
        writeln!(
            stderr,
            "error: no tests in {} (a directory is read for `*.test.yaml` and `*.test.yml` files; a file holds `tests:`, a list of tests)",
            named.join(", ")
        )?;
        return Ok(EXIT_USAGE);
    }
    let report = match groups.run_tests(&tests, args.now.unwrap_or_else(Timestamp::now)) {
        Ok(report) => report,
        Err(error) => return problems(stderr, &error, " in the tests"),
    };
    print(stdout, &report)?;
    if let Some(path) = &args.junit {
        let xml = junit(&report);
        if let Err(error) = write::write_safely(path, xml.as_bytes(), write::Target::Create, true) {
            writeln!(stderr, "error: {}: {error}", path.display())?;
            return Ok(EXIT_USAGE);
        }
    }
    Ok(if report.success() {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

/// Prints every diagnostic, then `error: N problem(s) found{where_}`; exit code 2.
fn problems(stderr: &mut dyn Write, error: &cohort::Error, where_: &str) -> Result<u8, Failure> {
    writeln!(stderr, "{error}")?;
    writeln!(
        stderr,
        "{}",
        crate::problems_found(error.diagnostics().len(), where_)
    )?;
    Ok(EXIT_USAGE)
}

/// `file::name`, the test's full name.
fn full_name(outcome: &TestOutcome) -> String {
    format!("{}::{}", outcome.file, outcome.name)
}

/// What a failed expectation was.
fn verdict(expected: Expected, group: &str) -> String {
    match expected {
        Expected::Member => format!("expected to be in `{group}`, but it is not"),
        Expected::NotMember => format!("expected not to be in `{group}`, but it is"),
    }
}

/// The report as `cargo test` prints one.
fn print(out: &mut dyn Write, report: &TestReport) -> std::io::Result<()> {
    writeln!(
        out,
        "running {}",
        output::counted(report.outcomes.len(), "test")
    )?;
    for outcome in &report.outcomes {
        let result = if outcome.passed() { "ok" } else { "FAILED" };
        writeln!(out, "test {} ... {result}", full_name(outcome))?;
    }
    let failed: Vec<&TestOutcome> = report.outcomes.iter().filter(|o| !o.passed()).collect();
    if !failed.is_empty() {
        writeln!(out, "\nfailures:")?;
        for outcome in &failed {
            writeln!(
                out,
                "\n---- {} (line {}) ----",
                full_name(outcome),
                outcome.line
            )?;
            for failure in &outcome.failures {
                writeln!(out, "{}", verdict(failure.expected, &failure.group))?;
                write!(out, "{}", failure.explanation)?;
            }
        }
        writeln!(out, "\nfailures:")?;
        for outcome in &failed {
            writeln!(out, "    {}", full_name(outcome))?;
        }
    }
    writeln!(
        out,
        "\ntest result: {}. {} passed, {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        report.passed(),
        report.failed()
    )
}

/// The report as JUnit XML: one `testsuite` per file, one `testcase` per test, a `failure`
/// with the explanations for each failed test.
fn junit(report: &TestReport) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"cohort test\" tests=\"{}\" failures=\"{}\">\n",
        report.outcomes.len(),
        report.failed()
    ));
    let mut files: Vec<&str> = Vec::new();
    for outcome in &report.outcomes {
        if !files.contains(&outcome.file.as_str()) {
            files.push(&outcome.file);
        }
    }
    for file in files {
        let outcomes: Vec<&TestOutcome> =
            report.outcomes.iter().filter(|o| o.file == file).collect();
        let failed = outcomes.iter().filter(|o| !o.passed()).count();
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n",
            escape(file),
            outcomes.len()
        ));
        for outcome in outcomes {
            let attributes = format!(
                "name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                escape(&outcome.name),
                escape(file),
                escape(file),
                outcome.line
            );
            if outcome.passed() {
                xml.push_str(&format!("    <testcase {attributes}/>\n"));
                continue;
            }
            let message: Vec<String> = outcome
                .failures
                .iter()
                .map(|f| verdict(f.expected, &f.group))
                .collect();
            let details: String = outcome
                .failures
                .iter()
                .map(|f| format!("{}\n{}", verdict(f.expected, &f.group), f.explanation))
                .collect();
            xml.push_str(&format!(
                "    <testcase {attributes}>\n      <failure message=\"{}\" type=\"membership\">{}</failure>\n    </testcase>\n",
                escape(&message.join("; ")),
                escape(&details)
            ));
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// `text` escaped for XML 1.0 text and attribute values: the five special characters as
/// entities, line breaks and tabs as character references (attributes keep them that
/// way), and characters XML 1.0 cannot hold at all (other control characters, U+FFFE,
/// U+FFFF) written visibly as `\u{..}`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_everything_xml_cannot_hold() {
        assert_eq!(
            escape("a<b>&\"c\" 'd'\n\t\u{1b}[31m\u{0}\u{FFFF}é"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;&#10;&#9;\\u{1b}[31m\\u{0}\\u{ffff}é"
        );
    }
}
