//! Every evaluation path takes the same decisions: groups and machines are built from the
//! input (through `arbitrary`'s `Unstructured`), and the row path (`GroupSet::evaluate`), a
//! machine converted by `Plan::record`, the row fleet, the columnar path (`Plan::columnar`
//! and `ColumnarBuilder`, one and two threads), `explain` and the `MembershipTracker` (after
//! upserts, a field update and a new `now`) must agree on every (machine, group).
#![no_main]

use cohort::engine::syntax::{Criterion, Expr, GroupDef, Literal, Op, Operator};
use cohort::{GroupSet, Timestamp, Value};
use cohort::engine::{ColumnarBuilder};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

type Machine = HashMap<String, Value>;

const FIELDS: [&str; 7] = [
    "OS",
    "Agent Version",
    "Free Disk %",
    "Last Seen",
    "Tags",
    "Ünïcode Fïeld",
    "site:Name",
];

/// Texts that are values of several kinds (numbers, versions, dates, flags, durations,
/// regexes, case and Unicode traps), so that criteria often match machines.
const TEXTS: [&str; 34] = [
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
    "-3",
    "1e3",
    "2024.1.0",
    "2023.12.7",
    "2026-11-01",
    "2026-11-24T12:00:00Z",
    "true",
    "False",
    "ΣΑΣ",
    "Kelvin \u{212A}",
    "a\"b\\c",
    "ß",
    "İ",
    "1 day",
    "30 days",
    "12 hours",
    "2w",
    "^win",
    "\\d+",
    "server$",
    "^\\s*$",
    "[ΣK]",
];

const NUMBERS: [f64; 10] = [
    0.0,
    5.0,
    10.0,
    10.5,
    -3.0,
    2024.0,
    1e3,
    -0.0,
    f64::INFINITY,
    f64::NAN,
];

/// 2026-11-25T00:00:00Z.
const NOW: i64 = 1_795_564_800_000;

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 10)? {
        let raw: &str = u.arbitrary()?;
        Ok(raw.chars().take(16).collect())
    } else {
        Ok((*u.choose(&TEXTS)?).to_owned())
    }
}

/// Values that order: numbers, versions and dates.
const BOUNDS: [&str; 9] = [
    "10",
    "5",
    "0",
    "-3",
    "10.0",
    "2024.1.0",
    "2023.12",
    "2026-11-01",
    "2026-11-24T12:00:00Z",
];
const DURATIONS: [&str; 5] = ["1 day", "30 days", "12 hours", "2w", "90 minutes"];
const FLAGS: [&str; 4] = ["true", "False", "yes", "0"];

/// A value for `operator`: mostly one of the kind it takes, sometimes any text (which the
/// checker may refuse).
fn literal(u: &mut Unstructured<'_>, operator: Operator) -> Result<Literal> {
    let pool: &[&str] = match operator {
        Operator::GreaterThan
        | Operator::GreaterOrEqual
        | Operator::LessThan
        | Operator::LessOrEqual
        | Operator::Between => &BOUNDS,
        Operator::WithinLast | Operator::OlderThan => &DURATIONS,
        Operator::IsBlank => &FLAGS,
        _ => &TEXTS,
    };
    let text = if u.ratio(1, 12)? {
        text(u)?
    } else {
        (*u.choose(pool)?).to_owned()
    };
    Ok(Literal::new(text))
}

fn values(u: &mut Unstructured<'_>, operator: Operator) -> Result<Vec<Literal>> {
    let count = match operator {
        Operator::Between => 2,
        Operator::IsBlank => u.int_in_range(0..=1)?,
        Operator::IsAnyOf | Operator::ContainsAnyOf => u.int_in_range(1..=10)?,
        Operator::ContainsAllOf | Operator::Matches => u.int_in_range(1..=3)?,
        _ => 1,
    };
    (0..count).map(|_| literal(u, operator)).collect()
}

fn criterion(u: &mut Unstructured<'_>, earlier: usize) -> Result<Criterion> {
    let negated = u.arbitrary()?;
    let operator = *u.choose(&Operator::ALL)?;
    if operator == Operator::MemberOf {
        if earlier > 0 {
            let target = u.choose_index(earlier)?;
            let op = Op { operator, negated };
            return Ok(Criterion::new(
                "",
                op,
                vec![Literal::new(format!("g{target}"))],
            ));
        }
        return Ok(Criterion::new(
            "OS",
            Op {
                operator: Operator::IsBlank,
                negated,
            },
            Vec::new(),
        ));
    }
    let field = *u.choose(&FIELDS)?;
    let values = values(u, operator)?;
    Ok(Criterion {
        case_sensitive: u.ratio(1, 5)?,
        ..Criterion::new(field, Op { operator, negated }, values)
    })
}

fn expr(u: &mut Unstructured<'_>, earlier: usize, depth: u32) -> Result<Expr> {
    let kind = if depth >= 3 {
        0
    } else {
        u.int_in_range(0..=5)?
    };
    Ok(match kind {
        0..=2 => Expr::Criterion(criterion(u, earlier)?),
        3 => Expr::all(items(u, earlier, depth)?),
        4 => Expr::any(items(u, earlier, depth)?),
        _ => Expr::not(expr(u, earlier, depth + 1)?),
    })
}

fn items(u: &mut Unstructured<'_>, earlier: usize, depth: u32) -> Result<Vec<Expr>> {
    let count = u.int_in_range(0..=4)?;
    (0..count).map(|_| expr(u, earlier, depth + 1)).collect()
}

fn value(u: &mut Unstructured<'_>, list: bool) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Number(*u.choose(&NUMBERS)?),
        3 if list => Value::Number(u.arbitrary()?),
        4 if !list => {
            let count = u.int_in_range(0..=4)?;
            Value::List((0..count).map(|_| value(u, true)).collect::<Result<_>>()?)
        }
        _ => Value::Text(text(u)?),
    })
}

fn machine(u: &mut Unstructured<'_>) -> Result<Machine> {
    let mut machine = Machine::new();
    for field in FIELDS {
        if u.arbitrary()? {
            machine.insert(field.to_owned(), value(u, false)?);
        }
    }
    Ok(machine)
}

struct Case {
    groups: Vec<GroupDef>,
    machines: Vec<Machine>,
    change: (usize, &'static str, Option<Value>),
    later: i64,
}

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let group_count = u.int_in_range(1..=6)?;
    let groups = (0..group_count)
        .map(|index| {
            Ok(GroupDef {
                name: format!("g{index}"),
                description: None,
                condition: expr(u, index, 0)?,
                loc: Default::default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let machine_count = u.int_in_range(1..=8)?;
    let machines = (0..machine_count)
        .map(|_| machine(u))
        .collect::<Result<Vec<_>>>()?;
    let target = u.choose_index(machines.len())?;
    let field = *u.choose(&FIELDS)?;
    let new_value = if u.arbitrary()? {
        Some(value(u, false)?)
    } else {
        None
    };
    let later = u.int_in_range(0..=60_i64 * 24 * 3_600_000)?;
    Ok(Case {
        groups,
        machines,
        change: (target, field, new_value),
        later,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(Case {
        groups,
        mut machines,
        change,
        later,
    }) = case(&mut Unstructured::new(data))
    else {
        return;
    };
    let Ok(set) = GroupSet::builder().definitions(&groups).build() else {
        return;
    };
    let now = Timestamp::from_unix_millis(NOW);
    let plan = set.plan();
    let fleet = set.evaluate_fleet(&machines, now);
    let columnar = plan.columnar(&machines).evaluate_with_threads(now, 1);
    let mut builder = ColumnarBuilder::new(plan);
    for machine in &machines {
        builder.push(machine);
    }
    let built = builder.finish().evaluate_with_threads(now, 2);
    let mut tracker = set.tracker(now);
    for (position, machine) in machines.iter().enumerate() {
        tracker.upsert(&position.to_string(), machine);
    }
    for (position, machine) in machines.iter().enumerate() {
        let row = set.evaluate(machine, now);
        let from_record = set.evaluate(&plan.record(machine), now);
        for id in plan.group_ids() {
            let name = set.name(id);
            let expected = row.ids().contains(&id);
            let context =
                || format!("group {name} of {groups:#?}\nmachine {position}: {machine:?}");
            assert_eq!(
                from_record.ids().contains(&id),
                expected,
                "record: {}",
                context()
            );
            assert_eq!(
                fleet.members(id).contains(&position),
                expected,
                "fleet: {}",
                context()
            );
            assert_eq!(
                columnar.members(id).contains(position),
                expected,
                "columnar: {}",
                context()
            );
            assert_eq!(
                built.members(id).contains(position),
                expected,
                "builder: {}",
                context()
            );
            assert_eq!(
                tracker.contains(&position.to_string(), id),
                expected,
                "tracker: {}",
                context()
            );
            let explained = set.explain(machine, name, now).map(|e| e.matched);
            assert_eq!(explained, Some(expected), "explain: {}", context());
        }
    }

    // One field of one machine changes, then time passes: the tracker follows both.
    let (target, field, new_value) = change;
    tracker.update(&target.to_string(), [(field, new_value.clone())]);
    if let Some(machine) = machines.get_mut(target) {
        match new_value {
            Some(value) => machine.insert(field.to_owned(), value),
            None => machine.remove(field),
        };
    }
    for now in [now, Timestamp::from_unix_millis(NOW + later)] {
        tracker.set_now(now);
        for (position, machine) in machines.iter().enumerate() {
            let row = set.evaluate(machine, now);
            for id in plan.group_ids() {
                assert_eq!(
                    tracker.contains(&position.to_string(), id),
                    row.ids().contains(&id),
                    "tracker after the change of {field} on machine {target} and at {now:?}: group {} of {groups:#?}\nmachine {position}: {machine:?}",
                    set.name(id)
                );
            }
        }
    }
});
