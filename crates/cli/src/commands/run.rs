//! `recalign run`: the main job. Today it prepares the dataset and reports
//! it; the sample, training and evaluation stages join it as they land.

use std::io::Write;

use anyhow::Result;
use recalign_data::{DatasetStats, Split};

use crate::args::{GlobalArgs, RunArgs};

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<()> {
    let loaded = super::load_dataset(global, &args.dataset)?;
    let data = &loaded.dataset;
    let stats = DatasetStats::compute(data);
    let mut out = std::io::stdout().lock();
    writeln!(out, "== data: {} ==", data.name)?;
    write!(out, "{stats}")?;
    writeln!(out)?;
    writeln!(out, "== split: first test users ==")?;
    for held in data.held_out_all(Split::Test).take(3) {
        let show = |e: &recalign_data::Event| {
            let item = data.item(e.item);
            format!(
                "[{}] {}",
                item.identifier,
                item.title().unwrap_or("(no title)")
            )
        };
        let recent: Vec<String> = data.recent(held.history).iter().map(show).collect();
        writeln!(out, "user {}", data.user_id(held.user))?;
        writeln!(
            out,
            "  history (most recent {}): {}",
            recent.len(),
            recent.join(" | ")
        )?;
        writeln!(out, "  test item: {}", show(&held.target))?;
    }
    match &loaded.cache_file {
        Some(path) => writeln!(
            out,
            "\nprepared in {:.3} s{}; cached at {}",
            loaded.seconds,
            if loaded.from_cache {
                " (from cache)"
            } else {
                ""
            },
            path.display()
        )?,
        None => writeln!(out, "\nprepared in {:.3} s (not cached)", loaded.seconds)?,
    }
    Ok(())
}
