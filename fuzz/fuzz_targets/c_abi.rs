//! The C ABI (`bindings/c`) never fails with `COHORT_STATUS_INTERNAL` (a panic caught at the
//! boundary) on any input, and every failure leaves its out-parameter NULL and sets a last
//! error. The input is cut at its first `0xFF` byte (never valid UTF-8, so also tried as a
//! string on its own) into definitions and machines; each part is passed as the C string
//! of its bytes up to a NUL, as a C caller would.
#![no_main]

use cohort_c::*;
use libfuzzer_sys::fuzz_target;
use std::ffi::{CStr, CString, c_char};
use std::ptr::{null, null_mut};

/// The C string a caller holding `bytes` would pass: its bytes up to the first NUL.
fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

/// The status is a defined outcome; a failure set the last error and left `out` NULL.
fn checked<T>(status: CohortStatus, out: *mut T) -> bool {
    assert_ne!(status, CohortStatus::Internal, "a panic inside cohort");
    if status == CohortStatus::Ok {
        return true;
    }
    assert!(out.is_null(), "an out-parameter set on failure");
    assert!(!cohort_last_error().is_null(), "a failure without a last error");
    false
}

/// Takes a string the library returned.
fn take(text: *mut c_char) -> String {
    // SAFETY: a string this library returned, read, then freed once.
    let owned = unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { cohort_string_free(text) };
    owned
}

fuzz_target!(|data: &[u8]| {
    let (definitions, machines) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"[{\"id\": \"a\", \"OS\": \"Windows\"}, {}]"[..]),
    };
    let (definitions, machines) = (c_string(definitions), c_string(machines));
    let mut groups = null_mut();
    // SAFETY: valid C strings and out-parameters throughout; handles freed once.
    unsafe {
        let status = cohort_groups_from_yaml(definitions.as_ptr(), null(), &mut groups);
        if !checked(status, groups) {
            return;
        }
        let mut json = null_mut();
        if checked(cohort_groups_names(groups, &mut json), json) {
            let names: Vec<String> = serde_json::from_str(&take(json)).unwrap_or_default();
            let first = c_string(names.first().map_or(&b"G"[..], |n| n.as_bytes()));
            let status = cohort_explain(groups, machines.as_ptr(), first.as_ptr(), null(), &mut json);
            if checked(status, json) {
                take(json);
            }
            let mut tracker = null_mut();
            if checked(cohort_tracker_new(groups, c"2026-11-25".as_ptr(), &mut tracker), tracker) {
                let status = cohort_tracker_upsert(tracker, c"m".as_ptr(), machines.as_ptr(), &mut json);
                if checked(status, json) {
                    take(json);
                }
                if checked(cohort_tracker_members(tracker, first.as_ptr(), &mut json), json) {
                    take(json);
                }
                if checked(cohort_tracker_set_now(tracker, c"2027-01-01".as_ptr(), &mut json), json) {
                    take(json);
                }
                cohort_tracker_free(tracker);
            }
        }
        let status = cohort_evaluate(groups, machines.as_ptr(), c"2026-11-25".as_ptr(), &mut json);
        if checked(status, json) {
            let result: serde_json::Value = serde_json::from_str(&take(json)).unwrap_or_default();
            assert!(result["machines"].is_u64(), "evaluation JSON without its count");
        }
        let status = cohort_machine_groups(groups, machines.as_ptr(), null(), &mut json);
        if checked(status, json) {
            take(json);
        }
        cohort_groups_free(groups);
    }
});
