//! MostPopular: every user gets the items with the most training
//! interactions. It is the floor every model is reported beside, and it is
//! evaluated through the same [`Evaluation`] as the models, so its numbers
//! use the same protocol, tie rule and exclusion.
//!
//! Counts come from the training split only (each user's sequence less its
//! validation and test interactions), so no held-out interaction makes its
//! own item more popular. Items with equal counts tie, and ties count
//! against the target ([`crate::metrics::target_rank`]).

use recalign_data::Dataset;

use crate::error::{Error, Result};
use crate::evaluation::Evaluation;
use crate::protocol::{Protocol, UserSample};

/// Training-interaction counts per catalogue item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popularity {
    counts: Vec<u32>,
}

impl Popularity {
    /// Counts the training interactions of `dataset`.
    pub fn from_training(dataset: &Dataset) -> Self {
        let mut counts = vec![0u32; dataset.num_items()];
        for user in dataset.users() {
            for event in dataset.train_sequence(user) {
                counts[event.item.index()] += 1;
            }
        }
        Popularity { counts }
    }

    /// One count per catalogue item, indexed by `ItemIdx`: the scores of
    /// full ranking.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }
}

/// Evaluates MostPopular on `dataset` under `protocol` (retrieval or
/// ranking): per-user ranks and rankings are in
/// [`Evaluation::rankings`], the metrics in [`Evaluation::report`].
pub fn evaluate_popularity<'d>(
    dataset: &'d Dataset,
    protocol: &'d Protocol,
) -> Result<Evaluation<'d>> {
    evaluate_popularity_on(dataset, protocol, None)
}

/// [`evaluate_popularity`] on the users `users` picks (all for `None`),
/// to stand beside a model evaluated on the same users.
pub fn evaluate_popularity_on<'d>(
    dataset: &'d Dataset,
    protocol: &'d Protocol,
    users: Option<UserSample>,
) -> Result<Evaluation<'d>> {
    if !protocol.is_ranking() {
        return Err(Error::Protocol(
            "MostPopular ranks items; it does not predict ratings".to_string(),
        ));
    }
    let popularity = Popularity::from_training(dataset);
    let counts = popularity.counts();
    let mut evaluation = Evaluation::new(dataset, protocol)?;
    let mut scores = Vec::new();
    for case in protocol.sampled_cases(dataset, users) {
        match &case.candidates {
            Some(candidates) => {
                scores.clear();
                scores.extend(candidates.iter().map(|c| counts[c.index()]));
                evaluation.record_scores(&case, &scores)?;
            }
            None => {
                evaluation.record_scores(&case, counts)?;
            }
        }
    }
    Ok(evaluation)
}

/// The mean of the training split's ratings (`None` without any): the
/// rating a model that knows nothing of the user or item predicts, and so
/// the floor of rating prediction.
pub fn training_mean_rating(dataset: &Dataset) -> Option<f64> {
    let (mut sum, mut count) = (0.0, 0u64);
    for user in dataset.users() {
        for rating in dataset
            .train_sequence(user)
            .iter()
            .filter_map(|e| e.rating())
        {
            sum += f64::from(rating);
            count += 1;
        }
    }
    (count > 0).then(|| sum / count as f64)
}

/// Evaluates the training mean rating as a prediction for every case of a
/// rating `protocol` that `users` picks (all for `None`).
pub fn evaluate_mean_rating<'d>(
    dataset: &'d Dataset,
    protocol: &'d Protocol,
    users: Option<UserSample>,
) -> Result<Evaluation<'d>> {
    let mean = training_mean_rating(dataset).ok_or_else(|| {
        Error::Protocol(format!(
            "`{}` has no training ratings to average",
            dataset.name
        ))
    })?;
    let mut evaluation = Evaluation::new(dataset, protocol)?;
    for case in protocol.sampled_cases(dataset, users) {
        evaluation.record_rating(&case, mean)?;
    }
    Ok(evaluation)
}
