//! One module per subcommand; each resolves its arguments
//! ([`crate::settings`]), calls the libraries, and prints the result (data
//! on stdout, logs and progress on stderr).

mod baseline;
mod download;
mod evaluate;
mod ids;
mod prepare;
mod recommend;
mod report;
mod run;
mod samples;
mod serve;
mod stats;
mod train;

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use recalign_data::{DatasetCache, LoadOptions, Loaded, spec};
use recalign_eval::Report;

use crate::args::{Cli, Command, DataCommand, GlobalArgs, IdsCommand, OutputArgs};
use crate::progress::FileBar;
use crate::settings::DataSettings;

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Run(args) => run::run(&cli.global, args),
        Command::Report(args) => report::run(args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Prepare(args) => prepare::run(&cli.global, args),
        Command::Samples(args) => samples::run(&cli.global, args),
        Command::Train(args) => train::run(&cli.global, args),
        Command::Baseline(args) => baseline::run(&cli.global, args),
        Command::Evaluate(args) => evaluate::run(&cli.global, args),
        Command::Recommend(args) => recommend::run(&cli.global, args),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Data {
            command: DataCommand::Download(args),
        } => download::run(&cli.global, args),
        Command::Ids {
            command: IdsCommand::Show(args),
        } => ids::show(&cli.global, args),
    }
}

/// Where datasets are found and cached, as the global flags say.
pub fn load_options(global: &GlobalArgs) -> LoadOptions {
    let cache = (!global.no_cache).then(|| {
        DatasetCache::new(
            global
                .cache_dir
                .clone()
                .unwrap_or_else(recalign_data::cache::default_dir),
        )
    });
    LoadOptions {
        data_dir: spec::data_dir(global.data_dir.as_deref()),
        items: None,
        cache,
        progress: Arc::new(FileBar::new(global.quiet)),
    }
}

/// Loads (from the cache when possible) the dataset `data` names.
pub fn load_dataset(global: &GlobalArgs, data: &DataSettings) -> Result<Loaded> {
    let options = LoadOptions {
        items: data.items.clone(),
        ..load_options(global)
    };
    let loaded = recalign_data::load(&data.spec, &data.prepare, &options)?;
    tracing::info!(
        dataset = %loaded.dataset.name,
        from_cache = loaded.from_cache,
        seconds = format!("{:.3}", loaded.seconds),
        "dataset loaded"
    );
    Ok(loaded)
}

/// Writes `report` where `--report` says, and says where on `out`.
pub fn write_report(out: &mut impl Write, report: &Report, outputs: &OutputArgs) -> Result<()> {
    if let Some(path) = &outputs.report {
        report
            .write(path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "report: {}", path.display())?;
    }
    Ok(())
}
