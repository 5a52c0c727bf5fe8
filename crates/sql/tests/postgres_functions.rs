//! cohort's PostgreSQL functions, one by one, against the engine's own code on many inputs:
//! every character's lowercase, random floats' text, random decimals, dates and versions.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cohort_check::literal::{Version, compare_decimal, parse_date, parse_number, write_number};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::cmp::Ordering;

mod support;

use support::postgres as client;

/// `expression` (of a text `v`) for each value, in one query.
fn texts_through(
    client: &mut postgres::Client,
    expression: &str,
    values: &[String],
) -> Vec<Option<String>> {
    let sql = format!(
        "SELECT ({expression})::text FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i"
    );
    client
        .query(&sql, &[&values])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn ordering(o: Ordering) -> String {
    match o {
        Ordering::Less => "-1",
        Ordering::Equal => "0",
        Ordering::Greater => "1",
    }
    .to_owned()
}

#[test]
fn every_characters_lowercase_is_rusts() {
    let Some(mut client) = client() else { return };
    let chars: Vec<String> = (0..=0x10_FFFFu32)
        .filter_map(char::from_u32)
        .filter(|c| *c != '\0')
        .map(String::from)
        .collect();
    for chunk in chars.chunks(50_000) {
        let got = texts_through(&mut client, "cohort.fold(v)", chunk);
        for (text, got) in chunk.iter().zip(got) {
            assert_eq!(
                got.as_deref(),
                Some(text.to_lowercase().as_str()),
                "{:?}",
                text
            );
        }
    }
}

/// Strings of letters, marks and sigmas in every arrangement the final-sigma rule looks at.
fn sigma_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(
        &[
            "Σ", "A", "a", "'", "\u{301}", " ", "ΑΣ", "ς", "İ", "ß", "1", "\u{345}", "ʰ", "Ⅻ", "ǅ",
            ".",
        ][..],
    );
    prop::collection::vec(pieces, 0..8).prop_map(|p| p.concat())
}

fn decimal_text() -> impl Strategy<Value = String> {
    let digits = prop::sample::select(
        &[
            "",
            "0",
            "00",
            "1",
            "9",
            "10",
            "9007199254740993",
            "17976931348623157",
            "000123",
            "5",
        ][..],
    );
    let exponents = prop::sample::select(
        &[
            "",
            "e5",
            "E-3",
            "e+308",
            "e308",
            "e309",
            "e-330",
            "e-324",
            "e-307",
            "e00000000000000000005",
            "e99999999999999",
            "e-",
        ][..],
    );
    let spaces = prop::sample::select(&["", " ", "\t", "\u{a0}", "\u{3000}"][..]);
    (
        spaces.clone(),
        prop::sample::select(&["", "-", "+", "--"][..]),
        digits.clone(),
        prop::sample::select(&["", ".", ".."][..]),
        digits,
        exponents,
        spaces,
    )
        .prop_map(|(a, s, w, d, f, e, b)| format!("{a}{s}{w}{d}{f}{e}{b}"))
}

fn date_text() -> impl Strategy<Value = String> {
    let dates = prop::sample::select(
        &[
            "2024-02-29",
            "2023-02-29",
            "0000-03-01",
            "0000-02-29",
            "9999-12-31",
            "1970-01-01",
            "2024-13-01",
            "2024-1-01",
            "1969-12-31",
        ][..],
    );
    let times = prop::sample::select(
        &[
            "",
            "T10:30",
            "t23:59:60",
            " 00:00:00.5",
            "T10:30:15,123456",
            "T24:00",
            "T10:30:15.",
            "T10",
        ][..],
    );
    let zones = prop::sample::select(
        &[
            "", "Z", "z", "+02", "+0200", "+02:00", "-23:59", "+24", "+02:", "+021", "+02x",
        ][..],
    );
    let spaces = prop::sample::select(&["", " ", "\u{a0}"][..]);
    (spaces.clone(), dates, times, zones, spaces)
        .prop_map(|(a, d, t, z, b)| format!("{a}{d}{t}{z}{b}"))
}

fn version_text() -> impl Strategy<Value = String> {
    let segments = prop::sample::select(
        &[
            "0",
            "00",
            "1",
            "9",
            "10",
            "010",
            "18446744073709551616",
            "x",
            "",
        ][..],
    );
    (
        prop::sample::select(&["", "v", "V", "vv", " "][..]),
        prop::collection::vec(segments, 1..5),
    )
        .prop_map(|(prefix, segments)| format!("{prefix}{}", segments.join(".")))
}

#[test]
fn the_ported_readers_agree_with_the_engine() {
    let Some(mut client) = client() else { return };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut sample = |strategy: &dyn Fn() -> BoxedStrategy<String>, count: usize| -> Vec<String> {
        let strategy = strategy();
        (0..count)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect()
    };
    let sigmas = sample(&|| sigma_text().boxed(), 3000);
    for (text, got) in sigmas
        .iter()
        .zip(texts_through(&mut client, "cohort.fold(v)", &sigmas))
    {
        assert_eq!(got, Some(text.to_lowercase()), "fold {text:?}");
    }

    let decimals = sample(&|| decimal_text().boxed(), 4000);
    for (text, got) in decimals.iter().zip(texts_through(
        &mut client,
        "cohort.parse_number(v)",
        &decimals,
    )) {
        let expected = parse_number(text).map(|n| if n == 0.0 { 0.0 } else { n });
        let got = got.map(|g| g.parse::<f64>().unwrap());
        assert_eq!(got, expected, "parse_number {text:?}");
    }
    let pairs: Vec<String> = decimals
        .chunks(2)
        .filter(|p| p.len() == 2)
        .map(|p| format!("{}\u{1}{}", p[0], p[1]))
        .collect();
    let got = texts_through(
        &mut client,
        "cohort.cmpdec(split_part(v, chr(1), 1), split_part(v, chr(1), 2))",
        &pairs,
    );
    for (pair, got) in pairs.iter().zip(got) {
        let (a, b) = pair.split_once('\u{1}').unwrap();
        assert_eq!(
            got,
            compare_decimal(a, b).map(ordering),
            "compare_decimal {a:?} {b:?}"
        );
    }

    let dates = sample(&|| date_text().boxed(), 3000);
    for (text, got) in dates
        .iter()
        .zip(texts_through(&mut client, "cohort.parse_date(v)", &dates))
    {
        assert_eq!(
            got,
            parse_date(text).map(|d| d.to_string()),
            "parse_date {text:?}"
        );
    }

    let versions = sample(&|| version_text().boxed(), 3000);
    let bounds = ["2024.1.0", "10", "v1.10", "1.18446744073709551615", "0.0.0"];
    for bound in bounds {
        let version = Version::parse(bound).unwrap();
        let sql = format!("cohort.vcmp(to_jsonb(v), '{bound}')");
        for (text, got) in versions
            .iter()
            .zip(texts_through(&mut client, &sql, &versions))
        {
            assert_eq!(
                got,
                version.compare_text(text).map(ordering),
                "version {text:?} vs {bound}"
            );
        }
    }
}

#[test]
fn numbers_are_written_as_the_engine_writes_them() {
    let Some(mut client) = client() else { return };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut numbers: Vec<f64> = vec![
        0.0,
        -0.0,
        1e21,
        1e20,
        999999999999999900000.0,
        1e-6,
        1e-7,
        1.5e-7,
        0.000001,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        123456789.0,
        0.1,
        -2.5,
        9007199254740993.0,
    ];
    let bits = any::<u64>();
    while numbers.len() < 20_000 {
        let n = f64::from_bits(bits.new_tree(&mut runner).unwrap().current());
        if n.is_finite() {
            numbers.push(n);
        }
    }
    let rows = client
        .query("SELECT cohort.number_text(v) FROM unnest($1::float8[]) WITH ORDINALITY AS t(v, i) ORDER BY i", &[&numbers])
        .unwrap();
    for (number, row) in numbers.iter().zip(rows) {
        let mut expected = String::new();
        write_number(*number, &mut expected).unwrap();
        assert_eq!(row.get::<_, String>(0), expected, "{number:e}");
    }
}
