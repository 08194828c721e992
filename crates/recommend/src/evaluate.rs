//! Measures a [`Recommender`] with recalign's one evaluator, under the same
//! [`Protocol`]s as every baseline: users are taken in batches, asked
//! exactly what their held-out samples ask, and their answers recorded in
//! an [`Evaluation`].

use burn::tensor::backend::Backend;
use recalign_data::{Dataset, ItemIdx};
use recalign_eval::{Case, Evaluation, Metrics, Protocol, RatingMetrics, Task};

use crate::error::Result;
use crate::recommender::{History, Recommender};

/// How an evaluation runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluateOptions {
    /// Users per batch; 0 picks one per task (retrieval 16, ranking 4,
    /// rating 32).
    pub batch_users: usize,
    /// Evaluate only the first N users (in user order), for a quick look;
    /// `None` evaluates everyone.
    pub max_users: Option<usize>,
}

/// An evaluation and the metrics it cannot hold itself.
#[derive(Debug)]
pub struct Outcome<'d> {
    /// Metrics, rankings and timing.
    pub evaluation: Evaluation<'d>,
    /// Rating protocol: RMSE and MAE of the argmax rating
    /// (`rmse_argmax`, `mae_argmax`), beside the expected rating's.
    pub extra: Metrics,
}

/// Evaluates `recommender` on `dataset` under `protocol`, calling
/// `progress` with the number of users done after each batch.
pub fn evaluate<'d, B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    dataset: &'d Dataset,
    protocol: &'d Protocol,
    options: &EvaluateOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Outcome<'d>> {
    let mut evaluation = Evaluation::new(dataset, protocol)?;
    let batch = match (options.batch_users, &protocol.task) {
        (0, Task::Retrieval { .. }) => 16,
        (0, Task::Ranking { .. }) => 4,
        (0, Task::Rating) => 32,
        (n, _) => n,
    };
    let mut cases: Vec<Case<'d>> = protocol.cases(dataset).collect();
    if let Some(n) = options.max_users {
        cases.truncate(n);
    }
    let mut argmax = RatingMetrics::new();
    let mut done = 0;
    for chunk in cases.chunks(batch) {
        let histories: Vec<History<'_>> = chunk
            .iter()
            .map(|case| History {
                user: Some(case.user()),
                events: case.history(),
            })
            .collect();
        match &protocol.task {
            Task::Retrieval { .. } => {
                let excluded: Vec<Vec<ItemIdx>> =
                    chunk.iter().map(|case| case.excluded.clone()).collect();
                let found = recommender.retrieve(&histories, protocol.max_k(), &excluded)?;
                for (case, items) in chunk.iter().zip(found) {
                    let ranked: Vec<ItemIdx> = items.iter().map(|r| r.item).collect();
                    evaluation.record_ranked(case, &ranked)?;
                }
            }
            Task::Ranking { .. } => {
                let requests: Vec<(History<'_>, &[ItemIdx])> = chunk
                    .iter()
                    .zip(&histories)
                    .filter_map(|(case, &h)| case.candidates.as_deref().map(|c| (h, c)))
                    .collect();
                let scores = recommender.rank(&requests)?;
                let mut scores = scores.into_iter();
                for case in chunk {
                    match case.candidates {
                        Some(_) => {
                            let scores = scores.next().unwrap_or_default();
                            evaluation.record_scores(case, &scores)?;
                        }
                        // A user with too few unseen items for a list.
                        None => evaluation.skip(),
                    }
                }
            }
            Task::Rating => {
                let requests: Vec<(History<'_>, ItemIdx)> = chunk
                    .iter()
                    .zip(&histories)
                    .map(|(case, &h)| (h, case.target()))
                    .collect();
                let predictions = recommender.rate(&requests)?;
                for (case, prediction) in chunk.iter().zip(predictions) {
                    evaluation.record_rating(case, f64::from(prediction.expected))?;
                    if let Some(actual) = case.target_event().rating() {
                        argmax.add(f64::from(prediction.argmax), f64::from(actual))?;
                    }
                }
            }
        }
        done += chunk.len();
        progress(done);
    }
    let mut extra = Metrics::default();
    if protocol.task == Task::Rating && argmax.count() > 0 {
        extra.insert("rmse_argmax", argmax.rmse());
        extra.insert("mae_argmax", argmax.mae());
    }
    Ok(Outcome { evaluation, extra })
}
