//! The text parser never panics, and whatever it accepts prints and parses back the same.
#![no_main]

use cohort::engine::syntax::{condition_to_text, parse_condition};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(tree) = parse_condition(&text) {
        let printed = condition_to_text(&tree);
        let reparsed = parse_condition(&printed).expect("printed text parses");
        assert_eq!(reparsed, tree.normalized(), "{printed}");
        assert_eq!(condition_to_text(&reparsed), printed);
    }
});
