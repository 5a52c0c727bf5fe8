//! Print → load round trips of the YAML form: for generated syntax trees (any Unicode in
//! names, fields and values, quotes, escapes, every operator), loading the printed YAML gives
//! back the same tree, and printing is a fixed point.

use cohort::engine::syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        prop::sample::select(
            &[
                "true", "null", "~", "10.10", "0x1F", "- x", "a: b", "#c", "'q'", "\"d\"", "\\",
                " lead", "trail ", "1e3", ""
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

fn criterion() -> impl Strategy<Value = Criterion> {
    (
        text(),
        prop::sample::select(&Operator::ALL[..]),
        any::<bool>(),
        prop::collection::vec(text(), 0..4),
        any::<bool>(),
    )
        .prop_map(
            |(field, operator, negated, values, case_sensitive)| Criterion {
                case_sensitive,
                ..Criterion::new(
                    field,
                    Op { operator, negated },
                    values.into_iter().map(Literal::new).collect(),
                )
            },
        )
}

fn group() -> impl Strategy<Value = GroupDef> {
    (
        text().prop_filter("a name", |n| !n.trim().is_empty()),
        prop::option::of(text()),
        cohort_testkit::strategies::blocks_of(criterion().boxed()),
    )
        .prop_map(|(name, description, condition)| GroupDef {
            name,
            description,
            condition,
            loc: Loc::default(),
        })
}

fn load(yaml: &str) -> Vec<GroupDef> {
    let mut loader = cohort_load::Loader::new();
    loader.add_str("printed.yaml", yaml);
    let loaded = loader.finish();
    assert!(loaded.errors.is_empty(), "{:?}\n{yaml}", loaded.errors);
    loaded.groups
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loading_printed_yaml_gives_back_the_tree(groups in prop::collection::vec(group(), 1..4)) {
        let yaml = cohort_load::to_yaml(&groups, false).unwrap();
        let loaded = load(&yaml);
        prop_assert_eq!(&loaded, &groups, "{}", yaml);
        prop_assert_eq!(cohort_load::to_yaml(&loaded, false).unwrap(), yaml);
    }
}

#[test]
fn groups_that_are_not_block_shaped_print_as_where() {
    let blank = |field: &str| {
        Expr::Criterion(Criterion::new(
            field,
            Op::positive(Operator::IsBlank),
            vec![],
        ))
    };
    let group = GroupDef {
        name: "N".into(),
        description: None,
        condition: Expr::any(vec![Expr::not(blank("a")), blank("b")]),
        loc: Loc::default(),
    };
    let yaml = cohort_load::to_yaml(std::slice::from_ref(&group), true).unwrap();
    assert_eq!(yaml, "name: N\nwhere: not a is blank or b is blank\n");
    assert_eq!(load(&yaml), [group]);
}

/// Text made of the language's own tokens in odd spellings, so that much of it parses.
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "OS",
            "[Free Disk %]",
            "\"Last Seen\"",
            "Agent Version",
            "Tags",
            "Contains ANY of",
            "=",
            "!=",
            ">=",
            "less  than",
            "is blank",
            "IsBlank",
            "does not contain",
            "between",
            "within last",
            "more than",
            "\"Windows 10\"",
            "10",
            "2024.1.0",
            "30 days",
            "ago",
            "true",
            "x",
            ",",
            "and",
            "or",
            "not",
            "AND",
            "(",
            ")",
            "(case-sensitive)",
            "\n",
            "block 1:\n",
            "block 2:\n",
            "2026-11-01",
        ][..],
    );
    prop::collection::vec(token, 0..14).prop_map(|tokens| tokens.join(" "))
}

/// Conditions for the text round trip: criteria with any text, nested all/any/not, no empty
/// lists (the text form has no way to write an empty `all` or `any`).
fn condition() -> impl Strategy<Value = Expr> {
    criterion()
        .prop_map(Expr::Criterion)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Expr::all),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Expr::any),
                inner.prop_map(Expr::not),
            ]
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn parsing_printed_text_gives_back_the_tree(tree in condition()) {
        let text = cohort::engine::syntax::condition_to_text(&tree);
        let parsed = cohort::engine::syntax::parse_condition(&text)
            .map_err(|e| TestCaseError::fail(format!("{e} at {:?} in:\n{text}", e.span)))?;
        prop_assert_eq!(&parsed, &tree.normalized(), "{}", text);
        prop_assert_eq!(cohort::engine::syntax::condition_to_text(&parsed), text);
    }

    #[test]
    fn parsing_a_printed_criterion_gives_back_the_criterion(c in criterion()) {
        let text = cohort::engine::syntax::criterion_to_text(&c);
        let parsed = cohort::engine::syntax::parse_criterion(&text)
            .map_err(|e| TestCaseError::fail(format!("{e} at {:?} in: {text}", e.span)))?;
        prop_assert_eq!(&parsed, &c, "{}", text);
    }

    #[test]
    fn printing_parsed_text_is_a_fixed_point(text in token_soup()) {
        if let Ok(tree) = cohort::engine::syntax::parse_condition(&text) {
            let printed = cohort::engine::syntax::condition_to_text(&tree);
            let reparsed = cohort::engine::syntax::parse_condition(&printed)
                .map_err(|e| TestCaseError::fail(format!("{e}: {printed}")))?;
            prop_assert_eq!(&reparsed, &tree);
            prop_assert_eq!(cohort::engine::syntax::condition_to_text(&reparsed), printed);
        }
    }

    #[test]
    fn the_parser_never_panics(text in any::<String>()) {
        let _ = cohort::engine::syntax::parse_condition(&text);
        let _ = cohort::engine::syntax::parse_criterion(&text);
    }
}
