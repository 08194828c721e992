//! Training settings: the `[train]` table of a TOML file, overridable from
//! the command line. Unknown keys and out-of-range values are rejected by
//! name. Defaults follow paper.md §9.2 (512 input / 64 target tokens,
//! AdamW with linear decay and warm-up); `optimizer = { name = "adafactor" }`
//! gives T5X's constant-rate Adafactor.

use serde::{Deserialize, Serialize};

use recalign_t5::Precision;

use crate::error::{Error, Result};
use crate::optim::OptimizerConfig;

/// How the learning rate moves after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Constant after warm-up.
    Constant,
    /// Linear decay to 0 at the last step (HF's default).
    Linear,
    /// `lr · √(warmup / step)` after warm-up (T5's original schedule).
    InverseSqrt,
}

/// How the loss averages over a batch's labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossAverage {
    /// Over tokens, as HF's `T5ForConditionalGeneration`: a sample weighs
    /// as many labels as its target has.
    Tokens,
    /// Over samples, each its own token mean: a one-token retrieval answer
    /// weighs as much as a long MIM or MLM answer (the default: validation
    /// NDCG@10 0.062 against 0.041 with token means on the shop, see
    /// `benches/runs.md`).
    #[default]
    Samples,
}

/// Settings of one training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of batching, dropout and fresh weights.
    pub seed: u64,
    /// Passes over the training samples.
    pub epochs: usize,
    /// Stop after this many optimizer steps (overrides `epochs` when set).
    pub max_steps: Option<u64>,
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Decay after warm-up.
    pub schedule: Schedule,
    /// Linear warm-up steps.
    pub warmup_steps: u64,
    /// The optimizer and its settings.
    pub optimizer: OptimizerConfig,
    /// Clip the global gradient norm to this value (none when absent).
    pub clip_norm: Option<f64>,
    /// How the loss averages: `"tokens"` (HF's) or `"samples"`.
    pub loss_average: LossAverage,
    /// `"f32"`, or `"bf16"` matrix products with f32 weights, softmax,
    /// norms and loss (mixed precision, for CUDA; see
    /// [`recalign_t5::Precision`]). Left out of the written settings when
    /// f32, so runs from before the key keep their identity.
    #[serde(skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// Longest input in tokens; longer inputs keep their end (the most
    /// recent history and the question).
    pub max_input_tokens: usize,
    /// Longest target in tokens; longer targets keep their start.
    pub max_target_tokens: usize,
    /// Validation loss every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Validation samples used (the first ones of the file).
    pub valid_samples: usize,
    /// Checkpoint every this many steps (0: only at the end).
    pub save_every: u64,
    /// Checkpoints kept on disk.
    pub keep_checkpoints: usize,
    /// Validation users whose retrieval NDCG@K and Hit@K are measured at
    /// every validation: a subset drawn with `seed` (0: none). The model
    /// with the best NDCG@K is kept in `OUT/best/`.
    pub valid_users: usize,
    /// The K of that measurement.
    pub valid_k: usize,
    /// Stop after this many measurements without a better NDCG@K (absent:
    /// never).
    pub patience: Option<u64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            epochs: 1,
            max_steps: None,
            batch_size: 32,
            grad_accum: 1,
            learning_rate: 1e-3,
            schedule: Schedule::Linear,
            warmup_steps: 50,
            optimizer: OptimizerConfig::adamw(),
            clip_norm: Some(1.0),
            loss_average: LossAverage::Samples,
            precision: Precision::F32,
            max_input_tokens: 512,
            max_target_tokens: 64,
            eval_every: 200,
            valid_samples: 1000,
            save_every: 500,
            keep_checkpoints: 2,
            valid_users: 500,
            valid_k: 10,
            patience: None,
        }
    }
}

impl TrainConfig {
    /// Settings for the `tiny` preset on a CPU: 1,000 steps of 16
    /// sequences (chosen from the learning curves in `benches/runs.md`,
    /// where the shop's validation NDCG@10 passes MostPopular's after about
    /// 600 steps), validation on 256 samples and retrieval on 300 users
    /// every 100 steps.
    pub fn tiny() -> Self {
        Self {
            max_steps: Some(1000),
            batch_size: 16,
            warmup_steps: 20,
            eval_every: 100,
            valid_samples: 256,
            valid_users: 300,
            save_every: 100,
            ..Self::default()
        }
    }

    /// Reads the `[train]` table of a TOML document (defaults when absent).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        Self::from_toml_over(text, origin, &Self::default())
    }

    /// Reads the `[train]` table of a TOML document; keys it leaves out keep
    /// their value in `base`.
    pub fn from_toml_over(text: &str, origin: &str, base: &Self) -> Result<Self> {
        let error = |message: String| Error::Config {
            origin: origin.to_owned(),
            message,
        };
        let mut file: toml::Table = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let config = match file.remove("train") {
            Some(toml::Value::Table(table)) => {
                let mut merged = toml::Table::try_from(base).expect("settings serialise");
                merged.extend(table);
                Self::deserialize(merged).map_err(|e| error(format!("[train] {e}")))?
            }
            Some(_) => return Err(error("`train` must be a table".to_owned())),
            None => base.clone(),
        };
        config.validate().map_err(error)?;
        Ok(config)
    }

    /// Checks ranges, naming the key.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("grad_accum", self.grad_accum),
            ("max_input_tokens", self.max_input_tokens),
            ("max_target_tokens", self.max_target_tokens),
            ("keep_checkpoints", self.keep_checkpoints),
            ("valid_k", self.valid_k),
        ];
        recalign_runtime::settings::require_positive("train", &positive)?;
        if self.max_input_tokens < 2 || self.max_target_tokens < 2 {
            return Err(
                "train.max_input_tokens / max_target_tokens: must be at least 2".to_owned(),
            );
        }
        match self.patience {
            Some(0) => {
                return Err(
                    "train.patience: 0 would stop before any measurement; give at least 1, or \
                     leave it out to never stop early"
                        .to_owned(),
                );
            }
            Some(_) if self.valid_users == 0 => {
                return Err(
                    "train.patience: needs train.valid_users above 0 (nothing is measured)"
                        .to_owned(),
                );
            }
            _ => {}
        }
        if self.max_steps == Some(0) {
            return Err("train.max_steps: must be at least 1".to_owned());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(format!(
                "train.learning_rate: {} must be positive",
                self.learning_rate
            ));
        }
        if let Some(clip) = self.clip_norm
            && !(clip > 0.0 && clip.is_finite())
        {
            return Err(format!("train.clip_norm: {clip} must be positive"));
        }
        self.optimizer.validate().map_err(|e| format!("train.{e}"))
    }

    /// The learning rate at optimizer step `step` (1-based) of `total`.
    pub fn learning_rate_at(&self, step: u64, total: u64) -> f64 {
        let peak = self.learning_rate;
        let warmup = self.warmup_steps;
        if warmup > 0 && step <= warmup {
            return peak * step as f64 / warmup as f64;
        }
        match self.schedule {
            Schedule::Constant => peak,
            Schedule::Linear => {
                let left = total.saturating_sub(step) as f64;
                let span = total.saturating_sub(warmup).max(1) as f64;
                peak * (left / span).clamp(0.0, 1.0)
            }
            Schedule::InverseSqrt => peak * (warmup.max(1) as f64 / step as f64).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_rejects_unknown_keys() {
        let config = TrainConfig::from_toml(
            "[train]\nbatch_size = 8\noptimizer = { name = \"adafactor\" }\n[samples]\nx = 1\n",
            "run.toml",
        )
        .unwrap();
        assert_eq!(config.batch_size, 8);
        assert_eq!(config.optimizer, OptimizerConfig::adafactor());
        assert_eq!(config.max_input_tokens, 512);
        let err = TrainConfig::from_toml("[train]\nbatch_sise = 8\n", "run.toml").unwrap_err();
        assert!(
            err.to_string().contains("batch_sise") && err.to_string().contains("run.toml"),
            "{err}"
        );
        let err = TrainConfig::from_toml("[train]\ngrad_accum = 0\n", "run.toml").unwrap_err();
        assert!(err.to_string().contains("train.grad_accum"), "{err}");
        let err = TrainConfig::from_toml(
            "[train]\noptimizer = { name = \"adamw\", beta2 = 1.5 }\n",
            "run.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("beta2"), "{err}");
    }

    #[test]
    fn selection_and_loss_keys_are_read_and_checked_by_name() {
        let config = TrainConfig::from_toml(
            "[train]\nloss_average = \"tokens\"\nvalid_users = 50\nvalid_k = 20\npatience = 3\n",
            "run.toml",
        )
        .unwrap();
        assert_eq!(config.loss_average, LossAverage::Tokens);
        assert_eq!((config.valid_users, config.valid_k), (50, 20));
        assert_eq!(config.patience, Some(3));
        assert_eq!(TrainConfig::default().loss_average, LossAverage::Samples);
        for (table, key) in [
            ("loss_average = \"mean\"", "loss_average"),
            ("valid_k = 0", "train.valid_k"),
            ("patience = 0", "train.patience"),
            ("valid_users = 0\npatience = 1", "train.patience"),
            ("valid_user = 5", "valid_user"),
        ] {
            let err = TrainConfig::from_toml(&format!("[train]\n{table}\n"), "run.toml")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(key) && err.contains("run.toml"),
                "{table}: {err}"
            );
        }
    }

    #[test]
    fn schedules_warm_up_then_decay() {
        let mut config = TrainConfig {
            warmup_steps: 10,
            learning_rate: 1.0,
            ..TrainConfig::default()
        };
        assert_eq!(config.learning_rate_at(5, 110), 0.5);
        assert_eq!(config.learning_rate_at(10, 110), 1.0);
        assert!((config.learning_rate_at(60, 110) - 0.5).abs() < 1e-12);
        assert_eq!(config.learning_rate_at(110, 110), 0.0);
        config.schedule = Schedule::InverseSqrt;
        assert!((config.learning_rate_at(40, 110) - 0.5).abs() < 1e-12);
        config.schedule = Schedule::Constant;
        assert_eq!(config.learning_rate_at(100, 110), 1.0);
    }
}
