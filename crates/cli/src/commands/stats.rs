//! `recalign stats`: the dataset table.

use std::io::Write;

use anyhow::Result;
use recalign_data::DatasetStats;

use crate::args::{GlobalArgs, StatsArgs};

pub fn run(global: &GlobalArgs, args: &StatsArgs) -> Result<()> {
    let loaded = super::load_dataset(global, &args.dataset.resolve()?)?;
    let stats = DatasetStats::compute(&loaded.dataset);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
    } else {
        write!(out, "{stats}")?;
    }
    Ok(())
}
