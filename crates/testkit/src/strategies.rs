//! proptest strategies: groups and machines drawn from one small vocabulary, so that
//! generated criteria often match generated machines.

use cohort_syntax::{Criterion, Expr, GroupDef, Literal, Loc, Op, Operator};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Field names used by generated groups and machines.
pub const FIELDS: [&str; 6] = [
    "OS",
    "Agent Version",
    "Free Disk %",
    "Last Seen",
    "Tags",
    "Ünïcode Fïeld",
];

/// Texts used as attribute values and as literals.
pub const TEXTS: [&str; 20] = [
    "Windows",
    "windows 10",
    "Microsoft Windows 11 Pro",
    "Server",
    "ÉTÉ",
    "été",
    "Not Available",
    "",
    "  ",
    "10",
    "10.0",
    "5.0",
    "2024.1.0",
    "2023.12.7",
    "2026-11-01",
    "2026-11-24T12:00:00Z",
    "true",
    "ΣΑΣ",
    "Kelvin \u{212A}",
    "a\"b\\c",
];

/// The evaluation time used with generated machines: 2026-11-25T00:00:00Z.
pub const NOW: i64 = 1_795_564_800_000;

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(&TEXTS[..]).prop_map(str::to_owned)
}

fn non_empty_text() -> impl Strategy<Value = String> {
    text().prop_filter("a value", |t| !t.is_empty())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::String),
        1 => prop::sample::select(&[0.0, 5.0, 10.0, 10.5, -3.0, 2024.0][..]).prop_map(|n| json!(n)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

fn attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => scalar(),
        2 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
        1 => Just(json!({"nested": "object"})),
    ]
}

/// One attribute value as [`machine`] draws them: a scalar, a list, null or an object.
pub fn machine_value() -> impl Strategy<Value = Value> {
    attribute()
}

/// A machine: some of [`FIELDS`], each with a scalar, a list, null or an object.
pub fn machine() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(prop::option::weighted(0.7, attribute()), FIELDS.len()).prop_map(
        |values| {
            FIELDS
                .iter()
                .zip(values)
                .filter_map(|(field, value)| Some(((*field).to_owned(), value?)))
                .collect()
        },
    )
}

fn literals(texts: Vec<String>) -> Vec<Literal> {
    texts.into_iter().map(Literal::new).collect()
}

fn values_for(operator: Operator) -> BoxedStrategy<Vec<Literal>> {
    let texts = |range: std::ops::Range<usize>| {
        prop::collection::vec(non_empty_text(), range)
            .prop_map(literals)
            .boxed()
    };
    let pick = |options: &'static [&'static str]| {
        prop::sample::select(options)
            .prop_map(|t| vec![Literal::new(t)])
            .boxed()
    };
    match operator {
        Operator::Equal => text().prop_map(|t| vec![Literal::new(t)]).boxed(),
        Operator::IsAnyOf => prop::collection::vec(text(), 1..12)
            .prop_map(literals)
            .boxed(),
        Operator::ContainsAnyOf => texts(1..5),
        Operator::ContainsAllOf | Operator::StartsWith | Operator::EndsWith => texts(1..3),
        Operator::Matches => prop::collection::vec(
            prop::sample::select(&["^win", "\\d+", "server$", "été", "^$", "^\\s*$", "[ΣK]"][..]),
            1..3,
        )
        .prop_map(|p| p.into_iter().map(Literal::new).collect())
        .boxed(),
        Operator::GreaterThan
        | Operator::GreaterOrEqual
        | Operator::LessThan
        | Operator::LessOrEqual => pick(&[
            "10",
            "5",
            "0",
            "10.0",
            "2024.1.0",
            "2026-11-01",
            "2026-11-24T12:00:00Z",
        ]),
        Operator::Between => prop::sample::select(
            &[
                ("0", "10"),
                ("5", "5"),
                ("2023.1", "2024.5.0"),
                ("2026-01-01", "2026-12-31"),
                ("10.0", "2024"),
            ][..],
        )
        .prop_map(|(low, high)| vec![Literal::new(low), Literal::new(high)])
        .boxed(),
        Operator::IsBlank => prop::sample::select(&[None, Some("true"), Some("False")][..])
            .prop_map(|flag| flag.map(Literal::new).into_iter().collect())
            .boxed(),
        Operator::WithinLast | Operator::OlderThan => pick(&["1 day", "30 days", "12 hours", "2w"]),
        // Group references are drawn by `with_references`, which knows the group names.
        Operator::MemberOf => pick(&["group 0"]),
    }
}

/// The operators that test a field (every operator but `member of`).
pub fn field_operators() -> Vec<Operator> {
    Operator::ALL
        .into_iter()
        .filter(|op| *op != Operator::MemberOf)
        .collect()
}

/// Adds `member of` / `not member of` criteria to some groups, each naming an earlier group
/// of the list (so there is no cycle): `groups[i]` becomes `all` or `any` of its condition
/// and the reference.
pub fn with_references(groups: Vec<GroupDef>) -> impl Strategy<Value = Vec<GroupDef>> {
    let count = groups.len();
    prop::collection::vec(
        (any::<bool>(), any::<bool>(), any::<bool>(), 0..count.max(1)),
        count,
    )
    .prop_map(move |choices| {
        let mut groups = groups.clone();
        let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
        for (index, (refer, negated, all, target)) in choices.into_iter().enumerate() {
            if !refer || index == 0 {
                continue;
            }
            let Some(group) = groups.get_mut(index) else {
                continue;
            };
            let reference = Expr::Criterion(Criterion {
                field: String::new(),
                op: Op {
                    operator: Operator::MemberOf,
                    negated,
                },
                values: vec![Literal::new(
                    names.get(target % index).cloned().unwrap_or_default(),
                )],
                case_sensitive: false,
                loc: Loc::default(),
                op_loc: Loc::default(),
            });
            let condition = std::mem::replace(&mut group.condition, Expr::all(Vec::new()));
            group.condition = if all {
                Expr::all(vec![condition, reference])
            } else {
                Expr::any(vec![reference, condition])
            };
        }
        groups
    })
}

/// A valid criterion over [`FIELDS`] with any operator, negated or not.
pub fn criterion() -> impl Strategy<Value = Criterion> {
    (
        prop::sample::select(&FIELDS[..]),
        prop::sample::select(field_operators()),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_flat_map(|(field, operator, negated, case_sensitive)| {
            values_for(operator).prop_map(move |values| Criterion {
                case_sensitive,
                ..Criterion::new(field, Op { operator, negated }, values)
            })
        })
}

/// A condition of criteria combined with all/any/not, up to a few levels deep.
pub fn expr() -> impl Strategy<Value = Expr> {
    criterion()
        .prop_map(Expr::Criterion)
        .prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::all),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::any),
                inner.prop_map(Expr::not),
            ]
        })
}

/// A condition shaped as the console's blocks: `any`/`all` of blocks, each `all`/`any` of
/// criteria (at least one block, at least one criterion each).
pub fn blocks() -> impl Strategy<Value = Expr> {
    blocks_of(criterion().boxed())
}

/// Like [`blocks`], with criteria drawn from `criterion`.
pub fn blocks_of(criterion: BoxedStrategy<Criterion>) -> impl Strategy<Value = Expr> {
    let block =
        (any::<bool>(), prop::collection::vec(criterion, 1..4)).prop_map(|(all, criteria)| {
            let items = criteria.into_iter().map(Expr::Criterion).collect();
            if all {
                Expr::all(items)
            } else {
                Expr::any(items)
            }
        });
    (any::<bool>(), prop::collection::vec(block, 1..4)).prop_map(|(any, blocks)| {
        if any {
            Expr::any(blocks)
        } else {
            Expr::all(blocks)
        }
    })
}

/// A group called `name` with the given condition strategy.
pub fn group(
    name: String,
    condition: impl Strategy<Value = Expr>,
) -> impl Strategy<Value = GroupDef> {
    condition.prop_map(move |condition| GroupDef {
        name: name.clone(),
        description: None,
        condition,
        loc: Loc::default(),
    })
}
