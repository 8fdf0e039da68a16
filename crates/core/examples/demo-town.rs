//! Writes the demo town as `town.json` and its compounds as `compounds.geojson` into a folder.
//!
//! `cargo run -p jx-core --example demo-town -- data/demo`
//!
//! (An example, not part of the library: the library itself does no I/O.)

use jx_core::demo::demo_town;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "data/demo".into()));
    std::fs::create_dir_all(&dir)?;
    let town = demo_town();
    std::fs::write(dir.join("town.json"), town.to_json())?;
    std::fs::write(dir.join("compounds.geojson"), serde_json::to_string_pretty(&town.compounds_geojson())?)?;
    println!(
        "demo town (seed {:#x}): {} compounds, {} team members, {} residents, {} tasks tonight → {}",
        town.seed,
        town.compounds.len(),
        town.team().count(),
        town.residents.len(),
        town.tasks.len(),
        dir.display()
    );
    Ok(())
}
