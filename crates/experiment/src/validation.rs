//! Training's periodic retrieval check: the model saved at a validation
//! step, asked by [`recalign_recommend::evaluate()`] exactly as `recalign
//! evaluate --split valid --users N --users-seed SEED` asks it (history
//! kept, default beams), on the `[train]` table's `valid_users` users drawn
//! with its `seed`. Training itself depends on no evaluator; this is the
//! [`Observer::measure`](recalign_train::Observer::measure) that `recalign
//! train` and the experiment pipeline give it.

use std::path::Path;

use burn::tensor::backend::Backend;
use recalign_data::{Dataset, Split};
use recalign_eval::{Protocol, UserSample};
use recalign_recommend::{EvaluateOptions, ModelDir, Recommender, Settings};
use recalign_runtime::{DeviceChoice, InferenceJob};
use recalign_samples::{Generator, SamplesConfig};
use recalign_train::{Measured, TrainConfig};

use crate::{Error, Result};

/// What a run's periodic retrieval check asks, and of which dataset.
pub struct RetrievalCheck<'d> {
    dataset: &'d Dataset,
    fallback_samples: SamplesConfig,
    protocol: Protocol,
    sample: UserSample,
    k: usize,
    device: DeviceChoice,
}

impl<'d> RetrievalCheck<'d> {
    /// The check `config` asks for on `dataset`, or `None` when
    /// `valid_users` is 0; impossible settings are refused by key.
    pub fn new(
        dataset: &'d Dataset,
        fallback_samples: SamplesConfig,
        config: &TrainConfig,
        device: DeviceChoice,
    ) -> Result<Option<Self>> {
        if config.valid_users == 0 {
            return Ok(None);
        }
        let users = dataset.held_out_all(Split::Valid).count();
        if config.valid_users > users {
            return Err(Error::Invalid(format!(
                "train.valid_users: {} is more than the {users} validation users of `{}`",
                config.valid_users, dataset.name
            )));
        }
        if config.valid_k > dataset.num_items() {
            return Err(Error::Invalid(format!(
                "train.valid_k: {} is more than the {} items of `{}`",
                config.valid_k,
                dataset.num_items(),
                dataset.name
            )));
        }
        let mut protocol = Protocol::retrieval(Split::Valid);
        if !protocol.ks.contains(&config.valid_k) {
            protocol.ks.push(config.valid_k);
            protocol.ks.sort_unstable();
        }
        Ok(Some(Self {
            dataset,
            fallback_samples,
            protocol,
            sample: UserSample {
                users: config.valid_users,
                seed: config.seed,
            },
            k: config.valid_k,
            device,
        }))
    }

    /// Retrieval NDCG@K and Hit@K of the model saved in `dir`.
    pub fn measure(&self, dir: &Path) -> Result<Measured> {
        let trained = ModelDir::open(dir)?.trained_with()?;
        let samples = match trained.manifest {
            Some(_) => trained.samples.clone(),
            None => self.fallback_samples.clone(),
        };
        let settings = Settings {
            max_input_tokens: trained.max_input_tokens,
            ..Settings::default()
        };
        self.device.infer(MeasureJob {
            check: self,
            dir,
            samples,
            settings,
        })
    }
}

struct MeasureJob<'a> {
    check: &'a RetrievalCheck<'a>,
    dir: &'a Path,
    samples: SamplesConfig,
    settings: Settings,
}

impl InferenceJob for MeasureJob<'_> {
    type Output = Measured;
    type Error = Error;

    fn run<B: Backend>(self, device: B::Device) -> Result<Measured> {
        let check = self.check;
        let dataset = check.dataset;
        let generator = Generator::new(dataset, self.samples)?;
        let recommender = Recommender::<B>::load(self.dir, &generator, self.settings, &device)?;
        let options = EvaluateOptions {
            batch_users: 0,
            users: Some(check.sample),
        };
        let outcome = recalign_recommend::evaluate(
            &recommender,
            dataset,
            &check.protocol,
            &options,
            &mut |_| {},
        )?;
        let metrics = outcome.evaluation.metrics();
        let metric = |name: &str| {
            metrics
                .get(&format!("{name}@{}", check.k))
                .ok_or_else(|| Error::Internal(format!("the evaluation has no {name}@{}", check.k)))
        };
        Ok(Measured {
            ndcg: metric("ndcg")?,
            hit: metric("hit")?,
            k: check.k,
            users: outcome.evaluation.users_evaluated(),
        })
    }
}
