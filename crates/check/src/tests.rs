use super::*;
use cohort_syntax::Op;

fn group(name: &str, criteria: Vec<Criterion>) -> GroupDef {
    GroupDef {
        name: name.to_owned(),
        description: None,
        condition: Expr::any(vec![Expr::all(
            criteria.into_iter().map(Expr::Criterion).collect(),
        )]),
        loc: Loc::default(),
    }
}

fn criterion(op: &str, values: &[&str]) -> Criterion {
    Criterion::new(
        "Field",
        Op::from_phrase(op).unwrap(),
        values.iter().map(|v| Literal::new(*v)).collect(),
    )
}

#[track_caller]
fn error_of(op: &str, values: &[&str]) -> String {
    let errors = check(&[group("G", vec![criterion(op, values)])]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].group, "G");
    assert_eq!(
        errors[0].criterion.as_deref(),
        Some("block 1, criterion 1 (`Field`)")
    );
    errors[0].to_string()
}

#[track_caller]
fn predicate_of(op: &str, values: &[&str]) -> Predicate {
    let checked = check(&[group("G", vec![criterion(op, values)])]).unwrap();
    let Condition::Any(blocks) = &checked.groups[0].condition else {
        panic!()
    };
    let Condition::All(items) = &blocks[0] else {
        panic!()
    };
    let Condition::Predicate(predicate) = &items[0] else {
        panic!()
    };
    predicate.clone()
}

#[test]
fn arity_is_checked_for_every_operator() {
    assert_eq!(
        error_of("equal", &["a", "b"]),
        "`equal` takes exactly one value, found 2"
    );
    assert_eq!(
        error_of("contains any of", &[]),
        "`contains any of` takes one or more values, found 0"
    );
    assert_eq!(
        error_of("between", &["1"]),
        "`between` takes exactly two values (lower and upper bound), found 1"
    );
    assert_eq!(
        error_of("is blank", &["true", "false"]),
        "`is blank` takes no value, or one of `true` / `false`, found 2"
    );
    assert_eq!(
        error_of("within last", &[]),
        "`within last` takes exactly one value, found 0"
    );
}

#[test]
fn equal_with_several_values_suggests_is_any_of() {
    let errors = check(&[group("G", vec![criterion("not equal", &["a", "b"])])]).unwrap_err();
    assert_eq!(
        errors[0].help().as_deref(),
        Some("to compare with several values use `is none of`")
    );
}

#[test]
fn literals_are_interpreted_by_operator() {
    assert_eq!(
        error_of(">", &["recent"]),
        "`greater than` compares numbers, dates and versions, but `recent` is none of these"
    );
    assert_eq!(
        error_of("between", &["1", "2024-01-01"]),
        "the bounds `1` and `2024-01-01` of `between` are not of one kind (number, date or version)"
    );
    assert!(
        error_of("matches", &["(unclosed"]).starts_with("invalid regular expression `(unclosed`")
    );
    assert_eq!(
        error_of("within last", &["soon"]),
        "`within last` takes a duration such as `30 days` or `12 hours`, found `soon`"
    );
    assert_eq!(
        error_of("is blank", &["maybe"]),
        "`is blank` takes no value or `true`/`false`, found `maybe`"
    );
    assert_eq!(
        error_of("contains any of", &["a", ""]),
        "`contains any of` with an empty value would match every text"
    );
}

#[test]
fn oversized_regexes_are_rejected_with_the_limit() {
    let message = error_of("matches", &["(\\w{100}){100}"]);
    assert!(
        message.contains("more than the limit of 1048576 bytes"),
        "{message}"
    );
}

#[test]
fn is_blank_flag_turns_into_negation() {
    assert!(!predicate_of("is blank", &[]).negated);
    assert!(!predicate_of("is blank", &["True"]).negated);
    assert!(predicate_of("is blank", &["False"]).negated);
    assert!(!predicate_of("is not blank", &["False"]).negated);
}

#[test]
fn values_are_folded_unless_case_sensitive() {
    let Test::Contains { needles, all } = predicate_of("contains all of", &["Windows", "ÉTÉ"]).test
    else {
        panic!()
    };
    assert_eq!(needles, ["windows", "été"]);
    assert!(all);
    let mut sensitive = criterion("starts with", &["Windows"]);
    sensitive.case_sensitive = true;
    let checked = check(&[group("G", vec![sensitive])]).unwrap();
    let Condition::Any(blocks) = &checked.groups[0].condition else {
        panic!()
    };
    let Condition::All(items) = &blocks[0] else {
        panic!()
    };
    let Condition::Predicate(p) = &items[0] else {
        panic!()
    };
    assert!(matches!(&p.test, Test::StartsWith(v) if v == &["Windows"]));
    assert_eq!(&*p.text, "Field starts with Windows (case-sensitive)");
}

#[test]
fn comparison_bounds_read_every_way_they_can() {
    let Test::Compare { bound, ordering } = predicate_of(">=", &["10.5"]).test else {
        panic!()
    };
    assert_eq!(ordering, Comparison::GreaterOrEqual);
    assert_eq!(bound.number, Some(10.5));
    assert!(bound.version.is_some());
    assert_eq!(bound.date, None);
}

#[test]
fn duplicate_group_names_are_errors_and_every_error_is_reported() {
    let groups = [
        group("A", vec![criterion("equal", &["x"])]),
        group("A", vec![criterion("equal", &["y"])]),
        group(
            "B",
            vec![criterion(">", &["x"]), criterion("within last", &["x"])],
        ),
    ];
    let errors = check(&groups).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[0], "group `A` is defined twice");
    assert!(errors[0].related_loc().is_some());
    assert_eq!(
        errors[2].criterion.as_deref(),
        Some("block 1, criterion 2 (`Field`)")
    );
}

fn member_of(name: &str, negated: bool) -> Criterion {
    Criterion::new(
        "",
        Op {
            operator: Operator::MemberOf,
            negated,
        },
        vec![Literal::new(name)],
    )
}

#[test]
fn member_of_resolves_groups_and_orders_them_dependencies_first() {
    let groups = [
        group(
            "Backup",
            vec![member_of("Audit", false), criterion("equal", &["x"])],
        ),
        group("Not Audited", vec![member_of("Audit", true)]),
        group("Audit", vec![criterion("equal", &["on"])]),
    ];
    let checked = check(&groups).unwrap();
    assert_eq!(checked.evaluation_order, [2, 0, 1]);
    let Condition::Any(blocks) = &checked.groups[1].condition else {
        panic!("blocks")
    };
    let Condition::All(items) = &blocks[0] else {
        panic!("block")
    };
    let Condition::Member(member) = &items[0] else {
        panic!("member of")
    };
    assert_eq!(
        (member.group, member.negated, member.name.as_str()),
        (2, true, "Audit")
    );
}

#[test]
fn member_of_a_missing_group_is_an_error_with_the_nearest_name() {
    let errors = check(&[
        group("Audit Enabled", vec![criterion("equal", &["on"])]),
        group("Backup", vec![member_of("Audit Enabeld", false)]),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "`member of` names `Audit Enabeld`, but no group is called that"
    );
    assert_eq!(
        errors[0].help().as_deref(),
        Some("did you mean `Audit Enabled`?")
    );
    assert_eq!(errors[0].group, "Backup");
}

#[test]
fn a_cycle_of_references_is_one_error_that_names_every_group_in_it() {
    let errors = check(&[
        group("A", vec![member_of("B", false)]),
        group("B", vec![member_of("C", true)]),
        group("C", vec![member_of("A", false)]),
        group("Self", vec![member_of("Self", false)]),
        group("Fine", vec![member_of("A", false)]),
    ])
    .unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "groups reference each other in a cycle: `A` -> `B` -> `C` -> `A`",
            "groups reference each other in a cycle: `Self` -> `Self`",
        ]
    );
    assert_eq!(errors[0].group, "C");
}

#[test]
fn member_of_takes_one_group_and_no_field() {
    let mut with_field = member_of("A", false);
    with_field.field = "Group".into();
    let errors = check(&[
        group("A", vec![criterion("equal", &["x"])]),
        group("B", vec![with_field]),
    ])
    .unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "`member of` takes a group name, not a field: found field `Group`"
    );
}
