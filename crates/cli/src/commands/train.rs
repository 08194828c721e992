//! `recalign train`: writes the dataset's samples (unless `--samples` names
//! them), then fine-tunes a fresh or pretrained T5 on them with a progress
//! bar, and prints where the model went.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use recalign_data::Loaded;
use recalign_data::Split;
use recalign_experiment::RetrievalCheck;
use recalign_runtime::TrainingJob;
use recalign_samples::{Generator, SamplesConfig, WriteOptions};
use recalign_train::{
    BEST_DIR, BoxError, Measured, Observer, Plan, RunOptions, StepReport, TrainSummary, ValidReport,
};

use crate::args::{GlobalArgs, SampleStyleArgs, TrainArgs};
use crate::progress;
use crate::settings::SamplesFrom;

/// `train.jsonl` or `train.jsonl.gz` in `dir`.
fn split_file(dir: &Path, split: Split) -> Option<PathBuf> {
    ["jsonl", "jsonl.gz"]
        .iter()
        .map(|ext| dir.join(format!("{split}.{ext}")))
        .find(|p| p.is_file())
}

pub fn run(global: &GlobalArgs, args: &TrainArgs) -> Result<()> {
    let settings = args.resolve()?;
    let out = &args.model.out;
    let needs_dataset =
        settings.config.valid_users > 0 || matches!(settings.samples, SamplesFrom::Write(_));
    let loaded = match needs_dataset {
        true => Some(super::load_dataset(global, &settings.data)?),
        false => None,
    };
    let fallback_samples = settings.data.samples(&SampleStyleArgs::default())?;
    let samples_dir = match settings.samples {
        SamplesFrom::Dir(dir) => dir,
        SamplesFrom::Write(config) => {
            let loaded = loaded.as_ref().expect("loaded for writing samples");
            write_samples(loaded, config, out)?
        }
    };
    // Refused here, before any training, when its settings are impossible.
    let check = match &loaded {
        Some(loaded) => RetrievalCheck::new(
            &loaded.dataset,
            fallback_samples,
            &settings.config,
            args.model.device.devices()[0],
        )?,
        None => None,
    };
    let train_samples = split_file(&samples_dir, Split::Train).with_context(|| {
        format!(
            "{}: no train.jsonl or train.jsonl.gz",
            samples_dir.display()
        )
    })?;
    let valid_samples = split_file(&samples_dir, Split::Valid);
    let options = RunOptions {
        config: settings.config,
        train_samples,
        valid_samples,
        out: out.clone(),
        model: settings.model,
        resume: args.training.resume,
    };
    let job = Job {
        options,
        bar: TrainBar::new(global.quiet, check),
    };
    let summary = args.model.device.train(job)?;
    print_summary(&summary, out)
}

/// Writes the train and valid samples into `out/samples`.
fn write_samples(loaded: &Loaded, config: SamplesConfig, out: &Path) -> Result<PathBuf> {
    let generator = Generator::new(&loaded.dataset, config)?;
    let dir = out.join("samples");
    let options = WriteOptions {
        splits: vec![Split::Train, Split::Valid],
        ..WriteOptions::default()
    };
    let written = recalign_samples::write(&generator, &dir, &options, &|_| {})?;
    tracing::info!(
        dir = %dir.display(),
        train = written.summary.total(Split::Train),
        valid = written.summary.total(Split::Valid),
        "samples written"
    );
    Ok(dir)
}

fn print_summary(summary: &TrainSummary, out_dir: &Path) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if summary.stopped_early {
        writeln!(
            out,
            "stopped at step {}; continue with --resume",
            summary.steps
        )?;
    }
    if let (Some(first), Some(last)) = (summary.first_loss, summary.last_loss) {
        writeln!(
            out,
            "{} steps in {:.1} s ({:.0} tokens/s); training loss {first:.3} → {last:.3}",
            summary.steps, summary.seconds, summary.tokens_per_second
        )?;
    }
    if let (Some(first), Some(last)) = (summary.valid_losses.first(), summary.valid_losses.last()) {
        writeln!(
            out,
            "validation loss {:.3} (step {}) → {:.3} (step {})",
            first.1, first.0, last.1, last.0
        )?;
    }
    if let Some(best) = &summary.best {
        let m = &best.measured;
        writeln!(
            out,
            "best by validation NDCG@{}: {:.4} (Hit@{} {:.4}, {} users) at step {}: {}",
            m.k,
            m.ndcg,
            m.k,
            m.hit,
            m.users,
            best.step,
            out_dir.join(BEST_DIR).display()
        )?;
    }
    if summary.stopped_by_patience {
        writeln!(
            out,
            "stopped early: no better validation NDCG for `patience` measurements"
        )?;
    }
    writeln!(out, "model: {}", out_dir.display())?;
    Ok(())
}

struct Job<'d> {
    options: RunOptions,
    bar: TrainBar<'d>,
}

impl TrainingJob for Job<'_> {
    type Output = TrainSummary;
    type Error = recalign_train::Error;

    fn run<B: AutodiffBackend>(
        mut self,
        devices: Vec<B::Device>,
    ) -> recalign_train::Result<TrainSummary> {
        let summary = recalign_train::train::<B>(&self.options, &devices, &mut self.bar);
        self.bar.bar.finish_and_clear();
        summary
    }
}

/// Steps, loss, tokens/s and ETA on stderr; validation losses and
/// retrieval checks as log lines.
struct TrainBar<'d> {
    bar: ProgressBar,
    tokens: usize,
    seconds: f64,
    loss: Option<f64>,
    check: Option<RetrievalCheck<'d>>,
    best: Option<f64>,
}

impl<'d> TrainBar<'d> {
    fn new(quiet: bool, check: Option<RetrievalCheck<'d>>) -> Self {
        TrainBar {
            bar: progress::bar(
                quiet,
                Some(0),
                "training [{bar:30}] {pos}/{len} steps {msg} ({eta})",
            ),
            tokens: 0,
            seconds: 0.0,
            loss: None,
            check,
            best: None,
        }
    }
}

impl Observer for TrainBar<'_> {
    fn started(&mut self, plan: &Plan) {
        self.bar.set_length(plan.total_steps);
        self.bar.set_position(plan.start_step);
        self.bar.reset_eta();
        tracing::info!(
            examples = plan.examples,
            valid = plan.valid_examples,
            parameters = plan.parameters,
            vocab = plan.vocab_size,
            truncated_inputs = plan.truncated_inputs,
            resumed_from = ?plan.resumed_from,
            "training"
        );
    }

    fn step(&mut self, report: &StepReport) {
        self.tokens += report.tokens;
        self.seconds += report.seconds;
        // An exponential moving average keeps the shown loss readable.
        let loss = match self.loss {
            Some(previous) => 0.9 * previous + 0.1 * report.loss,
            None => report.loss,
        };
        self.loss = Some(loss);
        self.bar.set_position(report.step);
        let best = self
            .best
            .map_or(String::new(), |b| format!(" · best NDCG {b:.4}"));
        self.bar.set_message(format!(
            "loss {loss:.3} · lr {:.1e} · {:.0} tok/s{best}",
            report.learning_rate,
            self.tokens as f64 / self.seconds.max(1e-9)
        ));
    }

    fn measures(&self) -> bool {
        self.check.is_some()
    }

    fn measure(&mut self, dir: &Path, _step: u64) -> Result<Measured, BoxError> {
        let check = self.check.as_ref().ok_or("no retrieval check")?;
        check.measure(dir).map_err(|e| format!("{e:#}").into())
    }

    fn measured(&mut self, step: u64, m: &Measured, best: bool) {
        if best {
            self.best = Some(m.ndcg);
        }
        self.bar.suspend(|| {
            tracing::info!(
                step,
                users = m.users,
                ndcg = format!("{:.4}", m.ndcg),
                hit = format!("{:.4}", m.hit),
                k = m.k,
                best,
                "validation retrieval"
            );
        });
    }

    fn validated(&mut self, report: &ValidReport) {
        let tasks: Vec<String> = report
            .per_task
            .iter()
            .map(|(task, loss)| format!("{task} {loss:.3}"))
            .collect();
        self.bar.suspend(|| {
            tracing::info!(
                step = report.step,
                loss = format!("{:.4}", report.loss),
                per_task = tasks.join(", "),
                "validation"
            );
        });
    }

    fn checkpointed(&mut self, dir: &Path) {
        tracing::debug!(dir = %dir.display(), "checkpoint");
    }
}
