//! Fine-tuning T5 on recalign's samples.
//!
//! [`train`] reads the samples files (JSON lines of `input`, `target`,
//! `task`), tokenises them ([`data`]), batches them by length, and runs
//! teacher-forced cross-entropy with AdamW or Adafactor ([`optim`]), a
//! warm-up and decay schedule, gradient clipping and accumulation,
//! validation loss, and HF-layout checkpoints that resume exactly
//! ([`checkpoint`]). The backend is a type parameter: the binary picks CPU
//! (`Flex`) or CUDA at run time ([`recalign_runtime::device`]).

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
pub mod optim;
pub mod parallel;
pub mod selection;
pub mod trainer;

pub use config::{LossAverage, Schedule, TrainConfig};
pub use error::{Error, Result};
pub use optim::{Optimizer, OptimizerConfig};
pub use recalign_runtime::{DeviceChoice, DeviceError, TrainingJob};
pub use selection::{BEST_DIR, Best, CURVES_FILE, Measured, read_curves};
pub use trainer::{
    BoxError, ModelSource, Observer, Plan, Quiet, RunOptions, StepReport, TrainSummary,
    ValidReport, train, train_tokenizer, validate,
};
