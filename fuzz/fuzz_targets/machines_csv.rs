//! Reading CSV machines files never panics; a file it accepts has at most one machine per
//! line (an unclosed quote is an error, not rows swallowed into one field); the fast reader
//! (`cohort eval`), where it accepts the file too, gives the same ids and members.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match cohort_cli::fuzzing::read_machines(data, "csv") {
        Ok(count) => {
            let terminators = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
            assert!(
                count <= terminators + 1,
                "{count} machines in {terminators} lines"
            );
        }
        Err(error) => assert!(!error.is_empty()),
    }
    if let Err(disagreement) = cohort_cli::fuzzing::fast_and_whole_agree(data, "csv") {
        panic!("{disagreement}");
    }
    let _ = cohort_cli::fuzzing::read_machines(data, "yaml");
});
