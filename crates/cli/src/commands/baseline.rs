//! `recalign baseline`: trains a conventional recommender on the prepared
//! split, evaluates it with recalign's evaluator (full ranking on the test
//! split), prints the report table and writes the report and rankings.

use std::io::Write;

use anyhow::{Context, Result};
use recalign_baselines::{BaselineConfig, ProgressEvent, SasRecLoss};
use recalign_data::Split;
use recalign_eval::{Protocol, Task};

use crate::args::{BaselineArgs, GlobalArgs};
use crate::progress;

pub fn run(global: &GlobalArgs, args: &BaselineArgs) -> Result<()> {
    let mut config = match &args.hparams {
        Some(path) => BaselineConfig::from_file(path)?,
        None => BaselineConfig::default(),
    };
    if let Some(epochs) = args.epochs {
        config.train.epochs = epochs;
    }
    if let Some(seed) = args.dataset.seed {
        config.train.seed = seed;
    }
    match args.loss.as_deref() {
        Some("bce") => config.sasrec.loss = SasRecLoss::Bce,
        Some("ce") => config.sasrec.loss = SasRecLoss::Ce,
        _ => {}
    }
    config.validate()?;
    let loaded = super::load_dataset(global, &args.dataset)?;
    let dataset = &loaded.dataset;
    let mut protocol = Protocol::retrieval(Split::Test);
    protocol.task = Task::Retrieval {
        exclude_history: args.exclude_history,
    };

    let bar = progress::bar(
        global.quiet,
        Some(0),
        "{prefix:.bold} [{bar:30}] {pos}/{len} batches {msg} ({eta})",
    );
    let mut best = String::new();
    let mut progress = |event: &ProgressEvent<'_>| match event {
        ProgressEvent::Started { batches, .. } => bar.set_length(*batches as u64),
        ProgressEvent::Batch { epoch, batch, loss } => {
            bar.set_prefix(format!("epoch {epoch}"));
            bar.set_position(*batch as u64);
            bar.set_message(format!("loss {loss:.4}{best}"));
        }
        ProgressEvent::Epoch(record) => {
            if let Some(ndcg) = record.valid_ndcg10 {
                best = format!(" · valid ndcg@10 {ndcg:.4}");
            }
            bar.suspend(|| tracing::info!(epoch = record.epoch, loss = record.loss, valid_ndcg10 = ?record.valid_ndcg10, "epoch"));
        }
        ProgressEvent::Testing { cases } => {
            bar.set_prefix("test");
            bar.set_message(format!("{cases} users"));
        }
        _ => {}
    };
    let outcome = recalign_baselines::train_and_evaluate(
        dataset,
        args.model,
        &config,
        &protocol,
        &mut progress,
    )?;
    bar.finish_and_clear();

    let mut out = std::io::stdout().lock();
    write!(out, "{}", outcome.report.table())?;
    if let Some(path) = &args.report {
        outcome
            .report
            .write(path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(out, "report: {}", path.display())?;
    }
    if let Some(path) = &args.rankings_out {
        let lines = outcome.write_rankings(dataset, path)?;
        writeln!(out, "rankings: {} ({lines} users)", path.display())?;
    }
    Ok(())
}
