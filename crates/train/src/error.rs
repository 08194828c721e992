//! Errors of a training run; each names the file, line or setting at fault.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong while training.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] recalign_runtime::IoError),
    /// A sample line is not valid.
    #[error("{}:{line}: {message}", path.display())]
    Sample {
        /// The samples file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The training settings are not valid.
    #[error("{origin}: {message}")]
    Config {
        /// Where the settings came from (a file, or `--flag`).
        origin: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The observer's retrieval measurement failed.
    #[error("validation retrieval at step {step}: {source}")]
    Measure {
        /// The step measured.
        step: u64,
        /// What went wrong.
        source: crate::trainer::BoxError,
    },
    /// A checkpoint is incomplete, corrupt or from another run.
    #[error("{}: {message}", path.display())]
    Checkpoint {
        /// The checkpoint file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model could not be loaded or saved.
    #[error(transparent)]
    Model(#[from] recalign_t5::Error),
    /// The model directory is not valid, or its tokenizer does not fit.
    #[error(transparent)]
    ModelDir(#[from] recalign_model_dir::Error),
    /// The tokenizer could not be loaded, trained or used.
    #[error(transparent)]
    Tokenizer(#[from] recalign_tokenizer::Error),
    /// The requested device is not available in this build or machine.
    #[error(transparent)]
    Device(#[from] recalign_runtime::DeviceError),
    /// Training diverged (a non-finite loss).
    #[error("training diverged at step {step}: loss is {loss}")]
    Diverged {
        /// Optimizer step.
        step: u64,
        /// The loss seen.
        loss: f64,
    },
}
