//! A seeded generator of realistic RMM machines.

use serde_json::{Map, Value, json};

/// The seed of the shipped example fleet.
pub const EXAMPLE_SEED: u64 = 0x00C0_4047;

/// The evaluation time the example fleet's dates are relative to.
pub const EXAMPLE_NOW: &str = "2026-11-25T00:00:00Z";

const EXAMPLE_NOW_MILLIS: i64 = 1_795_564_800_000;

/// SplitMix64: small, seedable, and stable across versions of any crate.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const COMPANIES: [(&str, &str); 4] = [
    ("Acme Corp", "ACME"),
    ("Globex", "GLX"),
    ("Initech", "INI"),
    ("Umbrella Health", "UMB"),
];
const SITES: [&str; 5] = [
    "HQ",
    "Branch East",
    "Branch West",
    "Remote Workers",
    "Datacenter",
];
const WORKSTATION_OS: [(&str, &[&str]); 4] = [
    (
        "Microsoft Windows 10 Pro",
        &["10.0.19044.2965", "10.0.19045.3803", "10.0.19045.4291"],
    ),
    (
        "Microsoft Windows 10 Enterprise",
        &["10.0.19045.3803", "10.0.19043.2364"],
    ),
    (
        "Microsoft Windows 11 Pro",
        &["10.0.22621.2861", "10.0.22631.3447"],
    ),
    (
        "Microsoft Windows 11 Enterprise",
        &["10.0.22631.3447", "10.0.22000.2538"],
    ),
];
const SERVER_OS: [(&str, &[&str]); 3] = [
    (
        "Microsoft Windows Server 2016 Standard",
        &["10.0.14393.6614"],
    ),
    (
        "Microsoft Windows Server 2019 Standard",
        &["10.0.17763.5329"],
    ),
    (
        "Microsoft Windows Server 2022 Datacenter",
        &["10.0.20348.2227"],
    ),
];
const OTHER_OS: [(&str, &str); 3] = [
    ("Ubuntu 22.04.4 LTS", "5.15.0.105"),
    ("macOS 14.4 Sonoma", "23.4.0"),
    ("Red Hat Enterprise Linux 9.3", "5.14.0.362"),
];
const AGENT_VERSIONS: [&str; 6] = [
    "2022.9.14",
    "2023.6.1",
    "2023.11.2",
    "2024.1.0",
    "2024.3.1",
    "2024.10.5",
];
const SOFTWARE: [&str; 14] = [
    "Google Chrome",
    "Mozilla Firefox",
    "Microsoft Edge",
    "7-Zip 23.01",
    "Adobe Acrobat Reader DC",
    "Zoom Workplace",
    "Slack",
    "Notepad++",
    "VLC media player",
    "TeamViewer 15",
    "Microsoft Word",
    "Microsoft Excel",
    "Microsoft Outlook",
    "Microsoft PowerPoint",
];
const ROLES: [&str; 5] = [
    "DNS Server",
    "File Server",
    "Hyper-V",
    "IIS Web Server",
    "Print Server",
];
const TAGS: [&str; 4] = ["vip", "kiosk", "review", "loaner"];
const KEY_BACKUP: [&str; 5] = [
    "Not Available",
    "Success",
    "Backed up to AD",
    "Failed: TPM not found",
    "Failed: Access denied",
];
const BITLOCKER_STATUS: [&str; 3] = [
    "Fully Encrypted",
    "Encryption In Progress",
    "Fully Decrypted",
];
const ANTIVIRUS: [&str; 3] = [
    "Microsoft Defender Antivirus",
    "Sophos Endpoint",
    "SentinelOne",
];

/// `count` machines generated from `seed`; the same arguments always give the same fleet.
/// Dates are relative to [`EXAMPLE_NOW`].
pub fn generate(count: usize, seed: u64) -> Vec<Map<String, Value>> {
    let mut rng = Rng::new(seed);
    (0..count).map(|index| machine(index, &mut rng)).collect()
}

fn iso(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let rest = millis.rem_euclid(86_400_000) / 1000;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn machine(index: usize, rng: &mut Rng) -> Map<String, Value> {
    let mut m = Map::new();
    let (company, prefix) = *rng.pick(&COMPANIES);
    let roll = rng.below(100);
    let kind = match roll {
        0..=59 => "Workstation",
        60..=84 => "Laptop",
        _ => "Server",
    };
    let number = index + 1;
    let is_dc = kind == "Server" && rng.chance(20);
    let hostname = match kind {
        _ if is_dc => format!("DC{:02}", number % 100),
        "Laptop" => format!("{prefix}-{number:04}-LT"),
        "Server" => format!("{prefix}-SRV-{number:04}"),
        _ if rng.chance(4) => format!("desktop-{:x}", rng.next_u64() % 0xFFFFFF),
        _ => format!("{prefix}-WS-{number:04}"),
    };
    m.insert("id".into(), json!(format!("M{number:05}")));
    m.insert("Hostname".into(), json!(hostname));
    m.insert("Company".into(), json!(company));
    if rng.chance(92) {
        m.insert("Site".into(), json!(rng.pick(&SITES)));
    } else if rng.chance(50) {
        m.insert("Site".into(), json!(""));
    }
    m.insert("Machine Type".into(), json!(kind));
    let windows = kind == "Server" || rng.chance(90);
    let (os, build) = if kind == "Server" {
        let (os, builds) = *rng.pick(&SERVER_OS);
        (os, *rng.pick(builds))
    } else if windows {
        let (os, builds) = *rng.pick(&WORKSTATION_OS);
        (os, *rng.pick(builds))
    } else {
        *rng.pick(&OTHER_OS)
    };
    m.insert("OS".into(), json!(os));
    m.insert("OS Build".into(), json!(build));
    m.insert("Agent Version".into(), json!(rng.pick(&AGENT_VERSIONS)));
    let disk_total = *rng.pick(&[128.0, 256.0, 512.0, 1024.0, 2048.0]);
    let free_percent = (rng.below(950) as f64 / 10.0 + 0.5).min(95.0);
    m.insert("Free Disk %".into(), json!(free_percent));
    m.insert(
        "Free Disk GB".into(),
        json!((disk_total * free_percent / 10.0).round() / 10.0),
    );
    let ram = if kind == "Server" {
        *rng.pick(&[16, 32, 64, 128])
    } else {
        *rng.pick(&[4, 8, 8, 16, 16, 32])
    };
    m.insert("RAM GB".into(), json!(ram));
    let seen_ago = if rng.chance(12) {
        rng.below(120 * 86_400_000)
    } else {
        rng.below(3 * 86_400_000)
    };
    m.insert(
        "Last Seen".into(),
        json!(iso(EXAMPLE_NOW_MILLIS - seen_ago as i64)),
    );
    let reboot_ago = seen_ago + rng.below(60 * 86_400_000);
    m.insert(
        "Last Reboot".into(),
        json!(iso(EXAMPLE_NOW_MILLIS - reboot_ago as i64)),
    );
    m.insert("Pending Reboot".into(), json!(rng.chance(25)));
    let mut software: Vec<&str> = SOFTWARE
        .iter()
        .copied()
        .filter(|_| rng.chance(35))
        .collect();
    if kind != "Server" && rng.chance(40) {
        for office in ["Microsoft Word", "Microsoft Excel", "Microsoft Outlook"] {
            if !software.contains(&office) {
                software.push(office);
            }
        }
    }
    m.insert("Installed Software".into(), json!(software));
    if kind == "Server" {
        let mut roles: Vec<&str> = ROLES.iter().copied().filter(|_| rng.chance(30)).collect();
        if is_dc {
            roles.insert(0, "Domain Controller");
        }
        m.insert("Roles".into(), json!(roles));
    }
    let tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(8)).collect();
    m.insert("Tags".into(), json!(tags));
    if rng.chance(90) {
        m.insert("Antivirus".into(), json!(rng.pick(&ANTIVIRUS)));
    }
    m.insert("Patch Compliance %".into(), json!(60 + rng.below(41)));
    m.insert(
        "Serial Number".into(),
        json!(format!("SN{:010}", rng.next_u64() % 10_000_000_000)),
    );
    if windows {
        m.insert(
            "BitLocker Key Backup Status".into(),
            json!(rng.pick(&KEY_BACKUP)),
        );
        m.insert(
            "BitLocker Status".into(),
            json!(rng.pick(&BITLOCKER_STATUS)),
        );
        m.insert(
            "BitLocker Audit".into(),
            json!(if rng.chance(70) {
                "Enabled"
            } else {
                "Disabled"
            }),
        );
        let enable = rng.chance(60);
        m.insert("Enable BitLocker Key Backup".into(), json!(enable));
        m.insert(
            "Disable BitLocker Key Backup".into(),
            json!(enable && rng.chance(10)),
        );
    }
    // The same custom field at two levels, derived from what was drawn (no draw, so the
    // rest of the fleet does not change): the "Branch West" site stays on Windows 10, and
    // every 20th machine is excluded by itself.
    if m.get("Site").and_then(Value::as_str) == Some("Branch West") {
        m.insert("site:Exclude Windows 11 Installation".into(), json!(true));
    }
    if number % 20 == 7 {
        m.insert("Exclude Windows 11 Installation".into(), json!(true));
    }
    m
}

/// Every field name used by [`generate`], in first-seen order.
pub fn field_names(machines: &[Map<String, Value>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for machine in machines {
        for key in machine.keys() {
            if !names.contains(key) {
                names.push(key.clone());
            }
        }
    }
    names
}

/// The fleet as CSV: a header of every field, one row per machine; lists as JSON arrays,
/// flags as `true`/`false`, missing attributes as empty cells.
pub fn to_csv(machines: &[Map<String, Value>]) -> String {
    let fields = field_names(machines);
    let mut out = String::new();
    let cell = |text: &str| {
        if text.contains([',', '"', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for machine in machines {
        let row: Vec<String> = fields
            .iter()
            .map(|field| match machine.get(field) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => cell(s),
                Some(other) => cell(&other.to_string()),
            })
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The fleet as a JSON array, one machine per line.
pub fn to_json(machines: &[Map<String, Value>]) -> String {
    let lines: Vec<String> = machines
        .iter()
        .map(|m| serde_json::to_string(m).expect("a JSON map serializes"))
        .collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_reproducible_and_varied() {
        let a = generate(200, 7);
        assert_eq!(a, generate(200, 7));
        assert_ne!(a, generate(200, 8));
        let types: std::collections::BTreeSet<&str> = a
            .iter()
            .map(|m| m["Machine Type"].as_str().unwrap())
            .collect();
        assert_eq!(types.len(), 3);
    }

    #[test]
    fn dates_are_iso_and_relative_to_the_example_now() {
        assert_eq!(iso(EXAMPLE_NOW_MILLIS), EXAMPLE_NOW);
        assert_eq!(
            cohort_check::literal::parse_date(EXAMPLE_NOW),
            Some(EXAMPLE_NOW_MILLIS)
        );
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(951_868_800_000 - 1000), "2000-02-29T23:59:59Z");
    }
}
