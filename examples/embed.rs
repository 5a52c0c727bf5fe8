//! An RMM tool embedding cohort with its own machine type.
//!
//! The tool keeps machines in its own struct, with its own custom-field store. It implements
//! `cohort::Machine` for that struct, so cohort reads attributes in place: nothing is copied
//! into cohort's types. Groups are loaded, checked and compiled once, then evaluated for each
//! machine that reports in, with an explanation when someone asks why.
//!
//! ```text
//! cargo run --example embed
//! ```

use cohort::{Attr, GroupSet, Machine, Timestamp};
use std::collections::HashMap;

/// The RMM tool's own record of an endpoint.
struct Endpoint {
    id: u32,
    hostname: String,
    os: String,
    agent_version: String,
    free_disk_percent: f32,
    last_seen: String,
    pending_reboot: bool,
    installed_software: Vec<String>,
    /// Custom fields as the tool stores them: by name, as text.
    custom_fields: HashMap<String, String>,
}

impl Machine for Endpoint {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        match field {
            "Hostname" => Some(Attr::Text(&self.hostname)),
            "OS" => Some(Attr::Text(&self.os)),
            "Agent Version" => Some(Attr::Text(&self.agent_version)),
            "Free Disk %" => Some(Attr::Number(f64::from(self.free_disk_percent))),
            "Last Seen" => Some(Attr::Text(&self.last_seen)),
            "Pending Reboot" => Some(Attr::Bool(self.pending_reboot)),
            "Installed Software" => Some(Attr::List(&self.installed_software)),
            custom => self
                .custom_fields
                .get(custom)
                .map(|value| Attr::Text(value)),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let groups = GroupSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/groups"))?;
    println!("loaded {} groups", groups.len());

    let endpoints = vec![
        Endpoint {
            id: 1,
            hostname: "ACME-WS-0042".into(),
            os: "Microsoft Windows 10 Pro".into(),
            agent_version: "2023.11.2".into(),
            free_disk_percent: 7.5,
            last_seen: "2026-11-24T22:10:00Z".into(),
            pending_reboot: false,
            installed_software: vec!["Google Chrome".into(), "7-Zip 23.01".into()],
            custom_fields: HashMap::from([
                ("BitLocker Key Backup Status".into(), "Not Available".into()),
                ("BitLocker Audit".into(), "Enabled".into()),
            ]),
        },
        Endpoint {
            id: 2,
            hostname: "DC01".into(),
            os: "Microsoft Windows Server 2022 Datacenter".into(),
            agent_version: "2024.10.5".into(),
            free_disk_percent: 41.0,
            last_seen: "2026-09-01T08:00:00Z".into(),
            pending_reboot: true,
            installed_software: Vec::new(),
            custom_fields: HashMap::from([(
                "BitLocker Key Backup Status".into(),
                "Backed up to AD".into(),
            )]),
        },
    ];

    // The application reads the clock; the library never does.
    let now = Timestamp::parse("2026-11-25T00:00:00Z").ok_or("bad time")?;
    for endpoint in &endpoints {
        let membership = groups.evaluate(endpoint, now);
        let names: Vec<&str> = membership.names().collect();
        println!(
            "endpoint {} ({}): {}",
            endpoint.id,
            endpoint.hostname,
            names.join(", ")
        );
    }

    let why = groups
        .explain(&endpoints[0], "BitLocker Key Missing", now)
        .ok_or("no such group")?;
    print!("\n{why}");

    let fleet = groups.evaluate_fleet(&endpoints, now);
    let missing = groups.id("BitLocker Key Missing").ok_or("no such group")?;
    println!(
        "\nBitLocker Key Missing: {} of {} endpoints",
        fleet.members(missing).len(),
        fleet.machine_count()
    );
    Ok(())
}
