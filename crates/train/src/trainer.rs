//! The training loop: teacher-forced cross-entropy on every sample, micro-
//! batches accumulated into optimizer steps, global gradient clipping, the
//! learning-rate schedule, periodic validation loss and checkpoints, and
//! exact resume.
//!
//! Determinism: batching follows `(seed, epoch)`, the model's dropout
//! generator is reseeded from
//! `(seed, step, micro-batch)` before every forward pass, and a fresh model
//! is initialised from the seed; so a resumed run repeats, step for step,
//! what the uninterrupted run would have done.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::optim::GradientsAccumulator;
use burn::tensor::backend::{AutodiffBackend, Backend};
use recalign_model_dir::{MANIFEST_FILE, ModelDir, ModelFile, check_agreement};
use recalign_runtime::seed::{GOLDEN_GAMMA, mix64};
use recalign_runtime::{IoError, write_atomically};
use recalign_t5::{Preset, T5, token_log_probs};
use recalign_tokenizer::{T5Tokenizer, TrainOptions};
use serde::Serialize;

use crate::checkpoint::{self, OPTIMIZER_FILE, STATE_FILE, TrainerState};
use crate::config::TrainConfig;
use crate::data::{Examples, HostBatch, Pair, epoch_plan, read_pairs};
use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::parallel::batch_gradients;
use crate::selection::{Best, CurvePoint, Measured, promote, write_curves};

/// Pairs read from the training file to train a tokenizer from scratch.
const TOKENIZER_CORPUS: usize = 20_000;

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A fresh model of this size, with a tokenizer trained on the samples.
    Preset(Preset),
    /// An HF model directory (`config.json`, `model.safetensors`,
    /// `tokenizer.json`), e.g. FLAN-T5-Base.
    Pretrained(PathBuf),
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Settings.
    pub config: TrainConfig,
    /// Training samples (JSON lines).
    pub train_samples: PathBuf,
    /// Validation samples, if any.
    pub valid_samples: Option<PathBuf>,
    /// Output directory.
    pub out: PathBuf,
    /// The starting model.
    pub model: ModelSource,
    /// Continue from the newest checkpoint in `out`, if there is one.
    pub resume: bool,
}

/// What the run is about to do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// First step to run (after a resume, the checkpoint's).
    pub start_step: u64,
    /// Last step.
    pub total_steps: u64,
    /// Training examples.
    pub examples: usize,
    /// Validation examples.
    pub valid_examples: usize,
    /// Model parameters.
    pub parameters: usize,
    /// Vocabulary of the tokenizer.
    pub vocab_size: usize,
    /// Inputs cut to `max_input_tokens`.
    pub truncated_inputs: usize,
    /// Where the run resumed from.
    pub resumed_from: Option<PathBuf>,
}

/// One optimizer step.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Step number (1-based).
    pub step: u64,
    /// Total steps.
    pub total_steps: u64,
    /// Epoch the step's data came from.
    pub epoch: usize,
    /// Mean training loss of the step's micro-batches.
    pub loss: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Real tokens processed.
    pub tokens: usize,
    /// Wall time of the step.
    pub seconds: f64,
}

/// A validation pass.
#[derive(Debug, Clone, Serialize)]
pub struct ValidReport {
    /// Optimizer steps done when it ran.
    pub step: u64,
    /// Token-weighted mean cross-entropy over all validation samples.
    pub loss: f64,
    /// The same per task.
    pub per_task: Vec<(String, f64)>,
}

/// Receives progress; every method has a no-op default.
pub trait Observer {
    /// Before the first step.
    fn started(&mut self, _plan: &Plan) {}
    /// After each optimizer step.
    fn step(&mut self, _report: &StepReport) {}
    /// After each validation pass.
    fn validated(&mut self, _report: &ValidReport) {}
    /// After a checkpoint is written.
    fn checkpointed(&mut self, _dir: &Path) {}
    /// Asked after every step: return true to save a checkpoint and stop
    /// (a later run with `resume` continues exactly).
    fn should_stop(&mut self) -> bool {
        false
    }
    /// Whether this observer measures retrieval at validations
    /// ([`Observer::measure`]); only then does the trainer save a model for
    /// it (`train.valid_users` above 0 asks for it).
    fn measures(&self) -> bool {
        false
    }
    /// Measures retrieval of the model saved in `dir` (a complete model
    /// folder inside the run's output) after `step` steps, on the run's
    /// `valid_users` validation users drawn with its seed, at its `valid_k`.
    fn measure(&mut self, _dir: &Path, _step: u64) -> std::result::Result<Measured, BoxError> {
        Err("this observer measures nothing".into())
    }
    /// After a measurement; `best` when it is the best so far.
    fn measured(&mut self, _step: u64, _measured: &Measured, _best: bool) {}
}

/// The error of an observer's measurement.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// The outcome of a run, also written to `OUT/train-summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// Steps done.
    pub steps: u64,
    /// Whether the run stopped early at the observer's request.
    pub stopped_early: bool,
    /// Loss of the first step of this run's data.
    pub first_loss: Option<f64>,
    /// Mean loss of the last steps (up to 10).
    pub last_loss: Option<f64>,
    /// Validation losses, `(step, loss)`.
    pub valid_losses: Vec<(u64, f64)>,
    /// The best model by validation NDCG@K, kept in `OUT/best/`.
    pub best: Option<Best>,
    /// Whether `patience` measurements without improvement ended the run.
    pub stopped_by_patience: bool,
    /// Mean real tokens per second over the steps run here.
    pub tokens_per_second: f64,
    /// Wall time of the steps run here.
    pub seconds: f64,
    /// The output directory.
    pub out: PathBuf,
}

/// A seed for `(seed, step, micro-batch)` (SplitMix64 finaliser).
fn mix(seed: u64, step: u64, micro: u64) -> u64 {
    mix64(seed ^ step.wrapping_mul(GOLDEN_GAMMA) ^ micro.wrapping_mul(0xbf58_476d_1ce4_e5b9))
}

/// Trains a tokenizer for a fresh model on (a deterministic subset of) the
/// training samples' text, keeping whole the tokens their manifest names.
pub fn train_tokenizer(train_samples: &Path, preset: Preset) -> Result<T5Tokenizer> {
    let pairs = read_pairs(train_samples, Some(TOKENIZER_CORPUS))?;
    let texts = pairs
        .iter()
        .flat_map(|p: &Pair| [p.input.as_str(), p.target.as_str()]);
    Ok(T5Tokenizer::train(
        texts,
        TrainOptions {
            vocab_size: preset.vocab_size(),
            whole_tokens: samples_whole_tokens(train_samples)?,
        },
    )?)
}

/// Copies the samples manifest beside `train_samples` into `out/samples/`,
/// where readers of the model directory look for it
/// ([`ModelDir::trained_with`]), so that a model trained on samples written
/// elsewhere is still asked in their wording and checked against their item
/// identifiers. Nothing to do without a manifest, or when the samples
/// already live there.
fn keep_samples_manifest(train_samples: &Path, out: &Path) -> Result<()> {
    let from = samples_dir(train_samples).join(MANIFEST_FILE);
    if !from.is_file() {
        return Ok(());
    }
    let dir = out.join(ModelFile::Samples.name());
    let to = dir.join(MANIFEST_FILE);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&from, &to) {
        return Ok(());
    }
    let bytes = std::fs::read(&from).map_err(IoError::at(&from))?;
    std::fs::create_dir_all(&dir).map_err(IoError::at(&dir))?;
    write_atomically(&to, &bytes)?;
    Ok(())
}

/// The folder of `train_samples`, where its manifest lives.
fn samples_dir(train_samples: &Path) -> &Path {
    train_samples.parent().unwrap_or(Path::new("."))
}

/// The whole tokens named by the manifest beside `train_samples`.
fn samples_whole_tokens(train_samples: &Path) -> Result<Vec<String>> {
    Ok(recalign_model_dir::whole_tokens(samples_dir(
        train_samples,
    ))?)
}

/// Gives a pretrained tokenizer and model the samples' whole tokens they
/// lack (atomic item identifiers): new token ids, and embedding rows that
/// start as the mean token.
fn add_whole_tokens<B: Backend>(
    tokenizer: &mut T5Tokenizer,
    model: T5<B>,
    train_samples: &Path,
) -> Result<T5<B>> {
    let added = tokenizer.add_whole_tokens(&samples_whole_tokens(train_samples)?)?;
    if added == 0 {
        return Ok(model);
    }
    tracing::info!(
        added,
        vocab = tokenizer.vocab_size(),
        "whole tokens added to the pretrained tokenizer and model"
    );
    Ok(model.grow_vocab(tokenizer.vocab_size()))
}

/// Settings that may change between a checkpoint and its resumed run.
fn resumable(config: &TrainConfig) -> TrainConfig {
    TrainConfig {
        eval_every: 0,
        save_every: 0,
        keep_checkpoints: 1,
        valid_samples: 0,
        patience: None,
        ..config.clone()
    }
}

/// Runs training on `devices` and writes the model into `options.out`.
/// The model lives on the first device; with several, each micro-batch is
/// split across them (see [`crate::parallel`]).
pub fn train<B: AutodiffBackend>(
    options: &RunOptions,
    devices: &[B::Device],
    observer: &mut dyn Observer,
) -> Result<TrainSummary> {
    let Some(device) = devices.first() else {
        return Err(Error::Config {
            origin: "devices".to_owned(),
            message: "training needs at least one device".to_owned(),
        });
    };
    let config = &options.config;
    config.validate().map_err(|message| Error::Config {
        origin: "train settings".to_owned(),
        message,
    })?;
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(IoError::at(out))?;
    keep_samples_manifest(&options.train_samples, out)?;
    let resume_dir = if options.resume {
        checkpoint::latest(out)?
    } else {
        None
    };

    // Tokenizer and model: from the checkpoint, a pretrained directory, or fresh.
    let (tokenizer, mut model) = match (&resume_dir, &options.model) {
        (Some(dir), _) => (
            ModelDir::new(dir).load_tokenizer()?,
            T5::<B>::load(dir, device)?,
        ),
        (None, ModelSource::Pretrained(dir)) => {
            let mut tokenizer = ModelDir::new(dir).load_tokenizer()?;
            let model = T5::<B>::load(dir, device)?;
            let model = add_whole_tokens(&mut tokenizer, model, &options.train_samples)?;
            (tokenizer, model)
        }
        (None, ModelSource::Preset(preset)) => {
            let tokenizer = train_tokenizer(&options.train_samples, *preset)?;
            let model_config = preset.config(tokenizer.vocab_size());
            let model = T5::<B>::random(&model_config, config.seed, device)?;
            (tokenizer, model)
        }
    };
    model.set_precision(config.precision);
    let tokenizer_origin =
        ModelDir::new(resume_dir.as_deref().unwrap_or(out)).file(ModelFile::Tokenizer);
    check_agreement(model.config(), &tokenizer, &tokenizer_origin)?;

    let pairs = read_pairs(&options.train_samples, None)?;
    if pairs.is_empty() {
        return Err(Error::Sample {
            path: options.train_samples.clone(),
            line: 0,
            message: "no training samples".to_owned(),
        });
    }
    let examples = Examples::tokenize(
        &pairs,
        &tokenizer,
        config.max_input_tokens,
        config.max_target_tokens,
    )?;
    drop(pairs);
    let valid = match &options.valid_samples {
        Some(path) if config.valid_samples > 0 => {
            let pairs = read_pairs(path, Some(config.valid_samples))?;
            Some(Examples::tokenize(
                &pairs,
                &tokenizer,
                config.max_input_tokens,
                config.max_target_tokens,
            )?)
        }
        _ => None,
    };

    let micro_per_epoch = examples.len().div_ceil(config.batch_size);
    let steps_per_epoch = micro_per_epoch.div_ceil(config.grad_accum) as u64;
    let total_steps = config
        .max_steps
        .unwrap_or(steps_per_epoch * config.epochs as u64);

    let fingerprint = examples.fingerprint();
    let mut state = TrainerState {
        step: 0,
        total_steps,
        epoch: 0,
        batch: 0,
        data_fingerprint: fingerprint,
        examples: examples.len(),
        config: config.clone(),
        valid_losses: Vec::new(),
        train_losses: Vec::new(),
        ..TrainerState::default()
    };
    let mut optimizer = Optimizer::<B>::new(config.optimizer);
    if let Some(dir) = &resume_dir {
        let saved = checkpoint::read_state(&dir.join(STATE_FILE))?;
        if saved.data_fingerprint != fingerprint || saved.examples != examples.len() {
            return Err(Error::Checkpoint {
                path: dir.clone(),
                message: "the training samples differ from the ones this checkpoint was trained on"
                    .to_owned(),
            });
        }
        if resumable(&saved.config) != resumable(config) || saved.total_steps != total_steps {
            return Err(Error::Checkpoint {
                path: dir.clone(),
                message: "the training settings differ from the checkpoint's (only eval_every, save_every, keep_checkpoints, valid_samples and patience may change)".to_owned(),
            });
        }
        let shapes = model.param_shapes();
        let optimizer_file = dir.join(OPTIMIZER_FILE);
        optimizer = Optimizer::restore(
            config.optimizer,
            saved.step,
            checkpoint::read_tensors(&optimizer_file)?,
            model.param_ids(),
            model.param_names(),
            &shapes,
            device,
            &optimizer_file,
        )?;
        state = saved;
        state.config = config.clone();
    }

    let plan = Plan {
        start_step: state.step,
        total_steps,
        examples: examples.len(),
        valid_examples: valid.as_ref().map_or(0, Examples::len),
        parameters: model.num_params(),
        vocab_size: tokenizer.vocab_size(),
        truncated_inputs: examples.truncated_inputs,
        resumed_from: resume_dir.clone(),
    };
    observer.started(&plan);

    let save_model = |model: &T5<B>, dir: &Path| -> Result<()> {
        model.valid().save(dir)?;
        tokenizer.save(&ModelDir::new(dir).file(ModelFile::Tokenizer))?;
        let text = toml::to_string(&TrainFile {
            train: config.clone(),
        })
        .expect("settings serialise");
        write_atomically(
            &ModelDir::new(dir).file(ModelFile::TrainingRecord),
            text.as_bytes(),
        )?;
        Ok(())
    };

    let pad = tokenizer.pad_id();
    let start = model.config().decoder_start_token_id;
    let mut plan_epoch = state.epoch;
    let mut batches = epoch_plan(&examples, config.batch_size, config.seed, plan_epoch);
    let started = Instant::now();
    let (mut tokens_run, mut stopped_early) = (0usize, false);
    let mut first_loss = None;

    let seconds_before = state.seconds;
    let measuring = config.valid_users > 0 && observer.measures();
    let mut stopped_by_patience = false;
    if state.step > 0 {
        // The resumed checkpoint's curve, continued from here.
        write_curves(out, &state.curve)?;
    }
    if state.step == 0
        && let Some(valid) = &valid
    {
        let report = validate(&model.valid(), valid, config.batch_size, pad, start, 0);
        state.valid_losses.push((0, report.loss));
        observer.validated(&report);
        state.curve.push(CurvePoint {
            step: 0,
            seconds: 0.0,
            train_loss: None,
            valid_loss: Some(report.loss),
            measured: None,
        });
        write_curves(out, &state.curve)?;
    }

    while state.step < total_steps {
        let step_started = Instant::now();
        let step = state.step + 1;
        let _step_span = tracing::debug_span!("train_step", step).entered();
        let mut accumulator = GradientsAccumulator::new();
        let (mut loss_sum, mut tokens) = (0.0, 0usize);
        let data_epoch = state.epoch;
        for micro in 0..config.grad_accum {
            if state.batch >= batches.len() {
                state.epoch += 1;
                state.batch = 0;
            }
            if plan_epoch != state.epoch {
                plan_epoch = state.epoch;
                batches = epoch_plan(&examples, config.batch_size, config.seed, plan_epoch);
            }
            let host = HostBatch::new(&examples, &batches[state.batch], pad, start);
            state.batch += 1;
            tokens += host.tokens;
            let (loss, grads) = batch_gradients(
                &model,
                &host,
                devices,
                config.loss_average,
                mix(config.seed, step, micro as u64),
            );
            loss_sum += loss;
            accumulator.accumulate(&model, grads);
        }
        let loss = loss_sum / config.grad_accum as f64;
        if !loss.is_finite() {
            return Err(Error::Diverged { step, loss });
        }
        let grads = accumulator.grads();
        let average = 1.0 / config.grad_accum as f64;
        let grad_norm = Optimizer::<B>::grad_norm(&model, &grads) * average;
        let clip = match config.clip_norm {
            Some(max) if grad_norm > max => max / (grad_norm + 1e-6),
            _ => 1.0,
        };
        let learning_rate = config.learning_rate_at(step, total_steps);
        model = tracing::debug_span!("optimizer_step")
            .in_scope(|| optimizer.step(model, grads, learning_rate, average * clip));
        state.step = step;
        state.train_losses.push(loss);
        first_loss.get_or_insert(loss);
        tokens_run += tokens;
        observer.step(&StepReport {
            step,
            total_steps,
            epoch: data_epoch,
            loss,
            learning_rate,
            grad_norm,
            tokens,
            seconds: step_started.elapsed().as_secs_f64(),
        });

        let last = step == total_steps;
        let validating = last || (config.eval_every > 0 && step.is_multiple_of(config.eval_every));
        if validating && (valid.is_some() || measuring) {
            let mut point = CurvePoint {
                step,
                seconds: 0.0,
                train_loss: mean_since(&state.train_losses, state.curve.last().map(|p| p.step)),
                valid_loss: None,
                measured: None,
            };
            if let Some(valid) = &valid {
                let report = validate(&model.valid(), valid, config.batch_size, pad, start, step);
                state.valid_losses.push((step, report.loss));
                point.valid_loss = Some(report.loss);
                observer.validated(&report);
            }
            if measuring {
                let staging = recalign_runtime::staging_dir(out)?;
                save_model(&model, staging.path())?;
                let measured = observer
                    .measure(staging.path(), step)
                    .map_err(|source| Error::Measure { step, source })?;
                let better = state.best.is_none_or(|b| measured.ndcg > b.measured.ndcg);
                if better {
                    let best = Best { step, measured };
                    promote(out, &staging.keep(), &best)?;
                    state.best = Some(best);
                    state.since_best = 0;
                } else {
                    state.since_best += 1;
                }
                point.measured = Some(measured);
                observer.measured(step, &measured, better);
                stopped_by_patience = config.patience.is_some_and(|p| state.since_best >= p);
            }
            point.seconds = seconds_before + started.elapsed().as_secs_f64();
            state.curve.push(point);
            write_curves(out, &state.curve)?;
        }
        let stop = !last && !stopped_by_patience && observer.should_stop();
        state.seconds = seconds_before + started.elapsed().as_secs_f64();
        let saving = config.save_every > 0 && step.is_multiple_of(config.save_every);
        if last || stop || stopped_by_patience || saving {
            let dir = checkpoint::save(out, step, config.keep_checkpoints, |dir| {
                save_model(&model, dir)?;
                checkpoint::write_tensors(
                    &dir.join(OPTIMIZER_FILE),
                    &optimizer.named_state(model.param_ids(), model.param_names()),
                )?;
                checkpoint::write_state(&dir.join(STATE_FILE), &state)
            })?;
            observer.checkpointed(&dir);
        }
        if stop {
            stopped_early = true;
            break;
        }
        if stopped_by_patience {
            break;
        }
    }

    if !stopped_early {
        save_model(&model, out)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let summary = TrainSummary {
        steps: state.step,
        stopped_early,
        first_loss,
        last_loss: mean(&state.train_losses[state.train_losses.len().saturating_sub(10)..]),
        valid_losses: state.valid_losses.clone(),
        best: state.best,
        stopped_by_patience,
        tokens_per_second: tokens_run as f64 / seconds.max(1e-9),
        seconds,
        out: out.clone(),
    };
    let text = serde_json::to_string_pretty(&summary).expect("summary serialises");
    write_atomically(
        &ModelDir::new(out).file(ModelFile::Summary),
        text.as_bytes(),
    )?;
    Ok(summary)
}

/// Mean of the training losses after step `since` (all for `None`).
fn mean_since(losses: &[f64], since: Option<u64>) -> Option<f64> {
    mean(&losses[since.map_or(0, |s| s as usize).min(losses.len())..])
}

/// The mean of `values`, if there are any.
fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[derive(Serialize)]
struct TrainFile {
    train: TrainConfig,
}

/// Token-weighted validation cross-entropy, overall and per task, without
/// dropout.
pub fn validate<B: Backend>(
    model: &T5<B>,
    examples: &Examples,
    batch_size: usize,
    pad: u32,
    start: u32,
    step: u64,
) -> ValidReport {
    let device = model.devices().into_iter().next().unwrap_or_default();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples.items[i].input.len());
    let mut sums = vec![(0.0f64, 0usize); examples.tasks.len()];
    for indices in order.chunks(batch_size) {
        let host = HostBatch::new(examples, indices, pad, start);
        let batch = host.to_device::<B>(&device);
        let logits = model.forward(
            batch.input_ids,
            batch.attention_mask,
            batch.decoder_input_ids,
        );
        let per_row = token_log_probs(logits, batch.labels).sum_dim(1);
        let per_row = per_row
            .into_data()
            .convert::<f64>()
            .to_vec::<f64>()
            .expect("f64 values");
        for (row, &index) in indices.iter().enumerate() {
            let example = &examples.items[index];
            let entry = &mut sums[example.task];
            entry.0 -= per_row[row];
            entry.1 += example.target.len();
        }
    }
    let (total, count) = sums
        .iter()
        .fold((0.0, 0), |(s, c), (ts, tc)| (s + ts, c + tc));
    ValidReport {
        step,
        loss: total / count.max(1) as f64,
        per_task: examples
            .tasks
            .iter()
            .zip(&sums)
            .map(|(task, (sum, count))| (task.clone(), sum / (*count).max(1) as f64))
            .collect(),
    }
}
