//! Every operator on hits, misses, missing and null attributes, blank text, case, lists and
//! values of the wrong type; each row is also checked through the operator's negation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{Plan, Scratch, Timestamp};
use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op};
use serde_json::{Value, json};

/// 2026-11-25T00:00:00Z
const NOW: i64 = 1_795_564_800_000;

fn plan_for(criterion: Criterion) -> Plan {
    let group = GroupDef {
        name: "G".into(),
        description: None,
        condition: Expr::Criterion(criterion),
        loc: Loc::default(),
    };
    let checked = cohort_check::check(&[group]).expect("test criteria are valid");
    Plan::compile(&checked)
}

fn holds(plan: &Plan, machine: &Value) -> bool {
    let mut members = Vec::new();
    plan.evaluate_into(
        machine,
        Timestamp::from_unix_millis(NOW),
        &mut Scratch::new(),
        &mut members,
    );
    !members.is_empty()
}

/// `attr` is the value of field `F`; `Value::Null` inside `missing()` means the key is absent.
#[track_caller]
fn case(phrase: &str, values: &[&str], attr: Option<Value>, expected: bool) {
    case_with(phrase, values, false, attr, expected);
}

#[track_caller]
fn case_with(
    phrase: &str,
    values: &[&str],
    case_sensitive: bool,
    attr: Option<Value>,
    expected: bool,
) {
    let op = Op::from_phrase(phrase).expect("known phrase");
    let machine = match &attr {
        Some(value) => json!({ "F": value }),
        None => json!({}),
    };
    for (op, expected) in [(op, expected), (op.negate(), !expected)] {
        let mut criterion =
            Criterion::new("F", op, values.iter().map(|v| Literal::new(*v)).collect());
        criterion.case_sensitive = case_sensitive;
        let plan = plan_for(criterion);
        assert_eq!(
            holds(&plan, &machine),
            expected,
            "F {} {values:?} on {attr:?}",
            op.phrase()
        );
    }
}

fn some(value: Value) -> Option<Value> {
    Some(value)
}

#[test]
fn equal() {
    case("equal", &["Server"], some(json!("Server")), true);
    case("equal", &["Server"], some(json!("server")), true);
    case_with("equal", &["Server"], true, some(json!("server")), false);
    case("equal", &["Server"], some(json!("Servers")), false);
    case("equal", &["5"], some(json!(5.0)), true);
    case("equal", &["5"], some(json!("5.0")), true);
    case("equal", &["5.5"], some(json!(5)), false);
    case("equal", &["True"], some(json!(true)), true);
    case("equal", &["x"], None, false);
    case("equal", &["x"], some(Value::Null), false);
    case("equal", &["x"], some(json!(["a", "X"])), true);
    case("equal", &["x"], some(json!([])), false);
    case("equal", &["x"], some(json!({"x": 1})), false);
    case("equal", &[""], some(json!("")), true);
    case("equal", &["ÉTÉ"], some(json!("été")), true);
}

#[test]
fn is_any_of() {
    let many = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "10"];
    case(
        "is any of",
        &["Windows", "Linux"],
        some(json!("linux")),
        true,
    );
    case(
        "is any of",
        &["Windows", "Linux"],
        some(json!("Linux Mint")),
        false,
    );
    case("is any of", &many, some(json!("I")), true);
    case("is any of", &many, some(json!(10)), true);
    case("is any of", &many, some(json!("10.0")), true);
    case("is any of", &many, some(json!("z")), false);
    case("is any of", &many, None, false);
    case("is any of", &["a"], some(json!(["x", "A"])), true);
}

#[test]
fn contains_any_of() {
    case(
        "contains any of",
        &["Not Available"],
        some(json!("Key Not Available")),
        true,
    );
    case(
        "contains any of",
        &["Windows"],
        some(json!("Microsoft WINDOWS 11")),
        true,
    );
    case_with(
        "contains any of",
        &["Windows"],
        true,
        some(json!("Microsoft WINDOWS 11")),
        false,
    );
    case(
        "contains any of",
        &["x", "y", "zz", "w"],
        some(json!("abzzc")),
        true,
    );
    case(
        "contains any of",
        &["x", "y", "zz", "w"],
        some(json!("abzc")),
        false,
    );
    case(
        "contains any of",
        &["Chrome"],
        some(json!(["7-Zip", "Google Chrome"])),
        true,
    );
    case("contains any of", &["Chrome"], some(json!([])), false);
    case("contains any of", &["Chrome"], None, false);
    case("contains any of", &["Chrome"], some(Value::Null), false);
    case("contains any of", &["2"], some(json!(12)), true);
    case("contains any of", &["ru"], some(json!(true)), true);
    case("contains any of", &["é"], some(json!("CAFÉ")), true);
}

#[test]
fn contains_all_of() {
    case(
        "contains all of",
        &["Word", "Excel"],
        some(json!("Word and Excel")),
        true,
    );
    case(
        "contains all of",
        &["Word", "Excel"],
        some(json!("Word")),
        false,
    );
    case(
        "contains all of",
        &["Word", "Excel"],
        some(json!(["Microsoft Word", "Microsoft Excel"])),
        true,
    );
    case(
        "contains all of",
        &["Word", "Excel"],
        some(json!(["Microsoft Word"])),
        false,
    );
    case(
        "contains all of",
        &["Word", "Excel"],
        some(json!(["Word", null, {"o": 1}, "excel"])),
        true,
    );
    case("contains all of", &["Word"], None, false);
    case("contains all of", &["Word"], some(json!([])), false);
}

#[test]
fn starts_and_ends_with() {
    case(
        "starts with",
        &["Microsoft Windows"],
        some(json!("microsoft windows 10")),
        true,
    );
    case(
        "starts with",
        &["Windows"],
        some(json!("Microsoft Windows 10")),
        false,
    );
    case("starts with", &["a", "M"], some(json!("Microsoft")), true);
    case(
        "starts with",
        &["ACME-"],
        some(json!(["GLX-1", "ACME-2"])),
        true,
    );
    case("starts with", &["A"], None, false);
    case("ends with", &["-LT"], some(json!("ACME-0001-lt")), true);
    case_with(
        "ends with",
        &["-LT"],
        true,
        some(json!("ACME-0001-lt")),
        false,
    );
    case("ends with", &["-LT"], some(json!("ACME-LT-1")), false);
    case("ends with", &["5"], some(json!(2.5)), true);
    case("ends with", &["x"], some(Value::Null), false);
}

#[test]
fn matches() {
    case("matches", &["^DC\\d+$"], some(json!("dc01")), true);
    case_with("matches", &["^DC\\d+$"], true, some(json!("dc01")), false);
    case("matches", &["^DC\\d+$"], some(json!("DC01-old")), false);
    case("matches", &["^a", "b$"], some(json!("xb")), true);
    case("matches", &["^\\d+\\.\\d$"], some(json!(10.5)), true);
    case("matches", &["x"], some(json!(["y", "xx"])), true);
    case("matches", &["x"], None, false);
    case("matches", &["^$"], some(json!("")), true);
}

#[test]
fn ordering_on_numbers_dates_and_versions() {
    case("greater than", &["10"], some(json!(10.5)), true);
    case("greater than", &["10"], some(json!("10.5")), true);
    case("greater than", &["10"], some(json!(10)), false);
    case("greater than or equal", &["10"], some(json!(10)), true);
    case("less than", &["10"], some(json!("9")), true);
    case("less than or equal", &["10"], some(json!(11)), false);
    case("less than", &["2024.1.0"], some(json!("2023.11.2")), true);
    case("less than", &["2024.1.0"], some(json!("2024.1")), false);
    case(
        "less than or equal",
        &["2024.1.0"],
        some(json!("2024.1")),
        true,
    );
    case("greater than", &["10.0.9"], some(json!("10.0.10")), true);
    case(
        "greater than",
        &["2026-01-01"],
        some(json!("2026-03-01T10:00:00Z")),
        true,
    );
    case(
        "greater than",
        &["2026-01-01"],
        some(json!("2025-12-31T23:59:59Z")),
        false,
    );
    case(
        "less than",
        &["2026-01-01T00:00:00+01:00"],
        some(json!("2025-12-31T23:30:00Z")),
        false,
    );
    // Values that cannot be read as the bound's kind make the criterion false.
    case("greater than", &["10"], some(json!("ten")), false);
    case("greater than", &["10"], some(json!(true)), false);
    case(
        "greater than",
        &["2026-01-01"],
        some(json!(20260101)),
        false,
    );
    case("greater than", &["10"], None, false);
    case("greater than", &["10"], some(Value::Null), false);
    case("greater than", &["10"], some(json!(["3", "11"])), true);
    case("greater than", &["10"], some(json!(["3", "x"])), false);
    case("greater than", &["10"], some(json!({"n": 11})), false);
}

#[test]
fn between_is_inclusive() {
    case("between", &["90", "100"], some(json!(90)), true);
    case("between", &["90", "100"], some(json!("100")), true);
    case("between", &["90", "100"], some(json!(100.5)), false);
    case(
        "between",
        &["2026-01-01", "2026-12-31"],
        some(json!("2026-06-01")),
        true,
    );
    case(
        "between",
        &["2026-01-01", "2026-12-31"],
        some(json!("2027-01-01")),
        false,
    );
    case(
        "between",
        &["10.0.19041", "10.0.19045"],
        some(json!("10.0.19044.2965")),
        true,
    );
    case("between", &["1", "8"], some(json!("eight")), false);
    case("between", &["1", "8"], None, false);
}

#[test]
fn is_blank() {
    case("is blank", &[], None, true);
    case("is blank", &[], some(Value::Null), true);
    case("is blank", &[], some(json!("")), true);
    case("is blank", &[], some(json!(" \t\n")), true);
    case("is blank", &[], some(json!([])), true);
    case("is blank", &[], some(json!(["", ""])), false);
    case("is blank", &[], some(json!("x")), false);
    case("is blank", &[], some(json!(0)), false);
    case("is blank", &[], some(json!(false)), false);
    case("is blank", &[], some(json!({})), false);
    case("is blank", &["True"], None, true);
    case("is blank", &["False"], None, false);
    case("is blank", &["false"], some(json!("x")), true);
}

#[test]
fn relative_dates_use_the_given_time() {
    case(
        "within last",
        &["30 days"],
        some(json!("2026-11-01T00:00:00Z")),
        true,
    );
    case(
        "within last",
        &["30 days"],
        some(json!("2026-10-26T00:00:00Z")),
        true,
    );
    case(
        "within last",
        &["30 days"],
        some(json!("2026-10-25T23:59:59Z")),
        false,
    );
    case(
        "within last",
        &["24 hours"],
        some(json!("2026-11-24T12:00:00Z")),
        true,
    );
    case("within last", &["1 day"], some(json!("2026-12-01")), true);
    case(
        "older than",
        &["30 days"],
        some(json!("2026-10-25T23:59:59Z")),
        true,
    );
    case(
        "older than",
        &["30 days"],
        some(json!("2026-10-26T00:00:00Z")),
        false,
    );
    case(
        "older than",
        &["30 days"],
        some(json!("last tuesday")),
        false,
    );
    case("older than", &["30 days"], some(json!(0)), false);
    case("older than", &["30 days"], None, false);
    case(
        "within last",
        &["30 days"],
        some(json!(["2020-01-01", "2026-11-20"])),
        true,
    );
}

#[test]
fn predicates_are_shared_across_groups() {
    let yaml_like = |negated: bool, value: &str| {
        let op = Op::from_phrase(if negated {
            "does not contain"
        } else {
            "contains"
        })
        .unwrap();
        Expr::Criterion(Criterion::new("OS", op, vec![Literal::new(value)]))
    };
    let groups: Vec<GroupDef> = (0..10)
        .map(|i| GroupDef {
            name: format!("G{i}"),
            description: None,
            condition: Expr::all(vec![
                yaml_like(i % 2 == 0, "Windows"),
                yaml_like(false, "Pro"),
            ]),
            loc: Loc::default(),
        })
        .collect();
    let plan = Plan::compile(&cohort_check::check(&groups).unwrap());
    assert_eq!(plan.group_count(), 10);
    assert_eq!(plan.predicate_count(), 2);
}
