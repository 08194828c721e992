//! Errors of training and evaluating a baseline.

use std::path::PathBuf;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is unknown or out of range (the message names the key).
    #[error("baseline config: {0}")]
    Config(String),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The dataset cannot train this model.
    #[error("dataset: {0}")]
    Data(String),
    /// The training loss became NaN or infinite.
    #[error("training diverged at epoch {epoch}, batch {batch}: loss {loss}")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch within the epoch.
        batch: usize,
        /// The loss.
        loss: f64,
    },
    /// The evaluator refused a protocol or scores.
    #[error(transparent)]
    Eval(#[from] recalign_eval::Error),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
