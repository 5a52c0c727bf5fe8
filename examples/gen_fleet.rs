//! Writes the example fleet: `examples/fleet/fleet.json` and `examples/fleet/fleet.csv`.
//!
//! ```text
//! cargo run --example gen_fleet            # 1,000 machines, the shipped seed
//! cargo run --example gen_fleet -- 50000   # another size, into the same files
//! cargo run --release --example gen_fleet -- 1000000 --ndjson /tmp/fleet-1m.ndjson
//! ```
//!
//! With `--ndjson PATH`, the machines go to PATH as NDJSON (one object per line) instead;
//! with `--csv PATH`, to PATH as CSV; with `--json PATH`, to PATH as a JSON array, one
//! machine per line (the layout of `examples/fleet/fleet.json`).
//!
//! The fleet is reproducible: the same count and seed always write the same bytes, and
//! `tests/it/examples.rs` checks the shipped files against the generator.

use cohort_testkit::fleet;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let count = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("`{text}` is not a machine count"),
            )
        })?,
        None => 1000,
    };
    let machines = fleet::generate(count, fleet::EXAMPLE_SEED);
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--csv") {
        let path = args.get(position + 1).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "--csv needs a path")
        })?;
        write_safely(Path::new(path), &fleet::to_csv(&machines))?;
        println!("wrote {count} machines to {path}");
        return Ok(());
    }
    if let Some(position) = args.iter().position(|a| a == "--json") {
        let path = args.get(position + 1).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "--json needs a path")
        })?;
        write_safely(Path::new(path), &fleet::to_json(&machines))?;
        println!("wrote {count} machines to {path}");
        return Ok(());
    }
    if let Some(position) = args.iter().position(|a| a == "--ndjson") {
        let path = args.get(position + 1).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "--ndjson needs a path")
        })?;
        let mut text = String::new();
        for machine in &machines {
            text.push_str(&serde_json::to_string(machine).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        write_safely(Path::new(path), &text)?;
        println!("wrote {count} machines to {path}");
        return Ok(());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    std::fs::create_dir_all(&dir)?;
    write_safely(&dir.join("fleet.json"), &fleet::to_json(&machines))?;
    write_safely(&dir.join("fleet.csv"), &fleet::to_csv(&machines))?;
    println!("wrote {count} machines to {}", dir.display());
    Ok(())
}

/// Writes to a temporary file beside `path`, then renames it over `path`.
fn write_safely(path: &Path, contents: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)
}
