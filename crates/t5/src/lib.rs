//! A trainable T5 v1.1 / FLAN-T5 on burn that reads and writes Hugging Face's
//! `config.json` + `model.safetensors` as they are.
//!
//! No Rust crate offers a T5 that can be fine-tuned, so recalign owns this
//! one: the model ([`model`], its layers in private modules beside it), its
//! configuration ([`config`]) and weights by HF name ([`weights`]). It is
//! checked against HF transformers' logits and loss on committed fixtures
//! (`tests/fixtures`, made by `scripts/fixtures/t5_parity.py`).

mod attention;
mod block;
mod cache;
pub mod config;
pub mod error;
mod feed_forward;
mod layers;
pub mod loss;
pub mod model;
mod stack;
pub mod weights;

use std::path::Path;

use burn::tensor::backend::Backend;

pub use config::{Activation, FeedForwardKind, Preset, T5Config};
pub use error::{Error, Result};
pub use layers::Precision;
pub use loss::{IGNORE_INDEX, cross_entropy, sample_cross_entropy, shift_right, token_log_probs};
pub use model::{DecoderCache, Encoded, T5};
/// Dropout from the model's own seeded stream.
pub use recalign_runtime::dropout;
pub use weights::Checkpoint;

use weights::ParamBuilder;

/// File names of a model directory, as HF writes them.
pub const CONFIG_FILE: &str = "config.json";
/// Weights file of a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

impl<B: Backend> T5<B> {
    /// A model with T5's random initialisation, seeded.
    pub fn random(config: &T5Config, seed: u64, device: &B::Device) -> Result<Self> {
        config.validate().map_err(|message| Error::Config {
            path: CONFIG_FILE.into(),
            message,
        })?;
        let factor = config
            .extra
            .get("initializer_factor")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(1.0);
        T5::build(config, ParamBuilder::random(device, seed, factor))
    }

    /// Loads `config.json` and `model.safetensors` from an HF model directory.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let config = T5Config::load(&dir.join(CONFIG_FILE))?;
        Self::load_weights(&config, &dir.join(WEIGHTS_FILE), device)
    }

    /// Builds the model of `config` from a safetensors file: every tensor the
    /// config needs must be there with its shape, and nothing else may be.
    pub fn load_weights(config: &T5Config, path: &Path, device: &B::Device) -> Result<Self> {
        config.validate().map_err(|message| Error::Config {
            path: path.with_file_name(CONFIG_FILE),
            message,
        })?;
        let mut checkpoint = Checkpoint::read(path)?;
        let model = T5::build(config, ParamBuilder::checkpoint(device, &mut checkpoint))?;
        model.check_aliases(&mut checkpoint)?;
        checkpoint.finish()?;
        Ok(model)
    }

    /// HF files may repeat the input embedding as `encoder.embed_tokens`,
    /// `decoder.embed_tokens` and, when tied, `lm_head`: these must equal
    /// `shared.weight`, since this model has one embedding.
    fn check_aliases(&self, checkpoint: &mut Checkpoint) -> Result<()> {
        let mut aliases = vec!["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"];
        if self.config().tie_word_embeddings {
            aliases.push("lm_head.weight");
        }
        let shared = self.shared_embedding().into_data().convert::<f32>();
        let shape = shared.shape.to_vec();
        let shared = shared.to_vec::<f32>().expect("f32 tensor");
        for alias in aliases {
            if !checkpoint.contains(alias) {
                continue;
            }
            let values = checkpoint.take(alias, &shape)?;
            if values != shared {
                return Err(Error::Config {
                    path: checkpoint.path().to_owned(),
                    message: format!(
                        "tensor `{alias}` differs from the shared embedding; separate embeddings are not supported"
                    ),
                });
            }
        }
        checkpoint.skip("shared.weight");
        Ok(())
    }

    /// The parameters as `(HF name, f32 data)` in build order.
    pub fn named_tensors(&self) -> Vec<(String, burn::tensor::TensorData)> {
        weights::named_tensors(self, self.param_names(), self.param_transposed())
    }

    /// The parameters' shapes as held, in build order (linear weights
    /// `[in, out]`), without copying their values.
    pub fn param_shapes(&self) -> Vec<Vec<usize>> {
        weights::shapes(self)
    }

    /// Writes `model.safetensors` and `config.json` into `dir` (created if
    /// needed), each atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(recalign_runtime::IoError::at(dir))?;
        let bytes = weights::safetensors_bytes(&self.named_tensors());
        recalign_runtime::write_atomically(&dir.join(WEIGHTS_FILE), &bytes)?;
        self.config().save(&dir.join(CONFIG_FILE))
    }
}
