//! `recalign train`: writes the dataset's samples (unless `--samples` names
//! them), then fine-tunes a fresh or pretrained T5 on them with a progress
//! bar, and prints where the model went.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use recalign_data::Split;
use recalign_runtime::TrainingJob;
use recalign_samples::{Generator, SamplesConfig, WriteOptions};
use recalign_train::{Observer, Plan, RunOptions, StepReport, TrainSummary, ValidReport};

use crate::args::{GlobalArgs, TrainArgs};
use crate::progress;
use crate::settings::{DataSettings, SamplesFrom};

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
    let samples_dir = match settings.samples {
        SamplesFrom::Dir(dir) => dir,
        SamplesFrom::Write(config) => write_samples(global, &settings.data, config, out)?,
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
        bar: TrainBar::new(global.quiet),
    };
    let summary = args.model.device.train(job)?;
    print_summary(&summary, out)
}

/// Writes the train and valid samples into `out/samples`.
fn write_samples(
    global: &GlobalArgs,
    data: &DataSettings,
    config: SamplesConfig,
    out: &Path,
) -> Result<PathBuf> {
    let loaded = super::load_dataset(global, data)?;
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
    writeln!(out, "model: {}", out_dir.display())?;
    Ok(())
}

struct Job {
    options: RunOptions,
    bar: TrainBar,
}

impl TrainingJob for Job {
    type Output = TrainSummary;
    type Error = recalign_train::Error;

    fn run<B: AutodiffBackend>(
        mut self,
        device: B::Device,
    ) -> recalign_train::Result<TrainSummary> {
        let summary = recalign_train::train::<B>(&self.options, &device, &mut self.bar);
        self.bar.bar.finish_and_clear();
        summary
    }
}

/// Steps, loss, tokens/s and ETA on stderr; validation losses as log lines.
struct TrainBar {
    bar: ProgressBar,
    tokens: usize,
    seconds: f64,
    loss: Option<f64>,
}

impl TrainBar {
    fn new(quiet: bool) -> Self {
        TrainBar {
            bar: progress::bar(
                quiet,
                Some(0),
                "training [{bar:30}] {pos}/{len} steps {msg} ({eta})",
            ),
            tokens: 0,
            seconds: 0.0,
            loss: None,
        }
    }
}

impl Observer for TrainBar {
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
        self.bar.set_message(format!(
            "loss {loss:.3} · lr {:.1e} · {:.0} tok/s",
            report.learning_rate,
            self.tokens as f64 / self.seconds.max(1e-9)
        ));
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
