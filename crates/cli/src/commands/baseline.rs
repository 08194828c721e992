//! `recalign baseline`: trains a conventional recommender on the prepared
//! split, evaluates it with recalign's evaluator (full ranking, or the
//! fine-tuned model's candidate lists with `--task ranking`, on the test
//! split unless `--split valid`), prints the report table and writes the
//! report and rankings.

use std::io::Write;

use anyhow::Result;
use recalign_baselines::ProgressEvent;

use crate::args::{BaselineArgs, GlobalArgs};
use crate::progress;

pub fn run(global: &GlobalArgs, args: &BaselineArgs) -> Result<()> {
    let settings = args.resolve()?;
    let loaded = super::load_dataset(global, &settings.data)?;
    let dataset = &loaded.dataset;
    let split = settings.protocol.split;

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
            bar.set_prefix(split.to_string());
            bar.set_message(format!("{cases} users"));
        }
        _ => {}
    };
    let outcome = recalign_baselines::train_and_evaluate(
        dataset,
        settings.model,
        &settings.config,
        &settings.protocol,
        &mut progress,
    )?;
    bar.finish_and_clear();

    let mut out = std::io::stdout().lock();
    write!(out, "{}", outcome.report.table())?;
    super::write_report(&mut out, &outcome.report, &args.outputs)?;
    if let Some(path) = &args.outputs.rankings_out {
        let lines = outcome.write_rankings(dataset, path)?;
        writeln!(out, "rankings: {} ({lines} users)", path.display())?;
    }
    Ok(())
}
