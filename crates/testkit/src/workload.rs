//! Benchmark workloads: group sets of any size drawn from the example styles.

use crate::fleet::Rng;

/// `count` groups as one YAML document: the seed group "BitLocker Key Missing" first, then
/// groups of one to three criteria drawn from everyday templates (OS, agent version, free
/// disk, last seen, software, machine type, hostname, site, roles, BitLocker status, memory,
/// patch level) with constants varied from small ranges, so that, as in real group sets,
/// many criteria are shared between groups.
pub fn groups_yaml(count: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from("groups:\n");
    for index in 0..count {
        if index == 0 {
            out.push_str("  - name: BitLocker Key Missing\n    blocks: [[\"BitLocker Key Backup Status contains any of 'Not Available'\"]]\n");
            continue;
        }
        let criteria: Vec<String> = (0..1 + rng.below(3)).map(|_| criterion(&mut rng)).collect();
        let quoted: Vec<String> = criteria.iter().map(|c| format!("{c:?}")).collect();
        out.push_str(&format!(
            "  - name: Group {index}\n    blocks: [[{}]]\n",
            quoted.join(", ")
        ));
    }
    out
}

fn criterion(rng: &mut Rng) -> String {
    match rng.below(13) {
        0 => format!(
            "OS contains any of \"{}\"",
            rng.pick(&["Windows 10", "Windows 11", "Server", "Ubuntu", "macOS"])
        ),
        1 => format!(
            "\"Agent Version\" less than {}",
            rng.pick(&["2023.6.1", "2023.11.2", "2024.1.0", "2024.3.1"])
        ),
        2 => format!("\"Free Disk %\" less than {}", 5 + rng.below(26)),
        3 => format!("\"Last Seen\" older than {} days", 7 * (1 + rng.below(12))),
        4 => format!(
            "\"Installed Software\" contains any of \"{}\"",
            rng.pick(&["Chrome", "Firefox", "Zoom", "TeamViewer", "7-Zip", "Slack"])
        ),
        5 => "\"Installed Software\" contains all of \"Microsoft Word\", \"Microsoft Excel\""
            .to_owned(),
        6 => format!(
            "\"Machine Type\" equal {}",
            rng.pick(&["Server", "Workstation", "Laptop"])
        ),
        7 => "\"Pending Reboot\" equal true".to_owned(),
        8 => format!("Hostname ends with {}", rng.pick(&["-LT", "-01", "-02"])),
        9 => "Site is blank".to_owned(),
        10 => "Roles is any of \"Domain Controller\", \"DNS Server\"".to_owned(),
        11 => format!(
            "\"BitLocker Key Backup Status\" starts with {}",
            rng.pick(&["Failed", "Success", "Backed"])
        ),
        _ => format!(
            "\"RAM GB\" between {} and {}",
            rng.pick(&["4", "8"]),
            rng.pick(&["16", "32"])
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn workloads_are_reproducible_and_start_with_the_seed_group() {
        let a = super::groups_yaml(50, 3);
        assert_eq!(a, super::groups_yaml(50, 3));
        assert!(a.starts_with("groups:\n  - name: BitLocker Key Missing\n"));
        assert_eq!(a.matches("  - name: ").count(), 50);
    }
}
