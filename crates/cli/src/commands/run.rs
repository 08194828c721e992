//! `recalign run [CONFIG]`: the main job, or one experiment, through
//! `recalign-experiment`'s stages with one progress display; Ctrl-C stops
//! training at a checkpoint (a second Ctrl-C exits at once), and the same
//! command continues the run.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use recalign_experiment::{Experiment, RunOptions};

use crate::args::{GlobalArgs, RunArgs};
use crate::progress::StageBar;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> Result<()> {
    let (experiment, default_dir) = match &args.config {
        Some(path) => (Experiment::read(path)?, "runs"),
        None => (
            Experiment::main_job(args.dataset.as_deref())?,
            "recalign-out",
        ),
    };
    let options = RunOptions {
        runs_dir: args
            .runs_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(default_dir)),
        force: args.force,
        load: super::load_options(global),
    };
    let stop = interrupt_flag()?;
    let mut monitor = StageBar::new(global.quiet, stop);
    let finished = recalign_experiment::run(&experiment, &options, &mut monitor)?;
    drop(monitor);

    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    write!(out, "{}", recalign_report::tables(&finished.results))?;
    writeln!(out, "stage times:")?;
    for (i, cell) in finished.results.iter().enumerate() {
        if !cell.cell.is_empty() {
            writeln!(out, "  {}", cell.cell)?;
        }
        for stage in &cell.stages {
            if i > 0 && stage.name.starts_with("prepare") {
                continue;
            }
            match stage.skipped {
                true => writeln!(out, "  {:<32} reused", stage.name)?,
                false => writeln!(out, "  {:<32} {:>8.1} s", stage.name, stage.seconds)?,
            }
        }
    }
    writeln!(out, "\nreport: {}", finished.report.markdown.display())?;
    for plot in &finished.report.plots {
        writeln!(out, "plot: {}", plot.display())?;
    }
    Ok(())
}

/// A flag that Ctrl-C (SIGINT) or SIGTERM raises; a second signal ends
/// the process at once with status 130.
fn interrupt_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    flag.store(false, Ordering::SeqCst);
    Ok(flag)
}
