//! Hyper-parameters: one section per model plus the shared training
//! settings, each with documented defaults (RecBole's `model/*.yaml` and the
//! original papers), loadable from TOML with unknown keys rejected and every
//! range checked with the offending key named.
//!
//! ```toml
//! [train]
//! epochs = 200
//! batch_size = 256
//! learning_rate = 1e-3
//! patience = 10
//! seed = 42
//!
//! [sasrec]
//! loss = "ce"          # or "bce" (Kang & McAuley's one sampled negative)
//! hidden = 64
//! dropout = 0.5
//! ```
//!
//! Every section is optional; a missing one takes its defaults.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::de::{Deserializer, MapAccess};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod transformer;

use transformer::Section;
pub use transformer::TransformerConfig;

/// The baselines this crate trains, plus MostPopular (from
/// `recalign-eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Training-interaction counts; no training.
    MostPopular,
    /// Matrix factorisation with the BPR loss (Rendle et al. 2009).
    BprMf,
    /// GRU over the item sequence (Hidasi et al. 2016; RecBole's CE variant).
    Gru4Rec,
    /// Causal self-attention (Kang & McAuley 2018).
    SasRec,
    /// Bidirectional self-attention with a cloze objective (Sun et al. 2019).
    Bert4Rec,
}

impl Model {
    /// Every model, in report order.
    pub const ALL: [Model; 5] = [
        Model::MostPopular,
        Model::BprMf,
        Model::Gru4Rec,
        Model::SasRec,
        Model::Bert4Rec,
    ];

    /// The model's name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Model::MostPopular => "most-popular",
            Model::BprMf => "bpr-mf",
            Model::Gru4Rec => "gru4rec",
            Model::SasRec => "sasrec",
            Model::Bert4Rec => "bert4rec",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let key = s.to_ascii_lowercase().replace('_', "-");
        let model = match key.as_str() {
            "most-popular" | "mostpopular" | "pop" | "popularity" => Model::MostPopular,
            "bpr-mf" | "bpr" | "bprmf" | "mf" => Model::BprMf,
            "gru4rec" => Model::Gru4Rec,
            "sasrec" => Model::SasRec,
            "bert4rec" => Model::Bert4Rec,
            _ => {
                return Err(Error::Config(format!(
                    "unknown model `{s}` (most-popular, bpr-mf, gru4rec, sasrec, bert4rec)"
                )));
            }
        };
        Ok(model)
    }
}

/// Settings shared by every trained model: Adam, batches, early stopping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunnerConfig {
    /// Most epochs (RecBole: 300; early stopping usually ends sooner).
    pub epochs: usize,
    /// Training units per batch: users for the sequence models, (user,
    /// item) pairs for BPR-MF (default 256).
    pub batch_size: usize,
    /// Adam's learning rate (1e-3, as RecBole and the papers).
    pub learning_rate: f64,
    /// Adam's L2 weight decay (RecBole: 0).
    pub weight_decay: f64,
    /// Validate every this many epochs (1).
    pub eval_every: usize,
    /// Stop after this many validations without a better NDCG@10 (RecBole's
    /// `stopping_step`: 10). The best weights are kept and tested.
    pub patience: usize,
    /// Users per evaluation batch (full-ranking scores are `batch × items`).
    pub eval_batch_size: usize,
    /// Seed of initialisation, shuffling, negatives, masks and dropout.
    pub seed: u64,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            epochs: 300,
            batch_size: 256,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            eval_every: 1,
            patience: 10,
            eval_batch_size: 256,
            seed: 42,
        }
    }
}

/// BPR-MF (RecBole `BPR`): user and item embeddings, score = dot product,
/// loss `-ln σ(s⁺ − s⁻)` with one uniform negative the user has not
/// interacted with in training; Xavier-normal initialisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BprMfConfig {
    /// Embedding width (64).
    pub embedding_size: usize,
}

impl Default for BprMfConfig {
    fn default() -> Self {
        BprMfConfig { embedding_size: 64 }
    }
}

/// GRU4Rec (RecBole `GRU4Rec`): item embedding → dropout → GRU → linear to
/// the embedding width, scored against the item embeddings with a softmax
/// over the whole catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gru4RecConfig {
    /// Item embedding width (64).
    pub embedding_size: usize,
    /// GRU state width (128).
    pub hidden_size: usize,
    /// Dropout on the item embeddings (0.3).
    pub dropout: f64,
    /// Most recent items read (50).
    pub max_len: usize,
}

impl Default for Gru4RecConfig {
    fn default() -> Self {
        Gru4RecConfig {
            embedding_size: 64,
            hidden_size: 128,
            dropout: 0.3,
            max_len: 50,
        }
    }
}

/// The loss of SASRec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SasRecLoss {
    /// Softmax cross-entropy over the whole catalogue (RecBole's default).
    Ce,
    /// Binary cross-entropy with one sampled negative per position (Kang &
    /// McAuley's original loss, the weaker baseline most papers copy).
    Bce,
}

/// SASRec (RecBole `SASRec`): item + learned position embeddings, layer norm
/// and dropout, causal post-LN transformer blocks, output scored against the
/// shared item embeddings. The `[sasrec]` table holds the transformer's keys
/// and `loss`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SasRecConfig {
    /// The encoder (RecBole's, dropout 0.5); `max_len` is the most recent
    /// items read.
    #[serde(flatten)]
    pub transformer: TransformerConfig,
    /// `ce` (default) or `bce`.
    pub loss: SasRecLoss,
}

impl Default for SasRecConfig {
    fn default() -> Self {
        SasRecConfig {
            transformer: TransformerConfig::recbole(0.5),
            loss: SasRecLoss::Ce,
        }
    }
}

impl<'de> Deserialize<'de> for SasRecConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        transformer::deserialize(deserializer)
    }
}

impl Section for SasRecConfig {
    const OWN_KEYS: &'static [&'static str] = &["loss"];

    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "loss" => self.loss = map.next_value()?,
            _ => return self.transformer.read(key, map),
        }
        Ok(true)
    }
}

/// BERT4Rec (RecBole `BERT4Rec`): bidirectional post-LN transformer over the
/// item sequence with a `[mask]` token; training masks items (cloze), and
/// inference appends `[mask]` after the history and scores its output. The
/// `[bert4rec]` table holds the transformer's keys and `mask_prob`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bert4RecConfig {
    /// The encoder (RecBole's, dropout 0.2); `max_len` counts the appended
    /// `[mask]`.
    #[serde(flatten)]
    pub transformer: TransformerConfig,
    /// Share of training items replaced by `[mask]` (0.2).
    pub mask_prob: f64,
}

impl Default for Bert4RecConfig {
    fn default() -> Self {
        Bert4RecConfig {
            transformer: TransformerConfig::recbole(0.2),
            mask_prob: 0.2,
        }
    }
}

impl<'de> Deserialize<'de> for Bert4RecConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        transformer::deserialize(deserializer)
    }
}

impl Section for Bert4RecConfig {
    const OWN_KEYS: &'static [&'static str] = &["mask_prob"];

    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "mask_prob" => self.mask_prob = map.next_value()?,
            _ => return self.transformer.read(key, map),
        }
        Ok(true)
    }
}

/// Every baseline's settings: a TOML file with optional `[train]`,
/// `[bpr_mf]`, `[gru4rec]`, `[sasrec]` and `[bert4rec]` tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineConfig {
    /// Shared training settings.
    pub train: RunnerConfig,
    /// BPR-MF.
    pub bpr_mf: BprMfConfig,
    /// GRU4Rec.
    pub gru4rec: Gru4RecConfig,
    /// SASRec.
    pub sasrec: SasRecConfig,
    /// BERT4Rec.
    pub bert4rec: Bert4RecConfig,
}

fn check(key: &str, ok: bool, value: impl fmt::Display, range: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{key} = {value} is out of range (must be {range})"
        )))
    }
}

fn check_probability(key: &str, p: f64) -> Result<()> {
    check(key, (0.0..1.0).contains(&p), p, "in [0, 1)")
}

fn check_positive(key: &str, n: usize) -> Result<()> {
    check(key, n >= 1, n, "at least 1")
}

impl RunnerConfig {
    /// Checks ranges, naming the key (`train.…`).
    pub fn validate(&self) -> Result<()> {
        check_positive("train.epochs", self.epochs)?;
        check_positive("train.batch_size", self.batch_size)?;
        check(
            "train.learning_rate",
            self.learning_rate > 0.0 && self.learning_rate <= 1.0,
            self.learning_rate,
            "in (0, 1]",
        )?;
        check(
            "train.weight_decay",
            (0.0..1.0).contains(&self.weight_decay),
            self.weight_decay,
            "in [0, 1)",
        )?;
        check_positive("train.eval_every", self.eval_every)?;
        check_positive("train.patience", self.patience)?;
        check_positive("train.eval_batch_size", self.eval_batch_size)
    }
}

impl BprMfConfig {
    /// Checks ranges, naming the key (`bpr_mf.…`).
    pub fn validate(&self) -> Result<()> {
        check_positive("bpr_mf.embedding_size", self.embedding_size)
    }
}

impl Gru4RecConfig {
    /// Checks ranges, naming the key (`gru4rec.…`).
    pub fn validate(&self) -> Result<()> {
        check_positive("gru4rec.embedding_size", self.embedding_size)?;
        check_positive("gru4rec.hidden_size", self.hidden_size)?;
        check_probability("gru4rec.dropout", self.dropout)?;
        check_positive("gru4rec.max_len", self.max_len)
    }
}

impl SasRecConfig {
    /// Checks ranges, naming the key (`sasrec.…`).
    pub fn validate(&self) -> Result<()> {
        self.transformer.validate("sasrec")?;
        check_positive("sasrec.max_len", self.transformer.max_len)
    }
}

impl Bert4RecConfig {
    /// Checks ranges, naming the key (`bert4rec.…`).
    pub fn validate(&self) -> Result<()> {
        self.transformer.validate("bert4rec")?;
        let max_len = self.transformer.max_len;
        check(
            "bert4rec.max_len",
            max_len >= 2,
            max_len,
            "at least 2 (history + [mask])",
        )?;
        check(
            "bert4rec.mask_prob",
            self.mask_prob > 0.0 && self.mask_prob < 1.0,
            self.mask_prob,
            "in (0, 1)",
        )
    }
}

impl BaselineConfig {
    /// Parses TOML (unknown keys are errors) and validates every section.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: BaselineConfig =
            toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            Error::Config(message) => Error::Config(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// Checks every section's ranges.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        self.bpr_mf.validate()?;
        self.gru4rec.validate()?;
        self.sasrec.validate()?;
        self.bert4rec.validate()
    }

    /// The settings that define `model`, as JSON (for reports).
    pub fn describe(&self, model: Model) -> serde_json::Value {
        let section = match model {
            Model::MostPopular => return serde_json::json!({}),
            Model::BprMf => serde_json::to_value(&self.bpr_mf),
            Model::Gru4Rec => serde_json::to_value(&self.gru4rec),
            Model::SasRec => serde_json::to_value(&self.sasrec),
            Model::Bert4Rec => serde_json::to_value(&self.bert4rec),
        };
        serde_json::json!({
            "train": serde_json::to_value(&self.train).unwrap_or_default(),
            model.name(): section.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip() {
        let config = BaselineConfig::default();
        config.validate().unwrap();
        let text = toml::to_string(&config).unwrap();
        assert_eq!(BaselineConfig::from_toml_str(&text).unwrap(), config);
        assert_eq!(BaselineConfig::from_toml_str("").unwrap(), config);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[sasrec]\ndropout = 1.5\n", "sasrec.dropout"),
            ("[sasrec]\nheads = 3\n", "sasrec.heads"),
            ("[train]\nbatch_size = 0\n", "train.batch_size"),
            ("[bert4rec]\nmask_prob = 0.0\n", "bert4rec.mask_prob"),
            ("[gru4rec]\nhidden_size = 0\n", "gru4rec.hidden_size"),
            ("[bpr_mf]\nembedding_size = 0\n", "bpr_mf.embedding_size"),
            ("[sasrec]\nhiden = 64\n", "hiden"),
            ("[sasrec]\nloss = \"bpr\"\n", "bpr"),
            ("[sasrek]\n", "sasrek"),
        ];
        for (text, key) in cases {
            let err = BaselineConfig::from_toml_str(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }

    #[test]
    fn committed_hyper_parameter_files_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("hparams");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let config = BaselineConfig::from_file(&path).unwrap();
            assert_ne!(config, BaselineConfig::default(), "{}", path.display());
            files += 1;
        }
        assert!(files >= 1);
    }

    #[test]
    fn model_names_parse() {
        for model in Model::ALL {
            assert_eq!(model.name().parse::<Model>().unwrap(), model);
        }
        assert_eq!("SASRec".parse::<Model>().unwrap(), Model::SasRec);
        assert!(
            "caser"
                .parse::<Model>()
                .unwrap_err()
                .to_string()
                .contains("caser")
        );
    }
}
