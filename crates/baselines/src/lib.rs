//! Conventional sequential recommenders for recalign's baseline table,
//! trained on burn and measured **only** through `recalign-eval`, on the
//! same leave-one-out split, protocol, tie rule and metrics as the language
//! model (peers.md §4: a CE-trained SASRec is the baseline any "beats SOTA"
//! claim must clear).
//!
//! | model | architecture and loss (defaults from RecBole's `model/*.yaml`) |
//! |---|---|
//! | `most-popular` | training counts, from [`recalign_eval::popularity`] |
//! | `bpr-mf` | user · item embeddings (64), BPR loss, one uniform unseen negative |
//! | `gru4rec` | embedding (64) → dropout 0.3 → GRU (128) → linear, CE over all items |
//! | `sasrec` | item + learned position embeddings, 2 causal post-LN blocks, 2 heads, hidden 64, inner 256, dropout 0.5, LN eps 1e-12, max_len 50; `ce` (default) or `bce` (one negative per position) |
//! | `bert4rec` | 2 bidirectional blocks, hidden 64, dropout 0.2, cloze with mask prob 0.2; `[mask]` appended at inference |
//!
//! Shared training ([`RunnerConfig`]): Adam (lr 1e-3, ε 1e-8), batches of
//! 256 (users of similar length, grouped within shuffled pools of 32
//! batches so padding stays short), validation on the valid split every epoch by full-ranking NDCG@10,
//! early stopping after 10 validations without improvement, best weights
//! tested once. Item `i` is token `i + 1`; token 0 pads. Sequence models
//! train every position of each user's last `max_len + 1` training items
//! (each position predicts the next item, as Kang & McAuley's SASRec) and
//! read the last `max_len` history items at evaluation (independent of the
//! language model's `prepare.max_history`).
//!
//! Runs are deterministic: initial weights, shuffles, negatives, cloze masks
//! and dropout masks all come from one ChaCha8 stream seeded by
//! `train.seed`, never from the backend's generator.
//!
//! ```no_run
//! use recalign_baselines::{BaselineConfig, Model, Silent, train_and_evaluate};
//! use recalign_data::{load, DatasetSpec, LoadOptions, PrepareConfig, Split};
//! use recalign_eval::Protocol;
//!
//! let spec = DatasetSpec::parse("beauty").unwrap();
//! let data = load(&spec, &PrepareConfig::default(), &LoadOptions::default()).unwrap().dataset;
//! let config = BaselineConfig::default();
//! let protocol = Protocol::retrieval(Split::Test);
//! let outcome = train_and_evaluate(&data, Model::SasRec, &config, &protocol, &mut Silent).unwrap();
//! println!("{}", outcome.report.table());
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod batch;
pub mod config;
pub mod error;
mod models;
mod nn;
pub mod runner;

pub use config::{
    BaselineConfig, Bert4RecConfig, BprMfConfig, Gru4RecConfig, Model, RunnerConfig, SasRecConfig,
    SasRecLoss, TransformerConfig,
};
pub use error::{Error, Result};
pub use runner::{
    EpochRecord, Outcome, Progress, ProgressEvent, SELECTION_METRIC, Silent, Tested, TrainBackend,
    train_and_evaluate, train_and_evaluate_on,
};
