//! Measures a [`Recommender`] with recalign's one evaluator, under the same
//! [`Protocol`]s as every baseline: users are taken in batches, asked
//! exactly what their held-out samples ask, and their answers recorded in
//! an [`Evaluation`].
//!
//! [`ranking_protocol`] gives the ranking task the candidate lists the
//! model's ranking samples showed, for the model and the baselines alike;
//! [`Floors`] are what a ranking is reported beside (MostPopular on the
//! same users, a random ranking's expectation).

use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::backend::Backend;
use recalign_data::{Dataset, ItemIdx, Split};
use recalign_eval::{
    Case, Evaluation, Metrics, ModelInfo, Protocol, ProtocolTask, RatingMetrics, Report,
    UserSample, evaluate_popularity_on, random_expected,
};
use recalign_samples::{Query, SamplesConfig};

use crate::error::Result;
use crate::recommender::{History, Recommender};

/// How an evaluation runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluateOptions {
    /// Users per batch; 0 picks one per task (retrieval 16, ranking 4,
    /// rating 32).
    pub batch_users: usize,
    /// Evaluate only a seeded subset of users (a quick look, or training's
    /// periodic validation); `None` evaluates everyone.
    pub users: Option<UserSample>,
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

impl Outcome<'_> {
    /// The report of `recommender`, loaded from `path`, evaluated on
    /// `users`: its metrics with the rating protocol's extra ones, the model
    /// described by its size and how it was asked, and the user subset.
    pub fn report<B: Backend>(
        &self,
        recommender: &Recommender<'_, '_, B>,
        path: &Path,
        users: Option<UserSample>,
    ) -> Report {
        let config = recommender.model().config();
        let asked = recommender.settings();
        let model = ModelInfo::new("recalign-t5")
            .with_path(path)
            .with_description(format!(
                "{} layers, d_model {}, vocab {}; {} wording, {} beams, {:?} scoring, {} input tokens",
                config.num_layers,
                config.d_model,
                config.vocab_size,
                recommender.samples().style.name(),
                asked.beams,
                asked.scoring,
                asked.max_input_tokens,
            ));
        let mut report = self.evaluation.report(model);
        for (name, value) in self.extra.iter() {
            report.metrics.insert(name, value);
        }
        report.record_users(users);
        report
    }
}

/// Evaluates `recommender` on `dataset` under `protocol`, calling
/// `progress` with the number of users done after each batch.
///
/// Users are batched by the length of their prompt: a batch pads to its
/// longest prompt, and the encoder's cost grows with the square of that
/// length, so batches of like length cost far less than batches in user
/// order (`crates/recommend/benches/runs.md`). A user's answer does not
/// depend on the batch it is decoded in, and answers are recorded in the
/// users' order, so the report and rankings file are those of any order.
pub fn evaluate<'d, B: Backend>(
    recommender: &Recommender<'_, '_, B>,
    dataset: &'d Dataset,
    protocol: &'d Protocol,
    options: &EvaluateOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Outcome<'d>> {
    let mut evaluation = Evaluation::new(dataset, protocol)?;
    let batch = match (options.batch_users, &protocol.task) {
        (0, ProtocolTask::Retrieval { .. }) => 16,
        (0, ProtocolTask::Ranking { .. }) => 4,
        (0, ProtocolTask::Rating) => 32,
        (n, _) => n,
    };
    let cases: Vec<Case<'d>> = protocol.sampled_cases(dataset, options.users);
    // Every task's prompt is the history's plus a part of like length
    // for all users (a candidate list, one item), so the retrieval
    // prompt's length orders them all.
    let mut order: Vec<(usize, usize)> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let tokens = recommender.prompt_tokens(history(case), Query::Retrieval)?;
            Ok((tokens.len(), i))
        })
        .collect::<Result<_>>()?;
    order.sort_unstable();
    let mut answers: Vec<Option<Answer>> = vec![None; cases.len()];
    let mut done = 0;
    for chunk in order.chunks(batch) {
        let chunk: Vec<(usize, &Case<'d>)> = chunk.iter().map(|&(_, i)| (i, &cases[i])).collect();
        let histories: Vec<History<'_>> = chunk.iter().map(|(_, case)| history(case)).collect();
        match &protocol.task {
            ProtocolTask::Retrieval { .. } => {
                let excluded: Vec<Vec<ItemIdx>> = chunk
                    .iter()
                    .map(|(_, case)| case.excluded.clone())
                    .collect();
                let found = recommender.retrieve(&histories, protocol.max_k(), &excluded)?;
                for (&(i, _), items) in chunk.iter().zip(found) {
                    answers[i] = Some(Answer::Ranked(items.iter().map(|r| r.item).collect()));
                }
            }
            ProtocolTask::Ranking { .. } => {
                let requests: Vec<(History<'_>, &[ItemIdx])> = chunk
                    .iter()
                    .zip(&histories)
                    .filter_map(|((_, case), &h)| case.candidates.as_deref().map(|c| (h, c)))
                    .collect();
                let mut scores = recommender.rank(&requests)?.into_iter();
                for &(i, case) in &chunk {
                    answers[i] = Some(match case.candidates {
                        Some(_) => Answer::Scores(scores.next().unwrap_or_default()),
                        // A user with too few unseen items for a list.
                        None => Answer::Skipped,
                    });
                }
            }
            ProtocolTask::Rating => {
                let requests: Vec<(History<'_>, ItemIdx)> = chunk
                    .iter()
                    .zip(&histories)
                    .map(|((_, case), &h)| (h, case.target()))
                    .collect();
                let predictions = recommender.rate(&requests)?;
                for (&(i, _), prediction) in chunk.iter().zip(predictions) {
                    answers[i] = Some(Answer::Rating {
                        expected: prediction.expected,
                        argmax: prediction.argmax,
                    });
                }
            }
        }
        done += chunk.len();
        progress(done);
    }
    let mut argmax = RatingMetrics::new();
    for (case, answer) in cases.iter().zip(answers) {
        match answer {
            Some(Answer::Ranked(items)) => {
                evaluation.record_ranked(case, &items)?;
            }
            Some(Answer::Scores(scores)) => {
                evaluation.record_scores(case, &scores)?;
            }
            Some(Answer::Skipped) | None => evaluation.skip(),
            Some(Answer::Rating {
                expected,
                argmax: top,
            }) => {
                evaluation.record_rating(case, f64::from(expected))?;
                if let Some(actual) = case.target_event().rating() {
                    argmax.add(f64::from(top), f64::from(actual))?;
                }
            }
        }
    }
    let mut extra = Metrics::default();
    if protocol.task == ProtocolTask::Rating && argmax.count() > 0 {
        extra.insert("rmse_argmax", argmax.rmse());
        extra.insert("mae_argmax", argmax.mae());
    }
    Ok(Outcome { evaluation, extra })
}

/// The history `case` asks about.
fn history<'c>(case: &'c Case<'_>) -> History<'c> {
    History {
        user: Some(case.user()),
        events: case.history(),
    }
}

/// What the model answered for one user, kept until every batch is done.
#[derive(Debug, Clone)]
enum Answer {
    /// Retrieval: the items, best first.
    Ranked(Vec<ItemIdx>),
    /// Ranking: each candidate's score, in the list's order.
    Scores(Vec<f32>),
    /// Ranking: no list for this user.
    Skipped,
    /// Rating: the expected and the most likely rating.
    Rating { expected: f32, argmax: f32 },
}

/// A task a fine-tuned model is evaluated on, with its protocol: the one
/// definition `recalign evaluate` and experiments share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvalTask {
    /// Next-item retrieval over the whole catalogue (constrained beams).
    Retrieval,
    /// Ranking seeded 1 + N candidate lists (the ranking samples' lists).
    Ranking,
    /// Rating prediction.
    Rating,
}

impl EvalTask {
    /// Every task.
    pub const ALL: [EvalTask; 3] = [EvalTask::Retrieval, EvalTask::Ranking, EvalTask::Rating];

    /// Its name in files, reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EvalTask::Retrieval => "retrieval",
            EvalTask::Ranking => "ranking",
            EvalTask::Rating => "rating",
        }
    }

    /// Whether it ranks items (and so has ranking baselines and floors).
    pub fn ranks(self) -> bool {
        self != EvalTask::Rating
    }

    /// The protocol of this task on `split`: retrieval over the catalogue
    /// (history items excluded or not), the lists of ranking samples
    /// written with `samples`, or the held-out rating.
    pub fn protocol(
        self,
        split: Split,
        exclude_history: bool,
        samples: &SamplesConfig,
    ) -> Protocol {
        match self {
            EvalTask::Retrieval => Protocol::retrieval_with(split, exclude_history),
            EvalTask::Ranking => ranking_protocol(split, samples),
            EvalTask::Rating => Protocol::rating(split),
        }
    }
}

/// The ranking protocol on `split` over the lists ranking samples written
/// with `samples` show: `samples.ranking.candidates` items (the target and
/// uniform negatives) drawn with `samples.seed`. A fine-tuned model and the
/// baselines evaluated with the same samples settings rank the same lists.
pub fn ranking_protocol(split: Split, samples: &SamplesConfig) -> Protocol {
    Protocol::ranking_with(split, samples.ranking.candidates, samples.seed)
}

/// What a model's ranking metrics are reported beside, on the same users
/// and lists: MostPopular (training counts) and the expectation of a
/// uniformly random ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Floors {
    /// MostPopular's metrics.
    pub most_popular: Metrics,
    /// A random ranking's expected `hit@K` and `ndcg@K`.
    pub random: Metrics,
}

impl Floors {
    /// The floors of `protocol` on the users `users` picks (all for
    /// `None`); `None` for rating, which ranks nothing.
    pub fn measure(
        dataset: &Dataset,
        protocol: &Protocol,
        users: Option<UserSample>,
    ) -> Result<Option<Floors>> {
        if !protocol.is_ranking() {
            return Ok(None);
        }
        let most_popular = evaluate_popularity_on(dataset, protocol, users)?
            .report(ModelInfo::new("most-popular"))
            .metrics;
        Ok(Some(Floors {
            most_popular,
            random: random_expected(dataset, protocol),
        }))
    }

    /// Records them in `report.extra` as `most_popular` and
    /// `random_expected`.
    pub fn record(&self, report: &mut Report) {
        for (key, metrics) in [
            ("most_popular", &self.most_popular),
            ("random_expected", &self.random),
        ] {
            let value = serde_json::to_value(metrics).unwrap_or_default();
            report.extra.insert(key.to_string(), value);
        }
    }

    /// `metrics` of the model called `model` beside the floors, one line per
    /// metric all three have.
    pub fn table(&self, model: &str, metrics: &Metrics) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10} {model:>12} {:>12} {:>12}",
            "metric", "most-popular", "random"
        );
        for (name, value) in metrics.iter() {
            if let (Some(p), Some(r)) = (self.most_popular.get(name), self.random.get(name)) {
                let _ = writeln!(out, "{name:<10} {value:>12.4} {p:>12.4} {r:>12.4}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use recalign_data::synthetic::SyntheticConfig;
    use recalign_data::{DatasetSpec, LoadOptions, PrepareConfig, load};

    use super::*;

    fn shop() -> Dataset {
        let spec = DatasetSpec::Synthetic(SyntheticConfig {
            seed: 1,
            users: 200,
        });
        load(&spec, &PrepareConfig::default(), &LoadOptions::default())
            .unwrap()
            .dataset
    }

    #[test]
    fn ranking_lists_follow_the_samples_settings() {
        let mut samples = SamplesConfig::default();
        samples.ranking.candidates = 50;
        samples.seed = 7;
        let protocol = ranking_protocol(Split::Valid, &samples);
        assert_eq!(protocol, Protocol::ranking_with(Split::Valid, 50, 7));
        let defaults = ranking_protocol(Split::Test, &SamplesConfig::default());
        assert_eq!(defaults, Protocol::ranking(Split::Test));
    }

    #[test]
    fn floors_stand_beside_rankings_only() {
        let dataset = shop();
        let protocol = Protocol::ranking(Split::Test);
        let floors = Floors::measure(&dataset, &protocol, Some(UserSample { users: 20, seed: 0 }))
            .unwrap()
            .unwrap();
        assert_eq!(floors.random.get("hit@10"), Some(0.1));
        let popular = floors.most_popular.get("ndcg@10").unwrap();
        assert!((0.0..=1.0).contains(&popular), "{popular}");

        let mut report =
            evaluate_popularity_on(&dataset, &protocol, Some(UserSample { users: 20, seed: 0 }))
                .unwrap()
                .report(ModelInfo::new("model"));
        floors.record(&mut report);
        assert!(report.extra["most_popular"]["ndcg@10"].is_number());
        assert_eq!(report.extra["random_expected"]["hit@10"], 0.1);
        let table = floors.table("model", &report.metrics);
        assert!(table.starts_with("metric"), "{table}");
        assert!(table.contains("\nhit@10 "), "{table}");
        assert!(!table.contains("mrr"), "{table}");

        let rating = Protocol::rating(Split::Test);
        assert!(Floors::measure(&dataset, &rating, None).unwrap().is_none());
    }
}
