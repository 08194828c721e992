//! Experiments: the whole method from one TOML file, reproducibly.
//!
//! An [`Experiment`] names a dataset and its item identifiers, the sample
//! mixture and wording, the model (a preset or a pretrained folder), the
//! training budget, seeds and device, the evaluation and the baselines, and
//! optionally grid axes whose cells run one after another ([`config`]).
//! [`run()`] takes each cell through content-addressed stages ([`stage`]):
//! prepare, samples, train (selected on validation), evaluate each task on
//! the test users, the baselines under the identical protocol and users,
//! then `results.json` per cell and the report over all of them. A rerun
//! skips every finished stage whose settings are unchanged and resumes an
//! interrupted training from its last checkpoint.
//!
//! Run folder (`RUNS/NAME/`; a grid's cells under `cells/CELL/`):
//!
//! ```text
//! run.json  config.toml  settings.json  dataset-NAME.json
//! samples/KEY/            train and valid samples, manifest, summary
//! model/                  checkpoints, best/ (selected), curves.csv
//! eval/TASK/              report.json, rankings.jsonl
//! baselines/MODEL-TASK-KEY/   report.json, rankings.jsonl (shared by cells)
//! results.json  report.md  plots/*.svg
//! ```

pub mod config;
mod pipeline;
pub mod stage;
mod validation;

use std::path::PathBuf;

pub use config::{Cell, EvalTask, EvaluateSettings, Experiment};
pub use pipeline::{Finished, Monitor, RunOptions, StageInfo, run};
pub use validation::RetrievalCheck;

/// What can go wrong in an experiment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The experiment file is malformed or asks for something impossible.
    #[error("{origin}: {message}")]
    Config {
        /// The file.
        origin: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Settings that the data makes impossible (more candidates than items,
    /// rating without ratings, a missing pretrained folder).
    #[error("{0}")]
    Invalid(String),
    /// A run folder that cannot be used.
    #[error("{path}: {message}")]
    RunDir {
        /// The folder or its identity file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The run was asked to stop; what it finished is kept.
    #[error(
        "interrupted during {stage}; finished stages and the last training checkpoint are kept \
         in {dir}: run the same command again to continue"
    )]
    Interrupted {
        /// The stage that was running.
        stage: String,
        /// The run folder.
        dir: PathBuf,
    },
    /// A file operation.
    #[error(transparent)]
    Io(#[from] recalign_runtime::IoError),
    /// Loading or preparing data.
    #[error(transparent)]
    Data(#[from] recalign_data::Error),
    /// Writing samples.
    #[error(transparent)]
    Samples(#[from] recalign_samples::Error),
    /// Training.
    #[error(transparent)]
    Train(#[from] recalign_train::Error),
    /// Reading a model folder.
    #[error(transparent)]
    ModelDir(#[from] recalign_model_dir::Error),
    /// Asking the fine-tuned model.
    #[error(transparent)]
    Recommend(#[from] recalign_recommend::Error),
    /// Evaluating.
    #[error(transparent)]
    Eval(#[from] recalign_eval::Error),
    /// A baseline.
    #[error(transparent)]
    Baselines(#[from] recalign_baselines::Error),
    /// Writing the report.
    #[error(transparent)]
    Report(#[from] recalign_report::Error),
    /// The device asked for is not available.
    #[error(transparent)]
    Device(#[from] recalign_runtime::DeviceError),
    /// A bug: something recalign wrote itself could not be read back.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;
