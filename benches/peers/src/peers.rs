//! cohort against peer rule engines, on the same machines and the same rules, in one run.
//!
//! ```text
//! cd benches/peers && cargo bench
//! ```
//!
//! Peers: datalogic-rs 5.4.0 (JSONLogic) and zen-expression 2.1.6 (GoRules ZEN). The rules
//! are drawn from templates that all three express with the same meaning: number
//! comparisons, ranges, case-sensitive equality and substring, a flag, on fields every
//! generated machine has (so JSONLogic's null coercions never come into play). Before
//! anything is timed, the member count of every engine is checked against cohort's.
//!
//! Peers are timed twice: with machines already converted into their own value type, and
//! with that conversion included (an embedder pays it for machines it keeps in its own
//! types). cohort is timed three ways: reading the same `serde_json` maps through its
//! `Machine` trait with no conversion at all (`cohort/row`), on machines converted in advance
//! into its own `Record` (fields by position: the counterpart of the peers' converted
//! values), and with that conversion included.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cohort::engine::Scratch;
use cohort::{Attr, GroupSet, Machine, Timestamp};
use cohort_testkit::fleet::{self, Rng};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datalogic_rs::datavalue::OwnedDataValue;
use datalogic_rs::{DataValue, Engine, bumpalo::Bump};
use serde_json::{Map, Value, json};
use std::hint::black_box;
use std::time::Duration;

const MACHINES: usize = 10_000;
const GROUPS: usize = 100;

/// One rule in the three languages.
struct Rule {
    cohort: String,
    jsonlogic: Value,
    zen: String,
}

/// A criterion template: (cohort text, JSONLogic, ZEN), over the peers' field names.
fn criterion(rng: &mut Rng) -> (String, Value, String) {
    match rng.below(6) {
        0 => {
            let n = 5 + rng.below(40);
            (
                format!("\"Free Disk %\" less than {n}"),
                json!({"<": [{"var": "free_disk"}, n]}),
                format!("free_disk < {n}"),
            )
        }
        1 => {
            let (low, high) = (*rng.pick(&[4, 8]), *rng.pick(&[16, 32, 64]));
            (
                format!("\"RAM GB\" between {low} and {high}"),
                json!({"<=": [low, {"var": "ram"}, high]}),
                format!("ram >= {low} and ram <= {high}"),
            )
        }
        2 => {
            let kind = *rng.pick(&["Server", "Workstation", "Laptop"]);
            (
                format!("\"Machine Type\" equal {kind} (case-sensitive)"),
                json!({"==": [{"var": "machine_type"}, kind]}),
                format!("machine_type == '{kind}'"),
            )
        }
        3 => {
            let part = *rng.pick(&[
                "Windows 10",
                "Windows 11",
                "Server",
                "Ubuntu",
                "Enterprise",
                "Pro",
            ]);
            (
                format!("OS contains \"{part}\" (case-sensitive)"),
                json!({"in": [part, {"var": "os"}]}),
                format!("contains(os, '{part}')"),
            )
        }
        4 => (
            "\"Pending Reboot\" equal true".to_owned(),
            json!({"==": [{"var": "pending_reboot"}, true]}),
            "pending_reboot == true".to_owned(),
        ),
        _ => {
            let n = 60 + rng.below(40);
            (
                format!("\"Patch Compliance %\" greater than or equal {n}"),
                json!({">=": [{"var": "patch"}, n]}),
                format!("patch >= {n}"),
            )
        }
    }
}

fn rules() -> Vec<Rule> {
    let mut rng = Rng::new(7);
    (0..GROUPS)
        .map(|_| {
            let parts: Vec<_> = (0..1 + rng.below(3)).map(|_| criterion(&mut rng)).collect();
            Rule {
                cohort: parts
                    .iter()
                    .map(|p| p.0.clone())
                    .collect::<Vec<_>>()
                    .join(" and "),
                jsonlogic: json!({"and": parts.iter().map(|p| p.1.clone()).collect::<Vec<_>>()}),
                zen: parts
                    .iter()
                    .map(|p| format!("({})", p.2))
                    .collect::<Vec<_>>()
                    .join(" and "),
            }
        })
        .collect()
}

/// The peers' view of a machine: the same values under identifier-friendly names.
fn peer_machine(machine: &Map<String, Value>) -> Value {
    json!({
        "free_disk": machine["Free Disk %"],
        "ram": machine["RAM GB"],
        "machine_type": machine["Machine Type"],
        "os": machine["OS"],
        "pending_reboot": machine["Pending Reboot"],
        "patch": machine["Patch Compliance %"],
    })
}

fn bench(c: &mut Criterion) {
    let machines = fleet::generate(MACHINES, fleet::EXAMPLE_SEED);
    let peer_json: Vec<Value> = machines.iter().map(peer_machine).collect();
    let rules = rules();
    let now = Timestamp::parse(fleet::EXAMPLE_NOW).unwrap();

    // cohort
    let yaml: String = std::iter::once("groups:\n".to_owned())
        .chain(
            rules
                .iter()
                .enumerate()
                .map(|(i, r)| format!("  - name: G{i}\n    where: {:?}\n", r.cohort)),
        )
        .collect();
    let groups = GroupSet::from_yaml_str(&yaml).unwrap();
    // Every engine counts (machine, group) memberships; cohort reads its per-machine group
    // bits (`Plan::memberships`), as the peers read one boolean per rule.
    let cohort_count = |machines: &[Map<String, Value>]| {
        let mut scratch = Scratch::new();
        let mut total = 0;
        for machine in machines {
            total += groups.plan().memberships(machine, now, &mut scratch).len();
        }
        total
    };
    let expected = cohort_count(&machines);
    // cohort's own converted form: each machine as a `Record` of the plan's fields by
    // position (the counterpart of the peers' converted values).
    let records: Vec<cohort::engine::Record> =
        machines.iter().map(|m| groups.plan().record(m)).collect();
    let record_count = |records: &[cohort::engine::Record]| {
        let mut scratch = Scratch::new();
        let mut total = 0;
        for record in records {
            total += groups.plan().memberships(record, now, &mut scratch).len();
        }
        total
    };
    let record_converting = |machines: &[Map<String, Value>]| {
        let mut scratch = Scratch::new();
        let mut total = 0;
        for machine in machines {
            let record = groups.plan().record(machine);
            total += groups.plan().memberships(&record, now, &mut scratch).len();
        }
        total
    };
    assert_eq!(record_count(&records), expected);
    assert_eq!(record_converting(&machines), expected);
    let columns = groups.plan().columnar(&machines);
    let columnar_count = |columns: &cohort::engine::ColumnarFleet<'_>| {
        let bits = columns.evaluate_with_threads(now, 1);
        groups
            .plan()
            .group_ids()
            .map(|id| bits.members(id).count())
            .sum::<usize>()
    };
    assert_eq!(columnar_count(&columns), expected);

    // datalogic-rs: machines converted once into its arena values (`DataValue`), rules
    // evaluated with a results arena reset after each machine.
    let engine = Engine::new();
    let compiled: Vec<_> = rules
        .iter()
        .map(|r| engine.compile(&r.jsonlogic.to_string()).unwrap())
        .collect();
    let data_arena = Bump::new();
    let converted: Vec<&DataValue<'_>> = peer_json
        .iter()
        .map(|m| {
            let owned = OwnedDataValue::from_json(&m.to_string()).unwrap();
            &*data_arena.alloc(owned.to_arena(&data_arena))
        })
        .collect();
    let datalogic_count =
        |results: &mut Bump| datalogic_members(&engine, &compiled, &converted, results);
    let datalogic_converting = |results: &mut Bump, data: &[Map<String, Value>]| {
        let mut total = 0;
        for machine in data {
            let owned = OwnedDataValue::from_json(&peer_machine(machine).to_string()).unwrap();
            let value = &*results.alloc(owned.to_arena(&*results));
            for rule in &compiled {
                if engine.evaluate(rule, value, &*results).unwrap().as_bool() == Some(true) {
                    total += 1;
                }
            }
            results.reset();
        }
        total
    };
    let mut results = Bump::new();
    assert_eq!(
        datalogic_count(&mut results),
        expected,
        "datalogic-rs agrees with cohort"
    );

    // zen-expression
    let mut isolate = zen_expression::Isolate::new();
    let expressions: Vec<_> = rules
        .iter()
        .map(|r| isolate.compile_standard(&r.zen).unwrap())
        .collect();
    let variables: Vec<zen_expression::Variable> = peer_json
        .iter()
        .map(|m| zen_expression::Variable::from(m.clone()))
        .collect();
    let zen_count = |data: &[zen_expression::Variable]| {
        let mut total = 0;
        for machine in data {
            for expression in &expressions {
                if expression.evaluate(machine.clone()).unwrap().as_bool() == Some(true) {
                    total += 1;
                }
            }
        }
        total
    };
    let zen_converting = |data: &[Map<String, Value>]| {
        let mut total = 0;
        for machine in data {
            let variable = zen_expression::Variable::from(peer_machine(machine));
            for expression in &expressions {
                if expression.evaluate(variable.clone()).unwrap().as_bool() == Some(true) {
                    total += 1;
                }
            }
        }
        total
    };
    assert_eq!(
        zen_count(&variables),
        expected,
        "zen-expression agrees with cohort"
    );
    eprintln!("{MACHINES} machines x {GROUPS} groups: {expected} memberships in every engine");

    let mut group = c.benchmark_group("peers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements((MACHINES * GROUPS) as u64));
    group.bench_function("cohort/row", |b| {
        b.iter(|| cohort_count(black_box(&machines)))
    });
    group.bench_function("cohort/row-record", |b| {
        b.iter(|| record_count(black_box(&records)))
    });
    group.bench_function("cohort/row-record-with-conversion", |b| {
        b.iter(|| record_converting(black_box(&machines)))
    });
    group.bench_function("cohort/columnar-one-core", |b| {
        b.iter(|| columnar_count(black_box(&columns)))
    });
    group.bench_function("datalogic-rs/converted", |b| {
        b.iter(|| datalogic_count(&mut results))
    });
    group.bench_function("datalogic-rs/with-conversion", |b| {
        b.iter(|| datalogic_converting(&mut results, black_box(&machines)))
    });
    group.bench_function("zen-expression/converted", |b| {
        b.iter(|| zen_count(black_box(&variables)))
    });
    group.bench_function("zen-expression/with-conversion", |b| {
        b.iter(|| zen_converting(black_box(&machines)))
    });
    group.finish();
}

/// A host's own machine type, as an embedder keeps it: ten fields, read by cohort through
/// [`Machine`] by name (no conversion).
struct Endpoint {
    hostname: String,
    os: String,
    site: String,
    agent_version: String,
    free_disk: f64,
    ram: f64,
    patch: f64,
    pending_reboot: bool,
    software: Vec<String>,
    owner: Option<String>,
}

impl Machine for Endpoint {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        Some(match field {
            "Hostname" => Attr::Text(&self.hostname),
            "OS" => Attr::Text(&self.os),
            "Site" => Attr::Text(&self.site),
            "Agent Version" => Attr::Text(&self.agent_version),
            "Free Disk %" => Attr::Number(self.free_disk),
            "RAM GB" => Attr::Number(self.ram),
            "Patch Compliance %" => Attr::Number(self.patch),
            "Pending Reboot" => Attr::Bool(self.pending_reboot),
            "Installed Software" => Attr::List(&self.software),
            "Owner" => Attr::Text(self.owner.as_deref()?),
            _ => return None,
        })
    }
}

const HOST_OSES: [&str; 8] = [
    "Windows 10 Pro",
    "Windows 10 Enterprise",
    "Windows 11 Pro",
    "Windows 11 Enterprise",
    "Windows Server 2019",
    "Windows Server 2022",
    "Ubuntu 22.04 LTS",
    "macOS 14 Sonoma",
];
const HOST_SITES: [&str; 12] = [
    "HQ",
    "Branch A",
    "Branch B",
    "Branch C",
    "Datacenter",
    "Remote",
    "Lab",
    "Warehouse",
    "Store 1",
    "Store 2",
    "Store 3",
    "Clinic",
];
const HOST_SOFTWARE: [&str; 10] = [
    "Zoom",
    "Slack",
    "Chrome",
    "Firefox",
    "7-Zip",
    "VLC",
    "Office",
    "Teams",
    "Notepad++",
    "TeamViewer",
];

fn endpoints(count: usize) -> Vec<Endpoint> {
    let mut rng = Rng::new(11);
    (0..count)
        .map(|i| Endpoint {
            hostname: format!("HOST-{i:06}"),
            os: (*rng.pick(&HOST_OSES)).to_owned(),
            site: (*rng.pick(&HOST_SITES)).to_owned(),
            agent_version: format!("2024.{}.{}", rng.below(6), rng.below(20)),
            free_disk: rng.below(1000) as f64 / 10.0,
            ram: *rng.pick(&[4.0, 8.0, 16.0, 32.0, 64.0]),
            patch: rng.below(101) as f64,
            pending_reboot: rng.chance(30),
            software: (0..rng.below(6))
                .map(|_| (*rng.pick(&HOST_SOFTWARE)).to_owned())
                .collect(),
            owner: rng.chance(70).then(|| format!("user{}", rng.below(500))),
        })
        .collect()
}

/// The peers' view of an endpoint.
fn endpoint_json(endpoint: &Endpoint) -> Value {
    json!({
        "os": endpoint.os,
        "site": endpoint.site,
        "free_disk": endpoint.free_disk,
        "ram": endpoint.ram,
        "patch": endpoint.patch,
        "pending_reboot": endpoint.pending_reboot,
        "software": endpoint.software,
        "owner": endpoint.owner,
    })
}

/// One criterion of the stranger's workload, in cohort's text form and in JSONLogic.
fn host_criterion(rng: &mut Rng) -> (String, Value) {
    match rng.below(6) {
        0 => {
            let part = *rng.pick(&["Windows 10", "Windows 11", "Server", "Ubuntu", "Pro", "mac"]);
            (
                format!("OS contains \"{part}\" (case-sensitive)"),
                json!({"in": [part, {"var": "os"}]}),
            )
        }
        1 => {
            let first = rng.below(12) as usize;
            let sites = [
                HOST_SITES[first],
                HOST_SITES[(first + 5) % 12],
                HOST_SITES[(first + 7) % 12],
            ];
            (
                format!(
                    "Site is any of \"{}\", \"{}\", \"{}\" (case-sensitive)",
                    sites[0], sites[1], sites[2]
                ),
                json!({"in": [{"var": "site"}, sites]}),
            )
        }
        2 => {
            let n = 5 + rng.below(40);
            (
                format!("\"Free Disk %\" less than {n}"),
                json!({"<": [{"var": "free_disk"}, n]}),
            )
        }
        3 => {
            let (field, var, n) = if rng.chance(50) {
                ("RAM GB", "ram", *rng.pick(&[8, 16, 32]))
            } else {
                ("Patch Compliance %", "patch", 60 + rng.below(40))
            };
            (
                format!("\"{field}\" greater than or equal {n}"),
                json!({">=": [{"var": var}, n]}),
            )
        }
        4 => {
            if rng.chance(50) {
                (
                    "\"Pending Reboot\" equal true".to_owned(),
                    json!({"==": [{"var": "pending_reboot"}, true]}),
                )
            } else {
                ("Owner is blank".to_owned(), json!({"!": {"var": "owner"}}))
            }
        }
        _ => {
            let name = *rng.pick(&HOST_SOFTWARE);
            (
                format!("\"Installed Software\" equal \"{name}\" (case-sensitive)"),
                json!({"in": [name, {"var": "software"}]}),
            )
        }
    }
}

/// 20 groups of 36 criteria in all, mostly one block each (every fifth has two).
fn host_rules() -> (String, Vec<Value>) {
    let mut rng = Rng::new(23);
    let mut yaml = String::from("groups:\n");
    let mut logic = Vec::new();
    let mut criteria = 0;
    let mut block_count = 0;
    for index in 0..HOST_GROUPS {
        let blocks = if index % 5 == 4 { 2 } else { 1 };
        let mut cohort_blocks = Vec::new();
        let mut logic_blocks = Vec::new();
        for _ in 0..blocks {
            // 24 blocks, of two criteria and one criterion in turn: 36 criteria.
            let size = if block_count % 2 == 0 { 2 } else { 1 };
            block_count += 1;
            let parts: Vec<_> = (0..size).map(|_| host_criterion(&mut rng)).collect();
            criteria += parts.len();
            cohort_blocks.push(format!(
                "[{}]",
                parts
                    .iter()
                    .map(|p| format!("{:?}", p.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            logic_blocks
                .push(json!({"and": parts.iter().map(|p| p.1.clone()).collect::<Vec<_>>()}));
        }
        yaml.push_str(&format!(
            "  - name: H{index}\n    blocks: [{}]\n",
            cohort_blocks.join(", ")
        ));
        logic.push(json!({"or": logic_blocks}));
    }
    assert_eq!(criteria, HOST_CRITERIA, "the workload's shape");
    (yaml, logic)
}

const HOST_MACHINES: usize = 100_000;
const HOST_GROUPS: usize = 20;
const HOST_CRITERIA: usize = 36;

/// A stranger's workload: the host's own struct read through `Machine` by name.
fn host_struct(c: &mut Criterion) {
    let endpoints = endpoints(HOST_MACHINES);
    let (yaml, logic) = host_rules();
    let groups = GroupSet::from_yaml_str(&yaml).unwrap();
    let now = Timestamp::UNIX_EPOCH;
    let cohort_count = |endpoints: &[Endpoint]| {
        let mut scratch = Scratch::new();
        let mut total = 0;
        for endpoint in endpoints {
            total += groups.plan().memberships(endpoint, now, &mut scratch).len();
        }
        total
    };
    let expected = cohort_count(&endpoints);
    let engine = Engine::new();
    let compiled: Vec<_> = logic
        .iter()
        .map(|r| engine.compile(&r.to_string()).unwrap())
        .collect();
    let data_arena = Bump::new();
    let converted: Vec<&DataValue<'_>> = endpoints
        .iter()
        .map(|e| {
            let owned = OwnedDataValue::from_json(&endpoint_json(e).to_string()).unwrap();
            &*data_arena.alloc(owned.to_arena(&data_arena))
        })
        .collect();
    let datalogic_count =
        |results: &mut Bump| datalogic_members(&engine, &compiled, &converted, results);
    let mut results = Bump::new();
    assert_eq!(
        datalogic_count(&mut results),
        expected,
        "datalogic-rs agrees with cohort"
    );
    eprintln!(
        "host struct: {HOST_MACHINES} machines x {HOST_GROUPS} groups ({HOST_CRITERIA} criteria): {expected} memberships in both engines"
    );
    let mut group = c.benchmark_group("host-struct");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements((HOST_MACHINES * HOST_GROUPS) as u64));
    group.bench_function("cohort/row-by-name", |b| {
        b.iter(|| cohort_count(black_box(&endpoints)))
    });
    group.bench_function("datalogic-rs/converted", |b| {
        b.iter(|| datalogic_count(&mut results))
    });
    group.finish();
}

/// How many (machine, rule) pairs datalogic-rs finds true, with a results arena reset after
/// each machine.
fn datalogic_members(
    engine: &Engine,
    rules: &[datalogic_rs::Logic],
    machines: &[&DataValue<'_>],
    results: &mut Bump,
) -> usize {
    let mut total = 0;
    for machine in machines {
        for rule in rules {
            if engine
                .evaluate(rule, *machine, &*results)
                .unwrap()
                .as_bool()
                == Some(true)
            {
                total += 1;
            }
        }
        results.reset();
    }
    total
}

criterion_group!(peers, bench, host_struct);
criterion_main!(peers);
