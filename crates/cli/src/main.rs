//! The `cohort` binary: see `cohort --help`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    use std::io::IsTerminal;
    let terminals = cohort_cli::Terminals {
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    let code = cohort_cli::run_on(
        std::env::args_os(),
        &mut stdout,
        &mut std::io::stderr().lock(),
        terminals,
    );
    if stdout.flush().is_err() && code == cohort_cli::EXIT_OK {
        return ExitCode::from(cohort_cli::EXIT_INVALID);
    }
    ExitCode::from(code)
}
