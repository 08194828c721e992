//! What can go wrong when a model recommends: its files, a tokenizer that
//! does not fit the model or the catalogue, and bad requests.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a recommendation or an evaluation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model's config or weights.
    #[error(transparent)]
    Model(#[from] recalign_t5::Error),
    /// The tokenizer file.
    #[error(transparent)]
    Tokenizer(#[from] recalign_tokenizer::Error),
    /// The evaluator.
    #[error(transparent)]
    Eval(#[from] recalign_eval::Error),
    /// The constrained search.
    #[error(transparent)]
    Search(#[from] recalign_decode::SearchError),
    /// The samples configuration.
    #[error(transparent)]
    Samples(#[from] recalign_samples::Error),
    /// The model directory, or a tokenizer that does not fit the model.
    #[error(transparent)]
    ModelDir(#[from] recalign_model_dir::Error),
    /// The tokenizer does not fit the model or the catalogue.
    #[error("{}: {message}", path.display())]
    Mismatch {
        /// The tokenizer file.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// A request the model cannot answer (empty history, unknown or
    /// repeated items, K beyond the catalogue).
    #[error("{0}")]
    Request(String),
}
