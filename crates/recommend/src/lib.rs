//! A fine-tuned T5 as a recommender, measured like every other model.
//!
//! The model learnt from the samples of `recalign-samples`, so it is asked
//! in their words: [`Recommender`] renders a held-out sample's prompt
//! ([`recalign_samples::Generator::prompt`]) and reads the answer the way
//! the sample's target is written.
//!
//! - retrieval: beam search constrained to the catalogue's trie
//!   (`recalign-decode`), every answer a real item, history optionally
//!   excluded;
//! - ranking: every candidate scored by its teacher-forced log-probability,
//!   the encoder run once per user;
//! - rating: expected value and argmax over the answers "1" … "5".
//!
//! [`evaluate()`] runs a protocol of `recalign-eval` over the valid or test
//! users, so the report, the rankings file and the metrics are those of the
//! baselines. [`trained_with`] (from `recalign-model-dir`) reads how a model directory was trained
//! (samples configuration, input budget) so that it is asked the same way.

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod error;
pub mod evaluate;
pub mod recommender;

pub use error::{Error, Result};
pub use evaluate::{EvalTask, EvaluateOptions, Floors, Outcome, evaluate, ranking_protocol};
pub use recalign_decode::Scoring;
pub use recalign_model_dir::{ModelDir, TrainedWith, trained_with};
pub use recommender::{
    History, ModelParts, RATINGS, RatingPrediction, Recommendation, Recommender, Settings,
};
