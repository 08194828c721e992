//! `recalign prepare`: prepare into the cache, optionally export the split.

use std::io::Write;

use anyhow::Result;

use crate::args::{GlobalArgs, PrepareArgs};

pub fn run(global: &GlobalArgs, args: &PrepareArgs) -> Result<()> {
    let loaded = super::load_dataset(global, &args.dataset.resolve()?)?;
    let data = &loaded.dataset;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "prepared {}: {} users, {} items, {} interactions in {:.3} s{}",
        data.name,
        data.num_users(),
        data.num_items(),
        data.num_interactions(),
        loaded.seconds,
        if loaded.from_cache {
            " (from cache)"
        } else {
            ""
        }
    )?;
    if let Some(path) = &loaded.cache_file {
        writeln!(out, "cache    {}", path.display())?;
    }
    if let Some(dir) = &args.export {
        let files = recalign_data::export::write_split(data, dir)?;
        for file in files {
            writeln!(out, "exported {}", file.display())?;
        }
    }
    Ok(())
}
