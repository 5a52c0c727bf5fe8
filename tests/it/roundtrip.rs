//! Print → load round trips of the YAML form: for generated syntax trees (any Unicode in
//! names, fields and values, quotes, escapes, every operator), loading the printed YAML gives
//! back the same tree, and printing is a fixed point.

use cohort::syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
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
        let yaml = cohort_load::to_yaml(&groups).unwrap();
        let loaded = load(&yaml);
        prop_assert_eq!(&loaded, &groups, "{}", yaml);
        prop_assert_eq!(cohort_load::to_yaml(&loaded).unwrap(), yaml);
    }
}

#[test]
fn groups_that_are_not_block_shaped_are_refused() {
    let criterion = Expr::Criterion(Criterion::new("a", Op::positive(Operator::IsBlank), vec![]));
    let group = GroupDef {
        name: "N".into(),
        description: None,
        condition: Expr::not(criterion),
        loc: Loc::default(),
    };
    let error = cohort_load::to_yaml(&[group]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "group `N` is not a list of blocks of criteria, so it has no YAML block form"
    );
}
