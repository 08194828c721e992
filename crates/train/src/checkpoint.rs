//! Checkpoints: a directory per saved step under `OUT/checkpoints/`, holding
//! the model in HF layout (`config.json`, `model.safetensors`,
//! `tokenizer.json`), the optimizer state (`optimizer.safetensors`, tensors
//! named `{parameter}.{slot}`) and `trainer_state.json` (step, data
//! position, seed, data fingerprint, settings). A checkpoint is written into
//! a hidden temporary directory and renamed into place, so a crash mid-save
//! never leaves a partial checkpoint where resuming would find it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::TensorData;
use recalign_model_dir::{ModelDir, ModelFile};
use recalign_runtime::{IoError, staging_dir, write_atomically};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::{Error, Result};

/// Trainer state file of a checkpoint.
pub const STATE_FILE: &str = "trainer_state.json";
/// Optimizer state file of a checkpoint.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";

/// Where a run stands: everything besides tensors needed to resume exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    /// Total optimizer steps of the run.
    pub total_steps: u64,
    /// Epoch of the next micro-batch.
    pub epoch: usize,
    /// Index of the next micro-batch in that epoch's plan.
    pub batch: usize,
    /// Fingerprint of the tokenised training examples.
    pub data_fingerprint: u64,
    /// Number of training examples.
    pub examples: usize,
    /// The run's settings.
    pub config: TrainConfig,
    /// Validation losses so far, `(step, loss)`.
    pub valid_losses: Vec<(u64, f64)>,
    /// Mean training loss of each step so far.
    pub train_losses: Vec<f64>,
    /// The learning curve so far (`OUT/curves.csv`).
    #[serde(default)]
    pub curve: Vec<crate::selection::CurvePoint>,
    /// The best model by validation NDCG@K so far (`OUT/best/`).
    #[serde(default)]
    pub best: Option<crate::selection::Best>,
    /// Measurements since the best one.
    #[serde(default)]
    pub since_best: u64,
    /// Wall seconds of the run so far, over resumes.
    #[serde(default)]
    pub seconds: f64,
}

/// Name of the checkpoint directory of `step`.
pub fn dir_name(step: u64) -> String {
    format!("step-{step:07}")
}

/// The newest complete checkpoint under `out`, if any.
pub fn latest(out: &Path) -> Result<Option<PathBuf>> {
    let dir = ModelDir::new(out).file(ModelFile::Checkpoints);
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(&dir).map_err(IoError::at(&dir))? {
        let path = entry.map_err(IoError::at(&dir))?.path();
        let Some(step) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("step-"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if path.join(STATE_FILE).is_file() && best.as_ref().is_none_or(|(s, _)| step > *s) {
            best = Some((step, path));
        }
    }
    Ok(best.map(|(_, path)| path))
}

/// Writes a checkpoint: `write` fills a temporary directory, which is then
/// renamed to `step-NNNNNNN`. Older checkpoints beyond `keep` are removed.
pub fn save(
    out: &Path,
    step: u64,
    keep: usize,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let dir = ModelDir::new(out).file(ModelFile::Checkpoints);
    std::fs::create_dir_all(&dir).map_err(IoError::at(&dir))?;
    let staging = staging_dir(&dir)?;
    write(staging.path())?;
    let target = dir.join(dir_name(step));
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(IoError::at(&target))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target).map_err(IoError::at(&target))?;
    prune(&dir, keep)?;
    Ok(target)
}

fn prune(dir: &Path, keep: usize) -> Result<()> {
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(IoError::at(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step-"))
        })
        .collect();
    steps.sort();
    let excess = steps.len().saturating_sub(keep);
    for old in &steps[..excess] {
        std::fs::remove_dir_all(old).map_err(IoError::at(old))?;
    }
    Ok(())
}

/// Writes `state` as pretty JSON.
pub fn write_state(path: &Path, state: &TrainerState) -> Result<()> {
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    write_atomically(path, text.as_bytes())?;
    Ok(())
}

/// Reads a `trainer_state.json`.
pub fn read_state(path: &Path) -> Result<TrainerState> {
    let text = std::fs::read_to_string(path).map_err(IoError::at(path))?;
    serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Writes named f32 tensors as safetensors, atomically.
pub fn write_tensors(path: &Path, tensors: &[(String, TensorData)]) -> Result<()> {
    write_atomically(path, &recalign_t5::weights::safetensors_bytes(tensors))?;
    Ok(())
}

/// Reads the tensors of a safetensors file by name, as f32.
pub fn read_tensors(path: &Path) -> Result<BTreeMap<String, TensorData>> {
    Ok(recalign_t5::Checkpoint::read(path)?.take_all()?)
}
