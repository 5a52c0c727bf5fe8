//! Reading JSON machines files never panics; the streaming reader (`cohort schema infer`)
//! accepts exactly what the whole-file reader (`cohort explain`) accepts, with the same
//! count; and the fast reader (`cohort eval`), where it accepts the file too, gives the same
//! ids and members on one thread and on three.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = cohort_cli::fuzzing::read_machines(data, "json");
    let streamed = cohort_cli::fuzzing::stream_machines(data);
    match (&whole, &streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the two readers count alike"),
        (Err(a), Err(b)) => assert!(!a.is_empty() && !b.is_empty()),
        _ => panic!("the readers disagree: whole {whole:?}, streamed {streamed:?}"),
    }
    assert_eq!(
        cohort_cli::fuzzing::read_machines(data, "ndjson").ok(),
        whole.ok(),
        "`ndjson` reads as `json`"
    );
    if let Err(disagreement) = cohort_cli::fuzzing::fast_and_whole_agree(data, "json") {
        panic!("{disagreement}");
    }
});
