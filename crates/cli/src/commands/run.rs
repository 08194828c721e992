//! `recalign run`: the main job. Today it prepares the dataset, writes the
//! paper's samples, and reports both; training and evaluation join it as
//! they land.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use recalign_data::{DatasetStats, Split};
use recalign_samples::{Generator, Task, WriteOptions};

use crate::args::{GlobalArgs, RunArgs};

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<()> {
    let data = args.dataset.resolve()?;
    let config = data.samples(&args.samples)?;
    let loaded = super::load_dataset(global, &data)?;
    let data = &loaded.dataset;
    let stats = DatasetStats::compute(data);
    let mut out = std::io::stdout().lock();
    writeln!(out, "== data: {} ==", data.name)?;
    write!(out, "{stats}")?;
    match &loaded.cache_file {
        Some(path) => writeln!(
            out,
            "prepared in {:.3} s{}; cached at {}",
            loaded.seconds,
            if loaded.from_cache {
                " (from cache)"
            } else {
                ""
            },
            path.display()
        )?,
        None => writeln!(out, "prepared in {:.3} s (not cached)", loaded.seconds)?,
    }

    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("recalign-out").join(&data.name))
        .join("samples");
    let generator = Generator::new(data, config)?;
    let start = std::time::Instant::now();
    let written = recalign_samples::write(&generator, &dir, &WriteOptions::default(), &|_| {})?;
    writeln!(out, "\n== samples: {} ==", dir.display())?;
    write!(out, "{}", written.summary)?;
    writeln!(out, "written in {:.2} s", start.elapsed().as_secs_f64())?;

    let user = data.users().next();
    writeln!(
        out,
        "\n== one training sample per task (user {}) ==",
        user.map_or("-", |u| data.user_id(u))
    )?;
    if let Some(user) = user {
        let samples = generator.user_samples(user, Split::Train, 0);
        for task in Task::ALL {
            if let Some(s) = samples.iter().find(|s| s.task == task) {
                writeln!(out, "[{} · {}]", s.task, s.template)?;
                writeln!(out, "  input:  {}", s.input)?;
                writeln!(out, "  target: {}", s.target)?;
            }
        }
    }
    Ok(())
}
