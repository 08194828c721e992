//! Training with early stopping and evaluation through `recalign-eval`.
//!
//! [`train_and_evaluate`] builds the model from the run's seed, trains it
//! with Adam on shuffled batches, validates every `eval_every` epochs on the
//! valid split (full ranking, NDCG@10), keeps the best weights, stops after
//! `patience` validations without improvement, and evaluates the best
//! weights once under the caller's protocol (normally retrieval on the test
//! split). Every number comes from [`Evaluation::record_scores`]: the model
//! scores the whole catalogue for each case, and the evaluator applies the
//! tie rule, history exclusion and metrics shared with the language model.

use std::path::Path;
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use recalign_data::{Dataset, Split};
use recalign_eval::{
    Case, Evaluation, ModelInfo, Protocol, RankingLine, RankingsWriter, Report, UserRanking,
    UserSample, evaluate_popularity_on,
};
use serde::Serialize;

use crate::batch::{TrainData, UserQuery};
use crate::config::{BaselineConfig, Model};
use crate::error::{Error, Result};
use crate::models::bert4rec::Bert4Rec;
use crate::models::bpr::BprMf;
use crate::models::gru4rec::Gru4Rec;
use crate::models::sasrec::SasRec;
use crate::models::{Baseline, Step};
use crate::nn::{Init, Noise};

/// The training backend on CPU: Flex with autodiff.
pub type TrainBackend = Autodiff<Flex>;

/// The metric that selects the epoch (on the valid split).
pub const SELECTION_METRIC: &str = "ndcg@10";

/// One epoch of training, with its validation if it had one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Wall time of the epoch's training (without validation), seconds.
    pub train_seconds: f64,
    /// Valid-split NDCG@10, when validated this epoch.
    pub valid_ndcg10: Option<f64>,
    /// Wall time of the validation, seconds.
    pub valid_seconds: Option<f64>,
    /// Whether this epoch's weights are the best so far.
    pub best: bool,
}

/// What a run reports as it goes, for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent<'a> {
    /// Training starts: the most epochs and the batches in each.
    Started {
        /// The model.
        model: Model,
        /// `train.epochs`.
        epochs: usize,
        /// Batches per epoch.
        batches: usize,
    },
    /// A training batch finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// Its loss.
        loss: f64,
    },
    /// An epoch (and its validation, if any) finished.
    Epoch(&'a EpochRecord),
    /// Early stopping ended training after `epoch`.
    Stopped {
        /// The last epoch trained.
        epoch: usize,
        /// The epoch whose weights are kept.
        best_epoch: usize,
    },
    /// The final evaluation (test split) starts, over this many cases.
    Testing {
        /// Cases to evaluate.
        cases: usize,
    },
}

/// Receives [`ProgressEvent`]s. Closures taking `&ProgressEvent` implement
/// it.
pub trait Progress {
    /// Called for every event, in order.
    fn on(&mut self, event: &ProgressEvent<'_>);
}

impl<F: FnMut(&ProgressEvent<'_>)> Progress for F {
    fn on(&mut self, event: &ProgressEvent<'_>) {
        self(event)
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn on(&mut self, _event: &ProgressEvent<'_>) {}
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The model.
    pub model: Model,
    /// The final evaluation's report (best weights, caller's protocol).
    pub report: Report,
    /// Each evaluated user's ranking in the final evaluation.
    pub rankings: Vec<UserRanking>,
    /// Every epoch trained (empty for MostPopular).
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were tested (`None` for MostPopular).
    pub best_epoch: Option<usize>,
    /// Its valid-split NDCG@10.
    pub best_valid_ndcg10: Option<f64>,
    /// Wall time of training and validation, seconds.
    pub train_seconds: f64,
}

impl Outcome {
    /// Writes the final rankings as JSON lines with raw ids (the format of
    /// [`recalign_eval::read_rankings`]), atomically; returns the line
    /// count.
    pub fn write_rankings(&self, dataset: &Dataset, path: &Path) -> Result<usize> {
        let mut writer = RankingsWriter::create(path)?;
        for ranking in &self.rankings {
            writer.write(&RankingLine::of(dataset, ranking))?;
        }
        Ok(writer.finish()?)
    }
}

/// Trains `model` on `dataset` on the CPU (Flex) with the settings of
/// `config`, selects the epoch by valid-split NDCG@10, and evaluates it
/// under `protocol` (a retrieval or ranking protocol, normally
/// [`Protocol::retrieval`] on [`Split::Test`]).
pub fn train_and_evaluate(
    dataset: &Dataset,
    model: Model,
    config: &BaselineConfig,
    protocol: &Protocol,
    progress: &mut dyn Progress,
) -> Result<Outcome> {
    train_and_evaluate_on::<TrainBackend>(
        dataset,
        model,
        config,
        &Tested::all(protocol),
        progress,
        &Default::default(),
    )
}

/// What the selected model is tested on: a protocol and, optionally, a
/// seeded subset of its users (to stand beside a model evaluated on the
/// same users). Validation always uses every validation user.
#[derive(Debug, Clone, Copy)]
pub struct Tested<'p> {
    /// The protocol.
    pub protocol: &'p Protocol,
    /// The users; `None` for all.
    pub users: Option<UserSample>,
}

impl<'p> Tested<'p> {
    /// Every user of `protocol`.
    pub fn all(protocol: &'p Protocol) -> Self {
        Tested {
            protocol,
            users: None,
        }
    }
}

/// [`train_and_evaluate`] on any autodiff backend and device, tested as
/// `tested` says; evaluation runs on its inner backend.
pub fn train_and_evaluate_on<B: AutodiffBackend>(
    dataset: &Dataset,
    model: Model,
    config: &BaselineConfig,
    tested: &Tested<'_>,
    progress: &mut dyn Progress,
    device: &B::Device,
) -> Result<Outcome> {
    let protocol = tested.protocol;
    let tested_users = tested.users;
    config.validate()?;
    protocol.validate()?;
    if !protocol.is_ranking() {
        return Err(Error::Config(format!(
            "{model} ranks items; the protocol `{protocol}` asks for ratings"
        )));
    }
    if model == Model::MostPopular {
        progress.on(&ProgressEvent::Testing {
            cases: protocol.sampled_cases(dataset, tested_users).len(),
        });
        let evaluation = evaluate_popularity_on(dataset, protocol, tested_users)?;
        let info = ModelInfo::new(model.name())
            .with_description("training-interaction counts (recalign-eval)");
        return Ok(Outcome {
            model,
            report: evaluation.report(info),
            rankings: evaluation.rankings().to_vec(),
            epochs: Vec::new(),
            best_epoch: None,
            best_valid_ndcg10: None,
            train_seconds: 0.0,
        });
    }
    let data = TrainData::new(dataset);
    let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
    let (users, items) = (dataset.num_users(), dataset.num_items());
    let mut init = Init::<B>::new(&mut rng, device);
    let run = Run {
        dataset,
        data: &data,
        config,
        protocol,
        users: tested_users,
        model,
        device,
    };
    match model {
        Model::MostPopular => unreachable!("handled above"),
        Model::BprMf => {
            let m = BprMf::new(&mut init, &config.bpr_mf, users, items);
            run.fit(m, rng, progress)
        }
        Model::Gru4Rec => {
            let m = Gru4Rec::new(&mut init, &config.gru4rec, items);
            run.fit(m, rng, progress)
        }
        Model::SasRec => {
            let m = SasRec::new(&mut init, &config.sasrec, items);
            run.fit(m, rng, progress)
        }
        Model::Bert4Rec => {
            let m = Bert4Rec::new(&mut init, &config.bert4rec, items);
            run.fit(m, rng, progress)
        }
    }
}

/// Evaluates `model` on the cases of `protocol` that `users` picks (all
/// for `None`), scoring the whole catalogue in batches of `batch_size`
/// users.
pub(crate) fn evaluate<'d, B: Backend, M: Baseline<B>>(
    model: &M,
    dataset: &'d Dataset,
    (protocol, users): (&'d Protocol, Option<UserSample>),
    batch_size: usize,
    device: &B::Device,
) -> Result<Evaluation<'d>> {
    let mut evaluation = Evaluation::new(dataset, protocol)?;
    let cases: Vec<Case<'d>> = protocol.sampled_cases(dataset, users);
    let items = dataset.num_items();
    let mut picked = Vec::new();
    for chunk in cases.chunks(batch_size.max(1)) {
        let queries: Vec<UserQuery<'_>> = chunk
            .iter()
            .map(|c| UserQuery {
                user: c.user(),
                history: c.history(),
            })
            .collect();
        let scores = model
            .scores(&queries, device)
            .into_data()
            .into_vec::<f32>()
            .map_err(|e| Error::Data(format!("reading scores: {e:?}")))?;
        if scores.len() != chunk.len() * items {
            return Err(Error::Data(format!(
                "the model scored {} values for {} users × {items} items",
                scores.len(),
                chunk.len()
            )));
        }
        for (case, row) in chunk.iter().zip(scores.chunks_exact(items)) {
            match &case.candidates {
                Some(candidates) => {
                    picked.clear();
                    picked.extend(candidates.iter().map(|c| row[c.index()]));
                    evaluation.record_scores(case, &picked)?;
                }
                None => {
                    evaluation.record_scores(case, row)?;
                }
            }
        }
    }
    Ok(evaluation)
}

/// Batches sampled per pool when grouping by length.
const POOL_BATCHES: usize = 32;

/// One epoch's batches as ranges of `units`: the units are shuffled, each
/// pool of [`POOL_BATCHES`] batches is sorted by sequence length and cut
/// into batches, and the batch order is shuffled. Batches then hold users of
/// similar length, so padding to the batch's longest sequence wastes little
/// (Amazon sequences are short with a long tail), while every epoch still
/// mixes users randomly.
fn epoch_plan<B: Backend, M: Baseline<B>>(
    model: &M,
    data: &TrainData,
    units: &mut [u32],
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<std::ops::Range<usize>> {
    units.shuffle(rng);
    let pool = batch_size * POOL_BATCHES;
    let mut plan = Vec::with_capacity(units.len().div_ceil(batch_size));
    let mut start = 0;
    for chunk in units.chunks_mut(pool) {
        chunk.sort_by_key(|&u| model.unit_len(data, u));
        let mut at = 0;
        while at < chunk.len() {
            let end = (at + batch_size).min(chunk.len());
            plan.push(start + at..start + end);
            at = end;
        }
        start += chunk.len();
    }
    plan.shuffle(rng);
    plan
}

/// The validation protocol: the caller's task on the valid split, with
/// NDCG@10 among the cut-offs.
fn validation_protocol(protocol: &Protocol) -> Protocol {
    let mut ks = protocol.ks.clone();
    if !ks.contains(&10) {
        ks.push(10);
        ks.sort_unstable();
    }
    Protocol {
        split: Split::Valid,
        task: protocol.task.clone(),
        ks,
    }
}

struct Run<'a, B: Backend> {
    dataset: &'a Dataset,
    data: &'a TrainData,
    config: &'a BaselineConfig,
    protocol: &'a Protocol,
    users: Option<UserSample>,
    model: Model,
    device: &'a B::Device,
}

impl<B: AutodiffBackend> Run<'_, B> {
    fn fit<M>(
        &self,
        mut model: M,
        mut rng: ChaCha8Rng,
        progress: &mut dyn Progress,
    ) -> Result<Outcome>
    where
        M: Baseline<B> + AutodiffModule<B>,
        M::InnerModule: Baseline<B::InnerBackend>,
    {
        let train = &self.config.train;
        let started = Instant::now();
        let mut adam = AdamConfig::new().with_epsilon(1e-8);
        if train.weight_decay > 0.0 {
            adam = adam.with_weight_decay(Some(WeightDecayConfig::new(train.weight_decay as f32)));
        }
        let mut optimizer = adam.init::<B, M>();
        let mut units = model.units(self.data);
        if units.is_empty() {
            return Err(Error::Data(format!(
                "no training examples for {} in `{}`",
                self.model, self.dataset.name
            )));
        }
        let batches = units.len().div_ceil(train.batch_size);
        progress.on(&ProgressEvent::Started {
            model: self.model,
            epochs: train.epochs,
            batches,
        });
        let valid = validation_protocol(self.protocol);
        let inner_device = self.device.clone();
        let mut epochs = Vec::new();
        let mut best: Option<(usize, f64, M)> = None;
        let mut stale = 0;
        for epoch in 1..=train.epochs {
            let epoch_started = Instant::now();
            let plan = epoch_plan(&model, self.data, &mut units, train.batch_size, &mut rng);
            let mut loss_sum = 0.0;
            for (b, chunk) in plan.iter().map(|r| &units[r.clone()]).enumerate() {
                let loss = model.loss(&mut Step {
                    data: self.data,
                    units: chunk,
                    noise: Noise::train(&mut rng),
                    device: self.device,
                });
                let value = loss.clone().into_scalar().elem::<f64>();
                if !value.is_finite() {
                    return Err(Error::Diverged {
                        epoch,
                        batch: b,
                        loss: value,
                    });
                }
                loss_sum += value;
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optimizer.step(train.learning_rate, model, grads);
                progress.on(&ProgressEvent::Batch {
                    epoch,
                    batch: b + 1,
                    loss: value,
                });
            }
            let mut record = EpochRecord {
                epoch,
                loss: loss_sum / batches as f64,
                train_seconds: epoch_started.elapsed().as_secs_f64(),
                valid_ndcg10: None,
                valid_seconds: None,
                best: false,
            };
            let mut stop = false;
            if epoch % train.eval_every == 0 || epoch == train.epochs {
                let valid_started = Instant::now();
                let inner = model.valid();
                let evaluation = evaluate(
                    &inner,
                    self.dataset,
                    (&valid, None),
                    train.eval_batch_size,
                    &inner_device,
                )?;
                let ndcg = evaluation.metrics().get(SELECTION_METRIC).unwrap_or(0.0);
                record.valid_ndcg10 = Some(ndcg);
                record.valid_seconds = Some(valid_started.elapsed().as_secs_f64());
                if best.as_ref().is_none_or(|(_, b, _)| ndcg > *b) {
                    best = Some((epoch, ndcg, model.clone()));
                    record.best = true;
                    stale = 0;
                } else {
                    stale += 1;
                    stop = stale >= train.patience;
                }
            }
            tracing::debug!(
                model = %self.model,
                epoch,
                loss = record.loss,
                valid_ndcg10 = ?record.valid_ndcg10,
                "epoch"
            );
            progress.on(&ProgressEvent::Epoch(&record));
            epochs.push(record);
            if stop {
                let best_epoch = best.as_ref().map_or(epoch, |(e, _, _)| *e);
                progress.on(&ProgressEvent::Stopped { epoch, best_epoch });
                break;
            }
        }
        let train_seconds = started.elapsed().as_secs_f64();
        let (best_epoch, best_ndcg, best_model) = best.expect("the last epoch is validated");
        progress.on(&ProgressEvent::Testing {
            cases: self.protocol.sampled_cases(self.dataset, self.users).len(),
        });
        let evaluation = evaluate(
            &best_model.valid(),
            self.dataset,
            (self.protocol, self.users),
            train.eval_batch_size,
            &inner_device,
        )?;
        let description = format!(
            "best epoch {best_epoch} of {} by valid {SELECTION_METRIC} {best_ndcg:.4}; \
             trained {train_seconds:.1} s",
            epochs.len(),
        );
        let info = ModelInfo::new(self.model.name()).with_description(description);
        let mut report = evaluation.report(info);
        let extra = [
            ("config", self.config.describe(self.model)),
            ("best_epoch", best_epoch.into()),
            ("epochs_trained", epochs.len().into()),
            ("best_valid_ndcg10", best_ndcg.into()),
            ("train_seconds", train_seconds.into()),
        ];
        report
            .extra
            .extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(Outcome {
            model: self.model,
            report,
            rankings: evaluation.rankings().to_vec(),
            epochs,
            best_epoch: Some(best_epoch),
            best_valid_ndcg10: Some(best_ndcg),
            train_seconds,
        })
    }
}
