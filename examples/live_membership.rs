//! Live membership: an RMM tool keeps the members of every group current as machines report
//! in, and acts on who joined and who left, without re-evaluating the fleet.
//!
//! The tracker is built once over the whole fleet (column by column), then takes changes:
//! a custom field updated by a script, a machine enrolled, a machine retired, the clock moving
//! on. For each change it evaluates only the groups that read a changed field, directly or
//! through `member of`, and returns the join and leave events.
//!
//! ```text
//! cargo run --example live_membership
//! ```

use cohort::{Change, GroupSet, MembershipEvent, MembershipTracker, Timestamp, Value};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let groups = GroupSet::load(root.join("examples/groups"))?;
    let fleet: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/fleet/fleet.json"))?,
    )?;
    let now = Timestamp::parse("2026-11-25T00:00:00Z").ok_or("bad time")?;

    // The fleet as it is: one pass over every machine.
    let ids = fleet.iter().enumerate().map(|(position, machine)| {
        let id = machine
            .get("Hostname")
            .and_then(|v| v.as_str())
            .map_or_else(|| format!("machine-{position}"), str::to_owned);
        (id, machine)
    });
    let mut tracker = MembershipTracker::from_fleet(groups.plan(), ids, now);
    let missing = groups
        .id("BitLocker Key Missing")
        .ok_or("no BitLocker Key Missing group")?;
    println!(
        "{} machines, {} groups; {} in `BitLocker Key Missing`",
        tracker.machine_count(),
        groups.len(),
        tracker.member_count(missing)
    );

    // A script reports that one Windows machine's key backup failed and its key is missing.
    let windows = fleet
        .iter()
        .filter_map(|m| m.get("Hostname")?.as_str())
        .find(|id| !tracker.contains(id, missing))
        .ok_or("no machine outside the group")?
        .to_owned();
    show(
        &groups,
        &format!("{windows}: key backup status -> Not Available"),
        tracker.update(
            &windows,
            [(
                "BitLocker Key Backup Status",
                Some(Value::from("Not Available")),
            )],
        ),
    );

    // A new laptop enrolls.
    let laptop = serde_json::json!({
        "Hostname": "NEW-LT-0001",
        "OS": "Microsoft Windows 11 Pro",
        "Machine Type": "Laptop",
        "Agent Version": "2023.11.2",
        "Free Disk %": 7,
        "Last Seen": "2026-11-24T22:00:00Z",
        "BitLocker Audit": "Enabled",
        "BitLocker Key Backup Status": "Not Available",
    });
    show(
        &groups,
        "NEW-LT-0001 enrolls",
        tracker.upsert("NEW-LT-0001", &laptop),
    );

    // Its agent is upgraded and its disk cleaned up.
    show(
        &groups,
        "NEW-LT-0001: agent upgraded, disk cleaned",
        tracker.update(
            "NEW-LT-0001",
            [
                ("Agent Version", Some(Value::from("2024.3.1"))),
                ("Free Disk %", Some(Value::from(64.0))),
            ],
        ),
    );

    // A field no group reads changes: nothing is evaluated, nothing happens.
    show(
        &groups,
        "NEW-LT-0001: asset tag set (no group reads it)",
        tracker.update("NEW-LT-0001", [("Asset Tag", Some(Value::from("A-1234")))]),
    );

    // Two weeks pass without the laptop checking in.
    let later = Timestamp::parse("2026-12-09T00:00:00Z").ok_or("bad time")?;
    let events = tracker.set_now(later);
    let laptop_events: Vec<MembershipEvent> = events
        .iter()
        .filter(|e| &*e.machine == "NEW-LT-0001")
        .cloned()
        .collect();
    println!(
        "\ntwo weeks later: {} membership changes across the fleet; NEW-LT-0001's:",
        events.len()
    );
    print_events(&groups, &laptop_events);

    // It is retired.
    show(
        &groups,
        "NEW-LT-0001 retired",
        tracker.remove("NEW-LT-0001"),
    );
    Ok(())
}

fn show(groups: &GroupSet, what: &str, events: Vec<MembershipEvent>) {
    println!("\n{what}:");
    print_events(groups, &events);
}

fn print_events(groups: &GroupSet, events: &[MembershipEvent]) {
    if events.is_empty() {
        println!("  (no change)");
    }
    for event in events {
        let verb = match event.change {
            Change::Joined => "joined",
            Change::Left => "left  ",
        };
        println!("  {} {verb} {}", event.machine, groups.name(event.group));
    }
}
