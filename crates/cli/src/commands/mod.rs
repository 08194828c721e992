//! One module per subcommand; each turns parsed arguments into library calls
//! and prints the result (data on stdout, logs and progress on stderr).

mod baseline;
mod download;
mod evaluate;
mod prepare;
mod recommend;
mod run;
mod samples;
mod stats;
mod train;

use std::sync::Arc;

use anyhow::{Context, Result};
use recalign_data::{DatasetCache, DatasetSpec, LoadOptions, Loaded, spec};

use crate::args::{Cli, Command, DataCommand, DatasetArgs, GlobalArgs};
use crate::progress::FileBar;

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Run(args) => run::run(&cli.global, args),
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Prepare(args) => prepare::run(&cli.global, args),
        Command::Samples(args) => samples::run(&cli.global, args),
        Command::Train(args) => train::run(&cli.global, args),
        Command::Baseline(args) => baseline::run(&cli.global, args),
        Command::Evaluate(args) => evaluate::run(&cli.global, args),
        Command::Recommend(args) => recommend::run(&cli.global, args),
        Command::Data {
            command: DataCommand::Download(args),
        } => download::run(&cli.global, args),
    }
}

/// The tables a run's TOML file may hold, one per stage.
const CONFIG_TABLES: &[&str] = &["prepare", "samples", "train"];

/// Rejects a config file with a table no stage reads (a typo such as
/// `[sample]` would otherwise be ignored silently).
fn check_config_tables(path: &std::path::Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for key in table.keys() {
        if !CONFIG_TABLES.contains(&key.as_str()) {
            anyhow::bail!(
                "{}: unknown table or key `{key}` (expected the tables {})",
                path.display(),
                CONFIG_TABLES.join(", ")
            );
        }
    }
    Ok(())
}

/// Loads (from the cache when possible) the dataset the flags name.
pub fn load_dataset(global: &GlobalArgs, args: &DatasetArgs) -> Result<Loaded> {
    if let Some(path) = &args.config {
        check_config_tables(path)?;
    }
    let spec = DatasetSpec::parse(&args.dataset)?;
    let config = args.prepare_config()?;
    let cache = (!global.no_cache).then(|| {
        DatasetCache::new(
            global
                .cache_dir
                .clone()
                .unwrap_or_else(recalign_data::cache::default_dir),
        )
    });
    let options = LoadOptions {
        data_dir: spec::data_dir(global.data_dir.as_deref()),
        items: args.items.clone(),
        cache,
        progress: Arc::new(FileBar::new(global.quiet)),
    };
    let loaded = recalign_data::load(&spec, &config, &options)?;
    tracing::info!(
        dataset = %loaded.dataset.name,
        from_cache = loaded.from_cache,
        seconds = format!("{:.3}", loaded.seconds),
        "dataset loaded"
    );
    Ok(loaded)
}
