//! `recalign report`: the report of finished runs, rebuilt from their
//! `results.json` files alone.

use std::io::Write;

use anyhow::{Result, bail};
use recalign_report::{Results, find_results};

use crate::args::ReportArgs;

pub fn run(args: &ReportArgs) -> Result<()> {
    let out = match (&args.out, args.runs.as_slice()) {
        (Some(out), _) => out.clone(),
        (None, [one]) => one.clone(),
        (None, _) => bail!("--out: several runs make one report; say where it goes"),
    };
    let mut results = Vec::new();
    for dir in &args.runs {
        for path in find_results(dir)? {
            results.push(Results::read(&path)?);
        }
    }
    std::fs::create_dir_all(&out)?;
    let written = recalign_report::write(&results, &out)?;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", recalign_report::tables(&results))?;
    writeln!(stdout, "report: {}", written.markdown.display())?;
    for plot in &written.plots {
        writeln!(stdout, "plot: {}", plot.display())?;
    }
    Ok(())
}
