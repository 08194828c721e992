//! The model's shape and behaviour, read from and written to Hugging Face's
//! `config.json` unchanged: fields recalign does not use are kept and written
//! back, so a user's FLAN-T5 configuration survives a fine-tuning run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A T5 configuration with Hugging Face's field names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T5Config {
    /// Size of the token vocabulary (rows of `shared.weight`).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Width of one attention head.
    pub d_kv: usize,
    /// Inner width of the feed-forward block.
    pub d_ff: usize,
    /// Number of encoder blocks.
    pub num_layers: usize,
    /// Number of decoder blocks (`num_layers` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_decoder_layers: Option<usize>,
    /// Number of attention heads.
    pub num_heads: usize,
    /// Number of relative-position buckets.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    /// Distance beyond which relative positions share the last bucket.
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: usize,
    /// Dropout probability used in training.
    #[serde(default = "default_dropout")]
    pub dropout_rate: f64,
    /// Epsilon of the RMS norms.
    #[serde(default = "default_epsilon")]
    pub layer_norm_epsilon: f64,
    /// `relu`, `gelu`, `gated-gelu`, `gated-silu`, …: `gated-` selects the
    /// T5 v1.1 gated feed-forward block.
    #[serde(default = "default_feed_forward")]
    pub feed_forward_proj: String,
    /// Whether the output head shares the input embedding (original T5) or
    /// has its own `lm_head.weight` (T5 v1.1, FLAN-T5).
    #[serde(default = "default_true")]
    pub tie_word_embeddings: bool,
    /// Whether the decoder output is scaled by `d_model^-0.5` before the
    /// head (HF 5.x names it; older files imply it from
    /// `tie_word_embeddings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_decoder_outputs: Option<bool>,
    /// Padding token id.
    #[serde(default)]
    pub pad_token_id: u32,
    /// End-of-sequence token id.
    #[serde(default = "default_eos")]
    pub eos_token_id: u32,
    /// First decoder input token.
    #[serde(default)]
    pub decoder_start_token_id: u32,
    /// Every other field of the file, written back as it was read.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_buckets() -> usize {
    32
}
fn default_max_distance() -> usize {
    128
}
fn default_dropout() -> f64 {
    0.1
}
fn default_epsilon() -> f64 {
    1e-6
}
fn default_feed_forward() -> String {
    "relu".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_eos() -> u32 {
    1
}

/// The non-linearity of the feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// Exact GELU, with `erf`.
    Gelu,
    /// HF's `gelu_new`: GELU with the tanh approximation (T5 v1.1, FLAN-T5).
    GeluTanh,
    /// `x · sigmoid(x)`.
    Silu,
}

/// How the feed-forward block is built, parsed from `feed_forward_proj`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedForwardKind {
    /// The non-linearity.
    pub activation: Activation,
    /// Gated (`wi_0`, `wi_1`, `wo`) or plain (`wi`, `wo`).
    pub gated: bool,
}

/// Named model sizes for runs from scratch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// d_model 64, 2 + 2 blocks: unit tests and CPU smoke runs in seconds.
    Tiny,
    /// d_model 256, 4 + 4 blocks: CPU experiments in minutes to an hour.
    Small,
}

impl Preset {
    /// Parses `tiny` or `small`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "tiny" => Ok(Self::Tiny),
            "small" => Ok(Self::Small),
            other => Err(Error::UnknownPreset(other.to_owned())),
        }
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tiny => "tiny",
            Self::Small => "small",
        }
    }

    /// The vocabulary size a tokenizer trained for this preset should have.
    pub fn vocab_size(self) -> usize {
        match self {
            Self::Tiny => 2048,
            Self::Small => 8192,
        }
    }

    /// A FLAN-T5-style configuration (gated GELU, untied head) of this size
    /// for a tokenizer of `vocab_size` tokens.
    pub fn config(self, vocab_size: usize) -> T5Config {
        let (d_model, d_kv, num_heads, d_ff, layers) = match self {
            Self::Tiny => (64, 16, 4, 128, 2),
            Self::Small => (256, 64, 4, 1024, 4),
        };
        T5Config {
            vocab_size,
            d_model,
            d_kv,
            d_ff,
            num_layers: layers,
            num_decoder_layers: Some(layers),
            num_heads,
            relative_attention_num_buckets: 32,
            relative_attention_max_distance: 128,
            dropout_rate: 0.1,
            layer_norm_epsilon: 1e-6,
            feed_forward_proj: "gated-gelu".to_owned(),
            tie_word_embeddings: false,
            scale_decoder_outputs: Some(false),
            pad_token_id: 0,
            eos_token_id: 1,
            decoder_start_token_id: 0,
            extra: serde_json::Map::from_iter([
                ("model_type".to_owned(), "t5".into()),
                (
                    "architectures".to_owned(),
                    serde_json::json!(["T5ForConditionalGeneration"]),
                ),
                ("is_encoder_decoder".to_owned(), true.into()),
                ("initializer_factor".to_owned(), 1.0.into()),
                (
                    "recalign_preset".to_owned(),
                    serde_json::Value::from(self.name()),
                ),
            ]),
        }
    }
}

impl T5Config {
    /// Reads and checks a `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(recalign_runtime::IoError::at(path))?;
        let config: Self = serde_json::from_str(&text).map_err(|source| Error::Config {
            path: path.to_owned(),
            message: source.to_string(),
        })?;
        config.validate().map_err(|message| Error::Config {
            path: path.to_owned(),
            message,
        })?;
        Ok(config)
    }

    /// Writes `config.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("a config serialises");
        text.push('\n');
        Ok(recalign_runtime::write_atomically(path, text.as_bytes())?)
    }

    /// Whether the head input is scaled by `d_model^-0.5`.
    pub fn scales_decoder_output(&self) -> bool {
        self.scale_decoder_outputs
            .unwrap_or(self.tie_word_embeddings)
    }

    /// Number of decoder blocks.
    pub fn decoder_layers(&self) -> usize {
        self.num_decoder_layers.unwrap_or(self.num_layers)
    }

    /// Width of all heads together.
    pub fn inner_dim(&self) -> usize {
        self.num_heads * self.d_kv
    }

    /// The feed-forward block, as HF derives it from `feed_forward_proj`.
    pub fn feed_forward(&self) -> std::result::Result<FeedForwardKind, String> {
        let parts: Vec<&str> = self.feed_forward_proj.split('-').collect();
        let (gated, name) = match parts.as_slice() {
            [name] => (false, *name),
            ["gated", name] => (true, *name),
            _ => {
                return Err(format!(
                    "feed_forward_proj: `{}` is not `ACT` or `gated-ACT`",
                    self.feed_forward_proj
                ));
            }
        };
        let activation = match (gated, name) {
            // HF maps `gated-gelu` to the tanh approximation (`gelu_new`).
            (true, "gelu") | (_, "gelu_new") | (_, "gelu_pytorch_tanh") => Activation::GeluTanh,
            (false, "gelu") => Activation::Gelu,
            (_, "relu") => Activation::Relu,
            (_, "silu") | (_, "swish") => Activation::Silu,
            (_, other) => {
                return Err(format!(
                    "feed_forward_proj: unknown activation `{other}` (known: relu, gelu, gelu_new, silu)"
                ));
            }
        };
        Ok(FeedForwardKind { activation, gated })
    }

    /// Checks the fields that would otherwise fail deep inside the model.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.feed_forward()?;
        let positive = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("d_kv", self.d_kv),
            ("d_ff", self.d_ff),
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            (
                "relative_attention_num_buckets",
                self.relative_attention_num_buckets,
            ),
            (
                "relative_attention_max_distance",
                self.relative_attention_max_distance,
            ),
        ];
        recalign_runtime::settings::require_positive("", &positive)?;
        if self.decoder_layers() == 0 {
            return Err("num_decoder_layers: must be positive".to_owned());
        }
        if !(0.0..1.0).contains(&self.dropout_rate) {
            return Err(format!(
                "dropout_rate: {} is not in [0, 1)",
                self.dropout_rate
            ));
        }
        if self.layer_norm_epsilon.is_nan() || self.layer_norm_epsilon <= 0.0 {
            return Err("layer_norm_epsilon: must be positive".to_owned());
        }
        for (field, id) in [
            ("pad_token_id", self.pad_token_id),
            ("eos_token_id", self.eos_token_id),
            ("decoder_start_token_id", self.decoder_start_token_id),
        ] {
            if id as usize >= self.vocab_size {
                return Err(format!(
                    "{field}: {id} is outside the vocabulary of {}",
                    self.vocab_size
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_proj(proj: &str) -> T5Config {
        let mut config = Preset::Tiny.config(100);
        config.feed_forward_proj = proj.to_owned();
        config
    }

    #[test]
    fn feed_forward_follows_hf() {
        let gated = with_proj("gated-gelu").feed_forward().unwrap();
        assert_eq!(gated.activation, Activation::GeluTanh);
        assert!(gated.gated);
        let plain = with_proj("gelu").feed_forward().unwrap();
        assert_eq!(plain.activation, Activation::Gelu);
        assert!(!plain.gated);
        assert_eq!(
            with_proj("relu").feed_forward().unwrap().activation,
            Activation::Relu
        );
        assert!(
            with_proj("gated-tanhh")
                .feed_forward()
                .unwrap_err()
                .contains("tanhh")
        );
        assert!(with_proj("a-b-c").feed_forward().is_err());
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let text = r#"{"vocab_size": 10, "d_model": 8, "d_kv": 2, "d_ff": 16, "num_layers": 1,
            "num_heads": 4, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false,
            "n_positions": 512, "task_specific_params": {"x": 1}}"#;
        let config: T5Config = serde_json::from_str(text).unwrap();
        assert_eq!(config.decoder_layers(), 1);
        assert_eq!(config.extra["n_positions"], 512);
        let back: serde_json::Value = serde_json::to_value(&config).unwrap();
        assert_eq!(back["task_specific_params"]["x"], 1);
        assert_eq!(back["relative_attention_num_buckets"], 32);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut config = Preset::Tiny.config(100);
        config.eos_token_id = 100;
        assert!(config.validate().unwrap_err().contains("eos_token_id"));
        config = Preset::Tiny.config(100);
        config.d_kv = 0;
        assert!(config.validate().unwrap_err().contains("d_kv"));
    }
}
