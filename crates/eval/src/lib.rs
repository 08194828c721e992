//! The one evaluator of recalign: the language model and every
//! conventional baseline are measured by this crate, on the same
//! leave-one-out split and the same protocols, so their numbers compare
//! (peers.md §5.3).
//!
//! # Brief overview
//!
//! - [`metrics`]: Hit@K (= Recall@K), NDCG@K, MRR@K and MRR for one target
//!   per user, RMSE and MAE, and the rank of a target from scores with a
//!   pessimistic tie rule and masked items.
//! - [`protocol`]: retrieval (full ranking of the catalogue, history kept or
//!   excluded), ranking (1 target + 99 seeded uniform negatives) and rating,
//!   on the valid or test split; each user's [`Case`].
//! - [`evaluation`]: [`Evaluation`] records a model's scores or ranked list
//!   per case and produces the metrics, the per-user rankings and the
//!   report.
//! - [`diversity`]: whether a model personalises: the share of the
//!   catalogue in the users' top-10 lists and the mean overlap of two
//!   users' lists, reported beside every ranking metric (`coverage@10`,
//!   `overlap@10`).
//! - [`report`]: the JSON [`Report`] (written atomically) with a text
//!   table, and the rankings JSON-lines file anyone can recompute metrics
//!   from.
//! - [`popularity`]: MostPopular from training counts, the floor every
//!   model is reported beside.
//! - [`random`]: the expected metrics of a uniformly random ranking, the
//!   floor below it.
//!
//! ```
//! use recalign_data::{load, DatasetSpec, LoadOptions, PrepareConfig, Split};
//! use recalign_data::synthetic::SyntheticConfig;
//! use recalign_eval::{evaluate_popularity, ModelInfo, Protocol};
//!
//! let spec = DatasetSpec::Synthetic(SyntheticConfig { seed: 1, users: 200 });
//! let data = load(&spec, &PrepareConfig::default(), &LoadOptions::default()).unwrap().dataset;
//! let protocol = Protocol::retrieval(Split::Test);
//! let report = evaluate_popularity(&data, &protocol).unwrap().report(ModelInfo::new("most-popular"));
//! assert!(report.metric("hit@20").unwrap() >= report.metric("hit@10").unwrap());
//! println!("{}", report.table());
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod diversity;
pub mod error;
pub mod evaluation;
pub mod metrics;
pub mod popularity;
pub mod protocol;
pub mod random;
pub mod report;

pub use diversity::Diversity;
pub use error::{Error, Result};
pub use evaluation::{Evaluation, UserRanking};
pub use metrics::{DEFAULT_KS, RankingMetrics, RatingMetrics, Score, target_rank, top_k};
pub use popularity::{
    Popularity, evaluate_mean_rating, evaluate_popularity, evaluate_popularity_on,
    training_mean_rating,
};
pub use protocol::{Case, Protocol, ProtocolTask, Sampler, UserSample};
pub use random::{random_expected, random_ranking};
pub use report::{
    DatasetInfo, Metrics, ModelInfo, RankingLine, RankingsWriter, Report, metrics_from_rankings,
    read_rankings,
};
