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

#[test]
fn group_names_that_differ_only_in_case_are_errors() {
    let groups = [
        group("Servers", vec![criterion("equal", &["x"])]),
        group("servers", vec![criterion("equal", &["y"])]),
        group("SERVERS", vec![criterion("equal", &["z"])]),
        group("Servers 2", vec![criterion("equal", &["w"])]),
    ];
    let errors = check(&groups).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "group `servers` differs only in case from group `Servers`",
            "group `SERVERS` differs only in case from group `Servers`",
        ]
    );
    assert_eq!(errors[0].group, "servers");
    assert!(errors[0].related_loc().is_some());
    // Non-ASCII names fold too.
    let groups = [
        group("Équipe", vec![criterion("equal", &["x"])]),
        group("équipe", vec![criterion("equal", &["y"])]),
    ];
    assert_eq!(check(&groups).unwrap_err().len(), 1);
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

/// Every criterion is held to the text parser's limit on values, whatever its form: here a
/// syntax tree built directly, as the YAML map form builds it.
#[test]
fn criteria_with_too_many_values_are_refused_with_the_limit() {
    assert_eq!(max_values(), cohort_syntax::Limits::default().max_values);
    let values: Vec<String> = (0..20_000).map(|i| format!("v{i}")).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    for op in ["is any of", "contains any of", "matches", "member of"] {
        let errors = check(&[group("G", vec![criterion(op, &values)])]).unwrap_err();
        assert_eq!(errors.len(), 1, "{op}: {errors:?}");
        assert!(matches!(
            errors[0].kind,
            CheckErrorKind::TooManyValues { found: 20_000, limit } if limit == max_values()
        ));
        assert_eq!(errors[0].group, "G");
        assert_eq!(
            errors[0].criterion.as_deref(),
            Some("block 1, criterion 1 (`Field`)")
        );
        assert_eq!(
            errors[0].to_string(),
            "criterion lists 20000 values, more than the limit of 10000 values per criterion"
        );
    }
    let at_limit = &values[..max_values()];
    assert!(check(&[group("G", vec![criterion("is any of", at_limit)])]).is_ok());
}

/// 4,000 `member of` criteria naming missing groups, in a set of 4,000 groups of names of one
/// length: every one is reported, the suggestion budget bounds the comparisons, and the first
/// references still get their suggestion.
#[test]
fn suggestions_for_many_missing_groups_are_bounded() {
    let mut groups: Vec<GroupDef> = (0..4_000)
        .map(|i| group(&format!("Group {i:04}"), vec![criterion("equal", &["x"])]))
        .collect();
    groups.push(group(
        "Referrer",
        (0..4_000)
            .map(|i| member_of(&format!("Gruop {i:04}"), false))
            .collect(),
    ));
    let errors = check(&groups).unwrap_err();
    assert_eq!(errors.len(), 4_000);
    assert!(
        errors
            .iter()
            .all(|e| matches!(e.kind, CheckErrorKind::UnknownGroup { .. }))
    );
    assert_eq!(
        errors[0].help().as_deref(),
        Some("did you mean `Group 0000`?")
    );
    let suggested = errors.iter().filter(|e| e.help().is_some()).count();
    // Each missing name compares at most 4,000 names from a budget of SUGGESTION_BUDGET.
    assert!(suggested >= SUGGESTION_BUDGET / 4_001, "{suggested}");
    assert!(suggested < 4_000, "{suggested}");
}

/// A 100,000-character name gets no suggestion, and one repeated name is compared once.
#[test]
fn long_missing_names_get_no_suggestion() {
    let long = "G".repeat(100_000);
    let groups = vec![
        group(&long[..99_999], vec![criterion("equal", &["x"])]),
        group(
            "Referrer",
            vec![member_of(&long, false), member_of("Group A", false)],
        ),
        group("Group B", vec![criterion("equal", &["x"])]),
    ];
    let errors = check(&groups).unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].help(), None);
    assert_eq!(errors[1].help().as_deref(), Some("did you mean `Group B`?"));
}

/// Schema suggestions are bounded too: a 100,000-character field name gets none, a typo
/// still gets one.
#[test]
fn schema_suggestions_are_bounded() {
    let field = |name: &str| cohort_syntax::FieldDef {
        name: name.into(),
        kind: cohort_syntax::FieldKind::Text,
        level: cohort_syntax::Level::Endpoint,
        description: None,
        loc: Loc::default(),
    };
    let long = "F".repeat(100_000);
    let schema = cohort_syntax::SchemaDef {
        fields: vec![field(&long[..99_999]), field("Agent Version")],
    };
    let on = |name: &str| {
        let mut c = criterion("equal", &["x"]);
        c.field = name.to_owned();
        c
    };
    let errors = check_with_schema(
        &[group("G", vec![on(&long), on("Agent Verison")])],
        Some(&schema),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(matches!(
        &errors[0].kind,
        CheckErrorKind::UnknownField {
            suggestion: None,
            ..
        }
    ));
    assert_eq!(
        errors[1].help().as_deref(),
        Some("did you mean `Agent Version`?")
    );
}

/// 5,000 small case-insensitive counted repetitions of a Unicode class (each about 1 MiB
/// compiled) exceed the set's regex budget: the first few compile, every later one is a
/// located error that names the budget, the group and the criterion.
#[test]
fn a_set_of_regexes_past_the_budget_is_refused() {
    let groups: Vec<GroupDef> = (0..5_000)
        .map(|i| {
            group(
                &format!("G{i}"),
                vec![criterion("matches", &[&format!("\\w{{20}}x{i}")])],
            )
        })
        .collect();
    let errors = check(&groups).unwrap_err();
    assert!(errors.len() > 4_900, "{}", errors.len());
    assert!(errors.len() < 5_000, "{}", errors.len());
    for error in &errors {
        assert!(
            matches!(&error.kind, CheckErrorKind::RegexBudget { limit, .. } if *limit == REGEX_SET_BUDGET),
            "{error}"
        );
        assert_eq!(
            error.criterion.as_deref(),
            Some("block 1, criterion 1 (`Field`)")
        );
    }
    let last = errors.last().unwrap();
    assert_eq!(last.group, "G4999");
    assert_eq!(
        last.to_string(),
        "regular expression `\\w{20}x4999` would take the regexes of the group set past their limit of 67108864 bytes (64 MiB), compiled and matching"
    );
    assert!(last.help().unwrap().contains("ASCII classes"));
}

/// A set within the budget compiles, matches as the `regex` crate does (case folded with
/// Unicode unless case-sensitive); a pattern written again is compiled once but its
/// matching caches are charged for each criterion.
#[test]
fn a_set_of_regexes_within_the_budget_compiles_and_matches() {
    let regex_of = |predicate: Predicate| {
        let Test::Matches(regexes) = predicate.test else {
            panic!()
        };
        regexes.into_iter().next().unwrap()
    };
    let mut groups: Vec<GroupDef> = (0..2_000)
        .map(|i| {
            group(
                &format!("G{i}"),
                vec![criterion("matches", &[&format!("^ws-{i:04}$")])],
            )
        })
        .collect();
    groups.extend((0..3).map(|i| {
        group(
            &format!("Large {i}"),
            vec![criterion("matches", &["\\w{20}x0"])],
        )
    }));
    let checked = check(&groups).unwrap();
    assert_eq!(checked.groups.len(), 2_003);
    let many_times: Vec<GroupDef> = (0..100)
        .map(|i| {
            group(
                &format!("Large {i}"),
                vec![criterion("matches", &["\\w{20}x0"])],
            )
        })
        .collect();
    let errors = check(&many_times).unwrap_err();
    assert!(errors.len() > 80, "{}", errors.len());
    let unicode = regex_of(predicate_of("matches", &["^été\\s+\\w{3}$"]));
    assert!(unicode.is_match("ÉTÉ   Año"));
    assert!(!unicode.is_match("ETE Ano!"));
    let mut sensitive = criterion("matches", &["^Été"]);
    sensitive.case_sensitive = true;
    let checked = check(&[group("G", vec![sensitive])]).unwrap();
    let Condition::Any(blocks) = &checked.groups[0].condition else {
        panic!()
    };
    let Condition::All(items) = &blocks[0] else {
        panic!()
    };
    let Condition::Predicate(predicate) = &items[0] else {
        panic!()
    };
    let regex = regex_of(predicate.clone());
    assert!(regex.is_match("Été"));
    assert!(!regex.is_match("été"));
    assert_eq!(regex.as_str(), "^Été");
    assert!(regex.cost() < REGEX_SET_BUDGET / 1_000, "{}", regex.cost());
}

#[track_caller]
fn help_of(op: &str, values: &[&str]) -> Option<String> {
    let errors = check(&[group("G", vec![criterion(op, values)])]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].help()
}

#[test]
fn reversed_between_bounds_are_errors_with_the_swapped_criterion_as_hint() {
    assert_eq!(
        error_of("between", &["100", "90"]),
        "the lower bound `100` of `between` is greater than its upper bound `90`, so no value lies between them"
    );
    assert_eq!(
        help_of("between", &["100", "90"]).as_deref(),
        Some("did you mean `between 90 and 100`?")
    );
    assert_eq!(
        help_of("not between", &["2026-01-01", "2025-01-01"]).as_deref(),
        Some("did you mean `not between 2025-01-01 and 2026-01-01`?")
    );
    assert_eq!(
        help_of("between", &["10.0.10", "10.0.9"]).as_deref(),
        Some("did you mean `between 10.0.9 and 10.0.10`?")
    );
    // Compared exactly, as attributes are: these differ only past a float's precision.
    assert!(error_of("between", &["9007199254740993", "9007199254740992"]).contains("greater"));
    // Equal bounds and bounds in order are fine; so are `10` and a version (one kind), and
    // bounds reversed as numbers but in order as versions (`10.7.1` lies between them).
    for bounds in [
        ["5", "5"],
        ["90", "100"],
        ["-1", "1e3"],
        ["10", "10.0.5"],
        ["9007199254740992", "9007199254740993"],
        ["10.5", "10.10"],
    ] {
        let _ = predicate_of("between", &bounds);
    }
}

#[test]
fn empty_text_values_are_errors_with_a_hint() {
    for op in [
        "contains any of",
        "does not contain",
        "starts with",
        "ends with",
    ] {
        assert_eq!(
            help_of(op, &[""]).as_deref(),
            Some("to test for an empty attribute use `is blank`"),
            "{op}"
        );
    }
}

#[test]
fn dotless_values_read_as_numbers_and_versions() {
    let Test::Compare { bound, .. } = predicate_of(">=", &["10"]).test else {
        panic!()
    };
    assert_eq!(bound.number, Some(10.0));
    assert!(bound.version.is_some());
    let Test::Compare { bound, .. } = predicate_of(">", &["v2"]).test else {
        panic!()
    };
    assert_eq!(bound.number, None);
    assert!(bound.version.is_some());
}

/// A group name with a line break or a tab would break every line that names it (tables,
/// lint and test output, CI logs): it is an error, shown escaped.
#[test]
fn group_names_with_control_characters_are_errors() {
    let group = |name: &str| GroupDef {
        name: name.into(),
        description: None,
        condition: Expr::Criterion(Criterion::new(
            "OS",
            Op::positive(Operator::Equal),
            vec![Literal::new("Linux")],
        )),
        loc: Loc::default(),
    };
    let errors =
        crate::check(&[group("A\nok: all good"), group("B\tC"), group("Fine")]).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages,
        [
            "group name \"A\\nok: all good\" holds a control character",
            "group name \"B\\tC\" holds a control character"
        ]
    );
    assert!(
        errors
            .iter()
            .all(|e| e.help().is_some_and(|h| h.contains("one line")))
    );
    assert!(!messages.iter().any(|m| m.contains('\n')));
}
